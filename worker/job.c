/* job.c - one job: from the entry bytes a child fetched to the ack that ends
 * its delivery, with the audit records on the way (docs/DESIGN.md §2, §6). */
#include "fmacros.h"
#include "clock.h"
#include "backoff.h"
#include "log.h"
#include "mask.h"
#include "record.h"
#include "services.h"
#include "worker.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* job_max_attempts: the envelope's, else the action's in the services file, else 5. */
int
job_max_attempts(const job *j)
{
    if (j->env_ok && j->env.max_attempts > 0) return j->env.max_attempts;
    if (j->act && j->act->max_attempts > 0) return j->act->max_attempts;
    return ENVELOPE_DEFAULT_MAX_ATTEMPTS;
}

/* find_action looks up the job's per-action defaults in the services file:
 * the child's (world) or the master's (c->svc, when it salvages a job). Every
 * path that ends an attempt goes through job_prepare, so max_attempts,
 * timeout_ms, backoff_base_ms and the idempotency window hold on all of them. */
static void
find_action(job *j, const job_ctx *c)
{
    const struct svc_file *svc = c->svc ? c->svc : c->world ? c->world->svc : NULL;
    const svc_service *s;
    const svc_resource *res;
    if (!svc || svc_find_action(svc, j->env.service, j->env.action, &s, &res, &j->act) < 0) j->act = NULL;
}

static void
check_runnable(job *j, const job_ctx *c, int lookup)
{
    char err[512];
    envelope_err rc = envelope_parse(j->w.raw, j->w.rawlen, (size_t)c->cfg->max_envelope, &j->env, err, sizeof(err));
    if (rc != ENV_OK) {
        snprintf(j->reject, sizeof(j->reject), "bad envelope: %s", err);
        /* the dead letter and its row keep the producer's id when there is one */
        if (!j->w.jid[0] && envelope_id_of(j->w.raw, j->w.rawlen, (size_t)c->cfg->max_envelope, j->bad_id,
                                           sizeof(j->bad_id)) == 0)
            j->id = j->bad_id;
        return;
    }
    j->env_ok = 1;
    if (j->env.id && !j->w.jid[0]) j->id = j->env.id;
    find_action(j, c);
    if (!lookup) return;
    /* parsed first so the dead-letter row of a poison pill names its job */
    if (j->f->crashes >= POISON_CRASHES) {
        snprintf(j->reject, sizeof(j->reject), "poison: %d deliveries ended with the worker dying", j->f->crashes);
        j->reject_outcome = "poison";
        return;
    }
    /* a delivery after a crash (or a reap by another master) must not start
     * an attempt the job no longer has */
    if (j->f->attempts >= job_max_attempts(j)) {
        snprintf(j->reject, sizeof(j->reject), "attempts exhausted (%d): the worker died during attempt %d",
                 j->f->attempts, j->f->attempts);
        j->reject_outcome = "crash";
        return;
    }
    j->fn = handler_find(j->env.service, j->env.action);
    if (!j->fn) snprintf(j->reject, sizeof(j->reject), "unknown handler %s/%s", j->env.service, j->env.action);
}

void
job_prepare(job *j, const queue_job *f, const job_ctx *c, int lookup)
{
    memset(j, 0, sizeof(*j));
    j->f = f;
    if (wrap_parse(f->entry, f->len, &j->w) != 1) {
        /* fetch wraps every entry, so this is a forged or damaged header */
        snprintf(j->reject, sizeof(j->reject), "bad envelope: damaged syncq wrapper line");
    }
    j->id = j->w.jid[0] ? j->w.jid : j->w.tag;
    j->attempt = f->attempts + 1;
    j->enqueued_ms = j->w.seen_ms;
    if (!j->reject[0]) check_runnable(j, c, lookup);
    if (j->env_ok && j->env.enqueued_at_ms >= 0) j->enqueued_ms = j->env.enqueued_at_ms;
    if (j->env_ok && j->env.payload) {
        char *txt = json_print(j->env.payload);
        if (txt) {
            j->payload = mask_json_text(txt, strlen(txt));
            free(txt);
        }
    }
}

