/* cli_snapshot.c - `syncq snapshot ls`: the local snapshot of one outside
 * resource (syncq_snapshots, docs/DESIGN.md §8), a keyset page at a time, under the
 * last successful sync of each scope (the view syncq_last_sync).
 *
 * Pages are keyset pages in (scope, external_id) order, the order of the
 * primary key, so a page costs the same wherever it starts and a sync running
 * between two pages neither repeats nor skips rows that stay. The cursor is
 * the key of the last row printed, both parts percent-encoded (everything
 * outside A-Z a-z 0-9 - . _ ~) and joined by a comma: any scope or id
 * survives the round trip, and the cursor needs no quoting in a shell.
 * Rejected: base64 (opaque to a person reading it) and the raw key with a
 * separator (ids may hold any character, the separator included).
 *
 * The CLI does not read the services file, so it does not know a resource's
 * sync_action: the header takes the syncs of the service whose action is
 * "sync_RESOURCE" (the default) or ends in "_RESOURCE", and names the action
 * it found. */
#include "fmacros.h"
#include "cli_jobs.h"
#include "cli_ops.h"
#include "pct.h"
#include "snapshot.h"
#include "tty.h"
#include "utf8.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 1000
#define DATA_COLUMN 60  /* characters of data in the table */
#define ERROR_COLUMN 60 /* characters of sync_error in the table */
#define HASH_COLUMN 12  /* characters of content_hash in the table */
#define ID_COLUMN_MAX 40 /* widest scope or external_id column (longer values overflow it) */

static const char usage[] =
    "usage: syncq snapshot ls SERVICE RESOURCE [--scope S] [--status synced|pending|failed]\n"
    "                         [--limit N] [--after CURSOR] [--json]\n"
    "\n"
    "Lists the local snapshot of a service's resource (syncq_snapshots) in (scope, external_id)\n"
    "order, under the last successful sync of each scope (actions sync_RESOURCE or *_RESOURCE).\n"
    "      --scope S           one scope only (a DNS zone, an account)\n"
    "      --status S          synced, pending (a mutation in flight) or failed\n"
    "  -n, --limit N           rows per page (default 50, at most 1000)\n"
    "      --after CURSOR      the next page: the cursor printed under the previous one\n"
    "      --json              one JSON object per row and line (every column, data as JSON,\n"
    "                          and the row's cursor); the next page's cursor goes to stderr\n"
    "\n"
    "Exit codes: 0 ok, 64 usage, 69 PostgreSQL unavailable, 70 a query failed.\n";

static const char *const statuses[] = {"synced", "pending", "failed"};

/* ---------------------------------------------------------------- Cursor */

/* put_part appends s percent-encoded (everything outside the unreserved set). */
static void
put_part(sbuf *b, const char *s)
{
    size_t cap = strlen(s) * 3 + 1;
    char *enc = xmalloc(cap);
    (void)pct_encode(s, PCT_UNRESERVED, enc, cap); /* 3 bytes a byte always fit */
    sbuf_adds(b, enc);
    free(enc);
}

/* get_part decodes s[0..n) into a malloc'd string; NULL when an escape is
 * malformed, decodes to NUL, or a character should have been escaped. */
static char *
get_part(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    if (pct_decode(s, n, PCT_PLAIN_ONLY, out, n + 1) >= 0) return out;
    free(out);
    return NULL;
}

/* cursor_encode appends the cursor of the row (scope, id). */
static void
cursor_encode(sbuf *b, const char *scope, const char *id)
{
    put_part(b, scope);
    sbuf_addc(b, ',');
    put_part(b, id);
}

/* cursor_decode splits a cursor into its scope and id (malloc'd). 0 or -1. */
static int
cursor_decode(const char *c, char **scope, char **id)
{
    const char *comma = strchr(c, ',');
    *scope = *id = NULL;
    if (!comma || strchr(comma + 1, ',')) return -1;
    *scope = get_part(c, (size_t)(comma - c));
    *id = get_part(comma + 1, strlen(comma + 1));
    if (*scope && *id && **id) return 0;
    free(*scope);
    free(*id);
    *scope = *id = NULL;
    return -1;
}

/* ---------------------------------------------------------------- Flags */

typedef struct ls_opts {
    const char *service, *resource, *scope, *status;
    char *after_scope, *after_id; /* owned, NULL without --after */
    char limit[24];
    int as_json;
} ls_opts;

enum { O_SCOPE = 256, O_STATUS, O_AFTER, O_JSON };

