/* dead.h - dead-letter entries: reading what the worker left in a queue's
 * dead-letter set, and building what a replay or a purge sends back. Pure
 * code: the Redis calls live in producer/cli_dlq_store.c.
 *
 * A dead-letter entry (HASH P:{Q}:deadjobs, field = the member; the ZSET
 * P:{Q}:dead holds the same member scored by dead time) is the wrapper line
 * and the producer's bytes, untouched (see wrap.h). The member is the job id,
 * or <id>~<tag> when a dead letter of another job held that id already (a
 * producer gave two jobs one id: functions.lua, dead_member); dead_job_id
 * reads the job id back from the entry:
 *   ~syncq1 id=<tag> seen=<ms>[ jid=..][ from=..][ root=..][ err=<pct>] dead=<ms>\n<raw>
 * The raw bytes may not be JSON at all: poison inputs are dead-lettered too.
 *
 * A replay queues the same bytes behind a new wrapper: a new job id (jid),
 * from = the dead job, root = the first job of the chain; attempts start
 * again because the worker counts them per tag. */
#ifndef SYNCQ_DEAD_H
#define SYNCQ_DEAD_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#include "envelope.h"
#include "wrap.h"

/* History event keys (syncq_job_events.rev) of the two dlq operations: fixed,
 * because a job leaves the dead-letter set once, so each happens at most once
 * per job id and a record written twice stays one event. */
#define DEAD_REV_REPLAYED 1000000
#define DEAD_REV_PURGED 1000001

/* dead_event_rev is the event key of a dlq operation (base: DEAD_REV_*) on
 * dead-letter member: the fixed base for a member that is the job id; for
 * <id>~<tag> (several dead letters of one job id) a key of its own, from a
 * hash of the member, in 1000002..1999999 (below the duplicate events'
 * 2000000 + n), so each dead letter's replay or purge is its own event. */
int dead_event_rev(const char *member, int base);

typedef struct dead_entry {
    wrap w;              /* w.raw borrows the bytes given to dead_entry_parse */
    int wrapped;         /* 1 wrapped, 0 bare bytes, -1 damaged header (w.raw = everything) */
    envelope env;        /* owned when env_ok */
    int env_ok;
    char env_err[300];   /* why the envelope does not parse, when !env_ok */
} dead_entry;

/* dead_filter selects entries by content; NULL members match anything. */
typedef struct dead_filter {
    const char *service, *action; /* exact */
    const char *error;            /* case-insensitive substring of the error */
} dead_filter;

/* dead_entry_parse splits an entry s[0..n) (which must outlive e) and parses
 * its envelope (max_bytes as the worker's limit). Never fails: an entry that
 * does not parse says so in env_err. Free with dead_entry_free. */
void dead_entry_parse(dead_entry *e, const char *s, size_t n, size_t max_bytes);
void dead_entry_free(dead_entry *e);

/* dead_job_id writes the id of e's job into out (WRAP_TAG_MAX bytes), as the
 * worker named it: the wrapper's jid, else the envelope's id, else the
 * delivery tag; member when the entry says nothing. */
void dead_job_id(const dead_entry *e, const char *member, char *out, size_t outlen);

/* dead_match says whether e passes f (an unparsable envelope has no service
 * or action, so it fails a service or action filter). */
int dead_match(const dead_entry *e, const dead_filter *f);
/* dead_icontains: needle occurs in hay, ASCII case folded; "" is in anything. */
int dead_icontains(const char *hay, const char *needle);

/* dead_masked_payload prints e's payload with secrets masked (mask.h).
 * Returns a malloc'd string, or NULL when there is no parsed payload. */
char *dead_masked_payload(const dead_entry *e);

/* dead_replay_entry builds the entry a replay queues: a new wrapper (tag and
 * jid new_id, seen now_ms, from old_id, root the chain's first id; no error)
 * and e's raw bytes unchanged. from/root are left out when an id does not fit
 * the wrapper (WRAP_TAG_MAX). Returns a malloc'd entry, or NULL when new_id
 * does not fit. */
char *dead_replay_entry(const dead_entry *e, const char *old_id, const char *new_id, int64_t now_ms, size_t *len);

/* dead_queued_record builds the audit record of the replay's new job: status
 * queued, rev 0, replayed_from old_id, fields and masked payload from e's
 * envelope when it parses. Returns the malloc'd record line. */
char *dead_queued_record(const dead_entry *e, const char *queue, const char *new_id, const char *old_id,
                         int64_t now_ms, size_t *len);

/* dead_event_record builds an event-only record for job id: status dead at
 * rev 0, so it never changes the job's status (an older record only fills
 * columns the row lacks, record_merge.h), with one history event (event,
 * text, ev_rev, at now_ms: Redis TIME). Returns the malloc'd record line. */
char *dead_event_record(const char *queue, const char *id, const char *event, const char *text, int ev_rev,
                        int64_t now_ms, size_t *len);

#endif
