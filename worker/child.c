/* child.c - a worker child: its signals, its Redis connection and the job
 * loop (fetch a batch, run each job, acknowledge it with its outcome). */
#include "fmacros.h"
#include "calls.h"
#include "clock.h"
#include "db.h"
#include "funcs.h"
#include "http.h"
#include "log.h"
#include "services.h"
#include "worker.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define REDIS_TIMEOUT_MS 5000 /* above the 1 s block of BLMOVE (docs/DESIGN.md §7) */

#define SLOW_JOB_MS 20 /* a batch with a job slower than this shrinks the next fetch to 1 */
/* No job of a batch waits behind one whose action this child has not yet
 * seen finish, or has seen take this long on average (stats_mean_ms). */
#define HOLD_BEHIND_MS 5

static volatile sig_atomic_t abort_now; /* handlers poll it; set on the way out */
static pid_t master_pid;
static board_slot *my_slot;
static timer_t lease_timer;

/* on_term honours SIGTERM only from the master, which sends it to a child
 * whose job is past its deadline: leave at once (the master records the
 * timeout and SIGKILLs us if we do not). Outside signals go to the master,
 * which gives orders (docs/DESIGN.md §3). */
static void
on_term(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)uctx;
    if (si && si->si_pid == master_pid) {
        abort_now = 1;
        _exit(CHILD_EXIT_KILLED);
    }
}

/* lease_arm sets the watchdog to fire once, just after until_ms
 * (CLOCK_MONOTONIC). timer_settime is async-signal-safe: on_lease re-arms
 * with it. */
static void
lease_arm(int64_t until_ms)
{
    int64_t at = until_ms + 1; /* the lease holds up to and including until_ms */
    struct itimerspec its = {{0, 0}, {(time_t)(at / 1000), (long)(at % 1000) * 1000000L}};
    timer_settime(lease_timer, TIMER_ABSTIME, &its, NULL);
}

/* on_lease is the lease watchdog (docs/LEASES.md): a SIGALRM at the
 * deadline its master last renewed on the status board ends the child, job
 * and all, unless the deadline has moved since, in which case it waits for
 * the new one. It needs nothing from the master, so a stopped, blocked or
 * partitioned master cannot keep a child running past its lease; and a
 * child wakes once a lease (15 s by default), not ten times a second (a
 * worker of 64 idle children took 7 % of a core, now 4 %). Only async-signal-safe calls:
 * clock_gettime, an atomic load, timer_settime, write, _exit. The job is not
 * acknowledged: it stays in our in-flight list for the requeue. */
static void
on_lease(int sig)
{
    static const char msg[] = "{\"level\":\"error\",\"event\":\"child.lease\",\"msg\":"
                              "\"lease not renewed in time: stopping (the job is not acknowledged)\"}\n";
    (void)sig;
    int64_t until = board_lease(my_slot);
    if (clock_mono_ms() <= until) {
        if (until != INT64_MAX) lease_arm(until);
        return;
    }
    ssize_t w = write(2, msg, sizeof(msg) - 1);
    (void)w; /* we are leaving either way */
    _exit(CHILD_EXIT_LEASE);
}

/* lease_watch arms the watchdog on CLOCK_MONOTONIC. SA_RESTART keeps it out
 * of the way of hiredis, libpq and curl (CURLOPT_NOSIGNAL: curl never uses
 * SIGALRM itself). */
static int
lease_watch(void)
{
    struct sigaction sa;
    struct sigevent ev;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_lease;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) < 0) return -1;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGALRM;
    if (timer_create(CLOCK_MONOTONIC, &ev, &lease_timer) < 0) return -1;
    on_lease(SIGALRM); /* arms it, or ends a child whose lease lapsed before it got here */
    return 0;
}

