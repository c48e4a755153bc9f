/* cli_check.c - `syncq check`: thresholds for cron, Nagios-style monitors and
 * container health checks. Exit 0 when every threshold holds; 1 with one
 * line per breach (the one documented exception to sysexits); 69 when Redis
 * or PostgreSQL cannot be reached. */
#include "fmacros.h"
#include "cli_ops.h"
#include "durability.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



#define DEFAULT_OLDEST_MS 300000   /* 5 min waiting to run */
#define DEFAULT_DEAD 1000          /* per queue; the dead-letter set keeps 10,000 */
#define DEFAULT_FAILURE_RATE 0.5   /* final failure rate per service/action */
#define DEFAULT_WINDOW_MS 900000   /* 15 min */
#define DEFAULT_MIN_JOBS 10        /* fewer finished jobs say nothing about a rate */
#define DEFAULT_REJECTED 0         /* audit records set aside: each one is a row missing from the audit */

static const char usage[] =
    "usage: syncq check [--max-oldest-age S] [--max-dead N] [--max-failure-rate R] [--window W]\n"
    "                   [--min-jobs N] [--max-rejected N] [--redis-durability off]\n"
    "\n"
    "Checks thresholds and prints one line per breach:\n"
    "  --max-oldest-age S    a queue's oldest ready job has waited longer than S seconds (or a\n"
    "                        duration: 90s, 5m) (default 300)\n"
    "  --max-dead N          a queue holds more than N dead-letter jobs (default 1000)\n"
    "  --max-failure-rate R  over the window, more than R (0..1) of a service/action's finished jobs\n"
    "                        ended dead or in conflict (default 0.5), when at least --min-jobs\n"
    "                        jobs finished (default 10)\n"
    "  --window W            the failure-rate window: 15m, 1h, 24h, 7d (default 15m)\n"
    "  --max-rejected N      a queue holds more than N audit records set aside because\n"
    "                        PostgreSQL refused them (default 0; syncq audit refeed)\n"
    "  --redis-durability    Redis's maxmemory-policy is not noeviction, or both RDB and AOF\n"
    "                        persistence are off (on by default; \"off\" for a throwaway server)\n"
    "Each threshold takes \"off\"; with --max-failure-rate off PostgreSQL is not needed.\n"
    "Queues: the configured ones (SYNCQ_QUEUES) and every queue a worker has registered.\n"
    "\n"
    "Exit codes: 0 all thresholds hold, 1 a breach (one line each), 64 usage,\n"
    "69 Redis or PostgreSQL unreachable.\n";

typedef struct limits {
    int64_t oldest_ms;   /* -1 off */
    long long dead;      /* -1 off */
    double rate;         /* < 0 off */
    int64_t window_ms;
    long long min_jobs;
    long long rejected;  /* -1 off */
    int durability;      /* 1 judge Redis's eviction and persistence settings */
} limits;

enum { O_AGE = 256, O_DEAD, O_RATE, O_WINDOW, O_MIN, O_REJECTED, O_DURABILITY };

static int
bad(const char *opt, const char *v)
{
    fprintf(stderr, "syncq check: bad value \"%s\" for --%s\n", v, opt);
    return SYNCQ_EX_USAGE;
}

/* age_opt reads whole seconds, or a duration with a unit. */
static int
age_opt(const char *v, int64_t *ms)
{
    int64_t s;
    if (config_parse_int(v, 0, 100LL * 366 * 86400, &s) == 0) {
        *ms = s * 1000;
        return 0;
    }
    return ops_duration(v, ms, "check", "max-oldest-age") < 0 ? SYNCQ_EX_USAGE : 0;
}

static int
rate_opt(const char *v, double *r)
{
    char *end;
    *r = strtod(v, &end);
    return end == v || *end || !(*r >= 0 && *r <= 1) ? bad("max-failure-rate", v) : 0;
}

static int
one_opt(int o, const char *v, limits *l)
{
    int off = !strcmp(v, "off");
    int64_t n;
    switch (o) {
    case O_AGE: l->oldest_ms = -1; return off ? 0 : age_opt(v, &l->oldest_ms);
    case O_DEAD:
        l->dead = -1;
        if (off) return 0;
        if (config_parse_int(v, 0, 1000000000, &n) < 0) return bad("max-dead", v);
        l->dead = n;
        return 0;
    case O_REJECTED:
        l->rejected = -1;
        if (off) return 0;
        if (config_parse_int(v, 0, 1000000000, &n) < 0) return bad("max-rejected", v);
        l->rejected = n;
        return 0;
    case O_DURABILITY:
        if (!off && strcmp(v, "on")) return bad("redis-durability", v);
        l->durability = !off;
        return 0;
    case O_RATE: l->rate = -1; return off ? 0 : rate_opt(v, &l->rate);
    case O_WINDOW: return ops_duration(v, &l->window_ms, "check", "window") < 0 || l->window_ms == 0 ? SYNCQ_EX_USAGE : 0;
    case O_MIN:
        if (config_parse_int(v, 1, 1000000000, &n) < 0) return bad("min-jobs", v);
        l->min_jobs = n;
        return 0;
    default: return SYNCQ_EX_USAGE;
    }
}

