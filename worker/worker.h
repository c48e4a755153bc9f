/* worker.h - the syncq-worker process model (docs/DESIGN.md §3):
 *
 *   master (master.c)  forks and supervises N job children and one audit
 *                      writer; refreshes their heartbeats (the lease); reaps
 *                      orphans of dead workers on any host and promotes due
 *                      retries (reaper.c). It never runs a job and opens no
 *                      PostgreSQL or curl state that children could inherit.
 *   child (child.c)    fetches jobs reliably (fetch.c), runs them through the
 *                      handler registry (handler.c), acknowledges each job and
 *                      records its outcome in one atomic step.
 *   writer (writer.c)  moves outcome records from the outboxes to PostgreSQL
 *                      in batches.
 *
 * Children take orders from the master over a pipe: 'q' finish the current
 * job then exit. They run in their own process group and die with the master
 * (PR_SET_PDEATHSIG). */
#ifndef SYNCQ_WORKER_H
#define SYNCQ_WORKER_H

#include <signal.h> /* for sig_atomic_t */
#include <stdint.h> /* for int64_t */
#include <sys/types.h> /* for pid_t */

#include "config.h"
#include "exits.h"
#include "envelope.h"
#include "keys.h"
#include "queue.h"
#include "rds.h"
#include "sbuf.h"
#include "stats.h"
#include "syncq/handler.h" /* the public handler ABI: the registry and the job view */
#include "wrap.h"

#define WORKER_ID_MAX 128

/* docs/DESIGN.md §6: the 3rd crash makes a poison pill (a delivery whose
 * child died, or a persistent exec program that died during the job) */
#define POISON_CRASHES 3

/* Exit codes of children, read by the master. */
#define CHILD_EXIT_OK 0
#define CHILD_EXIT_CONFIG 2 /* fatal: do not respawn in a loop */
#define CHILD_EXIT_REDIS 3  /* lost Redis; respawn with backoff */
#define CHILD_EXIT_DB 4
#define CHILD_EXIT_KILLED 5 /* left on the master's SIGTERM (job past its deadline) */
#define CHILD_EXIT_LEASE 6  /* its lease was not renewed in time, or it was fenced (docs/LEASES.md) */

/* The master's exit codes are common/exits.h's: SYNCQ_EX_CONFIG when its
 * configuration cannot work (a Redis password or URL, an unmigrated
 * database), never retried. The CHILD_EXIT_* codes above are only between a
 * child and its master. */

/* ---- handler.c: the registry ---- */

/* How an attempt ended. CONFLICT: the caller's expected_hash did not match
 * (terminal, not retried). DEFER: a resource the job needs is unavailable
 * (PostgreSQL down, the target locked by another mutation): try again later
 * without using an attempt. */
typedef enum { HANDLER_OK = 0, HANDLER_TRANSIENT, HANDLER_PERMANENT, HANDLER_CONFLICT, HANDLER_DEFER } handler_result;
/* the same values as the public outcome kinds, which handler_call maps 1:1 */
_Static_assert(HANDLER_OK == (int)SYNCQ_SUCCESS && HANDLER_TRANSIENT == (int)SYNCQ_TRANSIENT &&
                   HANDLER_PERMANENT == (int)SYNCQ_PERMANENT && HANDLER_CONFLICT == (int)SYNCQ_CONFLICT &&
                   HANDLER_DEFER == (int)SYNCQ_DEFER,
               "handler_result and syncq_outcome_kind differ");

/* handler_world is what a child lends its handlers: opened after fork,
 * reused across jobs. */
struct svc_file;
struct db;
struct http_client;
typedef struct handler_world {
    const config *cfg;
    const struct svc_file *svc; /* NULL without SYNCQ_SERVICES */
    rds *r;                     /* shared with the pipelined job steps: use handler_redis() */
    struct fetcher *f;
    struct db *d;               /* connected on first use */
    struct http_client *http;
    stats_table *stats;         /* this child's counters for /metrics (stats_http), or NULL */
} handler_world;

