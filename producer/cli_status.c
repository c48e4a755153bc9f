/* cli_status.c - `syncq status ID` and `syncq cancel ID`: a job's state from
 * Redis (queued, delayed, retrying, running on which worker, dead), before
 * the audit has caught up, falling back to the audit row for finished jobs;
 * and cancelling a queued or delayed job (into the dead-letter set, where it
 * can still be replayed). Both run Redis functions per queue (queue.h). */
#include "fmacros.h"
#include "clock.h"
#include "audit.h"
#include "cli.h"
#include "cli_wait.h"
#include "db.h"
#include "envelope.h"
#include "funcs.h"
#include "config.h"
#include "keys.h"
#include "queue.h"
#include "mask.h"
#include "rds.h"
#include "wrap.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_Q 64
#define HANDLER_FRESH_MS 180000 /* children say which handlers they have every minute */
#define WAIT_DEFAULT_MS 30000

static const char usage[] =
    "usage: syncq status ID [--queue Q]           where a job is: queued, delayed, retrying,\n"
    "                                             running (on which worker), dead, or its audit row\n"
    "       syncq cancel ID [--queue Q] [--actor A]  take a queued or delayed job out (into the\n"
    "                                             dead-letter set: `syncq dlq replay` brings it back)\n"
    "       syncq status ID --wait [--timeout DURATION] [--queue Q]\n"
    "                                             wait until the job ends (its queue's events stream,\n"
    "                                             docs/PROTOCOL.md), then print its final status; the\n"
    "                                             default timeout is 30s (e.g. 10s, 5m, 1h)\n"
    "Exit codes: 0 found/cancelled (--wait: ended in success), 65 not found / not cancellable\n"
    "(--wait: ended dead, conflict or superseded), 69 Redis unavailable, 75 --wait timed out.\n";

/* queues lists the queue given, else the configured and the known ones. */
static int
queues(rds *r, const config *cfg, const char *only, char names[][CONFIG_QUEUE_NAME_MAX])
{
    int n = 0;
    char key[KEY_MAX];
    if (only) {
        snprintf(names[n++], CONFIG_QUEUE_NAME_MAX, "%s", only);
        return n;
    }
    for (int i = 0; i < cfg->nqueues; i++) snprintf(names[n++], CONFIG_QUEUE_NAME_MAX, "%s", cfg->queues[i].name);
    keys_queues(key, sizeof(key), cfg->prefix);
    rds_reply *x = rds_cmdf(r, "SMEMBERS %s", key);
    for (size_t i = 0; i < rds_reply_len(x) && n < MAX_Q; i++) {
        const char *q = rds_reply_str(rds_reply_at(x, i), NULL);
        int dup = 0;
        for (int k = 0; k < n; k++) dup |= !strcmp(names[k], q);
        if (!dup && config_valid_queue_name(q)) snprintf(names[n++], CONFIG_QUEUE_NAME_MAX, "%s", q);
    }
    rds_reply_free(x);
    return n;
}

static void
print_ms(const char *label, const char *ms)
{
    char ts[40];
    rfc3339_format(atoll(ms), ts, sizeof(ts));
    printf("%s%s", label, ts);
}

/* print_error prints "; last error: E", masked (a dead letter stored by an
 * older worker may hold secrets) and escaped for the terminal. */
static void
print_error(const char *e)
{
    char *m = mask_string(e);
    printf("; last error: %s", cli_tty(m ? m : e));
    free(m);
}

/* no_handler says, for a waiting job, when no running worker reading queue
 * q has said lately that it has the job's handler: the job would wait until
 * such a worker starts. */
