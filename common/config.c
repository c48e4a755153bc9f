/* config.c - configuration: defaults, then SYNCQ_* environment variables, validated (12-factor). */
#include "fmacros.h"
#include "errf.h"
#include "config.h"
#include "log.h"
#include "url.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_WEIGHT_MAX 1000

/* Variables that are copied as text. Values are never echoed in errors:
 * URLs may carry passwords. */
typedef struct str_var {
    const char *name;
    size_t off, size;
    const char *file_name; /* NAME_FILE: read the value from that file (container secrets), or NULL */
} str_var;

#define STR_VAR(env, field) {env, offsetof(config, field), sizeof(((config *)0)->field), NULL}
#define SECRET_VAR(env, field, file) {env, offsetof(config, field), sizeof(((config *)0)->field), file}

static const str_var str_vars[] = {
    SECRET_VAR("SYNCQ_REDIS_URL", redis_url, "SYNCQ_REDIS_URL_FILE"),
    SECRET_VAR("SYNCQ_DATABASE_URL", database_url, "SYNCQ_DATABASE_URL_FILE"),
    STR_VAR("SYNCQ_PREFIX", prefix),
    STR_VAR("SYNCQ_SERVICES", services_path),
    STR_VAR("SYNCQ_PLUGINS", plugins),
    STR_VAR("SYNCQ_MASK_KEYS", mask_keys),
    STR_VAR("SYNCQ_METRICS_ADDR", metrics_addr),
};

/* Integer variables; size tells an int field from an int64_t one. */
typedef struct int_var {
    const char *name;
    size_t off, size;
    int64_t min, max;
} int_var;

#define INT_VAR(env, field, lo, hi) {env, offsetof(config, field), sizeof(((config *)0)->field), lo, hi}

static const int_var int_vars[] = {
    INT_VAR("SYNCQ_CONCURRENCY", concurrency, 1, CONFIG_MAX_CHILDREN),
    INT_VAR("SYNCQ_FETCH_BATCH", batch, 1, CONFIG_MAX_BATCH),
    INT_VAR("SYNCQ_CHILD_CALLS", calls, 1, CONFIG_MAX_CALLS),
    INT_VAR("SYNCQ_OUTBOX_MAX", outbox_max, 1, 1000000000),
    INT_VAR("SYNCQ_HEARTBEAT_TTL", heartbeat_ttl_s, 2, 3600),
    INT_VAR("SYNCQ_HEARTBEAT_EVERY", heartbeat_every_s, 1, 1800),
    INT_VAR("SYNCQ_REAP_EVERY", reap_every_s, 1, 3600),
    INT_VAR("SYNCQ_GRACE", grace_s, 0, 3600),
    INT_VAR("SYNCQ_MAX_ENVELOPE", max_envelope, 1024, 512 * 1024 * 1024), /* Redis caps strings at 512 MiB */
    INT_VAR("SYNCQ_WRITER_BATCH", writer_batch, 1, 100000),
    INT_VAR("SYNCQ_BACKOFF_BASE_MS", backoff_base_ms, 1, 3600000),
    INT_VAR("SYNCQ_TIMEOUT_MS", timeout_ms, 1, 86400000),
    INT_VAR("SYNCQ_CHILD_CPU_S", child_cpu_s, 0, 86400),
    INT_VAR("SYNCQ_PG_PREPARE", pg_prepare, 0, 1),
    INT_VAR("SYNCQ_CHILD_MEM_MB", child_mem_mb, 0, 1048576),
    INT_VAR("SYNCQ_KILL_GRACE_MS", kill_grace_ms, 0, 60000),
};

void
config_defaults(config *c)
{
    char err[128];
    memset(c, 0, sizeof(*c));
    snprintf(c->redis_url, sizeof(c->redis_url), "redis://127.0.0.1:6379/0");
    snprintf(c->prefix, sizeof(c->prefix), "syncq");
    snprintf(c->metrics_addr, sizeof(c->metrics_addr), "127.0.0.1:9464");
    c->concurrency = 4;
    c->batch = 16;
    c->calls = 1;
    c->outbox_max = 200000;
    c->heartbeat_ttl_s = 30;
    c->heartbeat_every_s = 5;
    c->reap_every_s = 5;
    c->grace_s = 25;
    c->timeout_ms = 30000;
    c->kill_grace_ms = 1000;
    c->max_envelope = 1024 * 1024;
    c->writer_batch = 5000;
    c->pg_prepare = 1;
    c->backoff_base_ms = 1000;
    c->log_level = LOG_INFO;
    int rc = config_set_queues(c, "urgent,default,sync", err, sizeof(err));
    (void)rc; /* a constant that is known to be valid */
}

