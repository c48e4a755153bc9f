/* uuid.c - UUID v4/v7 text ids and random hex strings, from getrandom(2) (RFC 9562). */
#include "fmacros.h"
#include "uuid.h"

#include <errno.h>
#include <stddef.h>
#include <sys/random.h>
#include <time.h>

static const char hexdigits[] = "0123456789abcdef";

/* fill_random reads n bytes from the kernel CSPRNG. getrandom may return
 * fewer bytes than asked or be interrupted by a signal (the master gets
 * SIGCHLD all the time), so loop. Without entropy, fail rather than fall back
 * to anything predictable. */
static int
fill_random(uint8_t *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(b + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

/* set_version stamps the 4 version bits and the RFC 9562 variant (10xx). */
static void
set_version(uint8_t b[16], int version)
{
    b[6] = (uint8_t)((b[6] & 0x0F) | (version << 4));
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
}

void
uuid_format(const uint8_t b[16], char out[UUID_STR_LEN])
{
    size_t j = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[j++] = '-';
        out[j++] = hexdigits[b[i] >> 4];
        out[j++] = hexdigits[b[i] & 15];
    }
    out[j] = '\0';
}

int
uuid_v4(char out[UUID_STR_LEN])
{
    uint8_t b[16];
    if (fill_random(b, sizeof(b))) return -1;
    set_version(b, 4);
    uuid_format(b, out);
    return 0;
}

/* uuid_v7 lays out 48 bits of Unix milliseconds (big-endian), the version,
 * then 74 random bits. Ids made in the same millisecond are not ordered among
 * themselves; RFC 9562 makes that ordering optional and the indexes only need
 * ids that grow roughly with time. */
int
uuid_v7(char out[UUID_STR_LEN])
{
    uint8_t b[16];
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) || fill_random(b + 6, 10)) return -1;
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    for (int i = 0; i < 6; i++) b[i] = (uint8_t)(ms >> (40 - 8 * i));
    set_version(b, 7);
    uuid_format(b, out);
    return 0;
}

int
random_hex(char *out, int n)
{
    uint8_t chunk[64];
    int done = 0;
    if (n < 0) return -1;
    while (done < n) {
        int k = n - done < (int)sizeof(chunk) ? n - done : (int)sizeof(chunk);
        if (fill_random(chunk, (size_t)k)) {
            out[0] = '\0'; /* never hand back half-random text */
            return -1;
        }
        for (int i = 0; i < k; i++) {
            out[2 * (done + i)] = hexdigits[chunk[i] >> 4];
            out[2 * (done + i) + 1] = hexdigits[chunk[i] & 15];
        }
        done += k;
    }
    out[2 * n] = '\0';
    return 0;
}
