/* rds.c - the only file that knows hiredis. */
#include "fmacros.h"
#include "clock.h"
#include "cluster.h"
#include "mask.h"
#include "rds.h"
#include "url.h"

#include <hiredis/hiredis.h>
#ifdef SYNCQ_TLS
#include <hiredis/hiredis_ssl.h> /* hiredis >= 1.0 with hiredis_ssl: make TLS=1 (the default when found) */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define CTX(r) ((redisContext *)(r)->ctx)

static rds_reply *cluster_cmdv(rds *r, const char *fmt, va_list ap);

static void
set_err(rds *r, const char *what)
{
    r->err = RDS_ERR_IO;
    if (r->ctx && CTX(r)->err)
        snprintf(r->errstr, sizeof(r->errstr), "%s: %s", what, CTX(r)->errstr);
    else
        snprintf(r->errstr, sizeof(r->errstr), "%s", what);
    mask_in_place(r->errstr, sizeof(r->errstr)); /* errors may quote a URL or an AUTH argument */
}

/* reply_err_clear forgets the error of an earlier reply: it said nothing
 * about the connection. */
static void
reply_err_clear(rds *r)
{
    if (r->err == RDS_ERR_REPLY || r->err == RDS_ERR_FENCED) r->err = RDS_ERR_NONE;
}

void
rds_init(rds *r)
{
    memset(r, 0, sizeof(*r));
}

/* config_err records a configuration problem found while connecting. */
static void
config_err(rds *r, int kind, const char *msg)
{
    r->err = kind;
    snprintf(r->errstr, sizeof(r->errstr), "%s", msg);
}

/* auth_refused maps an error reply of the handshake to a typed error:
 * NOAUTH (no password given, one required), WRONGPASS or an older server's
 * "invalid password", a password sent to a server without one, and a
 * database index out of range. 1 when mapped, 0 when x is something else. */
static int
auth_refused(rds *r, const redisReply *x)
{
    if (!x || x->type != REDIS_REPLY_ERROR) return 0;
    if (!strncmp(x->str, "NOAUTH", 6))
        config_err(r, RDS_ERR_AUTH, "authentication required (NOAUTH): set the password in SYNCQ_REDIS_URL"
                                    " (redis://:PASSWORD@host:port/db)");
    else if (!strncmp(x->str, "WRONGPASS", 9) || strstr(x->str, "invalid password") ||
             strstr(x->str, "invalid username-password"))
        config_err(r, RDS_ERR_AUTH, "authentication failed (WRONGPASS): check the user and password in"
                                    " SYNCQ_REDIS_URL");
    else if (strstr(x->str, "without any password configured"))
        config_err(r, RDS_ERR_AUTH, "SYNCQ_REDIS_URL has a password but the server wants none: remove it");
    else if (strstr(x->str, "DB index is out of range"))
        config_err(r, RDS_ERR_CONFIG, "the database number in SYNCQ_REDIS_URL is out of range for this server");
    else return 0;
    return 1;
}

/* step runs one handshake command: 0, or -1 with a typed error. */
static int
step(rds *r, rds_reply *x)
{
    int ok = rds_reply_ok(r, x);
    if (!ok && x && !auth_refused(r, (const redisReply *)x)) r->err = RDS_ERR_IO;
    rds_reply_free(x);
    return ok ? 0 : -1;
}

static int
handshake(rds *r, const redis_url *u)
{
    if (u->password[0]) {
        rds_reply *x = u->user[0] ? rds_cmdf(r, "AUTH %s %s", u->user, u->password) : rds_cmdf(r, "AUTH %s", u->password);
        if (step(r, x) < 0) return -1;
    }
    if (u->db && step(r, rds_cmdf(r, "SELECT %d", u->db)) < 0) return -1;
    /* the probe: without it a missing password shows up later as "unexpected
     * reply" or a protocol error on the first large command */
    return step(r, rds_cmdf(r, "PING"));
}

