/* stage.c - a sync's staging table and its convergence (stage.h). */
#include "fmacros.h"
#include "db.h"
#include "record.h"
#include "snapshot.h"
#include "stage.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

handler_result
stage_open(stage *s, handler_ctx *ctx, const char *service, const svc_resource *res, const char *scope)
{
    handler_world *hw = ctx->world;
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    s->service = service;
    s->res = res;
    s->scope = scope ? scope : "";
    s->pages = -1;
    s->complete = -1;
    sbuf_init(&s->copy);
    if (!db_alive(hw->d) && db_connect(hw->d, hw->cfg->database_url) < 0) {
        ctx->retry_after_ms = 2000;
        return handler_fail(ctx, HANDLER_DEFER, "PostgreSQL unavailable: %s", hw->d->errstr);
    }
    if (snap_stage_begin(hw->d, s->read_started, sizeof(s->read_started)) < 0)
        return handler_fail(ctx, HANDLER_DEFER, "staging: %s", hw->d->errstr);
    return HANDLER_OK;
}

void
stage_row(stage *s, const char *external_id, const char *data)
{
    for (const char *p = external_id; *p; p++) {
        if (*p == '\\' || *p == '\t' || *p == '\n' || *p == '\r') sbuf_addc(&s->copy, '\\');
        sbuf_addc(&s->copy, *p == '\t' ? 't' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : *p);
    }
    sbuf_addc(&s->copy, '\t');
    for (const char *p = data; *p; p++) {
        if (*p == '\\') sbuf_addc(&s->copy, '\\'); /* cJSON escapes control bytes: only backslashes remain */
        sbuf_addc(&s->copy, *p);
    }
    sbuf_addc(&s->copy, '\n');
    s->seen++;
}

handler_result
stage_flush(stage *s)
{
    db *d = s->ctx->world->d;
    if (!s->copy.len) return HANDLER_OK;
    if (snap_stage_put(d, s->copy.buf, s->copy.len) < 0)
        return handler_fail(s->ctx, HANDLER_DEFER, "staging after %d rows: %s", s->seen, d->errstr);
    sbuf_reset(&s->copy);
    return HANDLER_OK;
}

void
stage_close(stage *s)
{
    sbuf_free(&s->copy);
}

/* ---- converging ---- */

typedef struct counts {
    snap_counts s;
    long deleted;
} counts;

/* guard decides whether the deletions may happen; NULL when they may. */
static const char *
guard(const stage *w, const counts *c, char *why, size_t len)
{
    const snap_counts *s = &c->s;
    if (s->gone == 0) return NULL;
    if (w->complete == 0) return "the walk did not complete: deletions skipped for this run";
    if (w->drift) return "the remote set changed during the walk (a total changed or an id came twice): deletions skipped for this run";
    if (s->distinct == 0) {
        snprintf(why, len, "the list came back empty: %ld local row(s) kept; nothing deleted", s->existing);
        return why;
    }
    if ((double)s->gone > w->res->max_delete_share * (double)s->existing) {
        snprintf(why, len, "the list shrank by %ld of %ld rows, more than max_delete_share %.2f: nothing deleted",
                 s->gone, s->existing, w->res->max_delete_share);
        return why;
    }
    return NULL;
}

handler_result
stage_converge(stage *w)
{
    handler_ctx *ctx = w->ctx;
    db *d = ctx->world->d;
    counts c = {0};
    char why[256], *fields = snap_pg_array((const char *const *)w->res->hash_fields, w->res->nhash);
    snap_set set = {w->service, w->res->name, w->scope};
    handler_result hr = stage_flush(w);
    if (hr != HANDLER_OK) goto out;
    hr = HANDLER_DEFER;
    if (snap_converge(d, &set, fields, ctx->job_id, w->read_started, &c.s) < 0) goto rollback;
    if (c.s.staged != c.s.distinct) w->drift = 1; /* an id seen twice: rows shifted between pages */
    const char *stop = guard(w, &c, why, sizeof(why));
    if (!stop && c.s.gone) {
        if (snap_delete_gone(d, &set, w->read_started) < 0) goto rollback;
        c.deleted = c.s.gone;
    }
    sbuf_addc(&ctx->result, '{');
    if (w->pages >= 0) sbuf_printf(&ctx->result, "\"pages\":%d,", w->pages);
    sbuf_printf(&ctx->result, "\"seen\":%d,\"created\":%ld,\"updated\":%ld,\"unchanged\":%ld,\"deleted\":%ld", w->seen,
                c.s.created, c.s.updated, c.s.distinct - c.s.created - c.s.updated, c.deleted);
    if (w->skipped) sbuf_printf(&ctx->result, ",\"skipped_without_id\":%d", w->skipped);
    if (w->drift) sbuf_printf(&ctx->result, ",\"drift\":true");
    if (w->complete >= 0) sbuf_printf(&ctx->result, ",\"complete\":%s", w->complete ? "true" : "false");
    sbuf_addc(&ctx->result, '}');
    hr = stop && !w->drift && w->complete != 0 ? handler_fail(ctx, HANDLER_PERMANENT, "%s", stop) : HANDLER_OK;
    audit_outcome o;
    handler_outcome_init(ctx, &o, hr == HANDLER_OK ? "success" : "dead");
    if (audit_outcome_write(d, &o) < 0) goto rollback;
    if (snap_end(d, 1) < 0) {
        hr = handler_fail(ctx, HANDLER_DEFER, "commit: %s", d->errstr);
        sbuf_reset(&ctx->result);
    } else {
        handler_outcome_written(ctx, &o);
    }
    goto out;
rollback:
    handler_fail(ctx, HANDLER_DEFER, "converging: %s", d->errstr);
    snap_end(d, 0);
    sbuf_reset(&ctx->result);
    hr = HANDLER_DEFER;
out:
    free(fields);
    return hr;
}
