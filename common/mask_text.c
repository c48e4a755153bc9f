/* mask_text.c - credentials inside text: known secret values, URL userinfo,
 * secret parameters, quoted pairs, "Name: value" lines and auth schemes.
 * Each pattern is a row of the table in docs/MASKING.md. */
#include "fmacros.h"
#include "mask.h"
#include "pct.h"
#include "sbuf.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_BYTES 200 /* longer quoted or "name:" names are not looked at: keeps scans linear */
#define MASK_LEN 8

static int is_alnum(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

static int is_masked(const char *v, size_t n) { return n == MASK_LEN && memcmp(v, MASK_VALUE, MASK_LEN) == 0; }

/* put appends the mask for v[0..n) and counts it unless v was the mask. */
static void
put_mask(sbuf *b, const char *v, size_t n, int *count)
{
    sbuf_adds(b, MASK_VALUE);
    if (!is_masked(v, n)) (*count)++;
}

/* ---------------------------------------------------------------- Known values */

static char **known; /* owned copies, longest first, so a value never leaves a tail of a longer one */
static size_t nknown;

void
mask_secret_add(const char *value)
{
    size_t n = value ? strlen(value) : 0, at = 0;
    if (n < MASK_SECRET_MIN) return;
    for (size_t i = 0; i < nknown; i++)
        if (strcmp(known[i], value) == 0) return;
    while (at < nknown && strlen(known[at]) >= n) at++;
    known = xrealloc(known, (nknown + 1) * sizeof(*known));
    memmove(known + at + 1, known + at, (nknown - at) * sizeof(*known));
    known[at] = xstrdup(value);
    nknown++;
}

void
mask_secret_forget(const char *value)
{
    for (size_t i = 0; value && i < nknown; i++) {
        if (strcmp(known[i], value) != 0) continue;
        explicit_bzero(known[i], strlen(known[i]));
        free(known[i]);
        memmove(known + i, known + i + 1, (nknown - i - 1) * sizeof(*known));
        nknown--;
        return;
    }
}

void
mask_secret_clear(void)
{
    for (size_t i = 0; i < nknown; i++) free(known[i]);
    free(known);
    known = NULL;
    nknown = 0;
}

static size_t
known_at(const char *s)
{
    for (size_t i = 0; i < nknown; i++) {
        size_t n = strlen(known[i]);
        if (known[i][0] == s[0] && strncmp(s, known[i], n) == 0) return n;
    }
    return 0;
}

static int
scrub_known(const char *s, sbuf *b)
{
    int n = 0;
    size_t i = 0;
    while (s[i]) {
        size_t used = nknown ? known_at(s + i) : 0;
        if (!used) {
            sbuf_addc(b, s[i++]);
            continue;
        }
        sbuf_adds(b, MASK_VALUE);
        n++;
        i += used;
    }
    return n;
}

/* ---------------------------------------------------------------- URL userinfo */

/* Characters that end a URL-ish token; '@' and ':' do not. */
static int
is_token_stop(int c)
{
    return c == '\0' || strchr(" \t\r\n\"'<>/\\`(){}[],", c) != NULL;
}

static int
is_user_char(int c)
{
    return is_alnum(c) || strchr("._~+%-", c) != NULL;
}

/* bare_user_ok: user[0..n) may be the user of a bare user:PW@host (git:PW@host:repo),
 * not a scheme whose address happens to look like one (mailto:a@b). */
static int
bare_user_ok(const char *user, size_t n)
{
    static const char *const schemes[] = {"mailto", "sip", "sips", "xmpp", "tel"};
    if (n == 0) return 0;
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strlen(schemes[i]) == n && strncasecmp(user, schemes[i], n) == 0) return 0;
    return 1;
}

/* userinfo masks the password of the token t[0..n) when it holds
 * user:PW@host, or all of the userinfo of //TOKEN@host (after "//", a lone
 * userinfo is usually a token, e.g. GitHub's). Without "//" the user is the
 * run of user characters before the colon (dsn=app:PW@db) and a host must
 * follow. Returns 1 when it wrote the token. */
