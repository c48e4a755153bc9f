/* cli_jobs.c - `syncq jobs`: search the audit log, newest first, a page at a
 * time. Pages are keyset pages, not OFFSET ones: the order is (enqueued_at,
 * job_id) descending, the few rows without enqueued_at first (the order of a
 * backward scan of the enqueued_at index), and the cursor printed under a
 * page is the key of its last row ("-" for no time), so the next page starts
 * right after it even while new jobs arrive. */
#include "fmacros.h"
#include "cli_jobs.h"
#include "cli_table.h"
#include "cli_ops.h"
#include "mask.h"
#include "tty.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 1000
#define CURSOR_TS_LEN JOBS_CURSOR_TS_LEN

static const char usage[] =
    "usage: syncq jobs [filters] [--limit N] [--before CURSOR] [--json]\n"
    "       syncq jobs show ID [--json]\n"
    "       syncq jobs retry ID [--expected-hash H | --force] [--actor A]\n"
    "\n"
    "Searches the audit table, newest first (by enqueued_at). Filters:\n"
    "      --status S[,S...]   queued running retrying success dead conflict superseded\n"
    "      --queue Q           --service S       --action A\n"
    "      --target ID         target_id         --target-type T\n"
    "      --actor A           who enqueued it\n"
    "      --text T            T in the error or the (masked) payload, case-insensitive\n"
    "      --since D           enqueued within the last D (30m, 1h, 7d, ...)\n"
    "      --until D           enqueued more than D ago\n"
    "  -n, --limit N           rows per page (default 50, at most 1000)\n"
    "      --before CURSOR     the next page: the cursor printed under the previous one\n"
    "      --json              one JSON object: {\"jobs\": [...], \"next_cursor\": ...}\n"
    "\n"
    "Exit codes: 0 ok, 64 usage, 69 PostgreSQL unavailable.\n";

static const char *const statuses[] = {"queued", "running", "retrying", "success", "dead", "conflict", "superseded"};

/* ---------------------------------------------------------------- Shared */

char *
jobs_scrubbed(const char *s)
{
    char *m = s ? mask_string(s) : NULL;
    return m ? m : s ? xstrdup(s) : NULL;
}

char *
jobs_masked(const char *s)
{
    if (!s) return NULL;
    char *m = mask_string(s);
    if (!m) m = xstrdup(s);
    for (char *p = m; *p; p++) /* one line: a table row stays one row */
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    char *out = tty_str(m);
    free(m);
    return out;
}

/* ---------------------------------------------------------------- Query */


audit_jobs_filter
jobs_audit_filter(const jobs_filter *f)
{
    audit_jobs_filter a = {f->status ? f->status_array : NULL, f->queue, f->service, f->action, f->target,
                           f->target_type, f->actor, f->text, f->since[0] ? f->since : NULL,
                           f->until[0] ? f->until : NULL, f->before ? f->cursor_ts : NULL,
                           f->before ? f->cursor_id : NULL, f->limit};
    return a;
}

/* ---------------------------------------------------------------- Flags */

/* status_list checks a comma list of statuses and writes it as an array literal. */
static int
status_list(const char *s, char *out, size_t len)
{
    size_t o = 0;
    out[o++] = '{';
    while (*s) {
        size_t n = strcspn(s, ","), k;
        for (k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
            if (strlen(statuses[k]) == n && !strncmp(s, statuses[k], n)) break;
        if (k == sizeof(statuses) / sizeof(statuses[0]) || o + n + 2 >= len) return -1;
        if (o > 1) out[o++] = ',';
        memcpy(out + o, s, n);
        o += n;
        s += n + (s[n] == ',');
    }
    out[o++] = '}';
    out[o] = '\0';
    return o > 2 ? 0 : -1;
}

static int
cursor_parse(jobs_filter *f)
{
    const char *comma = strchr(f->before, ',');
    size_t n = comma ? (size_t)(comma - f->before) : 0;
    int no_time = n == 1 && f->before[0] == '-';
    if (!comma || !comma[1] || (!no_time && (n != CURSOR_TS_LEN || f->before[n - 1] != 'Z'))) return -1;
    memcpy(f->cursor_ts, f->before, n);
    f->cursor_ts[n] = '\0';
    f->cursor_id = comma + 1;
    return 0;
}

/* duration_param checks a duration and writes it in ms for a query parameter. */
static int
duration_param(const char *v, const char *name, char *out, size_t len, char *err, size_t errlen)
{
    int64_t ms;
    if (config_parse_duration_ms(v, &ms) == 0) {
        snprintf(out, len, "%lld", (long long)ms);
        return 0;
    }
    snprintf(err, errlen, "bad duration \"%.60s\" for --%s (use 30s, 10m, 1h, 7d, 1h30m; units ms s m h d w)", v,
             name);
    return -1;
}

void
jobs_filter_init(jobs_filter *f)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->limit, sizeof(f->limit), "%d", DEFAULT_LIMIT);
}

