/* sigv4.c - AWS Signature Version 4; see sigv4.h. The steps follow AWS's
 * "Create a signed AWS API request" (canonical request, string to sign,
 * signing key, signature), checked against its worked example in
 * tests/unit/test_sigv4.c. */
#include "fmacros.h"
#include "crypto.h"
#include "errf.h"
#include "pct.h"
#include "sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIGV4_PARAMS 64  /* query parameters of one request */
#define SIGV4_PART 2048  /* bytes of one decoded path segment or query part */

/* encode_part decodes s[0..n) as sent (a malformed escape stays as it is)
 * and appends it encoded the AWS way: unreserved bytes as they are, every
 * other byte %XX upper-case. With twice, the bytes as sent are encoded
 * instead (the path of services other than S3 is encoded twice). */
static int
encode_part(const char *s, size_t n, int twice, sbuf *out)
{
    char raw[SIGV4_PART + 1], enc[3 * SIGV4_PART + 1];
    long len;
    if (n > SIGV4_PART) return -1;
    if (twice) {
        memcpy(raw, s, n);
        raw[n] = '\0';
        len = (long)n;
    } else if ((len = pct_decode(s, n, PCT_LENIENT, raw, sizeof(raw))) < 0) {
        return -1;
    }
    if ((long)strlen(raw) != len) return -1; /* a %00: nothing to sign */
    if (pct_encode(raw, PCT_UNRESERVED, enc, sizeof(enc)) < 0) return -1;
    sbuf_adds(out, enc);
    return 0;
}

static int
canonical_path(const char *path, int s3, sbuf *out)
{
    if (!*path) {
        sbuf_addc(out, '/');
        return 0;
    }
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n && encode_part(p, n, !s3, out) < 0) return -1;
        p += n;
        if (*p == '/') {
            sbuf_addc(out, '/');
            p++;
        }
    }
    return 0;
}

typedef struct param {
    char *pair; /* owned: "name=value", both encoded */
    size_t name_len;
} param;

static int
param_cmp(const void *a, const void *b)
{
    const param *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->pair, y->pair, n);
    if (c) return c;
    if (x->name_len != y->name_len) return x->name_len < y->name_len ? -1 : 1;
    return strcmp(x->pair + x->name_len, y->pair + y->name_len); /* then by value */
}

/* canonical_query: parameters encoded the AWS way, sorted by name then
 * value, "name=" for a parameter without a value. */
static int
canonical_query(const char *q, sbuf *out)
{
    param ps[SIGV4_PARAMS];
    int n = 0, rc = -1;
    for (const char *p = q; *p;) {
        size_t len = strcspn(p, "&"), eq = strcspn(p, "=&");
        if (len) {
            sbuf b;
            sbuf_init(&b);
            if (n == SIGV4_PARAMS || encode_part(p, eq < len ? eq : len, 0, &b) < 0) {
                sbuf_free(&b);
                goto out;
            }
            size_t name_len = b.len;
            sbuf_addc(&b, '=');
            if (eq < len && encode_part(p + eq + 1, len - eq - 1, 0, &b) < 0) {
                sbuf_free(&b);
                goto out;
            }
            ps[n].pair = sbuf_steal(&b, NULL);
            ps[n++].name_len = name_len;
        }
        p += len + (p[len] == '&');
    }
    qsort(ps, (size_t)n, sizeof(*ps), param_cmp);
    for (int i = 0; i < n; i++) sbuf_printf(out, "%s%s", i ? "&" : "", ps[i].pair);
    rc = 0;
out:
    for (int i = 0; i < n; i++) free(ps[i].pair);
    return rc;
}

int
sigv4_canonical(const char *method, const char *path, const char *query, const sigv4_header *hdrs, int n,
                const char *payload_hash, int s3, sbuf *out)
{
    sbuf_printf(out, "%s\n", method);
    if (canonical_path(path, s3, out) < 0) return -1;
    sbuf_addc(out, '\n');
    if (canonical_query(query, out) < 0) return -1;
    sbuf_addc(out, '\n');
    for (int i = 0; i < n; i++) sbuf_printf(out, "%s:%s\n", hdrs[i].name, hdrs[i].value);
    sbuf_addc(out, '\n');
    for (int i = 0; i < n; i++) sbuf_printf(out, "%s%s", i ? ";" : "", hdrs[i].name);
    sbuf_printf(out, "\n%s", payload_hash);
    return 0;
}

static int
hmac_step(const unsigned char *key, size_t keylen, const char *msg, unsigned char out[CRYPTO_MAC_MAX])
{
    size_t n = 0;
    return crypto_hmac(CRYPTO_SHA256, key, keylen, msg, strlen(msg), out, &n);
}

