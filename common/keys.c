/* keys.c - Redis key names; see keys.h for the layout. */
#include "fmacros.h"
#include "keys.h"

#include <stdio.h>

#define QK(field, suffix) snprintf(k->field, KEY_MAX, "%s:{%s}:%s", prefix, q, suffix)

void
keys_queue(qkeys *k, const char *prefix, const char *q, const char *wid)
{
    const char *w = wid ? wid : "";
    QK(ready, "ready");
    QK(att, "att");
    QK(seq, "seq");
    QK(retry, "retry");
    QK(dead, "dead");
    QK(deadjobs, "deadjobs");
    QK(outbox, "outbox");
    QK(rejected, "rejected");
    QK(owners, "owners");
    QK(paused, "paused");
    QK(config, "config");
    QK(handlers, "handlers");
    QK(events, "events");
    snprintf(k->inflight, KEY_MAX, "%s:{%s}:inflight:%s", prefix, q, w);
    snprintf(k->claim, KEY_MAX, "%s:{%s}:claim:%s", prefix, q, w);
}

void
keys_workers(char *out, size_t len, const char *prefix)
{
    snprintf(out, len, "%s:{%s:fleet}:workers", prefix, prefix);
}

void
keys_queues(char *out, size_t len, const char *prefix)
{
    snprintf(out, len, "%s:{%s:fleet}:queues", prefix, prefix);
}

void
keys_heartbeat(char *out, size_t len, const char *prefix, const char *wid)
{
    snprintf(out, len, "%s:{%s:fleet}:hb:%s", prefix, prefix, wid);
}

void
keys_oauth2(char *token, char *lock, size_t len, const char *prefix, const char *service)
{
    snprintf(token, len, "%s:oauth2:%s", prefix, service);
    snprintf(lock, len, "%s:oauth2:%s:lock", prefix, service);
}

void
keys_exec_deaths(char *out, size_t len, const char *prefix, const char *q)
{
    snprintf(out, len, "%s:{%s}:xdeaths", prefix, q);
}

void
keys_ratelimit(char *out, size_t len, const char *prefix, const char *service)
{
    snprintf(out, len, "%s:rl:%s", prefix, service);
}

void
keys_schedule(char *out, size_t len, const char *prefix, const char *service, const char *resource, const char *scope)
{
    snprintf(out, len, "%s:sched:%s:%s:%s", prefix, service, resource, scope);
}

void
keys_idok(char *out, size_t len, const char *prefix, const char *q, const char *idem_key)
{
    snprintf(out, len, "%s:{%s}:idok:%s", prefix, q, idem_key);
}

void
keys_lock(char *out, size_t len, const char *prefix, const char *q, const char *service, const char *scope,
          const char *target)
{
    snprintf(out, len, "%s:{%s}:lock:%s:%s:%s", prefix, q, service, scope ? scope : "", target ? target : "");
}

void
keys_retried(char *out, size_t len, const char *prefix, const char *q, const char *id)
{
    snprintf(out, len, "%s:{%s}:retried:%s", prefix, q, id);
}
