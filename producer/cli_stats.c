/* cli_stats.c - `syncq stats`: the fleet right now. Per queue, from Redis:
 * ready depth, the oldest ready job's age, in-flight, delayed/retry (with the
 * next due time), dead-letter count, audit backlog and pause state; the live
 * workers with their heartbeat age; and, from PostgreSQL, what finished in
 * the last minute. PostgreSQL being down costs only that last part. */
#include "fmacros.h"
#include "clock.h"
#include "cli_ops.h"
#include "cli_table.h"
#include "envelope.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RECENT_MS 60000

static const char usage[] =
    "usage: syncq stats [--json] [--watch]\n"
    "\n"
    "Per queue: STATE (active or paused), READY jobs, the OLDEST ready job's age (since it became\n"
    "ready: a promoted retry's ready time, else its enqueued_at, else when a worker first saw it),\n"
    "IN-FLIGHT (held by workers), RETRY (retries and delayed jobs) with the NEXT one due, DEAD\n"
    "(dead-letter set) and BACKLOG (audit records waiting for PostgreSQL). Then the live workers\n"
    "(heartbeat age = lease TTL - time left), and the jobs that finished in the last minute with\n"
    "the failed attempts (from the audit tables, by Redis TIME like every audit time; skipped with\n"
    "a note when PostgreSQL is down).\n"
    "Queues: the configured ones (SYNCQ_QUEUES) and every queue a worker has registered.\n"
    "\n"
    "      --json     one JSON object (ages and times in ms)\n"
    "  -w, --watch    redraw every second (on a terminal; otherwise print a snapshot per second,\n"
    "                 each headed by its time: == RFC 3339 UTC)\n"
    "\n"
    "Exit codes: 0 ok, 64 usage, 69 Redis unavailable.\n";

typedef struct snapshot {
    ops_fleet f;
    audit_recent recent;
    int pg_ok;
    char pg_err[600];
} snapshot;

/* ---------------------------------------------------------------- Text */

/* split_wid splits host:pid:boot (the host never holds ':', see worker_id). */
static void
split_wid(const char *wid, char *host, size_t hl, char *pid, size_t pl)
{
    const char *a = strchr(wid, ':'), *b = a ? strchr(a + 1, ':') : NULL;
    snprintf(host, hl, "%.*s", a ? (int)(a - wid) : (int)strlen(wid), wid);
    snprintf(pid, pl, "%.*s", b ? (int)(b - a - 1) : 0, a ? a + 1 : "");
}

static const cli_table_col queue_cols[] = {
    {"QUEUE", 0, 0}, {"STATE", 0, 1},    {"READY", 1, 1}, {"OLDEST", 1, 1},  {"IN-FLIGHT", 1, 1},
    {"RETRY", 1, 1}, {"NEXT DUE", 0, 1}, {"DEAD", 1, 1},  {"BACKLOG", 1, 1}, {"REJECTED", 1, 1},
};
static const cli_table_col worker_cols[] = {{"HOST", 0, 0}, {"PID", 1, 1}, {"ROLE", 0, 1}, {"JOBS", 1, 1}, {"HEARTBEAT", 1, 1}};

static void
queue_row(cli_table *t, const ops_fleet *f, const qstat *q)
{
    char age[32], due[40], n[6][24];
    if (q->next_due_ms < 0) snprintf(due, sizeof(due), "-");
    else if (q->next_due_ms <= f->now_ms) snprintf(due, sizeof(due), "now");
    else snprintf(due, sizeof(due), "in %s", config_fmt_duration_ms(q->next_due_ms - f->now_ms, age, sizeof(age)));
    long long v[6] = {q->ready, q->inflight, q->retry, q->dead, q->outbox, q->rejected};
    for (int i = 0; i < 6; i++) snprintf(n[i], sizeof(n[i]), "%lld", v[i]);
    const char *cells[] = {cli_tty(q->name), q->paused ? "paused" : "active", n[0],
                           q->ready && q->oldest_age_ms < 0 ? "?" : config_fmt_duration_ms(q->oldest_age_ms, age, sizeof(age)),
                           n[1], n[2], due, n[3], n[4], n[5]};
    cli_table_row(t, cells);
}

