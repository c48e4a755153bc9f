/* envelope.c - envelope v1: raw byte scan, parse and field validation, RFC 3339 times, building. */
#include "fmacros.h"
#include "envelope.h"
#include "sbuf.h"
#include "utf8.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENV_NAME_MAX 128 /* service, action: bytes */
#define ENV_ID_MAX 128   /* id: bytes */

/* ---------------------------------------------------------------- Byte scan */

/* The scanner runs before cJSON so that the parser never sees what PostgreSQL
 * cannot store (NUL), what cJSON would accept but jsonb would not (invalid
 * UTF-8, raw control characters in strings), or nesting deep enough to make a
 * recursive parser costly. One pass, no recursion, O(n). */
typedef struct scan {
    const unsigned char *p;
    size_t n, i;
    int in_str, esc;
    size_t depth;
} scan;

/* scan_escape handles the byte after a backslash inside a string. Only a
 * backslash that is itself unescaped starts an escape, so "\\u0000" (an
 * escaped backslash followed by u0000) is plain text. */
static envelope_err
scan_escape(scan *sc, char *err, size_t errlen)
{
    sc->esc = 0;
    if (sc->p[sc->i] == 'u' && sc->n - sc->i >= 5 && memcmp(sc->p + sc->i + 1, "0000", 4) == 0) {
        snprintf(err, errlen, "\\u0000 escape at byte %zu (NUL cannot be stored)", sc->i - 1);
        return ENV_ERR_NUL;
    }
    return ENV_OK;
}

/* scan_number checks a number token against the JSON grammar,
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, which cJSON (and Lua's
 * cjson) do not: both take "+5", "05" and "1.". sc->i is left on the token's
 * last byte. */
static envelope_err
scan_number(scan *sc, char *err, size_t errlen)
{
    size_t start = sc->i, i = sc->i, n = sc->n;
    const unsigned char *p = sc->p;
#define DIGIT(k) ((k) < n && p[k] >= '0' && p[k] <= '9')
    int ok = 1;
    if (i < n && p[i] == '-') i++;
    if (i < n && p[i] == '0') i++;
    else if (DIGIT(i)) while (DIGIT(i)) i++;
    else ok = 0;
    if (ok && i < n && p[i] == '.') {
        i++;
        if (!DIGIT(i)) ok = 0;
        while (DIGIT(i)) i++;
    }
    if (ok && i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) i++;
        if (!DIGIT(i)) ok = 0;
        while (DIGIT(i)) i++;
    }
    /* "05", "1.2.3", "1e5e5": the token goes on where the grammar ends */
    if (ok && i < n && (DIGIT(i) || p[i] == '.' || p[i] == 'e' || p[i] == 'E' || p[i] == '+' || p[i] == '-')) ok = 0;
#undef DIGIT
    if (!ok) {
        snprintf(err, errlen, "not JSON: bad number at byte %zu", start);
        return ENV_ERR_SYNTAX;
    }
    sc->i = i - 1;
    return ENV_OK;
}

static envelope_err
scan_ascii(scan *sc, char *err, size_t errlen)
{
    unsigned char c = sc->p[sc->i];
    if (sc->in_str) {
        if (sc->esc) return scan_escape(sc, err, errlen);
        if (c == '\\') sc->esc = 1;
        else if (c == '"') sc->in_str = 0;
        else if (c < 0x20) {
            snprintf(err, errlen, "unescaped control character in string at byte %zu", sc->i);
            return ENV_ERR_SYNTAX;
        }
        return ENV_OK;
    }
    if (c == '"') sc->in_str = 1;
    else if (c == '-' || (c >= '0' && c <= '9')) return scan_number(sc, err, errlen);
    else if (c == '+' || c == '.') {
        snprintf(err, errlen, "not JSON: bad number at byte %zu", sc->i);
        return ENV_ERR_SYNTAX;
    } else if (c == '[' || c == '{') {
        if (++sc->depth > ENVELOPE_MAX_DEPTH) {
            snprintf(err, errlen, "nesting deeper than %d levels at byte %zu", ENVELOPE_MAX_DEPTH, sc->i);
            return ENV_ERR_DEPTH;
        }
    } else if ((c == ']' || c == '}') && sc->depth > 0) sc->depth--;
    return ENV_OK;
}

/* envelope_scan: a max_bytes of 0 means ENVELOPE_MAX_BYTES, so a zeroed
 * config cannot turn the limit off by accident. */
