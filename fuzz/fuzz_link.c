/* fuzz_link.c - libFuzzer harness for the RFC 8288 Link header parser
 * (http_parse_link in common/http.c), which picks the rel="next" target a
 * link-paginated sync follows. The input is a header value. Properties,
 * besides "no crash, leak or sanitizer report":
 *   - it returns 0 or -1, and on 0 the target is NUL-terminated inside the
 *     caller's buffer (allocated to its exact size, so ASan sees a byte
 *     written past it);
 *   - the target is exactly the text between a '<' and the next '>' of the
 *     input, and "next" follows it (the rel parameter);
 *   - the buffer size only decides whether the target fits: a small buffer
 *     gives the same target as a large one, or -1 when it is too long. */
#include "fmacros.h"
#include "fuzz.h"
#include "http.h"

#include <string.h>
#include <strings.h>

#define BIG 2048

/* has_next says whether "next" (any case) occurs in s. */
static int
has_next(const char *s)
{
    for (; *s; s++)
        if (strncasecmp(s, "next", 4) == 0) return 1;
    return 0;
}

/* is_link_target: out occurs in v as "<out>" followed by parameters
 * naming next somewhere after it. */
static int
is_link_target(const char *v, const char *out)
{
    size_t n = strlen(out);
    for (const char *p = v; (p = strchr(p, '<')) != NULL; p++)
        if (strncmp(p + 1, out, n) == 0 && p[1 + n] == '>' && memchr(p + 1, '>', n) == NULL && has_next(p + 2 + n))
            return 1;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *v = fuzz_strndup(data, size);
    size_t small_len = 1 + size % 40;
    char *big = malloc(BIG), *small = malloc(small_len);
    FUZZ_CHECK(big && small, "out of memory");
    int rb = http_parse_link(v, big, BIG), rs = http_parse_link(v, small, small_len);
    FUZZ_CHECK(rb == 0 || rb == -1, "returned %d", rb);
    FUZZ_CHECK(rs == 0 || rs == -1, "returned %d", rs);
    if (rb == 0) {
        FUZZ_CHECK(memchr(big, '\0', BIG) != NULL, "target not terminated");
        FUZZ_CHECK(is_link_target(v, big), "target \"%s\" is not a <...> of the input with rel next", big);
        if (strlen(big) < small_len) FUZZ_CHECK(rs == 0 && strcmp(small, big) == 0, "a small buffer changed the target");
    }
    if (rs == 0) {
        FUZZ_CHECK(memchr(small, '\0', small_len) != NULL, "target not terminated in a small buffer");
        FUZZ_CHECK(rb == 0 && strcmp(small, big) == 0, "a small buffer found a target a large one did not");
    }
    free(small);
    free(big);
    free(v);
    return 0;
}
