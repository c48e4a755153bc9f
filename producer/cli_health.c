/* cli_health.c - `syncq health`: how jobs fared over a window, from the
 * audit tables: totals by status, per (service, action) the success rate,
 * the first-attempt failure rate next to the final failure rate (the gap is
 * what retries hide), p50/p95 duration (percentile_cont), and the most
 * recent failures with their error masked. */
#include "fmacros.h"
#include "cli_ops.h"
#include "cli_table.h"
#include "mask.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_WINDOW_MS 3600000
#define RECENT_FAILURES 10

static const char usage[] =
    "usage: syncq health [--window 1h|24h|7d] [--json]\n"
    "\n"
    "From the audit tables, over the window (default 1h; any duration: 15m, 2d) that ends now by\n"
    "Redis TIME, the clock of every audit time (PostgreSQL's clock when Redis cannot be reached):\n"
    "  JOBS       jobs that finished in the window by status, and the unfinished ones now\n"
    "  per SERVICE/ACTION, over jobs that finished success, dead or conflict:\n"
    "    SUCCESS      share that ended success\n"
    "    1ST FAIL     share whose first attempt did not succeed (failed, crashed, conflict)\n"
    "    FINAL FAIL   share that ended dead or in conflict; 1ST FAIL - FINAL FAIL is what retries saved\n"
    "    P50, P95     duration of each job's last attempt: PostgreSQL percentile_cont (interpolated)\n"
    "  RECENT FAILURES   the 10 newest failed attempts, crashes and dead-letters (errors masked)\n"
    "\n"
    "      --window W   15m, 1h, 24h, 7d, ...\n"
    "      --json       one JSON object\n"
    "\n"
    "Exit codes: 0 ok, 64 usage, 69 PostgreSQL unavailable.\n";

typedef struct report {
    int64_t window_ms;
    int64_t end_ms;     /* Redis TIME; -1: PostgreSQL's now() */
    db_result *totals, *failures;
    audit_rate *rates;
    int nrates;
} report;

/* ---------------------------------------------------------------- Reading */

static int
read_report(db *d, report *r)
{
    if (!(r->totals = audit_totals(d, r->window_ms, r->end_ms))) return -1;
    if (audit_rates_read(d, r->window_ms, r->end_ms, &r->rates, &r->nrates) < 0) return -1;
    if (!(r->failures = audit_failures(d, r->window_ms, r->end_ms))) return -1;
    return 0;
}

static void
report_free(report *r)
{
    if (r->totals) db_result_free(r->totals);
    if (r->failures) db_result_free(r->failures);
    free(r->rates);
}

/* masked_error returns the error with credentials scrubbed (caller frees);
 * NULL for none. */
static char *
masked_error(const char *e)
{
    if (!e) return NULL;
    char *m = mask_string(e);
    return m ? m : strdup(e);
}

/* ---------------------------------------------------------------- Text */

static const char *
pct(double v, char *buf, size_t len)
{
    snprintf(buf, len, "%.1f%%", v * 100);
    return buf;
}

static const char *
dur(double ms, char *buf, size_t len)
{
    if (ms < 0) snprintf(buf, len, "-");
    else if (ms < 1000) snprintf(buf, len, "%.1fms", ms);
    else snprintf(buf, len, "%.2fs", ms / 1000);
    return buf;
}

/* text_totals wraps the counts to the terminal's width, continued lines
 * indented under the first count */
static void
text_totals(const report *r, int width)
{
    char w[32], item[64];
    int col = printf("JOBS (finished in the last %s, unfinished now):", config_fmt_duration_ms(r->window_ms, w, sizeof(w)));
    int indent = col + 1;
    for (int i = 0; i < db_ntuples(r->totals); i++) {
        int n = snprintf(item, sizeof(item), " %s %s%s", db_value(r->totals, i, 1), db_value(r->totals, i, 0),
                         i + 1 < db_ntuples(r->totals) ? "," : "");
        if (i && col + n > width) col = printf("\n%*s", indent - 1, "") - 1;
        col += printf("%s", item);
    }
    printf("%s\n", db_ntuples(r->totals) ? "" : " none");
}

