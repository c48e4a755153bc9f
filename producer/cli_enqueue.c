/* cli_enqueue.c - `syncq enqueue`: one job from flags, or a batch of NDJSON
 * envelopes, through the C producer library (syncq.h). */
#include "fmacros.h"
#include "cli.h"
#include "envelope.h"
#include "sbuf.h"
#include "syncq.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_CHUNK 5000 /* lines per pipelined flush */

static const char usage[] =
    "usage: syncq enqueue --service S --action A [options]\n"
    "       syncq enqueue --batch FILE|-       (one JSON envelope per line)\n"
    "\n"
    "  -k, --kind mutation|sync   (default mutation)\n"
    "  -q, --queue Q              (default: urgent for mutations, sync for syncs)\n"
    "  -s, --service S            -a, --action A\n"
    "      --target-type T        --target-id ID      --scope S     --actor A\n"
    "  -P, --payload JSON|@FILE|- the payload object (default {})\n"
    "      --id ID                --max-attempts N    --timeout-ms N\n"
    "      --idempotency-key K    --idempotency-ttl S --expected-hash H\n"
    "      --debounce-key K       --debounce-ms N\n"
    "      --in DURATION          run later: 30s, 10m, 2h, 1d (delay_ms)\n"
    "      --at TIME              run at an RFC 3339 time (run_at)\n"
    "      --wait-replicas N      after sending, wait up to 1 s for N replicas to hold the\n"
    "                             jobs (Redis WAIT); fewer: exit 75, the id still printed\n"
    "  -b, --batch FILE|-         NDJSON envelopes, pipelined; prints one line per input\n"
    "                             line: the id, \"line N: refused: why\" or \"line N: empty,\n"
    "                             skipped\"; progress on stderr when it is a terminal\n"
    "\n"
    "Prints the job id (for a duplicate idempotency key, the first job's id; stderr\n"
    "says so). Exit codes: 0 ok, 64 usage, 65 bad envelope, 69 Redis unavailable,\n"
    "75 enqueued but not confirmed by --wait-replicas replicas.\n";

enum { O_TT = 256, O_TID, O_SCOPE, O_ACTOR, O_ID, O_MAXA, O_TMO, O_IK, O_ITTL, O_EH, O_DK, O_DMS, O_IN, O_AT, O_WAITR };

#define WAIT_REPLICAS_MS 1000

/* read_all_fd reads a whole file ("-" = stdin) into b. */
static int
read_file(const char *path, sbuf *b)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    char buf[65536];
    size_t n;
    if (!f) return -1;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) sbuf_add(b, buf, n);
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    return bad ? -1 : 0;
}

static int
int_opt(const char *s, int64_t lo, int64_t hi, int64_t *out, const char *name)
{
    if (config_parse_int(s, lo, hi, out) == 0) return 0;
    fprintf(stderr, "syncq enqueue: bad value \"%s\" for --%s\n", s, name);
    return -1;
}