int
jobs_filter_set(jobs_filter *f, const char *name, const char *v, char *err, size_t errlen)
{
    const char **text[] = {&f->queue, &f->service, &f->action, &f->target, &f->target_type, &f->actor, &f->text};
    static const char *const text_names[] = {"queue", "service", "action", "target", "target_type", "actor", "text"};
    int64_t n;
    for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
        if (!strcmp(name, text_names[i])) {
            *text[i] = v;
            return 0;
        }
    if (!strcmp(name, "since")) return duration_param(v, "since", f->since, sizeof(f->since), err, errlen);
    if (!strcmp(name, "until")) return duration_param(v, "until", f->until, sizeof(f->until), err, errlen);
    if (!strcmp(name, "status")) {
        f->status = v;
        if (status_list(v, f->status_array, sizeof(f->status_array)) == 0) return 0;
        snprintf(err, errlen, "bad --status \"%.60s\" (use a comma list of: queued running retrying success dead "
                              "conflict superseded)", v);
        return -1;
    }
    if (!strcmp(name, "before")) {
        f->before = v;
        if (cursor_parse(f) == 0) return 0;
        snprintf(err, errlen, "bad cursor \"%.80s\" (pass the one printed under a page)", v);
        return -1;
    }
    if (!strcmp(name, "limit")) {
        if (config_parse_int(v, 1, MAX_LIMIT, &n) == 0) {
            snprintf(f->limit, sizeof(f->limit), "%lld", (long long)n);
            return 0;
        }
        snprintf(err, errlen, "bad --limit \"%.30s\" (1..%d)", v, MAX_LIMIT);
        return -1;
    }
    snprintf(err, errlen, "unknown filter \"%.40s\"", name);
    return -1;
}

enum { O_STATUS = 256, O_QUEUE, O_SERVICE, O_ACTION, O_TARGET, O_TTYPE, O_ACTOR, O_TEXT, O_SINCE, O_UNTIL, O_BEFORE, O_JSON };

/* The filter each option sets (jobs_filter_set), in enum order from O_STATUS. */
static const char *const opt_names[] = {"status", "queue", "service", "action", "target", "target_type",
                                        "actor", "text", "since", "until", "before"};

static int
one_opt(int o, const char *v, jobs_filter *f)
{
    char err[300];
    if (o == O_JSON) {
        f->as_json = 1;
        return 0;
    }
    if (o != 'n' && (o < O_STATUS || o > O_BEFORE)) {
        fputs(usage, stderr);
        return SYNCQ_EX_USAGE;
    }
    if (jobs_filter_set(f, o == 'n' ? "limit" : opt_names[o - O_STATUS], v, err, sizeof(err)) == 0) return 0;
    fprintf(stderr, "syncq jobs: %s\n", err);
    return SYNCQ_EX_USAGE;
}

