/* fuzz_envelope.c - libFuzzer harness for the envelope scanner, parser and
 * validator (common/envelope.c). The input is the raw bytes a producer
 * pushes. Properties, besides "no crash, leak or sanitizer report":
 *   - a rejection leaves the envelope empty and says why in err;
 *   - the byte scan and the parse agree (a scan rejection is the parse's
 *     verdict; an accepted envelope passes the scan);
 *   - an accepted envelope holds what envelope.h promises (kind, service,
 *     action, the ranges of the numbers);
 *   - it round-trips: envelope_build from its fields succeeds, and parsing
 *     the built text gives the same fields back. */
#include "fmacros.h"
#include "fuzz.h"
#include "envelope.h"

#include <string.h>

static int
same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void
check_rejected(envelope_err rc, const envelope *e, const char *err)
{
    static const envelope empty;
    FUZZ_CHECK(rc > ENV_OK && rc <= ENV_ERR_FIELD, "unknown error code %d", (int)rc);
    FUZZ_CHECK(memcmp(e, &empty, sizeof(empty)) == 0, "a rejected envelope is not left empty (rc %d)", (int)rc);
    FUZZ_CHECK(err[0] != '\0', "rejection %d without a message", (int)rc);
}

static void
check_name(const char *field, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    FUZZ_CHECK(n >= 1 && n <= 128, "%s has %zu bytes", field, n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f, "%s holds control byte 0x%02x", field,
                   (unsigned char)s[i]);
}

static void
check_accepted(const envelope *e)
{
    FUZZ_CHECK(e->root && json_typeof(e->root) == JSON_OBJECT, "accepted without an object root");
    FUZZ_CHECK(e->v == 1, "v is %d", e->v);
    FUZZ_CHECK(e->kind == KIND_MUTATION || e->kind == KIND_SYNC, "kind is %d", (int)e->kind);
    check_name("service", e->service);
    check_name("action", e->action);
    if (e->id) {
        size_t n = strlen(e->id);
        FUZZ_CHECK(n >= 1 && n <= 128, "id has %zu bytes", n);
        for (size_t i = 0; i < n; i++) FUZZ_CHECK(e->id[i] > 0x20 && e->id[i] < 0x7f, "id byte %zu", i);
    }
    FUZZ_CHECK(!e->payload || json_typeof(e->payload) == JSON_OBJECT, "payload is not an object");
    FUZZ_CHECK(e->max_attempts >= 0 && e->max_attempts <= 1000, "max_attempts %d", e->max_attempts);
    FUZZ_CHECK(e->timeout_ms >= 0 && e->timeout_ms <= 86400000, "timeout_ms %lld", (long long)e->timeout_ms);
    FUZZ_CHECK(e->attempt >= 0, "attempt %d", e->attempt);
    FUZZ_CHECK(e->delay_ms >= 0, "delay_ms %lld", (long long)e->delay_ms);
    FUZZ_CHECK(!e->debounce_key || e->kind == KIND_SYNC, "a debounced mutation");
    FUZZ_CHECK((e->enqueued_at != NULL) == (e->enqueued_at_ms >= 0), "enqueued_at and its time disagree");
}

/* spec_of fills a build spec with e's fields; *payload is the caller's to free. */
static void
spec_of(const envelope *e, envelope_spec *sp, char **payload)
{
    memset(sp, 0, sizeof(*sp));
    *payload = e->payload ? json_print(e->payload) : NULL;
    sp->id = e->id;
    sp->kind = envelope_kind_name(e->kind);
    sp->service = e->service;
    sp->action = e->action;
    sp->target_type = e->target_type;
    sp->target_id = e->target_id;
    sp->scope = e->scope;
    sp->actor = e->actor;
    sp->payload_json = *payload;
    sp->payload_len = *payload ? strlen(*payload) : 0;
    sp->max_attempts = e->max_attempts;
    sp->timeout_ms = e->timeout_ms;
    sp->idempotency_key = e->idempotency_key;
    sp->idempotency_ttl_s = e->idempotency_ttl_s;
    sp->debounce_key = e->debounce_key;
    sp->debounce_ms = e->debounce_ms;
    sp->expected_hash = e->expected_hash;
    sp->enqueued_at = e->enqueued_at;
    sp->run_at = json_str(json_get(e->root, "run_at")); /* the text as given */
    sp->delay_ms = e->delay_ms;
}

