/* rds.h - Redis access. Only rds.c includes hiredis; callers see rds and
 * rds_reply. Return convention: 0 ok, -1 error with r->errstr set (sticky
 * until rds_connect is called again). */
#ifndef SYNCQ_RDS_H
#define SYNCQ_RDS_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

/* Kinds of r->err, so callers branch on the kind (hiredis style): only
 * RDS_ERR_IO is worth a retry; the others need the configuration fixed. */
enum {
    RDS_ERR_NONE = 0,
    RDS_ERR_IO = 1,     /* unreachable, timed out, connection lost */
    RDS_ERR_AUTH = 2,   /* NOAUTH / WRONGPASS: the password in the URL */
    RDS_ERR_CONFIG = 3, /* a malformed URL, a database index out of range */
    RDS_ERR_REPLY = 4,  /* Redis answered with an error (a script's, a refused argument) */
    RDS_ERR_FENCED = 5, /* a syncq Function refused a worker whose lease was taken (docs/LEASES.md) */
};
/* RDS_ERR_IO, _AUTH and _CONFIG are sticky until rds_connect (the connection
 * is unusable); _REPLY and _FENCED are about one reply and are cleared by the
 * next command. */

typedef struct rds {
    void *ctx;          /* redisContext*, NULL when closed or a cluster */
    void *cl;           /* a redis-cluster:// URL's routing (cluster.c), else NULL */
    int err;            /* an RDS_ERR_* after a connect, I/O or protocol error */
    char errstr[256];
    char url[512];      /* as given (may hold a password: never log it) */
    int timeout_ms;     /* connect and read timeout */
    int pending;        /* replies owed by rds_append'ed commands */
    char where[300];    /* after a connect through Sentinel: "master NAME at HOST:PORT", else "" */
    char mhost[256];    /* Sentinel: the master's address we are connected to ("" otherwise) */
    int mport;
    long long asked_ms; /* Sentinel: monotonic ms of the last look at who the master is */
    void *tls;          /* redisSSLContext* of a rediss:// connection (TLS builds), else NULL */
    int follow;         /* set by rds_connect for one master (not a cluster's node): see demoted */
} rds;

typedef struct rds_reply rds_reply; /* opaque: a hiredis reply */

typedef enum { RDS_NIL, RDS_INT, RDS_STR, RDS_ARR, RDS_STATUS, RDS_ERR } rds_type;

void rds_init(rds *r);
/* rds_connect connects to url (see url.h), authenticates, selects the db and
 * sends a PING, so a server that wants a password is found here and not by
 * the first real command. timeout_ms bounds the connect and every read (it
 * must exceed the longest blocking command). On failure r->err tells an
 * unreachable server (RDS_ERR_IO) from a configuration to fix (RDS_ERR_AUTH,
 * RDS_ERR_CONFIG), and r->errstr says which and what to do.
 * A redis-sentinel:// URL asks its sentinels, in order, for the master's
 * address, connects there and checks with ROLE that it is a master (a
 * demoted one is refused as RDS_ERR_IO: retry). On any connection, a
 * READONLY or UNBLOCKED error reply (the server was just made a replica), or
 * NOREPLICAS (min-replicas-to-write: it lost its replicas, as an isolated
 * old master does),
 * closes the connection and is returned as an I/O error, so that no caller
 * goes on writing to a demoted master: reconnecting finds the new one.
 * Through Sentinel, a command sent at least RDS_SENTINEL_EVERY_MS after the
 * last look asks the sentinels again first; when they name another master
 * (a failover: the old one may accept writes until Sentinel reconfigures
 * it, seconds later), the connection is closed the same way. */
#define RDS_SENTINEL_EVERY_MS 1000
int rds_connect(rds *r, const char *url, int timeout_ms);
/* rds_connect_parsed: the same for one node of a parsed URL (cluster.c). */
struct redis_url;
int rds_connect_parsed(rds *r, const struct redis_url *u, int timeout_ms);
/* rds_connected: a connection (or a cluster) is open. */
int rds_connected(const rds *r);
/* rds_fd is the socket of a one-server connection, to poll for a reply
 * owed; -1 when closed or a cluster (whose replies come from many). */
int rds_fd(const rds *r);
void rds_close(rds *r);
/* rds_forget drops an inherited connection after fork without touching the
 * socket the parent still uses. */
void rds_forget(rds *r);

/* rds_cmd runs one command and returns its reply (free with rds_reply_free),
 * or NULL on an I/O error. A Redis error reply is returned as RDS_ERR. */
rds_reply *rds_cmd(rds *r, int argc, const char **argv, const size_t *lens);
rds_reply *rds_cmdf(rds *r, const char *fmt, ...);
/* rds_append queues a command without waiting; rds_flush writes the queue to
 * the socket; rds_read returns the next owed reply (NULL on I/O error). */
int rds_append(rds *r, int argc, const char **argv, const size_t *lens);
int rds_flush(rds *r);
rds_reply *rds_read(rds *r);

/* On a redis-cluster:// connection each command goes to the master owning
 * its keys' slot (cluster.h); these reach the masters themselves.
 * rds_each_master runs fn on every master (on r itself for one node);
 * rds_node_hook has fn run on every master connection before its first
 * command, including masters that join later (one node: fn runs now). */
int rds_each_master(rds *r, int (*fn)(rds *node, void *arg), void *arg);
int rds_node_hook(rds *r, int (*fn)(rds *node, void *arg), void *arg);

rds_type rds_reply_type(const rds_reply *x);
long long rds_reply_int(const rds_reply *x);
const char *rds_reply_str(const rds_reply *x, size_t *len); /* strings, status, errors */
size_t rds_reply_len(const rds_reply *x);                   /* array elements */
rds_reply *rds_reply_at(const rds_reply *x, size_t i);
void rds_reply_free(rds_reply *x);
/* rds_reply_ok: not NULL and not an error; otherwise copies the error to r
 * (an error reply: r->err RDS_ERR_REPLY, or RDS_ERR_FENCED). */
int rds_reply_ok(rds *r, const rds_reply *x);
/* rds_broken says whether r's last error left the connection unusable (an
 * I/O, authentication or configuration error), not just one reply refused. */
int rds_broken(const rds *r);
/* rds_set_error records an error of kind in r (the message bounded to
 * r->errstr) and returns -1, so a caller can `return rds_set_error(...)`. */
int rds_set_error(rds *r, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* rds_time_us reads Redis TIME in microseconds: the one clock of the audit
 * times (README "Audit times"). 0, or -1 with r->errstr. */
int rds_time_us(rds *r, int64_t *us);

#endif
