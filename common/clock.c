/* clock.c - milliseconds and naps (see clock.h). */
#include "fmacros.h"
#include "clock.h"

#include <errno.h>

int64_t
clock_ts_ms(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

struct timespec
clock_us_ts(int64_t us)
{
    struct timespec ts = {0, 0};
    if (us <= 0) return ts;
    ts.tv_sec = (time_t)(us / 1000000);
    ts.tv_nsec = (long)(us % 1000000) * 1000L;
    return ts;
}

int64_t
clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail for a valid clock id */
    return clock_ts_ms(&ts);
}

int64_t
clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return clock_ts_ms(&ts);
}

void
clock_nap_us(int64_t us)
{
    struct timespec ts = clock_us_ts(us);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

void
clock_nap_ms(int64_t ms)
{
    clock_nap_us(ms > INT64_MAX / 1000 ? INT64_MAX : ms * 1000);
}