static void
check_same(const envelope *a, const envelope *b)
{
    FUZZ_CHECK(a->kind == b->kind, "kind %d became %d", (int)a->kind, (int)b->kind);
    FUZZ_CHECK(same_str(a->id, b->id), "id changed");
    FUZZ_CHECK(same_str(a->service, b->service), "service changed");
    FUZZ_CHECK(same_str(a->action, b->action), "action changed");
    FUZZ_CHECK(same_str(a->target_type, b->target_type), "target_type changed");
    FUZZ_CHECK(same_str(a->target_id, b->target_id), "target_id changed");
    FUZZ_CHECK(same_str(a->scope, b->scope), "scope changed");
    FUZZ_CHECK(same_str(a->actor, b->actor), "actor changed");
    FUZZ_CHECK(same_str(a->idempotency_key, b->idempotency_key), "idempotency_key changed");
    FUZZ_CHECK(same_str(a->debounce_key, b->debounce_key), "debounce_key changed");
    FUZZ_CHECK(same_str(a->expected_hash, b->expected_hash), "expected_hash changed");
    FUZZ_CHECK(same_str(a->enqueued_at, b->enqueued_at), "enqueued_at changed");
    FUZZ_CHECK(a->max_attempts == b->max_attempts, "max_attempts %d became %d", a->max_attempts, b->max_attempts);
    FUZZ_CHECK(a->timeout_ms == b->timeout_ms, "timeout_ms changed");
    FUZZ_CHECK(a->idempotency_ttl_s == b->idempotency_ttl_s, "idempotency_ttl_s changed");
    FUZZ_CHECK(a->debounce_ms == b->debounce_ms, "debounce_ms changed");
    FUZZ_CHECK(a->delay_ms == b->delay_ms, "delay_ms changed");
    FUZZ_CHECK(a->enqueued_at_ms == b->enqueued_at_ms, "enqueued_at_ms changed");
    FUZZ_CHECK(a->run_at_ms == b->run_at_ms, "run_at_ms %lld became %lld", (long long)a->run_at_ms,
               (long long)b->run_at_ms);
    FUZZ_CHECK(json_size(a->payload) == json_size(b->payload), "payload lost members");
}

static void
check_round_trip(const envelope *e)
{
    envelope_spec sp;
    envelope back;
    char *payload, err[256] = "", *text;
    size_t len = 0;
    spec_of(e, &sp, &payload);
    text = envelope_build(&sp, &len, err, sizeof(err));
    FUZZ_CHECK(text != NULL, "envelope_build refused an accepted envelope's fields: %s", err);
    FUZZ_CHECK(envelope_parse(text, len, SIZE_MAX, &back, err, sizeof(err)) == ENV_OK,
               "the built envelope does not parse: %s", err);
    check_same(e, &back);
    envelope_free(&back);
    free(text);
    free(payload);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data; /* exactly size bytes, no terminator: overreads are caught */
    char err[256] = "", serr[256] = "";
    envelope e;
    envelope_err scan = envelope_scan(s, size, 0, serr, sizeof(serr));
    envelope_err rc = envelope_parse(s, size, 0, &e, err, sizeof(err));
    if (scan != ENV_OK) FUZZ_CHECK(rc == scan, "scan said %d, parse said %d", (int)scan, (int)rc);
    if (rc != ENV_OK) {
        check_rejected(rc, &e, err);
        return 0;
    }
    check_accepted(&e);
    check_round_trip(&e);
    envelope_free(&e);
    return 0;
}
