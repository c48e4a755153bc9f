/* schema.c - the audit schema's version in a database (see schema.h). */
#include "fmacros.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>

static int
int_query(db *d, const char *sql, int *out)
{
    db_result *r = db_query(d, sql, 0, NULL);
    if (!r) return -1;
    const char *v = db_ntuples(r) == 1 ? db_value(r, 0, 0) : NULL;
    *out = v ? atoi(v) : 0;
    db_result_free(r);
    return 0;
}

int
schema_applied(db *d)
{
    int has_table, v;
    /* to_regclass, not the max() alone: a missing table is "never migrated", not an error */
    if (int_query(d, "SELECT (to_regclass('syncq_schema_migrations') IS NOT NULL)::int", &has_table) < 0) return -1;
    if (!has_table) return 0;
    if (int_query(d, "SELECT coalesce(max(version), 0) FROM syncq_schema_migrations", &v) < 0) return -1;
    return v;
}

int
schema_check(db *d, char *msg, size_t len)
{
    int have = schema_applied(d);
    if (have < 0) return -1;
    if (have >= SYNCQ_SCHEMA_VERSION) return 0;
    if (have == 0) snprintf(msg, len, "the database has no syncq schema (this build needs version %d): run syncq migrate",
                            SYNCQ_SCHEMA_VERSION);
    else snprintf(msg, len, "the database schema is at version %d, this build needs %d: run syncq migrate", have,
                  SYNCQ_SCHEMA_VERSION);
    return 1;
}
