/* stage.h - the staging table and the convergence of a sync (stage.c), one
 * code path for every way of reading a remote set: HTTP list walks
 * (h_sync.c) and exec programs that stream records (h_exec_sync.c).
 *
 * A walk opens a stage, adds each remote object as (external id, data) (the
 * rows go to a session temp table with COPY, a page at a time, so memory
 * stays flat), and converges once the set was read: in one transaction,
 * insert new rows, update rows whose content hash changed, leave unchanged
 * rows untouched, and delete rows absent remotely unless a mutation wrote
 * them after the read began, the list came back empty, the shrink passes the
 * resource's max_delete_share (the job ends dead for a person to look at),
 * or the walk says deletions must wait (drift, an incomplete walk). */
#ifndef SYNCQ_STAGE_H
#define SYNCQ_STAGE_H

#include "json.h"
#include "sbuf.h"
#include "services.h"
#include "worker.h"

typedef struct stage {
    handler_ctx *ctx;
    const char *service;
    const svc_resource *res;
    const char *scope;          /* "" when none */
    char read_started[64];      /* PostgreSQL's clock when the read began */
    sbuf copy;                  /* COPY rows not sent yet */
    int seen;                   /* rows staged */
    int skipped;                /* objects without an id (HTTP items) */
    int pages;                  /* -1: not a paged walk (left out of the result) */
    int drift;                  /* the remote set changed during the walk: no deletions */
    int complete;               /* -1: not said (HTTP); 0: the walk says it is partial, no deletions */
} stage;

/* stage_open connects PostgreSQL when needed and empties the session's
 * staging table. HANDLER_OK, or DEFER with ctx->error set. */
handler_result stage_open(stage *s, handler_ctx *ctx, const char *service, const svc_resource *res, const char *scope);
/* stage_row adds one object: its external id and its data (a JSON object's
 * text, printed compactly). */
void stage_row(stage *s, const char *external_id, const char *data);
/* stage_flush sends the rows added since the last flush. HANDLER_OK or DEFER. */
handler_result stage_flush(stage *s);
/* stage_converge flushes, then converges the snapshot and writes the job's
 * outcome marker in one transaction; the result object goes to ctx->result.
 * HANDLER_OK, PERMANENT (a guard stopped the deletions) or DEFER. */
handler_result stage_converge(stage *s);
void stage_close(stage *s);

#endif
