/* services.h - the services file (SYNCQ_SERVICES): outside services, their
 * resources, how to list them and which HTTP calls their actions make. Pure
 * code: parsing and validation only; environment references are expanded
 * through a caller-supplied lookup, so tests feed their own.
 *
 * Format (JSON):
 * {
 *   "plugins": ["/usr/lib/syncq/acme.so"],               C plugins (docs/HANDLERS.md); optional
 *   "services": {
 *     "dns": {
 *       "base_url": "https://api.example.net/v1",      http or https only
 *       "headers": {"Authorization": "Bearer ${DNS_TOKEN}"},   values may use ${VAR}; secret, never logged
 *       "connect_timeout_ms": 2000, "timeout_ms": 10000,     defaults 2000 / 10000
 *       "rate_limit": {"per_second": 50, "burst": 100},      shared by every worker; optional
 *       "resources": {
 *         "records": {
 *           "id_field": "id",                               the remote id member of an item (default "id")
 *           "hash_fields": ["name", "type", "content"],     what makes up the content hash (default: the whole item)
 *           "natural_key": ["name", "type"],                how a create that hit "already exists" finds its object
 *           "max_delete_share": 0.5,                        a sync that would delete more than this share stops (default 0.5)
 *           "every_s": 300, "scopes": ["example.org"],      scheduled syncs (optional)
 *           "list": {
 *             "method": "GET", "path": "/zones/{scope}/records",
 *             "items": "data",                              dotted path to the array ("" = the body is the array)
 *             "pagination": {"style": "page"|"offset"|"cursor"|"link",
 *                            "size": 100, "size_param": "per_page",
 *                            "page_param": "page", "first_page": 1,        (page)
 *                            "offset_param": "offset", "total": "meta.total", (offset; total optional, for drift)
 *                            "cursor_param": "cursor", "next": "meta.next_cursor"}, (cursor)
 *             "max_pages": 10000
 *           },
 *           "sync_action": "sync_records",                  default "sync_<resource>"
 *           "actions": {
 *             "create_record": {"op": "create", "method": "POST", "path": "/zones/{scope}/records",
 *                               "body": "payload",          "payload" (the job's payload) or "none"
 *                               "status": {"success": [200, 201], "adopt": [409], "conflict": [412],
 *                                          "transient": [408, 429, 500, 502, 503, 504], "permanent": []}},
 *             "update_record": {"op": "update", "method": "PUT", "path": "/zones/{scope}/records/{target_id}",
 *                               "max_attempts": 8, "timeout_ms": 20000,          per-action defaults (optional;
 *                               "idempotency_ttl_s": 900, "backoff_base_ms": 500}, the envelope's values win)
 *             "delete_record": {"op": "delete", "method": "DELETE", "path": "/zones/{scope}/records/{target_id}"}
 *           }
 *         }
 *       }
 *     }
 *   }
 * }
 * Path templates take {scope}, {target_id} and {payload.FIELD}. Unlisted
 * statuses: 2xx success, 408/429/5xx transient, other 4xx permanent (a delete
 * answered 404 is success).
 *
 * Exec handlers (docs/HANDLERS.md): an action, or a whole service as the
 * default of its actions, may run a program instead of an HTTP request:
 *   "exec": {"command": ["python3", "handler.py"],         argv, no shell; required
 *            "mode": "per_job" | "persistent",             default per_job
 *            "env": {"API_KEY": "${API_KEY}"},             values may use ${VAR}; secret, never logged
 *            "cwd": "/srv/app"}                             optional
 * An exec action takes no method, path, body or status. A service with
 * "exec" needs no base_url, and may list its actions directly:
 *   "mailer": {"exec": {...}, "actions": {"send": {"max_attempts": 3}}}
 * Such service-level actions belong to no resource (no snapshot rows).
 *
 * Exec syncs: a resource's list may be made by a program that streams the
 * records (docs/HANDLERS.md), instead of an HTTP walk:
 *   "list": {"exec": {"command": ["php", "artisan", "syncq:list-users"]}}   per_job only
 * Such a list takes no method, path, items, pagination or max_pages, and
 * needs no base_url.
 *
 * Auth (docs/HANDLERS.md "Auth"), per service, on every request of it (its
 * actions and its syncs' list calls):
 *   "auth": {
 *     "oauth2": {"token_url": "https://auth.example.net/oauth/token",   http or https
 *                "client_id": "${DNS_CLIENT_ID}",                    ${VAR} or literal
 *                "client_secret": "${DNS_CLIENT_SECRET}",            required, from ${VAR} only
 *                "scope": "records:write",                           optional
 *                "client_auth": "basic" | "post"},                   default basic (RFC 6749 2.3.1)
 *     "hmac": {"key": "${HOOK_KEY}",                                 required, from ${VAR} only
 *              "algorithm": "sha256",                                sha1 | sha256 | sha512, default sha256
 *              "message": "{timestamp}.{body}",                      what is signed; default "{body}"
 *              "header": "Stripe-Signature",                         required
 *              "format": "t={timestamp},v1={signature}",             its value; default "{signature}"
 *              "encoding": "hex" | "base64",                         of {signature}; default hex
 *              "timestamp_header": "X-Timestamp"},                   optional: sends the Unix time
 *     "aws_sigv4": {"region": "eu-west-1", "service": "execute-api",  AWS Signature Version 4
 *                   "access_key_id": "${AWS_ACCESS_KEY_ID}",           ${VAR} or literal
 *                   "secret_access_key": "${AWS_SECRET_ACCESS_KEY}",   required, from ${VAR} only
 *                   "session_token": "${AWS_SESSION_TOKEN}"}           optional, from ${VAR} only
 *   },                                                                oauth2 and aws_sigv4 exclude each other
 *   "tls": {"ca_file": "/etc/ssl/dns-ca.pem",                        CA bundle instead of the system's
 *           "cert_file": "/etc/syncq/dns.crt", "key_file": "/etc/syncq/dns.key", client certificate (mTLS)
 *           "key_password": "${DNS_KEY_PASSWORD}"}                  optional, from ${VAR} only */
