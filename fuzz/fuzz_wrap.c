/* fuzz_wrap.c - libFuzzer harness for the wrapper line parser and formatter
 * (common/wrap.c). The input is a Redis list element: a wrapper header and
 * the producer's bytes, or raw bytes. Properties, besides "no crash, leak or
 * sanitizer report":
 *   - wrap_parse returns -1, 0 or 1; 0 leaves the bytes whole; 1 has a tag
 *     and leaves exactly the bytes after the first newline as the raw part;
 *   - every field it fills is NUL-terminated inside its array;
 *   - a parsed wrapper round-trips: wrap_header of it, a newline and the raw
 *     bytes parse back to the same fields (dead= is written by the Redis
 *     Functions only, and a header without seen= is left out: wrap_header
 *     writes seen=-1 for it, which is item 1 of issue 9, not this harness). */
#include "fmacros.h"
#include "fuzz.h"
#include "wrap.h"

#include <string.h>

static void
check_fields(const wrap *w)
{
    FUZZ_CHECK(memchr(w->tag, '\0', sizeof(w->tag)) != NULL, "tag not terminated");
    FUZZ_CHECK(memchr(w->jid, '\0', sizeof(w->jid)) != NULL, "jid not terminated");
    FUZZ_CHECK(memchr(w->from, '\0', sizeof(w->from)) != NULL, "from not terminated");
    FUZZ_CHECK(memchr(w->root, '\0', sizeof(w->root)) != NULL, "root not terminated");
    FUZZ_CHECK(memchr(w->err, '\0', sizeof(w->err)) != NULL, "err not terminated");
}

static void
check_round_trip(const wrap *w)
{
    static char buf[WRAP_ERR_MAX * 4 + 1024];
    wrap back;
    size_t hl = wrap_header(w, buf, sizeof(buf));
    FUZZ_CHECK(hl > 0 && hl < sizeof(buf), "wrap_header failed with room to spare");
    FUZZ_CHECK(memchr(buf, '\n', hl) == NULL, "the header holds a newline");
    size_t n = hl + 1 + w->rawlen;
    char *line = malloc(n);
    FUZZ_CHECK(line != NULL, "out of memory");
    memcpy(line, buf, hl);
    line[hl] = '\n';
    if (w->rawlen) memcpy(line + hl + 1, w->raw, w->rawlen);
    FUZZ_CHECK(wrap_parse(line, n, &back) == 1, "wrap_header wrote what wrap_parse refuses: %.*s", (int)hl, buf);
    FUZZ_CHECK(strcmp(back.tag, w->tag) == 0, "tag changed");
    FUZZ_CHECK(back.seen_ms == w->seen_ms, "seen changed");
    FUZZ_CHECK(back.ready_ms == w->ready_ms, "ready changed");
    FUZZ_CHECK(strcmp(back.jid, w->jid) == 0, "jid changed");
    FUZZ_CHECK(strcmp(back.from, w->from) == 0, "from changed");
    FUZZ_CHECK(strcmp(back.root, w->root) == 0, "root changed");
    FUZZ_CHECK(strcmp(back.err, w->err) == 0, "err changed");
    FUZZ_CHECK(back.rawlen == w->rawlen && memcmp(back.raw, w->raw, w->rawlen) == 0, "raw bytes changed");
    free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data; /* exactly size bytes, no terminator: overreads are caught */
    const size_t ml = sizeof(WRAP_MAGIC) - 1;
    wrap w;
    int rc = wrap_parse(s, size, &w);
    FUZZ_CHECK(rc >= -1 && rc <= 1, "wrap_parse returned %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(w.raw == s && w.rawlen == size, "raw bytes not left whole");
        FUZZ_CHECK(size < ml || memcmp(s, WRAP_MAGIC, ml) != 0, "a wrapper taken for raw bytes");
        return 0;
    }
    if (rc < 0) return 0;
    const char *nl = memchr(s, '\n', size);
    FUZZ_CHECK(nl != NULL && w.raw == nl + 1 && w.raw + w.rawlen == s + size, "raw part is not after the newline");
    FUZZ_CHECK(w.tag[0] != '\0', "wrapped without a tag");
    check_fields(&w);
    if (w.seen_ms >= 0) check_round_trip(&w);
    return 0;
}