static void
no_handler(rds *r, const config *cfg, const char *id, const char *q)
{
    size_t n;
    qkeys k;
    keys_queue(&k, cfg->prefix, q, NULL);
    rds_reply *entry = NULL;
    const char *e = queue_entry(r, &k, id, &entry) == 1 ? rds_reply_str(entry, &n) : NULL;
    wrap w;
    envelope env;
    char err[256], field[160];
    if (!e || wrap_parse(e, n, &w) < 0 ||
        envelope_parse(w.raw, w.rawlen, (size_t)cfg->max_envelope, &env, err, sizeof(err)) != ENV_OK) {
        rds_reply_free(entry);
        return;
    }
    snprintf(field, sizeof(field), "%s/%s", env.service, env.action);
    rds_reply *x = rds_cmdf(r, "HGET %s %s", k.handlers, field);
    const char *at = rds_reply_ok(r, x) ? rds_reply_str(x, NULL) : NULL;
    long long now = clock_wall_ms(); /* a worker's wall clock stamped the handlers */
    if (!at || now - atoll(at) > HANDLER_FRESH_MS)
        printf("note: no running worker on queue %s has handler %s%s\n", q, field,
               at ? " (the last one that had it stopped)" : " (is SYNCQ_SERVICES set for the workers, with this action?)");
    rds_reply_free(x);
    envelope_free(&env);
    rds_reply_free(entry);
}

/* show prints a job's state in queue q; 1 when it found the job. */
static int
show(rds *r, const config *cfg, const char *id, const char *q, const queue_status *qs)
{
    const char *st = qs->state, *a = qs->detail ? qs->detail : "", *b = qs->error;
    if (!strcmp(st, "unknown")) return 0;
    printf("%s: %s in queue %s", cli_tty(id), cli_tty(st), cli_tty(q));
    if (!strcmp(st, "queued")) printf(", %s job(s) ahead", cli_tty(a));
    else if (!strcmp(st, "delayed") || !strcmp(st, "retrying")) print_ms(", due ", a);
    else if (!strcmp(st, "running")) printf(" on worker %s", cli_tty(a));
    else if (!strcmp(st, "dead")) print_ms(" since ", a);
    if (b) print_error(b);
    printf("\n");
    if (!strcmp(st, "queued") || !strcmp(st, "delayed") || !strcmp(st, "retrying")) no_handler(r, cfg, id, q);
    return 1;
}

/* from_audit answers for jobs Redis no longer holds; *ok (may be NULL)
 * says whether the row says success. */
static int
from_audit(const config *cfg, const char *id, int *ok)
{
    db d;
    int found = 0;
    if (!cfg->database_url[0]) return 0;
    db_init(&d);
    if (db_connect(&d, cfg->database_url) == 0) {
        db_result *res = audit_status(&d, id);
        if (res && db_ntuples(res) == 1) {
            const char *fin = db_value(res, 0, AUDIT_STATUS_FINISHED), *err = db_value(res, 0, AUDIT_STATUS_ERROR);
            printf("%s: %s in queue %s after %s attempt(s) (audit)%s%s", cli_tty(id),
                   cli_tty(db_value(res, 0, AUDIT_STATUS_STATUS)), cli_tty(db_value(res, 0, AUDIT_STATUS_QUEUE)),
                   cli_tty(db_value(res, 0, AUDIT_STATUS_ATTEMPTS)), *fin ? ", finished " : "", cli_tty(fin));
            if (*err) print_error(err);
            printf("\n");
            found = 1;
            if (ok) *ok = !strcmp(db_value(res, 0, AUDIT_STATUS_STATUS), "success");
        }
        db_result_free(res);
    }
    db_close(&d);
    return found;
}

static const char *
os_user(void)
{
    struct passwd *pw = getpwuid(geteuid());
    const char *u = pw ? pw->pw_name : getenv("USER");
    return u ? u : "unknown";
}

/* print_event prints the final status line of a job whose end was read
 * from its queue's events stream; the exit code for --wait. */