typedef struct handler_ctx {
    const envelope *env;
    const char *job_id, *queue;
    const char *root_id;         /* first job of a replay chain, NULL when not a replay */
    handler_world *world;
    int attempt;                 /* 1 for the first run */
    int max_attempts;            /* job_max_attempts */
    int crashes;                 /* deliveries of the job whose child died since its last clean end */
    int poison;                  /* set with a PERMANENT result: the job is a poison pill */
    int64_t timeout_ms;          /* job_timeout_ms: the attempt's limit */
    volatile sig_atomic_t *stop; /* set when the master orders an abort */
    char error[1024];            /* set on failure */
    int64_t retry_after_ms;      /* transient hint (e.g. Retry-After), -1 none */
    int timed_out;               /* a transient failure that was the attempt's timeout */
    sbuf result;                 /* JSON text of the result object, empty for none */
    int64_t started_ms;          /* the attempt's start (wall clock): its duration counts from it */
    const char *worker;          /* the worker id this child's records carry */
    int64_t ended_us;            /* > 0: the handler wrote its outcome to PostgreSQL with this end */
    int64_t ended_duration_ms;   /* (handler_outcome_written), which the job's record repeats */
    char *outcome_result;        /* owned: the masked result handler_outcome_init put in the outcome */
} handler_ctx;

/* handler_fn is a built-in that works on the child's handler_ctx; it is
 * registered through the public registry (handler_register wraps it). */
typedef handler_result (*handler_fn)(handler_ctx *ctx);
typedef struct handler_entry handler_entry; /* one registered handler (handler.c) */

/* handler_registry is the registry (syncq/handler.h) every handler is
 * added through: plugin 0 for the built-ins, 1 for plugins' handlers (their
 * mutations then hold the per-target lock). handler_registry_error is the
 * reason of its last refusal or fail(). */
syncq_registry *handler_registry(int plugin);
const char *handler_registry_error(const syncq_registry *reg);
void handler_register(const char *service, const char *action, handler_fn fn);
/* handler_register_self_timed registers a handler that enforces the job's
 * timeout itself (an exec handler kills its program and fails the attempt
 * as a timeout); the master's deadline for its jobs comes
 * handler_deadline_slack_ms later, as a backstop that kills the child. */
void handler_register_self_timed(const char *service, const char *action, handler_fn fn);
int64_t handler_deadline_slack_ms(const char *service, const char *action);
/* handler_register_concurrent registers a handler that may run beside other
 * jobs of its child (SYNCQ_CHILD_CALLS > 1): it waits only in http_do or
 * fiber_nap_us, and keeps no PostgreSQL transaction or Redis exchange open
 * across a wait (worker/fiber.h). handler_mark_concurrent says the same of
 * a registered built-in; handler_concurrent reads it. Every other handler
 * runs alone in its child. */
void handler_register_concurrent(const char *service, const char *action, handler_fn fn);
void handler_mark_concurrent(const char *service, const char *action);
int handler_concurrent(const handler_entry *e);
/* handler_fail writes the attempt's error into ctx->error and returns hr, so
 * a handler can `return handler_fail(ctx, HANDLER_PERMANENT, "...", ...)`. */
