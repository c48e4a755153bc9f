/* cli_dlq_show.c - `syncq dlq ls` and `syncq dlq show`: dead-letter jobs as a
 * table, JSON lines, or one job in full. Secrets stay masked (payload through
 * mask.h, the error through mask_string) unless show --reveal. */
#include "fmacros.h"
#include "cli_dlq.h"
#include "mask.h"
#include "sbuf.h"
#include "tty.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_COLS 120 /* the table fits this width; the error column gets what is left */
#define ERROR_MIN 24

/* One job, loaded and parsed, with the masked texts every output shows. */
typedef struct shown {
    const dlq_target *t;
    const char *queue;
    char *text;      /* owned: the entry bytes (e.w.raw points into them) */
    size_t len;
    dead_entry e;
    char *error;     /* owned: the error, masked unless reveal; NULL for none */
    char *payload;   /* owned: JSON text, masked unless reveal; NULL for none */
} shown;

/* ---------------------------------------------------------------- Loading */

static char *
error_text(const dead_entry *e, int reveal)
{
    if (!e->w.err[0]) return NULL;
    char *m = reveal ? NULL : mask_string(e->w.err);
    return m ? m : xstrdup(e->w.err);
}

static char *
payload_text(const dead_entry *e, int reveal)
{
    if (!reveal) return dead_masked_payload(e);
    return e->env_ok && e->env.payload ? json_print(e->env.payload) : NULL;
}

/* shown_load reads t. 1, 0 when it left the dead-letter set meanwhile, or -1. */
static int
shown_load(dlq *d, const dlq_target *t, int reveal, shown *s)
{
    memset(s, 0, sizeof(*s));
    s->t = t;
    s->queue = dlq_queue_name(d, t->queue);
    int rc = dlq_load(d, t, &s->text, &s->len);
    if (rc <= 0) return rc;
    dead_entry_parse(&s->e, s->text, s->len, (size_t)d->cfg->max_envelope);
    s->error = error_text(&s->e, reveal);
    s->payload = payload_text(&s->e, reveal);
    return 1;
}

static void
shown_free(shown *s)
{
    dead_entry_free(&s->e);
    free(s->text);
    free(s->error);
    free(s->payload);
    s->text = s->error = s->payload = NULL;
}

/* time_text writes ms as RFC 3339 UTC, to the second unless ms_too. */
static void
time_text(int64_t ms, int ms_too, char *buf, size_t len)
{
    if (ms < 0) {
        snprintf(buf, len, "-");
        return;
    }
    rfc3339_format(ms, buf, len);
    if (!ms_too && strlen(buf) > 20) memcpy(buf + 19, "Z", 2); /* drop ".123" */
}

/* ---------------------------------------------------------------- JSON */

static void
json_field(sbuf *b, const char *key, const char *val)
{
    sbuf_json_key(b, key);
    sbuf_json_strz(b, val && *val ? val : NULL);
}

static void
json_time(sbuf *b, const char *key, int64_t ms)
{
    char ts[40];
    time_text(ms, 1, ts, sizeof(ts));
    json_field(b, key, ms >= 0 ? ts : NULL);
}

static void
json_int(sbuf *b, const char *key, int64_t v)
{
    sbuf_json_key(b, key);
    if (v > 0) sbuf_printf(b, "%lld", (long long)v);
    else sbuf_adds(b, "null");
}

/* json_summary appends the fields ls shows. */
static void
json_summary(sbuf *b, const shown *s)
{
    const envelope *env = s->e.env_ok ? &s->e.env : NULL;
    json_field(b, "id", s->t->id);
    json_field(b, "queue", s->queue);
    json_time(b, "dead_at", s->t->dead_ms);
    json_field(b, "service", env ? env->service : NULL);
    json_field(b, "action", env ? env->action : NULL);
    json_field(b, "kind", env ? envelope_kind_name(env->kind) : NULL);
    json_field(b, "target_type", env ? env->target_type : NULL);
    json_field(b, "target_id", env ? env->target_id : NULL);
    json_field(b, "scope", env ? env->scope : NULL);
    json_field(b, "actor", env ? env->actor : NULL);
    json_field(b, "error", s->error);
    json_field(b, "replayed_from", s->e.w.from);
    sbuf_json_key(b, "payload");
    sbuf_adds(b, s->payload ? s->payload : "null"); /* JSON text printed by json.c */
}