int
child_signals(pid_t master)
{
    struct sigaction sa;
    sigset_t none;
    master_pid = master;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGHUP, &sa, NULL) < 0 ||
        sigaction(SIGTSTP, &sa, NULL) < 0 || sigaction(SIGTTIN, &sa, NULL) < 0 || sigaction(SIGTTOU, &sa, NULL) < 0)
        return -1;
    sa.sa_handler = SIG_DFL;
    if (sigaction(SIGCHLD, &sa, NULL) < 0) return -1;
    sa.sa_handler = NULL;
    sa.sa_sigaction = on_term;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGTERM, &sa, NULL) < 0) return -1;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) return -1;
    /* die with the master: a child never outlives it */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) return -1;
    if (getppid() != master) return -1;
    return 0;
}

/* orders are what the master says over the pipe: 'q' finish the current job
 * and exit, 'p' stop fetching (quiet), 'r' fetch again. EOF means the master
 * is gone: exit. */
typedef struct orders {
    int quit, quiet;
} orders;

static void
ctl_read(int fd, orders *o)
{
    char buf[16];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == 'q') o->quit = 1;
            else if (buf[i] == 'p') o->quiet = 1;
            else if (buf[i] == 'r') o->quiet = 0;
        }
    }
    if (n == 0) o->quit = 1;
}

/* ctl_wait sleeps until an order arrives or ms pass. */
static void
ctl_wait(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    (void)poll(&p, 1, ms); /* EINTR or a timeout: the caller looks again */
}

typedef struct pending {
    queue_ack acks[QUEUE_MAX_BATCH];
    int n;
} pending;

static void
pending_clear(pending *p)
{
    for (int i = 0; i < p->n; i++) queue_ack_free(&p->acks[i]);
    p->n = 0;
}

/* pending_send queues (without waiting) one step on queue qi with the acks
 * p holds, then empties p. */
static int
pending_send(fetcher *f, int qi, pending *p)
{
    int rc = p->n ? fetch_step(f, qi, p->acks, p->n, NULL, NULL, 0) : 0;
    pending_clear(p);
    return rc;
}

/* idempotent_done says whether a job with this idempotency key succeeded
 * within its window (1), not (0), or Redis failed (-1). The replies owed by
 * the pipelined steps are read first. */
static int
idempotent_done(fetcher *f, int qi, const char *key)
{
    char k[KEY_MAX + 512];
    if (fetch_sync(f) < 0) return -1;
    keys_idok(k, sizeof(k), f->cfg->prefix, f->cfg->queues[qi].name, key);
    const char *argv[] = {"EXISTS", k};
    size_t lens[] = {6, strlen(k)};
    rds_reply *x = rds_cmd(f->r, 2, argv, lens);
    int rc = rds_reply_ok(f->r, x) ? rds_reply_int(x) == 1 : -1;
    rds_reply_free(x);
    return rc;
}

/* count adds the attempt that just ended to our board slot's counters for
 * /metrics: the status its record carries and, when the handler ran, its
 * duration (-1: it did not). Only names of registered handlers become
 * labels. No syscall, no Redis: a few stores into shared memory. */
static void
count(const job *j, const queue_ack *a, int64_t duration_ms)
{
    int known = j->env_ok && (j->fn || handler_find(j->env.service, j->env.action));
    if (!a->status) return;
    stats_count(board_stats(my_slot), known ? j->env.service : NULL, known ? j->env.action : NULL,
                stats_status_of(a->status), duration_ms);
}

/* hand_back returns jobs i.. of b, never started, to the queue. */
static void
hand_back(batch *b, int from, job_ctx *c, pending *p)
{
    for (int i = b->got.n - 1; i >= from && p->n < QUEUE_MAX_BATCH; i--) {
        job j;
        memset(&j, 0, sizeof(j));
        j.f = &b->got.jobs[i];
        if (wrap_parse(j.f->entry, j.f->len, &j.w) < 0) continue; /* left for the reaper */
        job_handback(&j, c, 0, &p->acks[p->n++]);
    }
}

/* shed hands back the jobs after job i of b (j) before j starts, so none
 * waits behind it (docs/DESIGN.md §7): when a sibling is blocked on b's
 * queue (it wakes on the push and runs them now), and when j may be slow (its
 * action never finished here, or took HOLD_BEHIND_MS or more on average). The
 * hand-back rides on j's start step. */
