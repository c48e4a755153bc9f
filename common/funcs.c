/* funcs.c - load the syncq Redis Function library (calls: queue.c), never
 * replacing a newer one (docs/DESIGN.md §12, rolling upgrades). */
#include "fmacros.h"
#include "funcs.h"
#include "funcs_lua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The version 20 library's functions that every versioned library keeps:
 * the answer syncq_version gives when no syncq_compat exists. */
#define FUNCS_LEGACY_VERSION 20

/* our_version reads LIBRARY_VERSION out of the embedded library text, so
 * the version lives in one place: its length, *v pointing at it. */
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

/* funcs_ours describes the embedded library. */
static funcs_lib
funcs_ours(void)
{
    funcs_lib o = {FUNCS_LOADED, 0, 0, ""};
    const char *v = "";
    size_t n = our_version(&v);
    if (n >= sizeof(o.full)) n = sizeof(o.full) - 1;
    memcpy(o.full, v, n);
    o.full[n] = '\0';
    o.version = atoi(o.full);
    o.compat = o.version;
    return o;
}

funcs_action
funcs_decide(const funcs_lib *ours, const funcs_lib *loaded)
{
    if (loaded->state == FUNCS_NONE) return FUNCS_LOAD;
    if (loaded->state == FUNCS_LEGACY || loaded->version < ours->version) return FUNCS_REPLACE;
    if (loaded->version == ours->version)
        /* same number, other record columns: a build that changed them
         * without a bump (a developer's); releases bump the number */
        return strcmp(loaded->full, ours->full) ? FUNCS_REPLACE : FUNCS_USE;
    return loaded->compat <= ours->version ? FUNCS_USE : FUNCS_REFUSE;
}

/* probe reads what the node has loaded: syncq_compat on a versioned
 * library, syncq_version alone on one from before versions, neither on
 * none. -1 on an I/O error. */
static int
probe(rds *r, funcs_lib *l)
{
    memset(l, 0, sizeof(*l));
    rds_reply *x = rds_cmdf(r, "FCALL syncq_compat 0");
    if (!x) return -1;
    if (rds_reply_type(x) == RDS_ARR && rds_reply_len(x) == 3) {
        size_t len;
        const char *s = rds_reply_str(rds_reply_at(x, 2), &len);
        l->state = FUNCS_LOADED;
        l->version = (int)rds_reply_int(rds_reply_at(x, 0));
        l->compat = (int)rds_reply_int(rds_reply_at(x, 1));
        snprintf(l->full, sizeof(l->full), "%.*s", s ? (int)len : 0, s ? s : "");
        rds_reply_free(x);
        return 0;
    }
    int missing = funcs_missing(x);
    rds_reply_free(x);
    if (!missing) return rds_set_error(r, RDS_ERR_REPLY, "FCALL syncq_compat: unexpected reply");
    x = rds_cmdf(r, "FCALL syncq_version 0");
    if (!x) return -1;
    l->state = funcs_missing(x) ? FUNCS_NONE : FUNCS_LEGACY;
    l->version = l->state == FUNCS_LEGACY ? FUNCS_LEGACY_VERSION : 0;
    rds_reply_free(x);
    return 0;
}

/* load sends FUNCTION LOAD, with REPLACE when replace. Without it a library
 * another process loaded meanwhile makes Redis refuse: *raced says so. */
static int
load(rds *r, int replace, int *raced)
{
    const char *argv[] = {"FUNCTION", "LOAD", "REPLACE", syncq_functions_lua};
    size_t lens[] = {8, 4, 7, sizeof(syncq_functions_lua) - 1};
    if (!replace) {
        argv[2] = argv[3];
        lens[2] = lens[3];
    }
    rds_reply *x = rds_cmd(r, replace ? 4 : 3, argv, lens);
    size_t len;
    const char *s = rds_reply_str(x, &len);
    *raced = !replace && rds_reply_type(x) == RDS_ERR && s && strstr(s, "already exists");
    int ok = *raced || rds_reply_ok(r, x);
    rds_reply_free(x);
    return ok ? 0 : -1;
}

/* ensure_one brings one master to a library that serves this binary: load
 * it where none is, replace an older one, use a newer compatible one, and
 * refuse (RDS_ERR_CONFIG, exit 78 in the binaries) a newer incompatible one. */
static int
ensure_one(rds *r, void *arg)
{
    (void)arg;
    funcs_lib ours = funcs_ours(), loaded;
    for (int round = 0; round < 2; round++) {
        if (probe(r, &loaded) < 0) return -1;
        int raced = 0;
        switch (funcs_decide(&ours, &loaded)) {
        case FUNCS_USE: return 0;
        case FUNCS_REFUSE:
            return rds_set_error(r, RDS_ERR_CONFIG,
                                 "Redis has the syncq function library version %d, which serves binaries of version"
                                 " %d or newer; this one is version %d: upgrade syncq",
                                 loaded.version, loaded.compat, ours.version);
        case FUNCS_LOAD:
            if (load(r, 0, &raced) < 0) return -1;
            if (!raced) return 0;
            break; /* another process loaded one first: look at it again */
        case FUNCS_REPLACE: return load(r, 1, &raced);
        }
    }
    return rds_set_error(r, RDS_ERR_REPLY, "the syncq function library changed while it was being loaded");
}

long
funcs_our_version(void)
{
    return funcs_ours().version;
}

long
funcs_loaded_version(rds *r)
{
    funcs_lib l;
    if (probe(r, &l) < 0) return -1;
    return l.state == FUNCS_NONE ? 0 : l.version;
}

/* On a Cluster every master needs the library: a function runs on the node
 * that owns its keys (docs/DESIGN.md §4). */
int
funcs_load(rds *r)
{
    return rds_each_master(r, ensure_one, NULL);
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