static int
parse(int argc, char **argv, jobs_filter *f)
{
    static const struct option opts[] = {
        {"status", required_argument, NULL, O_STATUS}, {"queue", required_argument, NULL, O_QUEUE},
        {"service", required_argument, NULL, O_SERVICE}, {"action", required_argument, NULL, O_ACTION},
        {"target", required_argument, NULL, O_TARGET}, {"target-type", required_argument, NULL, O_TTYPE},
        {"actor", required_argument, NULL, O_ACTOR}, {"text", required_argument, NULL, O_TEXT},
        {"since", required_argument, NULL, O_SINCE}, {"until", required_argument, NULL, O_UNTIL},
        {"before", required_argument, NULL, O_BEFORE}, {"json", no_argument, NULL, O_JSON},
        {"limit", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int o, rc;
    jobs_filter_init(f);
    optind = 1;
    while ((o = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        if (o == 'h') {
            fputs(usage, stdout);
            return SYNCQ_EX_OK;
        }
        if ((rc = one_opt(o, optarg, f)) != 0) return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "syncq jobs: unexpected argument \"%s\"\n%s", argv[optind], usage);
        return SYNCQ_EX_USAGE;
    }
    return -1;
}

/* ---------------------------------------------------------------- Output */

static const char *
val(const db_result *r, int row, int col)
{
    const char *s = db_value(r, row, col);
    return s ? s : "";
}

static const cli_table_col text_cols[] = {
    {"ENQUEUED", 0, 1}, {"ID", 0, 1},       {"QUEUE", 0, 0},  {"SERVICE/ACTION", 0, 0}, {"STATUS", 0, 1},
    {"ATT", 1, 1},      {"DURATION", 1, 1}, {"TARGET", 0, 0}, {"ERROR", 0, 0},
};

static void
text_row(cli_table *t, const db_result *r, int i)
{
    char what[140], target[140], d[32], when[24];
    const char *dur = db_value(r, i, AUDIT_JOBS_DURATION);
    char *err = jobs_masked(db_value(r, i, AUDIT_JOBS_ERROR)); /* escaped already */
    snprintf(what, sizeof(what), "%s/%s", val(r, i, AUDIT_JOBS_SERVICE), val(r, i, AUDIT_JOBS_ACTION));
    snprintf(target, sizeof(target), "%s%s%s", val(r, i, AUDIT_JOBS_TTYPE), db_value(r, i, AUDIT_JOBS_TTYPE) ? ":" : "",
             val(r, i, AUDIT_JOBS_TID));
    snprintf(when, sizeof(when), "%.19s%s", val(r, i, AUDIT_JOBS_KEY), val(r, i, AUDIT_JOBS_KEY)[0] == '-' ? "" : "Z");
    const char *cells[] = {cli_tty(when), cli_tty(val(r, i, AUDIT_JOBS_ID)), cli_tty(val(r, i, AUDIT_JOBS_QUEUE)), cli_tty(what),
                           cli_tty(val(r, i, AUDIT_JOBS_STATUS)), cli_tty(val(r, i, AUDIT_JOBS_ATTEMPTS)),
                           dur ? config_fmt_duration_ms(atoll(dur), d, sizeof(d)) : "-", target[0] ? cli_tty(target) : "-",
                           err ? err : ""};
    cli_table_row(t, cells);
    free(err);
}

/* print_text fits the table to the terminal (cli_table.h); --json and
 * `jobs show` carry the whole values. */
static void
print_text(const db_result *r, int rows, const char *next)
{
    cli_table t;
    cli_table_init(&t, text_cols, (int)(sizeof(text_cols) / sizeof(text_cols[0])));
    for (int i = 0; i < rows; i++) text_row(&t, r, i);
    cli_table_print(&t, stdout, cli_term_width());
    if (next) printf("next page: --before '%s'\n", cli_tty(next));
}

static void
json_row(sbuf *b, const db_result *r, int i)
{
    static const char *keys[] = {"enqueued_at", "id", "queue", "service", "action", "status", "attempts",
                                 "duration_ms", "target_type", "target_id", "actor", "error", "replayed_from"};
    _Static_assert(sizeof(keys) / sizeof(keys[0]) == AUDIT_JOBS_NCOLS, "a key per column of audit_jobs");
    sbuf_addc(b, '{');
    for (int c = 0; c < AUDIT_JOBS_NCOLS; c++) {
        const char *v = db_value(r, i, c);
        sbuf_json_key(b, keys[c]);
        if (c == AUDIT_JOBS_ATTEMPTS || c == AUDIT_JOBS_DURATION) {
            sbuf_adds(b, v ? v : "null");
        } else if (c == AUDIT_JOBS_ERROR) {
            char *m = jobs_scrubbed(v);
            sbuf_json_strz(b, m);
            free(m);
        } else {
            sbuf_json_strz(b, v);
        }
    }
    sbuf_addc(b, '}');
}

void
jobs_json_page(sbuf *b, const db_result *r, int rows, const char *next)
{
    sbuf_adds(b, "{\"jobs\":[");
    for (int i = 0; i < rows; i++) {
        if (i) sbuf_addc(b, ',');
        json_row(b, r, i);
    }
    sbuf_adds(b, "]");
    sbuf_json_key(b, "next_cursor");
    sbuf_json_strz(b, next);
    sbuf_adds(b, "}\n");
}

static void
print_json(const db_result *r, int rows, const char *next)
{
    sbuf b;
    sbuf_init(&b);
    jobs_json_page(&b, r, rows, next);
    fwrite(b.buf, 1, b.len, stdout);
    sbuf_free(&b);
}

/* ---------------------------------------------------------------- Command */

int
jobs_list(config *cfg, int argc, char **argv)
{
    jobs_filter f;
    db d;
    sbuf next;
    int rc = parse(argc, argv, &f);
    if (rc >= 0) return rc;
    if ((rc = ops_db(&d, cfg, "jobs", 0)) != 0) return rc;
    sbuf_init(&next);
    audit_jobs_filter af = jobs_audit_filter(&f);
    db_result *r = audit_jobs(&d, &af);
    if (!r) {
        fprintf(stderr, "syncq jobs: PostgreSQL: %s\n", d.errstr);
        rc = db_alive(&d) ? SYNCQ_EX_SOFTWARE : SYNCQ_EX_UNAVAILABLE;
        goto out;
    }
    int rows = db_ntuples(r), limit = atoi(f.limit), more = rows > limit;
    if (more) rows = limit;
    if (more) sbuf_printf(&next, "%s,%s", val(r, rows - 1, AUDIT_JOBS_KEY), val(r, rows - 1, AUDIT_JOBS_ID));
    if (f.as_json) print_json(r, rows, more ? next.buf : NULL);
    else print_text(r, rows, more ? next.buf : NULL);
    db_result_free(r);
    rc = SYNCQ_EX_OK;
out:
    sbuf_free(&next);
    db_close(&d);
    return rc;
}

int
cli_jobs(config *cfg, int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "show")) return jobs_show(cfg, argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "retry")) return jobs_retry(cfg, argc - 1, argv + 1);
    return jobs_list(cfg, argc, argv);
}
