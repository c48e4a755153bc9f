/* cli_prune.c - `syncq prune --older-than D`: retention for the audit
 * tables. Deletes jobs that finished (success, dead, conflict, superseded)
 * before now - D, with their history events, in batches (one short
 * transaction each, so the writer is never blocked for long). Unfinished
 * jobs are never pruned, however old. */
#include "fmacros.h"
#include "cli_ops.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRUNE_BATCH "5000"

static const char usage[] =
    "usage: syncq prune --older-than D [--dry-run]\n"
    "\n"
    "Deletes audit rows of jobs that finished (success, dead, conflict, superseded) more than D\n"
    "ago (30d, 12h, 1w, ...), and their history events, in batches of " PRUNE_BATCH ". Jobs still\n"
    "queued, running or retrying stay. Prints how many jobs and events were deleted.\n"
    "\n"
    "      --older-than D   required\n"
    "      --dry-run        count what would be deleted; delete nothing\n"
    "\n"
    "Exit codes: 0 ok, 64 usage, 69 PostgreSQL unavailable, 70 a query failed.\n";

static const char *SQL_CUTOFF =
    "SELECT to_char((now() - $1::bigint * interval '1 millisecond') AT TIME ZONE 'UTC',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

#define FINISHED_BEFORE "status IN ('success', 'dead', 'conflict', 'superseded') AND finished_at < $1::timestamptz"

static const char *SQL_COUNT =
    "SELECT count(*), (SELECT count(*) FROM syncq_job_events e WHERE e.job_id IN"
    " (SELECT job_id FROM syncq_jobs WHERE " FINISHED_BEFORE ")) FROM syncq_jobs WHERE " FINISHED_BEFORE;

static const char *SQL_BATCH =
    "WITH gone AS (DELETE FROM syncq_jobs WHERE job_id IN"
    " (SELECT job_id FROM syncq_jobs WHERE " FINISHED_BEFORE " LIMIT " PRUNE_BATCH ") RETURNING job_id),"
    " ev AS (DELETE FROM syncq_job_events e USING gone WHERE e.job_id = gone.job_id RETURNING 1)"
    " SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM ev)";

/* two_counts runs sql with the cutoff and adds its two counts. 0 or -1. */
static int
two_counts(db *d, const char *sql, const char *cutoff, long long *jobs, long long *events)
{
    const char *params[] = {cutoff};
    db_result *r = db_query(d, sql, 1, params);
    if (!r) return -1;
    *jobs += atoll(db_value(r, 0, 0));
    *events += atoll(db_value(r, 0, 1));
    db_result_free(r);
    return 0;
}

static int
prune(db *d, int64_t older_ms, int dry_run)
{
    char ms[32], cutoff[40];
    const char *params[] = {ms};
    long long jobs = 0, events = 0, before;
    snprintf(ms, sizeof(ms), "%lld", (long long)older_ms);
    db_result *r = db_query(d, SQL_CUTOFF, 1, params);
    if (!r) return -1;
    snprintf(cutoff, sizeof(cutoff), "%s", db_value(r, 0, 0));
    db_result_free(r);
    if (dry_run) {
        if (two_counts(d, SQL_COUNT, cutoff, &jobs, &events) < 0) return -1;
        printf("would prune %lld job(s) and %lld event(s) finished before %s (dry run: nothing deleted)\n", jobs,
               events, cutoff);
        return 0;
    }
    do {
        before = jobs;
        if (two_counts(d, SQL_BATCH, cutoff, &jobs, &events) < 0) return -1;
    } while (jobs - before == atoll(PRUNE_BATCH));
    printf("pruned %lld job(s) and %lld event(s) finished before %s\n", jobs, events, cutoff);
    return 0;
}

int
cli_prune(config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"older-than", required_argument, NULL, 'o'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int64_t older = -1;
    int dry_run = 0, o, rc;
    db d;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'h') {
            fputs(usage, stdout);
            return EX_OK_;
        }
        if (o == 'n') dry_run = 1;
        else if (o != 'o' || ops_duration(optarg, &older, "prune", "older-than") < 0) return EX_USAGE_;
    }
    if (older < 0 || optind < argc) {
        fprintf(stderr, "syncq prune: --older-than is required\n%s", usage);
        return EX_USAGE_;
    }
    if ((rc = ops_db(&d, cfg, "prune", 0)) != 0) return rc;
    if (prune(&d, older, dry_run) < 0) {
        fprintf(stderr, "syncq prune: PostgreSQL: %s\n", d.errstr);
        rc = db_alive(&d) ? EX_SOFTWARE_ : EX_UNAVAILABLE_;
    }
    db_close(&d);
    return rc;
}
