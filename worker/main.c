/* main.c - syncq-worker: arguments and configuration, then the master. */
#include "fmacros.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "mask.h"
#include "schema.h"
#include "url.h"
#include "worker.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: syncq-worker [-c N] [-q QUEUE[,QUEUE...]] [options]\n"
    "\n"
    "Runs a master that forks N worker children (and one audit writer) fetching\n"
    "jobs from Redis, running them and auditing every outcome in PostgreSQL.\n"
    "\n"
    "  -c, --concurrency N   worker children (SYNCQ_CONCURRENCY, default 4)\n"
    "  -l, --calls K         jobs each child runs at once, their HTTP calls in flight\n"
    "                        together (SYNCQ_CHILD_CALLS, 1..16, default 1)\n"
    "  -q, --queues LIST     queues in strict priority order (urgent,default,sync),\n"
    "                        or weighted (urgent:5,sync:1) (SYNCQ_QUEUES)\n"
    "  -r, --redis URL       Redis URL (SYNCQ_REDIS_URL, default redis://127.0.0.1:6379/0)\n"
    "  -d, --database URL    PostgreSQL URI or conninfo (SYNCQ_DATABASE_URL)\n"
    "  -p, --prefix P        key prefix (SYNCQ_PREFIX, default syncq)\n"
    "  -g, --grace S         seconds in-flight jobs get on SIGTERM (SYNCQ_GRACE, default 25)\n"
    "  -m, --metrics ADDR    serve /metrics and /healthz on host:port, or off\n"
    "                        (SYNCQ_METRICS_ADDR, default 127.0.0.1:9464)\n"
    "  -h, --help            this text\n"
    "  -V, --version         print the version\n"
    "\n"
    "Services: the services file (HTTP mutations and syncs) is SYNCQ_SERVICES, a\n"
    "JSON path; checked at start and on SIGHUP (see syncq-services(5)).\n"
    "\n"
    "Signals to the master:\n"
    "  SIGTERM/SIGINT  stop gracefully: in-flight jobs get the grace period, a second\n"
    "                  signal shortens the wait to 1 s\n"
    "  SIGHUP          reload SYNCQ_SERVICES (an invalid file keeps the old one)\n"
    "  SIGTTIN/SIGTTOU add or remove a child (never below one)\n"
    "  SIGTSTP/SIGCONT stop fetching new jobs (running ones finish) / fetch again\n"
    "\n"
    "Every variable it reads, with defaults: README.md (Starting workers), syncq-worker(8).\n";

static int
parse_flags(config *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"concurrency", required_argument, NULL, 'c'}, {"queues", required_argument, NULL, 'q'},
        {"redis", required_argument, NULL, 'r'},       {"database", required_argument, NULL, 'd'},
        {"prefix", required_argument, NULL, 'p'},      {"grace", required_argument, NULL, 'g'},
        {"metrics", required_argument, NULL, 'm'},     {"calls", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},              {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    char err[256];
    int64_t v;
    int o;
    while ((o = getopt_long(argc, argv, "c:l:q:r:d:p:g:m:hV", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            if (config_parse_int(optarg, 1, 256, &v) < 0) goto bad_int;
            c->concurrency = (int)v;
            break;
        case 'l':
            if (config_parse_int(optarg, 1, CONFIG_MAX_CALLS, &v) < 0) goto bad_int;
            c->calls = (int)v;
            break;
        case 'q':
            if (config_set_queues(c, optarg, err, sizeof(err)) < 0) {
                fprintf(stderr, "syncq-worker: %s\n", err);
                return SYNCQ_EX_USAGE;
            }
            break;
        case 'r': snprintf(c->redis_url, sizeof(c->redis_url), "%s", optarg); break;
        case 'd': snprintf(c->database_url, sizeof(c->database_url), "%s", optarg); break;
        case 'p': snprintf(c->prefix, sizeof(c->prefix), "%s", optarg); break;
        case 'm': {
            char host[128];
            int port;
            if (strcmp(optarg, "off") != 0 && config_parse_listen(optarg, host, sizeof(host), &port) < 0) {
                fprintf(stderr, "syncq-worker: bad --metrics \"%s\" (host:port, [v6]:port, :port or off)\n", optarg);
                return SYNCQ_EX_USAGE;
            }
            snprintf(c->metrics_addr, sizeof(c->metrics_addr), "%s", optarg);
            break;
        }
        case 'g':
            if (config_parse_int(optarg, 0, 3600, &v) < 0) goto bad_int;
            c->grace_s = (int)v;
            break;
        case 'h': fputs(usage, stdout); return 0;
        case 'V': printf("syncq-worker %s\n", SYNCQ_VERSION); return 0;
        default: fputs(usage, stderr); return SYNCQ_EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "syncq-worker: unexpected argument \"%s\"\n%s", argv[optind], usage);
        return SYNCQ_EX_USAGE;
    }
    return -1;
bad_int:
    fprintf(stderr, "syncq-worker: bad value \"%s\" for -%c\n", optarg, o);
    return SYNCQ_EX_USAGE;
}

static const char *
env_get(const char *name)
{
    return getenv(name);
}

/* schema_ok refuses to start on a database without the schema this build
 * needs (SYNCQ_EX_CONFIG), rather than have every audit record refused. An
 * unreachable PostgreSQL is not a reason to stop: jobs run, their records
 * wait in Redis, and the writer checks the schema when it connects. */
static int
schema_ok(const config *c)
{
    db d;
    char msg[256], shown[1100];
    int rc = 0;
    db_init(&d);
    url_redact(c->database_url[0] ? c->database_url : "(libpq defaults)", shown, sizeof(shown));
    /* a host that drops packets must not hold the start: bound the connect
     * unless the URL or the environment already does (libpq's default waits forever) */
    int bounded = getenv("PGCONNECT_TIMEOUT") == NULL;
    if (bounded) setenv("PGCONNECT_TIMEOUT", "5", 1);
    int down = db_connect(&d, c->database_url) < 0;
    if (bounded) unsetenv("PGCONNECT_TIMEOUT");
    if (down) {
        log_msg(LOG_WARN, "master.schema", "PostgreSQL at %s: %s; the writer checks the schema once it connects",
                shown, d.errstr);
    } else {
        int k = schema_check(&d, msg, sizeof(msg));
        if (k < 0) log_msg(LOG_WARN, "master.schema", "PostgreSQL at %s: %s", shown, d.errstr);
        if (k > 0) {
            log_msg(LOG_ERROR, "master.schema", "PostgreSQL at %s: %s; stopping (exit %d)", shown, msg, SYNCQ_EX_CONFIG);
            fprintf(stderr, "syncq-worker: %s\n", msg);
            rc = -1;
        }
    }
    db_close(&d);
    return rc;
}

int
main(int argc, char **argv)
{
    config c;
    char err[256];
    config_defaults(&c);
    if (config_from_env(&c, env_get, err, sizeof(err)) < 0) {
        fprintf(stderr, "syncq-worker: %s\n", err);
        return SYNCQ_EX_USAGE;
    }
    int rc = parse_flags(&c, argc, argv);
    if (rc >= 0) return rc;
    log_set_level(c.log_level);
    mask_set_extra(c.mask_keys[0] ? c.mask_keys : NULL);
    if (!c.pg_prepare) db_prepare_off();
    if (schema_ok(&c) < 0) return SYNCQ_EX_CONFIG;
    return master_run(&c);
}