#ifndef SYNCQ_SERVICES_H
#define SYNCQ_SERVICES_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#include "sign.h"  /* for sign_spec (auth.hmac) */
#include "sigv4.h" /* for sigv4_spec (auth.aws_sigv4) */

#define SVC_NAME_MAX 64
#define SVC_MAX_LIST 16     /* hash_fields, natural_key, scopes, status codes per class */
#define SVC_MAX_HEADERS 16
#define SVC_MAX_ARGV 64     /* exec command words */
#define SVC_MAX_ENV 32      /* exec environment entries */
#define SVC_MAX_PLUGINS 32  /* C plugins named by the file */

typedef enum { PAGE_PAGE = 0, PAGE_OFFSET, PAGE_CURSOR, PAGE_LINK } svc_paging;
typedef enum { OP_CREATE = 0, OP_UPDATE, OP_DELETE, OP_CALL } svc_op;
typedef enum { ST_SUCCESS = 0, ST_ADOPT, ST_CONFLICT, ST_TRANSIENT, ST_PERMANENT, ST_CLASSES } svc_status_class;

typedef struct svc_header {
    char *name;
    char *value;            /* owned, ${VAR} expanded: a secret */
} svc_header;

typedef enum { EXEC_NONE = 0, EXEC_PER_JOB, EXEC_PERSISTENT } svc_exec_mode;

/* svc_exec is a program that runs jobs (docs/HANDLERS.md). */
typedef struct svc_exec {
    svc_exec_mode mode;     /* EXEC_NONE: not an exec handler */
    char **argv;            /* owned, NULL-terminated, argc words */
    int argc;
    svc_header env[SVC_MAX_ENV]; /* NAME=value added to the program's environment; values are secrets */
    int nenv;
    char *cwd;              /* NULL: the worker's */
} svc_exec;

typedef struct svc_action {
    char *name;             /* the job's action */
    svc_op op;
    char *method, *path;
    int body_payload;       /* 1: send the job's payload as the JSON body */
    int codes[ST_CLASSES][SVC_MAX_LIST];
    int ncodes[ST_CLASSES];
    int max_attempts, timeout_ms, idempotency_ttl_s, backoff_base_ms; /* 0: not set */
    svc_exec exec;          /* its own, or a copy of its service's; mode EXEC_NONE for HTTP */
} svc_action;