static int
print_event(const char *id, const char *q, const cli_event *ev)
{
    printf("%s: %s in queue %s (events)", cli_tty(id), cli_tty(ev->status), cli_tty(q));
    if (ev->has_result) printf("; result: %s", cli_tty(ev->result));
    if (ev->has_error) print_error(ev->error);
    printf("\n");
    return strcmp(ev->status, "success") ? SYNCQ_EX_DATAERR : SYNCQ_EX_OK;
}

/* await waits for the end of job id, found waiting or running in queue q
 * (status st), from the stream position last read before the look-up. */
static int
await(rds *r, const config *cfg, const char *id, const char *q, const char *st, char *last, int64_t timeout_ms)
{
    qkeys k;
    cli_event ev;
    int64_t deadline = clock_mono_ms() + timeout_ms;
    keys_queue(&k, cfg->prefix, q, NULL);
    int got = cli_wait_for(r, k.events, last, 32, id, deadline, &ev);
    if (got < 0) {
        fprintf(stderr, "syncq: %s\n", r->errstr);
        return SYNCQ_EX_UNAVAILABLE;
    }
    if (got) return print_event(id, q, &ev);
    fprintf(stderr, "syncq: %s: still %s in queue %s when the wait timed out\n", cli_tty(id), cli_tty(st), cli_tty(q));
    return SYNCQ_EX_TEMPFAIL;
}

/* ended_since says whether job id ended in a queue's stream after its mark
 * (between the mark and the look-up); prints it and sets *rc if so. */
static int
ended_since(rds *r, const config *cfg, const char *id, char names[][CONFIG_QUEUE_NAME_MAX], char marks[][32], int n,
            int *rc)
{
    for (int i = 0; i < n; i++) {
        qkeys k;
        cli_event ev;
        keys_queue(&k, cfg->prefix, names[i], NULL);
        if (cli_wait_for(r, k.events, marks[i], 32, id, 0, &ev) == 1) {
            *rc = print_event(id, names[i], &ev);
            return 1;
        }
    }
    return 0;
}

/* ended_before says whether job id ended just before the marks were read:
 * its audit row may still be on its way, but the stream has its end. */
static int
ended_before(rds *r, const config *cfg, const char *id, char names[][CONFIG_QUEUE_NAME_MAX], int n, int *rc)
{
    for (int i = 0; i < n; i++) {
        qkeys k;
        cli_event ev;
        keys_queue(&k, cfg->prefix, names[i], NULL);
        if (cli_wait_recent(r, k.events, id, &ev) == 1) {
            *rc = print_event(id, names[i], &ev);
            return 1;
        }
    }
    return 0;
}

