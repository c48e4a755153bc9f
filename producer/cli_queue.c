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
    "usage: syncq queue pause QUEUE... [--force]    stop every worker fetching from QUEUE\n"
    "       syncq queue resume QUEUE... [--force]   let them fetch again\n"
    "       syncq queue ls                          queues with their depth and state\n"
    "\n"
    "A queue must be known: configured (SYNCQ_QUEUES) or registered by a worker (queue ls);\n"
    "--force pauses or resumes a name nothing knows yet (a queue about to be deployed).\n";

/* known: name is configured, registered by a worker, or (to resume) paused;
 * 1, 0, or -1 on a Redis error (r->errstr). A typo would otherwise pause
 * nothing and say "paused". */
static int
known(rds *r, const config *cfg, const char *name)
{
    char reg[KEY_MAX];
    qkeys k;
    for (int i = 0; i < cfg->nqueues; i++)
        if (!strcmp(cfg->queues[i].name, name)) return 1;
    keys_global(reg, sizeof(reg), cfg->prefix, "queues");
    keys_queue(&k, cfg->prefix, name, NULL);
    rds_reply *x = rds_cmdf(r, "SISMEMBER %s %s", reg, name);
    rds_reply *y = rds_cmdf(r, "EXISTS %s", k.paused);
    int rc = rds_reply_ok(r, x) && rds_reply_ok(r, y) ? (rds_reply_int(x) == 1 || rds_reply_int(y) == 1) : -1;
    rds_reply_free(x);
    rds_reply_free(y);
    return rc;
}

/* check_names refuses, before anything changes, a bad or unknown name. */
static int
check_names(rds *r, const config *cfg, int force, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (!config_valid_queue_name(argv[i])) {
            fprintf(stderr, "syncq queue: bad queue name \"%s\"\n", argv[i]);
            return EX_USAGE_;
        }
        int k = force ? 1 : known(r, cfg, argv[i]);
        if (k < 0) {
            fprintf(stderr, "syncq queue: %s\n", r->errstr);
            return EX_UNAVAILABLE_;
        }
        if (!k) {
            fprintf(stderr, "syncq queue: unknown queue \"%s\": not in SYNCQ_QUEUES and no worker has registered it"
                            " (syncq queue ls); --force to use it anyway\n", argv[i]);
            return EX_DATAERR_;
        }
    }
    return EX_OK_;
}

static int
toggle(rds *r, const config *cfg, int pause, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        qkeys k;
        keys_queue(&k, cfg->prefix, argv[i], NULL);
        rds_reply *x = pause ? rds_cmdf(r, "SET %s %lld", k.paused, (long long)time(NULL)) : rds_cmdf(r, "DEL %s", k.paused);
        int ok = rds_reply_ok(r, x);
        rds_reply_free(x);
        if (!ok) {
            fprintf(stderr, "syncq queue: %s\n", r->errstr);
            return EX_UNAVAILABLE_;
        }
        printf("%s %s\n", cli_tty(argv[i]), pause ? "paused" : "resumed");
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
        printf("%-20s %-8s %10lld %10lld %10lld\n", cli_tty(q), int_of(r, "EXISTS", k.paused) == 1 ? "paused" : "active",
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
    /* --force anywhere after the verb; the rest are queue names */
    int force = 0, n = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) force = 1;
        else argv[2 + n++] = argv[i];
    }
    if ((pause || resume) && n < 1) {
        fputs(usage, stderr);
        return EX_USAGE_;
    }
    rds_init(&r);
    if (rds_connect(&r, cfg->redis_url, 5000) < 0) {
        fprintf(stderr, "syncq queue: %s\n", r.errstr);
        return EX_UNAVAILABLE_;
    }
    if (ls) rc = list(&r, cfg);
    else if ((rc = check_names(&r, cfg, force, n, argv + 2)) == EX_OK_) rc = toggle(&r, cfg, pause, n, argv + 2);
    rds_close(&r);
    return rc;
}