static int
userinfo(const char *t, size_t n, int after_slashes, sbuf *b, int *count)
{
    const char *at = NULL, *colon, *user;
    for (size_t i = 0; i < n; i++)
        if (t[i] == '@') at = t + i; /* the last one: u:p@ss@host has the password p@ss */
    if (!at) return 0;
    colon = memchr(t, ':', (size_t)(at - t));
    if (!after_slashes) {
        if (!colon || !is_alnum((unsigned char)at[1])) return 0;
        for (user = colon; user > t && is_user_char((unsigned char)user[-1]); user--) continue;
        if (!bare_user_ok(user, (size_t)(colon - user))) return 0;
    }
    const char *from = colon ? colon + 1 : t;
    if (at == from) return 0; /* empty: nothing to hide */
    sbuf_add(b, t, (size_t)(from - t));
    put_mask(b, from, (size_t)(at - from), count);
    sbuf_add(b, at, (size_t)(t + n - at));
    return 1;
}

static int
scrub_userinfo(const char *s, sbuf *b)
{
    int n = 0;
    size_t i = 0;
    while (s[i]) {
        if (is_token_stop((unsigned char)s[i])) {
            sbuf_addc(b, s[i++]);
            continue;
        }
        size_t start = i;
        while (!is_token_stop((unsigned char)s[i])) i++;
        int slashes = start >= 2 && s[start - 1] == '/' && s[start - 2] == '/';
        if (!userinfo(s + start, i - start, slashes, b, &n)) sbuf_add(b, s + start, i - start);
    }
    return n;
}

/* ---------------------------------------------------------------- name=value */

static int
is_param_char(int c)
{
    return is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '[' || c == ']' || c == '%';
}

static int
is_value_end(int c)
{
    return c == '\0' || c == '&' || c == ';' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           c == '"' || c == '\'' || c == ',';
}

/* mask_param masks the value of name=value at s[0] when name is secret.
 * Returns the bytes consumed (0 when s does not start a secret parameter). */
static size_t
mask_param(const char *s, sbuf *b, int *n)
{
    size_t nl = 0, vl = 0;
    char name[NAME_MAX_BYTES + 1];
    while (nl <= NAME_MAX_BYTES && is_param_char((unsigned char)s[nl])) nl++;
    if (nl == 0 || nl > NAME_MAX_BYTES || s[nl] != '=') return 0;
    /* ?%74oken=C is ?token=C to the server that reads it; "%zz" stays as sent */
    (void)pct_decode(s, nl, PCT_LENIENT | PCT_NUL_OK, name, sizeof(name)); /* nl < sizeof(name): fits */
    if (!mask_key_is_secret(name)) return 0;
    while (!is_value_end((unsigned char)s[nl + 1 + vl])) vl++;
    sbuf_add(b, s, nl + 1);
    if (vl > 0) put_mask(b, s + nl + 1, vl, n);
    return nl + 1 + vl;
}

/* scrub_params masks access_token=X style query and form parameters. A
 * parameter starts the string or follows one of ?&; or whitespace. */
static int
scrub_params(const char *s, sbuf *b)
{
    int n = 0;
    size_t i = 0;
    while (s[i]) {
        int starts = i == 0 || strchr("?&; \t\n\r,\"'", s[i - 1]) != NULL;
        size_t used = starts ? mask_param(s + i, b, &n) : 0;
        if (used) i += used;
        else sbuf_addc(b, s[i++]);
    }
    return n;
}

/* ---------------------------------------------------------------- "name": value */

