/* url.c - Redis URL parsing, and password redaction of Redis/PostgreSQL URLs and conninfo for logs. */
#include "fmacros.h"
#include "errf.h"
#include "pct.h"
#include "url.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define URL_MASK "********"

/* ---------------------------------------------------------------- Parsing */

/* copy_part copies s[0..n) into dst[cap], decoding %XX when decode is set.
 * The error names the part, never its text: it may be a password. */
static int
copy_part(char *dst, size_t cap, const char *s, size_t n, int decode, const char *what, char *err, size_t errlen)
{
    long r = PCT_ELONG;
    if (decode) {
        r = pct_decode(s, n, 0, dst, cap);
    } else if (n < cap) {
        memcpy(dst, s, n);
        dst[n] = '\0';
        r = 0;
    }
    if (r == PCT_EBAD) return errf(err, errlen, "bad percent-escape in Redis URL %s", what);
    if (r == PCT_ELONG) return errf(err, errlen, "Redis URL %s is too long (max %zu bytes)", what, cap - 1);
    return 0;
}

/* parse_num reads a whole decimal number s[0..n) in [min,max]. */
static int
parse_num(const char *s, size_t n, long long min, long long max, int *out)
{
    long long v = 0; /* at most 10 digits: fits, even where long is 32 bits */
    if (n == 0 || n > 10) return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max) return -1;
    *out = (int)v;
    return 0;
}

static int
parse_db(const char *s, size_t n, redis_url *u, char *err, size_t errlen)
{
    if (parse_num(s, n, 0, INT_MAX, &u->db))
        return errf(err, errlen, "bad database number \"%.*s\" in Redis URL", (int)(n > 32 ? 32 : n), s);
    return 0;
}

/* parse_userinfo splits [user]:password, or a lone password (as redis-cli
 * does: before Redis 6 there were no users, so redis://secret@host is AUTH secret). */
static int
parse_userinfo(const char *s, size_t n, redis_url *u, char *err, size_t errlen)
{
    const char *colon = memchr(s, ':', n);
    if (!colon) return copy_part(u->password, sizeof(u->password), s, n, 1, "password", err, errlen);
    if (copy_part(u->user, sizeof(u->user), s, (size_t)(colon - s), 1, "user", err, errlen)) return -1;
    return copy_part(u->password, sizeof(u->password), colon + 1, (size_t)(s + n - colon - 1), 1, "password",
                     err, errlen);
}

static int
parse_param(const char *s, size_t n, redis_url *u, char *err, size_t errlen)
{
    const char *eq = memchr(s, '=', n);
    size_t nl = eq ? (size_t)(eq - s) : n, vl = eq ? n - nl - 1 : 0;
    if (!eq) return errf(err, errlen, "Redis URL parameter \"%.*s\" has no value", (int)(nl > 32 ? 32 : nl), s);
    if (nl == 2 && memcmp(s, "db", 2) == 0) return parse_db(eq + 1, vl, u, err, errlen);
    if (nl == 8 && memcmp(s, "password", 8) == 0)
        return copy_part(u->password, sizeof(u->password), eq + 1, vl, 1, "password", err, errlen);
    if ((nl == 4 && memcmp(s, "user", 4) == 0) || (nl == 8 && memcmp(s, "username", 8) == 0))
        return copy_part(u->user, sizeof(u->user), eq + 1, vl, 1, "user", err, errlen);
    if (nl == 6 && memcmp(s, "cacert", 6) == 0) return copy_part(u->cacert, sizeof(u->cacert), eq + 1, vl, 1, "cacert", err, errlen);
    if (nl == 4 && memcmp(s, "cert", 4) == 0) return copy_part(u->cert, sizeof(u->cert), eq + 1, vl, 1, "cert", err, errlen);
    if (nl == 3 && memcmp(s, "key", 3) == 0) return copy_part(u->key, sizeof(u->key), eq + 1, vl, 1, "key", err, errlen);
    return errf(err, errlen, "unknown Redis URL parameter \"%.*s\" (known: db, password, user; rediss: cacert, cert, key)",
                (int)(nl > 32 ? 32 : nl), s);
}