/* ---------------------------------------------------------------- Sentinel */

/* ask_sentinel asks one sentinel for the master's address: 0 found, 1 the
 * sentinel knows no such master, -1 unreachable (why says what happened). */
static int
ask_sentinel(const url_endpoint *s, const char *name, struct timeval tv, char *host, size_t hostlen, int *port,
             char *why, size_t whylen)
{
    redisContext *c = redisConnectWithTimeout(s->host, s->port, tv);
    redisReply *x = NULL;
    int rc = -1;
    if (!c || c->err) {
        snprintf(why, whylen, "sentinel %.100s:%d: %.120s", s->host, s->port, c ? c->errstr : "out of memory");
        goto out;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK || !(x = redisCommand(c, "SENTINEL get-master-addr-by-name %s", name))) {
        snprintf(why, whylen, "sentinel %.100s:%d: %.120s", s->host, s->port, c->errstr);
        goto out;
    }
    if (x->type == REDIS_REPLY_ARRAY && x->elements == 2 && x->element[0]->type == REDIS_REPLY_STRING &&
        x->element[1]->type == REDIS_REPLY_STRING) {
        snprintf(host, hostlen, "%s", x->element[0]->str);
        *port = atoi(x->element[1]->str);
        rc = *port > 0 ? 0 : -1;
    } else if (x->type == REDIS_REPLY_NIL) {
        snprintf(why, whylen, "sentinel %s:%d knows no master named \"%s\"", s->host, s->port, name);
        rc = 1;
    } else {
        snprintf(why, whylen, "sentinel %s:%d: unexpected reply%s%.100s", s->host, s->port,
                 x->type == REDIS_REPLY_ERROR ? ": " : "", x->type == REDIS_REPLY_ERROR ? x->str : "");
    }
out:
    if (x) freeReplyObject(x);
    if (c) redisFree(c);
    return rc;
}

/* sentinel_master finds the master through the first sentinel that knows
 * it. All of them not knowing the name is a configuration error; anything
 * else (unreachable, mid-failover) is an outage to retry. */
static int
sentinel_master(rds *r, const redis_url *u, struct timeval tv, char *host, size_t hostlen, int *port)
{
    char why[300] = "";
    int unknown = 0;
    for (int i = 0; i < u->nsentinels; i++) {
        int rc = ask_sentinel(&u->sentinels[i], u->master, tv, host, hostlen, port, why, sizeof(why));
        if (rc == 0) return 0;
        unknown += rc == 1;
    }
    config_err(r, unknown == u->nsentinels ? RDS_ERR_CONFIG : RDS_ERR_IO, why);
    mask_in_place(r->errstr, sizeof(r->errstr));
    return -1;
}

/* check_master refuses a server that is not a master (a sentinel's answer
 * is stale for a moment after a failover). */
static int
check_master(rds *r)
{
    redisReply *x = (redisReply *)rds_cmdf(r, "ROLE");
    if (!x) return -1;
    int ok = x->type == REDIS_REPLY_ARRAY && x->elements > 0 && x->element[0]->type == REDIS_REPLY_STRING;
    if (ok && strcmp(x->element[0]->str, "master")) {
        snprintf(r->errstr, sizeof(r->errstr), "%.150s is a %.20s now, not a master: a failover is under way", r->where,
                 x->element[0]->str);
        ok = 0;
    } else if (!ok) {
        snprintf(r->errstr, sizeof(r->errstr), "ROLE at %.100s: %.80s (an ACL user needs +role with Sentinel)", r->where,
                 x->type == REDIS_REPLY_ERROR ? x->str : "unexpected reply");
    }
    r->err = ok ? 0 : (x->type == REDIS_REPLY_ERROR ? RDS_ERR_CONFIG : RDS_ERR_IO);
    freeReplyObject(x);
    return ok ? 0 : -1;
}

