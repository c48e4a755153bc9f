/* mask.h - secret masking: the rules are the table in docs/MASKING.md. Pure
 * code (mask.c: keys and trees; mask_text.c: credentials inside text). */
#ifndef SYNCQ_MASK_H
#define SYNCQ_MASK_H

#include <stddef.h> /* for size_t */

#include "json.h"

#define MASK_VALUE "********"

/* mask_key_is_secret says whether an object key names a secret. The key is
 * folded to ASCII (full-width, lookalike and invisible characters), split
 * into words on non-alphanumerics, camelCase and digits; it is secret when a
 * word (or its plural) is on the word list or a configured extra, when its
 * last word is a head word (auth, key, session), or when the whole key,
 * lowercased without separators, ends with a compound (apikey, accesstoken,
 * ...). Control fields idempotency_key, debounce_key and expected_hash are
 * never secret. */
int mask_key_is_secret(const char *key);

/* mask_set_extra installs extra secret words (comma-separated, e.g. from
 * SYNCQ_MASK_KEYS); NULL clears them. Not thread-safe; call at start. */
void mask_set_extra(const char *csv);

/* mask_tree masks n in place: every member whose key is secret has its value
 * (every element, for arrays/objects: each leaf becomes "********") replaced;
 * every other string value is scrubbed with mask_string. Returns the number of
 * values changed. */
int mask_tree(json *n);

/* mask_string scrubs credentials carried inside a text: known secret values
 * (mask_secret_add), URL userinfo (//user:PW@host, git:PW@host:repo), name=value
 * parameters whose (percent-decoded) name is secret, quoted pairs
 * ("password": "x", {'token': 'x'}, escaped names), "Name: value" lines
 * (headers, YAML) and "Bearer X" / "Basic X". Returns a malloc'd copy when
 * something changed, else NULL. */
char *mask_string(const char *s);

/* mask_in_place scrubs the NUL-terminated text in buf[0..size) with
 * mask_string, cutting the result to fit: for error strings held in a
 * context's fixed errstr buffer (libpq and hiredis echo connection strings). */
void mask_in_place(char *buf, size_t size);

#define MASK_SECRET_MIN 4 /* shorter values would mask ordinary words */

/* mask_secret_add registers a value the process knows to be secret (a header
 * value from the environment, a token): mask_string replaces it wherever it
 * appears, whatever surrounds it. Values shorter than MASK_SECRET_MIN bytes
 * are ignored. Not thread-safe; call while loading configuration. */
void mask_secret_add(const char *value);
/* mask_secret_forget forgets one registered value (a short-lived secret,
 * such as an OAuth2 token long replaced, so the list stays bounded). */
void mask_secret_forget(const char *value);
/* mask_secret_clear forgets every registered value. */
void mask_secret_clear(void);

/* mask_json_text parses s[0..n), masks it and prints it compactly. Returns a
 * malloc'd string, or NULL when s is not JSON (callers must then drop the
 * text: never store unmasked text). */
char *mask_json_text(const char *s, size_t n);
/* mask_job_result masks a job's result for its audit row: as JSON, or
 * scrubbed as text when it is not JSON. Returns a malloc'd string. */
char *mask_job_result(const char *s);

#define MASK_JSON_MAX (64 * 1024) /* longer texts are scrubbed as text, never parsed */

/* mask_excerpt masks a remote answer body[0..n) whole, then cuts it to at
 * most max bytes (at a UTF-8 boundary): JSON up to MASK_JSON_MAX bytes as a
 * tree, anything else (or longer) as text. Masking before cutting means a
 * secret across the cut is masked in full. Returns a malloc'd string. */
char *mask_excerpt(const char *body, size_t n, size_t max);

#endif
