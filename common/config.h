/* config.h - configuration from the environment, then flags (12-factor). Pure
 * code: the environment is read through a caller-supplied lookup so tests can
 * feed it. */
#ifndef SYNCQ_CONFIG_H
#define SYNCQ_CONFIG_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#define CONFIG_MAX_QUEUES 16
#define CONFIG_QUEUE_NAME_MAX 64
#define CONFIG_MAX_CHILDREN 256
#define CONFIG_MAX_BATCH 64
#define CONFIG_MAX_CALLS 16 /* SYNCQ_CHILD_CALLS */

typedef struct config_queue {
    char name[CONFIG_QUEUE_NAME_MAX];
    int weight; /* 0 in strict-priority mode */
} config_queue;

typedef struct config {
    char redis_url[512];     /* SYNCQ_REDIS_URL, default redis://127.0.0.1:6379/0 */
    char database_url[1024]; /* SYNCQ_DATABASE_URL, default "" (libpq defaults) */
    char prefix[64];         /* SYNCQ_PREFIX, default syncq */
    char services_path[512]; /* SYNCQ_SERVICES, default "" */
    char plugins[2048];      /* SYNCQ_PLUGINS: comma-separated paths of C plugins, default "" */
    config_queue queues[CONFIG_MAX_QUEUES]; /* SYNCQ_QUEUES / -q, default urgent,default,sync */
    int nqueues;
    int weighted;            /* 1 when any queue carries :weight */
    int concurrency;         /* SYNCQ_CONCURRENCY / -c, 1..256, default 4 */
    int batch;               /* SYNCQ_FETCH_BATCH, most jobs per fetch, 1..64, default 16 */
    int calls;               /* SYNCQ_CHILD_CALLS, jobs one child runs at once (their HTTP calls in
                                flight together), 1..16, default 1 (docs/DESIGN.md §3) */
    int64_t outbox_max;      /* SYNCQ_OUTBOX_MAX, records waiting for PostgreSQL before fetching stops, default 200000 */
    int heartbeat_ttl_s;     /* SYNCQ_HEARTBEAT_TTL, lease, default 30 */
    int heartbeat_every_s;   /* SYNCQ_HEARTBEAT_EVERY, default 5 */
    int reap_every_s;        /* SYNCQ_REAP_EVERY, default 5 */
    int grace_s;             /* SYNCQ_GRACE / --grace, default 25 */
    int64_t max_envelope;    /* SYNCQ_MAX_ENVELOPE bytes, default 1 MiB */
    int writer_batch;        /* SYNCQ_WRITER_BATCH, outbox records per PostgreSQL transaction, default 5000 */
    int64_t backoff_base_ms; /* SYNCQ_BACKOFF_BASE_MS, retry backoff base, default 1000 */
    int64_t timeout_ms;      /* SYNCQ_TIMEOUT_MS, per-attempt limit unless the envelope sets one, default 30000 */
    int64_t kill_grace_ms;   /* SYNCQ_KILL_GRACE_MS, SIGTERM to SIGKILL for a job past its deadline, default 1000 */
    int child_cpu_s;         /* SYNCQ_CHILD_CPU_S, RLIMIT_CPU per child, 0 = none */
    int pg_prepare;          /* SYNCQ_PG_PREPARE, 1: per-job statements prepared once per connection (db.h) */
    int child_mem_mb;        /* SYNCQ_CHILD_MEM_MB, RLIMIT_AS per child (RLIMIT_DATA under ASan), 0 = none */
    int log_level;           /* SYNCQ_LOG_LEVEL: debug|info|warn|error, default info */
    char mask_keys[512];     /* SYNCQ_MASK_KEYS: extra secret key words, comma-separated */
    char metrics_addr[128];  /* SYNCQ_METRICS_ADDR: where the master serves /metrics and /healthz,
                                host:port, [v6]:port or :port (every interface); "off" disables;
                                default 127.0.0.1:9464 */
} config;

typedef const char *(*config_getenv_fn)(const char *name);

void config_defaults(config *c);
/* config_from_env overlays values found through get (getenv in production).
 * Returns 0, or -1 with err naming the variable and the bad value. */
int config_from_env(config *c, config_getenv_fn get, char *err, size_t errlen);
/* config_set_queues parses "urgent,default,sync" (strict) or "urgent:5,sync:1"
 * (weighted; a queue without a weight gets 1). Returns 0 or -1 with err. */
int config_set_queues(config *c, const char *spec, char *err, size_t errlen);
/* config_parse_int parses a whole decimal integer in [min,max]. 0 or -1. */
int config_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* config_parse_duration_ms parses a duration such as "30s", "10m", "2h",
 * "7d", "250ms" or a sum of them ("1h30m") into milliseconds: whole numbers,
 * each with a unit (ms, s, m, h, d, w), nothing else. 0 or -1 (bad text or
 * more than 100 years); *ms is written only on success. */
int config_parse_duration_ms(const char *s, int64_t *ms);
/* config_fmt_duration_ms writes a duration for people: "850ms", "4.2s", "3m12s", "2h05m",
 * "3d04h"; "-" for a negative value. Returns buf. */
char *config_fmt_duration_ms(int64_t ms, char *buf, size_t len);
/* config_parse_listen splits a listen address "host:port", "[v6]:port" or
 * ":port" (host "" = every interface) with port 0..65535 (0: any free port).
 * 0 or -1; host and *port are written only on success. */
int config_parse_listen(const char *s, char *host, size_t hostlen, int *port);
/* config_valid_queue_name: 1..63 chars of [A-Za-z0-9_.-] (no braces or colons:
 * the name sits inside a Redis Cluster hash tag). */
int config_valid_queue_name(const char *s);

#endif
