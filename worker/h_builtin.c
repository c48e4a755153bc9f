/* h_builtin.c - the built-in syncq/... handlers used by the demo, the tests
 * and the benchmark. They are written against the public plugin API
 * (syncq/handler.h) like any plugin's, and registered through the same
 * registry. */
#include "fmacros.h"
#include "clock.h"
#include "fiber.h"
#include "json.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* payload_num returns the payload's member name when it is a number, else def. */
static double
payload_num(const syncq_job *jv, const char *name, double def)
{
    char err[64];
    json *p = json_parse(jv->payload_json, strlen(jv->payload_json), err, sizeof(err));
    const json *m = json_get(p, name);
    double v = json_typeof(m) == JSON_NUMBER ? json_num(m) : def;
    json_free(p);
    return v;
}

static syncq_outcome
h_noop(const syncq_job *jv)
{
    (void)jv;
    return syncq_success(NULL);
}

/* h_sleep sleeps payload.ms in 10 ms steps so an abort order ends it early. */
static syncq_outcome
h_sleep(const syncq_job *jv)
{
    static char out[128];
    double total = payload_num(jv, "ms", 0);
    if (total < 0 || total > 86400000.0) return syncq_permanent("payload.ms must be in 0..86400000");
    int64_t t0 = clock_mono_ms();
    for (;;) {
        double done = (double)(clock_mono_ms() - t0);
        if (done >= total) break;
        if (jv->host->stopping(jv)) {
            snprintf(out, sizeof(out), "aborted after %.0f ms", done);
            return syncq_transient(-1, out);
        }
        double left = total - done < 10 ? total - done : 10;
        fiber_nap_us((int64_t)(left * 1000.0)); /* beside other jobs of the child: they go on meanwhile */
    }
    snprintf(out, sizeof(out), "{\"slept_ms\":%.0f}", total);
    return syncq_success(out);
}

static syncq_outcome
h_fail(const syncq_job *jv)
{
    static char out[1024];
    char err[64];
    json *p = json_parse(jv->payload_json, strlen(jv->payload_json), err, sizeof(err));
    int permanent = json_typeof(json_get(p, "permanent")) == JSON_TRUE;
    const char *msg = json_str(json_get(p, "message"));
    snprintf(out, sizeof(out), "%s failure requested%s%s", permanent ? "permanent" : "transient", msg ? ": " : "",
             msg ? msg : "");
    json_free(p);
    return permanent ? syncq_permanent(out) : syncq_transient(-1, out);
}

/* h_flaky fails transiently on its first payload.fail_times attempts. */
static syncq_outcome
h_flaky(const syncq_job *jv)
{
    static char out[128];
    double times = payload_num(jv, "fail_times", 1);
    if (jv->attempt <= times) {
        snprintf(out, sizeof(out), "flaky: attempt %d of the %.0f that fail", jv->attempt, times);
        return syncq_transient(-1, out);
    }
    snprintf(out, sizeof(out), "{\"attempt\":%d}", jv->attempt);
    return syncq_success(out);
}

static syncq_outcome
h_crash(const syncq_job *jv)
{
    (void)jv;
    abort(); /* on purpose: the crash test and the poison-pill path */
}

void
handler_register_builtins(void)
{
    static const struct {
        const char *action;
        syncq_handler_fn fn;
    } b[] = {{"noop", h_noop}, {"sleep", h_sleep}, {"fail", h_fail}, {"flaky", h_flaky}, {"crash", h_crash}};
    syncq_registry *reg = handler_registry(0);
    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
        if (reg->add(reg, "syncq", b[i].action, b[i].fn, NULL) < 0) abort(); /* our own names */
    /* all but crash wait only in naps: they run beside other jobs of a child */
    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
        if (strcmp(b[i].action, "crash")) handler_mark_concurrent("syncq", b[i].action);
}
