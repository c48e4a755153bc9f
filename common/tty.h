/* tty.h - text for a terminal: control characters escaped (pure). */
#ifndef SYNCQ_TTY_H
#define SYNCQ_TTY_H

#include <stddef.h> /* for size_t */

#include "sbuf.h"

/* tty_escape appends s[0..n) to b so that printing it cannot drive a
 * terminal: C0 controls (newline and tab included) and DEL become \xNN, C1
 * controls (U+0080-U+009F, UTF-8 encoded) and the bidi controls (U+061C,
 * U+200E-U+200F, U+2028-U+202E, U+2066-U+2069) become \uXXXX, and bytes that
 * are not UTF-8 (a raw 0x9B is CSI to a Latin-1 terminal) become \xNN.
 * Everything else, valid UTF-8 included, is kept. */
void tty_escape(sbuf *b, const char *s, size_t n);

/* tty_str returns a malloc'd tty_escape of the string s; NULL for NULL. */
char *tty_str(const char *s);

#endif