envelope_err
envelope_scan(const char *s, size_t n, size_t max_bytes, char *err, size_t errlen)
{
    scan sc = {(const unsigned char *)s, n, 0, 0, 0, 0};
    if (max_bytes == 0) max_bytes = ENVELOPE_MAX_BYTES;
    if (n == 0) {
        snprintf(err, errlen, "empty message");
        return ENV_ERR_EMPTY;
    }
    if (n > max_bytes) {
        snprintf(err, errlen, "envelope is %zu bytes, over the limit of %zu", n, max_bytes);
        return ENV_ERR_TOO_LARGE;
    }
    while (sc.i < n) {
        unsigned char c = sc.p[sc.i];
        if (c == 0) {
            snprintf(err, errlen, "raw NUL byte at byte %zu", sc.i);
            return ENV_ERR_NUL;
        }
        if (c >= 0x80) {
            size_t l = utf8_seq_len(sc.p + sc.i, n - sc.i);
            if (l == 0) {
                snprintf(err, errlen, "invalid UTF-8 at byte %zu", sc.i);
                return ENV_ERR_UTF8;
            }
            sc.esc = 0; /* "\é" is not an escape: cJSON will say so */
            sc.i += l;
            continue;
        }
        envelope_err rc = scan_ascii(&sc, err, errlen);
        if (rc != ENV_OK) return rc;
        sc.i++;
    }
    return ENV_OK;
}

/* ---------------------------------------------------------------- Kinds */

static const char *const kind_names[] = {NULL, "mutation", "sync"};

const char *
envelope_kind_name(envelope_kind k)
{
    return k == KIND_MUTATION || k == KIND_SYNC ? kind_names[k] : NULL;
}

envelope_kind
envelope_kind_from(const char *s)
{
    if (!s) return KIND_NONE;
    if (strcmp(s, "mutation") == 0) return KIND_MUTATION;
    if (strcmp(s, "sync") == 0) return KIND_SYNC;
    return KIND_NONE;
}

/* ---------------------------------------------------------------- Duplicate keys */

