/* url.h - Redis URL parsing (pure). */
#ifndef SYNCQ_URL_H
#define SYNCQ_URL_H

#include <stddef.h> /* for size_t */

typedef struct redis_url {
    char host[256];     /* empty for a unix socket */
    int port;           /* 6379 default */
    char path[256];     /* unix socket path, empty for TCP */
    char user[128];     /* ACL user, empty for none */
    char password[256]; /* empty for none */
    int db;             /* 0 default */
} redis_url;

/* redis_url_parse accepts:
 *   redis://[[user]:password@]host[:port][/db]
 *   redis://host:port?db=N&password=P   (query form, also for unix)
 *   unix:///path/to/socket[?db=N&password=P]  and  unix://[:password@]/path
 * Percent-escapes in user/password are decoded. Returns 0, or -1 with err. */
int redis_url_parse(const char *s, redis_url *u, char *err, size_t errlen);

/* url_redact copies a URL (Redis or PostgreSQL URI/conninfo) with any
 * password replaced by ********, for logs. */
void url_redact(const char *in, char *out, size_t outlen);

#endif