static void
shed(fetcher *f, batch *b, int i, const job *j, job_ctx *c, pending *p)
{
    if (i + 1 >= b->got.n) return;
    int known = j->env_ok && (j->fn || handler_find(j->env.service, j->env.action));
    int64_t mean = stats_mean_ms(board_stats(my_slot), known ? j->env.service : NULL, known ? j->env.action : NULL);
    if (mean >= 0 && mean < HOLD_BEHIND_MS && board_waiters(f->slot, b->queue) == 0) return;
    hand_back(b, i + 1, c, p);
    b->got.n = i + 1;
}

/* add_ack puts a at the end of p (which owns it from now on), first
 * sending what p holds when it is full. */
static int
add_ack(fetcher *f, int qi, pending *p, queue_ack *a)
{
    int rc = p->n == QUEUE_MAX_BATCH ? pending_send(f, qi, p) : 0;
    p->acks[p->n++] = *a;
    return rc;
}

/* run_alone says whether j may run now in a child with lanes (k): a
 * handler that is not handler_concurrent runs by itself. Beside other jobs
 * it is handed back (before it starts, no attempt used) and the child
 * fetches one job once its lanes are done (1: handed back). */
static int
run_alone(calls *k, job *j, job_ctx *c, fetcher *f, int qi, pending *p, int *alone)
{
    queue_ack a;
    if (!k || !j->fn || handler_concurrent(j->fn)) return 0;
    if (calls_busy(k) == 1 && !k->alone) {
        k->alone = *alone = 1; /* nothing starts beside it */
        return 0;
    }
    job_handback(j, c, 0, &a);
    (void)add_ack(f, qi, p, &a); /* a failed send shows in the next step or fetch */
    k->want_alone = 1;
    return 1;
}

/* run_one runs job i of b: its start step carries the acks still pending.
 * entry is its place on our board slot; k the child's lanes when it runs
 * in one (NULL: the child runs one job at a time). */
static int
run_one(fetcher *f, batch *b, int i, job_ctx *c, pending *p, int entry, calls *k)
{
    job j;
    queue_ack a;
    int rc = 0, alone = 0;
    job_prepare(&j, &b->got.jobs[i], c, 1);
    log_job dbg = {j.id, j.env_ok ? j.env.service : NULL, j.env_ok ? j.env.action : NULL};
    if (j.reject[0]) {
        job_reject(&j, c, &a);
        count(&j, &a, -1);
        rc = add_ack(f, b->queue, p, &a);
        log_job_msg(LOG_WARN, "job.dead_letter", &dbg, j.reject, "job moved to dead-letter without running");
        goto out;
    }
    if (j.env.idempotency_key) {
        int seen = idempotent_done(f, b->queue, j.env.idempotency_key);
        if (seen < 0) {
            rc = -1;
            goto out;
        }
        if (seen) {
            job_skip(&j, c, &a);
            rc = add_ack(f, b->queue, p, &a);
            log_job_msg(LOG_INFO, "job.skip", &dbg, NULL, "idempotency key already succeeded: not run again");
            goto out;
        }
    }
    size_t len;
    if (run_alone(k, &j, c, f, b->queue, p, &alone)) goto out;
    if (!k) shed(f, b, i, &j, c, p); /* with lanes every job of a batch starts at once */
    on_lease(SIGALRM); /* no job starts on a lapsed lease (the watchdog would end it anyway) */
    char *rec = job_start_record(&j, c, &len);
    board_job bj = {1, b->queue, j.started_ms,
                    j.started_ms + job_timeout_ms(&j, c->cfg) + handler_deadline_slack_ms(j.env.service, j.env.action), "",
                    ""};
    snprintf(bj.tag, sizeof(bj.tag), "%s", j.w.tag);
    snprintf(bj.id, sizeof(bj.id), "%s", j.id);
    board_begin(my_slot, entry, &bj); /* before the step: if we die, the master knows the job */
    rc = fetch_step(f, b->queue, p->acks, p->n, j.w.tag, rec, len);
    free(rec);
    pending_clear(p);
    if (rc < 0) goto out;
    job_run(&j, c, &a); /* with lanes, others run while it waits: p may change meanwhile */
    board_end(my_slot, entry);
    int64_t took = clock_wall_ms() - j.started_ms;
    count(&j, &a, took);
    rc = add_ack(f, b->queue, p, &a);
    if (!k && took > SLOW_JOB_MS) {
        f->want = 1;
        f->slow = 1;
    }
out:
    if (alone) k->alone = 0;
    job_free(&j);
    return rc;
}