/* parse_query reads db=N&password=P&user=U; later values win. */
static int
parse_query(const char *q, redis_url *u, char *err, size_t errlen)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        if (n > 0 && parse_param(q, n, u, err, errlen)) return -1;
        q += n;
        if (*q == '&') q++;
    }
    return 0;
}

/* parse_hostport reads host[:port] or [v6addr][:port]. */
static int
parse_hostport(const char *s, size_t n, redis_url *u, char *err, size_t errlen)
{
    const char *host = s, *port = NULL;
    size_t hl = n;
    if (n > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb) return errf(err, errlen, "unterminated [IPv6 address] in Redis URL");
        host = s + 1;
        hl = (size_t)(rb - host);
        if (rb + 1 < s + n && rb[1] != ':') return errf(err, errlen, "bad text after ] in Redis URL");
        if (rb + 1 < s + n) port = rb + 2;
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon) {
            hl = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (hl == 0) return errf(err, errlen, "empty host in Redis URL");
    if (copy_part(u->host, sizeof(u->host), host, hl, 0, "host", err, errlen)) return -1;
    if (port && parse_num(port, (size_t)(s + n - port), 1, 65535, &u->port))
        return errf(err, errlen, "bad port \"%.*s\" in Redis URL (expected 1..65535)",
                    (int)(s + n - port > 16 ? 16 : s + n - port), port);
    return 0;
}

/* parse_tcp reads [[user]:password@]host[:port][/db][?query] (after
 * "redis://"). The userinfo runs to the last '@' before ? or #, so an
 * unescaped '/' or '@' in a password still works (the path is only a db
 * number, so it never holds an '@'). */
static int
parse_tcp(const char *s, redis_url *u, char *err, size_t errlen)
{
    const char *stop = s + strcspn(s, "?#"), *at = NULL, *hp, *rest;
    size_t pl;
    for (const char *p = s; p < stop; p++)
        if (*p == '@') at = p;
    if (at && parse_userinfo(s, (size_t)(at - s), u, err, errlen)) return -1;
    hp = at ? at + 1 : s;
    rest = hp + strcspn(hp, "/?#");
    if (parse_hostport(hp, (size_t)(rest - hp), u, err, errlen)) return -1;
    if (*rest == '/') {
        rest++;
        pl = strcspn(rest, "?#");
        if (pl > 0 && parse_db(rest, pl, u, err, errlen)) return -1;
        rest += pl;
    }
    return *rest == '?' ? parse_query(rest + 1, u, err, errlen) : 0;
}

/* parse_unix reads [[user]:password@]/path[?query] (after "unix://"). */
static int
parse_unix(const char *s, redis_url *u, char *err, size_t errlen)
{
    const char *path = s;
    u->port = 0;
    if (*s != '/') {
        const char *at = strchr(s, '@');
        if (!at || at[1] != '/') return errf(err, errlen, "unix socket URL needs an absolute path: unix:///path");
        if (parse_userinfo(s, (size_t)(at - s), u, err, errlen)) return -1;
        path = at + 1;
    }
    size_t pl = strcspn(path, "?#");
    if (pl <= 1) return errf(err, errlen, "missing socket path in unix:// URL");
    if (copy_part(u->path, sizeof(u->path), path, pl, 0, "socket path", err, errlen)) return -1;
    return path[pl] == '?' ? parse_query(path + pl + 1, u, err, errlen) : 0;
}

/* parse_sentinel reads [[user]:password@]h[:p][,h[:p]...]/MASTER[/db][?query]
 * (after "redis-sentinel://"). */