static const cli_table_col rate_cols[] = {
    {"SERVICE/ACTION", 0, 0}, {"FINISHED", 1, 1}, {"SUCCESS", 1, 1}, {"1ST FAIL", 1, 1},
    {"FINAL FAIL", 1, 1},     {"P50", 1, 1},      {"P95", 1, 1},
};

static void
text_rate(cli_table *t, const audit_rate *v)
{
    char name[140], n[24], a[16], b[16], c[16], p50[24], p95[24];
    if (v->total) snprintf(name, sizeof(name), "(all)");
    else snprintf(name, sizeof(name), "%s/%s", v->service[0] ? v->service : "?", v->action[0] ? v->action : "?");
    snprintf(n, sizeof(n), "%lld", v->finished);
    const char *cells[] = {cli_tty(name), n, pct(ops_ratio(v->success, v->finished), a, 16),
                           pct(ops_ratio(v->finished - v->first_ok, v->finished), b, 16),
                           pct(ops_ratio(v->dead + v->conflict, v->finished), c, 16), dur(v->p50_ms, p50, 24),
                           dur(v->p95_ms, p95, 24)};
    cli_table_row(t, cells);
}

/* text_failure prints one failure on one line, cut to the terminal's width:
 * `jobs show ID` and --json carry the whole error. */
static void
text_failure(const db_result *f, int i, int width)
{
    char *err = masked_error(db_value(f, i, AUDIT_FAIL_ERROR));
    const char *svc = db_value(f, i, AUDIT_FAIL_SERVICE), *act = db_value(f, i, AUDIT_FAIL_ACTION), *outcome = db_value(f, i, AUDIT_FAIL_OUTCOME);
    const char *attempt = db_value(f, i, AUDIT_FAIL_ATTEMPT);
    sbuf line;
    sbuf_init(&line);
    sbuf_printf(&line, "%s  %s  %s/%s  %s%s%s attempt %s: %s", cli_tty(db_value(f, i, AUDIT_FAIL_AT)), cli_tty(db_value(f, i, AUDIT_FAIL_ID)),
                svc ? cli_tty(svc) : "?", act ? cli_tty(act) : "?", cli_tty(db_value(f, i, AUDIT_FAIL_EVENT)), outcome ? "/" : "",
                outcome ? cli_tty(outcome) : "", attempt ? cli_tty(attempt) : "-", err ? cli_tty(err) : "");
    cli_table_line(stdout, line.buf ? line.buf : "", width);
    sbuf_free(&line);
    free(err);
}

static void
print_text(const report *r)
{
    int width = cli_term_width();
    cli_table t;
    text_totals(r, width);
    printf("\n");
    cli_table_init(&t, rate_cols, (int)(sizeof(rate_cols) / sizeof(rate_cols[0])));
    for (int i = 0; i < r->nrates; i++) text_rate(&t, &r->rates[i]);
    cli_table_print(&t, stdout, width);
    printf("(durations: percentile_cont over each finished job's last attempt)\n");
    printf("\nRECENT FAILURES%s\n", db_ntuples(r->failures) ? "" : ": none");
    for (int i = 0; i < db_ntuples(r->failures); i++) text_failure(r->failures, i, width);
}

static void
num_field(sbuf *b, const char *key, double v)
{
    sbuf_json_key(b, key);
    if (v < 0) sbuf_adds(b, "null");
    else sbuf_printf(b, "%.6g", v);
}

void
ops_json_rate(sbuf *b, const audit_rate *v)
{
    sbuf_addc(b, '{');
    sbuf_json_key(b, "service");
    sbuf_json_strz(b, v->total ? NULL : v->service);
    sbuf_json_key(b, "action");
    sbuf_json_strz(b, v->total ? NULL : v->action);
    ops_json_int(b, "finished", v->finished);
    ops_json_int(b, "success", v->success);
    ops_json_int(b, "first_attempt_success", v->first_ok);
    ops_json_int(b, "dead", v->dead);
    ops_json_int(b, "conflict", v->conflict);
    num_field(b, "success_rate", ops_ratio(v->success, v->finished));
    num_field(b, "first_attempt_failure_rate", ops_ratio(v->finished - v->first_ok, v->finished));
    num_field(b, "final_failure_rate", ops_ratio(v->dead + v->conflict, v->finished));
    num_field(b, "p50_ms", v->p50_ms);
    num_field(b, "p95_ms", v->p95_ms);
    sbuf_addc(b, '}');
}