/* switched asks the sentinels, once per RDS_SENTINEL_EVERY_MS, who the
 * master is; when it is no longer ours the connection is closed (-1, an
 * I/O error). Sentinels that cannot answer change nothing: the master we
 * have may be fine. */
static int
switched(rds *r)
{
    redis_url u;
    char err[200], host[256], why[300];
    int port;
    long long now = clock_mono_ms();
    if (!r->mhost[0] || now - r->asked_ms < RDS_SENTINEL_EVERY_MS) return 0;
    r->asked_ms = now;
    if (redis_url_parse(r->url, &u, err, sizeof(err)) < 0) return 0;
    struct timeval tv = {0, 500000}; /* a quick look: it runs before a command */
    for (int i = 0; i < u.nsentinels; i++) {
        if (ask_sentinel(&u.sentinels[i], u.master, tv, host, sizeof(host), &port, why, sizeof(why)) != 0) continue;
        if (port == r->mport && !strcmp(host, r->mhost)) return 0;
        snprintf(r->errstr, sizeof(r->errstr), "Sentinel names %.100s:%d as master %.60s now (failover): reconnecting",
                 host, port, u.master);
        rds_close(r);
        r->err = RDS_ERR_IO;
        return -1;
    }
    return 0;
}

/* demoted turns the errors of a server that became a replica under us into
 * an I/O error, closing the connection: nobody keeps writing there. */
static redisReply *
demoted(rds *r, redisReply *x)
{
    if (!x || x->type != REDIS_REPLY_ERROR || !r->follow) return x; /* cluster.c handles its nodes' replies */
    if (strncmp(x->str, "READONLY", 8) && strncmp(x->str, "UNBLOCKED", 9) && strncmp(x->str, "NOREPLICAS", 10)) return x;
    snprintf(r->errstr, sizeof(r->errstr), "Redis: %.150s: the server is a replica now (failover?): reconnecting",
             x->str);
    freeReplyObject(x);
    rds_close(r);
    r->err = RDS_ERR_IO;
    return NULL;
}

/* ---------------------------------------------------------------- TLS */

#ifdef SYNCQ_TLS
/* start_tls runs the TLS handshake on a connected rediss:// context: the
 * chain is verified against ?cacert= (hiredis before 1.3 sends the host as
 * SNI but does not match it against the certificate: docs/PRODUCTION.md). */
static int
start_tls(rds *r, const redis_url *u)
{
    static int openssl_ready;
    redisSSLContextError e = REDIS_SSL_CTX_NONE;
    if (!openssl_ready++) redisInitOpenSSL();
    redisSSLContext *ssl = redisCreateSSLContext(u->cacert[0] ? u->cacert : NULL, NULL, u->cert[0] ? u->cert : NULL,
                                                 u->key[0] ? u->key : NULL, u->host, &e);
    if (!ssl) {
        config_err(r, RDS_ERR_CONFIG, redisSSLContextGetError(e));
        return -1;
    }
    r->tls = ssl;
    if (redisInitiateSSLWithContext(CTX(r), ssl) != REDIS_OK) {
        set_err(r, "TLS handshake with Redis");
        return -1;
    }
    return 0;
}

static void
free_tls(rds *r)
{
    if (r->tls) redisFreeSSLContext(r->tls);
    r->tls = NULL;
}
#else
static int
start_tls(rds *r, const redis_url *u)
{
    (void)u;
    config_err(r, RDS_ERR_CONFIG, "rediss:// needs a build with TLS (hiredis >= 1.0 with hiredis_ssl, found by"
                                  " pkg-config: make TLS=1); this build has none: use the stunnel sidecar,"
                                  " deploy/stunnel-redis.conf");
    return -1;
}

static void
free_tls(rds *r)
{
    r->tls = NULL;
}
#endif

/* ---------------------------------------------------------------- Connecting */

/* tls_hint explains the usual reason a server hangs up on the very first
 * command: it speaks TLS, and our plain-text PING was not a TLS hello. */