static int
parse(int argc, char **argv, envelope_spec *sp, const char **queue, const char **payload, const char **batch,
      int *wait_replicas)
{
    static const struct option opts[] = {
        {"kind", required_argument, NULL, 'k'}, {"queue", required_argument, NULL, 'q'},
        {"service", required_argument, NULL, 's'}, {"action", required_argument, NULL, 'a'},
        {"payload", required_argument, NULL, 'P'}, {"batch", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'}, {"target-type", required_argument, NULL, O_TT},
        {"target-id", required_argument, NULL, O_TID}, {"scope", required_argument, NULL, O_SCOPE},
        {"actor", required_argument, NULL, O_ACTOR}, {"id", required_argument, NULL, O_ID},
        {"max-attempts", required_argument, NULL, O_MAXA}, {"timeout-ms", required_argument, NULL, O_TMO},
        {"idempotency-key", required_argument, NULL, O_IK}, {"idempotency-ttl", required_argument, NULL, O_ITTL},
        {"expected-hash", required_argument, NULL, O_EH}, {"debounce-key", required_argument, NULL, O_DK},
        {"debounce-ms", required_argument, NULL, O_DMS}, {"in", required_argument, NULL, O_IN},
        {"at", required_argument, NULL, O_AT}, {"wait-replicas", required_argument, NULL, O_WAITR},
        {NULL, 0, NULL, 0}};
    int o;
    int64_t v;
    optind = 1;
    while ((o = getopt_long(argc, argv, "k:q:s:a:P:b:h", opts, NULL)) != -1) {
        switch (o) {
        case 'k': sp->kind = optarg; break;
        case 'q': *queue = optarg; break;
        case 's': sp->service = optarg; break;
        case 'a': sp->action = optarg; break;
        case 'P': *payload = optarg; break;
        case 'b': *batch = optarg; break;
        case 'h': fputs(usage, stdout); return SYNCQ_EX_OK;
        case O_TT: sp->target_type = optarg; break;
        case O_TID: sp->target_id = optarg; break;
        case O_SCOPE: sp->scope = optarg; break;
        case O_ACTOR: sp->actor = optarg; break;
        case O_ID: sp->id = optarg; break;
        case O_IK: sp->idempotency_key = optarg; break;
        case O_EH: sp->expected_hash = optarg; break;
        case O_DK: sp->debounce_key = optarg; break;
        case O_MAXA: if (int_opt(optarg, 1, 1000, &v, "max-attempts")) return SYNCQ_EX_USAGE; sp->max_attempts = (int)v; break;
        case O_TMO: if (int_opt(optarg, 1, 86400000, &v, "timeout-ms")) return SYNCQ_EX_USAGE; sp->timeout_ms = v; break;
        case O_ITTL: if (int_opt(optarg, 1, 31536000, &v, "idempotency-ttl")) return SYNCQ_EX_USAGE; sp->idempotency_ttl_s = v; break;
        case O_DMS: if (int_opt(optarg, 0, 86400000, &v, "debounce-ms")) return SYNCQ_EX_USAGE; sp->debounce_ms = v; break;
        case O_IN:
            if (config_parse_duration_ms(optarg, &v) < 0) {
                fprintf(stderr, "syncq enqueue: bad duration \"%s\" for --in (e.g. 30s, 10m, 2h)\n", optarg);
                return SYNCQ_EX_USAGE;
            }
            sp->delay_ms = v;
            break;
        case O_AT: sp->run_at = optarg; break;
        case O_WAITR: if (int_opt(optarg, 0, 100, &v, "wait-replicas")) return SYNCQ_EX_USAGE; *wait_replicas = (int)v; break;
        default: fputs(usage, stderr); return SYNCQ_EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "syncq enqueue: unexpected argument \"%s\"\n", argv[optind]);
        return SYNCQ_EX_USAGE;
    }
    if (!*batch && (!sp->service || !sp->action)) {
        fprintf(stderr, "syncq enqueue: --service and --action are required\n%s", usage);
        return SYNCQ_EX_USAGE;
    }
    return -1;
}

static int
enqueue_one(syncq_client *c, const char *queue, envelope_spec *sp, const char *payload)
{
    sbuf pl;
    char err[256], id[160];
    int rc = SYNCQ_EX_OK;
    sbuf_init(&pl);
    if (payload && (payload[0] == '@' || !strcmp(payload, "-"))) {
        if (read_file(payload[0] == '@' ? payload + 1 : "-", &pl) < 0) {
            fprintf(stderr, "syncq enqueue: cannot read payload %s: %s\n", payload, strerror(errno));
            rc = SYNCQ_EX_USAGE;
            goto out;
        }
        sp->payload_json = pl.buf ? pl.buf : "";
        sp->payload_len = pl.len;
    } else if (payload) {
        sp->payload_json = payload;
        sp->payload_len = strlen(payload);
    }
    if (!sp->kind) sp->kind = "mutation";
    size_t len;
    char *env = envelope_build(sp, &len, err, sizeof(err));
    if (!env) {
        fprintf(stderr, "syncq enqueue: %s\n", err);
        rc = SYNCQ_EX_DATAERR;
        goto out;
    }
    syncq_state st;
    if (syncq_enqueue2(c, queue, env, len, id, sizeof(id), &st) < 0) {
        fprintf(stderr, "syncq enqueue: %s\n", syncq_client_error(c));
        rc = syncq_last_code(c);
        if (rc == SYNCQ_EREPLICA) printf("%s\n", id); /* enqueued all the same */
    } else {
        printf("%s\n", id);
        if (st != SYNCQ_QUEUED) fprintf(stderr, "syncq enqueue: %s\n", syncq_state_name(st));
    }
    free(env);
out:
    sbuf_free(&pl);
    return rc;
}

/* One input line of a batch, in input order: pushed (refusal NULL) or
 * refused before Redis saw it (refusal owned), so the answers print in the
 * order of the lines. */
typedef struct batch_line {
    long lineno;
    char *refusal;
} batch_line;

typedef struct batch_run {
    batch_line lines[BATCH_CHUNK];
    int pending;
    long read, sent, bad;
    long unconfirmed; /* chunks --wait-replicas could not confirm */
    int progress; /* stderr is a terminal and stdout is not: a progress line there */
    const char *queue;
} batch_run;

static void
refuse(batch_run *b, long lineno, const char *why)
{
    printf("line %ld: refused: %s\n", lineno, cli_tty(why));
    b->bad++;
}

/* print_results prints one line per input line of the chunk: the id (and
 * its state when not queued), "line N: refused: why" or "line N: empty,
 * skipped". */
static void
print_results(syncq_client *c, batch_run *b)
{
    int r = 0;
    for (int i = 0; i < b->pending; i++) {
        batch_line *l = &b->lines[i];
        const char *id, *error;
        syncq_state st;
        if (l->refusal && !l->refusal[0]) {
            printf("line %ld: empty, skipped\n", l->lineno);
            free(l->refusal);
            l->refusal = NULL;
        } else if (l->refusal) {
            refuse(b, l->lineno, l->refusal);
            free(l->refusal);
            l->refusal = NULL;
        } else if (syncq_batch_result(c, r++, &id, &st, &error) < 0) {
            refuse(b, l->lineno, error ? error : "no reply");
        } else {
            printf("%s%s%s\n", id, st == SYNCQ_QUEUED ? "" : " ", st == SYNCQ_QUEUED ? "" : syncq_state_name(st));
            b->sent++;
        }
    }
    b->pending = 0;
    if (b->progress) {
        fflush(stdout);
        fprintf(stderr, "\rsyncq enqueue: %ld line(s) read, %ld job(s) sent, %ld refused", b->read, b->sent, b->bad);
    }
}

/* flush sends the chunk and prints its answers; -1 when Redis failed */
static int
flush(syncq_client *c, batch_run *b, int pushed)
{
    if (pushed && syncq_batch_flush(c) < 0) {
        if (syncq_last_code(c) != SYNCQ_EREPLICA) return -1;
        fprintf(stderr, "syncq enqueue: line %ld: %s\n", b->read, syncq_client_error(c)); /* sent all the same */
        b->unconfirmed++;
    }
    print_results(c, b);
    return 0;
}

/* read_lines feeds every line of f to the pipeline, BATCH_CHUNK lines at a
 * time; -1 when Redis failed. An empty line is answered too ("empty,
 * skipped"), so that the output has one line per input line. */
static int
read_lines(syncq_client *c, batch_run *b, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int pushed = 0, rc = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        batch_line *l = &b->lines[b->pending++];
        l->lineno = ++b->read;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        if (n == 0) l->refusal = xstrdup(""); /* skipped, not refused */
        else if (syncq_batch_add(c, b->queue, line, (size_t)n) < 0) l->refusal = xstrdup(syncq_client_error(c));
        else pushed++;
        if (b->pending < BATCH_CHUNK) continue;
        if ((rc = flush(c, b, pushed)) < 0) break;
        pushed = 0;
    }
    if (rc == 0 && b->pending) rc = flush(c, b, pushed);
    for (int i = 0; i < b->pending; i++) free(b->lines[i].refusal);
    free(line);
    return rc;
}

