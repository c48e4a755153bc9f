/* funcs.c - load the syncq Redis Function library (calls: queue.c). */
#include "fmacros.h"
#include "funcs.h"
#include "funcs_lua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>




/* our_version reads LIBRARY_VERSION out of the embedded library text, so
 * the version lives in one place. */
static size_t
our_version(const char **v)
{
    static const char mark[] = "LIBRARY_VERSION = '";
    const char *p = strstr(syncq_functions_lua, mark);
    if (!p) return 0;
    p += sizeof(mark) - 1;
    *v = p;
    return strcspn(p, "'");
}

long
funcs_our_version(void)
{
    const char *v = NULL;
    return our_version(&v) ? strtol(v, NULL, 10) : 0;
}

/* loaded reads the version text Redis holds into buf: 1, 0 when none (an
 * error reply: no library), -1 on an I/O error. */
static int
loaded(rds *r, char *buf, size_t cap)
{
    rds_reply *x = rds_cmdf(r, "FCALL syncq_version 0");
    size_t len;
    const char *v = rds_reply_str(x, &len);
    if (!x) return -1;
    int got = rds_reply_type(x) == RDS_STR && v;
    if (got) snprintf(buf, cap, "%.*s", (int)len, v);
    rds_reply_free(x);
    return got;
}

long
funcs_loaded_version(rds *r)
{
    char have[64];
    int got = loaded(r, have, sizeof(have));
    return got <= 0 ? got : strtol(have, NULL, 10);
}

/* load_one loads our library unless the node holds ours, or one whose
 * version number (before the ".c" digest of the record columns) is higher:
 * during a rolling upgrade old and new binaries share one Redis, and an old
 * one must not take the new steps away from the new workers (docs/PRODUCTION.md
 * "Rolling upgrades"). */
static int
load_one(rds *r, void *arg)
{
    char have[64];
    const char *ours = NULL;
    size_t ol = our_version(&ours);
    (void)arg;
    int got = loaded(r, have, sizeof(have));
    if (got < 0) return -1;
    if (got && (strtol(have, NULL, 10) > strtol(ours, NULL, 10) || (strlen(have) == ol && !memcmp(have, ours, ol))))
        return 0;
    const char *argv[] = {"FUNCTION", "LOAD", "REPLACE", syncq_functions_lua};
    size_t lens[] = {8, 4, 7, sizeof(syncq_functions_lua) - 1};
    rds_reply *x = rds_cmd(r, 4, argv, lens);
    int ok = rds_reply_ok(r, x);
    rds_reply_free(x);
    return ok ? 0 : -1;
}

/* On a Cluster every master needs the library: a function runs on the node
 * that owns its keys (docs/DESIGN.md §4). */
int
funcs_load(rds *r)
{
    return rds_each_master(r, load_one, NULL);
}

/* funcs_ensure checks every master now, and on a Cluster every master that
 * joins later (after a resharding or a failover) before its first call. */
int
funcs_ensure(rds *r)
{
    return rds_node_hook(r, load_one, NULL);
}

int
funcs_missing(const rds_reply *x)
{
    size_t len;
    const char *s = rds_reply_str(x, &len);
    return rds_reply_type(x) == RDS_ERR && s && strstr(s, "Function not found") != NULL;
}
