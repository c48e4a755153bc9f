/* syncq.h - the C producer library (lib/libsyncq.a): enqueue jobs from a C
 * application with the same step `syncq enqueue` uses.
 *
 *   char err[256], id[64];
 *   syncq_client *c = syncq_client_new("redis://127.0.0.1:6379/0", "syncq", err, sizeof(err));
 *   if (!c || syncq_enqueue(c, NULL, json, strlen(json), id, sizeof(id)) < 0) ...
 *   syncq_client_free(c);
 *
 * Link with: lib/libsyncq.a $(pkg-config --libs hiredis libcjson libpq) */
#ifndef SYNCQ_H
#define SYNCQ_H

#include <stddef.h> /* for size_t */

typedef struct syncq_client syncq_client;

/* syncq_client_new connects; NULL with err on failure. prefix NULL = "syncq". */
syncq_client *syncq_client_new(const char *redis_url, const char *prefix, char *err, size_t errlen);
void syncq_client_free(syncq_client *c);
/* syncq_client_error returns the last error message. */
const char *syncq_client_error(const syncq_client *c);

/* syncq_enqueue validates an envelope (SPEC §3), gives it an id (UUIDv7) and
 * enqueued_at when it has none, pushes it onto queue (NULL: urgent for
 * mutations, sync for syncs) and records it as queued in the audit outbox, in
 * one MULTI/EXEC. Writes the job id to id_out. Returns 0, or -1: bad
 * envelope (code SYNCQ_EDATA) or Redis failure (SYNCQ_EREDIS). */
#define SYNCQ_EDATA 65
#define SYNCQ_EREDIS 69
int syncq_enqueue(syncq_client *c, const char *queue, const char *text, size_t len, char *id_out, size_t idlen);
int syncq_last_code(const syncq_client *c);

/* Batches: syncq_batch_add validates and queues one envelope without waiting
 * (the id is written to id_out); syncq_batch_flush sends everything queued in
 * pipelined MULTI blocks and waits. Returns 0 or -1 (err set; for add, the
 * envelope is refused and nothing is queued for it). */
int syncq_batch_add(syncq_client *c, const char *queue, const char *text, size_t len, char *id_out, size_t idlen);
int syncq_batch_flush(syncq_client *c);

#endif
