/* tty.c - escaping of untrusted text for human-readable output: ids, targets,
 * actors and error texts come from producers and remote services, and an ESC
 * or OSC sequence among them would rewrite the operator's terminal. */
#include "fmacros.h"
#include "tty.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

/* hidden says whether a code point moves the cursor or reorders text
 * instead of drawing: C1 controls and the bidi marks, embeddings, overrides
 * and isolates (a U+202E can make "exe.txt" read "txt.exe"). */
static int
hidden(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void
tty_escape(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t l = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, n - i);
        if (l == 0 || (l == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
            char e[4] = {'\\', 'x', hex[p[i] >> 4], hex[p[i] & 15]};
            sbuf_add(b, e, 4);
            i++;
        } else if (l > 1 && hidden(utf8_decode(p + i, l))) {
            sbuf_printf(b, "\\u%04x", utf8_decode(p + i, l));
            i += l;
        } else {
            sbuf_add(b, p + i, l);
            i += l;
        }
    }
}

char *
tty_str(const char *s)
{
    sbuf b;
    if (!s) return NULL;
    sbuf_init(&b);
    tty_escape(&b, s, strlen(s));
    return sbuf_steal(&b, NULL);
}
