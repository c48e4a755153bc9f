/* auth.h - a service's auth on each of its requests (docs/HANDLERS.md
 * "Auth"): the OAuth2 client-credentials token, shared by every worker of
 * the fleet through Redis; HMAC signature headers; AWS Signature Version 4;
 * TLS files. Used by every
 * handler that calls a services-file service (h_http.c, h_sync.c). */
#ifndef SYNCQ_AUTH_H
#define SYNCQ_AUTH_H

#include "http.h"
#include "worker.h"

struct svc_service;

/* headers auth_send may add: Authorization, the HMAC signature and its
 * timestamp, X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token */
#define AUTH_HEADERS 6

/* auth_send sends rq (built with room for AUTH_HEADERS more headers) to
 * service s with its auth and counts the call in the child's stats. An
 * answer 401 to a request that carried an OAuth2 token drops that token
 * fleet-wide and sends once more with a fresh one. Returns HANDLER_OK when
 * an answer arrived (any status, in rs), else TRANSIENT (the network, the
 * token endpoint busy), PERMANENT (TLS refused the peer or our files, the
 * token endpoint refused our credentials) or DEFER (Redis), with ctx->error
 * set to "what: reason". */
handler_result auth_send(handler_ctx *ctx, const struct svc_service *s, const char *what, http_request *rq,
                         http_response *rs);

#endif
