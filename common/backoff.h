/* backoff.h - retry delays: exponential backoff with full jitter. Pure code.
 *
 *   delay(attempt) = uniform(0, min(cap, base * 2^(attempt-1)))
 *   then at least retry_after when the handler gave a hint (HTTP Retry-After).
 *
 * Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter") spreads
 * a thundering herd best for the least total work. Defaults: base 1 s, cap 1 h. */
#ifndef SYNCQ_BACKOFF_H
#define SYNCQ_BACKOFF_H

#include <stdint.h> /* for int64_t, uint64_t */

#define BACKOFF_BASE_MS 1000
#define BACKOFF_CAP_MS (3600 * 1000)

/* A random source returning uniform 64-bit values; injected so tests can pin it. */
typedef uint64_t (*backoff_rand_fn)(void *state);

/* backoff_delay_ms returns the delay before retry number attempt (1 = the
 * retry after the first failure). retry_after_ms < 0 means no hint. */
int64_t backoff_delay_ms(int attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms,
                         backoff_rand_fn rnd, void *state);
/* backoff_rand_default is a xorshift64* source seeded by the caller's state. */
uint64_t backoff_rand_default(void *state);

#endif