static void
json_failure(sbuf *b, const db_result *f, int i)
{
    /* the columns AUDIT_FAIL_AT .. AUDIT_FAIL_OUTCOME, in order */
    static const char *keys[] = {"at", "job_id", "service", "action", "event", "outcome"};
    char *err = masked_error(db_value(f, i, AUDIT_FAIL_ERROR));
    const char *attempt = db_value(f, i, AUDIT_FAIL_ATTEMPT);
    sbuf_addc(b, '{');
    for (int k = AUDIT_FAIL_AT; k <= AUDIT_FAIL_OUTCOME; k++) {
        sbuf_json_key(b, keys[k]);
        sbuf_json_strz(b, db_value(f, i, k));
    }
    sbuf_json_key(b, "attempt");
    sbuf_adds(b, attempt ? attempt : "null");
    sbuf_json_key(b, "error");
    sbuf_json_strz(b, err);
    sbuf_addc(b, '}');
    free(err);
}

static void
print_json(const report *r)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_addc(&b, '{');
    ops_json_ms(&b, "window_ms", r->window_ms);
    sbuf_json_key(&b, "percentile_function");
    sbuf_json_strz(&b, "percentile_cont");
    sbuf_json_key(&b, "totals");
    sbuf_addc(&b, '{');
    for (int i = 0; i < db_ntuples(r->totals); i++) ops_json_int(&b, db_value(r->totals, i, 0), atoll(db_value(r->totals, i, 1)));
    sbuf_adds(&b, "}");
    sbuf_json_key(&b, "handlers");
    sbuf_addc(&b, '[');
    for (int i = 0, n = 0; i < r->nrates; i++)
        if (!r->rates[i].total) {
            if (n++) sbuf_addc(&b, ',');
            ops_json_rate(&b, &r->rates[i]);
        }
    sbuf_addc(&b, ']');
    sbuf_json_key(&b, "all");
    ops_json_rate(&b, &r->rates[r->nrates - 1]);
    sbuf_json_key(&b, "recent_failures");
    sbuf_addc(&b, '[');
    for (int i = 0; i < db_ntuples(r->failures); i++) {
        if (i) sbuf_addc(&b, ',');
        json_failure(&b, r->failures, i);
    }
    sbuf_adds(&b, "]}\n");
    fwrite(b.buf, 1, b.len, stdout);
    sbuf_free(&b);
}

/* ---------------------------------------------------------------- Command */

int
cli_health(config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"window", required_argument, NULL, 'W'}, {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    report r;
    db d;
    int as_json = 0, o, rc;
    memset(&r, 0, sizeof(r));
    r.window_ms = DEFAULT_WINDOW_MS;
    optind = 1;
    while ((o = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (o == 'h') {
            fputs(usage, stdout);
            return SYNCQ_EX_OK;
        }
        if (o == 'j') {
            as_json = 1;
        } else if (o != 'W' || ops_duration(optarg, &r.window_ms, "health", "window") < 0) {
            if (o != 'W') fputs(usage, stderr);
            return SYNCQ_EX_USAGE;
        } else if (r.window_ms == 0) {
            fprintf(stderr, "syncq health: --window \"%s\" is empty: give a window longer than 0 (15m, 1h, 7d)\n", optarg);
            return SYNCQ_EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "syncq health: unexpected argument \"%s\"\n%s", argv[optind], usage);
        return SYNCQ_EX_USAGE;
    }
    if ((rc = ops_db(&d, cfg, "health", 0)) != 0) return rc;
    /* the window ends at Redis TIME, the clock of every audit time */
    if ((r.end_ms = ops_redis_now(cfg)) < 0)
        fprintf(stderr, "syncq health: cannot read the time from Redis; the window ends at PostgreSQL's clock\n");
    if (read_report(&d, &r) < 0) {
        fprintf(stderr, "syncq health: PostgreSQL: %s\n", d.errstr);
        rc = db_alive(&d) ? SYNCQ_EX_SOFTWARE : SYNCQ_EX_UNAVAILABLE;
    } else if (as_json) {
        print_json(&r);
    } else {
        print_text(&r);
    }
    report_free(&r);
    db_close(&d);
    return rc;
}
