/* http.h - the HTTP client of the service handlers. Only http.c includes
 * libcurl. One client (one reusable handle, kept-alive connections) per
 * child, created after fork. Return convention: 0 when a response arrived
 * (whatever its status), -1 on a transport error with c->errstr set. */
#ifndef SYNCQ_HTTP_H
#define SYNCQ_HTTP_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#include "sbuf.h"

#define HTTP_MAX_HEADERS 32
#define HTTP_MAX_BODY (64 * 1024 * 1024) /* a page bigger than this is an error, not an OOM */
/* bytes kept of an error answer (status >= 400): the rest is read and
 * dropped, so a 10 MB error body costs no memory and is never parsed */
#define HTTP_ERROR_BODY_MAX (64 * 1024)

typedef struct http_multi http_multi;

typedef struct http_client {
    void *curl;            /* CURL*, NULL until http_init */
    /* With a multi (http_attach), a transfer runs in it and the caller waits
     * in park(&done) until http_multi_run sets done: several clients then
     * have calls in flight in one process. */
    http_multi *multi;
    void (*park)(volatile int *done);
    volatile int done;
    int result;            /* the ended transfer's CURLcode */
    int tls_config;        /* after a -1: 1 when TLS refused the peer or our files (a wrong CA, an
                            * unreadable certificate): a retry cannot help, the configuration must change */
    char errstr[512];
} http_client;

typedef struct http_request {
    const char *method;    /* GET, POST, PUT, PATCH, DELETE */
    const char *url;
    const char *headers[HTTP_MAX_HEADERS]; /* "Name: value"; may hold secrets: never logged */
    int nheaders;
    const char *body;      /* NULL for none */
    size_t body_len;
    int connect_timeout_ms, timeout_ms;
    /* TLS (the service's "tls"); NULL keeps libcurl's default: the system's
     * CA bundle, no client certificate */
    const char *ca_file, *cert_file, *key_file;
    const char *key_password; /* a secret */
} http_request;

typedef struct http_response {
    int status;
    sbuf body;             /* owned; of an error answer, at most HTTP_ERROR_BODY_MAX bytes */
    int body_cut;          /* 1 when bytes of an error answer were dropped */
    char link_next[2048];  /* RFC 8288 rel="next" target, "" for none */
    int64_t retry_after_ms; /* Retry-After, -1 none */
} http_response;

/* http_global_init calls curl_global_init; children call it after fork. */
int http_global_init(void);
int http_init(http_client *c);
void http_close(http_client *c);
/* http_multi_new makes the curl multi handle several attached clients
 * share (and its connection cache); NULL on failure. */
http_multi *http_multi_new(void);
void http_multi_free(http_multi *m);
/* http_attach makes c's transfers run in m, with park called to wait for
 * each to end; NULL m detaches. */
void http_attach(http_client *c, http_multi *m, void (*park)(volatile int *done));
/* http_multi_run moves m's transfers on, waiting up to ms (0: not at all)
 * for something to happen on them or for fd (-1: none) to be readable, and
 * marks the ended ones done. Returns how many ended, -1 when curl failed. */
int http_multi_run(http_multi *m, int ms, int fd);
/* http_do sends rq. Only http and https; redirects are followed only within
 * the request's origin (scheme, host and port), so secret headers never go
 * anywhere else; a redirect elsewhere is an error. */
int http_do(http_client *c, const http_request *rq, http_response *rs);
void http_response_free(http_response *rs);
/* http_same_origin: 1 when a and b share scheme, host and port (pure). */
int http_same_origin(const char *a, const char *b);
/* http_parse_link copies the target of the first link whose rel lists next
 * (RFC 8288: any case, among other types, quoted or not; quoted parameter
 * values are skipped whole) from a Link header value into out. 0, or -1 when
 * there is none or it does not fit. Pure. */
int http_parse_link(const char *value, char *out, size_t outlen);

#endif
