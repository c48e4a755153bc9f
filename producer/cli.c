/* cli.c - syncq's subcommand table and global flags. */
#include "fmacros.h"
#include "cli.h"
#include "log.h"
#include "mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_cmd commands[] = {
    {"enqueue", cli_enqueue, "push a job (or a batch of NDJSON jobs) and print its id"},
    {"dlq", cli_dlq, "dead-letter jobs: ls, show, replay, purge"},
    {"migrate", cli_migrate, "create or upgrade the audit tables (idempotent)"},
    {"queue", cli_queue, "pause or resume a queue fleet-wide, list queues"},
    {"status", cli_status, "where a job is: queued, delayed, retrying, running, dead, done"},
    {"cancel", cli_cancel, "take a queued or delayed job out (into the dead-letter set)"},
    {"stats", cli_stats, "queues and workers right now (depth, oldest age, in-flight, retry, dead)"},
    {"health", cli_health, "success and failure rates, p50/p95 durations, recent failures (audit)"},
    {"check", cli_check, "exit 1 past thresholds (oldest age, dead count, failure rate), for alerting"},
    {"jobs", cli_jobs, "search the audit log; jobs show ID; jobs retry ID"},
    {"prune", cli_prune, "delete audit rows of jobs finished before a given age"},
    {"audit", cli_audit, "refeed: audit records PostgreSQL refused, back to the writer once fixed"},
    {"snapshot", cli_snapshot, "ls SERVICE RESOURCE: the local copy of a synced resource, a page at a time"},
    {"web", cli_web, "the web console: overview, jobs, dead letters, snapshots, queues (docs/WEB.md)"},
    {"healthcheck", cli_healthcheck, "exit 0 when the worker master on this machine answers /healthz (containers)"},
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: syncq [--redis URL] [--database URL] [--prefix P] COMMAND [ARGS]\n\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nEnvironment: SYNCQ_REDIS_URL, SYNCQ_DATABASE_URL, SYNCQ_PREFIX (flags override).\n"
               "Run 'syncq COMMAND --help' for a command's options.\n");
}

int
cli_limit_opt(const char *cmd, const char *v, int max, char *out, size_t outlen)
{
    int64_t n;
    if (config_parse_int(v, 1, max, &n) < 0) {
        fprintf(stderr, "syncq %s: bad --limit \"%s\" (1..%d)\n", cmd, v, max);
        return SYNCQ_EX_USAGE;
    }
    snprintf(out, outlen, "%lld", (long long)n);
    return 0;
}

static const char *
env_get(const char *name)
{
    return getenv(name);
}

/* is_global: a is one of the global flags, which go before the command. */
static int
is_global(const char *a)
{
    return !strcmp(a, "--redis") || !strcmp(a, "--database") || !strcmp(a, "--prefix");
}

/* hint_global: after a usage error, name a global flag given after the
 * command (`syncq migrate --database URL`), which no command accepts. */
static void
hint_global(int argc, char **argv, int cmd)
{
    for (int k = cmd + 1; k < argc; k++)
        if (is_global(argv[k])) {
            fprintf(stderr, "syncq: %s is a global option: put it before the command (syncq %s VALUE %s ...)\n",
                    argv[k], argv[k], argv[cmd]);
            return;
        }
}

/* global_flag consumes one global flag at argv[*i]; 1 when consumed. */
static int
global_flag(config *c, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    char *dst = NULL;
    size_t cap = 0;
    if (!is_global(a)) return 0;
    if (!strcmp(a, "--redis")) { dst = c->redis_url; cap = sizeof(c->redis_url); }
    else if (!strcmp(a, "--database")) { dst = c->database_url; cap = sizeof(c->database_url); }
    else if (!strcmp(a, "--prefix")) { dst = c->prefix; cap = sizeof(c->prefix); }
    if (!dst) return 0;
    if (*i + 1 >= argc) return -1;
    snprintf(dst, cap, "%s", argv[++*i]);
    return 1;
}

int
cli_dispatch(int argc, char **argv)
{
    config c;
    char err[256];
    int i = 1;
    config_defaults(&c);
    if (config_from_env(&c, env_get, err, sizeof(err)) < 0) {
        fprintf(stderr, "syncq: %s\n", err);
        return SYNCQ_EX_USAGE;
    }
    log_set_level(c.log_level);
    mask_set_extra(c.mask_keys[0] ? c.mask_keys : NULL);
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return SYNCQ_EX_OK;
        }
        if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
            printf("syncq %s\n", SYNCQ_VERSION);
            return SYNCQ_EX_OK;
        }
        int g = global_flag(&c, argc, argv, &i);
        if (g <= 0) {
            fprintf(stderr, "syncq: %s \"%s\"\n", g < 0 ? "missing value for" : "unknown option", argv[i]);
            return SYNCQ_EX_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return SYNCQ_EX_USAGE;
    }
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
        if (!strcmp(argv[i], commands[k].name)) {
            int rc = commands[k].run(&c, argc - i, argv + i);
            if (rc == SYNCQ_EX_USAGE) hint_global(argc, argv, i);
            return rc;
        }
    fprintf(stderr, "syncq: unknown command \"%s\"\n", argv[i]);
    usage(stderr);
    return SYNCQ_EX_USAGE;
}
