/* fiber.c - cooperative fibers on ucontext (fiber.h). Each has its own
 * mmap'd stack with a guard page, reused job after job; switching is
 * swapcontext, annotated for AddressSanitizer so `make test SANITIZE=1`
 * follows the stacks. */
#include "fmacros.h"
#include "clock.h"
#include "fiber.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
#endif
#ifdef FIBER_ASAN
#include <dlfcn.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

struct fiber {
    ucontext_t ctx;
    char *map, *stack;
    size_t maplen, stacklen;
    fiber_fn fn;
    void *arg;
    int busy;
    volatile int *flag; /* waiting for *flag != 0, or NULL */
    int64_t wake_us;    /* napping until then; INT64_MAX: not napping */
    void *asan_fake;
};

static ucontext_t sched_ctx;
static fiber *cur;
static const void *sched_bottom; /* the scheduler's stack, for ASan */
static size_t sched_size;

/* swap switches contexts. Under ASan it calls libc's swapcontext, not the
 * sanitizer's interceptor: this file tells ASan of every switch itself
 * (start/finish_switch_fiber) and clears a stack's shadow before reuse,
 * which is all the interceptor adds, besides a warning on every child's
 * stderr that the test harness would rightly count as a report. */
#ifdef FIBER_ASAN
typedef int (*swap_fn)(ucontext_t *, const ucontext_t *);
static int
swap(ucontext_t *from, const ucontext_t *to)
{
    static swap_fn real;
    if (!real) {
        void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
        void *sym = libc ? dlsym(libc, "swapcontext") : NULL;
        real = sym ? (swap_fn)(uintptr_t)sym : swapcontext;
    }
    return real(from, to);
}
#else
#define swap swapcontext
#endif

static void
asan_leave(void **fake, const void *bottom, size_t size)
{
#ifdef FIBER_ASAN
    __sanitizer_start_switch_fiber(fake, bottom, size);
#else
    (void)fake, (void)bottom, (void)size;
#endif
}

static void
asan_arrive(void *fake, const void **bottom, size_t *size)
{
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(fake, bottom, size);
#else
    (void)fake, (void)bottom, (void)size;
#endif
}

int64_t
fiber_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

fiber *
fiber_new(size_t stack)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t pg = page > 0 ? (size_t)page : 4096;
    stack = (stack + pg - 1) / pg * pg;
    char *map = mmap(NULL, stack + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) return NULL;
    if (mprotect(map, pg, PROT_NONE) < 0) { /* an overflow faults instead of writing over the heap */
        munmap(map, stack + pg);
        return NULL;
    }
    fiber *f = xcalloc(1, sizeof(*f));
    f->map = map;
    f->maplen = stack + pg;
    f->stack = map + pg;
    f->stacklen = stack;
    f->wake_us = INT64_MAX;
    return f;
}

void
fiber_free(fiber *f)
{
    if (!f) return;
    munmap(f->map, f->maplen);
    free(f);
}

/* entry runs the started fiber's function; returning ends up in the
 * scheduler through uc_link. */
static void
entry(void)
{
    fiber *f = cur;
    asan_arrive(NULL, &sched_bottom, &sched_size);
    f->fn(f->arg);
    f->busy = 0;
    f->flag = NULL;
    f->wake_us = INT64_MAX;
    asan_leave(NULL, sched_bottom, sched_size); /* this stack frame is never resumed */
}

int
fiber_start(fiber *f, fiber_fn fn, void *arg)
{
    if (f->busy) return -1;
#ifdef FIBER_ASAN
    ASAN_UNPOISON_MEMORY_REGION(f->stack, f->stacklen); /* nothing of the last job's frames is left poisoned */
#endif
    if (getcontext(&f->ctx) < 0) return -1;
    f->ctx.uc_stack.ss_sp = f->stack;
    f->ctx.uc_stack.ss_size = f->stacklen;
    f->ctx.uc_link = &sched_ctx;
    makecontext(&f->ctx, entry, 0);
    f->fn = fn;
    f->arg = arg;
    f->busy = 1;
    f->flag = NULL;
    f->wake_us = 0; /* ready at once */
    return 0;
}

void
fiber_resume(fiber *f)
{
    void *fake = NULL;
    if (!f->busy || cur) return;
    f->flag = NULL;
    f->wake_us = INT64_MAX;
    cur = f;
    asan_leave(&fake, f->stack, f->stacklen);
    swap(&sched_ctx, &f->ctx);
    asan_arrive(fake, NULL, NULL);
    cur = NULL;
}

int
fiber_busy(const fiber *f)
{
    return f->busy;
}

int
fiber_ready(const fiber *f, int64_t now_us)
{
    if (!f->busy) return 0;
    if (f->flag) return *f->flag != 0;
    return f->wake_us <= now_us;
}

int64_t
fiber_wake_at(const fiber *f)
{
    return f->busy && !f->flag ? f->wake_us : INT64_MAX;
}

fiber *
fiber_current(void)
{
    return cur;
}

/* park goes back to the scheduler; it returns when the scheduler resumes us. */
static void
park(fiber *f)
{
    asan_leave(&f->asan_fake, sched_bottom, sched_size);
    swap(&f->ctx, &sched_ctx);
    asan_arrive(f->asan_fake, &sched_bottom, &sched_size);
}

void
fiber_wait(volatile int *flag)
{
    fiber *f = cur;
    if (!f) return; /* nobody could set it while we spun: the caller never waits outside a fiber */
    while (!*flag) {
        f->flag = flag;
        f->wake_us = INT64_MAX;
        park(f);
    }
}

void
fiber_nap_us(int64_t us)
{
    fiber *f = cur;
    if (!f) {
        clock_nap_us(us);
        return;
    }
    int64_t until = fiber_now_us() + us;
    while (fiber_now_us() < until) { /* resumed early: nap on */
        f->flag = NULL;
        f->wake_us = until;
        park(f);
    }
}