static int
one_opt(int o, const char *v, ls_opts *f)
{
    switch (o) {
    case O_SCOPE: f->scope = v; return 0;
    case O_JSON: f->as_json = 1; return 0;
    case O_STATUS:
        for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
            if (!strcmp(v, statuses[k])) {
                f->status = v;
                return 0;
            }
        fprintf(stderr, "syncq snapshot ls: bad --status \"%s\" (synced, pending or failed)\n", v);
        return SYNCQ_EX_USAGE;
    case O_AFTER:
        free(f->after_scope);
        free(f->after_id);
        if (cursor_decode(v, &f->after_scope, &f->after_id) == 0) return 0;
        fprintf(stderr, "syncq snapshot ls: bad cursor \"%s\" (pass the one printed under a page)\n", v);
        return SYNCQ_EX_USAGE;
    case 'n': return cli_limit_opt("snapshot ls", v, MAX_LIMIT, f->limit, sizeof(f->limit));
    default: fputs(usage, stderr); return SYNCQ_EX_USAGE;
    }
}

/* parse fills f from argv (argv[0] is "ls"). Returns an exit code when the
 * command is done (help, usage error), -1 to go on. */
static int
parse(int argc, char **argv, ls_opts *f)
{
    static const struct option opts[] = {
        {"scope", required_argument, NULL, O_SCOPE}, {"status", required_argument, NULL, O_STATUS},
        {"after", required_argument, NULL, O_AFTER}, {"json", no_argument, NULL, O_JSON},
        {"limit", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int o, rc;
    snprintf(f->limit, sizeof(f->limit), "%d", DEFAULT_LIMIT);
    optind = 1;
    while ((o = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        if (o == 'h') {
            fputs(usage, stdout);
            return SYNCQ_EX_OK;
        }
        if ((rc = one_opt(o, optarg, f)) != 0) return rc;
    }
    if (argc - optind != 2) {
        fprintf(stderr, "syncq snapshot ls: %s\n%s", argc - optind < 2 ? "SERVICE and RESOURCE are required"
                                                                       : "too many arguments", usage);
        return SYNCQ_EX_USAGE;
    }
    f->service = argv[optind];
    f->resource = argv[optind + 1];
    return -1;
}

/* ---------------------------------------------------------------- Queries */

static snap_ls_filter
ls_filter(const ls_opts *f)
{
    snap_ls_filter q = {f->service, f->resource, f->scope, f->status, f->after_scope, f->after_id, f->limit};
    return q;
}

/* failed prints why a query failed; the exit code. */
static int
failed(const db *d)
{
    fprintf(stderr, "syncq snapshot ls: PostgreSQL: %s\n", d->errstr);
    return db_alive(d) ? SYNCQ_EX_SOFTWARE : SYNCQ_EX_UNAVAILABLE;
}

/* ---------------------------------------------------------------- Output */

static const char *
val(const db_result *r, int row, int col)
{
    const char *s = db_value(r, row, col);
    return s ? s : "";
}

/* cell copies s for a table cell: control characters become '?', "" is "-". */
static char *
cell(const char *s)
{
    return tty_str(s && *s ? s : "-");
}

/* excerpt copies at most max characters of s (whole UTF-8 sequences) and
 * "..." when it cut; malloc'd. */
static char *
excerpt(const char *s, int max)
{
    size_t n = strlen(s), i = 0;
    int chars = 0;
    while (i < n && chars < max) {
        size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);
        i += k ? k : 1;
        chars++;
    }
    char *out = xmalloc(i + 4);
    memcpy(out, s, i);
    strcpy(out + i, i < n ? "..." : "");
    return out;
}

static void
print_last(const db_result *r, const ls_opts *f)
{
    int rows = db_ntuples(r);
    printf("last successful sync of %s/%s%s\n", cli_tty(f->service), cli_tty(f->resource), rows ? " by scope:" : ": never");
    for (int i = 0; i < rows; i++) {
        char *scope = cell(val(r, i, SNAP_LAST_SCOPE));
        const char *at = db_value(r, i, SNAP_LAST_AT);
        if (at) printf("  %-30s %.19sZ  %s\n", scope, cli_tty(at), cli_tty(val(r, i, SNAP_LAST_ACTION)));
        else printf("  %-30s never\n", scope);
        free(scope);
    }
    printf("\n");
}

static int
width(const db_result *r, int rows, int col, int min)
{
    int w = min;
    for (int i = 0; i < rows; i++) {
        int n = (int)strlen(val(r, i, col));
        if (n > w) w = n < ID_COLUMN_MAX ? n : ID_COLUMN_MAX;
    }
    return w;
}

static void
text_row(const db_result *r, int i, int ws, int wi)
{
    char *scope = cell(val(r, i, SNAP_LS_SCOPE)), *id = cell(val(r, i, SNAP_LS_ID));
    char *data = excerpt(cli_tty(val(r, i, SNAP_LS_DATA)), DATA_COLUMN), *err = jobs_masked(db_value(r, i, SNAP_LS_ERROR));
    char *err_cut = err ? excerpt(err, ERROR_COLUMN) : NULL;
    printf("%-*s  %-*s  %-7s  %.19sZ  %-*.*s  ", ws, scope, wi, id, cli_tty(val(r, i, SNAP_LS_STATUS)),
           cli_tty(val(r, i, SNAP_LS_WRITTEN)), HASH_COLUMN, HASH_COLUMN, cli_tty(val(r, i, SNAP_LS_HASH)));
    if (err_cut) printf("%-*s  %s\n", DATA_COLUMN + 3, data, err_cut);
    else printf("%s\n", data);
    free(err_cut);
    free(err);
    free(data);
    free(id);
    free(scope);
}

static void
print_text(const db_result *r, int rows, const char *next)
{
    int ws = width(r, rows, SNAP_LS_SCOPE, 5), wi = width(r, rows, SNAP_LS_ID, 11);
    printf("%-*s  %-*s  %-7s  %-20s  %-*s  %-*s  %s\n", ws, "SCOPE", wi, "EXTERNAL_ID", "STATUS", "WRITTEN_AT",
           HASH_COLUMN, "HASH", DATA_COLUMN + 3, "DATA", "ERROR");
    for (int i = 0; i < rows; i++) text_row(r, i, ws, wi);
    if (rows == 0) printf("(no rows)\n");
    if (next) printf("next page: --after '%s'\n", next);
}

static void
json_row(sbuf *b, const db_result *r, int i, const ls_opts *f)
{
    static const char *keys[] = {"scope", "external_id", "sync_status", "written_at", "content_hash",
                                 "sync_error", "data", "last_synced_at", "written_by"};
    _Static_assert(sizeof(keys) / sizeof(keys[0]) == SNAP_LS_NCOLS, "a key per column of snap_list");
    sbuf_addc(b, '{');
    sbuf_json_key(b, "service");
    sbuf_json_strz(b, f->service);
    sbuf_json_key(b, "resource");
    sbuf_json_strz(b, f->resource);
    for (int c = 0; c < SNAP_LS_NCOLS; c++) {
        const char *v = db_value(r, i, c);
        sbuf_json_key(b, keys[c]);
        if (c == SNAP_LS_DATA) {
            sbuf_adds(b, v); /* jsonb text: JSON already */
        } else if (c == SNAP_LS_ERROR) {
            char *m = jobs_scrubbed(v);
            sbuf_json_strz(b, m);
            free(m);
        } else {
            sbuf_json_strz(b, v);
        }
    }
    sbuf_json_key(b, "cursor");
    sbuf_addc(b, '"');
    cursor_encode(b, val(r, i, SNAP_LS_SCOPE), val(r, i, SNAP_LS_ID)); /* only unreserved characters, '%' and ',' */
    sbuf_adds(b, "\"}\n");
}

static void
print_json(const db_result *r, int rows, const char *next, const ls_opts *f)
{
    sbuf b;
    sbuf_init(&b);
    for (int i = 0; i < rows; i++) json_row(&b, r, i, f);
    if (b.len) fwrite(b.buf, 1, b.len, stdout);
    sbuf_free(&b);
    if (next) fprintf(stderr, "next page: --after '%s'\n", next);
}

/* ---------------------------------------------------------------- Command */

/* list runs both queries and prints them. Returns an exit code. */
static int
list(db *d, const ls_opts *f)
{
    sbuf next;
    db_result *r = NULL, *last = NULL;
    int rc = SYNCQ_EX_OK;
    snap_ls_filter q = ls_filter(f);
    sbuf_init(&next);
    if (!(r = snap_list(d, &q))) {
        rc = failed(d);
        goto out;
    }
    if (!f->as_json) {
        if (!(last = snap_last_syncs(d, &q))) {
            rc = failed(d);
            goto out;
        }
        print_last(last, f);
    }
    int rows = db_ntuples(r), limit = atoi(f->limit), more = rows > limit;
    if (more) rows = limit;
    if (more) cursor_encode(&next, val(r, rows - 1, SNAP_LS_SCOPE), val(r, rows - 1, SNAP_LS_ID));
    if (f->as_json) print_json(r, rows, more ? next.buf : NULL, f);
    else print_text(r, rows, more ? next.buf : NULL);
out:
    db_result_free(last);
    db_result_free(r);
    sbuf_free(&next);
    return rc;
}

static int
snapshot_ls(config *cfg, int argc, char **argv)
{
    ls_opts f;
    db d;
    memset(&f, 0, sizeof(f));
    int rc = parse(argc, argv, &f);
    if (rc >= 0) goto out;
    if ((rc = ops_db(&d, cfg, "snapshot ls", 0)) != 0) goto out;
    rc = list(&d, &f);
    db_close(&d);
out:
    free(f.after_scope);
    free(f.after_id);
    return rc;
}

int
cli_snapshot(config *cfg, int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "ls")) return snapshot_ls(cfg, argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return SYNCQ_EX_OK;
    }
    if (argc >= 2) fprintf(stderr, "syncq snapshot: unknown verb \"%s\"\n", argv[1]);
    fputs(usage, stderr);
    return SYNCQ_EX_USAGE;
}
