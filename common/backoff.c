/* backoff.c - exponential backoff with full jitter (see backoff.h). */
#include "fmacros.h"
#include "backoff.h"

int64_t
backoff_delay_ms(int attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms, backoff_rand_fn rnd,
                 void *state)
{
    int64_t ceiling = base_ms > 0 ? base_ms : 0;
    for (int i = 1; i < attempt && ceiling < cap_ms; i++) ceiling *= 2;
    if (ceiling > cap_ms) ceiling = cap_ms;
    int64_t d = ceiling > 0 ? (int64_t)(rnd(state) % (uint64_t)(ceiling + 1)) : 0;
    if (retry_after_ms > d) d = retry_after_ms;
    return d;
}

uint64_t
backoff_rand_default(void *state)
{
    uint64_t *s = state;
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}
