/* funcs.c - load the syncq Redis Function library (calls: queue.c). */
#include "fmacros.h"
#include "funcs.h"
#include "funcs_lua.h"

#include <stdio.h>
#include <string.h>


static int
load_one(rds *r, void *arg)
{
    (void)arg;
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

static int
ensure_one(rds *r, void *arg)
{
    rds_reply *x = rds_cmdf(r, "FCALL syncq_version 0");
    size_t len, ol;
    const char *v = rds_reply_str(x, &len), *ours = NULL;
    ol = our_version(&ours);
    int same = x && rds_reply_type(x) == RDS_STR && ol && len == ol && !memcmp(v, ours, len);
    if (!x) return -1;
    (void)arg;
    rds_reply_free(x);
    return same ? 0 : load_one(r, NULL);
}

/* funcs_ensure checks every master now, and on a Cluster every master that
 * joins later (after a resharding or a failover) before its first call. */
int
funcs_ensure(rds *r)
{
    return rds_node_hook(r, ensure_one, NULL);
}

int
funcs_missing(const rds_reply *x)
{
    size_t len;
    const char *s = rds_reply_str(x, &len);
    return rds_reply_type(x) == RDS_ERR && s && strstr(s, "Function not found") != NULL;
}
