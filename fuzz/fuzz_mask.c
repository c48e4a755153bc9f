/* fuzz_mask.c - libFuzzer harness for the masker (common/mask.c). The input
 * is JSON text as a producer or an HTTP service would send it; a first line
 * "#extra=a,b\n" installs extra secret words first (SYNCQ_MASK_KEYS).
 * Properties, each an abort when violated:
 *   1. mask_json_text gives text exactly when the input is JSON, and that
 *      text is JSON again (read with json_parse, the project's reader);
 *   2. every value under a key that mask_key_is_secret names secret is
 *      masked: each leaf below it is MASK_VALUE (the masker's own notion of
 *      a secret key, so this holds whatever its word lists become);
 *   3. no canary survives: the harness adds canary values under well-known
 *      secret keys in every object (strings and a nested object), and
 *      appends canaries in the forms mask.h promises to scrub inside strings
 *      (URL userinfo, a secret query parameter, a Bearer token, a quoted
 *      "password": "..." pair) to every string, then masks the printed tree:
 *      the canary text must be gone from the output. */
#include "fmacros.h"
#include "fuzz.h"
#include "json.h"
#include "mask.h"

#include <string.h>

#define CANARY "sqcanary" /* every canary holds this; an input already holding it is not canaried */
#define EXTRA_PREFIX "#extra="
#define MAX_INJECT 64 /* objects and strings canaried per input: bounds the work on big inputs */

/* Keys no masker may let through: the and the README's examples. */
static const char *const canary_keys[] = {"password", "api_key", "access_token", "client_secret", "Authorization",
                                          "secret", "token", "privateKey"};

/* In-string forms (prefix, suffix around the canary), each on its own line
 * after the string's own text, as in a log line or an error body. */
static const char *const canary_forms[][2] = {
    {"https://user:", "@example.com/path"},
    {"https://example.com/cb?state=1&access_token=", "&x=1"},
    {"Authorization: Bearer ", ""},
    {"{\"password\": \"", "\"}"},
};

/* ---------------------------------------------------------------- 2: secret keys */

static void
check_all_masked(const json *v, const char *key)
{
    json_type t = json_typeof(v);
    if (t == JSON_OBJECT || t == JSON_ARRAY) {
        for (const json *c = json_child(v); c; c = json_next(c)) check_all_masked(c, key);
        return;
    }
    FUZZ_CHECK(t == JSON_STRING && strcmp(json_str(v), MASK_VALUE) == 0,
               "a value under the secret key \"%s\" is not masked (type %d, \"%s\")", key, (int)t,
               t == JSON_STRING ? json_str(v) : "");
}

static void
check_secrets_masked(const json *n)
{
    int is_obj = json_typeof(n) == JSON_OBJECT;
    for (const json *c = json_child(n); c; c = json_next(c)) {
        if (is_obj && mask_key_is_secret(json_key(c))) check_all_masked(c, json_key(c));
        else check_secrets_masked(c);
    }
}

/* ---------------------------------------------------------------- 3: canaries */

typedef struct inject {
    int objects, strings, serial;
} inject;

static void
canary_members(json *obj, inject *in)
{
    char val[64];
    for (size_t i = 0; i < sizeof(canary_keys) / sizeof(canary_keys[0]); i++) {
        snprintf(val, sizeof(val), CANARY "-%d", in->serial++);
        json_add(obj, canary_keys[i], json_new_string(val));
    }
    json *nested = json_new_object(), *arr = json_new_array();
    snprintf(val, sizeof(val), CANARY "-%d", in->serial++);
    json_add(arr, NULL, json_new_string(val));
    json_add(arr, NULL, json_new_number(in->serial++));
    json_add(nested, "list", arr);
    json_add(obj, "password", nested);
}

/* canary_text rewrites one string member/item s (inside parent) to its own
 * text followed by a canary in one of the forms. */