handler_result handler_fail(handler_ctx *ctx, handler_result hr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* handler_redis returns the child's Redis connection after reading the
 * replies its pipelined steps still owe (NULL when that fails): a handler
 * must never read a reply meant for a step. */
rds *handler_redis(handler_ctx *ctx);
/* handler_rate takes a token from service's shared rate limit (a Redis token
 * bucket, every worker on every host): 0 go now, N ms until a token is due,
 * -1 Redis failed. per_second 0 means unlimited. */
int64_t handler_rate(handler_ctx *ctx, const char *service, double per_second, int burst);
/* handler_pace waits for a token up to max_wait_ms: 0 go, 1 the wait is
 * longer (ctx->retry_after_ms says how long: defer the job), -1 failed. */
int handler_pace(handler_ctx *ctx, const char *service, double per_second, int burst, int64_t max_wait_ms);
/* handler_lock takes the Redis lock on (service, scope, target) that every
 * mutation of a services-file action holds while it runs, so two mutations of
 * one object never interleave; its lease outlives the attempt's timeout. A job
 * without a target_id takes no lock (1, key ""). key receives the lock's name for
 * handler_unlock. 1 taken, 0 another job holds
 * it, -1 Redis failed. */
int handler_lock(handler_ctx *ctx, char *key, size_t keylen);
void handler_unlock(handler_ctx *ctx, const char *key);
/* handler_idempotency_key is what the outside service sees as the job's
 * idempotency key: the envelope's, else the root of its replay chain (a
 * replay must not look new), else the job id. */
const char *handler_idempotency_key(const handler_ctx *ctx);
/* handler_check_expected compares the envelope's expected_hash with the
 * snapshot row of (service, resource, scope, target): HANDLER_OK when it
 * matches or none is given, CONFLICT, PERMANENT (no target) or DEFER
 * (PostgreSQL), with ctx->error set. */
struct snap_key;
handler_result handler_check_expected(handler_ctx *ctx, const struct snap_key *key);
/* For a handler that writes its job's outcome to PostgreSQL itself (an
 * outcome marker, docs/DESIGN.md §8): handler_outcome_init fills o with the
 * attempt's end as the job's final record will state it (the result
 * masked, this worker, finished_at from Redis TIME now, the duration so
 * far; without Redis, PostgreSQL's clock and the record its own); ctx keeps
 * the masked result (outcome_result). Once the statement carrying o has
 * committed, handler_outcome_written makes the record repeat those values
 * (the result masked once), so the writer's merge of it changes nothing. */
struct audit_outcome;
void handler_outcome_init(handler_ctx *ctx, struct audit_outcome *o, const char *status);
void handler_outcome_written(handler_ctx *ctx, const struct audit_outcome *o);
const handler_entry *handler_find(const char *service, const char *action);
/* handler_call runs an attempt of ctx's job with handler e. */
handler_result handler_call(const handler_entry *e, handler_ctx *ctx);
/* handler_publish tells `syncq status` which handlers this child has: each
 * "service/action" in every configured queue's handlers hash (keys.h) with
 * the time, at most once a minute (force: now). 0, or -1 on a Redis error. */
int handler_publish(rds *r, const config *cfg, int force);
void handler_register_builtins(void); /* h_builtin.c: syncq/noop and friends */
void handler_clear(void);

/* ---- handler_view.c: the syncq_job a handler sees, and the host it gets ---- */

typedef struct handler_view handler_view;
/* handler_view_open makes the view of ctx's job; with full 0 (a built-in
 * that reads ctx) the payload and service texts are left NULL. */
handler_view *handler_view_open(handler_ctx *ctx, void *data, int full);
const syncq_job *handler_view_job(handler_view *v);
/* handler_ctx_of returns the ctx behind a view's job. */
handler_ctx *handler_ctx_of(const syncq_job *job);
/* handler_view_outcome copies a handler's outcome into the ctx (reason and
 * result masked by the payload's secret values; a result that is no JSON
 * is refused) and returns the attempt's result. */
handler_result handler_view_outcome(handler_view *v, const syncq_outcome *o);
void handler_view_close(handler_view *v);

/* ---- plugin.c: C plugins (docs/HANDLERS.md) ---- */

/* plugin_load_all loads, in the master before it forks, every plugin of
 * list (comma-separated paths, SYNCQ_PLUGINS) and of the services file:
 * dlopen, the ABI check and syncq_plugin_init, whose handlers go to the
 * registry table the children inherit. 0, or -1 with err naming the file
 * and the reason. */
int plugin_load_all(const char *list, const struct svc_file *svc, char *err, size_t errlen);
/* plugin_loaded says whether the plugin at path was loaded. */
int plugin_loaded(const char *path);

/* ---- fetch.c: reliable fetch and the per-job atomic step ---- */

/* The jobs, batches and acks are the queue layer's (common/queue.h). */
typedef struct batch {
    int queue;          /* index into the config's queues */
    queue_batch got;    /* got.status: QUEUE_FETCH_PAUSED is about the queue asked last */
} batch;

typedef struct fetcher fetcher;
struct fetcher {
    rds *r;
    const config *cfg;
    char wid[WORKER_ID_MAX];
    qkeys keys[CONFIG_MAX_QUEUES];
    int cw[CONFIG_MAX_QUEUES]; /* smooth weighted round-robin state */
    int want;                /* jobs to ask for next: 1 after a slow job, doubling up to cfg->batch */
    int slow;                /* the last job was slow: hand the rest of the batch back */
    struct board_slot *slot; /* ours on the status board (NULL: none), to see idle siblings */
    int block_q;             /* the queue an empty fetch would block on: the first not paused (-1: all are) */
    int armed;               /* 1 + the queue of the BLMOVE fetch_arm left waiting, 0 none */
};

void fetcher_init(fetcher *f, rds *r, const config *cfg, const char *wid);

/* fetch_next fills b from the first non-empty queue (strict or weighted order);
 * when all are empty it blocks at most 1 s on the first (block 0: it
 * returns b empty at once). 0 or -1 (Redis). */
int fetch_next(fetcher *f, batch *b, int block);
void batch_free(batch *b);
/* With lanes running, a child that found the queues empty waits for a push
 * on a second connection, w, while its lanes go on (the first carries their
 * steps): fetch_arm sends a BLMOVE on f->block_q there without waiting (1,
 * or 0 when every queue is paused, -1 on an error); once w is readable, or
 * to settle it before stopping, fetch_woken reads the reply (at most 1 s)
 * and claims the job it moved into b on the main connection (b->got.n 0:
 * none). Until then the child fetches nothing else: the claim takes the
 * head of the in-flight list. -1 on an error, its message in f->r. */
int fetch_arm(fetcher *f, rds *w);
int fetch_woken(fetcher *f, rds *w, batch *b);
/* fetch_step queues (without waiting) one atomic step on queue qi: the acks,
 * then the start of job start_tag (NULL for none) with its running record. */
int fetch_step(fetcher *f, int qi, const queue_ack *acks, int nacks, const char *start_tag, const char *start_rec,
               size_t start_len);
/* fetch_sync reads every reply owed; -1 on any error (connection or script). */
int fetch_sync(fetcher *f);

/* ---- job.c: one job, from entry bytes to an ack with its outcome ---- */

typedef struct job_ctx {
    const config *cfg;
    const char *wid;
    const char *queue;
    volatile sig_atomic_t *stop;
    uint64_t rng;               /* backoff jitter state */
    handler_world *world;       /* NULL in the master */
    const struct svc_file *svc; /* the master's services file (per-action defaults); the child's is world->svc */
} job_ctx;

typedef struct job {
    const queue_job *f;
    wrap w;
    envelope env;
    int env_ok;
    const handler_entry *fn;    /* its handler, NULL when it cannot run */
    const char *id;             /* the envelope's id, else the delivery tag */
    int attempt;                /* this attempt, from 1 */
    char *payload;              /* owned: masked payload JSON, or NULL */
    const struct svc_action *act; /* its services-file action (per-action defaults), or NULL */
    int64_t enqueued_ms, started_ms;
    char reject[1024];          /* non-empty: dead-letter without running */
    const char *reject_outcome; /* its event outcome: NULL bad_data, or poison, crash */
    char bad_id[WRAP_TAG_MAX];  /* the producer's id of an envelope that does not validate */
} job;

/* job_prepare parses the entry and decides whether it can run: bad bytes, a
 * bad envelope, an unknown handler, a poison pill and a job whose attempts a
 * crash used up end in j->reject. With lookup 0 (the master recording a dead
 * child's job) only the bytes are checked; the per-action defaults are found
 * either way. */
void job_prepare(job *j, const queue_job *f, const job_ctx *c, int lookup);
/* job_start_record returns the "running" audit record (caller frees). */
char *job_start_record(job *j, const job_ctx *c, size_t *len);
/* job_outcome is how an attempt ended: a handler's answer, or a timeout the
 * master enforced. */
typedef struct job_outcome {
    handler_result hr;
    const char *outcome;     /* event outcome: success|transient|permanent|timeout */
    const char *error;       /* "" for none */
    int64_t retry_after_ms;  /* -1 none */
    const char *result;      /* JSON text or NULL */
    int64_t ended_us;        /* > 0: the end the handler's outcome marker holds (handler_ctx) */
    int64_t ended_duration_ms;
    const char *ended_result; /* with ended_us: the result it holds, masked already */
} job_outcome;

/* job_run runs the handler and fills a with the job's disposition and record. */
void job_run(job *j, job_ctx *c, queue_ack *a);
/* job_finish fills a for an attempt that ended with o: success, a retry with
 * backoff, or the dead-letter set. */
void job_finish(job *j, job_ctx *c, const job_outcome *o, queue_ack *a);
/* job_crash_record returns the audit record of an attempt whose child died
 * (how: signal or exit code, peak RSS); caller frees. */
char *job_crash_record(job *j, const job_ctx *c, const char *how, size_t *len);
/* job_reject fills a for a job that cannot run (dead-letter, bad data). */
void job_reject(job *j, const job_ctx *c, queue_ack *a);
/* job_handback fills a to return a job to its queue; started says whether
 * its attempt was counted and must be given back. */
void job_handback(job *j, const job_ctx *c, int started, queue_ack *a);
void job_skip(job *j, const job_ctx *c, queue_ack *a);
void job_free(job *j);
/* job_max_attempts: the envelope's, else the action's, else 5. */
int job_max_attempts(const job *j);
/* job_timeout_ms: the attempt's hard limit (envelope, else action, else config). */
int64_t job_timeout_ms(const job *j, const config *cfg);

/* ---- board.c: what each child is running, in shared memory ---- */

typedef struct board_job {
    int running;                /* 0 idle */
    int queue;                  /* index into the config's queues */
    int64_t started_ms, deadline_ms; /* wall clock */
    char tag[WRAP_TAG_MAX];
    char id[WRAP_TAG_MAX];      /* the job id, for the master's log lines */
} board_job;

typedef struct board_slot board_slot;

board_slot *board_new(int n);
void board_free(board_slot *b, int n);
board_slot *board_at(board_slot *b, int i);
/* BOARD_JOBS: the most jobs one child runs at once (SYNCQ_CHILD_CALLS);
 * board_begin/board_end/board_read take the index of one of them. */
#define BOARD_JOBS CONFIG_MAX_CALLS
void board_begin(board_slot *s, int i, const board_job *j);
void board_end(board_slot *s, int i);
void board_clear(board_slot *s);
/* board_read copies a consistent snapshot of a slot; -1 if it kept changing. */
int board_read(board_slot *s, int i, board_job *out);
/* board_stats returns the slot's job counters for /metrics (stats.h); NULL for NULL. */
stats_table *board_stats(board_slot *s);
/* board_lease_set publishes the child's lease deadline (CLOCK_MONOTONIC ms,
 * the same clock in every process of the host): the master moves it forward
 * after each heartbeat Redis accepted; board_lease reads it. A child stops
 * on its own past it (docs/LEASES.md). Lock-free: one 64-bit atomic. */
void board_lease_set(board_slot *s, int64_t until_ms);
int64_t board_lease(board_slot *s);
/* board_wait says the child of slot s blocks on an empty queue (its index),
 * or no longer does (-1). board_waiters counts the other slots blocked on
 * that queue: a child holding jobs hands them back while one does. */
void board_wait(board_slot *s, int queue);
int board_waiters(board_slot *s, int queue);

/* ---- child.c / writer.c ---- */

/* child_signals sets a child's signal dispositions right after fork. */
int child_signals(pid_t master);
int child_main(const config *cfg, const char *wid, int ctl_fd, board_slot *slot, const struct svc_file *svc);

/* ---- h_http.c: the declarative HTTP handlers of the services file ---- */

/* http_handlers_register registers a handler for every configured action. */
void http_handlers_register(const struct svc_file *svc);
/* sync_handlers_register registers every resource's sync action (h_sync.c). */
void sync_handlers_register(const struct svc_file *svc);
/* exec_handlers_register registers every exec action (h_exec.c). */
void exec_handlers_register(const struct svc_file *svc);
/* exec_sync_register registers the sync of every resource whose list a
 * program makes (h_exec_sync.c). */
void exec_sync_register(const struct svc_file *svc);
int writer_main(const config *cfg, const char *wid, int ctl_fd, board_slot *slot);

/* ---- reaper.c: leases, orphans, retries (run by the master) ---- */

/* reaper_register sets wid's heartbeat and records it as an owner of every
 * queue's lists, before it takes anything. */
int reaper_register(rds *r, const config *cfg, const char *wid, const char *role);
/* reaper_heartbeat refreshes leases; with alive (n ints) only existing ones,
 * reporting each (reaper.c). */
int reaper_heartbeat(rds *r, const config *cfg, const char *const *wids, int n, const char *role, int *alive);
/* reaper_requeue returns worker wid's in-flight jobs and claimed records and
 * fences wid; reason ("exit": it died, "lease": its lease ran out) is
 * stamped on the jobs for the next start's "lost" event. */
int reaper_requeue(rds *r, const config *cfg, const char *wid, const char *reason);
/* reaper_sweep requeues the lists of every worker whose heartbeat is gone. */
int reaper_sweep(rds *r, const config *cfg);
/* reaper_promote moves due retries back to their ready lists. */
int reaper_promote(rds *r, const config *cfg);
void reaper_forget(rds *r, const config *cfg, const char *wid);

/* ---- salvage.c: the job of a dead child (run by the master) ---- */

typedef enum { SALVAGE_CRASH, SALVAGE_TIMEOUT, SALVAGE_SHUTDOWN } salvage_kind;

/* salvage_job records the end of job bj of dead worker wid (how: the error
 * text). 0, or -1 on a Redis error. */
int salvage_job(rds *r, const config *cfg, const struct svc_file *svc, const char *wid, const board_job *bj,
                salvage_kind kind, const char *how);

/* ---- schedule.c: scheduled syncs (run by the master) ---- */

/* schedule_tick enqueues the syncs whose period has come, one per period
 * across every master. 0, or -1 on a Redis error. */
int schedule_tick(rds *r, const config *cfg, const struct svc_file *svc);

/* ---- master.c ---- */

int master_run(config *cfg);
/* worker_id writes host:pid:boot. */
void worker_id(char *out, size_t len, const char *boot, int pid);

#endif
