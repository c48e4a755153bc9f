/* xalloc.c - allocation wrappers. Server code never checks for NULL: an
 * out-of-memory worker is better dead (and respawned) than limping. */
#include "fmacros.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
oom(size_t n)
{
    char buf[96];
    int len = snprintf(buf, sizeof(buf), "{\"level\":\"fatal\",\"event\":\"oom\",\"bytes\":%zu}\n", n);
    if (len > 0) {
        ssize_t w = write(2, buf, (size_t)len);
        (void)w; /* nothing left to do if stderr is gone */
    }
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *
xcalloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) oom(SIZE_MAX);
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) oom(count * size);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