static int
cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* printable copies a name for a one-line message: control bytes become '?'. */
static void
printable(const char *s, char *out, size_t outlen)
{
    size_t i;
    for (i = 0; s[i] && i + 1 < outlen; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    out[i] = '\0';
}

/* check_dup_keys rejects an object naming a member twice: cJSON keeps the
 * first, PostgreSQL jsonb the last, so the worker and the audit would
 * disagree. Sorting the key pointers keeps this O(k log k). */
static envelope_err
check_dup_keys(const json *root, char *err, size_t errlen)
{
    size_t k = json_size(root), i = 0;
    const char **keys = xmalloc(k * sizeof(*keys));
    envelope_err rc = ENV_OK;
    for (json *m = json_child(root); m && i < k; m = json_next(m)) keys[i++] = json_key(m);
    qsort(keys, i, sizeof(*keys), cmp_key);
    for (size_t j = 1; j < i; j++) {
        if (strcmp(keys[j - 1], keys[j]) == 0) {
            char name[64];
            printable(keys[j], name, sizeof(name));
            snprintf(err, errlen, "duplicate top-level key \"%s\"", name);
            rc = ENV_ERR_DUP_KEY;
            break;
        }
    }
    free(keys);
    return rc;
}

/* ---------------------------------------------------------------- Fields */

/* member returns the value of a field, NULL when absent. JSON null counts as
 * absent for every field, so a producer may send explicit nulls. */
static json *
member(const json *root, const char *name)
{
    json *v = json_get(root, name);
    return json_typeof(v) == JSON_NULL ? NULL : v;
}

static int
field_err(char *err, size_t errlen, const char *name, const char *what)
{
    snprintf(err, errlen, "field \"%s\" %s", name, what);
    return -1;
}

/* opt_str reads an optional string field; *out stays NULL when absent. */
static int
opt_str(const json *root, const char *name, const char **out, char *err, size_t errlen)
{
    const json *v = member(root, name);
    *out = NULL;
    if (!v) return 0;
    if (json_typeof(v) != JSON_STRING) return field_err(err, errlen, name, "must be a string");
    *out = json_str(v);
    return 0;
}

/* name_str reads service or action: required, 1..128 bytes, no control characters. */
static int
name_str(const json *root, const char *name, const char **out, char *err, size_t errlen)
{
    if (opt_str(root, name, out, err, errlen)) return -1;
    if (!*out) {
        snprintf(err, errlen, "missing required field \"%s\"", name);
        return -1;
    }
    size_t len = strlen(*out);
    if (len == 0) return field_err(err, errlen, name, "must not be empty");
    if (len > ENV_NAME_MAX) return field_err(err, errlen, name, "must be at most 128 bytes");
    for (const unsigned char *p = (const unsigned char *)*out; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return field_err(err, errlen, name, "must not contain control characters");
    return 0;
}

/* opt_int reads an optional integer through its double value: it must be
 * integral and in [min,max] (which also rules out NaN and infinities). The
 * range test comes first so the cast is always defined. */
static int
opt_int(const json *root, const char *name, int64_t min, int64_t max, int64_t *out, char *err, size_t errlen)
{
    const json *v = member(root, name);
    if (!v) return 0;
    double d = json_num(v);
    if (json_typeof(v) == JSON_NUMBER && d >= (double)min && d <= (double)max && (double)(int64_t)d == d) {
        *out = (int64_t)d;
        return 0;
    }
    if (min == max) snprintf(err, errlen, "field \"%s\" must be %" PRId64, name, min);
    else snprintf(err, errlen, "field \"%s\" must be an integer in %" PRId64 "..%" PRId64, name, min, max);
    return -1;
}

static int
read_kind(const json *root, envelope *e, char *err, size_t errlen)
{
    const char *k;
    if (opt_str(root, "kind", &k, err, errlen)) return -1;
    if (!k) {
        snprintf(err, errlen, "missing required field \"kind\"");
        return -1;
    }
    e->kind = envelope_kind_from(k);
    if (e->kind == KIND_NONE) return field_err(err, errlen, "kind", "must be \"mutation\" or \"sync\"");
    return 0;
}

static int
read_id(const json *root, envelope *e, char *err, size_t errlen)
{
    if (opt_str(root, "id", &e->id, err, errlen)) return -1;
    if (!e->id) return 0;
    size_t len = strlen(e->id);
    int ok = len >= 1 && len <= ENV_ID_MAX;
    for (size_t i = 0; ok && i < len; i++) ok = e->id[i] > 0x20 && e->id[i] < 0x7f;
    if (!ok) return field_err(err, errlen, "id", "must be 1..128 printable ASCII characters without spaces");
    return 0;
}

static int
read_strings(const json *root, envelope *e, char *err, size_t errlen)
{
    if (name_str(root, "service", &e->service, err, errlen) ||
        name_str(root, "action", &e->action, err, errlen) ||
        opt_str(root, "target_type", &e->target_type, err, errlen) ||
        opt_str(root, "target_id", &e->target_id, err, errlen) ||
        opt_str(root, "scope", &e->scope, err, errlen) ||
        opt_str(root, "actor", &e->actor, err, errlen) ||
        opt_str(root, "idempotency_key", &e->idempotency_key, err, errlen) ||
        opt_str(root, "debounce_key", &e->debounce_key, err, errlen) ||
        opt_str(root, "expected_hash", &e->expected_hash, err, errlen))
        return -1;
    /* docs/PROTOCOL.md: mutations are never debounced. */
    if (e->debounce_key && e->kind != KIND_SYNC)
        return field_err(err, errlen, "debounce_key", "is only allowed when kind is \"sync\"");
    return 0;
}

static int
read_ints(const json *root, envelope *e, char *err, size_t errlen)
{
    int64_t v = 1, max_attempts = 0, attempt = 0;
    if (opt_int(root, "v", 1, 1, &v, err, errlen) ||
        opt_int(root, "max_attempts", 1, 1000, &max_attempts, err, errlen) ||
        opt_int(root, "timeout_ms", 1, 86400000, &e->timeout_ms, err, errlen) ||
        opt_int(root, "idempotency_ttl_s", 1, 31536000, &e->idempotency_ttl_s, err, errlen) ||
        opt_int(root, "debounce_ms", 0, 86400000, &e->debounce_ms, err, errlen) ||
        opt_int(root, "attempt", 0, INT32_MAX, &attempt, err, errlen) ||
        opt_int(root, "delay_ms", 0, 31536000000LL, &e->delay_ms, err, errlen) ||
        opt_int(root, "debounce_max_ms", 1, 86400000, &e->debounce_max_ms, err, errlen))
        return -1;
    e->v = (int)v;
    e->max_attempts = (int)max_attempts;
    e->attempt = (int)attempt;
    return 0;
}

static int
read_rest(const json *root, envelope *e, char *err, size_t errlen)
{
    json *p = member(root, "payload");
    if (p && json_typeof(p) != JSON_OBJECT) return field_err(err, errlen, "payload", "must be an object");
    e->payload = p;
    e->enqueued_at_ms = -1;
    if (opt_str(root, "enqueued_at", &e->enqueued_at, err, errlen)) return -1;
    /* Before 1970 would collide with the -1 "absent" marker, and is a clock bug anyway. */
    if (e->enqueued_at && (rfc3339_parse(e->enqueued_at, &e->enqueued_at_ms) || e->enqueued_at_ms < 0))
        return field_err(err, errlen, "enqueued_at", "must be an RFC 3339 time (e.g. 2026-11-24T10:00:00Z)");
    const char *run_at;
    e->run_at_ms = -1;
    if (opt_str(root, "run_at", &run_at, err, errlen)) return -1;
    if (run_at && (rfc3339_parse(run_at, &e->run_at_ms) || e->run_at_ms < 0))
        return field_err(err, errlen, "run_at", "must be an RFC 3339 time (e.g. 2026-11-24T10:00:00Z)");
    return 0;
}

/* room is what syncq_enqueue adds for a member it fills in: "id":"<36>",
 * (44 bytes) or "enqueued_at":"2026-11-24T10:00:00.000Z", (41) when absent;
 * when null it replaces the null with the quoted value (34, 22). */
static size_t
room(const json *root, const char *name, size_t absent, size_t null)
{
    const json *v = json_get(root, name);
    if (!v) return absent;
    return json_typeof(v) == JSON_NULL ? null : 0;
}

/* check_stored_len applies the size limit to the envelope as it is stored in
 * the queue, after syncq_enqueue has filled in id and enqueued_at, so the
 * function and the worker give the same verdict on the same bytes
 * (docs/PROTOCOL.md, "Size"). */
static envelope_err
check_stored_len(const json *root, size_t n, size_t max_bytes, char *err, size_t errlen)
{
    if (max_bytes == 0) max_bytes = ENVELOPE_MAX_BYTES;
    size_t stored = n + room(root, "id", ENVELOPE_ID_ROOM, ENVELOPE_ID_ROOM - 10) +
                    room(root, "enqueued_at", ENVELOPE_AT_ROOM, ENVELOPE_AT_ROOM - 19);
    if (stored <= max_bytes) return ENV_OK;
    snprintf(err, errlen, "envelope is %zu bytes once id and enqueued_at are filled in, over the limit of %zu",
             stored, max_bytes);
    return ENV_ERR_TOO_LARGE;
}

envelope_err
envelope_parse(const char *s, size_t n, size_t max_bytes, envelope *e, char *err, size_t errlen)
{
    envelope tmp;
    char jerr[128];
    envelope_err rc;

    memset(e, 0, sizeof(*e));
    memset(&tmp, 0, sizeof(tmp));
    rc = envelope_scan(s, n, max_bytes, err, errlen);
    if (rc != ENV_OK) return rc;
    tmp.root = json_parse(s, n, jerr, sizeof(jerr));
    if (!tmp.root) {
        snprintf(err, errlen, "not JSON: %s", jerr);
        return ENV_ERR_SYNTAX;
    }
    if (json_typeof(tmp.root) != JSON_OBJECT) {
        snprintf(err, errlen, "envelope must be a JSON object");
        rc = ENV_ERR_NOT_OBJECT;
        goto fail_tree;
    }
    rc = check_dup_keys(tmp.root, err, errlen);
    if (rc != ENV_OK) goto fail_tree;
    if (read_kind(tmp.root, &tmp, err, errlen) || read_id(tmp.root, &tmp, err, errlen) ||
        read_strings(tmp.root, &tmp, err, errlen) || read_ints(tmp.root, &tmp, err, errlen) ||
        read_rest(tmp.root, &tmp, err, errlen)) {
        rc = ENV_ERR_FIELD;
        goto fail_tree;
    }
    if (check_stored_len(tmp.root, n, max_bytes, err, errlen) != ENV_OK) {
        rc = ENV_ERR_TOO_LARGE;
        goto fail_tree;
    }
    *e = tmp;
    return ENV_OK;

fail_tree:
    json_free(tmp.root);
    return rc;
}

int
envelope_id_of(const char *s, size_t n, size_t max_bytes, char *out, size_t outlen)
{
    char err[128];
    envelope tmp;
    out[0] = '\0';
    if (envelope_scan(s, n, max_bytes, err, sizeof(err)) != ENV_OK) return -1;
    memset(&tmp, 0, sizeof(tmp));
    json *root = json_parse(s, n, err, sizeof(err));
    int rc = -1;
    if (root && json_typeof(root) == JSON_OBJECT && check_dup_keys(root, err, sizeof(err)) == ENV_OK &&
        read_id(root, &tmp, err, sizeof(err)) == 0 && tmp.id && strlen(tmp.id) < outlen) {
        memcpy(out, tmp.id, strlen(tmp.id) + 1);
        rc = 0;
    }
    json_free(root);
    return rc;
}

void
envelope_free(envelope *e)
{
    if (!e) return;
    json_free(e->root);
    memset(e, 0, sizeof(*e));
}

/* ---------------------------------------------------------------- RFC 3339 */

/* days_from_civil and civil_from_days are H. Hinnant's proleptic Gregorian
 * algorithms: exact for any year, and free of timegm(), which is neither
 * standard C nor independent of the TZ environment on every libc. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* digits reads exactly n decimal digits at *s, advancing it. -1 when not digits. */
static int
digits(const char **s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*s)++) {
        if (**s < '0' || **s > '9') return -1;
        v = v * 10 + (**s - '0');
    }
    return v;
}

