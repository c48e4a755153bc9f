/* fiber.h - cooperative fibers (ucontext) for a job child that runs several
 * jobs at once (SYNCQ_CHILD_CALLS, docs/DESIGN.md §3). A fiber runs until
 * it waits: for a flag another party sets (an HTTP transfer ending in the
 * child's curl multi handle) or for a time (a nap). Nothing else switches
 * it, so every Redis or PostgreSQL exchange a job makes between two waits
 * is whole: a shared connection never sees two jobs' commands interleaved.
 * One scheduler per process (the child's main context); not thread-safe. */
#ifndef SYNCQ_FIBER_H
#define SYNCQ_FIBER_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

typedef struct fiber fiber;
typedef void (*fiber_fn)(void *arg);

#define FIBER_STACK (512 * 1024) /* virtual; only the pages a job touches cost memory */

/* fiber_new maps a stack (with a guard page below it) for fibers to run on
 * one after another; NULL when mmap fails. */
fiber *fiber_new(size_t stack);
void fiber_free(fiber *f);
/* fiber_start makes an idle fiber run fn(arg) from the top at its next
 * resume: -1 when it is still running something. */
int fiber_start(fiber *f, fiber_fn fn, void *arg);
/* fiber_resume runs f (from the scheduler) until it waits or fn returns. */
void fiber_resume(fiber *f);
/* fiber_busy: 1 from fiber_start until its fn returned. */
int fiber_busy(const fiber *f);
/* fiber_ready says whether a waiting fiber may go on: its flag is set or
 * its time has come (now_us: fiber_now_us). 0 for an idle fiber. */
int fiber_ready(const fiber *f, int64_t now_us);
/* fiber_wake_at is when a napping fiber wants to go on (fiber_now_us's
 * clock), INT64_MAX when it waits for a flag or is idle. */
int64_t fiber_wake_at(const fiber *f);
/* fiber_now_us is CLOCK_MONOTONIC in microseconds. */
int64_t fiber_now_us(void);

/* From inside a fiber. fiber_current is NULL in the scheduler (the child's
 * main context): callers then block as they would without fibers. */
fiber *fiber_current(void);
/* fiber_wait parks the calling fiber until *flag is nonzero. */
void fiber_wait(volatile int *flag);
/* fiber_nap_us sleeps us microseconds: a fiber parks, the scheduler's
 * context blocks (clock_nap_us). */
void fiber_nap_us(int64_t us);

#endif
