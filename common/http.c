/* http.c - the only file that knows libcurl. */
#include "fmacros.h"
#include "http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_REDIRECTS 5

int
http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int
http_init(http_client *c)
{
    memset(c, 0, sizeof(*c));
    c->curl = curl_easy_init();
    if (!c->curl) {
        snprintf(c->errstr, sizeof(c->errstr), "curl_easy_init failed");
        return -1;
    }
    return 0;
}

void
http_close(http_client *c)
{
    if (c->curl && c->multi) curl_multi_remove_handle((CURLM *)c->multi, c->curl); /* a transfer left parked */
    if (c->curl) curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

http_multi *
http_multi_new(void)
{
    return (http_multi *)curl_multi_init();
}

void
http_multi_free(http_multi *m)
{
    if (m) curl_multi_cleanup((CURLM *)m);
}

void
http_attach(http_client *c, http_multi *m, void (*park)(volatile int *done))
{
    c->multi = m;
    c->park = m ? park : NULL;
}

int
http_multi_run(http_multi *m, int ms, int fd)
{
    CURLM *cm = (CURLM *)m;
    CURLMsg *msg;
    struct curl_waitfd extra = {fd, CURL_WAIT_POLLIN, 0};
    int running, left, ended = 0;
    if (curl_multi_perform(cm, &running) != CURLM_OK) return -1;
    if (ms > 0 && curl_multi_poll(cm, fd >= 0 ? &extra : NULL, fd >= 0, ms, NULL) != CURLM_OK) return -1;
    if (curl_multi_perform(cm, &running) != CURLM_OK) return -1;
    while ((msg = curl_multi_info_read(cm, &left))) {
        http_client *c = NULL;
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *h = msg->easy_handle;
        CURLcode cc = msg->data.result; /* msg is gone after the remove */
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&c);
        curl_multi_remove_handle(cm, h);
        if (!c) continue;
        c->result = (int)cc;
        c->done = 1;
        ended++;
    }
    return ended;
}

/* perform runs the transfer set up on c: in its multi while a park is
 * attached (the caller waits there), else here. */
static CURLcode
perform(http_client *c)
{
    if (!c->multi || !c->park) return curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_PRIVATE, (char *)c);
    c->done = 0;
    if (curl_multi_add_handle((CURLM *)c->multi, c->curl) != CURLM_OK) return curl_easy_perform(c->curl);
    c->park(&c->done);
    return (CURLcode)c->result;
}

void
http_response_free(http_response *rs)
{
    sbuf_free(&rs->body);
}

/* origin_len: length of "scheme://host[:port]" at the start of url, 0 if none. */
static size_t
origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p) return 0;
    p += 3;
    return (size_t)(p - url) + strcspn(p, "/?#");
}

int
http_same_origin(const char *a, const char *b)
{
    size_t la = origin_len(a), lb = origin_len(b);
    return la && la == lb && strncasecmp(a, b, la) == 0;
}

/* rel_lists_next says whether a rel value (s[0..n), unquoted) lists the
 * relation type next: types are separated by blanks and compared without
 * case (RFC 8288 sections 3.3 and 2.1.1). */
static int
rel_lists_next(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && s[i] != ' ' && s[i] != '\t') i++;
        if (i - start == 4 && strncasecmp(s + start, "next", 4) == 0) return 1;
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    }
    return 0;
}

/* link_param reads one "; name[=value]" at p (after the ';') and returns
 * where it ends. A value is a token or a quoted-string, so a ',' ';' or '<'
 * inside quotes belongs to the value. *next is set when this is the link's
 * first rel parameter and it lists next (later ones are ignored, RFC 8288
 * section 3.3). */
