/* xalloc.h - allocation wrappers: one out-of-memory policy (log and abort). */
#ifndef SYNCQ_XALLOC_H
#define SYNCQ_XALLOC_H

#include <stddef.h> /* for size_t */

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
