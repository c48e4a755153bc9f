/* cli_audit.c - `syncq audit refeed`: the audit records the writer set aside
 * (P:{Q}:rejected, keys.h: PostgreSQL refused them, or they were not records
 * of ours) go back to the queue's outbox once the cause is fixed (a missing
 * migration, a constraint), so the writer tries them again. A record refused
 * again is set aside again; nothing is lost either way. */
#include "fmacros.h"
#include "cli_ops.h"
#include "keys.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: syncq audit refeed [--queue Q]\n"
    "\n"
    "Moves the audit records the writer set aside (PostgreSQL refused them; counted as\n"
    "REJECTED by syncq stats, syncq check --max-rejected and syncq_audit_rejected) back\n"
    "to the outbox, for the writer to try again. Fix the cause first (syncq migrate, the\n"
    "worker log's audit.set_aside line). Every queue, or only Q.\n"
    "\n"
    "Exit codes: 0 done, 64 usage, 69 Redis unavailable.\n";

/* refeed moves queue q's set-aside records to the tail of its outbox, one
 * LMOVE each (atomic), as many as were there when it started: a record the
 * writer refuses again meanwhile is not taken twice. Records moved, or -1. */
static long long
refeed(rds *r, const config *cfg, const char *q)
{
    qkeys k;
    keys_queue(&k, cfg->prefix, q, NULL);
    rds_reply *x = rds_cmdf(r, "LLEN %s", k.rejected);
    if (!rds_reply_ok(r, x)) {
        rds_reply_free(x);
        return -1;
    }
    long long n = rds_reply_int(x), moved = 0;
    rds_reply_free(x);
    for (; moved < n; moved++) {
        x = rds_cmdf(r, "LMOVE %s %s LEFT RIGHT", k.rejected, k.outbox);
        int ok = rds_reply_ok(r, x), empty = rds_reply_type(x) == RDS_NIL;
        rds_reply_free(x);
        if (!ok) return -1;
        if (empty) break;
    }
    return moved;
}

static int
run(rds *r, const config *cfg, const char *only)
{
    char (*names)[CONFIG_QUEUE_NAME_MAX] = NULL;
    int n = 0, rc = SYNCQ_EX_OK;
    if (only) {
        names = xcalloc(1, sizeof(*names));
        snprintf(names[0], sizeof(names[0]), "%s", only);
        n = 1;
    } else if (qstat_queue_names(r, cfg, &names, &n) < 0) {
        fprintf(stderr, "syncq audit refeed: Redis: %s\n", r->errstr);
        return SYNCQ_EX_UNAVAILABLE;
    }
    for (int i = 0; i < n; i++) {
        long long moved = refeed(r, cfg, names[i]);
        if (moved < 0) {
            fprintf(stderr, "syncq audit refeed: Redis: %s\n", r->errstr);
            rc = SYNCQ_EX_UNAVAILABLE;
            break;
        }
        if (moved || only) printf("%s: %lld audit record(s) back in the outbox\n", names[i], moved);
    }
    free(names);
    return rc;
}

int
cli_audit(config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"queue", required_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *only = NULL;
    rds r;
    int o, rc;
    if (argc < 2 || strcmp(argv[1], "refeed") != 0) {
        int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        if (!help && argc >= 2) fprintf(stderr, "syncq audit: unknown verb \"%s\"\n", argv[1]);
        fputs(usage, help ? stdout : stderr);
        return help ? SYNCQ_EX_OK : SYNCQ_EX_USAGE;
    }
    optind = 1;
    while ((o = getopt_long(argc - 1, argv + 1, "q:h", opts, NULL)) != -1) {
        if (o == 'h') {
            fputs(usage, stdout);
            return SYNCQ_EX_OK;
        }
        if (o != 'q') {
            fputs(usage, stderr);
            return SYNCQ_EX_USAGE;
        }
        if (!config_valid_queue_name(optarg)) {
            fprintf(stderr, "syncq audit refeed: bad queue name \"%s\"\n", optarg);
            return SYNCQ_EX_USAGE;
        }
        only = optarg;
    }
    if (optind < argc - 1) {
        fprintf(stderr, "syncq audit refeed: unexpected argument \"%s\"\n%s", argv[1 + optind], usage);
        return SYNCQ_EX_USAGE;
    }
    if ((rc = ops_redis(&r, cfg, "audit refeed")) != 0) return rc;
    rc = run(&r, cfg, only);
    rds_close(&r);
    return rc;
}
