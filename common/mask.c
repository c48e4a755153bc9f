/* mask.c - which keys name secrets (docs/MASKING.md), and masking of JSON trees. */
#include "fmacros.h"
#include "mask.h"
#include "utf8.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The rules are the table in docs/MASKING.md; keep both in step. */

/* A word anywhere in a key makes it secret, alone or as its plural. */
static const char *const secret_words[] = {
    "password", "passwd", "pwd", "pass", "pw", "passphrase", "passcode", "secret", "token", "authorization",
    "bearer", "jwt", "otp", "cookie", "credential", "signature",
};

/* These words name a secret only as the key's last word (digits aside):
 * api_key, x-auth and user_session hold one, auth_method, key_id and
 * session_timeout describe one. */
static const char *const head_words[] = {"auth", "key", "session"};

/* A key is secret when, lowercased with separators removed (and one
 * trailing s dropped), it ends with one of these: x-apikey, stripeApikey,
 * user_accesstoken, a 200-byte name ending _apikey. */
static const char *const secret_suffixes[] = {
    "password", "passwd", "passphrase", "passcode", "apikey", "accesstoken", "refreshtoken", "authtoken",
    "sessiontoken", "bearertoken", "privatekey", "secretkey", "clientsecret", "sessionid",
};

/* The envelope's own control fields name keys, they do not hold them. */
static const char *const never_secret[] = {"idempotencykey", "debouncekey", "expectedhash"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char **extras; /* normalised extra words from mask_set_extra */
static size_t nextras;

/* ---------------------------------------------------------------- Folding */

/* ASCII only, on purpose: a locale must not change what gets masked. */
static int is_lower(int c) { return c >= 'a' && c <= 'z'; }
static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alnum(int c) { return is_lower(c) || is_upper(c) || is_digit(c); }
static int to_lower(int c) { return is_upper(c) ? c + 32 : c; }

/* Letters that look like ASCII ones (Cyrillic, Greek, dotless i, long s):
 * "pаssword" with a Cyrillic а must not pass for a harmless key. */
static const struct { unsigned cp; char ascii; } lookalikes[] = {
    {0x0131, 'i'}, {0x017F, 's'}, {0x0391, 'A'}, {0x0392, 'B'}, {0x0395, 'E'}, {0x0396, 'Z'}, {0x0397, 'H'},
    {0x0399, 'I'}, {0x039A, 'K'}, {0x039C, 'M'}, {0x039D, 'N'}, {0x039F, 'O'}, {0x03A1, 'P'}, {0x03A4, 'T'},
    {0x03A5, 'Y'}, {0x03A7, 'X'}, {0x03B1, 'a'}, {0x03B5, 'e'}, {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03BD, 'v'},
    {0x03BF, 'o'}, {0x03C1, 'p'}, {0x03C4, 't'}, {0x03C5, 'u'}, {0x03C7, 'x'}, {0x0405, 'S'}, {0x0406, 'I'},
    {0x0408, 'J'}, {0x0410, 'A'}, {0x0412, 'B'}, {0x0415, 'E'}, {0x041A, 'K'}, {0x041C, 'M'}, {0x041D, 'H'},
    {0x041E, 'O'}, {0x0420, 'P'}, {0x0421, 'C'}, {0x0422, 'T'}, {0x0423, 'Y'}, {0x0425, 'X'}, {0x0430, 'a'},
    {0x0435, 'e'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'}, {0x0443, 'y'}, {0x0445, 'x'}, {0x0455, 's'},
    {0x0456, 'i'}, {0x0458, 'j'}, {0x04BB, 'h'}, {0x04CF, 'l'}, {0x0501, 'd'}, {0x051A, 'Q'}, {0x051B, 'q'},
    {0x051C, 'W'}, {0x051D, 'w'},
};

/* invisible says whether cp draws nothing (combining marks, zero-width and
 * bidi controls, soft hyphen): dropped, so "pass\u200Bword" is "password". */
static int
invisible(unsigned cp)
{
    return cp == 0xAD || (cp >= 0x300 && cp <= 0x36F) || cp == 0x34F || cp == 0x180E ||
           (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) ||
           cp == 0xFEFF;
}

/* fold_cp maps a code point to the ASCII character NFKC and the eye would
 * see (full-width, circled and mathematical letters, lookalikes), 0 to drop
 * it, or ' ' (a word separator) for anything else. */
static int
fold_cp(unsigned cp)
{
    if (invisible(cp)) return 0;
    if (cp >= 0xFF01 && cp <= 0xFF5E) return (int)(cp - 0xFF01 + 0x21);
    if (cp >= 0x24B6 && cp <= 0x24CF) return (int)('A' + cp - 0x24B6);
    if (cp >= 0x24D0 && cp <= 0x24E9) return (int)('a' + cp - 0x24D0);
    if (cp >= 0x1D400 && cp <= 0x1D6A3) { /* 13 alphabets of A-Z a-z */
        unsigned k = (cp - 0x1D400) % 52;
        return k < 26 ? (int)('A' + k) : (int)('a' + k - 26);
    }
    if (cp >= 0x1D7CE && cp <= 0x1D7FF) return (int)('0' + (cp - 0x1D7CE) % 10);
    for (size_t i = 0; i < NELEM(lookalikes); i++)
        if (lookalikes[i].cp == cp) return lookalikes[i].ascii;
    return ' ';
}

/* fold copies key into out (at least strlen(key)+1 bytes) as ASCII: every
 * UTF-8 sequence is at least as long as what it folds to. Bytes that are not
 * UTF-8 become separators. */
static void
fold(const char *key, char *out)
{
    const unsigned char *p = (const unsigned char *)key;
    size_t n = strlen(key), i = 0, o = 0;
    while (i < n) {
        size_t l = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, n - i);
        int c = l == 1 ? p[i] : l ? fold_cp(utf8_decode(p + i, l)) : ' ';
        if (c) out[o++] = (char)c;
        i += l ? l : 1;
    }
    out[o] = '\0';
}

/* ---------------------------------------------------------------- Words */

static int
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0) return 1;
    return 0;
}

