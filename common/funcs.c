/* funcs.c - load the syncq Redis Function library (calls: queue.c). */
#include "fmacros.h"
#include "funcs.h"
#include "funcs_lua.h"

#include <stdio.h>
#include <string.h>


int
funcs_load(rds *r)
{
    const char *argv[] = {"FUNCTION", "LOAD", "REPLACE", syncq_functions_lua};
    size_t lens[] = {8, 4, 7, sizeof(syncq_functions_lua) - 1};
    rds_reply *x = rds_cmd(r, 4, argv, lens);
    int ok = rds_reply_ok(r, x);
    rds_reply_free(x);
    return ok ? 0 : -1;
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

int
funcs_ensure(rds *r)
{
    rds_reply *x = rds_cmdf(r, "FCALL syncq_version 0");
    size_t len, ol;
    const char *v = rds_reply_str(x, &len), *ours = NULL;
    ol = our_version(&ours);
    int same = x && rds_reply_type(x) == RDS_STR && ol && len == ol && !memcmp(v, ours, len);
    if (!x) return -1;
    rds_reply_free(x);
    return same ? 0 : funcs_load(r);
}

int
funcs_missing(const rds_reply *x)
{
    size_t len;
    const char *s = rds_reply_str(x, &len);
    return rds_reply_type(x) == RDS_ERR && s && strstr(s, "Function not found") != NULL;
}
