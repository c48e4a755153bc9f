/* json.h - the JSON tree API of syncq. Only json.c includes cJSON; every other
 * file sees this small surface. Nodes are owned by their root; json_free(root)
 * frees the whole tree. */
#ifndef SYNCQ_JSON_H
#define SYNCQ_JSON_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

typedef struct json json; /* opaque: a cJSON node */

typedef enum {
    JSON_INVALID = 0,
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
    JSON_RAW,
} json_type;

/* json_parse parses exactly s[0..n) (NUL bytes are not terminators). Returns the
 * root, or NULL with a message in err (trailing garbage is an error). The caller
 * is expected to have bounded nesting already (see envelope_scan). */
json *json_parse(const char *s, size_t n, char *err, size_t errlen);
void json_free(json *root);

json_type json_typeof(const json *n);
/* json_get returns the first member named key of an object, or NULL. */
json *json_get(const json *obj, const char *key);
const char *json_str(const json *n);  /* NULL unless a string */
double json_num(const json *n);       /* 0 unless a number */
const char *json_key(const json *n);  /* the member name, NULL for array items */
json *json_child(const json *n);      /* first member/item or NULL */
json *json_next(const json *n);       /* next sibling or NULL */
size_t json_size(const json *n);      /* members/items of an object/array */

/* Building. json_new_* return detached nodes; json_add attaches (takes ownership). */
json *json_new_object(void);
json *json_new_array(void);
json *json_new_string(const char *s);
json *json_new_number(double d);
json *json_new_bool(int b);
json *json_new_null(void);
void json_add(json *obj, const char *key, json *item); /* key NULL for arrays */
/* json_replace swaps node old (inside parent) for item; old is freed. */
void json_replace(json *parent, json *old, json *item);
/* json_print returns compact text (caller frees) or NULL on OOM. */
char *json_print(const json *n);
json *json_dup(const json *n);

#endif
