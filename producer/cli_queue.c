/* cli_queue.c - `syncq queue pause|resume|ls`: fleet-wide switches per queue.
 * A paused queue keeps its jobs and takes new ones; no worker on any host
 * fetches from it until it is resumed (the fetch function checks the key). */
#include "fmacros.h"
#include "cli.h"
#include "cli_table.h"
#include "keys.h"
#include "rds.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: syncq queue pause QUEUE... [--force]    stop every worker fetching from QUEUE\n"
    "       syncq queue resume QUEUE... [--force]   let them fetch again\n"
    "       syncq queue ls                          queues with their depth and state: the configured\n"
    "                                               ones (SYNCQ_QUEUES) first, then those only workers\n"
    "                                               registered\n"
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
    keys_queues(reg, sizeof(reg), cfg->prefix);
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
            return SYNCQ_EX_USAGE;
        }
        int k = force ? 1 : known(r, cfg, argv[i]);
        if (k < 0) {
            fprintf(stderr, "syncq queue: %s\n", r->errstr);
            return SYNCQ_EX_UNAVAILABLE;
        }
        if (!k) {
            fprintf(stderr, "syncq queue: unknown queue \"%s\": not in SYNCQ_QUEUES and no worker has registered it"
                            " (syncq queue ls); --force to use it anyway\n", argv[i]);
            return SYNCQ_EX_DATAERR;
        }
    }
    return SYNCQ_EX_OK;
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
            return SYNCQ_EX_UNAVAILABLE;
        }
        printf("%s %s\n", cli_tty(argv[i]), pause ? "paused" : "resumed");
    }
    return SYNCQ_EX_OK;
}

static long long
int_of(rds *r, const char *cmd, const char *key)
{
    rds_reply *x = rds_cmdf(r, "%s %s", cmd, key);
    long long v = rds_reply_type(x) == RDS_INT ? rds_reply_int(x) : -1;
    rds_reply_free(x);
    return v;
}

static const cli_table_col ls_cols[] = {
    {"QUEUE", 0, 0}, {"STATE", 0, 1}, {"READY", 1, 1}, {"RETRY", 1, 1}, {"DEAD", 1, 1}, {"SOURCE", 0, 1},
};

static void
ls_row(cli_table *t, rds *r, const config *cfg, const char *q, const char *source)
{
    qkeys k;
    char n[3][24];
    keys_queue(&k, cfg->prefix, q, NULL);
    snprintf(n[0], sizeof(n[0]), "%lld", int_of(r, "LLEN", k.ready));
    snprintf(n[1], sizeof(n[1]), "%lld", int_of(r, "ZCARD", k.retry));
    snprintf(n[2], sizeof(n[2]), "%lld", int_of(r, "ZCARD", k.dead));
    const char *cells[] = {cli_tty(q), int_of(r, "EXISTS", k.paused) == 1 ? "paused" : "active", n[0], n[1], n[2],
                           source};
    cli_table_row(t, cells);
}

static int
configured(const config *cfg, const char *q)
{
    for (int i = 0; i < cfg->nqueues; i++)
        if (!strcmp(cfg->queues[i].name, q)) return 1;
    return 0;
}

/* list shows the configured queues (SYNCQ_QUEUES) first, so a fresh
 * deployment lists them before any worker has registered, then the queues
 * only workers registered. */
static int
list(rds *r, const config *cfg)
{
    char key[KEY_MAX];
    keys_queues(key, sizeof(key), cfg->prefix);
    rds_reply *x = rds_cmdf(r, "SMEMBERS %s", key);
    if (!rds_reply_ok(r, x)) {
        fprintf(stderr, "syncq queue: %s\n", r->errstr);
        rds_reply_free(x);
        return SYNCQ_EX_UNAVAILABLE;
    }
    cli_table t;
    cli_table_init(&t, ls_cols, (int)(sizeof(ls_cols) / sizeof(ls_cols[0])));
    for (int i = 0; i < cfg->nqueues; i++) {
        int reg = 0;
        for (size_t j = 0; j < rds_reply_len(x); j++)
            reg |= !strcmp(rds_reply_str(rds_reply_at(x, j), NULL), cfg->queues[i].name);
        ls_row(&t, r, cfg, cfg->queues[i].name, reg ? "configured, registered" : "configured");
    }
    for (size_t i = 0; i < rds_reply_len(x); i++) {
        const char *q = rds_reply_str(rds_reply_at(x, i), NULL);
        if (!configured(cfg, q)) ls_row(&t, r, cfg, q, "registered");
    }
    cli_table_print(&t, stdout, cli_term_width());
    rds_reply_free(x);
    return SYNCQ_EX_OK;
}

/* wants_help: --help or -h anywhere after the verb */
static int
wants_help(int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

int
cli_queue(config *cfg, int argc, char **argv)
{
    rds r;
    int rc;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SYNCQ_EX_USAGE : SYNCQ_EX_OK;
    }
    int pause = !strcmp(argv[1], "pause"), resume = !strcmp(argv[1], "resume"), ls = !strcmp(argv[1], "ls");
    if (!pause && !resume && !ls) {
        fprintf(stderr, "syncq queue: unknown verb \"%s\"\n%s", argv[1], usage);
        return SYNCQ_EX_USAGE;
    }
    if (wants_help(argc, argv)) {
        fputs(usage, stdout);
        return SYNCQ_EX_OK;
    }
    /* --force anywhere after the verb; the rest are queue names */
    int force = 0, n = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) force = 1;
        else argv[2 + n++] = argv[i];
    }
    if ((pause || resume) && n < 1) {
        fputs(usage, stderr);
        return SYNCQ_EX_USAGE;
    }
    rds_init(&r);
    if (rds_connect(&r, cfg->redis_url, 5000) < 0) {
        fprintf(stderr, "syncq queue: %s\n", r.errstr);
        return SYNCQ_EX_UNAVAILABLE;
    }
    if (ls) rc = list(&r, cfg);
    else if ((rc = check_names(&r, cfg, force, n, argv + 2)) == SYNCQ_EX_OK) rc = toggle(&r, cfg, pause, n, argv + 2);
    rds_close(&r);
    return rc;
}
