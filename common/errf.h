/* errf.h - writing an error message into a caller's buffer: the one way
 * pure modules report what went wrong (they never print). */
#ifndef SYNCQ_ERRF_H
#define SYNCQ_ERRF_H

#include <stddef.h> /* for size_t */

/* errf formats into err (errlen bytes, always terminated) and returns -1, so
 * a failing path can `return errf(err, errlen, "...", ...)`. */
int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
