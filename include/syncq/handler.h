/* syncq/handler.h - job handlers in C for syncq-worker: the plugin ABI
 * (docs/HANDLERS.md, "C plugins").
 *
 * A plugin is a shared object the worker's master loads with dlopen before
 * it forks its children (SYNCQ_PLUGINS=a.so,b.so, or "plugins" in the
 * services file). It defines two symbols:
 *
 *   SYNCQ_PLUGIN_DECLARE;                     the ABI it was built for
 *   int syncq_plugin_init(uint32_t api_version, syncq_registry *registry);
 *
 * The master refuses to start (exit 78, the file and both versions named)
 * when the plugin was built for another SYNCQ_HANDLER_ABI, then calls
 * syncq_plugin_init, which registers named handlers, each for a
 * (service, action) that jobs name, and returns 0 (anything else refuses
 * the start; registry->fail says why). The built-in handlers (syncq/noop,
 * the services file's HTTP and exec actions) register through the same
 * registry.
 *
 * A handler runs in a worker child, one job at a time, and returns how the
 * attempt ended. Everything an HTTP action gets applies to it: the job's
 * timeout (the master kills the child past it), the child's rlimits,
 * retries by class with backoff, the per-target lock of mutation jobs,
 * idempotent skips, masking of the result and the reason, and the audit
 * row. The service's rate limit, auth, timeouts and origin pinning apply to
 * requests made with job->host->http.
 *
 * ABI rules: SYNCQ_HANDLER_ABI changes whenever a struct here changes its
 * layout or a function its meaning; a plugin is built for exactly one. */
#ifndef SYNCQ_HANDLER_H
#define SYNCQ_HANDLER_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for uint32_t, int64_t */

#ifdef __cplusplus
extern "C" {
#endif

#define SYNCQ_HANDLER_ABI 1

/* ---- how an attempt ended ---- */

typedef enum syncq_outcome_kind {
    SYNCQ_SUCCESS = 0,   /* done; result (a JSON value, or NULL) goes to the audit row */
    SYNCQ_TRANSIENT = 1, /* retried with backoff until max_attempts; retry_after_ms is the least delay */
    SYNCQ_PERMANENT = 2, /* dead-lettered now */
    SYNCQ_CONFLICT = 3,  /* the object is not in the state the job expected (expected_hash): ends, not retried */
    SYNCQ_DEFER = 4      /* something the job needs is busy (a lock, a quota): tried again after
                          * retry_after_ms without using an attempt */
} syncq_outcome_kind;

/* The strings are read before the handler returns to the worker's loop:
 * point them at static text, at the job's strings, at a buffer of the
 * plugin's, or at a copy made with job->host->keep. */
typedef struct syncq_outcome {
    syncq_outcome_kind kind;
    const char *result;     /* SUCCESS: JSON text, or NULL for none */
    const char *reason;     /* the others: one line saying why (it reaches the audit row, masked) */
    int64_t retry_after_ms; /* TRANSIENT, DEFER: -1 for none */
} syncq_outcome;

/* ---- what a handler gets ---- */

typedef struct syncq_job syncq_job;

typedef struct syncq_http_response {
    int status;             /* the HTTP status; 0 when no answer came (error says why) */
    const char *body;       /* NUL-terminated; owned by syncq until the next request or the job's end */
    size_t body_len;
    int64_t retry_after_ms; /* from Retry-After, or the rate limit's wait; -1 none */
    const char *error;      /* status 0: why, "" otherwise */
} syncq_http_response;

/* What the worker lends a handler. */
typedef struct syncq_host {
    /* http sends one request to the job's service (its "base_url" in the
     * services file) with the service's headers and auth, its timeouts
     * (bounded by the job's) and its shared rate limit. target is a path
     * ("/zones/x/records", joined to base_url) or a whole URL of the same
     * origin (scheme, host, port): anything else is refused, as are
     * redirects elsewhere. body may be NULL; a non-NULL one is sent as
     * application/json. Returns 0 when an answer came (any status), -1 with
     * rs->error set. */
    int (*http)(const syncq_job *job, const char *method, const char *target, const char *body, size_t body_len,
                syncq_http_response *rs);
    /* log writes msg (masked) to the worker's log, tagged with the job. */
    void (*log)(const syncq_job *job, const char *msg);
    /* stopping is 1 when the worker asks the job to stop (shutdown): a long
     * handler looks at it between steps and returns TRANSIENT. */
    int (*stopping)(const syncq_job *job);
    /* keep returns a copy of text owned by the job (freed after it). */
    const char *(*keep)(const syncq_job *job, const char *text);
} syncq_host;

/* The job, read-only. Absent envelope fields are NULL. */
struct syncq_job {
    uint32_t abi;               /* SYNCQ_HANDLER_ABI of the worker */
    const char *id, *queue;
    const char *kind;           /* "mutation" or "sync" */
    const char *service, *action;
    const char *target_type, *target_id, *scope, *actor;
    const char *idempotency_key; /* the envelope's, else the replay chain's first job, else the id */
    const char *expected_hash;
    int attempt;                /* from 1 */
    int max_attempts;
    int64_t timeout_ms;         /* this attempt's limit */
    const char *payload_json;   /* the payload object as JSON text, unmasked: the handler's input */
    const char *service_json;   /* the service's resolved config as a JSON object ("null" without one):
                                 * {"name", "base_url", "connect_timeout_ms", "timeout_ms",
                                 *  "rate_limit": {"per_second", "burst"} or null}; no secret */
    const syncq_host *host;
    void *data;                 /* what the handler was registered with */
};

typedef syncq_outcome (*syncq_handler_fn)(const syncq_job *job);

/* ---- registering ---- */

typedef struct syncq_registry syncq_registry;
struct syncq_registry {
    uint32_t abi; /* SYNCQ_HANDLER_ABI of the worker */
    /* add registers fn for jobs of (service, action) (names: letters,
     * digits, "_", "-", ".", at most 63 bytes); data reaches it as
     * job->data. A later registration of the same pair replaces it (the
     * services file's actions come last). 0, or -1 with the reason given
     * to fail. */
    int (*add)(syncq_registry *reg, const char *service, const char *action, syncq_handler_fn fn, void *data);
    /* fail records why syncq_plugin_init is about to return non-zero. */
    void (*fail)(syncq_registry *reg, const char *why);
    void *internal; /* the worker's */
};

/* The plugin defines these. */
#define SYNCQ_PLUGIN_DECLARE const uint32_t syncq_plugin_abi = SYNCQ_HANDLER_ABI
int syncq_plugin_init(uint32_t api_version, syncq_registry *registry);

/* ---- outcomes, briefly ---- */

static inline syncq_outcome
syncq_success(const char *result_json)
{
    syncq_outcome o = {SYNCQ_SUCCESS, result_json, NULL, -1};
    return o;
}

static inline syncq_outcome
syncq_transient(int64_t retry_after_ms, const char *reason)
{
    syncq_outcome o = {SYNCQ_TRANSIENT, NULL, reason, retry_after_ms};
    return o;
}

static inline syncq_outcome
syncq_permanent(const char *reason)
{
    syncq_outcome o = {SYNCQ_PERMANENT, NULL, reason, -1};
    return o;
}

static inline syncq_outcome
syncq_conflict(const char *reason)
{
    syncq_outcome o = {SYNCQ_CONFLICT, NULL, reason, -1};
    return o;
}

static inline syncq_outcome
syncq_defer(int64_t retry_after_ms, const char *reason)
{
    syncq_outcome o = {SYNCQ_DEFER, NULL, reason, retry_after_ms};
    return o;
}

#ifdef __cplusplus
}
#endif

#endif