/* parse_offset reads Z or +hh:mm / -hh:mm into minutes east of UTC. */
static int
parse_offset(const char *s, int *min)
{
    if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
        *min = 0;
        return 0;
    }
    if (s[0] != '+' && s[0] != '-') return -1;
    const char *p = s + 1;
    int hh = digits(&p, 2);
    if (hh < 0 || hh > 23 || *p++ != ':') return -1;
    int mm = digits(&p, 2);
    if (mm < 0 || mm > 59 || *p != '\0') return -1;
    *min = (s[0] == '-' ? -1 : 1) * (hh * 60 + mm);
    return 0;
}

/* parse_frac reads optional .ddd... and returns milliseconds (extra digits truncate). */
static int
parse_frac(const char **s)
{
    int ms = 0, nd = 0;
    if (**s != '.') return 0;
    (*s)++;
    for (; **s >= '0' && **s <= '9'; (*s)++, nd++)
        if (nd < 3) ms = ms * 10 + (**s - '0');
    if (nd == 0) return -1;
    for (; nd < 3; nd++) ms *= 10;
    return ms;
}

static int
parse_date(const char **p, int *y, int *mo, int *d)
{
    if ((*y = digits(p, 4)) < 0 || *(*p)++ != '-') return -1;
    if ((*mo = digits(p, 2)) < 1 || *mo > 12 || *(*p)++ != '-') return -1;
    *d = digits(p, 2);
    return *d >= 1 && *d <= (int)days_in_month(*y, (unsigned)*mo) ? 0 : -1;
}