/* the tables fit the terminal (cli_table.h); --json carries whole names */
static void
print_queues(const ops_fleet *f)
{
    cli_table t;
    cli_table_init(&t, queue_cols, (int)(sizeof(queue_cols) / sizeof(queue_cols[0])));
    for (int i = 0; i < f->nq; i++) queue_row(&t, f, &f->q[i]);
    cli_table_print(&t, stdout, cli_term_width());
}

static void
print_workers(const ops_fleet *f)
{
    char host[128], pid[32], age[32], jobs[24];
    int children = 0;
    for (int i = 0; i < f->nw; i++) children += !strcmp(f->w[i].role, "child");
    printf("\nWORKERS: %d live (%d job children, %d other)\n", f->nw, children, f->nw - children);
    if (f->nw == 0) return;
    cli_table t;
    cli_table_init(&t, worker_cols, (int)(sizeof(worker_cols) / sizeof(worker_cols[0])));
    for (int i = 0; i < f->nw; i++) {
        split_wid(f->w[i].wid, host, sizeof(host), pid, sizeof(pid));
        snprintf(jobs, sizeof(jobs), "%lld", f->w[i].jobs);
        const char *cells[] = {cli_tty(host), cli_tty(pid), cli_tty(f->w[i].role), jobs,
                               config_fmt_duration_ms(f->w[i].age_ms, age, sizeof(age))};
        cli_table_row(&t, cells);
    }
    cli_table_print(&t, stdout, cli_term_width());
}

static void
print_text(const snapshot *s)
{
    const audit_recent *r = &s->recent;
    print_queues(&s->f);
    print_workers(&s->f);
    if (!s->pg_ok) {
        printf("\nLAST MINUTE: unknown: %s\n", s->pg_err);
        return;
    }
    /* two lines, so that it fits 80 columns */
    printf("\nLAST MINUTE: %lld processed (%lld success, %lld dead, %lld conflict, %lld superseded),\n"
           "             %lld failed attempt(s)\n",
           r->finished, r->success, r->dead, r->conflict, r->superseded, r->failed_attempts);
}

/* ---------------------------------------------------------------- JSON */

void
ops_json_queue(sbuf *b, const qstat *q, int64_t now)
{
    sbuf_addc(b, '{');
    sbuf_json_key(b, "name");
    sbuf_json_strz(b, q->name);
    sbuf_json_key(b, "paused");
    sbuf_adds(b, q->paused ? "true" : "false");
    ops_json_int(b, "ready", q->ready);
    ops_json_ms(b, "oldest_age_ms", q->oldest_age_ms);
    ops_json_int(b, "inflight", q->inflight);
    ops_json_int(b, "retry", q->retry);
    ops_json_ms(b, "next_due_in_ms", q->next_due_ms < 0 ? -1 : q->next_due_ms > now ? q->next_due_ms - now : 0);
    ops_json_int(b, "dead", q->dead);
    ops_json_int(b, "audit_backlog", q->outbox);
    ops_json_int(b, "audit_rejected", q->rejected);
    sbuf_addc(b, '}');
}

void
ops_json_worker(sbuf *b, const ops_worker *w)
{
    char host[128], pid[32];
    split_wid(w->wid, host, sizeof(host), pid, sizeof(pid));
    sbuf_addc(b, '{');
    sbuf_json_key(b, "id");
    sbuf_json_strz(b, w->wid);
    sbuf_json_key(b, "host");
    sbuf_json_strz(b, host);
    ops_json_int(b, "pid", atoll(pid));
    sbuf_json_key(b, "role");
    sbuf_json_strz(b, w->role);
    ops_json_int(b, "jobs", w->jobs);
    ops_json_ms(b, "heartbeat_age_ms", w->age_ms);
    sbuf_addc(b, '}');
}

static void
json_recent(sbuf *b, const snapshot *s)
{
    sbuf_json_key(b, "last_minute");
    if (!s->pg_ok) {
        sbuf_adds(b, "null");
        sbuf_json_key(b, "postgres_error");
        sbuf_json_strz(b, s->pg_err);
        return;
    }
    sbuf_addc(b, '{');
    ops_json_int(b, "processed", s->recent.finished);
    ops_json_int(b, "success", s->recent.success);
    ops_json_int(b, "dead", s->recent.dead);
    ops_json_int(b, "conflict", s->recent.conflict);
    ops_json_int(b, "superseded", s->recent.superseded);
    ops_json_int(b, "failed_attempts", s->recent.failed_attempts);
    sbuf_addc(b, '}');
}

