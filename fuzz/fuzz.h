/* fuzz.h - what every libFuzzer harness in fuzz/ shares: the entry point's
 * prototype and a property check that aborts, so a violated property is a
 * crash that libFuzzer saves and reports like any sanitizer finding. */
#ifndef SYNCQ_FUZZ_H
#define SYNCQ_FUZZ_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for uint8_t */
#include <stdio.h>  /* for fprintf */
#include <stdlib.h> /* for abort */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_CHECK: the property cond must hold; the message names it. */
#define FUZZ_CHECK(cond, ...)                                                                    \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "PROPERTY VIOLATED at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                                        \
            fputc('\n', stderr);                                                                 \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* fuzz_strndup copies data[0..n) into a NUL-terminated heap string (the
 * parsers under test take C strings; an embedded NUL just ends it early). */
static inline char *
fuzz_strndup(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) abort();
    for (size_t i = 0; i < n; i++) s[i] = (char)data[i];
    s[n] = '\0';
    return s;
}

#endif