static const char *
link_param(const char *p, int *rel_seen, int *next)
{
    const char *name, *val;
    size_t nl, vl;
    p += strspn(p, " \t");
    name = p;
    nl = strcspn(p, "=;, \t");
    p += nl;
    p += strspn(p, " \t");
    if (*p != '=') return p;
    p++;
    p += strspn(p, " \t");
    if (*p == '"') {
        val = ++p;
        while (*p && *p != '"') p += *p == '\\' && p[1] ? 2 : 1;
        vl = (size_t)(p - val);
        if (*p == '"') p++;
    } else {
        val = p;
        vl = strcspn(p, ";, \t");
        p += vl;
    }
    if (nl == 3 && strncasecmp(name, "rel", 3) == 0 && !(*rel_seen)++) *next = rel_lists_next(val, vl);
    return p;
}

/* http_parse_link: Link = #( "<" URI-Reference ">" *( ";" link-param ) ),
 * RFC 8288 section 3. The first link whose rel lists next wins; its target
 * not fitting in out is -1, like no such link. */
int
http_parse_link(const char *v, char *out, size_t outlen)
{
    for (const char *p = v; (p = strchr(p, '<')) != NULL;) {
        const char *uri = p + 1, *end = strchr(uri, '>');
        int rel_seen = 0, next = 0;
        if (!end) return -1;
        for (p = end + 1; *p && *p != ',';) { /* the parameters, up to the comma that ends the link */
            if (*p == ';') p = link_param(p + 1, &rel_seen, &next);
            else p++;
        }
        if (next) {
            size_t ulen = (size_t)(end - uri);
            if (ulen + 1 > outlen) return -1;
            memcpy(out, uri, ulen);
            out[ulen] = '\0';
            return 0;
        }
    }
    return -1;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    http_response *rs = arg;
    size_t len = size * n;
    if (rs->status >= 400) { /* an error answer: keep its head, drain the rest */
        size_t room = rs->body.len < HTTP_ERROR_BODY_MAX ? HTTP_ERROR_BODY_MAX - rs->body.len : 0;
        if (len > room) rs->body_cut = 1;
        sbuf_add(&rs->body, data, len < room ? len : room);
        return len;
    }
    if (rs->body.len + len > HTTP_MAX_BODY) return 0; /* aborts the transfer */
    sbuf_add(&rs->body, data, len);
    return len;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
    http_response *rs = arg;
    size_t len = size * n;
    char line[4096];
    snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) - 1 ? len : sizeof(line) - 1), data);
    line[strcspn(line, "\r\n")] = '\0';
    if (!strncasecmp(line, "HTTP/", 5)) { /* a new response (after a redirect): forget the old headers */
        const char *sp = strchr(line, ' ');
        rs->link_next[0] = '\0';
        rs->retry_after_ms = -1;
        rs->status = sp ? atoi(sp + 1) : 0; /* early, for on_body; CURLINFO_RESPONSE_CODE has the last word */
    } else if (!strncasecmp(line, "Link:", 5)) {
        http_parse_link(line + 5, rs->link_next, sizeof(rs->link_next));
    } else if (!strncasecmp(line, "Retry-After:", 12)) {
        const char *v = line + 12;
        while (*v == ' ') v++;
        char *end;
        long secs = strtol(v, &end, 10);
        if (end != v && *end == '\0' && secs >= 0) {
            rs->retry_after_ms = (int64_t)secs * 1000;
        } else {
            time_t when = curl_getdate(v, NULL); /* an HTTP-date */
            time_t now = time(NULL);
            if (when > 0) rs->retry_after_ms = when > now ? (int64_t)(when - now) * 1000 : 0;
        }
    }
    return len;
}