static void
tls_hint(rds *r)
{
    redisContext *c = CTX(r);
    if (r->err != RDS_ERR_IO || !c || !(c->err == REDIS_ERR_EOF || (c->err == REDIS_ERR_IO && strstr(c->errstr, "reset"))))
        return;
    size_t n = strlen(r->errstr);
    snprintf(r->errstr + n, sizeof(r->errstr) - n, " (the server closed the connection at the first command:"
             " a TLS port? this build speaks plain Redis: use a TLS sidecar, docs/PRODUCTION.md)");
}

int
rds_connect(rds *r, const char *url, int timeout_ms)
{
    redis_url u;
    char err[200];

    rds_close(r);
    r->err = 0;
    r->errstr[0] = '\0';
    r->where[0] = '\0';
    r->mhost[0] = '\0';
    r->follow = 0;
    r->timeout_ms = timeout_ms;
    snprintf(r->url, sizeof(r->url), "%s", url);
    if (cluster_is_url(url)) {
        int rc = cluster_connect(r, url, timeout_ms);
        if (rc < 0) mask_in_place(r->errstr, sizeof(r->errstr));
        return rc;
    }
    if (redis_url_parse(url, &u, err, sizeof(err)) < 0) {
        snprintf(r->errstr, sizeof(r->errstr), "bad Redis URL: %s", err);
        mask_in_place(r->errstr, sizeof(r->errstr));
        r->err = RDS_ERR_CONFIG;
        return -1;
    }
    int rc = rds_connect_parsed(r, &u, timeout_ms);
    explicit_bzero(&u, sizeof(u));
    r->follow = 1; /* one master: a role change under us must end this connection (demoted) */
    return rc;
}

int
rds_connect_parsed(rds *r, const redis_url *u, int timeout_ms)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    r->timeout_ms = timeout_ms;
    r->err = 0;
    r->errstr[0] = '\0';
#ifndef SYNCQ_TLS
    if (u->tls) return start_tls(r, u); /* says why not, before any network traffic */
#endif
    if (u->nsentinels) {
        char host[256];
        int port;
        if (sentinel_master(r, u, tv, host, sizeof(host), &port) < 0) goto fail;
        snprintf(r->where, sizeof(r->where), "master %.100s at %.150s:%d", u->master, host, port);
        snprintf(r->mhost, sizeof(r->mhost), "%s", host);
        r->mport = port;
        r->asked_ms = clock_mono_ms();
        r->ctx = redisConnectWithTimeout(host, port, tv);
    } else if (u->path[0]) {
        r->ctx = redisConnectUnixWithTimeout(u->path, tv);
    } else {
        r->ctx = redisConnectWithTimeout(u->host, u->port, tv);
    }
    if (!r->ctx || CTX(r)->err) {
        set_err(r, u->path[0] ? "connect to Redis socket" : "connect to Redis");
        goto fail;
    }
    if (redisSetTimeout(CTX(r), tv) != REDIS_OK) {
        set_err(r, "set Redis timeout");
        goto fail;
    }
    if (u->tls && start_tls(r, u) < 0) goto fail;
    if (handshake(r, u) < 0) {
        tls_hint(r);
        goto fail;
    }
    if (u->nsentinels && check_master(r) < 0) goto fail;
    return 0;
fail:
    if (r->ctx) redisFree(CTX(r));
    r->ctx = NULL;
    free_tls(r);
    if (!r->err) r->err = RDS_ERR_IO;
    return -1;
}

int
rds_connected(const rds *r)
{
    return r->ctx != NULL || r->cl != NULL;
}

int
rds_fd(const rds *r)
{
    return r->ctx ? CTX(r)->fd : -1;
}

void
rds_close(rds *r)
{
    cluster_free(r);
    if (r->ctx) redisFree(CTX(r));
    r->ctx = NULL;
    free_tls(r); /* after the context: its SSL object came from this context */
    r->pending = 0;
}

