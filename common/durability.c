/* durability.c - Redis eviction and persistence settings (see durability.h). */
#include "fmacros.h"
#include "durability.h"

#include <stdio.h>
#include <string.h>

/* info_field copies "name:value" out of an INFO text. 0 found, -1 not. */
static int
info_field(const char *info, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    for (const char *p = info; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, n) || p[n] != ':') continue;
        size_t len = strcspn(p + n + 1, "\r\n");
        snprintf(out, outlen, "%.*s", (int)len, p + n + 1);
        return 0;
    }
    return -1;
}

/* config_value runs CONFIG GET name: 1 with the value in out, 0 when the
 * server refused (ACL, a renamed command), -1 on I/O error. */
static int
config_value(rds *r, const char *name, char *out, size_t outlen)
{
    rds_reply *x = rds_cmdf(r, "CONFIG GET %s", name);
    size_t len;
    const char *v;
    if (!x) return -1;
    int got = rds_reply_type(x) == RDS_ARR && rds_reply_len(x) == 2 &&
              (v = rds_reply_str(rds_reply_at(x, 1), &len)) != NULL;
    if (got) snprintf(out, outlen, "%.*s", (int)len, v);
    rds_reply_free(x);
    return got;
}

int
durability_read(rds *r, durability *d)
{
    char v[256];
    int rc;
    *d = (durability){"", -1, -1};
    rds_reply *x = rds_cmdf(r, "INFO memory");
    if (!x) return -1;
    const char *info = rds_reply_type(x) == RDS_STR ? rds_reply_str(x, NULL) : NULL;
    if (info) info_field(info, "maxmemory_policy", d->policy, sizeof(d->policy)); /* absent: stays "" */
    rds_reply_free(x);
    if ((rc = config_value(r, "save", v, sizeof(v))) < 0) return -1;
    if (rc) d->rdb = v[0] != '\0';
    if ((rc = config_value(r, "appendonly", v, sizeof(v))) < 0) return -1;
    if (rc) d->aof = !strcmp(v, "yes");
    return 0;
}

int
durability_problems(const durability *d, char *out, size_t outlen)
{
    int n = 0;
    size_t used = 0;
    out[0] = '\0';
    if (d->policy[0] && strcmp(d->policy, "noeviction")) {
        used += snprintf(out, outlen, "maxmemory-policy is %s, not noeviction: Redis may evict queued jobs"
                         " under memory pressure", d->policy);
        n++;
    }
    if (d->rdb == 0 && d->aof == 0) {
        if (used < outlen)
            snprintf(out + used, outlen - used, "%spersistence is off (no RDB save points, appendonly no):"
                     " a Redis restart loses every queued job", n ? "; " : "");
        n++;
    }
    return n;
}