typedef struct svc_resource {
    char *name;
    char *id_field;
    char *hash_fields[SVC_MAX_LIST];
    int nhash;              /* 0: hash the whole item */
    char *natural_key[SVC_MAX_LIST];
    int nnatural;
    double max_delete_share;
    int every_s;            /* 0: no schedule */
    char *scopes[SVC_MAX_LIST];
    int nscopes;
    char *list_method, *list_path, *items; /* NULL when a program lists it */
    svc_exec list_exec;     /* the program that lists it (exec sync); mode EXEC_NONE for HTTP */
    svc_paging paging;
    int page_size, first_page, max_pages;
    char *size_param, *page_param, *offset_param, *cursor_param, *next_path, *total_path;
    char *sync_action;
    svc_action *actions;
    int nactions;
} svc_resource;

typedef enum { OAUTH2_CLIENT_BASIC = 0, OAUTH2_CLIENT_POST } svc_client_auth;

/* svc_oauth2: the client-credentials grant (RFC 6749 section 4.4). */
typedef struct svc_oauth2 {
    char *token_url;
    char *client_id;        /* owned, ${VAR} expanded */
    char *client_secret;    /* owned, from ${VAR}: a secret */
    char *scope;            /* NULL: none sent */
    svc_client_auth client_auth;
} svc_oauth2;

/* svc_tls: files for libcurl; NULL members keep libcurl's defaults (the
 * system's CA bundle, no client certificate). */
typedef struct svc_tls {
    char *ca_file, *cert_file, *key_file;
    char *key_password;     /* from ${VAR}: a secret */
} svc_tls;

typedef struct svc_service {
    char *name;
    char *base_url;         /* no trailing slash; NULL for an exec service without one */
    svc_header headers[SVC_MAX_HEADERS];
    int nheaders;
    int connect_timeout_ms, timeout_ms;
    double rate_per_s;      /* 0: unlimited */
    int burst;
    svc_resource *resources;
    int nresources;
    svc_exec exec;          /* the default of its actions; mode EXEC_NONE when absent */
    svc_action *actions;    /* service-level actions (exec only), in no resource */
    int nactions;
    svc_oauth2 *oauth2;     /* owned; NULL: no OAuth2 */
    sign_spec *hmac;        /* owned; NULL: requests are not signed */
    sigv4_spec *sigv4;      /* owned; NULL: no AWS Signature Version 4 */
    svc_tls tls;
} svc_service;

typedef struct svc_file {
    svc_service *services;  /* owned */
    int nservices;
    char **plugins;         /* owned: paths of C plugins ("plugins": [...]), loaded at the start */
    int nplugins;
} svc_file;

typedef const char *(*svc_getenv_fn)(const char *name);

/* svc_parse reads a services file's text. Returns an owned svc_file, or NULL
 * with err holding the exact location and problem, e.g.
 * "services.dns.resources.records.list.pagination.style: must be one of page, offset, cursor, link"
 * or "services.dns.headers.Authorization: environment variable DNS_TOKEN is not set". */
svc_file *svc_parse(const char *text, size_t len, svc_getenv_fn get, char *err, size_t errlen);
/* svc_load reads and parses a file (path in err on failure). */
svc_file *svc_load(const char *path, svc_getenv_fn get, char *err, size_t errlen);
void svc_free(svc_file *f);

/* Lookups. svc_find_action returns the resource and action for a job's
 * (service, action): a configured action, or the resource's sync action (then
 * *act is NULL). A service-level action has no resource (*res is NULL).
 * 0 found, -1 not. */
int svc_find_action(const svc_file *f, const char *service, const char *action, const svc_service **svc,
                    const svc_resource **res, const svc_action **act);
/* svc_classify maps an HTTP status to its class for act (NULL: a list call). */
svc_status_class svc_classify(const svc_action *act, int status);
/* svc_expand fills a path template: {scope}, {target_id}, {payload.FIELD}
 * (values percent-encoded). Returns 0, or -1 with err naming the missing value. */
struct json; /* from json.h */
int svc_expand(const char *tmpl, const char *scope, const char *target_id, const struct json *payload, char *out,
               size_t outlen, char *err, size_t errlen);

#endif
