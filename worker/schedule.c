/* schedule.c - scheduled syncs. A resource with "every_s" (and optional
 * "scopes") in the services file is synced once per period by the whole
 * fleet: every master tries, once a second, to take the period's lock
 * (SET NX with the period as its TTL) and the one that wins enqueues the
 * sync through the enqueue function, with a debounce key that collapses it
 * with on-demand syncs of the same resource and scope. */
#include "fmacros.h"
#include "keys.h"
#include "log.h"
#include "sbuf.h"
#include "services.h"
#include "worker.h"

#include <stdio.h>
#include <string.h>

#define SYNC_QUEUE "sync" /* where sync jobs go (docs/PROTOCOL.md, queues) */

static int
enqueue_sync(rds *r, const config *cfg, const svc_service *s, const svc_resource *res, const char *scope)
{
    qkeys k;
    sbuf env;
    char deb[512];
    int rc = -1;
    keys_queue(&k, cfg->prefix, SYNC_QUEUE, NULL);
    snprintf(deb, sizeof(deb), "%s/%s/%s", s->name, res->name, scope);
    sbuf_init(&env);
    sbuf_adds(&env, "{\"kind\":\"sync\",\"actor\":\"schedule\",\"debounce_ms\":1000");
    sbuf_json_key(&env, "service");
    sbuf_json_strz(&env, s->name);
    sbuf_json_key(&env, "action");
    sbuf_json_strz(&env, res->sync_action);
    sbuf_json_key(&env, "debounce_key");
    sbuf_json_strz(&env, deb);
    if (*scope) {
        sbuf_json_key(&env, "scope");
        sbuf_json_strz(&env, scope);
    }
    sbuf_addc(&env, '}');
    char id[WRAP_TAG_MAX];
    if (queue_enqueue(r, &k, env.buf, id, sizeof(id)) == 0) {
        rc = 0;
        log_msg(LOG_INFO, "schedule.sync", "enqueued %s/%s for scope \"%s\" as %s", s->name, res->sync_action, scope,
                id);
    }
    sbuf_free(&env);
    return rc;
}

/* due takes the period's lock for one (resource, scope): 1 won, 0 not due, -1 error. */
static int
due(rds *r, const config *cfg, const svc_service *s, const svc_resource *res, const char *scope)
{
    char key[KEY_MAX + 256], ttl[16];
    keys_schedule(key, sizeof(key), cfg->prefix, s->name, res->name, scope);
    snprintf(ttl, sizeof(ttl), "%d", res->every_s);
    const char *argv[] = {"SET", key, "1", "NX", "EX", ttl};
    size_t lens[] = {3, strlen(key), 1, 2, 2, strlen(ttl)};
    rds_reply *x = rds_cmd(r, 6, argv, lens);
    int rc = !rds_reply_ok(r, x) ? -1 : rds_reply_type(x) == RDS_STATUS;
    rds_reply_free(x);
    return rc;
}

int
schedule_tick(rds *r, const config *cfg, const svc_file *svc)
{
    for (int i = 0; svc && i < svc->nservices; i++) {
        const svc_service *s = &svc->services[i];
        for (int j = 0; j < s->nresources; j++) {
            const svc_resource *res = &s->resources[j];
            if (res->every_s <= 0) continue;
            for (int k = 0; k < (res->nscopes ? res->nscopes : 1); k++) {
                const char *scope = res->nscopes ? res->scopes[k] : "";
                int won = due(r, cfg, s, res, scope);
                if (won < 0 || (won && enqueue_sync(r, cfg, s, res, scope) < 0)) return -1;
            }
        }
    }
    return 0;
}
