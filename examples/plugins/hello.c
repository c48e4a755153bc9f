/* hello.c - an example syncq C plugin (docs/HANDLERS.md, "C plugins").
 *
 * Build (see the Makefile's "plugins" rule, or against an installed syncq):
 *   cc -std=c11 -shared -fPIC $(pkg-config --cflags syncq libcjson) hello.c \
 *      $(pkg-config --libs libcjson) -o hello.so
 * Load: SYNCQ_PLUGINS=/path/hello.so syncq-worker, or "plugins": ["/path/hello.so"]
 * in the services file. Jobs name its handlers as service "hello":
 *
 *   hello/greet   {"name": "Ada"}              -> {"greeting": "hello, Ada", "attempt": 1}
 *                 {"fail": "permanent", ...}   -> permanent; the reason quotes the payload
 *                                                 (syncq masks its secrets before the audit)
 *   hello/flaky   {"fail_times": 2, "retry_after_ms": 300}
 *                 transient on the first fail_times attempts, retried no sooner
 *                 than retry_after_ms, then success
 *   hello/fetch   GET /zones/{scope}/records of the service "hello" in the
 *                 services file (its base_url, headers and auth, timeouts and
 *                 rate limit are applied by host->http); {"target": ...}
 *                 fetches another path or URL of the same origin
 *
 * A handler runs one job at a time in a worker child; the strings of its
 * outcome must outlive the return: static text, or job->host->keep. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syncq/handler.h>

SYNCQ_PLUGIN_DECLARE;

/* reply keeps obj's text in the job and frees obj. */
static const char *
reply(const syncq_job *job, cJSON *obj)
{
    char *txt = cJSON_PrintUnformatted(obj);
    const char *kept = job->host->keep(job, txt);
    free(txt);
    cJSON_Delete(obj);
    return kept;
}

static syncq_outcome
greet(const syncq_job *job)
{
    char why[512];
    cJSON *p = cJSON_Parse(job->payload_json);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
    const cJSON *fail = cJSON_GetObjectItemCaseSensitive(p, "fail");
    if (cJSON_IsString(fail) && !strcmp(fail->valuestring, "permanent")) {
        snprintf(why, sizeof(why), "refusing to greet: %s", job->payload_json);
        cJSON_Delete(p);
        return syncq_permanent(job->host->keep(job, why));
    }
    char greeting[256];
    snprintf(greeting, sizeof(greeting), "hello, %s", cJSON_IsString(name) ? name->valuestring : "world");
    cJSON_Delete(p);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "greeting", greeting);
    cJSON_AddNumberToObject(r, "attempt", job->attempt);
    cJSON_AddStringToObject(r, "by", "hello.so");
    return syncq_success(reply(job, r));
}

static syncq_outcome
flaky(const syncq_job *job)
{
    static char why[128];
    cJSON *p = cJSON_Parse(job->payload_json);
    const cJSON *times = cJSON_GetObjectItemCaseSensitive(p, "fail_times");
    const cJSON *after = cJSON_GetObjectItemCaseSensitive(p, "retry_after_ms");
    int n = cJSON_IsNumber(times) ? times->valueint : 2;
    int64_t wait = cJSON_IsNumber(after) ? (int64_t)after->valuedouble : 200;
    cJSON_Delete(p);
    if (job->attempt <= n) {
        snprintf(why, sizeof(why), "the upstream is busy (attempt %d of the %d that fail)", job->attempt, n);
        return syncq_transient(wait, why);
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "attempt", job->attempt);
    return syncq_success(reply(job, r));
}

static syncq_outcome
fetch(const syncq_job *job)
{
    char path[512], why[1024];
    syncq_http_response rs;
    cJSON *p = cJSON_Parse(job->payload_json);
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(p, "target");
    if (cJSON_IsString(target)) snprintf(path, sizeof(path), "%s", target->valuestring);
    else snprintf(path, sizeof(path), "/zones/%s/records", job->scope ? job->scope : "example.org");
    cJSON_Delete(p);
    if (job->host->http(job, "GET", path, NULL, 0, &rs) < 0) {
        snprintf(why, sizeof(why), "GET %s: %s", path, rs.error);
        /* a refused target is our mistake; the network may come back */
        if (!strncmp(rs.error, "refused", 7) || !strncmp(rs.error, "the target", 10))
            return syncq_permanent(job->host->keep(job, why));
        return syncq_transient(rs.retry_after_ms, job->host->keep(job, why));
    }
    if (rs.status == 429 || rs.status >= 500) {
        snprintf(why, sizeof(why), "GET %s: HTTP %d", path, rs.status);
        return syncq_transient(rs.retry_after_ms, job->host->keep(job, why));
    }
    if (rs.status / 100 != 2) {
        snprintf(why, sizeof(why), "GET %s: HTTP %d", path, rs.status);
        return syncq_permanent(job->host->keep(job, why));
    }
    cJSON *body = cJSON_Parse(rs.body);
    const cJSON *items = cJSON_IsArray(body) ? body : cJSON_GetObjectItemCaseSensitive(body, "data");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "http_status", rs.status);
    cJSON_AddNumberToObject(r, "records", cJSON_IsArray(items) ? cJSON_GetArraySize(items) : -1);
    cJSON_Delete(body);
    return syncq_success(reply(job, r));
}

int
syncq_plugin_init(uint32_t api_version, syncq_registry *registry)
{
    if (api_version != SYNCQ_HANDLER_ABI) return 1; /* the worker checked already; belt and braces */
    if (registry->add(registry, "hello", "greet", greet, NULL) < 0 ||
        registry->add(registry, "hello", "flaky", flaky, NULL) < 0 ||
        registry->add(registry, "hello", "fetch", fetch, NULL) < 0) {
        registry->fail(registry, "hello: a handler could not be registered");
        return 1;
    }
    return 0;
}
