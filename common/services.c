/* services.c - the services file: parse and validate it (every problem with
 * its dotted location from the root), expand ${VAR} in header values, look
 * actions up, classify HTTP statuses and fill path templates. Pure code: the
 * only I/O is svc_load's read of the file.
 *
 * Parsing works on a zeroed svc_file whose arrays are sized up front from the
 * JSON, so a half-built file is freed by svc_free like a whole one: one exit
 * path. Header values are secrets: they appear in no error, and their memory
 * is wiped before it is freed. */
#include "fmacros.h"
#include "errf.h"
#include "services.h"
#include "json.h"
#include "mask.h"
#include "paging.h"
#include "pct.h"
#include "sbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SVC_TIMEOUT_MAX_MS 600000
#define SVC_PAGE_SIZE_MAX 10000
#define SVC_MAX_PAGES_MAX 1000000
#define SVC_FIRST_PAGE_MAX 1000000
#define SVC_EVERY_MAX_S (86400 * 7)
#define SVC_RATE_MAX 1000000 /* requests per second, and burst */
#define SVC_VAR_MAX 128      /* bytes of an environment variable name */
#define SVC_VALUE_MAX 8192   /* bytes of a header value after expansion */
#define SVC_FILE_MAX (16 * 1024 * 1024)

static const char *const op_names[] = {"create", "update", "delete", "call", NULL};
static const char *const class_names[] = {"success", "adopt", "conflict", "transient", "permanent", NULL};
static const char *const action_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
static const char *const list_methods[] = {"GET", "POST", NULL};
static const char *const body_names[] = {"payload", "none", NULL};

/* ---------------------------------------------------------------- Locations */

/* pctx is the parse context: the dotted location being read and the
 * caller's error buffer. Every check that fails writes "location: problem"
 * and returns -1; the parse then stops, so a failed branch need not restore
 * the location. */
typedef struct pctx {
    svc_getenv_fn get;
    const svc_exec *dflt;   /* the service's exec, the default of its actions */
    const char *base_url;   /* the service's, NULL without one */
    char *err;
    size_t errlen;
    char path[384];
    size_t len;
} pctx;

/* push appends ".seg" (control bytes shown as '?') and returns the old
 * length for pop. A location too long for the buffer is cut. */
static size_t
push(pctx *c, const char *seg)
{
    size_t old = c->len;
    if (c->len > 0 && c->len + 1 < sizeof(c->path)) c->path[c->len++] = '.';
    for (const unsigned char *p = (const unsigned char *)seg; *p && c->len + 1 < sizeof(c->path); p++)
        c->path[c->len++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
    c->path[c->len] = '\0';
    return old;
}

/* push_index appends "[i]" for an array item. */
static size_t
push_index(pctx *c, int i)
{
    size_t old = c->len;
    int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%d]", i);
    if (n > 0) c->len = strlen(c->path);
    return old;
}

