/* cli_migrate.c - `syncq migrate`: apply the embedded schema/ migrations in
 * order, each in its own transaction, under an advisory lock so that several
 * containers starting at once apply each migration exactly once; then load
 * the Redis function library, so producers can enqueue before any worker
 * has started. */
#include "fmacros.h"
#include "cli.h"
#include "db.h"
#include "funcs.h"
#include "partition.h"
#include "rds.h"
#include "url.h"
#include "schema.h"
#include "schema_sql.h"

#include <stdio.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define MIGRATE_LOCK "727165" /* pg_advisory_lock key: any constant of ours */

typedef struct migration {
    int version;
    const char *name;
    const char *sql;
} migration;

/* every schema/NNN_name.sql, in order (the build lists them: schema_sql.h) */
#define MIGRATION_(v, n, sql) {v, n, sql},
static const migration migrations[] = {SCHEMA_MIGRATIONS(MIGRATION_)};
/* versions run 1..N, and N is what the worker checks for (schema.h) */
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == SYNCQ_SCHEMA_VERSION,
               "a schema/ file is missing from migrations[]");

static int
applied(db *d, int version)
{
    char v[16];
    const char *params[] = {v};
    snprintf(v, sizeof(v), "%d", version);
    db_result *r = db_query(d, "SELECT 1 FROM syncq_schema_migrations WHERE version = $1", 1, params);
    if (!r) return -1;
    int n = db_ntuples(r);
    db_result_free(r);
    return n > 0;
}

static int
apply(db *d, const migration *m)
{
    char v[16];
    const char *params[] = {v, m->name};
    snprintf(v, sizeof(v), "%d", m->version);
    if (db_exec(d, "BEGIN") < 0) return -1;
    if (db_exec(d, m->sql) < 0) goto rollback;
    db_result *r = db_query(d, "INSERT INTO syncq_schema_migrations (version, name) VALUES ($1, $2)", 2, params);
    if (!r) goto rollback;
    db_result_free(r);
    return db_exec(d, "COMMIT");
rollback:
    {
        char keep[sizeof(d->errstr)];
        memcpy(keep, d->errstr, sizeof(keep));
        db_exec(d, "ROLLBACK"); /* the first error is the one to report */
        memcpy(d->errstr, keep, sizeof(keep));
    }
    return -1;
}

/* ensure_days makes the audit's day partitions ahead (partition.h): run
 * daily (a timer, cron) when no worker runs, whose writer does it too. */
static int
ensure_days(db *d)
{
    int made = 0;
    if (partition_ensure(d, PARTITION_AHEAD_DAYS, &made) < 0) return -1;
    if (made) printf("made %d audit partition(s) for the days ahead\n", made);
    return 0;
}

static int
run(db *d)
{
    int n = 0;
    if (db_exec(d, "SET client_min_messages = warning") < 0 ||
        db_exec(d, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")") < 0 ||
        db_exec(d, "CREATE TABLE IF NOT EXISTS syncq_schema_migrations (version integer PRIMARY KEY,"
                   " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())") < 0)
        return -1;
    for (size_t i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
        int a = applied(d, migrations[i].version);
        if (a < 0) return -1;
        if (a) continue;
        if (apply(d, &migrations[i]) < 0) return -1;
        printf("applied %s\n", migrations[i].name);
        n++;
    }
    if (n == 0) printf("schema is up to date\n");
    return ensure_days(d);
}

/* load_functions loads the function library unless Redis has this version
 * already. An unreachable Redis is a warning, not a failure: the schema is
 * migrated, and every worker master loads the library when it connects. A
 * refusal (password, ACL) is a failure: it will not fix itself. */
static int
load_functions(const config *cfg)
{
    rds r;
    char shown[600];
    int rc = SYNCQ_EX_OK;
    url_redact(cfg->redis_url, shown, sizeof(shown));
    rds_init(&r);
    if (rds_connect(&r, cfg->redis_url, 5000) < 0) {
        if (r.err != RDS_ERR_IO) {
            fprintf(stderr, "syncq migrate: Redis at %s: %s\n", shown, r.errstr);
            return SYNCQ_EX_CONFIG;
        }
        fprintf(stderr, "syncq migrate: warning: cannot reach Redis at %s (%s): the function library is not"
                " loaded; workers load it when they start, or run syncq migrate again\n", shown, r.errstr);
        return SYNCQ_EX_OK;
    }
    if (funcs_ensure(&r) < 0) {
        fprintf(stderr, "syncq migrate: loading the Redis function library at %s: %s\n", shown, r.errstr);
        rc = SYNCQ_EX_CONFIG;
    } else {
        printf("Redis function library loaded at %s\n", shown);
    }
    rds_close(&r);
    return rc;
}

int
cli_migrate(config *cfg, int argc, char **argv)
{
    db d;
    int rc = SYNCQ_EX_OK;
    if (argc > 1) {
        int help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
        if (!help) fprintf(stderr, "syncq migrate: unrecognized %s \"%s\"\n", argv[1][0] == '-' ? "option" : "argument", argv[1]);
        fprintf(help ? stdout : stderr, "usage: syncq migrate\n\nApplies schema/ migrations to SYNCQ_DATABASE_URL and makes the audit"
                " tables' day partitions up to " STR(PARTITION_AHEAD_DAYS) " days ahead, then loads the Redis function library into"
                " SYNCQ_REDIS_URL (a warning when Redis is unreachable).\n");
        return help ? SYNCQ_EX_OK : SYNCQ_EX_USAGE;
    }
    db_init(&d);
    if (db_connect(&d, cfg->database_url) < 0) {
        fprintf(stderr, "syncq migrate: %s\n", d.errstr);
        return SYNCQ_EX_UNAVAILABLE;
    }
    if (run(&d) < 0) {
        fprintf(stderr, "syncq migrate: %s\n", d.errstr);
        rc = SYNCQ_EX_SOFTWARE;
    }
    db_close(&d);
    return rc == SYNCQ_EX_OK ? load_functions(cfg) : rc;
}