static void
put_utf8(char *out, size_t *o, unsigned cp)
{
    if (cp < 0x80) out[(*o)++] = (char)cp;
    else if (cp < 0x800) {
        out[(*o)++] = (char)(0xC0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*o)++] = (char)(0xE0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* quoted_name reads the name quoted by q at s[0] into out[3*NAME_MAX_BYTES+1],
 * decoding escapes (\u0077 is w: {"pass\u0077ord":...} is a password).
 * Returns the bytes up to and including the closing quote, 0 if none within
 * NAME_MAX_BYTES. */
static size_t
quoted_name(const char *s, char q, char *out)
{
    size_t i = 1, o = 0;
    while (i <= NAME_MAX_BYTES && s[i] && s[i] != q) {
        unsigned cp = 0;
        int ok = 1;
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        if (s[i + 1] == 'u') {
            for (int k = 2; k < 6 && ok; k++) ok = pct_hexval((unsigned char)s[i + k]) >= 0;
            for (int k = 2; k < 6 && ok; k++) cp = cp * 16 + (unsigned)pct_hexval((unsigned char)s[i + k]);
            if (ok) {
                put_utf8(out, &o, cp ? cp : ' ');
                i += 6;
                continue;
            }
        }
        if (!s[i + 1]) return 0;
        out[o++] = s[i + 1]; /* \" \' \\ \/ and friends: the character itself */
        i += 2;
    }
    out[o] = '\0';
    return s[i] == q ? i + 1 : 0;
}

/* value_len returns the length of the value at v: a string quoted by " or '
 * (to its closing quote, escapes skipped, or to the end when it is cut) or a
 * bare literal (number, true, null) up to a delimiter. */
static size_t
value_len(const char *v, int *quoted)
{
    size_t i;
    *quoted = *v == '"' || *v == '\'';
    if (*quoted) {
        for (i = 1; v[i] && v[i] != *v; i += v[i] == '\\' && v[i + 1] ? 2 : 1) continue;
        return i;
    }
    if (*v == '{' || *v == '[') return 0; /* a container: its own members are looked at */
    for (i = 0; v[i] && !strchr(",}] \t\r\n", v[i]); i++) continue;
    return i;
}

/* mask_pair masks the value of "name": value (or 'name': 'value', Python's
 * repr) at s[0] when name is secret. Returns the bytes consumed (0 when s
 * does not start a secret pair). The name is checked before the value is
 * looked at, and a quoted value without its closing quote is masked to the
 * end, so each byte is read a bounded number of times. */
static size_t
mask_pair(const char *s, sbuf *b, int *n)
{
    char name[3 * NAME_MAX_BYTES + 1];
    int quoted;
    if (*s != '"' && *s != '\'') return 0;
    size_t nl = quoted_name(s, *s, name);
    if (nl <= 2) return 0;
    const char *p = s + nl;
    p += strspn(p, " \t");
    if (*p++ != ':') return 0;
    p += strspn(p, " \t");
    if (!mask_key_is_secret(name)) return 0;
    size_t vl = value_len(p, &quoted);
    const char *v = p + quoted;
    size_t inner = vl - (size_t)quoted;
    if (inner == 0) return 0; /* empty: nothing to hide */
    sbuf_add(b, s, (size_t)(v - s));
    put_mask(b, v, inner, n);
    return (size_t)(v + inner - s); /* the closing quote, if any, is copied by the caller */
}

static int
scrub_pairs(const char *s, sbuf *b)
{
    int n = 0;
    size_t i = 0;
    while (s[i]) {
        size_t used = mask_pair(s + i, b, &n);
        if (used) i += used;
        else sbuf_addc(b, s[i++]);
    }
    return n;
}

/* ---------------------------------------------------------------- Name: value lines */

static int
is_line_name_char(int c)
{
    return is_alnum(c) || c == '_' || c == '-' || c == '.' || c >= 0x80;
}

/* scheme_len returns the length of an authorization scheme word and its
 * blanks at v ("Bearer ", "token "), 0 if none: it stays readable. */
static size_t
scheme_len(const char *v)
{
    static const char *const schemes[] = {"bearer", "basic", "token", "digest", "negotiate", "apikey"};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i]);
        if (strncasecmp(v, schemes[i], n) == 0 && (v[n] == ' ' || v[n] == '\t')) return n + strspn(v + n, " \t");
    }
    return 0;
}

/* mask_line masks the value of "Name: value" at s[0] when Name is secret: a
 * header line (Authorization: token C, Cookie: sid=C, Bearer:C) or a YAML
 * mapping (password: C). The value runs to the end of the line, or to the
 * quote that opened the name (-H 'X-Api-Key: C'); a leading scheme word
 * (Bearer, token) is kept. Returns the bytes consumed. */