/* word_is says whether word[0..n) (lowercase) is w or its plural w+"s". */
static int
word_is(const char *word, size_t n, const char *w)
{
    size_t wl = strlen(w);
    if (n == wl) return memcmp(word, w, n) == 0;
    return n == wl + 1 && word[wl] == 's' && memcmp(word, w, wl) == 0;
}

static int
word_in(const char *word, size_t n, const char *const *list, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (word_is(word, n, list[i])) return 1;
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

/* words_secret splits the folded key k into words and applies the word
 * lists; k is lowercased in place as it goes. */
static int
words_secret(char *k)
{
    int last_head = 0;
    size_t i = 0;
    while (k[i]) {
        if (!is_alnum((unsigned char)k[i])) {
            i++;
            continue;
        }
        size_t start = i++;
        while (k[i] && is_alnum((unsigned char)k[i]) && !word_starts(k, i)) i++;
        for (size_t j = start; j < i; j++) k[j] = (char)to_lower((unsigned char)k[j]);
        const char *w = k + start;
        size_t n = i - start;
        if (word_in(w, n, secret_words, NELEM(secret_words))) return 1;
        if (word_in(w, n, (const char *const *)extras, nextras)) return 1;
        if (!is_digit((unsigned char)*w)) last_head = word_in(w, n, head_words, NELEM(head_words));
    }
    return last_head;
}

/* normalise keeps the letters and digits of k, lowercased, in place. */
static void
normalise(char *k)
{
    size_t o = 0;
    for (size_t i = 0; k[i]; i++)
        if (is_alnum((unsigned char)k[i])) k[o++] = (char)to_lower((unsigned char)k[i]);
    k[o] = '\0';
}

static int
ends_with(const char *s, size_t n, const char *suffix)
{
    size_t l = strlen(suffix);
    return n >= l && memcmp(s + n - l, suffix, l) == 0;
}

static int
suffix_secret(const char *norm)
{
    size_t n = strlen(norm);
    for (int plural = 0; plural < 2; plural++) {
        for (size_t i = 0; i < NELEM(secret_suffixes); i++)
            if (ends_with(norm, n, secret_suffixes[i])) return 1;
        if (n == 0 || norm[n - 1] != 's') break;
        n--;
    }
    return in_list(norm, (const char *const *)extras, nextras);
}

int
mask_key_is_secret(const char *key)
{
    char small[256], *k, *norm;
    int secret;
    if (!key) return 0;
    size_t n = strlen(key);
    k = n < sizeof(small) / 2 ? small : xmalloc(2 * (n + 1));
    norm = k + n + 1;
    fold(key, k);
    strcpy(norm, k);
    normalise(norm);
    if (in_list(norm, never_secret, NELEM(never_secret))) secret = 0;
    else secret = suffix_secret(norm) || words_secret(k);
    if (k != small) free(k);
    return secret;
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
        char *word = xmalloc(n + 1);
        memcpy(word, p, n);
        word[n] = '\0';
        normalise(word);
        if (word[0]) extras[nextras++] = word;
        else free(word);
        p += n;
        if (*p == ',') p++;
    }
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

char *
mask_excerpt(const char *body, size_t n, size_t max)
{
    char *out = n && n <= MASK_JSON_MAX ? mask_json_text(body, n) : NULL;
    if (!out) {
        char *text = xmalloc(n + 1), *m;
        if (n) memcpy(text, body, n);
        text[n] = '\0'; /* a NUL inside ends the text: what follows is dropped, never stored */
        m = mask_string(text);
        if (m) {
            free(text);
            text = m;
        }
        out = text;
    }
    size_t len = strlen(out);
    if (len > max) {
        while (max > 0 && ((unsigned char)out[max] & 0xC0) == 0x80) max--;
        out[max] = '\0';
    }
    return out;
}

char *
mask_job_result(const char *s)
{
    char *m = mask_json_text(s, strlen(s));
    return m ? m : mask_string(s);
}