static int
parse_sentinel(const char *s, redis_url *u, char *err, size_t errlen)
{
    const char *stop = s + strcspn(s, "?#"), *at = NULL, *p, *slash;
    for (p = s; p < stop; p++)
        if (*p == '@') at = p;
    if (at && parse_userinfo(s, (size_t)(at - s), u, err, errlen)) return -1;
    p = at ? at + 1 : s;
    slash = p + strcspn(p, "/?#");
    while (p < slash) {
        size_t n = strcspn(p, ",/?#");
        redis_url one;
        if (u->nsentinels == URL_MAX_SENTINELS)
            return errf(err, errlen, "more than %d sentinels in redis-sentinel:// URL", URL_MAX_SENTINELS);
        memset(&one, 0, sizeof(one));
        one.port = 26379;
        if (parse_hostport(p, n, &one, err, errlen)) return -1;
        memcpy(u->sentinels[u->nsentinels].host, one.host, sizeof(one.host));
        u->sentinels[u->nsentinels++].port = one.port;
        p += n;
        if (*p == ',') p++;
    }
    if (u->nsentinels == 0) return errf(err, errlen, "no sentinel in redis-sentinel:// URL");
    if (*slash != '/' || !slash[1] || strchr("/?#", slash[1]))
        return errf(err, errlen, "missing master name in redis-sentinel:// URL (redis-sentinel://h:26379/mymaster)");
    p = slash + 1;
    size_t ml = strcspn(p, "/?#");
    if (copy_part(u->master, sizeof(u->master), p, ml, 1, "master name", err, errlen)) return -1;
    p += ml;
    if (*p == '/') {
        size_t dl = strcspn(++p, "?#");
        if (dl > 0 && parse_db(p, dl, u, err, errlen)) return -1;
        p += dl;
    }
    return *p == '?' ? parse_query(p + 1, u, err, errlen) : 0;
}

static int
bad_scheme(const char *s, char *err, size_t errlen)
{
    const char *sep = strstr(s, "://");
    if (!sep) return errf(err, errlen, "not a Redis URL (expected redis://host[:port][/db], unix:///path or redis-sentinel://h:26379/master)");
    size_t n = (size_t)(sep - s);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '@' || s[i] == ':' || (unsigned char)s[i] <= ' ' || n > 16)
            return errf(err, errlen, "not a Redis URL (expected redis:// or unix://)");
    return errf(err, errlen, "unsupported URL scheme \"%.*s\" (expected redis:// or unix://)", (int)n, s);
}

int
redis_url_parse(const char *s, redis_url *u, char *err, size_t errlen)
{
    redis_url tmp;
    int rc;
    memset(&tmp, 0, sizeof(tmp));
    tmp.port = 6379;
    if (!s || !*s) return errf(err, errlen, "empty Redis URL");
    if (strncasecmp(s, "redis://", 8) == 0) rc = parse_tcp(s + 8, &tmp, err, errlen);
    else if (strncasecmp(s, "rediss://", 9) == 0) {
        tmp.tls = 1;
        rc = parse_tcp(s + 9, &tmp, err, errlen);
    }
    else if (strncasecmp(s, "unix://", 7) == 0) rc = parse_unix(s + 7, &tmp, err, errlen);
    else if (strncasecmp(s, "redis-sentinel://", 17) == 0) rc = parse_sentinel(s + 17, &tmp, err, errlen);
    else rc = bad_scheme(s, err, errlen);
    if (rc == 0) *u = tmp;
    return rc;
}

/* ---------------------------------------------------------------- Password from a file */

int
redis_url_set_password(const char *url, const char *password, char *out, size_t outlen, char *err, size_t errlen)
{
    char enc[3 * 256 + 1];
    const char *sep = url ? strstr(url, "://") : NULL;
    if (!sep) return errf(err, errlen, "not a Redis URL");
    const char *auth = sep + 3, *stop = auth + strcspn(auth, "?#"), *at = NULL;
    /* the userinfo runs to the last '@' before the query, as parse_tcp reads it */
    for (const char *p = auth; p < stop; p++)
        if (*p == '@') at = p;
    if (at && memchr(auth, ':', (size_t)(at - auth)))
        return errf(err, errlen, "the Redis URL carries a password and a password file is set: use one");
    if (strstr(stop, "password=")) return errf(err, errlen, "the Redis URL carries a password and a password file is set: use one");
    if (pct_encode(password, PCT_UNRESERVED, enc, sizeof(enc)) < 0) return errf(err, errlen, "the Redis password is too long");
    size_t ul = at ? (size_t)(at - auth) : 0;
    int n = snprintf(out, outlen, "%.*s%.*s:%s@%s", (int)(auth - url), url, (int)ul, auth, enc, at ? at + 1 : auth);
    explicit_bzero(enc, sizeof(enc));
    if (n < 0 || (size_t)n >= outlen) return errf(err, errlen, "the Redis URL with its password is too long");
    return 0;
}

/* ---------------------------------------------------------------- Redaction */

/* A bounded writer: output past the end is dropped, the text stays terminated. */
typedef struct out {
    char *p;
    size_t len, cap;
} out;