static size_t
mask_line(const char *s, char quote, sbuf *b, int *n)
{
    char name[NAME_MAX_BYTES + 1];
    size_t nl = 0, vl;
    while (nl <= NAME_MAX_BYTES && is_line_name_char((unsigned char)s[nl])) nl++;
    if (nl == 0 || nl > NAME_MAX_BYTES || s[nl] != ':' || s[nl + 1] == '/' || s[nl + 1] == ':') return 0;
    memcpy(name, s, nl);
    name[nl] = '\0';
    if (!mask_key_is_secret(name)) return 0;
    const char *v = s + nl + 1;
    v += strspn(v, " \t");
    v += scheme_len(v);
    vl = quote ? strcspn(v, (char[]){quote, '\r', '\n', '\0'}) : strcspn(v, "\r\n");
    if (vl == 0) return 0;
    sbuf_add(b, s, (size_t)(v - s));
    put_mask(b, v, vl, n);
    return (size_t)(v + vl - s);
}

static int
scrub_lines(const char *s, sbuf *b)
{
    int n = 0;
    size_t i = 0;
    while (s[i]) {
        char prev = i ? s[i - 1] : '\n';
        int starts = strchr("\n\r\t {,;([\"'", prev) != NULL;
        size_t used = starts ? mask_line(s + i, prev == '"' || prev == '\'' ? prev : 0, b, &n) : 0;
        if (used) i += used;
        else sbuf_addc(b, s[i++]);
    }
    return n;
}

/* ---------------------------------------------------------------- Auth schemes */

static int
is_token_char(int c)
{
    return c > ' ' && c != '"' && c != '\'' && c != ',' && c != ';' && c != 0x7f;
}

/* auth_scheme returns the length of "Bearer"/"Basic" at s[i] plus its blanks,
 * or 0. "Basic" is a common English word, so it only counts where a header
 * value begins (start of string, or after ':', '=' or a quote); "Bearer"
 * followed by a word is an authorization almost everywhere. */
static size_t
auth_scheme(const char *s, size_t i)
{
    size_t k, j = i;
    if (i > 0 && is_alnum((unsigned char)s[i - 1])) return 0;
    if (strncasecmp(s + i, "bearer", 6) == 0) k = 6;
    else if (strncasecmp(s + i, "basic", 5) == 0) {
        while (j > 0 && (s[j - 1] == ' ' || s[j - 1] == '\t')) j--;
        if (j > 0 && !strchr(":=\"'", s[j - 1])) return 0;
        k = 5;
    } else return 0;
    if (s[i + k] != ' ' && s[i + k] != '\t') return 0;
    while (s[i + k] == ' ' || s[i + k] == '\t') k++;
    return k;
}

static int
scrub_auth(const char *s, sbuf *b)
{
    int n = 0;
    size_t i = 0;
    while (s[i]) {
        size_t k = auth_scheme(s, i), t = 0;
        while (k && is_token_char((unsigned char)s[i + k + t])) t++;
        if (!k || !t) {
            sbuf_addc(b, s[i++]);
            continue;
        }
        sbuf_add(b, s + i, k);
        put_mask(b, s + i + k, t, &n);
        i += k + t;
    }
    return n;
}

/* ---------------------------------------------------------------- All of them */

char *
mask_string(const char *s)
{
    /* Known values first: they may hold any character the patterns stop at. */
    int (*const steps[])(const char *, sbuf *) = {scrub_known, scrub_userinfo, scrub_params,
                                                  scrub_pairs, scrub_lines,    scrub_auth};
    char *cur = NULL;
    int changed = 0;
    if (!s) return NULL;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        sbuf b;
        sbuf_init(&b);
        changed += steps[i](cur ? cur : s, &b);
        free(cur);
        cur = sbuf_steal(&b, NULL);
    }
    if (changed) return cur;
    free(cur);
    return NULL;
}

void
mask_in_place(char *buf, size_t size)
{
    char *m = size ? mask_string(buf) : NULL;
    if (!m) return;
    snprintf(buf, size, "%s", m);
    free(m);
}
