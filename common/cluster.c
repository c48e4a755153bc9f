/* cluster.c - Redis Cluster routing under rds (see cluster.h). The slot map
 * comes from CLUSTER SLOTS; each master gets one plain rds connection,
 * opened on first use. A MOVED reply updates the map and the map is read
 * again before the next command; an ASK reply sends ASKING and the one
 * command to the node named; TRYAGAIN, CLUSTERDOWN, UNBLOCKED and READONLY
 * (a slot being migrated, a failover under way: the command did not run)
 * are retried after a short sleep with a fresh map. A connection lost in
 * the middle of a command is not retried (the command may have run): the
 * caller sees the I/O error as with one node and reconnects. */
#include "fmacros.h"
#include "clock.h"
#include "cluster.h"
#include "slot.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CL_MAX_NODES 64
#define CL_MAX_TRIES 60       /* redirects and retries of one command */
#define CL_SLEEP_MAX_MS 200   /* between retries of TRYAGAIN / CLUSTERDOWN */
#define CL_RETRY_MS 2000      /* at most this long retrying one command */

typedef struct cl_node {
    char addr[80]; /* host:port */
    rds conn;      /* plain connection; conn.ctx NULL until first use */
    int hooked;    /* the node hook ran on this connection */
} cl_node;

/* One pipelined command whose reply is owed: its node, a copy of the
 * command (to send again on a redirect) and, once drained, its reply. */
typedef struct cl_pend {
    int node;
    int argc;
    const char **argv; /* points into the same allocation */
    size_t *lens;
    rds_reply *reply;  /* read ahead by drain(); owned here until returned */
    int read;          /* the node's reply has been read (reply may be NULL: lost) */
} cl_pend;

typedef struct cluster {
    redis_url base; /* credentials and timeouts for every node (holds the password) */
    int timeout_ms;
    cl_node nodes[CL_MAX_NODES];
    int nnodes;
    short slots[SLOT_COUNT]; /* node index of the slot's master, -1 unknown */
    int stale;               /* read the map again before the next command */
    cl_pend *q;              /* pipeline, in the order commands were appended */
    int qhead, qlen, qcap;
    int (*hook)(rds *, void *);
    void *hook_arg;
} cluster;

#define CL(top) ((cluster *)(top)->cl)

/* ---------------------------------------------------------------- URL */

int
cluster_is_url(const char *url)
{
    return url && !strncmp(url, "redis-cluster://", 16);
}

/* split_seeds copies each "host[:port]" of the comma list [p, end). */
static int
split_seeds(const char *p, const char *end, char seeds[][80], int *n, char *err, size_t errlen)
{
    *n = 0;
    while (p < end) {
        size_t len = strcspn(p, ",");
        if (p + len > end) len = (size_t)(end - p);
        if (len == 0 || len >= 80) {
            snprintf(err, errlen, "redis-cluster URL: empty or overlong host in the node list");
            return -1;
        }
        if (*n >= CLUSTER_MAX_SEEDS) {
            snprintf(err, errlen, "redis-cluster URL: more than %d nodes listed", CLUSTER_MAX_SEEDS);
            return -1;
        }
        memcpy(seeds[*n], p, len);
        seeds[*n][len] = '\0';
        if (!strchr(seeds[*n], ':')) snprintf(seeds[*n] + len, 80 - len, ":6379");
        (*n)++;
        p += len + 1;
    }
    if (*n == 0) snprintf(err, errlen, "redis-cluster URL: no node listed");
    return *n ? 0 : -1;
}