int
config_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v;
    /* strtoll would skip leading blanks and accept "0x"-less junk after digits: refuse both. */
    if (!s || !((*s >= '0' && *s <= '9') || *s == '-' || *s == '+')) return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------- Durations */

#define DURATION_MAX_MS ((int64_t)100 * 366 * 86400000) /* a century: no overflow below */

/* duration_unit reads a unit at s; returns its milliseconds (0 when none)
 * and its length in *n. "ms" is tried before "m". */
static int64_t
duration_unit(const char *s, size_t *n)
{
    static const struct { const char *name; int64_t ms; } units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"w", 604800000},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t l = strlen(units[i].name);
        if (strncmp(s, units[i].name, l) == 0) {
            *n = l;
            return units[i].ms;
        }
    }
    return 0;
}

int
config_parse_duration_ms(const char *s, int64_t *ms)
{
    int64_t total = 0;
    if (!s || !*s) return -1;
    while (*s) {
        int64_t v = 0, unit;
        size_t ul = 0;
        if (*s < '0' || *s > '9') return -1; /* a number first: no sign, no blank */
        for (; *s >= '0' && *s <= '9'; s++) {
            v = v * 10 + (*s - '0');
            if (v > DURATION_MAX_MS) return -1;
        }
        if ((unit = duration_unit(s, &ul)) == 0) return -1; /* "30" alone is ambiguous */
        if (v > (DURATION_MAX_MS - total) / unit) return -1;
        total += v * unit;
        s += ul;
    }
    *ms = total;
    return 0;
}

/* ---------------------------------------------------------------- Listen addresses */

int
config_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon, *h = s;
    size_t hl;
    int64_t p;
    if (!s) return -1;
    if (*s == '[') { /* [v6]:port */
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':') return -1;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
        if (hl == 0 || strspn(h, "0123456789abcdefABCDEF:.") < hl) return -1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || memchr(s, ':', (size_t)(colon - s))) return -1; /* a bare v6 address needs brackets */
        hl = (size_t)(colon - s);
        if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") < hl) return -1;
    }
    if (hl >= hostlen || config_parse_int(colon + 1, 0, 65535, &p) < 0 || colon[1] == '+' || colon[1] == '-')
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

int
config_valid_queue_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n >= CONFIG_QUEUE_NAME_MAX) return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* ---------------------------------------------------------------- Queues */

/* trim cuts blanks off both ends of s in place and returns it. */
static char *
trim(char *s)
{
    size_t n;
    while (*s == ' ' || *s == '\t') s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    return s;
}

/* parse_queue reads one " name [: weight] " item of a queue list. */
static int
parse_queue(const char *s, size_t n, config_queue *q, int *weighted, char *err, size_t errlen)
{
    char buf[128], *name, *colon;
    int64_t w = 0;
    if (n >= sizeof(buf)) return errf(err, errlen, "queue \"%.64s...\" is invalid: name too long", s);
    memcpy(buf, s, n);
    buf[n] = '\0';
    if ((colon = strchr(buf, ':')) != NULL) *colon = '\0';
    name = trim(buf);
    if (!*name) return errf(err, errlen, "empty queue name in the queue list");
    if (colon) {
        char *ws = trim(colon + 1);
        *weighted = 1;
        if (config_parse_int(ws, 1, QUEUE_WEIGHT_MAX, &w))
            return errf(err, errlen, "queue \"%.64s\": weight \"%.32s\" is not an integer in 1..%d", name, ws,
                        QUEUE_WEIGHT_MAX);
    }
    if (!config_valid_queue_name(name))
        return errf(err, errlen, "queue name \"%.64s\" is invalid: use 1..%d characters of [A-Za-z0-9_.-]", name,
                    CONFIG_QUEUE_NAME_MAX - 1);
    snprintf(q->name, sizeof(q->name), "%s", name);
    q->weight = (int)w;
    return 0;
}

static int
has_queue(const config_queue *qs, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(qs[i].name, name) == 0) return 1;
    return 0;
}

