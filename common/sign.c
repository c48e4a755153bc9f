/* sign.c - HMAC request signatures from templates; see sign.h. */
#include "fmacros.h"
#include "errf.h"
#include "sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const message_names[] = {"method", "path", "body", "timestamp", NULL};
static const char *const format_names[] = {"signature", "timestamp", NULL};

static int
known(const char *const *names, const char *p, size_t n)
{
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == n && memcmp(names[i], p, n) == 0) return 1;
    return 0;
}

int
sign_check_template(const char *t, int format, char *err, size_t errlen)
{
    const char *const *names = format ? format_names : message_names;
    int has_sig = 0;
    for (const char *p = t; (p = strpbrk(p, "{}")) != NULL;) {
        const char *end = *p == '{' ? strchr(p, '}') : NULL;
        if (!end) return errf(err, errlen, "unbalanced { or } at byte %zu", (size_t)(p - t));
        size_t n = (size_t)(end - p - 1);
        if (!known(names, p + 1, n))
            return errf(err, errlen, "unknown placeholder %.*s (use %s)", (int)(n + 2), p,
                        format ? "{signature} and {timestamp}" : "{method}, {path}, {body} and {timestamp}");
        if (n == 9 && !memcmp(p + 1, "signature", 9)) has_sig = 1;
        p = end + 1;
    }
    if (format && !has_sig) return errf(err, errlen, "must contain {signature}");
    return 0;
}

/* expand appends template t to sb, each placeholder replaced by
 * value(name) (the templates were checked when the file was read). */
static void
expand(const char *t, const sign_input *in, const char *sig, sbuf *sb)
{
    for (const char *p = t; *p;) {
        const char *open = strchr(p, '{'), *end = open ? strchr(open, '}') : NULL;
        if (!open || !end) {
            sbuf_adds(sb, p);
            return;
        }
        sbuf_add(sb, p, (size_t)(open - p));
        size_t n = (size_t)(end - open - 1);
        const char *name = open + 1;
        if (n == 6 && !memcmp(name, "method", 6)) sbuf_adds(sb, in->method);
        else if (n == 4 && !memcmp(name, "path", 4)) sbuf_adds(sb, in->path);
        else if (n == 4 && !memcmp(name, "body", 4)) sbuf_add(sb, in->body ? in->body : "", in->body ? in->body_len : 0);
        else if (n == 9 && !memcmp(name, "timestamp", 9)) sbuf_printf(sb, "%lld", in->timestamp);
        else if (n == 9 && !memcmp(name, "signature", 9) && sig) sbuf_adds(sb, sig);
        p = end + 1;
    }
}

void
sign_message(const sign_spec *s, const sign_input *in, sbuf *sb)
{
    expand(s->message, in, NULL, sb);
}

int
sign_value(const sign_spec *s, const sign_input *in, char *out, size_t outlen)
{
    unsigned char mac[CRYPTO_MAC_MAX];
    char enc[2 * CRYPTO_MAC_MAX + 1];
    size_t maclen = 0;
    sbuf msg, val;
    int rc = -1;
    sbuf_init(&msg);
    sbuf_init(&val);
    sign_message(s, in, &msg);
    if (crypto_hmac(s->md, s->key, strlen(s->key), msg.buf ? msg.buf : "", msg.len, mac, &maclen) < 0) goto out;
    if (s->encoding == SIGN_BASE64) {
        if (crypto_base64(mac, maclen, enc, sizeof(enc)) < 0) goto out;
    } else {
        crypto_hex(mac, maclen, enc);
    }
    expand(s->format, in, enc, &val);
    if (!val.buf || val.len + 1 > outlen) goto out;
    memcpy(out, val.buf, val.len + 1);
    rc = 0;
out:
    sbuf_free(&msg);
    sbuf_free(&val);
    return rc;
}

void
sign_spec_free(sign_spec *s)
{
    if (!s) return;
    if (s->key) {
        explicit_bzero(s->key, strlen(s->key));
        free(s->key);
    }
    free(s->message);
    free(s->header);
    free(s->format);
    free(s->timestamp_header);
}