/* base_record fills what every record of this job says. */
static void
base_record(const job *j, const job_ctx *c, record *r)
{
    record_init(r);
    r->id = j->id;
    r->queue = c->queue;
    r->worker = c->wid;
    r->enqueued_us = j->enqueued_ms >= 0 ? j->enqueued_ms * 1000 : -1;
    r->replayed_from = j->w.from[0] ? j->w.from : NULL;
    r->fetch_seq = j->f && j->f->fetch_us > 0 ? j->f->fetch_us : -1;
    if (!j->env_ok) return;
    r->kind = envelope_kind_name(j->env.kind);
    r->service = j->env.service;
    r->action = j->env.action;
    r->target_type = j->env.target_type;
    r->target_id = j->env.target_id;
    r->scope = j->env.scope;
    r->actor = j->env.actor;
    r->payload = j->payload;
}

/* lost_why explains the lost delivery before this one from the requeue's
 * stamp (lost=<reason>/<worker>, docs/LEASES.md): whose it was and whether
 * its lease ran out or it died. Returns the event outcome. */
static const char *
lost_why(const job *j, char *err, size_t len)
{
    const char *who = strchr(j->w.lost, '/');
    int lease = !strncmp(j->w.lost, "lease/", 6);
    who = who ? who + 1 : "unknown";
    if (lease) {
        snprintf(err, len, "lease of worker %s ran out during attempt %d: it was stopped, the job requeued", who,
                 j->f->attempts);
        return "lease";
    }
    if (j->f->crashes > 0) {
        snprintf(err, len, "worker %s died during attempt %d", who, j->f->attempts);
        return "crash";
    }
    snprintf(err, len, "worker %s lost attempt %d (Redis or its lease went away)", who, j->f->attempts);
    return "lost";
}

char *
job_start_record(job *j, const job_ctx *c, size_t *len)
{
    record r;
    char err[512];
    j->started_ms = clock_wall_ms();
    base_record(j, c, &r);
    r.status = "running";
    r.attempts = j->attempt;
    r.started_us = RECORD_NOW; /* the start step's Redis TIME */
    r.rev = record_rev(j->attempt, REC_RUNNING);
    if (j->f->lost > 0) {
        /* the delivery before this one never ended cleanly */
        r.event = "lost";
        r.ev_outcome = lost_why(j, err, sizeof(err));
        r.ev_error = err;
        r.ev_attempt = j->f->attempts;
        r.ev_at_us = RECORD_NOW;
        r.ev_rev = record_rev(j->f->attempts, REC_RETRYING); /* the crashed attempt's key */
    }
    return record_build(&r, len);
}

/* set_header builds the wrapper line the step stores with the job. The error
 * is masked here, before it leaves the process: Redis keeps it (dead letters,
 * syncq status) outside any audit row's masking (docs/MASKING.md). */
static void
set_header(queue_ack *a, const job *j, const char *error)
{
    wrap w = j->w;
    char buf[WRAP_ERR_MAX * 3 + 256], *masked = error ? mask_string(error) : NULL;
    snprintf(w.err, sizeof(w.err), "%s", masked ? masked : error ? error : "");
    free(masked);
    w.ready_ms = -1;
    if (wrap_header(&w, buf, sizeof(buf)) == 0) snprintf(buf, sizeof(buf), WRAP_MAGIC "id=%s seen=%lld", w.tag,
                                                        (long long)w.seen_ms);
    a->header = xstrdup(buf);
}

static void
finish(queue_ack *a, record *r)
{
    a->record = record_build(r, &a->record_len);
    a->status = r->status;
}

/* ack_init starts the ack of j's delivery. */
static void
ack_init(queue_ack *a, const job *j, queue_ack_kind kind)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->tag, sizeof(a->tag), "%s", j->w.tag);
    a->kind = kind;
}

/* to_dead makes a an ack to the dead-letter set, listed under the job id. */
static void
to_dead(queue_ack *a, const job *j)
{
    a->kind = QUEUE_ACK_DEAD;
    snprintf(a->dead.id, sizeof(a->dead.id), "%s", j->id);
}

void
job_reject(job *j, const job_ctx *c, queue_ack *a)
{
    record r;
    ack_init(a, j, QUEUE_ACK_DEAD);
    to_dead(a, j);
    set_header(a, j, j->reject);
    base_record(j, c, &r);
    r.status = "dead";
    r.attempts = j->f->attempts;
    r.error = j->reject;
    r.finished_us = RECORD_NOW;
    r.rev = record_rev(j->f->attempts + 1, REC_TERMINAL);
    r.event = "dead";
    r.ev_outcome = j->reject_outcome ? j->reject_outcome : "bad_data";
    r.ev_error = j->reject;
    r.ev_attempt = j->f->attempts;
    r.ev_at_us = RECORD_NOW;
    finish(a, &r);
}

