/* mask.h - secret masking (SPEC §5, §10). Pure code. */
#ifndef SYNCQ_MASK_H
#define SYNCQ_MASK_H

#include <stddef.h> /* for size_t */

#include "json.h"

#define MASK_VALUE "********"

/* mask_key_is_secret says whether an object key names a secret: split into
 * words on non-alphanumerics and camelCase; a word (or its plural) in the word
 * list, or the whole key (lowercased, separators removed) in the whole-key
 * list, or a configured extra (compared the same way). Control fields
 * idempotency_key, debounce_key and expected_hash are never secret. */
int mask_key_is_secret(const char *key);

/* mask_set_extra installs extra secret words (comma-separated, e.g. from
 * SYNCQ_MASK_KEYS); NULL clears them. Not thread-safe; call at start. */
void mask_set_extra(const char *csv);

/* mask_tree masks n in place: every member whose key is secret has its value
 * (every element, for arrays/objects: each leaf becomes "********") replaced;
 * every other string value is scrubbed with mask_string. Returns the number of
 * values changed. */
int mask_tree(json *n);

/* mask_string scrubs credentials carried inside a value: URL userinfo
 * (scheme://user:PW@host -> scheme://user:********@host), query parameters
 * whose name is secret (access_token=..., ?api_key=...), "Bearer X" / "Basic X"
 * tokens. Returns a malloc'd copy when something changed, else NULL. */
char *mask_string(const char *s);

/* mask_json_text parses s[0..n), masks it and prints it compactly. Returns a
 * malloc'd string, or NULL when s is not JSON (callers must then drop the
 * text: never store unmasked text). */
char *mask_json_text(const char *s, size_t n);

#endif
