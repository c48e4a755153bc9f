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
keys_global(char *out, size_t len, const char *prefix, const char *name)
{
    snprintf(out, len, "%s:%s", prefix, name);
}

void
keys_heartbeat(char *out, size_t len, const char *prefix, const char *wid)
{
    snprintf(out, len, "%s:hb:%s", prefix, wid);
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
