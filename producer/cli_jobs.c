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
#define MAX_PARAMS 16
#define CURSOR_TS_LEN 27 /* 2026-11-24T10:00:00.123456Z, or "-" for a row without enqueued_at */

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

/* A query under construction: SQL text and its parameters (borrowed). */
typedef struct query {
    sbuf sql;
    const char *params[MAX_PARAMS];
    int n;
} query;

/* cond appends " AND <before>$n<after>", $n binding value. */
static void
cond(query *q, const char *before, const char *after, const char *value)
{
    q->params[q->n++] = value;
    sbuf_printf(&q->sql, " AND %s$%d%s", before, q->n, after);
}

typedef struct filters {
    const char *status, *queue, *service, *action, *target, *target_type, *actor, *text, *before;
    char since[24], until[24], limit[24];
    char status_array[160];
    char cursor_ts[CURSOR_TS_LEN + 1];
    const char *cursor_id;
    int as_json;
} filters;

static const char *SQL_LIST =
    "SELECT COALESCE(to_char(enqueued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '-'),"
    " job_id, queue, service, action, status, attempts, duration_ms, target_type, target_id, actor, last_error,"
    " replayed_from FROM syncq_jobs WHERE true";

static void
build(query *q, const filters *f)
{
    sbuf_adds(&q->sql, SQL_LIST);
    if (f->status) cond(q, "status = ANY(", "::text[])", f->status_array);
    if (f->queue) cond(q, "queue = ", "", f->queue);
    if (f->service) cond(q, "service = ", "", f->service);
    if (f->action) cond(q, "action = ", "", f->action);
    if (f->target) cond(q, "target_id = ", "", f->target);
    if (f->target_type) cond(q, "target_type = ", "", f->target_type);
    if (f->actor) cond(q, "actor = ", "", f->actor);
    if (f->text)
        cond(q, "strpos(lower(COALESCE(last_error, '') || ' ' || COALESCE(payload::text, '')), lower(", ")) > 0",
             f->text);
    if (f->since[0]) cond(q, "enqueued_at >= now() - ", "::bigint * interval '1 millisecond'", f->since);
    if (f->until[0]) cond(q, "enqueued_at < now() - ", "::bigint * interval '1 millisecond'", f->until);
    if (f->before && f->cursor_ts[0] == '-') {
        cond(q, "(enqueued_at IS NOT NULL OR job_id < ", ")", f->cursor_id);
    } else if (f->before) {
        cond(q, "(enqueued_at, job_id) < (", "::timestamptz", f->cursor_ts);
        q->params[q->n++] = f->cursor_id;
        sbuf_printf(&q->sql, ", $%d)", q->n);
    }
    q->params[q->n++] = f->limit;
    sbuf_printf(&q->sql, " ORDER BY enqueued_at DESC NULLS FIRST, job_id DESC LIMIT $%d::int + 1", q->n);
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
cursor_parse(filters *f)
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

static int
ms_opt(const char *v, const char *opt, char *out, size_t len)
{
    int64_t ms;
    if (ops_duration(v, &ms, "jobs", opt) < 0) return EX_USAGE_;
    snprintf(out, len, "%lld", (long long)ms);
    return 0;
}

enum { O_STATUS = 256, O_QUEUE, O_SERVICE, O_ACTION, O_TARGET, O_TTYPE, O_ACTOR, O_TEXT, O_SINCE, O_UNTIL, O_BEFORE, O_JSON };

static int
one_opt(int o, const char *v, filters *f)
{
    switch (o) {
    case O_STATUS:
        f->status = v;
        if (status_list(v, f->status_array, sizeof(f->status_array)) == 0) return 0;
        fprintf(stderr, "syncq jobs: bad --status \"%s\" (use a comma list of: queued running retrying success dead "
                        "conflict superseded)\n", v);
        return EX_USAGE_;
    case O_QUEUE: f->queue = v; return 0;
    case O_SERVICE: f->service = v; return 0;
    case O_ACTION: f->action = v; return 0;
    case O_TARGET: f->target = v; return 0;
    case O_TTYPE: f->target_type = v; return 0;
    case O_ACTOR: f->actor = v; return 0;
    case O_TEXT: f->text = v; return 0;
    case O_SINCE: return ms_opt(v, "since", f->since, sizeof(f->since));
    case O_UNTIL: return ms_opt(v, "until", f->until, sizeof(f->until));
    case O_JSON: f->as_json = 1; return 0;
    case O_BEFORE:
        f->before = v;
        if (cursor_parse(f) == 0) return 0;
        fprintf(stderr, "syncq jobs: bad cursor \"%s\" (pass the one printed under a page)\n", v);
        return EX_USAGE_;
    case 'n': return cli_limit_opt("jobs", v, MAX_LIMIT, f->limit, sizeof(f->limit));
    default: fputs(usage, stderr); return EX_USAGE_;
    }
}

static int
parse(int argc, char **argv, filters *f)
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
    memset(f, 0, sizeof(*f));
    snprintf(f->limit, sizeof(f->limit), "%d", DEFAULT_LIMIT);
    optind = 1;
    while ((o = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        if (o == 'h') {
            fputs(usage, stdout);
            return EX_OK_;
        }
        if ((rc = one_opt(o, optarg, f)) != 0) return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "syncq jobs: unexpected argument \"%s\"\n%s", argv[optind], usage);
        return EX_USAGE_;
    }
    return -1;
}

