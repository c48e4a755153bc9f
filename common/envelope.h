/* envelope.h - envelope v1: the public wire format of a job (docs/PROTOCOL.md; docs/DESIGN.md §9).
 * Pure code: no I/O. The producer's payload bytes are never re-serialised by
 * the worker; the parsed tree is only read (and masked copies are printed). */
#ifndef SYNCQ_ENVELOPE_H
#define SYNCQ_ENVELOPE_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#include "json.h"

#define ENVELOPE_MAX_BYTES (1024 * 1024) /* default size limit: 1 MiB */
#define ENVELOPE_MAX_DEPTH 64            /* nesting limit, checked before parsing */
#define ENVELOPE_DEFAULT_MAX_ATTEMPTS 5
#define ENVELOPE_DEFAULT_TIMEOUT_MS 30000
/* What syncq_enqueue splices in for a missing id ("id":"<36-char tag>",) and
 * enqueued_at ("enqueued_at":"2026-11-24T10:00:00.000Z",): the size limit
 * counts them (docs/PROTOCOL.md, "Size"). */
#define ENVELOPE_ID_ROOM 44
#define ENVELOPE_AT_ROOM 41

typedef enum { KIND_NONE = 0, KIND_MUTATION, KIND_SYNC } envelope_kind;

/* Error codes: every rejection is bad data (never retried). */
typedef enum {
    ENV_OK = 0,
    ENV_ERR_EMPTY,      /* zero bytes */
    ENV_ERR_TOO_LARGE,  /* over the size limit */
    ENV_ERR_NUL,        /* raw NUL byte or \u0000 escape */
    ENV_ERR_UTF8,       /* invalid UTF-8 */
    ENV_ERR_DEPTH,      /* nesting deeper than the limit */
    ENV_ERR_SYNTAX,     /* not JSON */
    ENV_ERR_NOT_OBJECT, /* JSON, but not an object */
    ENV_ERR_DUP_KEY,    /* duplicate top-level key */
    ENV_ERR_FIELD,      /* a field is missing, of the wrong type or out of range */
} envelope_err;

typedef struct envelope {
    json *root;               /* owned parse tree; the strings below point into it */
    int v;                    /* 1 */
    const char *id;           /* NULL when the producer gave none */
    envelope_kind kind;
    const char *service, *action;
    const char *target_type, *target_id, *scope, *actor; /* NULL when absent */
    json *payload;            /* borrowed; NULL when absent (means {}) */
    int max_attempts;         /* 0 when absent (use config) */
    int64_t timeout_ms;       /* 0 when absent */
    const char *idempotency_key;
    int64_t idempotency_ttl_s; /* 0 when absent */
    const char *debounce_key;
    int64_t debounce_ms;       /* 0 when absent */
    const char *expected_hash;
    const char *enqueued_at;   /* RFC 3339 text as given, NULL when absent */
    int64_t enqueued_at_ms;    /* parsed enqueued_at, -1 when absent */
    int attempt;               /* as given (0 when absent); syncq keeps its own count */
    int64_t run_at_ms;         /* run_at (RFC 3339), -1 when absent */
    int64_t delay_ms;          /* 0 when absent */
    int64_t debounce_max_ms;   /* 0 when absent (default: 10 x debounce_ms) */
} envelope;

/* envelope_scan checks raw bytes before any JSON parser sees them: size, NUL
 * (raw or \u0000), UTF-8, nesting depth (outside strings). Returns ENV_OK or an
 * error code with a message in err. */
envelope_err envelope_scan(const char *s, size_t n, size_t max_bytes, char *err, size_t errlen);

/* envelope_parse scans, parses and validates s[0..n): max_bytes bounds the
 * envelope as stored, with a missing id and enqueued_at counted (ENVELOPE_ID_ROOM,
 * ENVELOPE_AT_ROOM). On ENV_OK, *e owns a
 * tree (free with envelope_free). On error, *e is left empty and err says why
 * in one line fit for an operator ("missing required field \"service\""). */
envelope_err envelope_parse(const char *s, size_t n, size_t max_bytes, envelope *e, char *err, size_t errlen);
void envelope_free(envelope *e);
/* envelope_id_of copies the producer's "id" of an envelope that is JSON but
 * fails validation, so its dead letter keeps the id. 0, or -1 when there is
 * no valid id to keep. */
int envelope_id_of(const char *s, size_t n, size_t max_bytes, char *out, size_t outlen);

const char *envelope_kind_name(envelope_kind k); /* "mutation", "sync" or NULL */
envelope_kind envelope_kind_from(const char *s);  /* KIND_NONE when unknown */

/* rfc3339_parse parses "2026-11-24T10:00:00Z" / "+02:00" / fractional seconds
 * into Unix milliseconds. Returns 0 or -1. */
int rfc3339_parse(const char *s, int64_t *ms);
/* rfc3339_format writes UTC milliseconds as "2026-11-24T10:00:00.123Z" (buf >= 32). */
void rfc3339_format(int64_t ms, char *buf, size_t len);

/* Building an envelope (the producer side). Fields left NULL/0 are omitted.
 * payload_json is inserted verbatim after it has been checked to be a JSON
 * object. Returns a malloc'd string or NULL with err set. */
typedef struct envelope_spec {
    const char *id, *kind, *service, *action;
    const char *target_type, *target_id, *scope, *actor;
    const char *payload_json; /* NULL means {} */
    size_t payload_len;
    int max_attempts;
    int64_t timeout_ms;
    const char *idempotency_key;
    int64_t idempotency_ttl_s;
    const char *debounce_key;
    int64_t debounce_ms;
    const char *expected_hash;
    const char *enqueued_at;
    const char *run_at;
    int64_t delay_ms;
} envelope_spec;

char *envelope_build(const envelope_spec *spec, size_t *len, char *err, size_t errlen);

#endif