/* run_batch runs b's jobs in order. After a slow job the rest of the batch
 * goes back to the queue, so idle children take it instead of it waiting
 * here; a 'q' order from the master does the same, and so does a sibling
 * blocked on the queue (shed). */
static int
run_batch(fetcher *f, batch *b, job_ctx *c, int ctl_fd, orders *o)
{
    pending p = {.n = 0};
    int i, rc = 0;
    c->queue = f->cfg->queues[b->queue].name;
    f->slow = 0;
    for (i = 0; i < b->got.n && rc == 0 && !f->slow; i++) {
        /* also before the first job: an order that came while we waited in
         * the fetch (a reload, a stop) is obeyed before anything runs */
        ctl_read(ctl_fd, o);
        if (o->quit || o->quiet) break;
        rc = run_one(f, b, i, c, &p, 0, NULL);
    }
    if (rc == 0 && i < b->got.n) hand_back(b, i, c, &p);
    if (rc == 0) rc = pending_send(f, b->queue, &p);
    pending_clear(&p);
    return rc; /* the replies are read behind the next fetch, or before we stop */
}

static int
loop(fetcher *f, job_ctx *c, int ctl_fd)
{
    orders o = {0, 0};
    for (;;) {
        ctl_read(ctl_fd, &o);
        if ((o.quit || o.quiet) && fetch_sync(f) < 0) return -1;
        if (o.quit) return 0;
        if (o.quiet) {
            ctl_wait(ctl_fd, 1000);
            continue;
        }
        batch b;
        if (fetch_next(f, &b, 1) < 0 || handler_publish(f->r, f->cfg, 0) < 0) {
            batch_free(&b);
            return -1;
        }
        if (b.got.status == QUEUE_FETCH_BACKPRESSURE) {
            batch_free(&b);
            clock_nap_ms(200); /* PostgreSQL is behind: let the writer catch up */
            continue;
        }
        int before = f->want;
        int rc = b.got.n ? run_batch(f, &b, c, ctl_fd, &o) : 0;
        /* grow the batch while jobs are fast; a slow job dropped it to 1, so
         * the jobs behind it stay in the queue for idle children */
        if (f->want == before && b.got.n == before && f->want < f->cfg->batch)
            f->want = f->want * 2 > f->cfg->batch ? f->cfg->batch : f->want * 2;
        batch_free(&b);
        if (rc < 0) return -1;
    }
}

/* ---- several jobs at once (SYNCQ_CHILD_CALLS > 1) ---- */

#define LANES_WAIT_MS 100 /* the most a poll waits when no lane is free: a transfer's end wakes it */
/* With a lane free and the queues found empty, the child looks again after
 * LANES_POLL_MS, doubling up to LANES_POLL_MAX_MS while they stay empty: a
 * child whose lanes wait on long calls costs Redis a few fetches a second,
 * not 200. A push reaches a child blocked in BLMOVE (none in flight) at once. */
#define LANES_POLL_MS 2
#define LANES_POLL_MAX_MS 100

/* A fetched batch, held until the last of its jobs is done with it. */
typedef struct held {
    batch b;
    int refs;
} held;

static void
held_drop(held *h)
{
    if (--h->refs > 0) return;
    batch_free(&h->b);
    free(h);
}

typedef struct lanes lanes;

typedef struct lane_job {
    lanes *s;
    held *h;
    int i, lane;
} lane_job;

