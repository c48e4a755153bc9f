/* keys.h - Redis key names (docs/DESIGN.md §4). Every key of a queue carries the
 * {QUEUE} hash tag so that one queue lives in one Redis Cluster slot:
 *   P:{Q}:ready            LIST   producers LPUSH, workers take from the right
 *   P:{Q}:inflight:<wid>   LIST   jobs a worker child holds
 *   P:{Q}:att              HASH   per delivery tag: attempts * 1000 + crashes
 *   P:{Q}:seq              STRING counter for delivery tags
 *   P:{Q}:retry            ZSET   waiting retries by due time (ms)
 *   P:{Q}:dead             ZSET   dead-letter job ids by dead time (ms)
 *   P:{Q}:deadjobs         HASH   dead-letter entries by job id
 *   P:{Q}:outbox           LIST   audit records waiting for PostgreSQL
 *   P:{Q}:claim:<wid>      LIST   audit records a writer is committing
 *   P:{Q}:rejected         LIST   audit records set aside: PostgreSQL refused
 *                                 them, or they are not records of ours
 *                                 (`syncq audit refeed` puts them back)
 *   P:{Q}:owners           SET    worker ids that may hold inflight/claim lists
 *   P:{Q}:paused           STRING present while the queue is paused fleet-wide
 *   P:{Q}:config           HASH   per-action defaults from the services file
 *                                 (<service>/<action>:idempotency_ttl_s, ...)
 *   P:{Q}:handlers         HASH   <service>/<action> -> ms when a child reading
 *                                 the queue last said it has that handler
 *   P:{Q}:events           STREAM one entry per finished job (id, status,
 *                                 masked result/error), capped near 10000
 *   P:{Q}:xdeaths          HASH   job id -> times a persistent exec program died
 *                                 during that job (worker/h_exec.c, the poison
 *                                 rule); expires a day after the last death
 *   P:{Q}:idok:<key>       STRING a job with this idempotency key succeeded
 *                                 (set by syncq_step for the key's window)
 *   P:{Q}:lock:<svc>:<scope>:<target>  STRING the job id holding a mutation's
 *                                 per-target lock (PX: its timeout + margin)
 *   P:{Q}:retried:<id>     STRING operator who retries dead job <id> (NX, a week)
 * Made inside the Functions only, from a key above (same slot):
 *   P:{Q}:wraps            HASH   vouchers for wrapper lines syncq wrote
 *   P:{Q}:fenced           ZSET   worker ids whose lease was taken, by ms
 * Fleet-wide keys carry the hash tag {P:fleet}, one home slot on a Redis
 * Cluster (no queue name holds ':', so no queue shares it):
 * P:{P:fleet}:hb:<wid> (heartbeat with TTL), P:{P:fleet}:workers (SET of
 * worker ids), P:{P:fleet}:queues (SET of queue names seen by workers).
 * Per-service keys, untagged (each is used alone, and they spread over a
 * cluster's slots): P:rl:<service> (HASH, the
 * service's rate-limit token bucket), P:sched:<svc>:<resource>:<scope>
 * (STRING, NX with the period: one master enqueues each scheduled sync), and
 * per service of the services file with auth.oauth2 (worker/auth.c):
 *   P:oauth2:<service>       STRING the access token, sealed (AES-256-GCM
 *                                   under a key derived from the client
 *                                   secret), expiring with it (PX)
 *   P:oauth2:<service>:lock  STRING held (NX PX) by the one worker fetching
 *                                   a token; the others wait for the token
 *
 * Every key name is built here (docs/DESIGN.md §4); the Functions derive
 * theirs from the keys they are given. */
#ifndef SYNCQ_KEYS_H
#define SYNCQ_KEYS_H

#include <stddef.h> /* for size_t */

#define KEY_MAX 256

typedef struct qkeys {
    char ready[KEY_MAX], inflight[KEY_MAX], att[KEY_MAX], seq[KEY_MAX];
    char retry[KEY_MAX], dead[KEY_MAX], deadjobs[KEY_MAX], outbox[KEY_MAX];
    char claim[KEY_MAX], owners[KEY_MAX], paused[KEY_MAX], config[KEY_MAX];
    char rejected[KEY_MAX], handlers[KEY_MAX], events[KEY_MAX];
} qkeys;

/* keys_queue fills k for queue q; wid (may be NULL) names the in-flight and
 * claim lists. */
void keys_queue(qkeys *k, const char *prefix, const char *q, const char *wid);
/* The rest write one key into out (len bytes, truncated past it). */
void keys_workers(char *out, size_t len, const char *prefix);
void keys_queues(char *out, size_t len, const char *prefix);
void keys_heartbeat(char *out, size_t len, const char *prefix, const char *wid);
/* keys_exec_deaths writes P:{Q}:xdeaths. */
void keys_exec_deaths(char *out, size_t len, const char *prefix, const char *q);
/* keys_oauth2 writes the token and lock keys of service's OAuth2 token. */
void keys_oauth2(char *token, char *lock, size_t len, const char *prefix, const char *service);
void keys_ratelimit(char *out, size_t len, const char *prefix, const char *service);
void keys_schedule(char *out, size_t len, const char *prefix, const char *service, const char *resource,
                   const char *scope);
void keys_idok(char *out, size_t len, const char *prefix, const char *q, const char *idem_key);
void keys_lock(char *out, size_t len, const char *prefix, const char *q, const char *service, const char *scope,
               const char *target);
void keys_retried(char *out, size_t len, const char *prefix, const char *q, const char *id);

#endif