/* json_details appends what show adds to the summary. */
static void
json_details(sbuf *b, const shown *s, int reveal)
{
    const envelope *env = s->e.env_ok ? &s->e.env : NULL;
    json_field(b, "replay_root", s->e.w.root);
    json_time(b, "seen_at", s->e.w.seen_ms);
    json_field(b, "envelope_id", env ? env->id : NULL);
    json_field(b, "enqueued_at", env ? env->enqueued_at : NULL);
    json_int(b, "max_attempts", env ? env->max_attempts : 0);
    json_int(b, "timeout_ms", env ? env->timeout_ms : 0);
    json_field(b, "idempotency_key", env ? env->idempotency_key : NULL);
    json_field(b, "debounce_key", env ? env->debounce_key : NULL);
    json_field(b, "expected_hash", env ? env->expected_hash : NULL);
    json_field(b, "envelope_error", env ? NULL : s->e.env_err);
    json_int(b, "size", (int64_t)s->e.w.rawlen);
    if (!env && reveal) {
        sbuf_json_key(b, "raw");
        sbuf_json_str(b, s->e.w.raw, s->e.w.rawlen);
    }
}

static void
print_json(const shown *s, int details, int reveal)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_addc(&b, '{');
    json_summary(&b, s);
    if (details) json_details(&b, s, reveal);
    sbuf_adds(&b, "}\n");
    fwrite(b.buf, 1, b.len, stdout);
    sbuf_free(&b);
}

/* ---------------------------------------------------------------- Table */

typedef struct row {
    char dead_at[40];
    char *id, *queue, *what, *error; /* owned, escaped for the terminal */
} row;

/* flatten copies s escaped for the terminal (tty.h): a forged id or an
 * error may hold newlines, ESC or C1 sequences. */
static char *
flatten(const char *s)
{
    return tty_str(s ? s : "-");
}

static void
row_fill(row *r, const shown *s)
{
    sbuf b;
    r->id = flatten(s->t->id);
    r->queue = flatten(s->queue);
    time_text(s->t->dead_ms, 0, r->dead_at, sizeof(r->dead_at));
    sbuf_init(&b);
    if (s->e.env_ok) sbuf_printf(&b, "%s/%s", s->e.env.service, s->e.env.action);
    else sbuf_adds(&b, "-");
    r->what = flatten(b.buf);
    r->error = flatten(s->error);
    sbuf_free(&b);
}

/* width of s in columns: one per UTF-8 character (close enough for a table). */
static int
width(const char *s)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) w += (*p & 0xC0) != 0x80;
    return w;
}

/* print_cut prints s in at most cols columns, cut at a character boundary with "...". */
static void
print_cut(const char *s, int cols)
{
    if (width(s) <= cols) {
        fputs(s, stdout);
        return;
    }
    int w = 0;
    const char *p = s;
    for (; *p && w < cols - 3; p++)
        if ((*(const unsigned char *)(p + 1) & 0xC0) != 0x80) w++;
    while ((*(const unsigned char *)p & 0xC0) == 0x80) p++; /* finish the character */
    fwrite(s, 1, (size_t)(p - s), stdout);
    fputs("...", stdout);
}

static void
print_table(const row *rows, size_t n)
{
    int wi = 2, wq = 5, wa = 14;
    for (size_t i = 0; i < n; i++) {
        if (width(rows[i].id) > wi) wi = width(rows[i].id);
        if (width(rows[i].queue) > wq) wq = width(rows[i].queue);
        if (width(rows[i].what) > wa) wa = width(rows[i].what);
    }
    if (wa > 32) wa = 32;
    int we = TABLE_COLS - (wi + wq + 20 + wa + 8);
    if (we < ERROR_MIN) we = ERROR_MIN;
    printf("%-*s  %-*s  %-20s  %-*s  %s\n", wi, "ID", wq, "QUEUE", "DEAD AT (UTC)", wa, "SERVICE/ACTION", "ERROR");
    for (size_t i = 0; i < n; i++) {
        printf("%-*s  %-*s  %-20s  ", wi, rows[i].id, wq, rows[i].queue, rows[i].dead_at);
        print_cut(rows[i].what, wa);
        printf("%*s  ", wa - (width(rows[i].what) < wa ? width(rows[i].what) : wa), "");
        print_cut(rows[i].error, we);
        putchar('\n');
    }
}

/* ---------------------------------------------------------------- ls */

/* ls_rows loads the first want jobs of l: printed at once as JSON lines, or
 * kept in rows for the table (whose widths need them all). *n counts the
 * jobs shown (and rows filled). 0 or -1. */
static int
ls_rows(dlq *d, const dlq_opts *o, const dlq_list *l, size_t want, row *rows, int *n)
{
    for (size_t i = 0; i < want; i++) {
        shown s;
        int rc = shown_load(d, &l->v[i], 0, &s);
        if (rc < 0) return -1;
        if (rc == 0) continue; /* replayed or purged since the listing */
        if (o->json) print_json(&s, 0, 0);
        else row_fill(&rows[*n], &s);
        (*n)++;
        shown_free(&s);
    }
    return 0;
}