static int
parse_time(const char **p, int *h, int *mi, int *sec)
{
    if ((*h = digits(p, 2)) < 0 || *h > 23 || *(*p)++ != ':') return -1;
    if ((*mi = digits(p, 2)) < 0 || *mi > 59 || *(*p)++ != ':') return -1;
    *sec = digits(p, 2);
    return *sec >= 0 && *sec <= 60 ? 0 : -1;
}

int
rfc3339_parse(const char *s, int64_t *ms)
{
    const char *p = s;
    int y, mo, d, h, mi, sec, frac, off;
    if (!s || parse_date(&p, &y, &mo, &d) || (*p != 'T' && *p != 't')) return -1;
    p++;
    if (parse_time(&p, &h, &mi, &sec) || (frac = parse_frac(&p)) < 0 || parse_offset(p, &off)) return -1;
    /* A leap second (:60) lands on the next minute's :00, as POSIX time does. */
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    *ms = (secs - (int64_t)off * 60) * 1000 + frac;
    return 0;
}

void
rfc3339_format(int64_t ms, char *buf, size_t len)
{
    int64_t days = ms / 86400000, rem = ms % 86400000, y;
    unsigned m, d;
    if (rem < 0) { /* floor division, for times before 1970 */
        rem += 86400000;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, (int)(rem / 3600000),
             (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
}

/* ---------------------------------------------------------------- Building */

static void
add_str(sbuf *b, const char *key, const char *val)
{
    if (!val) return;
    sbuf_json_key(b, key);
    sbuf_json_strz(b, val);
}

static void
add_int(sbuf *b, const char *key, int64_t val)
{
    if (!val) return;
    sbuf_json_key(b, key);
    sbuf_printf(b, "%" PRId64, val);
}

/* check_spec_text refuses invalid UTF-8 in string fields: sbuf_json_str would
 * quietly repair it, and the producer should hear about its bad bytes. */
static int
check_spec_text(const envelope_spec *sp, char *err, size_t errlen)
{
    const struct { const char *name, *val; } f[] = {
        {"id", sp->id}, {"kind", sp->kind}, {"service", sp->service}, {"action", sp->action},
        {"target_type", sp->target_type}, {"target_id", sp->target_id}, {"scope", sp->scope},
        {"actor", sp->actor}, {"idempotency_key", sp->idempotency_key}, {"debounce_key", sp->debounce_key},
        {"expected_hash", sp->expected_hash}, {"enqueued_at", sp->enqueued_at}, {"run_at", sp->run_at},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (f[i].val && !utf8_valid(f[i].val, strlen(f[i].val)))
            return field_err(err, errlen, f[i].name, "is not valid UTF-8");
    return 0;
}

/* check_payload makes sure the producer's bytes are one JSON object. */
static int
check_payload(const char *p, size_t n, char *err, size_t errlen)
{
    char jerr[128];
    json *root = json_parse(p, n, jerr, sizeof(jerr));
    if (!root) {
        snprintf(err, errlen, "payload is not JSON: %s", jerr);
        return -1;
    }
    int ok = json_typeof(root) == JSON_OBJECT;
    json_free(root);
    if (!ok) snprintf(err, errlen, "payload must be a JSON object");
    return ok ? 0 : -1;
}

static void
add_fields(sbuf *b, const envelope_spec *sp, const char *payload, size_t plen)
{
    sbuf_addc(b, '{');
    add_int(b, "v", 1);
    add_str(b, "id", sp->id);
    add_str(b, "kind", sp->kind);
    add_str(b, "service", sp->service);
    add_str(b, "action", sp->action);
    add_str(b, "target_type", sp->target_type);
    add_str(b, "target_id", sp->target_id);
    add_str(b, "scope", sp->scope);
    add_str(b, "actor", sp->actor);
    add_int(b, "max_attempts", sp->max_attempts);
    add_int(b, "timeout_ms", sp->timeout_ms);
    add_str(b, "idempotency_key", sp->idempotency_key);
    add_int(b, "idempotency_ttl_s", sp->idempotency_ttl_s);
    add_str(b, "debounce_key", sp->debounce_key);
    add_int(b, "debounce_ms", sp->debounce_ms);
    add_str(b, "expected_hash", sp->expected_hash);
    add_str(b, "enqueued_at", sp->enqueued_at);
    add_str(b, "run_at", sp->run_at);
    add_int(b, "delay_ms", sp->delay_ms);
    sbuf_json_key(b, "payload");
    sbuf_add(b, payload, plen); /* verbatim: the producer's bytes are never re-serialised */
    sbuf_addc(b, '}');
}

/* envelope_build: a payload_len of 0 with a payload_json means "use strlen".
 * Rather than keep a second copy of the field rules, the built text is run
 * through envelope_parse, which also proves that it round-trips. The size
 * limit is the caller's (it knows the configured maximum), so none here. */
char *
envelope_build(const envelope_spec *spec, size_t *len, char *err, size_t errlen)
{
    const char *payload = spec->payload_json ? spec->payload_json : "{}";
    size_t plen = spec->payload_json ? spec->payload_len : 2;
    sbuf b;
    envelope e;

    if (plen == 0) plen = strlen(payload);
    if (check_spec_text(spec, err, errlen) || check_payload(payload, plen, err, errlen)) return NULL;
    sbuf_init(&b);
    add_fields(&b, spec, payload, plen);
    if (envelope_parse(b.buf, b.len, SIZE_MAX, &e, err, errlen) != ENV_OK) {
        sbuf_free(&b);
        return NULL;
    }
    envelope_free(&e);
    return sbuf_steal(&b, len);
}