int64_t
job_timeout_ms(const job *j, const config *cfg)
{
    if (j->env_ok && j->env.timeout_ms) return j->env.timeout_ms;
    if (j->act && j->act->timeout_ms) return j->act->timeout_ms;
    return cfg->timeout_ms;
}

/* dispose turns an outcome into the ack kind, status and error. */
static const char *
dispose(job *j, job_ctx *c, const job_outcome *o, queue_ack *a, char *err, size_t errlen)
{
    if (o->hr == HANDLER_OK) {
        a->kind = QUEUE_ACK_DONE;
        if (j->env_ok && j->env.idempotency_key) {
            /* the step remembers the success for the key's window */
            a->done.idem_key = xstrdup(j->env.idempotency_key);
            a->done.idem_ttl_s = j->env.idempotency_ttl_s;
            snprintf(a->done.action, sizeof(a->done.action), "%s/%s", j->env.service, j->env.action);
        }
        return "success";
    }
    if (o->hr == HANDLER_CONFLICT) {
        a->kind = QUEUE_ACK_DONE;
        snprintf(err, errlen, "%s", o->error);
        return "conflict";
    }
    if (o->hr == HANDLER_DEFER) {
        /* not an attempt: give it back to the retry set */
        int64_t d = o->retry_after_ms > 0 ? o->retry_after_ms : 1000;
        a->kind = QUEUE_ACK_RETRY;
        a->retry.delay_ms = d;
        a->retry.deferred = 1;
        snprintf(err, errlen, "%s", o->error);
        set_header(a, j, err);
        return "retrying";
    }
    if (o->hr == HANDLER_TRANSIENT && j->attempt < job_max_attempts(j)) {
        int64_t base = j->act && j->act->backoff_base_ms ? j->act->backoff_base_ms : c->cfg->backoff_base_ms;
        int64_t d = backoff_delay_ms(j->attempt, base, BACKOFF_CAP_MS, o->retry_after_ms,
                                     backoff_rand_default, &c->rng);
        a->kind = QUEUE_ACK_RETRY;
        a->retry.delay_ms = d;
        snprintf(err, errlen, "%s", o->error);
        set_header(a, j, err);
        return "retrying";
    }
    if (o->hr == HANDLER_TRANSIENT)
        snprintf(err, errlen, "attempts exhausted (%d): %s", j->attempt, o->error);
    else
        snprintf(err, errlen, "%s", o->error);
    to_dead(a, j);
    set_header(a, j, err);
    return "dead";
}

void
job_finish(job *j, job_ctx *c, const job_outcome *o, queue_ack *a)
{
    record r;
    char err[1100] = "";
    int64_t now = clock_wall_ms();
    ack_init(a, j, QUEUE_ACK_DONE);
    const char *status = dispose(j, c, o, a, err, sizeof(err));
    base_record(j, c, &r);
    r.status = status;
    r.attempts = j->attempt;
    /* the result is masked like the payload: it reaches the audit row and the
     * queue's events stream (docs/MASKING.md, docs/PROTOCOL.md) */
    char *result = o->ended_us > 0 || !o->result ? NULL : mask_job_result(o->result);
    r.result = o->ended_us > 0 ? o->ended_result : result; /* the outcome marker's, masked once */
    r.error = err[0] ? err : NULL;
    /* started_at comes from this attempt's running record (record_merge.h);
     * the end is the ack step's Redis TIME, or the one the handler's outcome
     * marker holds (the row then already says what this record says) */
    r.finished_us = o->ended_us > 0 ? o->ended_us : RECORD_NOW;
    r.duration_ms = o->ended_us > 0 ? o->ended_duration_ms : now - j->started_ms;
    r.rev = record_rev(j->attempt, a->kind == QUEUE_ACK_RETRY ? REC_RETRYING : REC_TERMINAL);
    if (o->hr == HANDLER_DEFER) {
        /* given back: the next start of the same attempt number must win */
        r.attempts = j->attempt - 1;
        r.rev = record_rev(j->attempt - 1, REC_RETRYING);
        log_job lj = {j->id, j->env.service, j->env.action};
        log_job_msg(LOG_INFO, "job.defer", &lj, err, "deferred without using an attempt");
    } else if (o->hr != HANDLER_OK) {
        /* a success is the job row itself; events hold what went wrong (see schema/) */
        r.event = "attempt";
        r.ev_outcome = o->outcome;
        r.ev_error = o->error[0] ? o->error : NULL;
        r.ev_attempt = j->attempt;
        r.ev_at_us = RECORD_NOW;
        r.ev_duration_ms = r.duration_ms;
        r.ev_due = a->kind == QUEUE_ACK_RETRY;
        log_job lj = {j->id, j->env_ok ? j->env.service : NULL, j->env_ok ? j->env.action : NULL};
        if (o->hr == HANDLER_CONFLICT) /* ends the job, but it is not a dead letter */
            log_job_msg(LOG_INFO, "job.conflict", &lj, err, "attempt %d ended in conflict (not retried)", j->attempt);
        else
            log_job_msg(LOG_INFO, a->kind == QUEUE_ACK_RETRY ? "job.retry" : "job.dead", &lj, err,
                        "attempt %d of %d failed", j->attempt, job_max_attempts(j));
    }
    finish(a, &r);
    free(result);
}