static int
run(config *cfg, int cancel, const char *id, const char *only, const char *actor, int64_t wait_ms)
{
    rds r;
    char names[MAX_Q][CONFIG_QUEUE_NAME_MAX], marks[MAX_Q][32];
    int rc = SYNCQ_EX_DATAERR, found = 0, ok = 0;
    rds_init(&r);
    if (rds_connect(&r, cfg->redis_url, 5000) < 0 || funcs_ensure(&r) < 0) {
        fprintf(stderr, "syncq: %s\n", r.errstr);
        rc = r.err == RDS_ERR_CONFIG ? SYNCQ_EX_CONFIG : SYNCQ_EX_UNAVAILABLE; /* 78: upgrade syncq */
        rds_close(&r);
        return rc;
    }
    int n = queues(&r, cfg, only, names);
    /* --wait: the streams' positions first, so an end between the look-up
     * and the wait is still read */
    for (int i = 0; i < n && wait_ms >= 0; i++) {
        qkeys k;
        keys_queue(&k, cfg->prefix, names[i], NULL);
        if (cli_wait_mark(&r, k.events, marks[i], sizeof(marks[i])) < 0) {
            fprintf(stderr, "syncq: %s\n", r.errstr);
            rc = SYNCQ_EX_UNAVAILABLE;
            goto out;
        }
    }
    for (int i = 0; i < n && !found; i++) {
        qkeys k;
        keys_queue(&k, cfg->prefix, names[i], NULL);
        queue_status qs;
        int got = cancel ? queue_cancel(&r, &k, id, actor) : queue_status_get(&r, &k, id, &qs);
        if (got < 0) {
            fprintf(stderr, "syncq: %s\n", r.errstr);
            rc = SYNCQ_EX_UNAVAILABLE;
            goto out;
        }
        const char *st = cancel ? NULL : qs.state;
        if (wait_ms >= 0 && st && strcmp(st, "unknown") && strcmp(st, "dead")) {
            char now[CONFIG_QUEUE_NAME_MAX + 16];
            snprintf(now, sizeof(now), "%s", st);
            queue_status_free(&qs);
            rc = await(&r, cfg, id, names[i], now, marks[i], wait_ms);
            goto out;
        }
        found = cancel ? got == 1 : show(&r, cfg, id, names[i], &qs);
        if (found && cancel) printf("%s: cancelled in queue %s (now in its dead-letter set)\n", id, names[i]);
        ok = found && !cancel && !strcmp(st, "dead") ? 0 : 1;
        if (!cancel) queue_status_free(&qs);
    }
    if (!found && wait_ms >= 0 && ended_since(&r, cfg, id, names, marks, n, &rc)) goto out;
    if (!found && wait_ms >= 0 && ended_before(&r, cfg, id, names, n, &rc)) goto out;
    if (!found && !cancel) found = from_audit(cfg, id, &ok);
    if (!found) fprintf(stderr, "syncq: %s: %s\n", id, cancel ? "not queued or delayed (running, finished or unknown)" : "not found");
    rc = found ? SYNCQ_EX_OK : SYNCQ_EX_DATAERR;
    if (found && wait_ms >= 0 && !ok) rc = SYNCQ_EX_DATAERR; /* --wait: it ended, and not in success */
out:
    rds_close(&r);
    return rc;
}

static int
cli_status_or_cancel(config *cfg, int argc, char **argv, int cancel)
{
    const char *id = NULL, *only = NULL, *actor = NULL;
    int64_t wait_ms = -1, timeout_ms = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return SYNCQ_EX_OK;
        } else if (!strcmp(argv[i], "--queue") && i + 1 < argc) {
            only = argv[++i];
        } else if (!strcmp(argv[i], "--actor") && i + 1 < argc && cancel) {
            actor = argv[++i];
        } else if (!strcmp(argv[i], "--wait") && !cancel) {
            if (wait_ms < 0) wait_ms = WAIT_DEFAULT_MS;
        } else if (!strcmp(argv[i], "--timeout") && i + 1 < argc && !cancel) {
            if (config_parse_duration_ms(argv[++i], &timeout_ms) < 0 || timeout_ms < 0) {
                fprintf(stderr, "syncq: --timeout: not a duration: \"%s\"\n%s", argv[i], usage);
                return SYNCQ_EX_USAGE;
            }
        } else if (argv[i][0] != '-' && !id) {
            id = argv[i];
        } else {
            fprintf(stderr, "syncq: unexpected argument \"%s\"\n%s", argv[i], usage);
            return SYNCQ_EX_USAGE;
        }
    }
    if (!id || (only && !config_valid_queue_name(only))) {
        fputs(usage, stderr);
        return SYNCQ_EX_USAGE;
    }
    if (timeout_ms >= 0 && wait_ms < 0) {
        fprintf(stderr, "syncq: --timeout needs --wait\n%s", usage);
        return SYNCQ_EX_USAGE;
    }
    if (wait_ms >= 0 && timeout_ms >= 0) wait_ms = timeout_ms;
    return run(cfg, cancel, id, only, actor ? actor : os_user(), wait_ms);
}

int
cli_status(config *cfg, int argc, char **argv)
{
    return cli_status_or_cancel(cfg, argc, argv, 0);
}

int
cli_cancel(config *cfg, int argc, char **argv)
{
    return cli_status_or_cancel(cfg, argc, argv, 1);
}