/* lanes is the state of the loop: the acks the lanes left, per queue
 * (every step is one queue's), and what each lane runs. */
struct lanes {
    fetcher *f;
    calls *k;
    pending p[CONFIG_MAX_QUEUES];
    lane_job jobs[CONFIG_MAX_CALLS];
    int failed;  /* a lane lost Redis: the child ends */
    int poll_ms; /* the next wait for jobs with a lane free (LANES_POLL_MS) */
    int behind;  /* the last fetch found PostgreSQL behind (backpressure): poll, do not wait for a push */
    rds wake;    /* the second connection lanes_arm waits for a push on */
    int no_wake; /* a cluster: poll instead */
};

static void
lane_run(void *arg)
{
    lane_job *w = arg;
    lanes *s = w->s;
    job_ctx *c = &s->k->lane[w->lane].ctx;
    int qi = w->h->b.queue;
    c->queue = s->f->cfg->queues[qi].name;
    if (run_one(s->f, &w->h->b, w->i, c, &s->p[qi], w->lane, s->k) < 0) s->failed = 1;
    held_drop(w->h);
}

static int
lanes_sync(void *arg)
{
    return fetch_sync(arg);
}

/* lanes_flush sends the acks the lanes left, one step per queue, without
 * waiting (the replies are read before a lane goes on, or behind a fetch). */
static int
lanes_flush(lanes *s)
{
    for (int q = 0; q < s->f->cfg->nqueues; q++)
        if (pending_send(s->f, q, &s->p[q]) < 0) return -1;
    return 0;
}

/* lanes_start starts h's jobs, each in an idle lane. An order that came
 * while the fetch waited (a reload, a stop) is obeyed first: the jobs go
 * back unstarted. Returns the jobs started. */
static int
lanes_start(lanes *s, held *h, int ctl_fd, orders *o)
{
    calls *k = s->k;
    int n = 0;
    if (h->b.got.n) k->want_alone = 0;
    ctl_read(ctl_fd, o);
    if (h->b.got.n && (o->quit || o->quiet)) {
        job_ctx *c = &k->lane[0].ctx;
        c->queue = s->f->cfg->queues[h->b.queue].name;
        hand_back(&h->b, 0, c, &s->p[h->b.queue]);
        h->b.got.n = 0;
    }
    for (; n < h->b.got.n; n++) {
        int l = calls_idle(k); /* there is one: we asked for no more */
        s->jobs[l] = (lane_job){s, h, n, l};
        h->refs++;
        calls_start(k, l, lane_run, &s->jobs[l]);
    }
    return n;
}

/* lanes_fetch asks for as many jobs as lanes are idle (one when a job that
 * runs alone waits for the others), blocking only when none runs, and
 * starts them. Returns the jobs started, or -1. */
static int
lanes_fetch(lanes *s, int busy, int ctl_fd, orders *o)
{
    calls *k = s->k;
    held *h = xcalloc(1, sizeof(*h));
    int idle = k->n - busy, n = -1;
    h->refs = 1;
    s->f->want = k->want_alone ? 1 : idle < s->f->cfg->batch ? idle : s->f->cfg->batch;
    if (fetch_next(s->f, &h->b, busy == 0) == 0 && handler_publish(s->f->r, s->f->cfg, 0) == 0) {
        s->behind = h->b.got.status == QUEUE_FETCH_BACKPRESSURE;
        if (s->behind && busy == 0) clock_nap_ms(200); /* let the writer catch up */
        n = lanes_start(s, h, ctl_fd, o);
    }
    held_drop(h);
    return n;
}

/* lanes_woken settles the BLMOVE lanes_arm left waiting (see fetch_arm) and
 * starts the job it brought, if any. Returns the jobs started, or -1. */
static int
lanes_woken(lanes *s, int ctl_fd, orders *o)
{
    held *h = xcalloc(1, sizeof(*h));
    int n = -1;
    h->refs = 1;
    if (fetch_woken(s->f, &s->wake, &h->b) == 0) n = lanes_start(s, h, ctl_fd, o);
    held_drop(h);
    return n;
}

