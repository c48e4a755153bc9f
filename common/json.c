/* json.c - the only file that knows cJSON. */
#include "fmacros.h"
#include "json.h"
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define C(n) ((cJSON *)(n))
#define J(n) ((json *)(n))

json *
json_parse(const char *s, size_t n, char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!root) {
        size_t off = end ? (size_t)(end - s) : 0;
        snprintf(err, errlen, "invalid JSON near byte %zu", off);
        return NULL;
    }
    /* cJSON stops at the end of the first value; anything but whitespace after it is an error. */
    for (const char *p = end; p < s + n; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            snprintf(err, errlen, "trailing data after JSON value at byte %zu", (size_t)(p - s));
            cJSON_Delete(root);
            return NULL;
        }
    }
    return J(root);
}

void
json_free(json *root)
{
    cJSON_Delete(C(root));
}

json_type
json_typeof(const json *n)
{
    if (!n) return JSON_INVALID;
    switch (C(n)->type & 0xFF) {
    case cJSON_NULL: return JSON_NULL;
    case cJSON_False: return JSON_FALSE;
    case cJSON_True: return JSON_TRUE;
    case cJSON_Number: return JSON_NUMBER;
    case cJSON_String: return JSON_STRING;
    case cJSON_Array: return JSON_ARRAY;
    case cJSON_Object: return JSON_OBJECT;
    case cJSON_Raw: return JSON_RAW;
    default: return JSON_INVALID;
    }
}

json *
json_get(const json *obj, const char *key)
{
    if (!obj || !cJSON_IsObject(C(obj))) return NULL;
    return J(cJSON_GetObjectItemCaseSensitive(C(obj), key));
}

const char *
json_str(const json *n)
{
    return n && cJSON_IsString(C(n)) ? C(n)->valuestring : NULL;
}

double
json_num(const json *n)
{
    return n && cJSON_IsNumber(C(n)) ? C(n)->valuedouble : 0;
}

const char *
json_key(const json *n)
{
    return n ? C(n)->string : NULL;
}

json *
json_child(const json *n)
{
    return n ? J(C(n)->child) : NULL;
}

json *
json_next(const json *n)
{
    return n ? J(C(n)->next) : NULL;
}

size_t
json_size(const json *n)
{
    return n ? (size_t)cJSON_GetArraySize(C(n)) : 0;
}

static json *
must(cJSON *n)
{
    if (!n) {
        /* cJSON only fails on allocation; follow the xalloc policy. */
        xmalloc((size_t)-1 / 2);
    }
    return J(n);
}

json *json_new_object(void) { return must(cJSON_CreateObject()); }
json *json_new_array(void) { return must(cJSON_CreateArray()); }
json *json_new_string(const char *s) { return must(cJSON_CreateString(s)); }
json *json_new_number(double d) { return must(cJSON_CreateNumber(d)); }
json *json_new_bool(int b) { return must(cJSON_CreateBool(b)); }
json *json_new_null(void) { return must(cJSON_CreateNull()); }

void
json_add(json *obj, const char *key, json *item)
{
    if (key) cJSON_AddItemToObject(C(obj), key, C(item));
    else cJSON_AddItemToArray(C(obj), C(item));
}

void
json_replace(json *parent, json *old, json *item)
{
    /* ReplaceItemViaPointer does not carry the member name over, and cJSON's
     * lookups stop at a nameless member: copy it. */
    if (C(old)->string && !C(item)->string) {
        size_t n = strlen(C(old)->string) + 1;
        C(item)->string = xmalloc(n);
        memcpy(C(item)->string, C(old)->string, n);
        C(item)->type &= ~cJSON_StringIsConst;
    }
    cJSON_ReplaceItemViaPointer(C(parent), C(old), C(item));
}

char *
json_print(const json *n)
{
    return cJSON_PrintUnformatted(C(n));
}

json *
json_dup(const json *n)
{
    return must(cJSON_Duplicate(C(n), 1));
}
