/* sigv4.h - AWS Signature Version 4, header form (docs/HANDLERS.md "Auth"),
 * for a service's auth.aws_sigv4: the canonical request, the string to sign,
 * the derived signing key and the headers a request carries. Pure code. */
#ifndef SYNCQ_SIGV4_H
#define SYNCQ_SIGV4_H

#include <stddef.h> /* for size_t */
#include <time.h>   /* for time_t */

#include "sbuf.h"

/* sigv4_spec is one service's auth.aws_sigv4, as the services file gives it. */
typedef struct sigv4_spec {
    char *region, *service;  /* owned */
    char *access_key_id;     /* owned; from ${VAR} */
    char *secret_access_key; /* owned; a secret (from ${VAR}) */
    char *session_token;     /* owned; a secret; NULL: none (long-term keys) */
} sigv4_spec;

/* sigv4_header is one signed header: name lowercase, value trimmed. */
typedef struct sigv4_header {
    const char *name, *value;
} sigv4_header;

/* sigv4_canonical appends the canonical request (task 1 of the signing
 * process) to out: path and query as sent (they are encoded again per the
 * rules; once only for s3), hdrs sorted by name, payload_hash the hex
 * SHA-256 of the body. -1 when the path or query is too long or malformed. */
int sigv4_canonical(const char *method, const char *path, const char *query, const sigv4_header *hdrs, int n,
                    const char *payload_hash, int s3, sbuf *out);
/* sigv4_signature writes the hex signature (65 bytes with the NUL) of a
 * canonical request made at amz_date (YYYYMMDDTHHMMSSZ). */
int sigv4_signature(const sigv4_spec *s, const char *amz_date, const char *canonical, size_t len, char sig[65]);

/* sigv4_out is what a request must carry: the headers' values. */
typedef struct sigv4_out {
    char amz_date[17];       /* X-Amz-Date */
    char content_sha256[65]; /* X-Amz-Content-Sha256 */
    char authorization[1024];
} sigv4_out;

/* sigv4_request signs a request to url made at now: host,
 * x-amz-content-sha256, x-amz-date and (with a session token)
 * x-amz-security-token are signed. 0, or -1 with err set. */
int sigv4_request(const sigv4_spec *s, const char *method, const char *url, const char *body, size_t body_len,
                  time_t now, sigv4_out *out, char *err, size_t errlen);
void sigv4_spec_free(sigv4_spec *s);

#endif
