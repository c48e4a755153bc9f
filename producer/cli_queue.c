/* cli_queue.c - `syncq queue pause|resume|ls`: fleet-wide switches per queue.
 * A paused queue keeps its jobs and takes new ones; no worker on any host
 * fetches from it until it is resumed (the fetch function checks the key). */
#include "fmacros.h"
#include "cli.h"
#include "keys.h"
#include "rds.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: syncq queue pause QUEUE...    stop every worker fetching from QUEUE\n"
    "       syncq queue resume QUEUE...   let them fetch again\n"
    "       syncq queue ls                queues with their depth and state\n";

static int
toggle(rds *r, const config *cfg, int pause, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        qkeys k;
        if (!config_valid_queue_name(argv[i])) {
            fprintf(stderr, "syncq queue: bad queue name \"%s\"\n", argv[i]);
            return EX_USAGE_;
        }
        keys_queue(&k, cfg->prefix, argv[i], NULL);
        rds_reply *x = pause ? rds_cmdf(r, "SET %s %lld", k.paused, (long long)time(NULL)) : rds_cmdf(r, "DEL %s", k.paused);
        int ok = rds_reply_ok(r, x);
        rds_reply_free(x);
        if (!ok) {
            fprintf(stderr, "syncq queue: %s\n", r->errstr);
            return EX_UNAVAILABLE_;
        }
        printf("%s %s\n", argv[i], pause ? "paused" : "resumed");
    }
    return EX_OK_;
}

static long long
int_of(rds *r, const char *cmd, const char *key)
{
    rds_reply *x = rds_cmdf(r, "%s %s", cmd, key);
    long long v = rds_reply_type(x) == RDS_INT ? rds_reply_int(x) : -1;
    rds_reply_free(x);
    return v;
}

static int
list(rds *r, const config *cfg)
{
    char key[KEY_MAX];
    keys_global(key, sizeof(key), cfg->prefix, "queues");
    rds_reply *x = rds_cmdf(r, "SMEMBERS %s", key);
    if (!rds_reply_ok(r, x)) {
        fprintf(stderr, "syncq queue: %s\n", r->errstr);
        rds_reply_free(x);
        return EX_UNAVAILABLE_;
    }
    printf("%-20s %-8s %10s %10s %10s\n", "QUEUE", "STATE", "READY", "RETRY", "DEAD");
    for (size_t i = 0; i < rds_reply_len(x); i++) {
        qkeys k;
        const char *q = rds_reply_str(rds_reply_at(x, i), NULL);
        keys_queue(&k, cfg->prefix, q, NULL);
        printf("%-20s %-8s %10lld %10lld %10lld\n", q, int_of(r, "EXISTS", k.paused) == 1 ? "paused" : "active",
               int_of(r, "LLEN", k.ready), int_of(r, "ZCARD", k.retry), int_of(r, "ZCARD", k.dead));
    }
    rds_reply_free(x);
    return EX_OK_;
}

int
cli_queue(config *cfg, int argc, char **argv)
{
    rds r;
    int rc;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EX_USAGE_ : EX_OK_;
    }
    int pause = !strcmp(argv[1], "pause"), resume = !strcmp(argv[1], "resume"), ls = !strcmp(argv[1], "ls");
    if (!pause && !resume && !ls) {
        fprintf(stderr, "syncq queue: unknown verb \"%s\"\n%s", argv[1], usage);
        return EX_USAGE_;
    }
    if ((pause || resume) && argc < 3) {
        fputs(usage, stderr);
        return EX_USAGE_;
    }
    rds_init(&r);
    if (rds_connect(&r, cfg->redis_url, 5000) < 0) {
        fprintf(stderr, "syncq queue: %s\n", r.errstr);
        return EX_UNAVAILABLE_;
    }
    rc = ls ? list(&r, cfg) : toggle(&r, cfg, pause, argc - 2, argv + 2);
    rds_close(&r);
    return rc;
}