/* lanes_arm: the queues were found empty with a lane free and others busy.
 * Wait for a push on the wake connection (connected on first use) while the
 * lanes go on: a job then starts at once, where polling would leave it
 * waiting for the next look. 1 armed, 0 not possible (a cluster, whose
 * queues live on many nodes, or every queue paused: the caller polls), -1. */
static int
lanes_arm(lanes *s)
{
    if (s->no_wake) return 0;
    if (!rds_connected(&s->wake)) {
        if (rds_connect(&s->wake, s->f->cfg->redis_url, REDIS_TIMEOUT_MS) < 0) {
            rds_set_error(s->f->r, s->wake.err, "%s", s->wake.errstr);
            return -1;
        }
        if (rds_fd(&s->wake) < 0) { /* a cluster */
            rds_close(&s->wake);
            s->no_wake = 1;
            return 0;
        }
    }
    return fetch_arm(s->f, &s->wake);
}

/* wake_ready: the armed BLMOVE's reply has arrived (or the socket failed:
 * reading it then says so). */
static int
wake_ready(lanes *s)
{
    struct pollfd p = {rds_fd(&s->wake), POLLIN, 0};
    return poll(&p, 1, 0) > 0;
}

/* lanes_wait is how long calls_run may wait for something to happen: not at
 * all when jobs just started; with a lane free and the queues empty, until
 * a push wakes the armed BLMOVE, or (no wake connection) until the next
 * look: LANES_POLL_MS doubling while they stay empty. */
static int
lanes_wait(lanes *s, int got, int busy, int stopping)
{
    calls *k = s->k;
    if (got > 0) {
        s->poll_ms = LANES_POLL_MS;
        return 0;
    }
    if (s->f->armed || busy == k->n || stopping || k->alone || k->want_alone || s->behind) return LANES_WAIT_MS;
    int armed = lanes_arm(s);
    if (armed != 0) return armed < 0 ? -1 : LANES_WAIT_MS;
    int wait = s->poll_ms;
    s->poll_ms = s->poll_ms * 2 > LANES_POLL_MAX_MS ? LANES_POLL_MAX_MS : s->poll_ms * 2;
    return wait;
}

/* loop_lanes is loop for a child with lanes: fetch while a lane is idle,
 * move the calls on, send the acks. An order to stop or pause lets the
 * running jobs finish first. */
static int
loop_lanes(lanes *s, int ctl_fd)
{
    orders o = {0, 0};
    calls *k = s->k;
    for (;;) {
        ctl_read(ctl_fd, &o);
        int busy = calls_busy(k), stopping = o.quit || o.quiet, got = 0;
        if (s->f->armed && (stopping || wake_ready(s))) {
            if ((got = lanes_woken(s, ctl_fd, &o)) < 0) return -1;
            busy = calls_busy(k);
        }
        if (!s->f->armed && !stopping && busy < k->n && !k->alone && !(k->want_alone && busy)) {
            int n = lanes_fetch(s, busy, ctl_fd, &o);
            if (n < 0) return -1;
            got += n;
            busy = calls_busy(k);
        }
        if (!busy && !s->f->armed) {
            if (!stopping) continue; /* the next fetch blocks */
            if (lanes_flush(s) < 0 || fetch_sync(s->f) < 0) return -1;
            if (o.quit) return 0;
            ctl_wait(ctl_fd, 1000);
            continue;
        }
        int wait = lanes_wait(s, got, busy, stopping);
        if (wait < 0) return -1;
        int fd = s->f->armed ? rds_fd(&s->wake) : -1;
        if (calls_run(k, wait, fd, lanes_sync, s->f) < 0 || s->failed || lanes_flush(s) < 0) return -1;
    }
}

static int
run_lanes(fetcher *f, calls *k, int ctl_fd)
{
    lanes *s = xcalloc(1, sizeof(*s));
    s->f = f;
    s->k = k;
    s->poll_ms = LANES_POLL_MS;
    rds_init(&s->wake);
    int rc = loop_lanes(s, ctl_fd);
    f->armed = 0;
    rds_close(&s->wake);
    for (int q = 0; q < CONFIG_MAX_QUEUES; q++) pending_clear(&s->p[q]);
    free(s); /* after -1 the child ends: its lanes are never resumed */
    return rc;
}