static void
pop(pctx *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

static int
bad(pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
bad(pctx *c, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s: %s", c->len ? c->path : "top level", msg);
    return -1;
}

/* bad_at reports a problem of member key of the current location. */
static int
bad_at(pctx *c, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
bad_at(pctx *c, const char *key, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    push(c, key);
    return bad(c, "%s", msg);
}

/* one_of joins a NULL-terminated name list as "a, b, c". */
static void
one_of(const char *const *names, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; names[i] && o < outlen; i++) {
        int n = snprintf(out + o, outlen - o, "%s%s", i ? ", " : "", names[i]);
        if (n < 0) break;
        o += (size_t)n;
    }
}

static int
name_index(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

/* ---------------------------------------------------------------- Members */

/* check_object wants an object without duplicate member names (cJSON keeps
 * both; a reader would silently see the first). */
static int
check_object(pctx *c, const json *obj)
{
    if (json_typeof(obj) != JSON_OBJECT) return bad(c, "must be an object");
    for (const json *m = json_child(obj); m; m = json_next(m))
        for (const json *p = json_child(obj); p != m; p = json_next(p))
            if (strcmp(json_key(p), json_key(m)) == 0) return bad_at(c, json_key(m), "duplicate member");
    return 0;
}

/* known_members wants an object whose members are all in allowed (a typo
 * is an error, not a silently ignored setting). */
static int
known_members(pctx *c, const json *obj, const char *const *allowed)
{
    char list[512];
    if (check_object(c, obj)) return -1;
    for (const json *m = json_child(obj); m; m = json_next(m)) {
        if (name_index(allowed, json_key(m)) >= 0) continue;
        one_of(allowed, list, sizeof(list));
        return bad_at(c, json_key(m), "unknown member (expected one of %s)", list);
    }
    return 0;
}

/* valid_name: 1..SVC_NAME_MAX-1 bytes of [A-Za-z0-9_.-]. */
static int
valid_name(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < SVC_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int
check_name(pctx *c, const char *s)
{
    if (!valid_name(s)) return bad(c, "name must be 1..%d characters of A-Z, a-z, 0-9, _, . and -", SVC_NAME_MAX - 1);
    return 0;
}

static int
has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 1;
    return 0;
}

/* valid_dotted: "a.b.c" with no empty segment ("" only when allow_empty). */
static int
valid_dotted(const char *s, int allow_empty)
{
    if (!*s) return allow_empty;
    if (*s == '.' || s[strlen(s) - 1] == '.' || strstr(s, "..")) return 0;
    return 1;
}

#define S_REQUIRED 1 /* absent is an error */
#define S_EMPTY_OK 2 /* "" is accepted */

/* str_member reads a string member into an owned copy: def (copied; may
 * be NULL) when absent. */
static int
str_member(pctx *c, const json *obj, const char *key, const char *def, unsigned flags, char **out)
{
    const json *v = json_get(obj, key);
    if (!v) {
        if (flags & S_REQUIRED) return bad_at(c, key, "required");
        *out = def ? xstrdup(def) : NULL;
        return 0;
    }
    if (json_typeof(v) != JSON_STRING) return bad_at(c, key, "must be a string");
    if (!*json_str(v) && !(flags & S_EMPTY_OK)) return bad_at(c, key, "must not be empty");
    if (has_control(json_str(v))) return bad_at(c, key, "must not contain control characters");
    *out = xstrdup(json_str(v));
    return 0;
}

/* int_member reads an integer in [min,max] through its double value; the
 * range test comes before the cast so the cast is always defined. */
static int
int_member(pctx *c, const json *obj, const char *key, int def, int min, int max, int *out)
{
    const json *v = json_get(obj, key);
    double d = json_num(v);
    if (!v) {
        *out = def;
        return 0;
    }
    if (json_typeof(v) != JSON_NUMBER || !(d >= min && d <= max) || (double)(int)d != d)
        return bad_at(c, key, "must be an integer in %d..%d", min, max);
    *out = (int)d;
    return 0;
}

static int
num_member(pctx *c, const json *obj, const char *key, double def, double min, double max, double *out)
{
    const json *v = json_get(obj, key);
    double d = json_num(v);
    if (!v) {
        *out = def;
        return 0;
    }
    if (json_typeof(v) != JSON_NUMBER || !(d >= min && d <= max))
        return bad_at(c, key, "must be a number in %g..%g", min, max);
    *out = d;
    return 0;
}

/* enum_member reads a string that must be one of names; -1 in *out when
 * absent and not required. */
static int
enum_member(pctx *c, const json *obj, const char *key, const char *const *names, int required, int *out)
{
    const json *v = json_get(obj, key);
    char list[256];
    *out = -1;
    if (!v) return required ? bad_at(c, key, "required") : 0;
    if (json_typeof(v) == JSON_STRING && (*out = name_index(names, json_str(v))) >= 0) return 0;
    one_of(names, list, sizeof(list));
    return bad_at(c, key, "must be one of %s", list);
}

/* list_member reads an array of distinct non-empty strings (at most
 * SVC_MAX_LIST); absent leaves *n at 0. */
static int
list_member(pctx *c, const json *obj, const char *key, char **arr, int *n)
{
    const json *v = json_get(obj, key);
    int i = 0;
    if (!v) return 0;
    size_t at = push(c, key);
    if (json_typeof(v) != JSON_ARRAY) return bad(c, "must be an array of strings");
    if (json_size(v) > SVC_MAX_LIST) return bad(c, "at most %d entries", SVC_MAX_LIST);
    for (const json *it = json_child(v); it; it = json_next(it), i++) {
        const char *s = json_str(it);
        size_t here = push_index(c, i);
        if (!s || !*s || has_control(s)) return bad(c, "must be a non-empty string without control characters");
        for (int j = 0; j < *n; j++)
            if (strcmp(arr[j], s) == 0) return bad(c, "duplicate entry \"%s\"", s);
        arr[(*n)++] = xstrdup(s);
        pop(c, here);
    }
    pop(c, at);
    return 0;
}

/* ---------------------------------------------------------------- Templates */

/* valid_placeholder: scope, target_id or payload.FIELD[.FIELD...]. */
static int
valid_placeholder(const char *s, size_t n)
{
    if ((n == 5 && memcmp(s, "scope", 5) == 0) || (n == 9 && memcmp(s, "target_id", 9) == 0)) return 1;
    if (n > 8 && memcmp(s, "payload.", 8) == 0) {
        char field[256];
        if (n - 8 >= sizeof(field) || memchr(s, '{', n)) return 0;
        memcpy(field, s + 8, n - 8);
        field[n - 8] = '\0';
        return valid_dotted(field, 0);
    }
    return 0;
}

/* check_template wants a path that starts with '/' and whose {...} are all
 * known placeholders. */
static int
check_template(pctx *c, const char *key, const char *t)
{
    if (t[0] != '/') return bad_at(c, key, "must start with /");
    if (strpbrk(t, " \t#")) return bad_at(c, key, "must not contain blanks or #");
    for (const char *p = t; (p = strpbrk(p, "{}")) != NULL;) {
        const char *end = *p == '{' ? strchr(p, '}') : NULL;
        if (!end) return bad_at(c, key, "unbalanced { or } at byte %zu", (size_t)(p - t));
        if (!valid_placeholder(p + 1, (size_t)(end - p - 1)))
            return bad_at(c, key, "unknown placeholder %.*s (use {scope}, {target_id} or {payload.FIELD})",
                          (int)(end - p + 1), p);
        p = end + 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- Headers */

static void
wipe_free(char *s)
{
    if (!s) return;
    explicit_bzero(s, strlen(s));
    free(s);
}

static int
valid_var_name(const char *s, size_t n)
{
    if (n == 0 || n >= SVC_VAR_MAX || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return 0;
    }
    return 1;
}

/* expand_value replaces ${NAME} through c->get ($${ is a literal ${). The
 * value may be a secret: no error names it, and it is built in a stack
 * buffer that is wiped afterwards (a growing heap buffer would leave copies
 * behind in freed memory), so the only copies are *out and the ones
 * mask_secret_add keeps: a value that came from the environment (and each
 * variable's value) is registered there, to be masked by value wherever a
 * service echoes it. An empty variable counts as unset, as in config.c. */
static int
expand_value(pctx *c, const char *raw, char **out)
{
    char buf[SVC_VALUE_MAX + 1], var[SVC_VAR_MAX];
    size_t o = 0;
    int rc = -1, expanded = 0;
    for (const char *p = raw; *p;) {
        const char *v = p, *name = p + 2, *end = NULL;
        size_t n = 1;
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            v = "${", n = 2, p += 3;
        } else if (p[0] != '$' || p[1] != '{') {
            p++;
        } else {
            end = strchr(name, '}');
            n = end ? (size_t)(end - name) : 0;
            if (!end || !valid_var_name(name, n)) {
                bad(c, "bad ${...} at byte %zu (write ${NAME} with NAME of A-Z, a-z, 0-9 and _, or $${ for a "
                       "literal ${)",
                    (size_t)(p - raw));
                goto out;
            }
            memcpy(var, name, n);
            var[n] = '\0';
            if (!(v = c->get(var)) || !*v) {
                bad(c, "environment variable %s is not set", var);
                goto out;
            }
            n = strlen(v);
            p = end + 1;
            expanded = 1;
            mask_secret_add(v); /* scrubbed by value from every stored or logged text (docs/MASKING.md, T1) */
        }
        if (n > SVC_VALUE_MAX - o) {
            bad(c, "the value is longer than %d bytes after ${...} expansion", SVC_VALUE_MAX);
            goto out;
        }
        memcpy(buf + o, v, n);
        o += n;
    }
    buf[o] = '\0';
    if (expanded) mask_secret_add(buf);
    *out = xstrdup(buf);
    rc = 0;
out:
    explicit_bzero(buf, o);
    return rc;
}

/* valid_token: an RFC 9110 field name (tchar+). */
static int
valid_token(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~") == n;
}

/* Headers the HTTP client sets itself: a static value would be wrong or
 * would break the framing. */
static const char *const client_headers[] = {"Host", "Content-Length", "Transfer-Encoding", "Connection",
                                             "Idempotency-Key", NULL};

static int
parse_header(pctx *c, const json *m, svc_service *s)
{
    const char *name = json_key(m);
    svc_header *h = &s->headers[s->nheaders];
    size_t at = push(c, name);
    if (!valid_token(name)) return bad(c, "not a valid header name");
    for (int i = 0; client_headers[i]; i++)
        if (strcasecmp(name, client_headers[i]) == 0) return bad(c, "set by the HTTP client, not configurable");
    for (int i = 0; i < s->nheaders; i++)
        if (strcasecmp(s->headers[i].name, name) == 0) return bad(c, "duplicate header (names ignore case)");
    if (json_typeof(m) != JSON_STRING) return bad(c, "must be a string");
    h->name = xstrdup(name);
    s->nheaders++; /* from here svc_free owns the name */
    if (expand_value(c, json_str(m), &h->value)) return -1;
    for (const unsigned char *p = (const unsigned char *)h->value; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return bad(c, "the value (after ${...} expansion) must not contain control characters");
    pop(c, at);
    return 0;
}

static int
parse_headers(pctx *c, const json *obj, svc_service *s)
{
    const json *hs = json_get(obj, "headers");
    if (!hs) return 0;
    size_t at = push(c, "headers");
    if (check_object(c, hs)) return -1;
    if (json_size(hs) > SVC_MAX_HEADERS) return bad(c, "at most %d headers", SVC_MAX_HEADERS);
    for (const json *m = json_child(hs); m; m = json_next(m))
        if (parse_header(c, m, s)) return -1;
    pop(c, at);
    return 0;
}

/* ---------------------------------------------------------------- Auth */

/* check_url: http(s)://host[:port][/path], no credentials, query or
 * fragment, for member key. */
static int
check_url(pctx *c, const char *key, const char *u)
{
    const char *host;
    size_t n;
    if (strncmp(u, "http://", 7) == 0) host = u + 7;
    else if (strncmp(u, "https://", 8) == 0) host = u + 8;
    else return bad_at(c, key, "must start with http:// or https://");
    if (!*host || *host == '/' || *host == ':') return bad_at(c, key, "must name a host");
    if (strpbrk(u, " \t?#")) return bad_at(c, key, "must not contain blanks, a query or a fragment");
    n = strcspn(host, "/");
    if (memchr(host, '@', n)) return bad_at(c, key, "must not carry credentials (use headers)");
    if (strpbrk(u, "{}")) return bad_at(c, key, "must not contain placeholders (paths take them)");
    return 0;
}


static const char *const auth_keys[] = {"oauth2", "hmac", "aws_sigv4", NULL};
static const char *const sigv4_keys[] = {"region", "service", "access_key_id", "secret_access_key", "session_token",
                                         NULL};
static const char *const oauth2_keys[] = {"token_url", "client_id", "client_secret", "scope", "client_auth", NULL};
static const char *const client_auth_names[] = {"basic", "post", NULL};
static const char *const hmac_keys[] = {"key",    "algorithm", "message", "header", "format",
                                        "encoding", "timestamp_header", NULL};
static const char *const md_names[] = {"sha1", "sha256", "sha512", NULL}; /* in crypto_md order */
static const char *const encoding_names[] = {"hex", "base64", NULL};      /* in sign_encoding order */
static const char *const tls_keys[] = {"ca_file", "cert_file", "key_file", "key_password", NULL};

/* secret_member reads a secret that must come from the environment: a
 * literal in the file would end up in backups and version control, and only
 * an expanded value is registered for masking by value. */
static int
secret_member(pctx *c, const json *obj, const char *key, int required, char **out)
{
    const json *v = json_get(obj, key);
    if (!v) return required ? bad_at(c, key, "required (a ${VAR} naming an environment variable)") : 0;
    size_t at = push(c, key);
    if (json_typeof(v) != JSON_STRING) return bad(c, "must be a string");
    if (!strstr(json_str(v), "${")) return bad(c, "must come from the environment: write ${VAR}, not the secret");
    if (expand_value(c, json_str(v), out)) return -1;
    if (has_control(*out)) return bad(c, "the value (after ${...} expansion) must not contain control characters");
    pop(c, at);
    return 0;
}

/* expanded_member reads a string that may use ${VAR} (not required to). */
static int
expanded_member(pctx *c, const json *obj, const char *key, char **out)
{
    const json *v = json_get(obj, key);
    if (!v) return bad_at(c, key, "required");
    size_t at = push(c, key);
    if (json_typeof(v) != JSON_STRING || !*json_str(v)) return bad(c, "must be a non-empty string");
    if (expand_value(c, json_str(v), out)) return -1;
    if (has_control(*out)) return bad(c, "the value (after ${...} expansion) must not contain control characters");
    pop(c, at);
    return 0;
}

/* header_taken says whether name is a static header of s or one the HTTP
 * client sets. */
static int
header_taken(const svc_service *s, const char *name)
{
    for (int i = 0; client_headers[i]; i++)
        if (strcasecmp(name, client_headers[i]) == 0) return 1;
    for (int i = 0; i < s->nheaders; i++)
        if (strcasecmp(s->headers[i].name, name) == 0) return 1;
    return 0;
}

static int
parse_oauth2(pctx *c, const json *auth, svc_service *s)
{
    const json *o = json_get(auth, "oauth2");
    int ca;
    if (!o) return 0;
    size_t at = push(c, "oauth2");
    if (known_members(c, o, oauth2_keys)) return -1;
    svc_oauth2 *a = s->oauth2 = xcalloc(1, sizeof(*a));
    if (str_member(c, o, "token_url", NULL, S_REQUIRED, &a->token_url) || check_url(c, "token_url", a->token_url) ||
        expanded_member(c, o, "client_id", &a->client_id) || secret_member(c, o, "client_secret", 1, &a->client_secret) ||
        str_member(c, o, "scope", NULL, 0, &a->scope) ||
        enum_member(c, o, "client_auth", client_auth_names, 0, &ca))
        return -1;
    a->client_auth = ca == 1 ? OAUTH2_CLIENT_POST : OAUTH2_CLIENT_BASIC;
    for (int i = 0; i < s->nheaders; i++)
        if (strcasecmp(s->headers[i].name, "Authorization") == 0)
            return bad(c, "sets the Authorization header (the bearer token): remove it from the service's headers");
    pop(c, at);
    return 0;
}

/* hmac_header reads a header name member that must not clash. */
static int
hmac_header(pctx *c, const json *h, const char *key, int required, const svc_service *s, char **out)
{
    if (str_member(c, h, key, NULL, required ? S_REQUIRED : 0, out)) return -1;
    if (!*out) return 0;
    if (!valid_token(*out)) return bad_at(c, key, "not a valid header name");
    if (header_taken(s, *out) || (s->oauth2 && strcasecmp(*out, "Authorization") == 0))
        return bad_at(c, key, "the header %s is set elsewhere (headers, auth.oauth2 or the HTTP client)", *out);
    return 0;
}

/* hmac_message reads the signed-text template: line breaks are allowed in
 * it (canonical requests put each part on a line), other control bytes not. */
static int
hmac_message(pctx *c, const json *h, char **out)
{
    const json *v = json_get(h, "message");
    if (!v) {
        *out = xstrdup("{body}");
        return 0;
    }
    if (json_typeof(v) != JSON_STRING) return bad_at(c, "message", "must be a string");
    for (const unsigned char *p = (const unsigned char *)json_str(v); *p; p++)
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
            return bad_at(c, "message", "must not contain control characters other than line breaks (\\n)");
    *out = xstrdup(json_str(v));
    return 0;
}

static int
parse_hmac(pctx *c, const json *auth, svc_service *s)
{
    const json *h = json_get(auth, "hmac");
    int md, enc;
    char terr[256];
    if (!h) return 0;
    size_t at = push(c, "hmac");
    if (known_members(c, h, hmac_keys)) return -1;
    sign_spec *g = s->hmac = xcalloc(1, sizeof(*g));
    if (secret_member(c, h, "key", 1, &g->key) || enum_member(c, h, "algorithm", md_names, 0, &md) ||
        hmac_message(c, h, &g->message) ||
        hmac_header(c, h, "header", 1, s, &g->header) ||
        str_member(c, h, "format", "{signature}", 0, &g->format) ||
        enum_member(c, h, "encoding", encoding_names, 0, &enc) ||
        hmac_header(c, h, "timestamp_header", 0, s, &g->timestamp_header))
        return -1;
    g->md = md < 0 ? CRYPTO_SHA256 : (crypto_md)md;
    g->encoding = enc < 0 ? SIGN_HEX : (sign_encoding)enc;
    if (sign_check_template(g->message, 0, terr, sizeof(terr))) return bad_at(c, "message", "%s", terr);
    if (sign_check_template(g->format, 1, terr, sizeof(terr))) return bad_at(c, "format", "%s", terr);
    if (g->timestamp_header && strcasecmp(g->timestamp_header, g->header) == 0)
        return bad_at(c, "timestamp_header", "must differ from header");
    pop(c, at);
    return 0;
}

static int
parse_sigv4(pctx *c, const json *auth, svc_service *s)
{
    const json *a = json_get(auth, "aws_sigv4");
    if (!a) return 0;
    size_t at = push(c, "aws_sigv4");
    if (known_members(c, a, sigv4_keys)) return -1;
    if (s->oauth2) return bad(c, "excludes auth.oauth2 (both set the Authorization header)");
    sigv4_spec *v = s->sigv4 = xcalloc(1, sizeof(*v));
    if (str_member(c, a, "region", NULL, S_REQUIRED, &v->region) ||
        str_member(c, a, "service", NULL, S_REQUIRED, &v->service) ||
        expanded_member(c, a, "access_key_id", &v->access_key_id) ||
        secret_member(c, a, "secret_access_key", 1, &v->secret_access_key) ||
        secret_member(c, a, "session_token", 0, &v->session_token))
        return -1;
    if (!valid_name(v->region) || !valid_name(v->service))
        return bad(c, "region and service must be names like eu-west-1 and execute-api");
    for (int i = 0; i < s->nheaders; i++)
        if (strcasecmp(s->headers[i].name, "Authorization") == 0 || strncasecmp(s->headers[i].name, "X-Amz-", 6) == 0)
            return bad(c, "sets the Authorization and X-Amz-* headers: remove %s from the service's headers",
                       s->headers[i].name);
    pop(c, at);
    return 0;
}

static int
parse_auth(pctx *c, const json *obj, svc_service *s)
{
    const json *auth = json_get(obj, "auth");
    if (!auth) return 0;
    size_t at = push(c, "auth");
    if (known_members(c, auth, auth_keys) || parse_oauth2(c, auth, s) || parse_hmac(c, auth, s) ||
        parse_sigv4(c, auth, s))
        return -1;
    pop(c, at);
    return 0;
}

static int
parse_tls(pctx *c, const json *obj, svc_service *s)
{
    const json *t = json_get(obj, "tls");
    svc_tls *x = &s->tls;
    if (!t) return 0;
    size_t at = push(c, "tls");
    if (known_members(c, t, tls_keys) || str_member(c, t, "ca_file", NULL, 0, &x->ca_file) ||
        str_member(c, t, "cert_file", NULL, 0, &x->cert_file) || str_member(c, t, "key_file", NULL, 0, &x->key_file) ||
        secret_member(c, t, "key_password", 0, &x->key_password))
        return -1;
    if ((x->key_file || x->key_password) && !x->cert_file)
        return bad_at(c, "cert_file", "required with key_file or key_password (the client certificate)");
    if (s->base_url && strncmp(s->base_url, "https://", 8) != 0 &&
        (!s->oauth2 || strncmp(s->oauth2->token_url, "https://", 8) != 0))
        return bad(c, "the service's URLs are not https: TLS settings would never be used");
    pop(c, at);
    return 0;
}

static void
free_auth(svc_service *s)
{
    if (s->oauth2) {
        free(s->oauth2->token_url);
        free(s->oauth2->client_id);
        wipe_free(s->oauth2->client_secret);
        free(s->oauth2->scope);
        free(s->oauth2);
    }
    sign_spec_free(s->hmac);
    free(s->hmac);
    sigv4_spec_free(s->sigv4);
    free(s->sigv4);
    free(s->tls.ca_file);
    free(s->tls.cert_file);
    free(s->tls.key_file);
    wipe_free(s->tls.key_password);
}

/* ---------------------------------------------------------------- Exec */

static const char *const exec_keys[] = {"command", "mode", "env", "cwd", NULL};
static const char *const exec_modes[] = {"per_job", "persistent", NULL};

static int
parse_command(pctx *c, const json *x, svc_exec *e)
{
    const json *v = json_get(x, "command");
    int i = 0;
    if (!v) return bad_at(c, "command", "required (the program and its arguments, e.g. [\"php\", \"handler.php\"])");
    size_t at = push(c, "command");
    if (json_typeof(v) != JSON_ARRAY || json_size(v) == 0) return bad(c, "must be a non-empty array of strings");
    if (json_size(v) > SVC_MAX_ARGV) return bad(c, "at most %d words", SVC_MAX_ARGV);
    e->argv = xcalloc(json_size(v) + 1, sizeof(char *));
    for (const json *it = json_child(v); it; it = json_next(it), i++) {
        const char *w = json_str(it);
        size_t here = push_index(c, i);
        if (!w || !*w || has_control(w)) return bad(c, "must be a non-empty string without control characters");
        e->argv[e->argc++] = xstrdup(w);
        pop(c, here);
    }
    pop(c, at);
    return 0;
}

/* parse_exec_env reads NAME: value pairs; values take ${VAR} like header
 * values and are secrets. */
static int
parse_exec_env(pctx *c, const json *x, svc_exec *e)
{
    const json *env = json_get(x, "env");
    if (!env) return 0;
    size_t at = push(c, "env");
    if (check_object(c, env)) return -1;
    if (json_size(env) > SVC_MAX_ENV) return bad(c, "at most %d variables", SVC_MAX_ENV);
    for (const json *m = json_child(env); m; m = json_next(m)) {
        const char *name = json_key(m);
        size_t here = push(c, name);
        if (!valid_var_name(name, strlen(name))) return bad(c, "not a valid variable name (A-Z, a-z, 0-9 and _)");
        if (json_typeof(m) != JSON_STRING) return bad(c, "must be a string");
        e->env[e->nenv].name = xstrdup(name);
        e->nenv++; /* from here svc_free owns the name */
        if (expand_value(c, json_str(m), &e->env[e->nenv - 1].value)) return -1;
        pop(c, here);
    }
    pop(c, at);
    return 0;
}

/* parse_exec reads obj's "exec" member into e (mode EXEC_NONE when absent). */
static int
parse_exec(pctx *c, const json *obj, svc_exec *e)
{
    const json *x = json_get(obj, "exec");
    int mode;
    if (!x) return 0;
    size_t at = push(c, "exec");
    if (known_members(c, x, exec_keys) || parse_command(c, x, e) ||
        enum_member(c, x, "mode", exec_modes, 0, &mode) || parse_exec_env(c, x, e) ||
        str_member(c, x, "cwd", NULL, 0, &e->cwd))
        return -1;
    e->mode = mode == 1 ? EXEC_PERSISTENT : EXEC_PER_JOB;
    pop(c, at);
    return 0;
}

static void
copy_exec(svc_exec *dst, const svc_exec *src)
{
    dst->mode = src->mode;
    dst->argc = src->argc;
    dst->argv = xcalloc((size_t)src->argc + 1, sizeof(char *));
    for (int i = 0; i < src->argc; i++) dst->argv[i] = xstrdup(src->argv[i]);
    for (int i = 0; i < src->nenv; i++) {
        dst->env[i].name = xstrdup(src->env[i].name);
        dst->env[i].value = xstrdup(src->env[i].value);
        dst->nenv++;
    }
    dst->cwd = src->cwd ? xstrdup(src->cwd) : NULL;
}

/* ---------------------------------------------------------------- Actions */

static const char *const action_keys[] = {"op", "method", "path", "body", "status", "max_attempts", "timeout_ms",
                                          "idempotency_ttl_s", "backoff_base_ms", "exec", NULL};
static const char *const http_action_keys[] = {"method", "path", "body", "status", NULL};
static const char *const status_keys[] = {"success", "adopt", "conflict", "transient", "permanent", NULL};

/* codes_member reads one status class: distinct codes 100..599, none
 * already in an earlier class. */
static int
codes_member(pctx *c, const json *st, int cls, svc_action *a)
{
    const json *v = json_get(st, class_names[cls]);
    int i = 0;
    if (!v) return 0;
    size_t at = push(c, class_names[cls]);
    if (json_typeof(v) != JSON_ARRAY) return bad(c, "must be an array of status codes");
    if (json_size(v) > SVC_MAX_LIST) return bad(c, "at most %d codes", SVC_MAX_LIST);
    for (const json *it = json_child(v); it; it = json_next(it), i++) {
        double d = json_num(it);
        int code = (int)(d >= 100 && d <= 599 ? d : 0);
        size_t here = push_index(c, i);
        if (json_typeof(it) != JSON_NUMBER || code == 0 || (double)code != d)
            return bad(c, "must be an HTTP status code in 100..599");
        for (int k = 0; k <= cls; k++)
            for (int j = 0; j < a->ncodes[k]; j++)
                if (a->codes[k][j] == code)
                    return k == cls ? bad(c, "%d is listed twice", code)
                                    : bad(c, "%d is already listed under %s", code, class_names[k]);
        a->codes[cls][a->ncodes[cls]++] = code;
        pop(c, here);
    }
    pop(c, at);
    return 0;
}

static int
parse_status(pctx *c, const json *obj, const svc_resource *r, svc_action *a)
{
    const json *st = json_get(obj, "status");
    if (!st) return 0;
    size_t at = push(c, "status");
    if (known_members(c, st, status_keys)) return -1;
    for (int cls = 0; cls < ST_CLASSES; cls++)
        if (codes_member(c, st, cls, a)) return -1;
    /* Adopting means finding the object a create collided with: only a create
     * collides, and only a natural key can find what has no remote id yet. */
    if (a->ncodes[ST_ADOPT] && a->op != OP_CREATE) return bad_at(c, "adopt", "only a create op can adopt");
    if (a->ncodes[ST_ADOPT] && r->nnatural == 0)
        return bad_at(c, "adopt", "needs the resource's natural_key to find the existing object");
    if (a->ncodes[ST_ADOPT] && !r->list_path)
        return bad_at(c, "adopt", "needs the resource's HTTP list to find the existing object");
    pop(c, at);
    return 0;
}

/* parse_exec_action takes an action's own exec, else its service's; it
 * returns 1 for an exec action (which takes no HTTP members), 0 for an HTTP
 * one, -1 on an error. */
static int
parse_exec_action(pctx *c, const json *m, const svc_resource *r, svc_action *a)
{
    int op;
    if (parse_exec(c, m, &a->exec)) return -1;
    if (a->exec.mode == EXEC_NONE && c->dflt && c->dflt->mode != EXEC_NONE) copy_exec(&a->exec, c->dflt);
    if (a->exec.mode == EXEC_NONE) {
        if (!r) return bad(c, "an action outside a resource must be an exec action (give it or its service \"exec\")");
        if (!c->base_url) return bad(c, "an HTTP action needs the service's base_url");
        return 0;
    }
    for (int i = 0; http_action_keys[i]; i++)
        if (json_get(m, http_action_keys[i])) return bad_at(c, http_action_keys[i], "not used by an exec action");
    if (enum_member(c, m, "op", op_names, 0, &op)) return -1;
    a->op = op < 0 ? OP_CALL : (svc_op)op;
    return 1;
}

static int
parse_action(pctx *c, const json *m, const svc_resource *r, svc_action *a)
{
    int op, method, body, ex;
    size_t at = push(c, json_key(m));
    if (check_name(c, json_key(m)) || known_members(c, m, action_keys)) return -1;
    a->name = xstrdup(json_key(m));
    if ((ex = parse_exec_action(c, m, r, a)) < 0) return -1;
    if (ex) goto defaults;
    if (enum_member(c, m, "op", op_names, 1, &op)) return -1;
    a->op = (svc_op)op;
    if (enum_member(c, m, "method", action_methods, 1, &method)) return -1;
    a->method = xstrdup(action_methods[method]);
    if (str_member(c, m, "path", NULL, S_REQUIRED, &a->path) || check_template(c, "path", a->path)) return -1;
    if (enum_member(c, m, "body", body_names, 0, &body)) return -1;
    a->body_payload = body < 0 ? a->op != OP_DELETE : body == 0;
    if (parse_status(c, m, r, a)) return -1;
defaults:
    /* per-action defaults a job's envelope may still override */
    if (int_member(c, m, "max_attempts", 0, 1, 1000, &a->max_attempts) ||
        int_member(c, m, "timeout_ms", 0, 1, 86400000, &a->timeout_ms) ||
        int_member(c, m, "idempotency_ttl_s", 0, 1, 31536000, &a->idempotency_ttl_s) ||
        int_member(c, m, "backoff_base_ms", 0, 1, 3600000, &a->backoff_base_ms))
        return -1;
    pop(c, at);
    return 0;
}

/* parse_actions reads obj's actions into *out: a resource's (r), or a
 * service's own exec actions (r NULL). */
static int
parse_actions(pctx *c, const json *obj, const svc_resource *r, svc_action **out, int *n)
{
    const json *as = json_get(obj, "actions");
    int i = 0;
    if (!as) return 0;
    size_t at = push(c, "actions");
    if (check_object(c, as)) return -1;
    *out = xcalloc(json_size(as), sizeof(svc_action));
    *n = (int)json_size(as);
    for (const json *m = json_child(as); m; m = json_next(m), i++)
        if (parse_action(c, m, r, &(*out)[i])) return -1;
    pop(c, at);
    return 0;
}

/* ---------------------------------------------------------------- Lists */

static const char *const list_keys[] = {"method", "path", "items", "pagination", "max_pages", "exec", NULL};
/* dotted_member reads a dotted response path ("meta.next_cursor"). */
static int
dotted_member(pctx *c, const json *obj, const char *key, const char *def, int allow_empty, char **out)
{
    if (str_member(c, obj, key, def, allow_empty ? S_EMPTY_OK : 0, out)) return -1;
    if (*out && !valid_dotted(*out, allow_empty)) return bad_at(c, key, "must be a dotted path like meta.next");
    return 0;
}

/* page_members rejects members of another style ("not used by") apart from
 * plain typos ("unknown member"). */
static int
page_members(pctx *c, const json *pg, svc_paging style)
{
    char list[256];
    if (check_object(c, pg)) return -1;
    for (const json *m = json_child(pg); m; m = json_next(m)) {
        const char *k = json_key(m);
        const paging_style *s = paging_style_of(style);
        if (name_index(s->keys, k) >= 0) continue;
        if (name_index(paging_keys_all, k) >= 0) return bad_at(c, k, "not used by style %s", s->name);
        one_of(s->keys, list, sizeof(list));
        return bad_at(c, k, "unknown member (expected one of %s)", list);
    }
    return 0;
}

static int
parse_pagination(pctx *c, const json *list, svc_resource *r)
{
    const json *pg = json_get(list, "pagination");
    int style;
    if (!pg) return bad_at(c, "pagination", "required");
    size_t at = push(c, "pagination");
    if (check_object(c, pg) || enum_member(c, pg, "style", paging_names, 1, &style)) return -1;
    r->paging = (svc_paging)style;
    if (page_members(c, pg, r->paging)) return -1;
    const paging_style *ps = paging_style_of(r->paging);
    const char *size_def = ps->size_param;
    if (int_member(c, pg, "size", 100, 1, SVC_PAGE_SIZE_MAX, &r->page_size) ||
        str_member(c, pg, "size_param", size_def, 0, &r->size_param) ||
        str_member(c, pg, "page_param", "page", 0, &r->page_param) ||
        int_member(c, pg, "first_page", 1, 0, SVC_FIRST_PAGE_MAX, &r->first_page) ||
        str_member(c, pg, "offset_param", "offset", 0, &r->offset_param) ||
        str_member(c, pg, "cursor_param", "cursor", 0, &r->cursor_param) ||
        dotted_member(c, pg, "total", NULL, 0, &r->total_path))
        return -1;
    /* A cursor walk cannot guess where the next token lives. */
    if (ps->required && !json_get(pg, ps->required))
        return bad_at(c, ps->required, "required for style %s (%s)", ps->name, ps->required_what);
    if (dotted_member(c, pg, "next", NULL, 0, &r->next_path)) return -1;
    pop(c, at);
    return 0;
}

/* parse_list_exec reads a list made by a program (docs/HANDLERS.md, exec
 * syncs): "exec" and nothing of an HTTP list. */
static int
parse_list_exec(pctx *c, const json *list, svc_resource *r)
{
    for (int i = 0; list_keys[i] && strcmp(list_keys[i], "exec"); i++)
        if (json_get(list, list_keys[i])) return bad_at(c, list_keys[i], "not used by a list made by a program (exec)");
    if (parse_exec(c, list, &r->list_exec)) return -1;
    if (r->list_exec.mode == EXEC_PERSISTENT) {
        push(c, "exec");
        /* a sync runs seldom: a boot per run costs nothing worth a protocol */
        return bad_at(c, "mode", "a sync program runs per_job (one process per sync)");
    }
    return 0;
}

static int
parse_list(pctx *c, const json *obj, svc_resource *r)
{
    const json *list = json_get(obj, "list");
    int method;
    if (!list) return bad_at(c, "list", "required");
    size_t at = push(c, "list");
    if (json_typeof(list) == JSON_OBJECT && json_get(list, "exec")) {
        if (parse_list_exec(c, list, r)) return -1;
        pop(c, at);
        return 0;
    }
    if (!c->base_url) return bad(c, "an HTTP list needs the service's base_url");
    if (known_members(c, list, list_keys) || enum_member(c, list, "method", list_methods, 0, &method)) return -1;
    r->list_method = xstrdup(list_methods[method < 0 ? 0 : method]);
    if (str_member(c, list, "path", NULL, S_REQUIRED, &r->list_path) || check_template(c, "path", r->list_path) ||
        dotted_member(c, list, "items", "", 1, &r->items) ||
        int_member(c, list, "max_pages", 10000, 1, SVC_MAX_PAGES_MAX, &r->max_pages) ||
        parse_pagination(c, list, r))
        return -1;
    pop(c, at);
    return 0;
}

/* ---------------------------------------------------------------- Resources */

static const char *const resource_keys[] = {"id_field", "hash_fields", "natural_key", "max_delete_share", "every_s",
                                            "scopes",   "list",        "sync_action", "actions",          NULL};

static int
parse_resource(pctx *c, const json *m, svc_resource *r)
{
    size_t at = push(c, json_key(m));
    char def[SVC_NAME_MAX + 8];
    if (check_name(c, json_key(m)) || known_members(c, m, resource_keys)) return -1;
    r->name = xstrdup(json_key(m));
    snprintf(def, sizeof(def), "sync_%s", r->name);
    if (dotted_member(c, m, "id_field", "id", 0, &r->id_field) ||
        list_member(c, m, "hash_fields", r->hash_fields, &r->nhash) ||
        list_member(c, m, "natural_key", r->natural_key, &r->nnatural) ||
        num_member(c, m, "max_delete_share", 0.5, 0, 1, &r->max_delete_share) ||
        int_member(c, m, "every_s", 0, 0, SVC_EVERY_MAX_S, &r->every_s) ||
        list_member(c, m, "scopes", r->scopes, &r->nscopes) || parse_list(c, m, r) ||
        str_member(c, m, "sync_action", def, 0, &r->sync_action))
        return -1;
    if (!valid_name(r->sync_action)) {
        push(c, "sync_action");
        return check_name(c, r->sync_action);
    }
    if (parse_actions(c, m, r, &r->actions, &r->nactions)) return -1;
    pop(c, at);
    return 0;
}

/* claim is one (service, action) name and where the file gives it. */
typedef struct claim {
    const char *name;
    char where[384];
} claim;

/* unique_actions wants every action name of a service, sync actions
 * included, claimed once: a job names only (service, action). */
static int
unique_actions(pctx *c, const svc_service *s)
{
    int n = 0, cap = s->nactions + 1;
    claim *cl;
    for (int i = 0; i < s->nresources; i++) cap += 1 + s->resources[i].nactions;
    cl = xcalloc((size_t)cap, sizeof(*cl));
    for (int i = 0; i < s->nactions; i++) {
        size_t at = push(c, "actions");
        push(c, s->actions[i].name);
        cl[n].name = s->actions[i].name;
        snprintf(cl[n++].where, sizeof(cl[0].where), "%s", c->path);
        pop(c, at);
    }
    for (int i = 0; i < s->nresources; i++) {
        const svc_resource *r = &s->resources[i];
        for (int j = -1; j < r->nactions; j++) {
            size_t at = push(c, "resources");
            push(c, r->name);
            if (j < 0) push(c, "sync_action");
            else {
                push(c, "actions");
                push(c, r->actions[j].name);
            }
            cl[n].name = j < 0 ? r->sync_action : r->actions[j].name;
            snprintf(cl[n].where, sizeof(cl[n].where), "%s", c->path);
            for (int k = 0; k < n; k++)
                if (strcmp(cl[k].name, cl[n].name) == 0) {
                    int rc = bad(c, "action \"%s\" is already claimed by %s", cl[n].name, cl[k].where);
                    free(cl);
                    return rc;
                }
            n++;
            pop(c, at);
        }
    }
    free(cl);
    return 0;
}

/* ---------------------------------------------------------------- Services */

static const char *const service_keys[] = {"base_url", "headers",   "connect_timeout_ms", "timeout_ms", "rate_limit",
                                           "resources", "exec",     "actions",            "auth",       "tls",
                                           NULL};
static const char *const rate_keys[] = {"per_second", "burst", NULL};

/* check_base_url: check_url, then trailing slashes are cut so paths join
 * with one. */
static int
check_base_url(pctx *c, char *u)
{
    if (check_url(c, "base_url", u)) return -1;
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/') u[--n] = '\0';
    return 0;
}

static int
parse_rate(pctx *c, const json *obj, svc_service *s)
{
    const json *rl = json_get(obj, "rate_limit");
    if (!rl) return 0;
    size_t at = push(c, "rate_limit");
    if (known_members(c, rl, rate_keys)) return -1;
    if (!json_get(rl, "per_second")) return bad_at(c, "per_second", "required");
    if (num_member(c, rl, "per_second", 0, 0, SVC_RATE_MAX, &s->rate_per_s)) return -1;
    if (s->rate_per_s <= 0) return bad_at(c, "per_second", "must be a number above 0 and at most %d", SVC_RATE_MAX);
    /* Default burst: one second's worth, at least one request. */
    int def = (int)ceil(s->rate_per_s);
    if (int_member(c, rl, "burst", def < 1 ? 1 : def, 1, SVC_RATE_MAX, &s->burst)) return -1;
    pop(c, at);
    return 0;
}

static int
parse_resources(pctx *c, const json *obj, svc_service *s)
{
    const json *rs = json_get(obj, "resources");
    int i = 0;
    if (!rs) return 0;
    size_t at = push(c, "resources");
    if (check_object(c, rs)) return -1;
    s->resources = xcalloc(json_size(rs), sizeof(svc_resource));
    s->nresources = (int)json_size(rs);
    for (const json *m = json_child(rs); m; m = json_next(m), i++)
        if (parse_resource(c, m, &s->resources[i])) return -1;
    pop(c, at);
    return 0;
}

/* has_http_list says whether one of m's resources is listed over HTTP (its
 * list is no program's); a malformed one counts, to be reported later. */
static int
has_http_list(const json *m)
{
    for (const json *r = json_child(json_get(m, "resources")); r; r = json_next(r))
        if (!json_get(json_get(r, "list"), "exec")) return 1;
    return 0;
}

static int
parse_service(pctx *c, const json *m, svc_service *s)
{
    size_t at = push(c, json_key(m));
    if (check_name(c, json_key(m)) || known_members(c, m, service_keys)) return -1;
    s->name = xstrdup(json_key(m));
    if (parse_exec(c, m, &s->exec)) return -1;
    c->dflt = &s->exec;
    /* an exec service needs a base URL only for its resources' HTTP lists;
     * an HTTP service whose resources are all listed by programs, none */
    int http_lists = has_http_list(m);
    if (s->exec.mode != EXEC_NONE && http_lists && !json_get(m, "base_url"))
        return bad_at(c, "base_url", "required by resources (their lists are HTTP requests)");
    /* "resources": {} lists nothing by program: an HTTP service without a base URL would do nothing */
    int need = s->exec.mode == EXEC_NONE && (http_lists || !json_child(json_get(m, "resources")));
    if (str_member(c, m, "base_url", NULL, need ? S_REQUIRED : 0, &s->base_url) ||
        (s->base_url && check_base_url(c, s->base_url)) ||
        int_member(c, m, "connect_timeout_ms", 2000, 1, SVC_TIMEOUT_MAX_MS, &s->connect_timeout_ms) ||
        int_member(c, m, "timeout_ms", 10000, 1, SVC_TIMEOUT_MAX_MS, &s->timeout_ms))
        return -1;
    c->base_url = s->base_url;
    if (s->connect_timeout_ms > s->timeout_ms)
        return bad_at(c, "connect_timeout_ms", "must not exceed timeout_ms (%d)", s->timeout_ms);
    if (parse_rate(c, m, s) || parse_headers(c, m, s) || parse_auth(c, m, s) || parse_tls(c, m, s) ||
        parse_actions(c, m, NULL, &s->actions, &s->nactions) ||
        parse_resources(c, m, s) || unique_actions(c, s))
        return -1;
    pop(c, at);
    return 0;
}

/* parse_plugins reads the root's "plugins": paths of C plugins. */
static int
parse_plugins(pctx *c, const json *root, svc_file *f)
{
    const json *v = json_get(root, "plugins");
    int i = 0;
    if (!v) return 0;
    size_t at = push(c, "plugins");
    if (json_typeof(v) != JSON_ARRAY) return bad(c, "must be an array of paths of C plugins (.so files)");
    if (json_size(v) > SVC_MAX_PLUGINS) return bad(c, "at most %d plugins", SVC_MAX_PLUGINS);
    f->plugins = xcalloc(json_size(v) + 1, sizeof(char *));
    for (const json *it = json_child(v); it; it = json_next(it), i++) {
        const char *s = json_str(it);
        size_t here = push_index(c, i);
        if (!s || !*s || has_control(s) || strchr(s, ',')) return bad(c, "must be a path without commas or control characters");
        f->plugins[f->nplugins++] = xstrdup(s);
        pop(c, here);
    }
    pop(c, at);
    return 0;
}

static int
parse_root(pctx *c, const json *root, svc_file *f)
{
    static const char *const root_keys[] = {"services", "plugins", NULL};
    const json *ss;
    int i = 0;
    if (json_typeof(root) != JSON_OBJECT) return bad(c, "must be a JSON object with a \"services\" member");
    if (known_members(c, root, root_keys) || parse_plugins(c, root, f)) return -1;
    if (!(ss = json_get(root, "services"))) return bad_at(c, "services", "required");
    push(c, "services");
    if (check_object(c, ss)) return -1;
    f->services = xcalloc(json_size(ss), sizeof(svc_service));
    f->nservices = (int)json_size(ss);
    for (const json *m = json_child(ss); m; m = json_next(m), i++)
        if (parse_service(c, m, &f->services[i])) return -1;
    return 0;
}

/* json_error_at adds "(line L, column C)" to json_parse's "... byte N". */
static void
json_error_at(const char *text, size_t len, const char *jerr, char *err, size_t errlen)
{
    const char *b = strstr(jerr, "byte ");
    size_t off = b ? strtoul(b + 5, NULL, 10) : 0, line = 1, col = 1;
    if (!b || off > len) {
        snprintf(err, errlen, "%s", jerr);
        return;
    }
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else col++;
    }
    snprintf(err, errlen, "%s (line %zu, column %zu)", jerr, line, col);
}

static const char *
real_getenv(const char *name)
{
    return getenv(name);
}

svc_file *
svc_parse(const char *text, size_t len, svc_getenv_fn get, char *err, size_t errlen)
{
    pctx c;
    char jerr[160];
    json *root;
    svc_file *f;
    memset(&c, 0, sizeof(c));
    c.get = get ? get : real_getenv;
    c.err = err;
    c.errlen = errlen;
    if (!(root = json_parse(text, len, jerr, sizeof(jerr)))) {
        json_error_at(text, len, jerr, err, errlen);
        return NULL;
    }
    f = xcalloc(1, sizeof(*f));
    if (parse_root(&c, root, f)) {
        svc_free(f);
        f = NULL;
    }
    json_free(root);
    return f;
}

svc_file *
svc_load(const char *path, svc_getenv_fn get, char *err, size_t errlen)
{
    char perr[512];
    sbuf b;
    char chunk[65536];
    size_t n;
    svc_file *f = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        errf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    sbuf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (b.len + n > SVC_FILE_MAX) {
            errf(err, errlen, "%s: larger than %d MiB", path, SVC_FILE_MAX >> 20);
            goto out;
        }
        sbuf_add(&b, chunk, n);
    }
    if (ferror(fp)) {
        errf(err, errlen, "%s: read: %s", path, strerror(errno));
        goto out;
    }
    if (!(f = svc_parse(b.buf ? b.buf : "", b.len, get, perr, sizeof(perr))))
        errf(err, errlen, "%s: %s", path, perr);
out:
    fclose(fp); /* read-only: nothing to lose */
    sbuf_free(&b);
    return f;
}

static void
free_exec(svc_exec *e)
{
    for (int i = 0; i < e->argc; i++) free(e->argv[i]);
    free(e->argv);
    for (int i = 0; i < e->nenv; i++) {
        free(e->env[i].name);
        wipe_free(e->env[i].value);
    }
    free(e->cwd);
}

static void
free_actions(svc_action *as, int n)
{
    for (int i = 0; i < n; i++) {
        free(as[i].name);
        free(as[i].method);
        free(as[i].path);
        free_exec(&as[i].exec);
    }
    free(as);
}

static void
free_resource(svc_resource *r)
{
    free(r->name);
    free(r->id_field);
    for (int i = 0; i < r->nhash; i++) free(r->hash_fields[i]);
    for (int i = 0; i < r->nnatural; i++) free(r->natural_key[i]);
    for (int i = 0; i < r->nscopes; i++) free(r->scopes[i]);
    free(r->list_method);
    free(r->list_path);
    free(r->items);
    free(r->size_param);
    free(r->page_param);
    free(r->offset_param);
    free(r->cursor_param);
    free(r->next_path);
    free(r->total_path);
    free(r->sync_action);
    free_exec(&r->list_exec);
    free_actions(r->actions, r->nactions);
}

void
svc_free(svc_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->nplugins; i++) free(f->plugins[i]);
    free(f->plugins);
    for (int i = 0; i < f->nservices; i++) {
        svc_service *s = &f->services[i];
        free(s->name);
        free(s->base_url);
        for (int j = 0; j < s->nheaders; j++) {
            free(s->headers[j].name);
            wipe_free(s->headers[j].value);
        }
        for (int j = 0; j < s->nresources; j++) free_resource(&s->resources[j]);
        free(s->resources);
        free_actions(s->actions, s->nactions);
        free_exec(&s->exec);
        free_auth(s);
    }
    free(f->services);
    free(f);
}

/* ---------------------------------------------------------------- Lookups */

int
svc_find_action(const svc_file *f, const char *service, const char *action, const svc_service **svc,
                const svc_resource **res, const svc_action **act)
{
    if (!f || !service || !action) return -1;
    for (int i = 0; i < f->nservices; i++) {
        const svc_service *s = &f->services[i];
        if (strcmp(s->name, service) != 0) continue;
        for (int k = 0; k < s->nactions; k++) {
            if (strcmp(s->actions[k].name, action) != 0) continue;
            if (svc) *svc = s;
            if (res) *res = NULL;
            if (act) *act = &s->actions[k];
            return 0;
        }
        for (int j = 0; j < s->nresources; j++) {
            const svc_resource *r = &s->resources[j];
            const svc_action *a = NULL;
            int hit = strcmp(r->sync_action, action) == 0;
            for (int k = 0; !hit && k < r->nactions; k++)
                if (strcmp(r->actions[k].name, action) == 0) hit = 1, a = &r->actions[k];
            if (!hit) continue;
            if (svc) *svc = s;
            if (res) *res = r;
            if (act) *act = a;
            return 0;
        }
        return -1; /* service names are unique */
    }
    return -1;
}

svc_status_class
svc_classify(const svc_action *act, int status)
{
    if (act)
        for (int cls = 0; cls < ST_CLASSES; cls++)
            for (int i = 0; i < act->ncodes[cls]; i++)
                if (act->codes[cls][i] == status) return (svc_status_class)cls;
    if (status >= 200 && status <= 299) return ST_SUCCESS;
    if (status == 408 || status == 429 || (status >= 500 && status <= 599)) return ST_TRANSIENT;
    if (status == 404 && act && act->op == OP_DELETE) return ST_SUCCESS; /* already gone */
    return ST_PERMANENT; /* other 4xx; 1xx/3xx that reach us are not understood */
}

/* ---------------------------------------------------------------- Path templates */

/* put_encoded appends s percent-encoded (RFC 3986: all but the unreserved
 * ALPHA DIGIT - . _ ~). Returns -1 when out is full. */
static int
put_encoded(char *out, size_t outlen, size_t *o, const char *s)
{
    long n = pct_encode(s, PCT_UNRESERVED, out + *o, outlen - *o);
    if (n < 0) return -1;
    *o += (size_t)n;
    return 0;
}

/* payload_value finds payload.FIELD[.FIELD] and formats a string or a
 * number into buf; NULL when missing, empty or of another type. */
static const char *
payload_value(const json *payload, const char *field, size_t n, char *buf, size_t buflen)
{
    char seg[256];
    const json *v = payload;
    while (n > 0 && v) {
        size_t l = 0;
        while (l < n && field[l] != '.') l++;
        if (l >= sizeof(seg)) return NULL;
        memcpy(seg, field, l);
        seg[l] = '\0';
        v = json_get(v, seg);
        field += l;
        n -= l;
        if (n > 0) field++, n--;
    }
    if (json_typeof(v) == JSON_STRING) return *json_str(v) ? json_str(v) : NULL;
    if (json_typeof(v) != JSON_NUMBER) return NULL;
    double d = json_num(v);
    if (d == floor(d) && fabs(d) < 1e15) snprintf(buf, buflen, "%.0f", d);
    else snprintf(buf, buflen, "%.17g", d);
    return buf;
}

int
svc_expand(const char *tmpl, const char *scope, const char *target_id, const json *payload, char *out,
           size_t outlen, char *err, size_t errlen)
{
    size_t o = 0;
    char num[64];
    if (!out || outlen == 0) return errf(err, errlen, "no room for the path");
    out[0] = '\0';
    for (const char *p = tmpl; *p;) {
        if (*p != '{') {
            if (o + 1 >= outlen) goto too_long;
            out[o++] = *p++;
            continue;
        }
        const char *name = p + 1, *end = strchr(name, '}');
        const char *v;
        if (!end) {
            errf(err, errlen, "path template: unterminated { at byte %zu", (size_t)(p - tmpl));
            goto bad_path;
        }
        size_t n = (size_t)(end - name);
        if (n == 5 && memcmp(name, "scope", 5) == 0) {
            if (!(v = scope) || !*v) {
                errf(err, errlen, "path needs {scope} but the job has no scope");
                goto bad_path;
            }
        } else if (n == 9 && memcmp(name, "target_id", 9) == 0) {
            if (!(v = target_id) || !*v) {
                errf(err, errlen, "path needs {target_id} but the job has none");
                goto bad_path;
            }
        } else if (n > 8 && memcmp(name, "payload.", 8) == 0) {
            if (!(v = payload_value(payload, name + 8, n - 8, num, sizeof(num)))) {
                errf(err, errlen, "path needs {%.*s} but the payload has no non-empty string or number there",
                     (int)n, name);
                goto bad_path;
            }
        } else {
            errf(err, errlen, "path template: unknown placeholder {%.*s}", (int)n, name);
            goto bad_path;
        }
        if (put_encoded(out, outlen, &o, v)) goto too_long;
        p = end + 1;
    }
    out[o] = '\0';
    return 0;
too_long:
    errf(err, errlen, "the expanded path is longer than %zu bytes", outlen - 1);
bad_path:
    out[0] = '\0'; /* never a half-filled path */
    return -1;
}
