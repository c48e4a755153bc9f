/* pct.h - percent-encoding (RFC 3986 §2.1): the one encoder and decoder of
 * the tree (pure). URL parts, pagination cursors, the wrapper's err= field,
 * snapshot cursors and the masker's view of query names all go through it.
 * functions.lua's pct() is the Lua twin of PCT_TOKEN and must stay so. */
#ifndef SYNCQ_PCT_H
#define SYNCQ_PCT_H

#include <stddef.h> /* for size_t */

/* The bytes an encoding leaves as they are; every other byte becomes %XX
 * (upper-case hex). */
typedef enum pct_set {
    PCT_UNRESERVED, /* RFC 3986 unreserved: ALPHA DIGIT - . _ ~ (URL parts, cursors) */
    PCT_TOKEN,      /* printable ASCII but '%': one space-free token (the wrapper's err=) */
} pct_set;

/* Decode flags; 0 is strict: a malformed escape or %00 is refused. */
enum {
    PCT_NUL_OK = 1,     /* %00 decodes to a NUL byte */
    PCT_PLAIN_ONLY = 2, /* a plain byte outside PCT_UNRESERVED is refused (canonical input) */
    PCT_LENIENT = 4,    /* a malformed escape stays as it is, as a forgiving server reads it */
};

/* The decoder's refusals. */
enum {
    PCT_EBAD = -1,  /* a malformed escape, %00 or a plain byte the flags refuse */
    PCT_ELONG = -2, /* out is too small */
};

/* pct_in_set says whether byte c stays as it is under set. */
int pct_in_set(unsigned char c, pct_set set);

/* pct_hexval is the value of hex digit c, or -1. */
int pct_hexval(int c);

/* pct_encode writes the NUL-terminated s percent-encoded into out[outlen],
 * terminated. Returns the length written, or -1 when out is too small (out
 * then holds a terminated prefix). */
long pct_encode(const char *s, pct_set set, char *out, size_t outlen);

/* pct_decode decodes s[0..n) into out[outlen], terminated. Returns the
 * decoded length, PCT_EBAD or PCT_ELONG (the first met, left to right). */
long pct_decode(const char *s, size_t n, unsigned flags, char *out, size_t outlen);

#endif