/* register_services registers the services file's actions: HTTP mutations
 * (h_http.c), HTTP syncs (h_sync.c), exec syncs (h_exec_sync.c) and exec
 * handlers (h_exec.c). Here, not in handler.c, so the registry knows no
 * handler and the handlers depend on the registry only. */
static void
register_services(const svc_file *svc)
{
    http_handlers_register(svc);
    sync_handlers_register(svc);
    exec_sync_register(svc);
    exec_handlers_register(svc);
}

int
child_main(const config *cfg, const char *wid, int ctl_fd, board_slot *slot, const svc_file *svc)
{
    rds r;
    db d;
    http_client http;
    fetcher f;
    calls k;
    handler_world world = {cfg, svc, &r, &f, &d, &http, board_stats(slot)};
    job_ctx c = {cfg, wid, NULL, &abort_now, (uint64_t)getpid() * 0x9E3779B97F4A7C15ull, &world, NULL};
    int rc = CHILD_EXIT_REDIS;

    rds_init(&r);
    db_init(&d);
    memset(&http, 0, sizeof(http));
    memset(&k, 0, sizeof(k));
    my_slot = slot;
    if (fcntl(ctl_fd, F_SETFL, O_NONBLOCK) < 0) return CHILD_EXIT_CONFIG;
    /* curl state is created here, after fork (docs/DESIGN.md §10, fork hygiene) */
    if (http_global_init() < 0 || http_init(&http) < 0) return CHILD_EXIT_CONFIG;
    handler_register_builtins(); /* the plugins' handlers are in the table already (the master's) */
    if (svc) register_services(svc);
    if (lease_watch() < 0) {
        log_msg(LOG_ERROR, "child.lease", "timer_create() for the lease watchdog failed: %s", strerror(errno));
        rc = CHILD_EXIT_CONFIG;
        goto out;
    }
    if (rds_connect(&r, cfg->redis_url, REDIS_TIMEOUT_MS) < 0 || funcs_ensure(&r) < 0 ||
        reaper_register(&r, cfg, wid, "child") < 0 || handler_publish(&r, cfg, 1) < 0) {
        log_msg(LOG_ERROR, "child.redis", "%s", r.errstr);
        if (r.err == RDS_ERR_CONFIG) rc = CHILD_EXIT_CONFIG; /* e.g. a newer library that no longer serves us */
        goto out;
    }
    fetcher_init(&f, &r, cfg, wid);
    f.slot = slot;
    if (cfg->calls > 1 && calls_init(&k, cfg->calls, &world, &c) < 0) {
        log_msg(LOG_ERROR, "child.calls", "could not make %d lanes (SYNCQ_CHILD_CALLS): %s", cfg->calls,
                strerror(errno));
        rc = CHILD_EXIT_CONFIG;
        goto out;
    }
    log_msg(LOG_DEBUG, "child.start", "worker %s ready", wid);
    for (;;) {
        if ((cfg->calls > 1 ? run_lanes(&f, &k, ctl_fd) : loop(&f, &c, ctl_fd)) == 0) break;
        if (r.err == RDS_ERR_FENCED) {
            /* our jobs were requeued: whatever we had not acknowledged runs elsewhere */
            log_msg(LOG_ERROR, "child.lease", "lease lost: outcome discarded (%s)", r.errstr);
            rc = CHILD_EXIT_LEASE;
            goto out;
        }
        log_msg(LOG_ERROR, "child.redis", "%s", r.errstr);
        goto out; /* the master respawns us; our in-flight jobs go back to the queue */
    }
    reaper_forget(&r, cfg, wid);
    rc = CHILD_EXIT_OK;
out:
    calls_close(&k);
    rds_close(&r);
    db_close(&d);
    http_close(&http);
    handler_clear();
    return rc;
}
