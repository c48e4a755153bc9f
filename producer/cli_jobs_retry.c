/* cli_jobs_retry.c - `syncq jobs retry ID`: queue a dead or conflicted job
 * again as a new job linked to the old one (replayed_from), like a
 * dead-letter replay.
 *
 * A dead job still in its queue's dead-letter set is replayed through the
 * dlq code (cli_dlq_change.c): the producer's bytes, unmasked, atomically.
 * A conflict never enters the dead-letter set (it is not a failure to
 * retry, docs/DESIGN.md §6), and a dead job may have left it (trimmed, purged): such a
 * job is rebuilt from its audit row, whose payload is masked, so a payload
 * that had secrets cannot be rebuilt and the command says so. A conflict
 * needs --expected-hash H (the content hash the caller now expects) or
 * --force (no hash check). A job is retried once: a claim key in Redis
 * (P:{Q}:retried:<id>, SET NX, a week) decides between two operators
 * retrying it at the same moment, and after that the audit row's replayed_as
 * (once the writer has it) says so. */
#include "fmacros.h"
#include "cli_dlq.h"
#include "cli_jobs.h"
#include "cli_ops.h"
#include "queue.h"
#include "keys.h"
#include "mask.h"
#include "uuid.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD_TTL_S "604800" /* a week; after that the audit row's replayed_as says it */

static const char usage[] =
    "usage: syncq jobs retry ID [--expected-hash H | --force] [--actor A]\n"
    "\n"
    "Queues a dead or conflicted job again as a new job; the audit links them (replayed_from) and\n"
    "the old job's history gets a 'replayed' event naming the actor. A dead job still in the\n"
    "dead-letter set is replayed with its original bytes (as 'syncq dlq replay'); otherwise the\n"
    "job is rebuilt from its audit row, which is refused when its payload had secrets (they are\n"
    "masked there). A job is retried once.\n"
    "\n"
    "      --expected-hash H   a conflict: the content hash expected now\n"
    "      --force             a conflict: run it without a hash check\n"
    "      --actor A           who retries, for the audit (default: $USER)\n"
    "\n"
    "Prints \"replayed OLD as NEW\" (from the dead-letter set) or \"retried OLD as NEW\" (rebuilt).\n"
    "Exit codes: 0 ok, 64 usage, 65 not retryable (status, already retried, masked payload),\n"
    "69 Redis or PostgreSQL unavailable.\n";

typedef struct retry_opts {
    const char *id, *hash, *actor;
    int force;
} retry_opts;

static int
parse(int argc, char **argv, retry_opts *o)
{
    static const struct option opts[] = {{"expected-hash", required_argument, NULL, 'e'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"actor", required_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    memset(o, 0, sizeof(*o));
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return SYNCQ_EX_OK;
        }
        if (c == 'e') o->hash = optarg;
        else if (c == 'f') o->force = 1;
        else if (c == 'a') o->actor = optarg;
        else return SYNCQ_EX_USAGE;
    }
    if (optind != argc - 1 || (o->hash && o->force)) {
        fprintf(stderr, "syncq jobs retry: %s\n%s", o->hash && o->force ? "--expected-hash or --force, not both" : "one job id",
                usage);
        return SYNCQ_EX_USAGE;
    }
    o->id = argv[optind];
    if (!o->actor) o->actor = getenv("USER") && *getenv("USER") ? getenv("USER") : "unknown";
    return -1;
}

/* judge says whether the row may be retried with these options: -1 yes, or
 * an exit code (message printed). */
static int
judge(const db_result *row, const retry_opts *o)
{
    const char *status = db_value(row, 0, AUDIT_RETRY_STATUS), *as = db_value(row, 0, AUDIT_RETRY_AS);
    int conflict = !strcmp(status, "conflict");
    if (strcmp(status, "dead") != 0 && !conflict) {
        fprintf(stderr, "syncq jobs retry: %s is %s: only dead and conflict jobs are retried\n", o->id, status);
        return SYNCQ_EX_DATAERR;
    }
    if (as) {
        fprintf(stderr, "syncq jobs retry: %s was already retried as %s\n", cli_tty(o->id), cli_tty(as));
        return SYNCQ_EX_DATAERR;
    }
    if (conflict && !o->hash && !o->force) {
        fprintf(stderr, "syncq jobs retry: %s ended in conflict: pass --expected-hash H (the content hash you "
                        "expect now) or --force (no hash check)\n", o->id);
        return SYNCQ_EX_USAGE;
    }
    if (!conflict && (o->hash || o->force)) {
        fprintf(stderr, "syncq jobs retry: --expected-hash and --force are for conflicts; %s is dead\n", o->id);
        return SYNCQ_EX_USAGE;
    }
    return -1;
}

/* ---------------------------------------------------------------- From the dead-letter set */

/* from_dlq replays the job through the dlq code when its queue's dead-letter
 * set holds it. An exit code, or -1 when it is not there. */
