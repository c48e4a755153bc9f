/* board.c - the status board: one slot per child in anonymous shared memory,
 * mapped by the master before it forks. A child writes which job it is
 * running and until when; the master reads it to enforce deadlines and, when
 * a child dies, to know which job died with it. The master writes each
 * child's lease deadline, which the child's watchdog reads (docs/LEASES.md). A generation counter (odd
 * while a slot is being written) lets the master read a slot without locks.
 * A child also says here when it blocks on an empty queue, so a sibling
 * holding a prefetched batch hands it back instead of making its jobs wait
 * (docs/DESIGN.md §7). */
#include "fmacros.h"
#include "worker.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct board_slot {
    atomic_uint gen;
    _Atomic int64_t lease_until_ms; /* written by the master only; not covered by gen */
    atomic_int *waiting;            /* the board's flags, one int per slot (board_wait); set once, before fork */
    int idx, n;                     /* this slot's index, the number of slots */
    board_job job[BOARD_JOBS];      /* the child's jobs in flight (SYNCQ_CHILD_CALLS of them at most) */
    stats_table stats; /* the child's job counters (stats.h): not covered by gen */
};

/* The waiting flags sit after the slots, one int each: a child reads all of
 * them before each job (board_waiters), 1 KiB for 257 slots, where reading a
 * field of every ~10 KiB slot would touch a page per slot. */
static size_t
board_size(int n)
{
    return (size_t)n * sizeof(board_slot) + (size_t)n * sizeof(atomic_int);
}

board_slot *
board_new(int n)
{
    board_slot *b = mmap(NULL, board_size(n), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED) return NULL;
    atomic_int *flags = (atomic_int *)(void *)&b[n];
    for (int i = 0; i < n; i++) {
        b[i].waiting = flags;
        b[i].idx = i;
        b[i].n = n;
    }
    return b;
}

void
board_free(board_slot *b, int n)
{
    if (b) munmap(b, board_size(n));
}

board_slot *
board_at(board_slot *b, int i)
{
    return b ? &b[i] : NULL;
}

stats_table *
board_stats(board_slot *s)
{
    return s ? &s->stats : NULL;
}

static void
publish(board_slot *s, int i, const board_job *j)
{
    atomic_fetch_add_explicit(&s->gen, 1, memory_order_acq_rel); /* odd: writing */
    s->job[i] = *j;
    atomic_fetch_add_explicit(&s->gen, 1, memory_order_release); /* even: stable */
}

void
board_begin(board_slot *s, int i, const board_job *j)
{
    if (s && i >= 0 && i < BOARD_JOBS) publish(s, i, j);
}

void
board_end(board_slot *s, int i)
{
    board_job idle;
    memset(&idle, 0, sizeof(idle));
    if (s && i >= 0 && i < BOARD_JOBS) publish(s, i, &idle);
}

int
board_read(board_slot *s, int i, board_job *out)
{
    if (i < 0 || i >= BOARD_JOBS) return -1;
    for (int tries = 0; tries < 100; tries++) {
        unsigned g1 = atomic_load_explicit(&s->gen, memory_order_acquire);
        if (g1 & 1) continue;
        *out = s->job[i];
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->gen, memory_order_relaxed) == g1) return 0;
    }
    return -1;
}

void
board_lease_set(board_slot *s, int64_t until_ms)
{
    if (s) atomic_store_explicit(&s->lease_until_ms, until_ms, memory_order_release);
}

int64_t
board_lease(board_slot *s)
{
    return s ? atomic_load_explicit(&s->lease_until_ms, memory_order_acquire) : INT64_MAX;
}

void
board_wait(board_slot *s, int queue)
{
    if (s) atomic_store_explicit(&s->waiting[s->idx], queue + 1, memory_order_release);
}

int
board_waiters(board_slot *s, int queue)
{
    int n = 0;
    if (!s) return 0;
    for (int i = 0; i < s->n; i++)
        if (i != s->idx && atomic_load_explicit(&s->waiting[i], memory_order_relaxed) == queue + 1) n++;
    return n;
}

void
board_clear(board_slot *s)
{
    if (s) {
        atomic_store(&s->gen, 0);
        atomic_store(&s->waiting[s->idx], 0);
        memset(s->job, 0, sizeof(s->job));
    }
}
