/* sign.h - HMAC request signing (docs/HANDLERS.md "Auth"): the text a
 * service's auth.hmac signs, built from a template, and the header value
 * that carries the signature. Enough for GitHub (X-Hub-Signature-256:
 * sha256=HEX of the body), Stripe (Stripe-Signature: t=TS,v1=HEX of
 * "TS.body") and Slack (v0=HEX of "v0:TS:body") style schemes, and for a
 * canonical request (method, path, timestamp, body). Pure code. */
#ifndef SYNCQ_SIGN_H
#define SYNCQ_SIGN_H

#include <stddef.h> /* for size_t */

#include "crypto.h"
#include "sbuf.h"

typedef enum { SIGN_HEX = 0, SIGN_BASE64 } sign_encoding;

/* sign_spec is one service's auth.hmac, as the services file gives it. */
typedef struct sign_spec {
    crypto_md md;
    char *key;              /* owned; a secret (from ${VAR}) */
    char *message;          /* owned template: {method} {path} {body} {timestamp} among literal text */
    char *header;           /* owned: the header that carries the signature */
    char *format;           /* owned template of its value: {signature} {timestamp} among literal text */
    sign_encoding encoding;
    char *timestamp_header; /* owned; NULL: no timestamp header is sent */
} sign_spec;

/* sign_input is what a request gives the templates. path is the request
 * target as sent (path and query, percent-encoded); timestamp is Unix
 * seconds. */
typedef struct sign_input {
    const char *method, *path;
    const char *body;       /* NULL for none (signs as empty) */
    size_t body_len;
    long long timestamp;
} sign_input;

#define SIGN_VALUE_MAX 1024 /* bytes of a header value */

/* sign_check_template: 0 when t's {...} are all placeholders of its kind
 * (format 0: the message's, 1: the header format's, which must hold
 * {signature}); else -1 with err saying which. */
int sign_check_template(const char *t, int format, char *err, size_t errlen);
/* sign_message appends the signed text of in to sb. */
void sign_message(const sign_spec *s, const sign_input *in, sbuf *sb);
/* sign_value writes the signature header's value (the format with
 * {signature} and {timestamp} filled) into out. -1 when it does not fit or
 * the MAC fails. */
int sign_value(const sign_spec *s, const sign_input *in, char *out, size_t outlen);
void sign_spec_free(sign_spec *s);

#endif
