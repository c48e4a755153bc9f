/* cli_tty.c - values escaped for the terminal, for printf-style printers. */
#include "fmacros.h"
#include "cli.h"
#include "tty.h"

#include <stdlib.h>

#define TTY_RING 32 /* copies alive at once: more than any one printf takes */

const char *
cli_tty(const char *s)
{
    static char *ring[TTY_RING]; /* owned; each slot freed when reused */
    static unsigned next;
    if (!s) return NULL;
    char **slot = &ring[next++ % TTY_RING];
    free(*slot);
    *slot = tty_str(s);
    return *slot;
}