static int
parse(int argc, char **argv, limits *l)
{
    static const struct option opts[] = {
        {"max-oldest-age", required_argument, NULL, O_AGE}, {"max-dead", required_argument, NULL, O_DEAD},
        {"max-failure-rate", required_argument, NULL, O_RATE}, {"window", required_argument, NULL, O_WINDOW},
        {"min-jobs", required_argument, NULL, O_MIN}, {"max-rejected", required_argument, NULL, O_REJECTED},
        {"redis-durability", required_argument, NULL, O_DURABILITY},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int o, rc;
    *l = (limits){DEFAULT_OLDEST_MS, DEFAULT_DEAD, DEFAULT_FAILURE_RATE, DEFAULT_WINDOW_MS, DEFAULT_MIN_JOBS,
                  DEFAULT_REJECTED, 1};
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'h') {
            fputs(usage, stdout);
            return SYNCQ_EX_OK;
        }
        if (o == '?' || (rc = one_opt(o, optarg, l)) != 0) {
            if (o == '?') fputs(usage, stderr);
            return SYNCQ_EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "syncq check: unexpected argument \"%s\"\n%s", argv[optind], usage);
        return SYNCQ_EX_USAGE;
    }
    return -1;
}

/* ---------------------------------------------------------------- Judging */

static int
judge_queues(const ops_fleet *f, const limits *l)
{
    char a[32], b[32];
    int breaches = 0;
    for (int i = 0; i < f->nq; i++) {
        const qstat *q = &f->q[i];
        if (l->oldest_ms >= 0 && q->oldest_age_ms > l->oldest_ms) {
            printf("queue %s: the oldest ready job has waited %s, over %s (%lld ready)\n", cli_tty(q->name),
                   config_fmt_duration_ms(q->oldest_age_ms, a, sizeof(a)), config_fmt_duration_ms(l->oldest_ms, b, sizeof(b)), q->ready);
            breaches++;
        }
        if (l->dead >= 0 && q->dead > l->dead) {
            printf("queue %s: %lld dead-letter jobs, over %lld\n", cli_tty(q->name), q->dead, l->dead);
            breaches++;
        }
        if (l->rejected >= 0 && q->rejected > l->rejected) {
            printf("queue %s: %lld audit records set aside (PostgreSQL refused them), over %lld;"
                   " fix the cause, then syncq audit refeed --queue %s\n",
                   q->name, q->rejected, l->rejected, q->name);
            breaches++;
        }
    }
    return breaches;
}

static int
judge_rates(const audit_rate *v, int n, const limits *l)
{
    char w[32];
    int breaches = 0;
    for (int i = 0; i < n; i++) {
        long long failed = v[i].dead + v[i].conflict;
        double rate = ops_ratio(failed, v[i].finished);
        if (v[i].total || v[i].finished < l->min_jobs || rate <= l->rate) continue;
        printf("%s/%s: failure rate %.2f over the last %s (%lld of %lld finished jobs dead or in conflict), "
               "over %.2f\n",
               cli_tty(v[i].service), cli_tty(v[i].action), rate, config_fmt_duration_ms(l->window_ms, w, sizeof(w)), failed, v[i].finished,
               l->rate);
        breaches++;
    }
    return breaches;
}

/* judge_durability: a Redis that may evict or forget jobs is a breach
 * (durability.h). Breaches, or -1 on a Redis error (message printed). */
static int
judge_durability(rds *r)
{
    durability d;
    char why[400];
    if (durability_read(r, &d) < 0) {
        fprintf(stderr, "syncq check: Redis: %s\n", r->errstr);
        return -1;
    }
    if (d.rdb < 0 || d.aof < 0)
        fprintf(stderr, "syncq check: note: Redis refused CONFIG GET; persistence not checked\n");
    int n = durability_problems(&d, why, sizeof(why));
    if (n) printf("redis: %s\n", why);
    return n ? 1 : 0;
}

/* rates reads and judges the failure rates. Breaches, or -1 (message printed). */
static int
rates(const config *cfg, const limits *l, int64_t end_ms)
{
    db d;
    audit_rate *v = NULL;
    int n = 0, breaches = -1;
    if (ops_db(&d, cfg, "check", 0) != 0) return -1;
    if (audit_rates_read(&d, l->window_ms, end_ms, &v, &n) < 0) fprintf(stderr, "syncq check: PostgreSQL: %s\n", d.errstr);
    else breaches = judge_rates(v, n, l);
    free(v);
    db_close(&d);
    return breaches;
}

int
cli_check(config *cfg, int argc, char **argv)
{
    limits l;
    ops_fleet f;
    rds r;
    int rc = parse(argc, argv, &l), breaches, more = 0;
    if (rc >= 0) return rc;
    if ((rc = ops_redis(&r, cfg, "check")) != 0) return rc;
    if (ops_fleet_read(&r, cfg, &f) < 0) {
        fprintf(stderr, "syncq check: Redis: %s\n", r.errstr);
        rds_close(&r);
        return SYNCQ_EX_UNAVAILABLE;
    }
    int unsafe = l.durability ? judge_durability(&r) : 0;
    rds_close(&r);
    if (unsafe < 0) {
        ops_fleet_free(&f);
        return SYNCQ_EX_UNAVAILABLE;
    }
    breaches = judge_queues(&f, &l) + unsafe;
    if (l.rate >= 0 && (more = rates(cfg, &l, f.now_ms)) < 0) rc = SYNCQ_EX_UNAVAILABLE; /* window ends at Redis TIME */
    else rc = breaches + more ? SYNCQ_EX_BREACH : SYNCQ_EX_OK;
    if (rc == SYNCQ_EX_OK) printf("ok: %d queue(s) within every threshold\n", f.nq);
    ops_fleet_free(&f);
    return rc;
}
