/* mask.c - secret masking of JSON trees and of credentials inside strings (SPEC §5, §10). */
#include "fmacros.h"
#include "mask.h"
#include "sbuf.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A word of a key is secret when it, or its plural, is one of these. */
static const char *const secret_words[] = {
    "password", "passwd", "pwd", "passphrase", "secret", "token", "key", "auth", "authorization",
    "cookie", "credential", "credentials", "signature",
};

/* A key is secret when, lowercased with separators removed, it is one of these. */
static const char *const secret_keys[] = {
    "apikey", "accesstoken", "authtoken", "privatekey", "secretkey", "clientsecret", "sessionid",
};

/* The envelope's own control fields name keys, they do not hold them. */
static const char *const never_secret[] = {"idempotencykey", "debouncekey", "expectedhash"};

#define NORM_MAX 128 /* longer keys skip the whole-key lists: none of their entries is that long */

static char **extras; /* normalised extra words from mask_set_extra */
static size_t nextras;

/* ---------------------------------------------------------------- Keys */

/* ASCII only, on purpose: a locale must not change what gets masked. */
static int is_lower(int c) { return c >= 'a' && c <= 'z'; }
static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alnum(int c) { return is_lower(c) || is_upper(c) || is_digit(c); }
static int to_lower(int c) { return is_upper(c) ? c + 32 : c; }

/* normalise lowercases s and drops everything but letters and digits.
 * Returns -1 when the result would not fit in out[NORM_MAX]. */
static int
normalise(const char *s, char *out)
{
    size_t n = 0;
    for (; *s; s++) {
        if (!is_alnum((unsigned char)*s)) continue;
        if (n + 1 >= NORM_MAX) return -1;
        out[n++] = (char)to_lower((unsigned char)*s);
    }
    out[n] = '\0';
    return 0;
}

static int
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0) return 1;
    return 0;
}

/* word_is says whether word[0..n) is w or its plural w+"s", ignoring case. */
static int
word_is(const char *word, size_t n, const char *w)
{
    size_t wl = strlen(w);
    if (n == wl) return strncasecmp(word, w, n) == 0;
    return n == wl + 1 && to_lower((unsigned char)word[wl]) == 's' && strncasecmp(word, w, wl) == 0;
}

static int
word_secret(const char *word, size_t n)
{
    for (size_t i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++)
        if (word_is(word, n, secret_words[i])) return 1;
    for (size_t i = 0; i < nextras; i++)
        if (word_is(word, n, extras[i])) return 1;
    return 0;
}

/* word_starts says whether a new word begins at k[i] (k[i-1] and k[i] are
 * both alphanumeric): camelCase (aK), the end of an acronym (APIKey: API|Key)
 * and letter/digit changes (token2), so password2 is still a password. */
static int
word_starts(const char *k, size_t i)
{
    int p = (unsigned char)k[i - 1], c = (unsigned char)k[i], nx = (unsigned char)k[i + 1];
    if (is_lower(p) && is_upper(c)) return 1;
    if (is_upper(p) && is_upper(c) && is_lower(nx)) return 1;
    return is_digit(p) != is_digit(c);
}

static int
any_word_secret(const char *key)
{
    size_t i = 0;
    while (key[i]) {
        if (!is_alnum((unsigned char)key[i])) {
            i++;
            continue;
        }
        size_t start = i++;
        while (key[i] && is_alnum((unsigned char)key[i]) && !word_starts(key, i)) i++;
        if (word_secret(key + start, i - start)) return 1;
    }
    return 0;
}

int
mask_key_is_secret(const char *key)
{
    char norm[NORM_MAX];
    if (!key) return 0;
    if (normalise(key, norm) == 0) {
        if (in_list(norm, never_secret, sizeof(never_secret) / sizeof(never_secret[0]))) return 0;
        if (in_list(norm, secret_keys, sizeof(secret_keys) / sizeof(secret_keys[0]))) return 1;
        if (in_list(norm, (const char *const *)extras, nextras)) return 1;
    }
    return any_word_secret(key);
}

static void
clear_extras(void)
{
    for (size_t i = 0; i < nextras; i++) free(extras[i]);
    free(extras);
    extras = NULL;
    nextras = 0;
}

void
mask_set_extra(const char *csv)
{
    clear_extras();
    if (!csv) return;
    extras = xcalloc(strlen(csv) / 2 + 1, sizeof(*extras)); /* at most one word per two bytes */
    for (const char *p = csv; *p;) {
        size_t n = strcspn(p, ",");
        char word[NORM_MAX], *raw = xstrndup(p, n);
        if (normalise(raw, word) == 0 && word[0]) extras[nextras++] = xstrdup(word);
        free(raw);
        p += n;
        if (*p == ',') p++;
    }
}

/* ---------------------------------------------------------------- Strings */

/* Each scrubber copies s into b, masking what it finds, and returns how many
 * secrets it replaced. They run one after another on the previous output. */

static int
is_url_end(int c)
{
    return c == '\0' || c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' ||
           c == '\r' || c == '"' || c == '\'' || c == '<' || c == '>';
}

/* scrub_userinfo masks scheme://user:PW@host (the password) and
 * scheme://TOKEN@host (a lone userinfo is usually a token, e.g. GitHub's). */
