/* record.c - build and parse audit outcome records (see record.h). */
#include "fmacros.h"
#include "record.h"
#include "sbuf.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

int
record_rev(int attempts, int phase)
{
    return attempts * 4 + phase;
}

void
record_init(record *r)
{
    memset(r, 0, sizeof(*r));
    r->enqueued_ms = r->started_ms = r->finished_ms = r->duration_ms = -1;
    r->ev_at_ms = r->ev_duration_ms = -1;
}

static void
add_str(sbuf *b, const char *k, const char *v)
{
    if (!v) return;
    sbuf_json_key(b, k);
    sbuf_json_strz(b, v);
}

static void
add_int(sbuf *b, const char *k, int64_t v)
{
    if (v < 0) return;
    sbuf_json_key(b, k);
    sbuf_printf(b, "%lld", (long long)v);
}

static void
add_raw(sbuf *b, const char *k, const char *v)
{
    if (!v) return;
    sbuf_json_key(b, k);
    sbuf_adds(b, v);
}

char *
record_build(const record *r, size_t *len)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_addc(&b, '{');
    add_str(&b, "id", r->id);
    add_str(&b, "q", r->queue);
    add_str(&b, "kind", r->kind);
    add_str(&b, "service", r->service);
    add_str(&b, "action", r->action);
    add_str(&b, "target_type", r->target_type);
    add_str(&b, "target_id", r->target_id);
    add_str(&b, "scope", r->scope);
    add_str(&b, "actor", r->actor);
    add_raw(&b, "payload", r->payload);
    add_str(&b, "status", r->status);
    add_int(&b, "attempts", r->attempts);
    add_raw(&b, "result", r->result);
    add_str(&b, "error", r->error);
    add_str(&b, "worker", r->worker);
    add_int(&b, "enqueued", r->enqueued_ms);
    add_int(&b, "started", r->started_ms);
    add_int(&b, "finished", r->finished_ms);
    add_int(&b, "duration", r->duration_ms);
    add_str(&b, "from", r->replayed_from);
    add_int(&b, "rev", r->rev);
    if (r->event) {
        sbuf_json_key(&b, "ev");
        sbuf_addc(&b, '{');
        add_str(&b, "event", r->event);
        add_str(&b, "outcome", r->ev_outcome);
        add_str(&b, "error", r->ev_error);
        add_int(&b, "attempt", r->ev_attempt);
        add_int(&b, "at", r->ev_at_ms);
        add_int(&b, "duration", r->ev_duration_ms);
        sbuf_addc(&b, '}');
    }
    sbuf_addc(&b, '}');
    return sbuf_steal(&b, len);
}

static const char *
get_str(const json *o, const char *k)
{
    return json_str(json_get(o, k));
}

static int64_t
get_int(const json *o, const char *k)
{
    const json *n = json_get(o, k);
    if (json_typeof(n) != JSON_NUMBER) return -1;
    double d = json_num(n);
    return (d >= 0 && d < 9.0e15) ? (int64_t)d : -1;
}

/* get_text prints a JSON member back to text (payload, result); the text is
 * kept inside the tree as a new string member so that the tree owns it. */
static const char *
get_text(json *o, const char *k)
{
    json *n = json_get(o, k);
    if (!n || json_typeof(n) == JSON_NULL) return NULL;
    char *txt = json_print(n);
    if (!txt) return NULL;
    json *s = json_new_string(txt);
    free(txt);
    json_replace(o, n, s);
    return json_str(s);
}

int
record_parse(const char *s, size_t n, record *r, json **tree, char *err, size_t errlen)
{
    json *root = json_parse(s, n, err, errlen);
    record_init(r);
    *tree = NULL;
    if (!root) return -1;
    if (json_typeof(root) != JSON_OBJECT || !get_str(root, "id") || !get_str(root, "status")) {
        snprintf(err, errlen, "record without id or status");
        json_free(root);
        return -1;
    }
    r->id = get_str(root, "id");
    r->queue = get_str(root, "q");
    r->kind = get_str(root, "kind");
    r->service = get_str(root, "service");
    r->action = get_str(root, "action");
    r->target_type = get_str(root, "target_type");
    r->target_id = get_str(root, "target_id");
    r->scope = get_str(root, "scope");
    r->actor = get_str(root, "actor");
    r->payload = get_text(root, "payload");
    r->status = get_str(root, "status");
    r->attempts = (int)(get_int(root, "attempts") < 0 ? 0 : get_int(root, "attempts"));
    r->result = get_text(root, "result");
    r->error = get_str(root, "error");
    r->worker = get_str(root, "worker");
    r->enqueued_ms = get_int(root, "enqueued");
    r->started_ms = get_int(root, "started");
    r->finished_ms = get_int(root, "finished");
    r->duration_ms = get_int(root, "duration");
    r->replayed_from = get_str(root, "from");
    r->rev = (int)(get_int(root, "rev") < 0 ? 0 : get_int(root, "rev"));
    json *ev = json_get(root, "ev");
    if (json_typeof(ev) == JSON_OBJECT) {
        r->event = get_str(ev, "event");
        r->ev_outcome = get_str(ev, "outcome");
        r->ev_error = get_str(ev, "error");
        r->ev_attempt = (int)(get_int(ev, "attempt") < 0 ? 0 : get_int(ev, "attempt"));
        r->ev_at_ms = get_int(ev, "at");
        r->ev_duration_ms = get_int(ev, "duration");
    }
    *tree = root;
    return 0;
}
