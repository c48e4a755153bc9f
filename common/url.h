/* url.h - Redis URL parsing (pure). */
#ifndef SYNCQ_URL_H
#define SYNCQ_URL_H

#include <stddef.h> /* for size_t */

#define URL_MAX_SENTINELS 8

typedef struct url_endpoint {
    char host[256];
    int port;
} url_endpoint;

typedef struct redis_url {
    char host[256];     /* empty for a unix socket, and for Sentinel (found at connect) */
    int port;           /* 6379 default */
    url_endpoint sentinels[URL_MAX_SENTINELS]; /* redis-sentinel://: where to ask for the master */
    int nsentinels;     /* 0 for a plain URL */
    char master[128];   /* redis-sentinel://: the monitored master's name */
    char path[256];     /* unix socket path, empty for TCP */
    int tls;            /* rediss://: 1 (rds.c needs a TLS build: SYNCQ_TLS) */
    char cacert[256];   /* rediss://...?cacert=PATH: the CA file that verifies the server */
    char cert[256];     /* ?cert=PATH&key=PATH: a client certificate (tls-auth-clients yes) */
    char key[256];
    char user[128];     /* ACL user, empty for none */
    char password[256]; /* empty for none */
    int db;             /* 0 default */
} redis_url;

/* redis_url_parse accepts:
 *   redis://[[user]:password@]host[:port][/db]
 *   redis://host:port?db=N&password=P   (query form, also for unix)
 *   unix:///path/to/socket[?db=N&password=P]  and  unix://[:password@]/path
 *   rediss://[[user]:password@]host[:port][/db][?cacert=PATH&cert=PATH&key=PATH]  (TLS)
 *   redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/MASTER[/db][?query]
 *       (sentinels, port 26379 default; user and password are the master's)
 * Percent-escapes in user/password are decoded. Returns 0, or -1 with err. */
int redis_url_parse(const char *s, redis_url *u, char *err, size_t errlen);

/* redis_url_set_password writes url with password (from a secret file) in
 * its userinfo into out: "redis://user@host/0" or "redis://host/0" becomes
 * "redis://user:ENCODED@host/0" (a userinfo without ':' is the user here,
 * since the password comes from elsewhere). A URL that already carries a
 * password is refused: one source of truth. The error never quotes the URL
 * or the password. 0, or -1 with err. */
int redis_url_set_password(const char *url, const char *password, char *out, size_t outlen, char *err,
                           size_t errlen);

/* url_redact copies a URL (Redis or PostgreSQL URI/conninfo) with any
 * password replaced by ********, for logs. */
void url_redact(const char *in, char *out, size_t outlen);

#endif
