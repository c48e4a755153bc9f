/* cli_prune.c - `syncq prune --older-than D`: retention for the audit
 * tables. Drops the day partitions older than now - D that hold only jobs
 * finished (success, dead, conflict, superseded) before it (partition.h),
 * then deletes what remains to prune (the boundary day, the raw-id and
 * default partitions, a day with a job still open) with their history
 * events, in batches (one short transaction each, so the writer is never
 * blocked for long). Unfinished jobs are never pruned, however old. */
#include "fmacros.h"
#include "cli_ops.h"
#include "partition.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

static const char usage[] =
    "usage: syncq prune --older-than D [--dry-run]\n"
    "\n"
    "Deletes audit rows of jobs that finished (success, dead, conflict, superseded) more than D\n"
    "ago (30d, 12h, 1w, ...), and their history events: a day's partition older than D is dropped\n"
    "whole when all its jobs qualify, the rest is deleted in batches of " STR(AUDIT_PRUNE_BATCH) ". Jobs still\n"
    "queued, running or retrying stay. Prints how many jobs and events were deleted.\n"
    "\n"
    "      --older-than D   required\n"
    "      --dry-run        count what would be deleted; delete nothing\n"
    "\n"
    "Exit codes: 0 ok, 64 usage, 69 PostgreSQL unavailable, 70 a query failed.\n";

static int
prune(db *d, int64_t older_ms, int dry_run)
{
    char cutoff[40];
    long long jobs = 0, events = 0;
    if (audit_prune_cutoff(d, older_ms, cutoff, sizeof(cutoff)) < 0) return -1;
    if (dry_run) {
        if (audit_prune_count(d, cutoff, &jobs, &events) < 0) return -1;
        printf("would prune %lld job(s) and %lld event(s) finished before %s (dry run: nothing deleted)\n", jobs,
               events, cutoff);
        return 0;
    }
    int days = 0;
    if (partition_prune(d, cutoff, &jobs, &events, &days) < 0 || audit_prune(d, cutoff, &jobs, &events) < 0) return -1;
    printf("pruned %lld job(s) and %lld event(s) finished before %s", jobs, events, cutoff);
    if (days) printf(" (%d day partition(s) dropped whole)", days);
    printf("\n");
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
            return SYNCQ_EX_OK;
        }
        if (o == 'n') dry_run = 1;
        else if (o != 'o' || ops_duration(optarg, &older, "prune", "older-than") < 0) return SYNCQ_EX_USAGE;
    }
    if (older < 0 || optind < argc) {
        fprintf(stderr, "syncq prune: --older-than is required\n%s", usage);
        return SYNCQ_EX_USAGE;
    }
    if ((rc = ops_db(&d, cfg, "prune", 0)) != 0) return rc;
    if (prune(&d, older, dry_run) < 0) {
        fprintf(stderr, "syncq prune: PostgreSQL: %s\n", d.errstr);
        rc = db_alive(&d) ? SYNCQ_EX_SOFTWARE : SYNCQ_EX_UNAVAILABLE;
    }
    db_close(&d);
    return rc;
}