static int
scrub_userinfo(const char *s, sbuf *b)
{
    int n = 0;
    const char *p = s, *sep;
    while ((sep = strstr(p, "://")) != NULL) {
        const char *auth = sep + 3, *end = auth, *at = NULL;
        for (; !is_url_end((unsigned char)*end); end++)
            if (*end == '@') at = end;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        const char *from = colon ? colon + 1 : auth;
        sbuf_add(b, p, (size_t)(auth - p));
        if (at && at > from && !(at - from == 8 && memcmp(from, MASK_VALUE, 8) == 0)) {
            sbuf_add(b, auth, (size_t)(from - auth));
            sbuf_adds(b, MASK_VALUE);
            sbuf_add(b, at, (size_t)(end - at));
            n++;
        } else sbuf_add(b, auth, (size_t)(end - auth));
        p = end;
    }
    sbuf_adds(b, p);
    return n;
}

static int
is_param_char(int c)
{
    return is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '[' || c == ']';
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
    char name[NORM_MAX];
    while (is_param_char((unsigned char)s[nl])) nl++;
    if (nl == 0 || nl >= sizeof(name) || s[nl] != '=') return 0;
    memcpy(name, s, nl);
    name[nl] = '\0';
    if (!mask_key_is_secret(name)) return 0;
    while (!is_value_end((unsigned char)s[nl + 1 + vl])) vl++;
    sbuf_add(b, s, nl + 1);
    if (vl > 0 && !(vl == 8 && memcmp(s + nl + 1, MASK_VALUE, 8) == 0)) (*n)++;
    if (vl > 0) sbuf_adds(b, MASK_VALUE);
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

/* mask_pair masks the value of "name": "value" at s[0] when name is secret.
 * Returns the bytes consumed (0 when s does not start a secret pair). The
 * name is checked before the value is looked at, and a secret value without
 * its closing quote is masked to the end, so each byte is read a bounded
 * number of times: a hostile 1 MiB string cannot make this quadratic. */
static size_t
mask_pair(const char *s, sbuf *b, int *n)
{
    char name[NORM_MAX];
    size_t nl;
    const char *p, *v;
    if (*s != '"' || (nl = strcspn(s + 1, "\"\\")) == 0 || nl >= sizeof(name) || s[1 + nl] != '"') return 0;
    p = s + 2 + nl;
    p += strspn(p, " \t");
    if (*p++ != ':') return 0;
    p += strspn(p, " \t");
    if (*p != '"') return 0;
    memcpy(name, s + 1, nl);
    name[nl] = '\0';
    if (!mask_key_is_secret(name)) return 0;
    for (v = ++p; *p && *p != '"'; p += *p == '\\' && p[1] ? 2 : 1) continue;
    if (p == v) return 0; /* empty: nothing to hide */
    sbuf_add(b, s, (size_t)(v - s));
    sbuf_adds(b, MASK_VALUE);
    if (!(p - v == 8 && memcmp(v, MASK_VALUE, 8) == 0)) (*n)++;
    return (size_t)(p - s); /* the closing quote, if any, is copied by the caller */
}

/* scrub_pairs masks "password": "x" pairs inside text: a JSON body quoted in
 * an error message is text, not a tree, by the time it reaches us. */
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
        sbuf_adds(b, MASK_VALUE);
        if (!(t == 8 && memcmp(s + i + k, MASK_VALUE, 8) == 0)) n++;
        i += k + t;
    }
    return n;
}

char *
mask_string(const char *s)
{
    int (*const steps[])(const char *, sbuf *) = {scrub_userinfo, scrub_params, scrub_pairs, scrub_auth};
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

/* ---------------------------------------------------------------- Trees */

/* mask_all replaces every leaf under v (v itself when it is a leaf) with the
 * mask, keeping arrays and objects so the shape stays visible. */
static int
mask_all(json *parent, json *v)
{
    json_type t = json_typeof(v);
    int n = 0;
    if (t == JSON_ARRAY || t == JSON_OBJECT) {
        for (json *c = json_child(v), *next; c; c = next) {
            next = json_next(c);
            n += mask_all(v, c);
        }
        return n;
    }
    if (t == JSON_STRING && strcmp(json_str(v), MASK_VALUE) == 0) return 0;
    json_replace(parent, v, json_new_string(MASK_VALUE));
    return 1;
}

static int
scrub_value(json *parent, json *v)
{
    char *m = mask_string(json_str(v));
    if (!m) return 0;
    json_replace(parent, v, json_new_string(m));
    free(m);
    return 1;
}

int
mask_tree(json *n)
{
    int changed = 0, is_obj = json_typeof(n) == JSON_OBJECT;
    for (json *c = json_child(n), *next; c; c = next) {
        json_type t = json_typeof(c);
        next = json_next(c); /* json_replace frees c */
        if (is_obj && mask_key_is_secret(json_key(c))) changed += mask_all(n, c);
        else if (t == JSON_STRING) changed += scrub_value(n, c);
        else if (t == JSON_ARRAY || t == JSON_OBJECT) changed += mask_tree(c);
    }
    return changed;
}

char *
mask_json_text(const char *s, size_t n)
{
    char err[128];
    json *root = json_parse(s, n, err, sizeof(err));
    char *out = NULL;
    if (!root) return NULL;
    if (json_typeof(root) == JSON_STRING) {
        char *m = mask_string(json_str(root));
        if (m) {
            json_free(root);
            root = json_new_string(m);
            free(m);
        }
    } else mask_tree(root);
    out = json_print(root);
    json_free(root);
    return out;
}
