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
 *     gives the same target as a large one, or -1 when it is too long;
 *   - RFC 8288 (section 3): the same bytes also drive a generator of
 *     well-formed Link values (several links; rel as a token or a quoted,
 *     space-separated list in any case; other parameters whose quoted values
 *     hold , ; < > and "rel=next"; blanks around separators; a second rel
 *     parameter, which the RFC says to ignore). The parser must return the
 *     target of the first link whose rel lists "next", or -1 without one. */
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

/* ---------------------------------------------------------------- RFC 8288 */

typedef struct gen {
    const uint8_t *d;
    size_t n, i;
    char buf[4096]; /* the generated header value */
    size_t len;
} gen;

/* take returns the next input byte (0 once they run out). */
static unsigned
take(gen *g)
{
    return g->i < g->n ? g->d[g->i++] : 0;
}

static void
put(gen *g, const char *s)
{
    size_t n = strlen(s);
    if (g->len + n < sizeof(g->buf)) {
        memcpy(g->buf + g->len, s, n);
        g->len += n;
        g->buf[g->len] = '\0';
    }
}

static void
ows(gen *g)
{
    static const char *const blanks[] = {"", "", " ", "  ", "\t"};
    put(g, blanks[take(g) % 5]);
}

/* put_case writes s with each letter's case from the input. */
static void
put_case(gen *g, const char *s)
{
    char one[2] = {0, 0};
    unsigned bits = take(g);
    for (size_t i = 0; s[i]; i++) {
        one[0] = (bits >> (i % 8)) & 1 && s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
        put(g, one);
    }
}

/* gen_rel writes a rel parameter and says whether its list names next. */
static int
gen_rel(gen *g)
{
    static const char *const types[] = {"next", "prev", "last", "first", "nextpage", "nofollow", "next-page"};
    unsigned k = 1 + take(g) % 3, quoted = k > 1 || take(g) % 2;
    int next = 0;
    put_case(g, "rel");
    ows(g);
    put(g, "=");
    ows(g);
    if (quoted) put(g, "\"");
    for (unsigned j = 0; j < k; j++) {
        const char *t = types[take(g) % 7];
        if (j) put(g, take(g) % 2 ? " " : "  ");
        put_case(g, t);
        next |= strcmp(t, "next") == 0;
    }
    if (quoted) put(g, "\"");
    return next;
}

/* gen_other writes a parameter that is not rel. */
static void
gen_other(gen *g)
{
    static const char *const params[] = {
        "title=\"a, b; c\"", "title=\"<https://evil/>; rel=next\"", "anchor=\"#rel=\\\"next\\\"\"",
        "crossorigin", "type=text/html", "title*=UTF-8'de'n%c3%a4chste", "hreflang=\"en, next\"",
    };
    put(g, params[take(g) % 7]);
}

/* gen_link writes one link; *target gets its URI when its first rel names
 * next (and none before did). */
static void
gen_link(gen *g, int idx, char *target, size_t tlen, int *found)
{
    char uri[128];
    static const char *const tails[] = {"", "&a=1,2", ";x=y", "#frag", "&q=rel=next"};
    int rel_seen = 0, next = 0;
    snprintf(uri, sizeof(uri), "https://api.example/r?page=%d%s", idx, tails[take(g) % 5]);
    put(g, "<");
    put(g, uri);
    put(g, ">");
    for (unsigned np = take(g) % 4, j = 0; j < np; j++) {
        ows(g);
        put(g, ";");
        ows(g);
        if (take(g) % 2) {
            int r = gen_rel(g);
            if (!rel_seen) next = r; /* RFC 8288: occurrences after the first are ignored */
            rel_seen = 1;
        } else gen_other(g);
    }
    if (next && !*found) {
        snprintf(target, tlen, "%s", uri);
        *found = 1;
    }
}

static void
check_rfc8288(const uint8_t *data, size_t size)
{
    static gen g;
    char want[128] = "", got[BIG];
    int found = 0;
    g.d = data;
    g.n = size;
    g.i = g.len = 0;
    g.buf[0] = '\0';
    ows(&g);
    for (unsigned nl = 1 + take(&g) % 4, j = 0; j < nl; j++) {
        if (j) {
            ows(&g);
            put(&g, ",");
            ows(&g);
        }
        gen_link(&g, (int)j + 1, want, sizeof(want), &found);
    }
    int rc = http_parse_link(g.buf, got, sizeof(got));
    if (found) FUZZ_CHECK(rc == 0 && strcmp(got, want) == 0, "Link: %s\n  wants %s, got %s", g.buf, want, rc ? "-1" : got);
    else FUZZ_CHECK(rc == -1, "Link: %s\n  has no next, got %s", g.buf, got);
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
    check_rfc8288(data, size);
    return 0;
}