static void
print_json(const snapshot *s)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_addc(&b, '{');
    ops_json_ms(&b, "time_ms", s->f.now_ms);
    sbuf_json_key(&b, "queues");
    sbuf_addc(&b, '[');
    for (int i = 0; i < s->f.nq; i++) {
        if (i) sbuf_addc(&b, ',');
        ops_json_queue(&b, &s->f.q[i], s->f.now_ms);
    }
    sbuf_adds(&b, "]");
    sbuf_json_key(&b, "workers");
    sbuf_addc(&b, '[');
    for (int i = 0; i < s->f.nw; i++) {
        if (i) sbuf_addc(&b, ',');
        ops_json_worker(&b, &s->f.w[i]);
    }
    sbuf_adds(&b, "]");
    json_recent(&b, s);
    sbuf_adds(&b, "}\n");
    fwrite(b.buf, 1, b.len, stdout);
    sbuf_free(&b);
}

/* ---------------------------------------------------------------- Command */

/* take reads one snapshot; PostgreSQL is (re)connected as needed. 0 or an exit code. */
static int
take(rds *r, db *d, const config *cfg, snapshot *s)
{
    memset(s, 0, sizeof(*s));
    if (ops_fleet_read(r, cfg, &s->f) < 0) {
        fprintf(stderr, "syncq stats: Redis: %s\n", r->errstr);
        return SYNCQ_EX_UNAVAILABLE;
    }
    if (!db_alive(d)) {
        db_close(d);
        ops_db(d, cfg, "stats", 1);
    }
    /* the last minute before Redis TIME, the clock of every audit time */
    s->pg_ok = db_alive(d) && audit_recent_read(d, RECENT_MS, s->f.now_ms, &s->recent) == 0;
    if (!s->pg_ok) snprintf(s->pg_err, sizeof(s->pg_err), "%s", d->errstr);
    return 0;
}

/* stamp heads a --watch block with its time (Redis's clock, RFC 3339 UTC),
 * so that a log of the blocks (into a pipe or a file) says when each was. */
static void
stamp(const snapshot *s)
{
    char ts[40];
    rfc3339_format(s->f.now_ms, ts, sizeof(ts));
    printf("== %s\n", ts);
}

static int
run(rds *r, db *d, const config *cfg, int as_json, int watch)
{
    int tty = watch && isatty(1), rc;
    for (;;) {
        snapshot s;
        if ((rc = take(r, d, cfg, &s)) != 0) return rc;
        if (tty) fputs("\033[H\033[2J", stdout);
        if (watch && !as_json) stamp(&s);
        if (as_json) print_json(&s);
        else print_text(&s);
        if (tty) printf("\n(every 1 s; Ctrl-C to stop)\n");
        else if (watch && !as_json) printf("\n");
        fflush(stdout);
        ops_fleet_free(&s.f);
        if (!watch) return SYNCQ_EX_OK;
        clock_nap_ms(1000); /* a signal ends the command anyway */
    }
}

int
cli_stats(config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"watch", no_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int as_json = 0, watch = 0, o, rc;
    rds r;
    db d;
    optind = 1;
    while ((o = getopt_long(argc, argv, "jwh", opts, NULL)) != -1) {
        switch (o) {
        case 'j': as_json = 1; break;
        case 'w': watch = 1; break;
        case 'h': fputs(usage, stdout); return SYNCQ_EX_OK;
        default: fputs(usage, stderr); return SYNCQ_EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "syncq stats: unexpected argument \"%s\"\n%s", argv[optind], usage);
        return SYNCQ_EX_USAGE;
    }
    if ((rc = ops_redis(&r, cfg, "stats")) != 0) return rc;
    db_init(&d);
    rc = run(&r, &d, cfg, as_json, watch);
    db_close(&d);
    rds_close(&r);
    return rc;
}