int
config_set_queues(config *c, const char *spec, char *err, size_t errlen)
{
    config_queue qs[CONFIG_MAX_QUEUES];
    int n = 0, weighted = 0;
    const char *p = spec;
    memset(qs, 0, sizeof(qs)); /* names are copied whole: no stack bytes after the NUL */
    if (!spec) return errf(err, errlen, "no queues given");
    for (;;) {
        size_t len = strcspn(p, ",");
        if (n == CONFIG_MAX_QUEUES) return errf(err, errlen, "more than %d queues", CONFIG_MAX_QUEUES);
        if (parse_queue(p, len, &qs[n], &weighted, err, errlen)) return -1;
        if (has_queue(qs, n, qs[n].name)) return errf(err, errlen, "queue \"%s\" is listed twice", qs[n].name);
        n++;
        p += len;
        if (!*p++) break;
    }
    /* Weighted mode: a queue without a weight gets 1. Strict mode: all 0. */
    for (int i = 0; i < n; i++) qs[i].weight = weighted ? (qs[i].weight ? qs[i].weight : 1) : 0;
    memcpy(c->queues, qs, (size_t)n * sizeof(qs[0]));
    c->nqueues = n;
    c->weighted = weighted;
    return 0;
}

/* ---------------------------------------------------------------- Environment */

static int
set_str(config *c, const str_var *v, const char *val, char *err, size_t errlen)
{
    size_t n = strlen(val);
    if (n >= v->size) return errf(err, errlen, "%s is too long (%zu bytes, max %zu)", v->name, n, v->size - 1);
    memcpy((char *)c + v->off, val, n + 1);
    return 0;
}

static int
set_int(config *c, const int_var *v, const char *val, char *err, size_t errlen)
{
    int64_t x;
    if (config_parse_int(val, v->min, v->max, &x))
        return errf(err, errlen, "%s=\"%.64s\" is not an integer in %lld..%lld", v->name, val, (long long)v->min,
                    (long long)v->max);
    if (v->size == sizeof(int64_t)) *(int64_t *)(void *)((char *)c + v->off) = x;
    else *(int *)(void *)((char *)c + v->off) = (int)x;
    return 0;
}

/* lookup treats an empty variable as unset: compose files and shells often
 * pass FOO= for "not configured". */
static const char *
lookup(config_getenv_fn get, const char *name)
{
    const char *v = get(name);
    return v && *v ? v : NULL;
}

/* from_file sets v from the first line of the file NAME_FILE names (the
 * Docker and Kubernetes secrets convention). The file's text is a secret:
 * no error quotes it. */
static int
from_file(config *c, const str_var *v, const char *path, char *err, size_t errlen)
{
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (!f) return errf(err, errlen, "%s: cannot read \"%.200s\": %s", v->file_name, path, strerror(errno));
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) return errf(err, errlen, "%s: cannot read \"%.200s\"", v->file_name, path);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0'; /* one line; editors add a newline */
    if (!buf[0]) return errf(err, errlen, "%s: \"%.200s\" is empty", v->file_name, path);
    int rc = set_str(c, v, buf, err, errlen);
    explicit_bzero(buf, sizeof(buf));
    return rc;
}

static int
str_var_set(config *c, config_getenv_fn get, const str_var *sv, char *err, size_t errlen)
{
    const char *v = lookup(get, sv->name), *path = sv->file_name ? lookup(get, sv->file_name) : NULL;
    if (v && path) return errf(err, errlen, "set %s or %s, not both", sv->name, sv->file_name);
    if (path) return from_file(c, sv, path, err, errlen);
    return v ? set_str(c, sv, v, err, errlen) : 0;
}

/* read_line reads the first line of path into buf (a secret: never quoted). */
static int
read_line(const char *var, const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) return errf(err, errlen, "%s: cannot read \"%.200s\": %s", var, path, strerror(errno));
    size_t n = fread(buf, 1, cap - 1, f);
    int bad = ferror(f);
    fclose(f);
    buf[n] = '\0';
    if (bad) return errf(err, errlen, "%s: cannot read \"%.200s\"", var, path);
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) return errf(err, errlen, "%s: \"%.200s\" is empty", var, path);
    return 0;
}

/* password_file puts the password SYNCQ_REDIS_PASSWORD_FILE holds into the
 * Redis URL (whose user, if any, stays): a container secret holding only
 * the password, so the URL itself may sit in plain configuration. */
