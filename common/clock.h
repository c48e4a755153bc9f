/* clock.h - the one clock helper of syncq: milliseconds on the monotonic and
 * the wall clock, and a nap that a caught signal does not cut short.
 *
 * Which clock: CLOCK_MONOTONIC for what is measured on this host (leases,
 * deadlines, timeouts, durations of a call); the wall clock only for what
 * another process or host compares (the handlers a worker published, a
 * job's start and duration on the status board). Audit and queue times are
 * Redis TIME, stamped by the Functions (docs/DESIGN.md §5), never these. */
#ifndef SYNCQ_CLOCK_H
#define SYNCQ_CLOCK_H

#include <stdint.h> /* for int64_t */
#include <time.h>   /* for struct timespec */

/* clock_mono_ms is CLOCK_MONOTONIC in ms: the same clock in every process
 * of the host, async-signal-safe (the lease watchdog reads it). */
int64_t clock_mono_ms(void);
/* clock_wall_ms is CLOCK_REALTIME in ms since the epoch. */
int64_t clock_wall_ms(void);
/* clock_nap_us sleeps us microseconds (<= 0: not at all), resuming after a
 * caught signal; clock_nap_ms is the same in ms. A handler that must obey
 * an abort order naps in short steps and looks between them. */
void clock_nap_us(int64_t us);
void clock_nap_ms(int64_t ms);

/* Pure conversions (unit-tested): a timespec to ms, rounding down; us to a
 * timespec (negative: zero). */
int64_t clock_ts_ms(const struct timespec *ts);
struct timespec clock_us_ts(int64_t us);

#endif