static void
put(out *o, const char *s, size_t n)
{
    size_t room = o->cap - 1 - o->len;
    if (n > room) n = room;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static int
is_password_name(const char *s, size_t n)
{
    return (n == 8 && strncasecmp(s, "password", 8) == 0) || (n == 11 && strncasecmp(s, "sslpassword", 11) == 0);
}

/* redact_query copies a query string, masking password= and sslpassword=. */
static void
redact_query(const char *q, out *o)
{
    while (*q) {
        size_t n = strcspn(q, "&#"), nl = strcspn(q, "=&#");
        if (q[nl] == '=' && is_password_name(q, nl)) {
            put(o, q, nl + 1);
            put(o, URL_MASK, 8);
        } else put(o, q, n);
        q += n;
        if (*q == '#') {
            put(o, q, strlen(q));
            return;
        }
        if (*q) put(o, q++, 1);
    }
}

/* redact_uri masks the userinfo password of scheme://user:PW@host and the
 * query passwords. A lone userinfo is a password for Redis (see
 * parse_userinfo) but a user name for PostgreSQL. Redaction is warier than
 * parsing: an unescaped '/' in a password (base64 makes them) must not end
 * the userinfo early, or a URL that failed to parse would leak in the log
 * line that reports it. So the userinfo runs to the last '@' before ? or #. */
static void
redact_uri(const char *in, const char *sep, out *o)
{
    const char *auth = sep + 3, *stop = auth + strcspn(auth, "?#"), *at = NULL, *end;
    int redis = strncasecmp(in, "redis", 5) == 0 || strncasecmp(in, "unix", 4) == 0;
    for (const char *p = auth; p < stop; p++)
        if (*p == '@') at = p;
    end = at ? at + strcspn(at, "/?#") : auth + strcspn(auth, "/?#");
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon || (at && redis)) {
        const char *from = colon ? colon + 1 : auth;
        put(o, in, (size_t)(from - in));
        put(o, URL_MASK, 8);
        put(o, at, (size_t)(end - at));
    } else put(o, in, (size_t)(end - in));
    size_t pl = strcspn(end, "?");
    put(o, end, pl);
    if (end[pl] == '?') {
        put(o, "?", 1);
        redact_query(end + pl + 1, o);
    }
}

/* conn_value returns the length of a conninfo value: 'quoted with \' escapes' or bare. */
static size_t
conn_value(const char *v)
{
    size_t i = 0;
    if (*v != '\'') return strcspn(v, " \t\n\r");
    for (i = 1; v[i] && v[i] != '\''; i++)
        if (v[i] == '\\' && v[i + 1]) i++;
    return v[i] == '\'' ? i + 1 : i;
}

/* redact_conninfo copies "host=h password=secret" with each password value
 * masked. Like libpq, blanks may surround '=' and a value may be 'quoted'. */
static void
redact_conninfo(const char *in, out *o)
{
    const char *p = in;
    while (*p) {
        size_t ws = strspn(p, " \t\n\r");
        put(o, p, ws);
        p += ws;
        if (!*p) break;
        size_t kl = strcspn(p, " \t\n\r=");
        const char *eq = p + kl + strspn(p + kl, " \t");
        if (*eq != '=') { /* not key=value: copy the word as it is */
            put(o, p, kl);
            p += kl;
            continue;
        }
        const char *val = eq + 1 + strspn(eq + 1, " \t");
        size_t vl = conn_value(val);
        put(o, p, (size_t)(val - p));
        if (is_password_name(p, kl)) put(o, URL_MASK, 8);
        else put(o, val, vl);
        p = val + vl;
    }
}

/* starts_uri says whether s begins with scheme "://" (RFC 3986 scheme characters). */
static const char *
starts_uri(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    return n > 0 && strncmp(s + n, "://", 3) == 0 ? s + n : NULL;
}

void
url_redact(const char *in, char *outbuf, size_t outlen)
{
    out o = {outbuf, 0, outlen};
    const char *sep;
    if (outlen == 0) return;
    outbuf[0] = '\0';
    if (!in) return;
    if ((sep = starts_uri(in)) != NULL) redact_uri(in, sep, &o);
    else redact_conninfo(in, &o);
}