void
rds_forget(rds *r)
{
    /* redisFree only closes the fd and frees memory: the shared socket sees no
     * traffic, so the parent's connection is unharmed. */
    rds_close(r);
}

rds_reply *
rds_cmd(rds *r, int argc, const char **argv, const size_t *lens)
{
    if (r->cl) return cluster_cmd(r, argc, argv, lens);
    if (r->ctx && switched(r) < 0) return NULL;
    if (!r->ctx) {
        snprintf(r->errstr, sizeof(r->errstr), "not connected to Redis");
        r->err = RDS_ERR_IO;
        return NULL;
    }
    reply_err_clear(r);
    redisReply *x = redisCommandArgv(CTX(r), argc, argv, lens);
    if (!x) set_err(r, "Redis command");
    return (rds_reply *)demoted(r, x);
}

rds_reply *
rds_cmdf(rds *r, const char *fmt, ...)
{
    va_list ap;
    if (r->cl) {
        va_start(ap, fmt);
        rds_reply *y = cluster_cmdv(r, fmt, ap);
        va_end(ap);
        return y;
    }
    if (r->ctx && switched(r) < 0) return NULL;
    if (!r->ctx) {
        snprintf(r->errstr, sizeof(r->errstr), "not connected to Redis");
        r->err = RDS_ERR_IO;
        return NULL;
    }
    reply_err_clear(r);
    va_start(ap, fmt);
    redisReply *x = redisvCommand(CTX(r), fmt, ap);
    va_end(ap);
    if (!x) set_err(r, "Redis command");
    return (rds_reply *)demoted(r, x);
}

int
rds_append(rds *r, int argc, const char **argv, const size_t *lens)
{
    if (r->cl) return cluster_append(r, argc, argv, lens);
    if (r->ctx && r->pending == 0 && switched(r) < 0) return -1;
    if (!r->ctx) return -1;
    reply_err_clear(r);
    if (redisAppendCommandArgv(CTX(r), argc, argv, lens) != REDIS_OK) {
        set_err(r, "Redis append");
        return -1;
    }
    r->pending++;
    return 0;
}

int
rds_flush(rds *r)
{
    int done = 0;
    if (r->cl) return cluster_flush(r);
    if (!r->ctx) return -1;
    while (!done) {
        if (redisBufferWrite(CTX(r), &done) != REDIS_OK) {
            set_err(r, "Redis write");
            return -1;
        }
    }
    return 0;
}

rds_reply *
rds_read(rds *r)
{
    void *x = NULL;
    if (r->cl) return r->pending > 0 ? cluster_read(r) : NULL;
    if (!r->ctx || r->pending <= 0) return NULL;
    if (redisGetReply(CTX(r), &x) != REDIS_OK) {
        set_err(r, "Redis read");
        return NULL;
    }
    r->pending--;
    return (rds_reply *)demoted(r, x);
}

/* cluster_cmdv formats like rds_cmdf, then routes the words: a cluster
 * must see the keys, which a format string hides. */
static rds_reply *
cluster_cmdv(rds *r, const char *fmt, va_list ap)
{
    char *buf = NULL;
    int len = redisvFormatCommand(&buf, fmt, ap);
    const char *argv[64];
    size_t lens[64];
    int argc = 0;
    if (len < 0 || !buf) {
        snprintf(r->errstr, sizeof(r->errstr), "Redis command: cannot format");
        r->err = RDS_ERR_IO;
        return NULL;
    }
    /* *N\r\n then $len\r\nbytes\r\n per word */
    const char *p = strchr(buf, '\n') + 1;
    while (p < buf + len && *p == '$' && argc < 64) {
        size_t n = strtoul(p + 1, NULL, 10);
        p = strchr(p, '\n') + 1;
        argv[argc] = p;
        lens[argc++] = n;
        p += n + 2;
    }
    rds_reply *x = cluster_cmd(r, argc, argv, lens);
    redisFreeCommand(buf);
    return x;
}