int
cluster_url_parse(const char *s, redis_url *base, char seeds[][80], int *nseeds, char *err, size_t errlen)
{
    char one[1024];
    if (!cluster_is_url(s)) {
        snprintf(err, errlen, "not a redis-cluster:// URL");
        return -1;
    }
    const char *auth = s + 16, *stop = auth + strcspn(auth, "/?#"), *hosts = auth;
    for (const char *p = auth; p < stop; p++)
        if (*p == '@') hosts = p + 1; /* the userinfo runs to the last '@' */
    if (split_seeds(hosts, stop, seeds, nseeds, err, errlen) < 0) return -1;
    /* the first seed in a redis:// URL of its own parses credentials and options */
    int n = snprintf(one, sizeof(one), "redis://%.*s%s%s", (int)(hosts - auth), auth, seeds[0], stop);
    if (n < 0 || (size_t)n >= sizeof(one)) {
        snprintf(err, errlen, "redis-cluster URL too long");
        return -1;
    }
    int rc = redis_url_parse(one, base, err, errlen);
    explicit_bzero(one, sizeof(one));
    if (rc < 0) return -1;
    if (base->path[0] || base->db != 0) {
        snprintf(err, errlen, "redis-cluster URL: a cluster has only database 0 and no unix sockets");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- Nodes */

static void
fail(rds *top, int kind, const char *what, const char *detail)
{
    top->err = kind;
    snprintf(top->errstr, sizeof(top->errstr), "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

static int
node_find(cluster *c, const char *addr, size_t len)
{
    for (int i = 0; i < c->nnodes; i++)
        if (strlen(c->nodes[i].addr) == len && !memcmp(c->nodes[i].addr, addr, len)) return i;
    if (c->nnodes >= CL_MAX_NODES || len >= sizeof(c->nodes[0].addr)) return -1;
    cl_node *n = &c->nodes[c->nnodes];
    memcpy(n->addr, addr, len);
    n->addr[len] = '\0';
    rds_init(&n->conn);
    return c->nnodes++;
}

static void
node_drop(cluster *c, int i)
{
    rds_close(&c->nodes[i].conn);
    c->nodes[i].hooked = 0;
    c->stale = 1;
}

/* node_conn opens node i's connection if it has none, and runs the hook on
 * it once (the function library check on a master new to us). */
static int
node_conn(rds *top, int i)
{
    cluster *c = CL(top);
    cl_node *n = &c->nodes[i];
    if (!n->conn.ctx) {
        redis_url u = c->base;
        const char *colon = strrchr(n->addr, ':');
        snprintf(u.host, sizeof(u.host), "%.*s", (int)(colon - n->addr), n->addr);
        u.port = atoi(colon + 1);
        n->hooked = 0;
        int rc = rds_connect_parsed(&n->conn, &u, c->timeout_ms);
        explicit_bzero(&u, sizeof(u));
        if (rc < 0) {
            fail(top, n->conn.err, n->addr, n->conn.errstr);
            c->stale = 1;
            return -1;
        }
    }
    if (c->hook && !n->hooked) {
        if (c->hook(&n->conn, c->hook_arg) < 0) {
            fail(top, n->conn.err ? n->conn.err : RDS_ERR_IO, n->addr, n->conn.errstr);
            return -1;
        }
        n->hooked = 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- Slot map */

static void drain(cluster *c);

/* map_entry applies one CLUSTER SLOTS entry {start, end, {ip, port, id}, ...};
 * an empty ip means "the node you asked". */
static void
map_entry(cluster *c, const rds_reply *e, int asked)
{
    const rds_reply *m = rds_reply_at(e, 2);
    long long from = rds_reply_int(rds_reply_at(e, 0)), to = rds_reply_int(rds_reply_at(e, 1));
    size_t iplen;
    const char *ip = rds_reply_str(rds_reply_at(m, 0), &iplen);
    char addr[80];
    int n;
    if (rds_reply_len(e) < 3 || from < 0 || to >= SLOT_COUNT || from > to) return;
    if (ip && iplen) n = node_find(c, addr, (size_t)snprintf(addr, sizeof(addr), "%.*s:%lld", (int)iplen, ip,
                                                            rds_reply_int(rds_reply_at(m, 1))));
    else n = asked;
    if (n < 0) return;
    for (long long s = from; s <= to; s++) c->slots[s] = (short)n;
}

/* map_from reads CLUSTER SLOTS from node i. 0, or -1 (error in top). */
static int
map_from(rds *top, int i)
{
    cluster *c = CL(top);
    drain(c); /* a node owing pipelined replies would hand one of them to CLUSTER SLOTS */
    if (node_conn(top, i) < 0) return -1;
    rds_reply *x = rds_cmdf(&c->nodes[i].conn, "CLUSTER SLOTS");
    if (!x || rds_reply_type(x) != RDS_ARR || rds_reply_len(x) == 0) {
        if (!x) node_drop(c, i);
        fail(top, RDS_ERR_IO, c->nodes[i].addr,
             x ? "CLUSTER SLOTS gave no slots (not a cluster node, or no slot assigned)" : c->nodes[i].conn.errstr);
        rds_reply_free(x);
        return -1;
    }
    for (int s = 0; s < SLOT_COUNT; s++) c->slots[s] = -1;
    for (size_t k = 0; k < rds_reply_len(x); k++) map_entry(c, rds_reply_at(x, k), i);
    rds_reply_free(x);
    c->stale = 0;
    return 0;
}

/* refresh reads the map from the first node that answers, connected ones first. */
static int
refresh(rds *top)
{
    cluster *c = CL(top);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < c->nnodes; i++)
            if ((pass == 0) == (c->nodes[i].conn.ctx != NULL) && map_from(top, i) == 0) return 0;
    return -1;
}

/* route picks the node for slot: its master, or for a keyless command the
 * master of slot 0's... any known master. -1 when the map has a hole. */
static int
route(rds *top, int slot)
{
    cluster *c = CL(top);
    if (c->stale && refresh(top) < 0) return -1;
    if (slot < 0) {
        for (int s = 0; s < SLOT_COUNT; s++)
            if (c->slots[s] >= 0) return c->slots[s];
    } else if (c->slots[slot] >= 0) {
        return c->slots[slot];
    }
    fail(top, RDS_ERR_IO, "Redis Cluster", "no master serves the slot (cluster not ready)");
    c->stale = 1;
    return -1;
}

/* ---------------------------------------------------------------- Commands */

typedef enum { RE_NONE, RE_MOVED, RE_ASK, RE_RETRY } redirect;

/* classify looks at an error reply: MOVED/ASK set *node to the target. */
static redirect
classify(cluster *c, const rds_reply *x, int *node)
{
    size_t len;
    const char *s = rds_reply_str(x, &len);
    if (rds_reply_type(x) != RDS_ERR || !s) return RE_NONE;
    int moved = !strncmp(s, "MOVED ", 6), ask = !strncmp(s, "ASK ", 4);
    if (moved || ask) {
        const char *p = strchr(s + (moved ? 6 : 4), ' ');
        int slot = atoi(s + (moved ? 6 : 4));
        if (!p) return RE_NONE;
        p++;
        int n = node_find(c, p, len - (size_t)(p - s));
        if (n < 0) return RE_NONE;
        *node = n;
        if (moved && slot >= 0 && slot < SLOT_COUNT) c->slots[slot] = (short)n;
        if (moved) c->stale = 1; /* more slots may have moved with it */
        return moved ? RE_MOVED : RE_ASK;
    }
    if (!strncmp(s, "TRYAGAIN", 8) || !strncmp(s, "CLUSTERDOWN", 11) || !strncmp(s, "UNBLOCKED", 9) ||
        !strncmp(s, "READONLY", 8) || !strncmp(s, "LOADING", 7)) {
        c->stale = 1;
        return RE_RETRY;
    }
    return RE_NONE;
}

static void
nap(int attempt)
{
    int ms = 5 << (attempt < 6 ? attempt : 6);
    if (ms > CL_SLEEP_MAX_MS) ms = CL_SLEEP_MAX_MS;
    clock_nap_ms(ms);
}

/* send_one runs the command on node i (after ASKING when asking). */
static rds_reply *
send_one(rds *top, int i, int asking, int argc, const char **argv, const size_t *lens)
{
    cluster *c = CL(top);
    drain(c); /* the same for a command sent while a pipeline is owed replies */
    if (node_conn(top, i) < 0) return NULL;
    rds *n = &c->nodes[i].conn;
    if (asking) rds_reply_free(rds_cmdf(n, "ASKING")); /* a lost ASKING shows on the command */
    rds_reply *x = rds_cmd(n, argc, argv, lens);
    if (!x) {
        fail(top, RDS_ERR_IO, c->nodes[i].addr, n->errstr);
        node_drop(c, i);
    }
    return x;
}

/* follow sends a command to node i (-1: the slot's master; asking after an
 * ASK), through redirects and retries, to its final reply. */
static rds_reply *
follow(rds *top, int i, int asking, int slot, int argc, const char **argv, const size_t *lens)
{
    cluster *c = CL(top);
    rds_reply *x = NULL;
    /* redirects and retries share half the caller's timeout, at most
     * CL_RETRY_MS: the worker's master sizes its timeout to keep its loop
     * inside the lease (docs/LEASES.md), and makes several calls a tick */
    int budget = c->timeout_ms / 2 < CL_RETRY_MS ? c->timeout_ms / 2 : CL_RETRY_MS;
    long long deadline = clock_mono_ms() + (budget > 200 ? budget : 200);
    for (int t = 0; t < CL_MAX_TRIES && clock_mono_ms() < deadline; t++) {
        if (!x) {
            if (i < 0 && (i = route(top, slot)) < 0) return NULL;
            x = send_one(top, i, asking, argc, argv, lens);
            if (!x) return NULL; /* a lost connection: the command may have run */
        }
        switch (classify(c, x, &i)) {
        case RE_NONE: return x;
        case RE_MOVED: asking = 0; break;
        case RE_ASK: asking = 1; break;
        case RE_RETRY: asking = 0; i = -1; nap(t); break;
        }
        rds_reply_free(x);
        x = NULL;
    }
    fail(top, RDS_ERR_IO, "Redis Cluster", "too many redirects or retries (slot migration or failover stuck?)");
    return NULL;
}

/* on_all runs a command on every master: FUNCTION LOAD, FLUSHALL. The
 * reply is the first error, or the last master's reply. */
typedef struct cmd_args {
    int argc;
    const char **argv;
    const size_t *lens;
    rds_reply *last;
} cmd_args;

static int
run_on(rds *node, void *arg)
{
    cmd_args *a = arg;
    if (a->last && rds_reply_type(a->last) == RDS_ERR) return 0;
    rds_reply_free(a->last);
    a->last = rds_cmd(node, a->argc, a->argv, a->lens);
    return a->last ? 0 : -1;
}

rds_reply *
cluster_cmd(rds *top, int argc, const char **argv, const size_t *lens)
{
    int slot = slot_of_command(argc, argv, lens);
    if (slot == SLOT_CROSS) {
        fail(top, RDS_ERR_CONFIG, "Redis Cluster: the keys of this call hash to different slots", NULL);
        return NULL;
    }
    if (slot == SLOT_ALL) {
        cmd_args a = {argc, argv, lens, NULL};
        if (cluster_each_master(top, run_on, &a) < 0) {
            rds_reply_free(a.last);
            return NULL;
        }
        return a.last;
    }
    return follow(top, -1, 0, slot, argc, argv, lens);
}

/* ---------------------------------------------------------------- Pipelines */

static void
pend_copy(cl_pend *p, int node, int argc, const char **argv, const size_t *lens)
{
    size_t bytes = 0;
    for (int i = 0; i < argc; i++) bytes += lens[i];
    char *mem = xmalloc(sizeof(char *) * (size_t)argc + sizeof(size_t) * (size_t)argc + bytes + 1);
    p->argv = (const char **)(void *)mem;
    p->lens = (size_t *)(void *)(mem + sizeof(char *) * (size_t)argc);
    char *data = mem + (sizeof(char *) + sizeof(size_t)) * (size_t)argc;
    for (int i = 0; i < argc; i++) {
        memcpy(data, argv[i], lens[i]);
        p->argv[i] = data;
        p->lens[i] = lens[i];
        data += lens[i];
    }
    p->argc = argc;
    p->node = node;
    p->reply = NULL;
    p->read = 0;
}

static void
pend_free(cl_pend *p)
{
    rds_reply_free(p->reply);
    free((void *)p->argv);
    memset(p, 0, sizeof(*p));
}

int
cluster_append(rds *top, int argc, const char **argv, const size_t *lens)
{
    cluster *c = CL(top);
    int slot = slot_of_command(argc, argv, lens), i;
    if (slot == SLOT_CROSS || slot == SLOT_ALL) {
        fail(top, RDS_ERR_CONFIG, "Redis Cluster: a pipelined call must address one slot", NULL);
        return -1;
    }
    if ((i = route(top, slot)) < 0 || node_conn(top, i) < 0) return -1;
    if (rds_append(&c->nodes[i].conn, argc, argv, lens) < 0) {
        fail(top, RDS_ERR_IO, c->nodes[i].addr, c->nodes[i].conn.errstr);
        return -1;
    }
    if (c->qhead + c->qlen == c->qcap) {
        if (c->qhead > 0) {
            memmove(c->q, c->q + c->qhead, sizeof(*c->q) * (size_t)c->qlen);
            c->qhead = 0;
        } else {
            c->qcap = c->qcap ? c->qcap * 2 : 64;
            c->q = xrealloc(c->q, sizeof(*c->q) * (size_t)c->qcap);
        }
    }
    pend_copy(&c->q[c->qhead + c->qlen++], i, argc, argv, lens);
    top->pending++;
    return 0;
}

int
cluster_flush(rds *top)
{
    cluster *c = CL(top);
    int rc = 0;
    for (int i = 0; i < c->nnodes; i++) {
        rds *n = &c->nodes[i].conn;
        if (n->ctx && n->pending > 0 && rds_flush(n) < 0) {
            fail(top, RDS_ERR_IO, c->nodes[i].addr, n->errstr);
            rc = -1;
        }
    }
    return rc;
}

/* pend_read reads p's reply from its node (replies come back per node in
 * the order the commands were appended there). */
static void
pend_read(cluster *c, cl_pend *p)
{
    rds *n = &c->nodes[p->node].conn;
    if (p->read) return;
    p->read = 1;
    p->reply = n->ctx ? rds_read(n) : NULL;
}

/* drain reads every owed reply, so that nodes are quiet and a redirected
 * command can be sent again without mixing up reply order. */
static void
drain(cluster *c)
{
    for (int k = 0; k < c->qlen; k++) pend_read(c, &c->q[c->qhead + k]);
}

rds_reply *
cluster_read(rds *top)
{
    cluster *c = CL(top);
    if (c->qlen == 0) return NULL;
    cl_pend *p = &c->q[c->qhead];
    int node = p->node;
    pend_read(c, p);
    rds_reply *x = p->reply;
    p->reply = NULL;
    if (!x) {
        fail(top, RDS_ERR_IO, c->nodes[node].addr,
             c->nodes[node].conn.errstr[0] ? c->nodes[node].conn.errstr : "connection lost");
        node_drop(c, node);
    } else {
        redirect how = classify(c, x, &node);
        if (how != RE_NONE) {
            drain(c);
            rds_reply_free(x);
            if (how == RE_RETRY) {
                node = -1;
                nap(0);
            }
            x = follow(top, node, how == RE_ASK, slot_of_command(p->argc, p->argv, p->lens), p->argc, p->argv, p->lens);
        }
    }
    pend_free(p);
    c->qhead++;
    c->qlen--;
    if (c->qlen == 0) c->qhead = 0;
    top->pending--;
    return x;
}

/* ---------------------------------------------------------------- Lifecycle */

int
cluster_each_master(rds *top, int (*fn)(rds *node, void *arg), void *arg)
{
    cluster *c = CL(top);
    char seen[CL_MAX_NODES] = {0};
    if (c->stale && refresh(top) < 0) return -1;
    for (int s = 0; s < SLOT_COUNT; s++) {
        int i = c->slots[s];
        if (i < 0 || seen[i]) continue;
        seen[i] = 1;
        if (node_conn(top, i) < 0) return -1;
        if (fn && fn(&c->nodes[i].conn, arg) < 0) {
            fail(top, c->nodes[i].conn.err ? c->nodes[i].conn.err : RDS_ERR_IO, c->nodes[i].addr,
                 c->nodes[i].conn.errstr);
            return -1;
        }
    }
    return 0;
}

void
cluster_node_hook(rds *top, int (*fn)(rds *node, void *arg), void *arg)
{
    cluster *c = CL(top);
    c->hook = fn;
    c->hook_arg = arg;
    for (int i = 0; i < c->nnodes; i++) c->nodes[i].hooked = 0;
}

int
cluster_connect(rds *top, const char *url, int timeout_ms)
{
    char seeds[CLUSTER_MAX_SEEDS][80], err[200];
    int nseeds = 0;
    cluster *c = xcalloc(1, sizeof(*c));
    top->cl = c;
    c->timeout_ms = timeout_ms;
    if (cluster_url_parse(url, &c->base, seeds, &nseeds, err, sizeof(err)) < 0) {
        fail(top, RDS_ERR_CONFIG, "bad Redis URL", err);
        goto fail;
    }
    for (int i = 0; i < nseeds; i++) node_find(c, seeds[i], strlen(seeds[i]));
    c->stale = 1;
    if (refresh(top) < 0) goto fail;
    return 0;
fail:
    cluster_free(top);
    return -1;
}

void
cluster_free(rds *top)
{
    cluster *c = CL(top);
    if (!c) return;
    for (int k = 0; k < c->qlen; k++) pend_free(&c->q[c->qhead + k]);
    free(c->q);
    for (int i = 0; i < c->nnodes; i++) rds_close(&c->nodes[i].conn);
    explicit_bzero(&c->base, sizeof(c->base));
    free(c);
    top->cl = NULL;
    top->pending = 0;
}