int
sigv4_signature(const sigv4_spec *s, const char *amz_date, const char *canonical, size_t len, char sig[65])
{
    unsigned char k[CRYPTO_MAC_MAX], h[CRYPTO_MAC_MAX];
    char date[9], hex[65], secret[256], sts[512];
    size_t n = 0;
    int rc = -1;
    snprintf(date, sizeof(date), "%.8s", amz_date);
    if (crypto_digest(CRYPTO_SHA256, canonical, len, h, &n) < 0) goto out;
    crypto_hex(h, n, hex);
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, date, s->region,
             s->service, hex);
    if (snprintf(secret, sizeof(secret), "AWS4%s", s->secret_access_key) >= (int)sizeof(secret)) goto out;
    /* the signing key: date, region, service, "aws4_request", each an HMAC step */
    if (hmac_step((const unsigned char *)secret, strlen(secret), date, k) < 0 || hmac_step(k, 32, s->region, k) < 0 ||
        hmac_step(k, 32, s->service, k) < 0 || hmac_step(k, 32, "aws4_request", k) < 0 || hmac_step(k, 32, sts, h) < 0)
        goto out;
    crypto_hex(h, 32, sig);
    rc = 0;
out:
    explicit_bzero(secret, sizeof(secret));
    explicit_bzero(k, sizeof(k));
    return rc;
}

/* host_of copies url's host[:port] (lowercase; a default port dropped, as
 * libcurl's Host header does). */
static int
host_of(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    if (!p) return -1;
    int https = (size_t)(p - url) == 5 && !strncasecmp(url, "https", 5);
    p += 3;
    size_t n = strcspn(p, "/?#");
    if (n == 0 || n >= outlen) return -1;
    for (size_t i = 0; i < n; i++) out[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    out[n] = '\0';
    const char *dflt = https ? ":443" : ":80";
    size_t dl = strlen(dflt);
    if (n > dl && !strcmp(out + n - dl, dflt)) out[n - dl] = '\0';
    return 0;
}

int
sigv4_request(const sigv4_spec *s, const char *method, const char *url, const char *body, size_t body_len,
              time_t now, sigv4_out *out, char *err, size_t errlen)
{
    char host[512], path[4096], sig[65];
    unsigned char h[CRYPTO_MAC_MAX];
    size_t n = 0;
    struct tm tm;
    sbuf c;
    if (host_of(url, host, sizeof(host)) < 0) return errf(err, errlen, "aws_sigv4: no host in the URL");
    const char *p = strstr(url, "://") + 3;
    p += strcspn(p, "/?#");
    size_t pl = strcspn(p, "?#");
    if (pl >= sizeof(path)) return errf(err, errlen, "aws_sigv4: the path is too long to sign");
    memcpy(path, p, pl);
    path[pl] = '\0';
    const char *query = p[pl] == '?' ? p + pl + 1 : "";
    char qbuf[4096];
    snprintf(qbuf, sizeof(qbuf), "%.*s", (int)strcspn(query, "#"), query);
    gmtime_r(&now, &tm);
    strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm);
    if (crypto_digest(CRYPTO_SHA256, body ? body : "", body ? body_len : 0, h, &n) < 0)
        return errf(err, errlen, "aws_sigv4: SHA-256 failed");
    crypto_hex(h, n, out->content_sha256);
    sigv4_header hdrs[4] = {{"host", host}, {"x-amz-content-sha256", out->content_sha256},
                            {"x-amz-date", out->amz_date}, {"x-amz-security-token", s->session_token}};
    int nh = s->session_token ? 4 : 3;
    sbuf_init(&c);
    int rc = sigv4_canonical(method, path, qbuf, hdrs, nh, out->content_sha256, !strcmp(s->service, "s3"), &c);
    if (rc == 0) rc = sigv4_signature(s, out->amz_date, c.buf, c.len, sig);
    sbuf_free(&c);
    if (rc < 0) return errf(err, errlen, "aws_sigv4: the path or query cannot be signed (too long or malformed)");
    snprintf(out->authorization, sizeof(out->authorization),
             "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=host;x-amz-content-sha256;"
             "x-amz-date%s, Signature=%s",
             s->access_key_id, out->amz_date, s->region, s->service, s->session_token ? ";x-amz-security-token" : "",
             sig);
    return 0;
}

void
sigv4_spec_free(sigv4_spec *s)
{
    if (!s) return;
    free(s->region);
    free(s->service);
    free(s->access_key_id);
    if (s->secret_access_key) explicit_bzero(s->secret_access_key, strlen(s->secret_access_key));
    free(s->secret_access_key);
    if (s->session_token) explicit_bzero(s->session_token, strlen(s->session_token));
    free(s->session_token);
}