int
rds_each_master(rds *r, int (*fn)(rds *node, void *arg), void *arg)
{
    if (r->cl) return cluster_each_master(r, fn, arg);
    return fn ? fn(r, arg) : 0;
}

int
rds_node_hook(rds *r, int (*fn)(rds *node, void *arg), void *arg)
{
    if (!r->cl) return fn(r, arg);
    cluster_node_hook(r, fn, arg);
    return cluster_each_master(r, NULL, NULL);
}

rds_type
rds_reply_type(const rds_reply *x)
{
    const redisReply *y = (const redisReply *)x;
    if (!y) return RDS_NIL;
    switch (y->type) {
    case REDIS_REPLY_INTEGER: return RDS_INT;
    case REDIS_REPLY_STRING: return RDS_STR;
    case REDIS_REPLY_ARRAY: return RDS_ARR;
    case REDIS_REPLY_STATUS: return RDS_STATUS;
    case REDIS_REPLY_ERROR: return RDS_ERR;
    default: return RDS_NIL;
    }
}

long long
rds_reply_int(const rds_reply *x)
{
    const redisReply *y = (const redisReply *)x;
    return y && y->type == REDIS_REPLY_INTEGER ? y->integer : 0;
}

const char *
rds_reply_str(const rds_reply *x, size_t *len)
{
    const redisReply *y = (const redisReply *)x;
    if (!y || !(y->type == REDIS_REPLY_STRING || y->type == REDIS_REPLY_STATUS || y->type == REDIS_REPLY_ERROR)) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = y->len;
    return y->str;
}

size_t
rds_reply_len(const rds_reply *x)
{
    const redisReply *y = (const redisReply *)x;
    return y && y->type == REDIS_REPLY_ARRAY ? y->elements : 0;
}

rds_reply *
rds_reply_at(const rds_reply *x, size_t i)
{
    const redisReply *y = (const redisReply *)x;
    return (y && y->type == REDIS_REPLY_ARRAY && i < y->elements) ? (rds_reply *)y->element[i] : NULL;
}

void
rds_reply_free(rds_reply *x)
{
    if (x) freeReplyObject(x);
}

int
rds_reply_ok(rds *r, const rds_reply *x)
{
    const redisReply *y = (const redisReply *)x;
    if (!y) return 0; /* r->errstr was set by the failing call */
    if (y->type == REDIS_REPLY_ERROR) {
        r->err = !strncmp(y->str, "FENCED", 6) ? RDS_ERR_FENCED : RDS_ERR_REPLY;
        snprintf(r->errstr, sizeof(r->errstr), "Redis: %s", y->str);
        return 0;
    }
    return 1;
}

int
rds_broken(const rds *r)
{
    return r->err == RDS_ERR_IO || r->err == RDS_ERR_AUTH || r->err == RDS_ERR_CONFIG;
}

int
rds_set_error(rds *r, int kind, const char *fmt, ...)
{
    va_list ap;
    r->err = kind;
    va_start(ap, fmt);
    vsnprintf(r->errstr, sizeof(r->errstr), fmt, ap);
    va_end(ap);
    return -1;
}

int
rds_time_us(rds *r, int64_t *us)
{
    rds_reply *x = rds_cmdf(r, "TIME");
    int ok = rds_reply_ok(r, x) && rds_reply_len(x) == 2;
    if (ok) {
        const char *sec = rds_reply_str(rds_reply_at(x, 0), NULL), *usec = rds_reply_str(rds_reply_at(x, 1), NULL);
        *us = strtoll(sec ? sec : "0", NULL, 10) * 1000000 + strtoll(usec ? usec : "0", NULL, 10);
    } else if (x) {
        rds_set_error(r, RDS_ERR_REPLY, "Redis TIME: unexpected reply");
    }
    rds_reply_free(x);
    return ok ? 0 : -1;
}