static void
canary_text(json *parent, json *s, inject *in)
{
    const char *const *f = canary_forms[in->strings % (sizeof(canary_forms) / sizeof(canary_forms[0]))];
    size_t n = strlen(json_str(s)) + strlen(f[0]) + strlen(f[1]) + 64;
    char *buf = malloc(n);
    FUZZ_CHECK(buf != NULL, "out of memory");
    snprintf(buf, n, "%s\n%s" CANARY "-%d%s", json_str(s), f[0], in->serial++, f[1]);
    json_replace(parent, s, json_new_string(buf));
    free(buf);
}

static void
add_canaries(json *n, inject *in)
{
    json_type t = json_typeof(n);
    if (t != JSON_OBJECT && t != JSON_ARRAY) return;
    for (json *c = json_child(n), *next; c; c = next) {
        next = json_next(c); /* canary_text replaces c */
        if (json_typeof(c) == JSON_STRING && in->strings < MAX_INJECT) {
            canary_text(n, c, in);
            in->strings++;
        } else add_canaries(c, in);
    }
    if (t == JSON_OBJECT && in->objects < MAX_INJECT) {
        canary_members(n, in); /* after the walk: the new members are not walked */
        in->objects++;
    }
}

static void
check_canaries(json *tree)
{
    inject in = {0, 0, 0};
    json *root = tree;
    char *before = json_print(tree), *text, *out;
    FUZZ_CHECK(before != NULL, "json_print failed");
    int clean = strstr(before, CANARY) == NULL;
    free(before);
    if (!clean) { /* the input itself holds canary text in the open */
        json_free(tree);
        return;
    }
    if (json_typeof(tree) != JSON_OBJECT && json_typeof(tree) != JSON_ARRAY) {
        root = json_new_array(); /* give a scalar a home, so it can be canaried too */
        json_add(root, NULL, tree);
    }
    add_canaries(root, &in);
    if (json_typeof(root) == JSON_ARRAY) {
        json *obj = json_new_object();
        canary_members(obj, &in);
        json_add(root, NULL, obj);
    }
    text = json_print(root);
    FUZZ_CHECK(text != NULL, "json_print failed");
    out = mask_json_text(text, strlen(text));
    FUZZ_CHECK(out != NULL, "the canaried tree is not JSON to the masker: %s", text);
    const char *hit = strstr(out, CANARY);
    FUZZ_CHECK(hit == NULL, "a canary survived masking: ...%.80s\n  input: %s\n  output: %s", hit, text, out);
    free(out);
    free(text);
    json_free(root); /* tree with it, when it was wrapped */
}

/* ---------------------------------------------------------------- Entry */

/* set_extras installs "#extra=..." from the first line and returns the
 * number of bytes it used (0 when the input has no such line). */
static size_t
set_extras(const uint8_t *data, size_t size)
{
    size_t pl = sizeof(EXTRA_PREFIX) - 1;
    const uint8_t *nl;
    if (size < pl || memcmp(data, EXTRA_PREFIX, pl) != 0 || !(nl = memchr(data, '\n', size))) return 0;
    char *csv = fuzz_strndup(data + pl, (size_t)(nl - data) - pl);
    mask_set_extra(csv);
    free(csv);
    return (size_t)(nl - data) + 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[128];
    size_t used = set_extras(data, size);
    const char *s = (const char *)data + used;
    size_t n = size - used;
    json *in = json_parse(s, n, err, sizeof(err));
    char *out = mask_json_text(s, n);
    if (!in) {
        FUZZ_CHECK(out == NULL, "text for an input that is not JSON");
        mask_set_extra(NULL);
        return 0;
    }
    FUZZ_CHECK(out != NULL, "no text for a JSON input");
    json *masked = json_parse(out, strlen(out), err, sizeof(err));
    FUZZ_CHECK(masked != NULL, "the masked output is not JSON (%s): %s", err, out);
    check_secrets_masked(masked);
    json_free(masked);
    free(out);
    check_canaries(in); /* takes the tree */
    mask_set_extra(NULL);
    return 0;
}