static int
password_file(config *c, config_getenv_fn get, char *err, size_t errlen)
{
    const char *path = lookup(get, "SYNCQ_REDIS_PASSWORD_FILE");
    char pw[256], url[sizeof(c->redis_url)], why[128];
    if (!path) return 0;
    int rc = read_line("SYNCQ_REDIS_PASSWORD_FILE", path, pw, sizeof(pw), err, errlen);
    if (rc == 0 && redis_url_set_password(c->redis_url, pw, url, sizeof(url), why, sizeof(why)) < 0)
        rc = errf(err, errlen, "SYNCQ_REDIS_PASSWORD_FILE: %s", why);
    if (rc == 0) memcpy(c->redis_url, url, sizeof(url));
    explicit_bzero(pw, sizeof(pw));
    explicit_bzero(url, sizeof(url));
    return rc;
}

static int
env_vars(config *c, config_getenv_fn get, char *err, size_t errlen)
{
    const char *v;
    for (size_t i = 0; i < sizeof(str_vars) / sizeof(str_vars[0]); i++)
        if (str_var_set(c, get, &str_vars[i], err, errlen)) return -1;
    if (password_file(c, get, err, errlen)) return -1;
    for (size_t i = 0; i < sizeof(int_vars) / sizeof(int_vars[0]); i++)
        if ((v = lookup(get, int_vars[i].name)) && set_int(c, &int_vars[i], v, err, errlen)) return -1;
    if ((v = lookup(get, "SYNCQ_LOG_LEVEL")) && (c->log_level = log_level_from(v)) < 0)
        return errf(err, errlen, "SYNCQ_LOG_LEVEL=\"%.64s\" is unknown (use debug, info, warn or error)", v);
    if ((v = lookup(get, "SYNCQ_QUEUES"))) {
        char qerr[256];
        if (config_set_queues(c, v, qerr, sizeof(qerr)))
            return errf(err, errlen, "SYNCQ_QUEUES=\"%.64s\": %s", v, qerr);
    }
    return 0;
}

/* check_all holds the rules that tie variables together or constrain text. */
static int
check_all(const config *c, char *err, size_t errlen)
{
    size_t n = strlen(c->prefix);
    /* The prefix starts every key: braces would break the {QUEUE} hash tag. */
    if (n == 0 || strspn(c->prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") != n)
        return errf(err, errlen, "SYNCQ_PREFIX=\"%.64s\" is invalid (use [A-Za-z0-9_.:-])", c->prefix);
    char host[128];
    int port;
    if (strcmp(c->metrics_addr, "off") != 0 && config_parse_listen(c->metrics_addr, host, sizeof(host), &port) < 0)
        return errf(err, errlen, "SYNCQ_METRICS_ADDR=\"%.64s\" is invalid (use host:port, [v6]:port, :port or off)",
                    c->metrics_addr);
    /* A child holds its lease for half the TTL after a refresh (docs/LEASES.md):
     * at least two refreshes must fit in that. */
    if (c->heartbeat_every_s * 3 > c->heartbeat_ttl_s)
        return errf(err, errlen, "SYNCQ_HEARTBEAT_EVERY=%d must be at most a third of SYNCQ_HEARTBEAT_TTL=%d",
                    c->heartbeat_every_s, c->heartbeat_ttl_s);
    return 0;
}

static const char *
real_getenv(const char *name)
{
    return getenv(name);
}

/* config_from_env works on a copy and writes *c only when every value is good. */
int
config_from_env(config *c, config_getenv_fn get, char *err, size_t errlen)
{
    config tmp = *c;
    if (!get) get = real_getenv;
    if (env_vars(&tmp, get, err, errlen) || check_all(&tmp, err, errlen)) return -1;
    *c = tmp;
    return 0;
}

/* the display twin of config_parse_duration_ms (CLI tables, the web console) */
char *
config_fmt_duration_ms(int64_t ms, char *buf, size_t len)
{
    int64_t s = ms / 1000;
    if (ms < 0) snprintf(buf, len, "-");
    else if (ms < 1000) snprintf(buf, len, "%lldms", (long long)ms);
    else if (ms < 60000) snprintf(buf, len, "%.1fs", (double)ms / 1000);
    else if (s < 3600) snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else if (s < 86400) snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    return buf;
}