int
dlq_ls(dlq *d, const dlq_opts *o)
{
    dlq_list l;
    row *rows = NULL;
    int n = 0, rc = SYNCQ_EX_OK;
    memset(&l, 0, sizeof(l));
    if (dlq_select(d, o, &l) < 0) {
        rc = dlq_report(d, "ls");
        goto out;
    }
    size_t want = o->limit > 0 && (size_t)o->limit < l.n ? (size_t)o->limit : l.n;
    rows = xcalloc(want ? want : 1, sizeof(*rows));
    if (ls_rows(d, o, &l, want, rows, &n) < 0) {
        rc = dlq_report(d, "ls");
        goto out;
    }
    if (!o->json && n > 0) print_table(rows, (size_t)n);
    if (!o->json) printf("%d shown of %zu matching\n", n, l.n);
    else if ((size_t)n < l.n) fprintf(stderr, "syncq dlq ls: %d shown of %zu matching\n", n, l.n);
out:
    for (int i = 0; rows && !o->json && i < n; i++) {
        free(rows[i].id);
        free(rows[i].queue);
        free(rows[i].what);
        free(rows[i].error);
    }
    free(rows);
    dlq_list_free(&l);
    return rc;
}

/* ---------------------------------------------------------------- show */

/* line prints "name  value", the value escaped (tty.h): envelope fields are
 * producers' text and must not drive the terminal. */
static void
line(const char *name, const char *val)
{
    printf("%-16s %s\n", name, cli_tty(val && *val ? val : "-"));
}

/* print_raw prints bytes escaped for the terminal (tty.h), backslashes
 * doubled so the raw bytes can be read back exactly. */
static void
print_raw(const char *s, size_t n)
{
    sbuf b;
    sbuf_init(&b);
    for (size_t i = 0, run; i < n; i += run) {
        run = 0;
        while (i + run < n && s[i + run] != '\\') run++;
        tty_escape(&b, s + i, run);
        if (i + run < n) {
            sbuf_add(&b, "\\\\", 2);
            run++;
        }
    }
    if (b.len) fwrite(b.buf, 1, b.len, stdout);
    putchar('\n');
    sbuf_free(&b);
}

static void
show_envelope(const shown *s, int reveal)
{
    const envelope *env = &s->e.env;
    char num[32];
    line("kind", envelope_kind_name(env->kind));
    line("service", env->service);
    line("action", env->action);
    line("target type", env->target_type);
    line("target id", env->target_id);
    line("scope", env->scope);
    line("actor", env->actor);
    line("envelope id", env->id);
    line("enqueued at", env->enqueued_at);
    snprintf(num, sizeof(num), "%d", env->max_attempts);
    line("max attempts", env->max_attempts > 0 ? num : NULL);
    snprintf(num, sizeof(num), "%lld", (long long)env->timeout_ms);
    line("timeout ms", env->timeout_ms > 0 ? num : NULL);
    line("idempotency key", env->idempotency_key);
    line("debounce key", env->debounce_key);
    line("expected hash", env->expected_hash);
    line(reveal ? "payload (REVEALED)" : "payload", s->payload ? s->payload : "{}");
}

static void
show_text(const shown *s, int reveal)
{
    char ts[40];
    line("id", s->t->id);
    line("queue", s->queue);
    time_text(s->t->dead_ms, 0, ts, sizeof(ts));
    line("dead at", ts);
    time_text(s->e.w.seen_ms, 0, ts, sizeof(ts));
    line("first seen", ts);
    line("error", s->error);
    line("replayed from", s->e.w.from);
    line("replay root", s->e.w.root);
    printf("%-16s %zu bytes\n", "size", s->e.w.rawlen);
    if (s->e.env_ok) {
        show_envelope(s, reveal);
        return;
    }
    line("envelope", "does not parse");
    line("parse error", s->e.env_err);
    if (!reveal) {
        line("raw", "hidden (--reveal shows the raw bytes)");
        return;
    }
    printf("%-16s ", "raw (REVEALED)");
    print_raw(s->e.w.raw, s->e.w.rawlen);
}

int
dlq_show(dlq *d, const dlq_opts *o)
{
    dlq_list l;
    shown s;
    int rc = SYNCQ_EX_OK, hits, loaded = 0;
    memset(&l, 0, sizeof(l));
    memset(&s, 0, sizeof(s));
    if ((hits = dlq_find(d, o->ids[0], &l)) > 1) {
        fprintf(stderr, "syncq dlq show: %s is dead in %d queues: pass --queue\n", o->ids[0], hits);
        rc = SYNCQ_EX_USAGE;
    } else if (hits < 0 || (hits == 1 && (loaded = shown_load(d, &l.v[0], o->reveal, &s)) < 0)) {
        rc = dlq_report(d, "show");
    } else if (!loaded) {
        fprintf(stderr, "syncq dlq show: %s: not in dead-letter\n", o->ids[0]);
        rc = SYNCQ_EX_DATAERR;
    } else if (o->json) {
        print_json(&s, 1, o->reveal);
    } else {
        show_text(&s, o->reveal);
    }
    shown_free(&s);
    dlq_list_free(&l);
    return rc;
}