/* ---------------------------------------------------------------- Output */

enum { C_KEY, C_ID, C_QUEUE, C_SERVICE, C_ACTION, C_STATUS, C_ATTEMPTS, C_DURATION, C_TTYPE, C_TID, C_ACTOR,
       C_ERROR, C_FROM, C_COUNT };

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
    const char *dur = db_value(r, i, C_DURATION);
    char *err = jobs_masked(db_value(r, i, C_ERROR)); /* escaped already */
    snprintf(what, sizeof(what), "%s/%s", val(r, i, C_SERVICE), val(r, i, C_ACTION));
    snprintf(target, sizeof(target), "%s%s%s", val(r, i, C_TTYPE), db_value(r, i, C_TTYPE) ? ":" : "",
             val(r, i, C_TID));
    snprintf(when, sizeof(when), "%.19s%s", val(r, i, C_KEY), val(r, i, C_KEY)[0] == '-' ? "" : "Z");
    const char *cells[] = {cli_tty(when), cli_tty(val(r, i, C_ID)), cli_tty(val(r, i, C_QUEUE)), cli_tty(what),
                           cli_tty(val(r, i, C_STATUS)), cli_tty(val(r, i, C_ATTEMPTS)),
                           dur ? ops_fmt_ms(atoll(dur), d, sizeof(d)) : "-", target[0] ? cli_tty(target) : "-",
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
    sbuf_addc(b, '{');
    for (int c = 0; c < C_COUNT; c++) {
        const char *v = db_value(r, i, c);
        sbuf_json_key(b, keys[c]);
        if (c == C_ATTEMPTS || c == C_DURATION) {
            sbuf_adds(b, v ? v : "null");
        } else if (c == C_ERROR) {
            char *m = jobs_scrubbed(v);
            sbuf_json_strz(b, m);
            free(m);
        } else {
            sbuf_json_strz(b, v);
        }
    }
    sbuf_addc(b, '}');
}

static void
print_json(const db_result *r, int rows, const char *next)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "{\"jobs\":[");
    for (int i = 0; i < rows; i++) {
        if (i) sbuf_addc(&b, ',');
        json_row(&b, r, i);
    }
    sbuf_adds(&b, "]");
    sbuf_json_key(&b, "next_cursor");
    sbuf_json_strz(&b, next);
    sbuf_adds(&b, "}\n");
    fwrite(b.buf, 1, b.len, stdout);
    sbuf_free(&b);
}

/* ---------------------------------------------------------------- Command */

int
jobs_list(config *cfg, int argc, char **argv)
{
    filters f;
    query q;
    db d;
    sbuf next;
    int rc = parse(argc, argv, &f);
    if (rc >= 0) return rc;
    if ((rc = ops_db(&d, cfg, "jobs", 0)) != 0) return rc;
    memset(&q, 0, sizeof(q));
    sbuf_init(&q.sql);
    sbuf_init(&next);
    build(&q, &f);
    db_result *r = db_query(&d, q.sql.buf, q.n, q.params);
    if (!r) {
        fprintf(stderr, "syncq jobs: PostgreSQL: %s\n", d.errstr);
        rc = db_alive(&d) ? EX_SOFTWARE_ : EX_UNAVAILABLE_;
        goto out;
    }
    int rows = db_ntuples(r), limit = atoi(f.limit), more = rows > limit;
    if (more) rows = limit;
    if (more) sbuf_printf(&next, "%s,%s", val(r, rows - 1, C_KEY), val(r, rows - 1, C_ID));
    if (f.as_json) print_json(r, rows, more ? next.buf : NULL);
    else print_text(r, rows, more ? next.buf : NULL);
    db_result_free(r);
    rc = EX_OK_;
out:
    sbuf_free(&next);
    sbuf_free(&q.sql);
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