static const char *outcome_names[] = {"success", "transient", "permanent", "conflict", "deferred"};

void
job_run(job *j, job_ctx *c, queue_ack *a)
{
    handler_ctx h;
    memset(&h, 0, sizeof(h));
    h.env = &j->env;
    h.job_id = j->id;
    h.root_id = j->w.root[0] ? j->w.root : j->w.from[0] ? j->w.from : NULL;
    h.queue = c->queue;
    h.world = c->world;
    h.attempt = j->attempt;
    h.max_attempts = job_max_attempts(j);
    h.timeout_ms = job_timeout_ms(j, c->cfg);
    h.crashes = j->f->crashes;
    h.stop = c->stop;
    h.retry_after_ms = -1;
    h.started_ms = j->started_ms;
    h.worker = c->wid;
    sbuf_init(&h.result);
    handler_result hr = handler_call(j->fn, &h);
    const char *outcome = hr == HANDLER_TRANSIENT && h.timed_out ? "timeout"
                        : hr == HANDLER_PERMANENT && h.poison ? "poison" : outcome_names[hr];
    job_outcome o = {hr, outcome, h.error, h.retry_after_ms, h.result.len ? h.result.buf : NULL, h.ended_us,
                     h.ended_duration_ms, h.outcome_result};
    job_finish(j, c, &o, a);
    sbuf_free(&h.result);
    free(h.outcome_result);
}

char *
job_crash_record(job *j, const job_ctx *c, const char *how, size_t *len)
{
    record r;
    int64_t now = clock_wall_ms();
    base_record(j, c, &r);
    r.status = "retrying";
    r.attempts = j->attempt;
    r.error = how;
    r.finished_us = RECORD_NOW; /* stamped by syncq_crash (queue_crash) */
    r.duration_ms = j->started_ms > 0 ? now - j->started_ms : -1;
    r.rev = record_rev(j->attempt, REC_RETRYING);
    r.event = "lost";
    r.ev_outcome = "crash";
    r.ev_error = how;
    r.ev_attempt = j->attempt;
    r.ev_at_us = RECORD_NOW;
    r.ev_duration_ms = r.duration_ms;
    return record_build(&r, len);
}

void
job_handback(job *j, const job_ctx *c, int started, queue_ack *a)
{
    record r;
    ack_init(a, j, QUEUE_ACK_BACK);
    a->back.started = started ? 1 : 0;
    if (!started) return;
    /* the running row goes back to queued: same rev, so the next start of
     * the same attempt number overwrites it in turn */
    base_record(j, c, &r);
    r.status = "queued";
    r.attempts = j->attempt - 1;
    r.rev = record_rev(j->attempt, REC_RUNNING);
    finish(a, &r);
}

void
job_skip(job *j, const job_ctx *c, queue_ack *a)
{
    record r;
    ack_init(a, j, QUEUE_ACK_DONE);
    base_record(j, c, &r);
    r.status = "success";
    r.result = "{\"skipped\":\"a job with this idempotency key already succeeded\"}";
    r.finished_us = RECORD_NOW;
    r.rev = 0; /* never overwrites the row of the job that did succeed */
    finish(a, &r);
}

void
job_free(job *j)
{
    if (j->env_ok) envelope_free(&j->env);
    free(j->payload);
    j->payload = NULL;
    j->env_ok = 0;
}