static int
from_dlq(config *cfg, const char *queue, const retry_opts *o)
{
    dlq d;
    dlq_list l;
    int rc = -1;
    memset(&l, 0, sizeof(l));
    if (dlq_open(&d, cfg, queue) < 0) {
        rc = dlq_report(&d, "replay");
        goto out;
    }
    int hits = dlq_find(&d, o->id, &l);
    if (hits < 0) rc = dlq_report(&d, "replay");
    if (hits > 0) {
        char *ids[] = {(char *)o->id};
        dlq_opts opts = {.queue = queue, .older_ms = -1, .newer_ms = -1, .actor = o->actor, .ids = ids, .nids = 1};
        rc = dlq_replay(&d, &opts);
    }
out:
    dlq_list_free(&l);
    dlq_close(&d);
    return rc;
}

/* ---------------------------------------------------------------- From the audit row */

/* The new job's parts (owned). */
typedef struct rebuilt {
    char new_id[UUID_STR_LEN];
    char *envelope, *entry, *queued, *event;
    size_t envelope_len, entry_len, queued_len, event_len;
} rebuilt;

static void
rebuilt_free(rebuilt *b)
{
    free(b->envelope);
    free(b->entry);
    free(b->queued);
    free(b->event);
}

/* build_envelope makes the envelope from the row. 0 or an exit code. */
static int
build_envelope(const db_result *row, const retry_opts *o, int64_t now, rebuilt *b)
{
    char at[40], err[300];
    const char *payload = db_value(row, 0, AUDIT_RETRY_PAYLOAD);
    if (payload && strstr(payload, "\"" MASK_VALUE "\"")) {
        fprintf(stderr, "syncq jobs retry: %s is not in a dead-letter set and its payload had secrets (masked in "
                        "the audit): enqueue it again from the application\n", o->id);
        return SYNCQ_EX_DATAERR;
    }
    rfc3339_format(now, at, sizeof(at));
    envelope_spec sp = {.kind = db_value(row, 0, AUDIT_RETRY_KIND), .service = db_value(row, 0, AUDIT_RETRY_SERVICE),
                        .action = db_value(row, 0, AUDIT_RETRY_ACTION), .target_type = db_value(row, 0, AUDIT_RETRY_TTYPE),
                        .target_id = db_value(row, 0, AUDIT_RETRY_TID), .scope = db_value(row, 0, AUDIT_RETRY_SCOPE),
                        .actor = db_value(row, 0, AUDIT_RETRY_ACTOR), .payload_json = payload,
                        .payload_len = payload ? strlen(payload) : 0, .expected_hash = o->hash, .enqueued_at = at};
    if (!sp.kind) sp.kind = "mutation";
    b->envelope = envelope_build(&sp, &b->envelope_len, err, sizeof(err));
    if (b->envelope) return 0;
    fprintf(stderr, "syncq jobs retry: %s cannot be rebuilt from its audit row: %s\n", o->id, err);
    return SYNCQ_EX_DATAERR;
}

/* build makes the new job's entry and records. 0 or an exit code. */
static int
build(const db_result *row, const retry_opts *o, const config *cfg, int64_t now, rebuilt *b)
{
    dead_entry e;
    char why[300], err[300];
    const char *queue = db_value(row, 0, AUDIT_RETRY_QUEUE);
    int rc = build_envelope(row, o, now, b);
    if (rc) return rc;
    if (uuid_v7(b->new_id) < 0) {
        fprintf(stderr, "syncq jobs retry: no random bytes for a job id\n");
        return SYNCQ_EX_SOFTWARE;
    }
    memset(&e, 0, sizeof(e));
    e.w.seen_ms = e.w.ready_ms = e.w.dead_ms = -1;
    e.w.raw = b->envelope;
    e.w.rawlen = b->envelope_len;
    e.env_ok = envelope_parse(b->envelope, b->envelope_len, (size_t)cfg->max_envelope, &e.env, err, sizeof(err)) == ENV_OK;
    b->entry = dead_replay_entry(&e, o->id, b->new_id, now, &b->entry_len);
    b->queued = dead_queued_record(&e, queue, b->new_id, o->id, now, &b->queued_len);
    snprintf(why, sizeof(why), "retried by %.100s as %s, rebuilt from the audit row (%s)", o->actor, b->new_id,
             o->hash ? "new expected_hash" : o->force ? "forced: no hash check" : "dead");
    b->event = dead_event_record(queue, o->id, "replayed", why, DEAD_REV_REPLAYED, now, &b->event_len);
    dead_entry_free(&e);
    return b->entry ? 0 : SYNCQ_EX_DATAERR; /* a uuid always fits the wrapper */
}

/* guard_key names the key that says a job is being or was retried. */
static void
guard_key(char *out, size_t len, const config *cfg, const char *queue, const char *id)
{
    keys_retried(out, len, cfg->prefix, queue, id);
}