static int
setup(http_client *c, const http_request *rq, const char *url, http_response *rs, struct curl_slist **hdrs,
      char *errbuf)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    *hdrs = NULL;
    for (int i = 0; i < rq->nheaders; i++) {
        struct curl_slist *n = curl_slist_append(*hdrs, rq->headers[i]);
        if (!n) return -1;
        *hdrs = n;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* redirects are checked by hand */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(rq->connect_timeout_ms ? rq->connect_timeout_ms : 2000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(rq->timeout_ms ? rq->timeout_ms : 10000));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, rs);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, rs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    if (rq->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, rq->ca_file);
    if (rq->cert_file) curl_easy_setopt(h, CURLOPT_SSLCERT, rq->cert_file);
    if (rq->key_file) curl_easy_setopt(h, CURLOPT_SSLKEY, rq->key_file);
    if (rq->key_password) curl_easy_setopt(h, CURLOPT_KEYPASSWD, rq->key_password);
    if (!strcmp(rq->method, "HEAD")) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (rq->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    }
    return 0;
}

/* tls_refused says whether a transfer failed because TLS refused the peer's
 * certificate or could not use our own files: the same request would fail
 * the same way. A handshake cut short (CURLE_SSL_CONNECT_ERROR) is not
 * among them: a busy or restarting server does that too. */
static int
tls_refused(CURLcode cc, const char *errbuf)
{
    /* The server refusing our client certificate (or its absence) arrives as
     * a TLS alert: in the handshake under TLS 1.2, on the first read under
     * TLS 1.3 (the client has already sent its request). Only OpenSSL's
     * text names the alert; these four are about certificates only. */
    static const char *const cert_alerts[] = {"alert certificate required", "alert bad certificate",
                                              "alert unknown ca", "alert certificate unknown", NULL};
    if (cc == CURLE_RECV_ERROR || cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SEND_ERROR)
        for (int i = 0; cert_alerts[i]; i++)
            if (strstr(errbuf, cert_alerts[i])) return 1;
    return cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM ||
           cc == CURLE_SSL_CRL_BADFILE || cc == CURLE_SSL_ISSUER_ERROR || cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
           cc == CURLE_SSL_CIPHER;
}

/* once performs one request to url; 0 with rs filled, -1 on a transport error. */
static int
once(http_client *c, const http_request *rq, const char *url, http_response *rs, char *location, size_t loclen)
{
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    long status = 0;
    char *redirect = NULL;
    int rc = -1;
    sbuf_reset(&rs->body);
    rs->body_cut = 0;
    rs->status = 0;
    rs->link_next[0] = '\0';
    rs->retry_after_ms = -1;
    location[0] = '\0';
    if (setup(c, rq, url, rs, &hdrs, errbuf) < 0) {
        snprintf(c->errstr, sizeof(c->errstr), "out of memory building headers");
        goto out;
    }
    CURLcode cc = perform(c);
    if (cc != CURLE_OK) {
        /* the URL is not printed: a query string may carry a token */
        c->tls_config = tls_refused(cc, errbuf);
        snprintf(c->errstr, sizeof(c->errstr), "%s: %s%s", rq->method, c->tls_config ? "TLS: " : "",
                 errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &redirect);
    rs->status = (int)status;
    if (status >= 300 && status < 400 && redirect) snprintf(location, loclen, "%s", redirect);
    rc = 0;
out:
    curl_slist_free_all(hdrs);
    return rc;
}

int
http_do(http_client *c, const http_request *rq, http_response *rs)
{
    char url[4096], location[4096];
    snprintf(url, sizeof(url), "%s", rq->url);
    c->tls_config = 0;
    if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
        snprintf(c->errstr, sizeof(c->errstr), "only http and https URLs are allowed");
        return -1;
    }
    for (int hops = 0;; hops++) {
        if (once(c, rq, url, rs, location, sizeof(location)) < 0) return -1;
        if (!location[0]) break;
        if (!http_same_origin(rq->url, location)) {
            snprintf(c->errstr, sizeof(c->errstr), "refused a redirect to another origin (HTTP %d)", rs->status);
            return -1;
        }
        if (hops == MAX_REDIRECTS) {
            snprintf(c->errstr, sizeof(c->errstr), "more than %d redirects", MAX_REDIRECTS);
            return -1;
        }
        snprintf(url, sizeof(url), "%s", location);
    }
    return 0;
}