/* enqueue_batch pushes every valid line through one pipeline per chunk; bad
 * lines are answered and skipped (exit 65 at the end), so one typo does not
 * hold back the rest. */
static int
enqueue_batch(syncq_client *c, const char *queue, const char *path)
{
    static batch_run b; /* 80 KB of line slots: off the stack */
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    int rc;
    if (!f) {
        fprintf(stderr, "syncq enqueue: cannot open %s: %s\n", path, strerror(errno));
        return SYNCQ_EX_USAGE;
    }
    memset(&b, 0, sizeof(b));
    b.progress = isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO);
    b.queue = queue;
    if (read_lines(c, &b, f) < 0) {
        fprintf(stderr, "%ssyncq enqueue: %s (%ld line(s) sent before the failure)\n", b.progress ? "\n" : "",
                syncq_client_error(c), b.sent);
        rc = SYNCQ_EX_UNAVAILABLE;
    } else {
        fprintf(stderr, "%ssyncq enqueue: %ld job(s) sent, %ld line(s) refused\n", b.progress ? "\n" : "", b.sent,
                b.bad);
        rc = b.bad ? SYNCQ_EX_DATAERR : b.unconfirmed ? SYNCQ_EREPLICA : SYNCQ_EX_OK;
    }
    if (f != stdin) fclose(f);
    return rc;
}

int
cli_enqueue(config *cfg, int argc, char **argv)
{
    envelope_spec sp;
    const char *queue = NULL, *payload = NULL, *batch = NULL;
    char err[512];
    memset(&sp, 0, sizeof(sp));
    int wait_replicas = 0;
    int rc = parse(argc, argv, &sp, &queue, &payload, &batch, &wait_replicas);
    if (rc >= 0) return rc;
    syncq_client *c = syncq_client_new(cfg->redis_url, cfg->prefix, err, sizeof(err));
    if (!c) {
        fprintf(stderr, "syncq enqueue: %s\n", err);
        return SYNCQ_EX_UNAVAILABLE;
    }
    syncq_client_wait_replicas(c, wait_replicas, WAIT_REPLICAS_MS); /* in range: parse checked it */
    rc = batch ? enqueue_batch(c, queue, batch) : enqueue_one(c, queue, &sp, payload);
    syncq_client_free(c);
    return rc;
}