/* claim takes the job for this retry (SET NX): of two operators retrying
 * it at once, one gets it. 0, or an exit code. */
static int
claim(rds *r, const config *cfg, const char *queue, const retry_opts *o)
{
    char guard[KEY_MAX + 256];
    guard_key(guard, sizeof(guard), cfg, queue, o->id);
    const char *set[] = {"SET", guard, o->actor, "NX", "EX", GUARD_TTL_S};
    size_t setl[] = {3, strlen(guard), strlen(o->actor), 2, 2, strlen(GUARD_TTL_S)};
    rds_reply *x = rds_cmd(r, 6, set, setl);
    int ok = rds_reply_ok(r, x), won = ok && rds_reply_type(x) == RDS_STATUS;
    rds_reply_free(x);
    if (won) return 0;
    if (!ok) fprintf(stderr, "syncq jobs retry: Redis: %s\n", r->errstr);
    else fprintf(stderr, "syncq jobs retry: %s is being (or was) retried already\n", o->id);
    return ok ? SYNCQ_EX_DATAERR : SYNCQ_EX_UNAVAILABLE;
}

/* release gives the claim back after a retry that did not happen. */
static void
release(rds *r, const config *cfg, const char *queue, const char *id)
{
    char guard[KEY_MAX + 256];
    guard_key(guard, sizeof(guard), cfg, queue, id);
    const char *del[] = {"DEL", guard};
    size_t dell[] = {3, strlen(guard)};
    rds_reply_free(rds_cmd(r, 2, del, dell)); /* if it fails, the claim expires */
}

/* push queues b's entry and both records in one step (syncq_push_entry,
 * which vouches for the wrapper: a wrapped entry LPUSHed by hand would be
 * taken for a producer's look-alike). 0, or an exit code. */
static int
push(rds *r, const config *cfg, const char *queue, const rebuilt *b)
{
    qkeys k;
    keys_queue(&k, cfg->prefix, queue, NULL);
    const char *recs[] = {b->queued, b->event};
    size_t lens[] = {b->queued_len, b->event_len};
    if (queue_push_entry(r, &k, b->entry, b->entry_len, recs, lens, 2) == 0) return 0;
    fprintf(stderr, "syncq jobs retry: Redis: %s\n", r->errstr);
    return SYNCQ_EX_UNAVAILABLE;
}

static int
from_row(rds *r, const config *cfg, const db_result *row, const retry_opts *o)
{
    rebuilt b;
    int64_t now;
    int rc;
    memset(&b, 0, sizeof(b));
    if (qstat_now_ms(r, &now) < 0) {
        fprintf(stderr, "syncq jobs retry: Redis: %s\n", r->errstr);
        rc = SYNCQ_EX_UNAVAILABLE;
    } else if ((rc = build(row, o, cfg, now, &b)) == 0 && (rc = push(r, cfg, db_value(row, 0, AUDIT_RETRY_QUEUE), &b)) == 0) {
        printf("retried %s as %s\n", cli_tty(o->id), cli_tty(b.new_id));
    }
    rebuilt_free(&b);
    return rc;
}

/* retry claims the job, then replays it from the dead-letter set or
 * rebuilds it from its row; the claim is given back when nothing was queued. */
static int
retry(config *cfg, const db_result *row, const retry_opts *o)
{
    rds r;
    const char *queue = db_value(row, 0, AUDIT_RETRY_QUEUE);
    int rc = ops_redis(&r, cfg, "jobs retry");
    if (rc) return rc;
    if ((rc = claim(&r, cfg, queue, o)) != 0) goto out;
    rc = !strcmp(db_value(row, 0, AUDIT_RETRY_STATUS), "dead") ? from_dlq(cfg, queue, o) : -1;
    if (rc < 0) rc = from_row(&r, cfg, row, o);
    if (rc != 0) release(&r, cfg, queue, o->id);
out:
    rds_close(&r);
    return rc;
}

/* ---------------------------------------------------------------- Command */

int
jobs_retry(config *cfg, int argc, char **argv)
{
    retry_opts o;
    db d;
    db_result *row = NULL;
    int rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    if ((rc = ops_db(&d, cfg, "jobs retry", 0)) != 0) return rc;
    if (!(row = audit_retry_row(&d, o.id))) {
        fprintf(stderr, "syncq jobs retry: PostgreSQL: %s\n", d.errstr);
        rc = db_alive(&d) ? SYNCQ_EX_SOFTWARE : SYNCQ_EX_UNAVAILABLE;
    } else if (db_ntuples(row) == 0) {
        fprintf(stderr, "syncq jobs retry: no job %s in the audit table\n", o.id);
        rc = SYNCQ_EX_DATAERR;
    } else if ((rc = judge(row, &o)) < 0) {
        rc = retry(cfg, row, &o);
    }
    if (row) db_result_free(row);
    db_close(&d);
    return rc;
}
