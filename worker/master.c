/* master.c - the syncq-worker master: forks N job children and one audit
 * writer, reaps and respawns them (backing off when they crash in a loop),
 * refreshes their leases, sweeps orphans and promotes due retries, and shuts
 * down gracefully. It never runs a job. Signal handlers only set flags and
 * write a byte to a self-pipe that the main loop polls. */
#include "fmacros.h"
#include "clock.h"
#include "durability.h"
#include "funcs.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "services.h"
#include "url.h"
#include "uuid.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SLOTS 257         /* 256 job children + the writer */
#define TICK_MS 100
#define CRASH_WINDOW_MS 5000  /* a child dying younger than this counts as a crash loop */
#define RESPAWN_MAX_MS 30000
#define PROMOTE_EVERY_MS 500
#define REDIS_LOG_EVERY 100   /* failed connects per log line while Redis is away (10 s of ticks) */
#define WRITER_GRACE_MS 10000 /* after the job children's grace, for the last audit records */
#define REDIS_TIMEOUT_MAX_MS 2000 /* the master's Redis timeout: TTL/6, at most this (docs/LEASES.md) */
#define REDIS_TIMEOUT_MIN_MS 200

enum { ROLE_JOB = 0, ROLE_WRITER = 1 };

typedef struct slot {
    pid_t pid;              /* 0 when empty */
    int ctl;                /* write end of the order pipe, -1 when none */
    int role;
    char wid[WORKER_ID_MAX];
    int64_t born_ms;
    int crashes;            /* consecutive early deaths */
    int64_t respawn_at_ms;  /* when an empty slot may be refilled */
    int told;               /* 'q' sent */
    int64_t term_at_ms;     /* wall ms SIGTERM went to a child past its deadline, 0 none */
    int64_t timeout_ms;     /* the deadline it missed */
    char timeout_tag[WRAP_TAG_MAX]; /* the delivery that missed it (its siblings go back unharmed) */
    int killed;             /* SIGKILL sent */
    int shutdown_killed;    /* killed because the shutdown grace ran out */
    int lease_killed;       /* killed because its lease ran out or was fenced */
} slot;

typedef struct master {
    config *cfg;
    char host[128], boot[17], wid[WORKER_ID_MAX];
    rds r;
    int connected;
    slot slots[MAX_SLOTS];
    int nslots;             /* slots[0] is the writer; 1..nslots-1 job children */
    int want;               /* job children wanted (SIGTTIN/SIGTTOU); slots past it retire */
    int64_t last_lease_ok_ms, next_beat_ms, next_sweep_ms, next_promote_ms, next_schedule_ms;
    int lease_failing;      /* refreshes are failing: logged once, then once more on the kill */
    board_slot *board;      /* shared with the children, MAX_SLOTS slots */
    mhttp http;             /* /metrics and /healthz (SYNCQ_METRICS_ADDR); closed in children */
    metrics_counters mc;    /* restarts, crashes, reconnects, reaped children's job counters */
    int ever_connected;     /* to Redis: every later connect is a reconnect */
    int redis_fails;        /* failed connects since the last success, for the log */
    svc_file *svc;          /* the services file, plain data children inherit; NULL without one */
    int stopping;           /* SIGTERM/SIGINT seen */
    int quiet;              /* SIGTSTP seen: children do not fetch (until SIGCONT) */
    int published;          /* the services file's defaults are in Redis */
    int64_t deadline_ms;    /* when stopping: SIGKILL what is left */
    notifier sd;            /* systemd readiness and watchdog (Type=notify) */
    int exit_code;          /* master_run's result: 0, or EX_CONFIG after a configuration error */
} master;

static int sigpipe_fds[2] = {-1, -1};
static volatile sig_atomic_t got_term, got_chld, got_hup, got_ttin, got_ttou, got_tstp, got_cont;

static void
on_signal(int sig)
{
    int saved = errno;
    switch (sig) {
    case SIGTERM:
    case SIGINT: got_term++; break;
    case SIGCHLD: got_chld = 1; break;
    case SIGHUP: got_hup = 1; break;
    case SIGTTIN: got_ttin++; break;
    case SIGTTOU: got_ttou++; break;
    case SIGTSTP: got_tstp = 1; break;
    case SIGCONT: got_cont = 1; break;
    default: break;
    }
    ssize_t w = write(sigpipe_fds[1], "s", 1);
    (void)w; /* a full pipe already wakes the loop */
    errno = saved;
}

static int
master_signals(void)
{
    struct sigaction sa;
    int sigs[] = {SIGTERM, SIGINT, SIGCHLD, SIGHUP, SIGTTIN, SIGTTOU, SIGTSTP, SIGCONT};
    if (pipe(sigpipe_fds) < 0) return -1;
    for (int i = 0; i < 2; i++)
        if (fcntl(sigpipe_fds[i], F_SETFL, O_NONBLOCK) < 0) return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) < 0) return -1;
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) < 0) return -1;
    return 0;
}

void
worker_id(char *out, size_t len, const char *boot, int pid)
{
    char host[128];
    if (gethostname(host, sizeof(host)) < 0) snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    for (char *p = host; *p; p++)
        if (*p == ':' || *p == ' ' || *p == '{' || *p == '}') *p = '_';
    snprintf(out, len, "%s:%d:%s", host, pid, boot);
}

static void redis_lost(master *m);
static void begin_stop(master *m, int64_t now);
static void publish_defaults(master *m);
static void trim(master *m);

/* lease_ms is how long a child may run after a refresh Redis accepted: half
 * the TTL, so it has stopped well before its heartbeat key can expire and
 * another master requeue its jobs (docs/LEASES.md). */
static int64_t
lease_ms(const master *m)
{
    return (int64_t)m->cfg->heartbeat_ttl_s * 500;
}

/* redis_timeout_ms bounds every Redis call of the master (connect, read,
 * write) well under the lease, so no call can hold its loop past the
 * deadlines it keeps. */
static int
redis_timeout_ms(const master *m)
{
    int t = m->cfg->heartbeat_ttl_s * 1000 / 6;
    return t > REDIS_TIMEOUT_MAX_MS ? REDIS_TIMEOUT_MAX_MS : t < REDIS_TIMEOUT_MIN_MS ? REDIS_TIMEOUT_MIN_MS : t;
}

/* ---- children ---- */

static void
close_inherited(master *m, int keep)
{
    close(sigpipe_fds[0]);
    close(sigpipe_fds[1]);
    for (int i = 0; i < m->nslots; i++)
        if (i != keep && m->slots[i].ctl >= 0) close(m->slots[i].ctl);
    rds_forget(&m->r);
    mhttp_forget(&m->http);
}

/* limit applies the optional per-child rlimits. ASan reserves terabytes of
 * address space, so a sanitizer build limits the data segment instead. */
static int
limit(const config *c)
{
#ifdef __SANITIZE_ADDRESS__
    const int mem = RLIMIT_DATA;
#else
    const int mem = RLIMIT_AS;
#endif
    struct rlimit cpu = {(rlim_t)c->child_cpu_s, (rlim_t)c->child_cpu_s + 1};
    struct rlimit as = {(rlim_t)c->child_mem_mb << 20, (rlim_t)c->child_mem_mb << 20};
    if (c->child_cpu_s && setrlimit(RLIMIT_CPU, &cpu) < 0) return -1;
    if (c->child_mem_mb && setrlimit(mem, &as) < 0) return -1;
    return 0;
}

static void
child_enter(master *m, int idx, int ctl_rd)
{
    pid_t parent = getppid();
    char wid[WORKER_ID_MAX];
    close_inherited(m, -1);
    if (setpgid(0, 0) < 0 || child_signals(parent) < 0) _exit(CHILD_EXIT_CONFIG);
    if (m->slots[idx].role == ROLE_JOB && limit(m->cfg) < 0) _exit(CHILD_EXIT_CONFIG);
    worker_id(wid, sizeof(wid), m->boot, (int)getpid());
    /* ps, top and pgrep tell the roles apart (the command line stays the master's) */
    (void)prctl(PR_SET_NAME, m->slots[idx].role == ROLE_WRITER ? "syncq-writer" : "syncq-job", 0, 0, 0);
    int rc = m->slots[idx].role == ROLE_WRITER ? writer_main(m->cfg, wid, ctl_rd, board_at(m->board, idx))
                                               : child_main(m->cfg, wid, ctl_rd, board_at(m->board, idx), m->svc);
    _exit(rc);
}

/* order writes one order byte to a child ('q' quit, 'p' quiet, 'r' resume). */
static void
order(slot *s, char c)
{
    if (s->pid && s->ctl >= 0 && !s->told) {
        ssize_t w = write(s->ctl, &c, 1);
        (void)w; /* a dead child's pipe: the reap handles it */
        if (c == 'q') s->told = 1;
    }
}

static int
spawn(master *m, int idx)
{
    slot *s = &m->slots[idx];
    int p[2];
    if (pipe(p) < 0) {
        log_msg(LOG_ERROR, "master.spawn", "pipe() failed: %s", strerror(errno));
        return -1;
    }
    board_clear(board_at(m->board, idx));
    /* the child registers its heartbeat right away; until the first refresh
     * it holds the lease of a fresh key */
    board_lease_set(board_at(m->board, idx), clock_mono_ms() + lease_ms(m));
    s->term_at_ms = s->timeout_ms = 0;
    s->timeout_tag[0] = '\0';
    s->killed = s->shutdown_killed = s->lease_killed = 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        log_msg(LOG_ERROR, "master.spawn", "fork() failed: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[1]);
        child_enter(m, idx, p[0]);
    }
    close(p[0]);
    if (s->born_ms) m->mc.restarts++; /* the slot had a child before */
    s->pid = pid;
    s->ctl = p[1];
    s->told = 0;
    s->born_ms = clock_mono_ms();
    worker_id(s->wid, sizeof(s->wid), m->boot, (int)pid);
    /* the heartbeat exists before the first refresh (SET XX) can miss it */
    if (m->connected && reaper_register(&m->r, m->cfg, s->wid, s->role == ROLE_WRITER ? "writer" : "child") < 0)
        redis_lost(m);
    if (m->quiet && s->role == ROLE_JOB) order(s, 'p');
    log_msg(LOG_DEBUG, "master.spawn", "started %s %d", s->role == ROLE_WRITER ? "writer" : "child", (int)pid);
    return 0;
}

static void
describe_exit(int st, char *buf, size_t len)
{
    if (WIFSIGNALED(st)) snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else snprintf(buf, len, "exited with code %d", WEXITSTATUS(st));
}

/* salvage_one records job i of a dead child, per the status board. With
 * several jobs in flight (SYNCQ_CHILD_CALLS), a deadline kill times out the
 * one job that missed it and hands its siblings back without using an
 * attempt; a crash counts against every job the child held. */
static void
salvage_one(master *m, slot *s, int idx, int i, int st, long maxrss_kb)
{
    board_job bj;
    char how[256], why[96];
    if (board_read(board_at(m->board, idx), i, &bj) < 0 || !bj.running) return;
    describe_exit(st, why, sizeof(why));
    salvage_kind kind = SALVAGE_CRASH;
    if (s->timeout_ms && strcmp(bj.tag, s->timeout_tag)) {
        kind = SALVAGE_SHUTDOWN;
        snprintf(how, sizeof(how), "another job of its worker child missed its deadline");
    } else if (s->timeout_ms) {
        kind = SALVAGE_TIMEOUT;
        snprintf(how, sizeof(how), "timeout after %lld ms", (long long)s->timeout_ms);
    } else if (s->shutdown_killed) {
        kind = SALVAGE_SHUTDOWN;
        snprintf(how, sizeof(how), "stopped at the end of the shutdown grace period");
    } else {
        snprintf(how, sizeof(how), "worker %s during the attempt; peak RSS %ld kB", why, maxrss_kb);
    }
    if (salvage_job(&m->r, m->cfg, m->svc, s->wid, &bj, kind, how) < 0) redis_lost(m);
}

/* salvage records the jobs a dead child was running, per the status board. */
static void
salvage(master *m, slot *s, int idx, int st, long maxrss_kb)
{
    if (!m->connected) return;
    /* a crash (for the poison rule) is a death by a signal we did not send
     * for a lease, while its lease held; a child that left on its own (its
     * lease ran out, it lost Redis, it was fenced) only lost its delivery,
     * which the requeue records */
    int lost = !WIFSIGNALED(st) || s->lease_killed || clock_mono_ms() > board_lease(board_at(m->board, idx));
    if (lost && !s->timeout_ms && !s->shutdown_killed) return;
    for (int i = 0; i < m->cfg->calls && m->connected; i++) salvage_one(m, s, idx, i, st, maxrss_kb);
}

/* count_exit adds a dead child's job counters to the master's totals, so
 * /metrics never goes backwards, and counts how it ended. */
static void
count_exit(master *m, const slot *s, int idx, int st)
{
    stats_drain(board_stats(board_at(m->board, idx)), &m->mc.reaped);
    if (s->timeout_ms) m->mc.timeouts++;
    else if (WIFSIGNALED(st) && !s->shutdown_killed && WTERMSIG(st) < METRICS_SIGNALS) m->mc.crashes[WTERMSIG(st)]++;
    if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_EXIT_REDIS) m->mc.redis_reconnects_children++;
}

static void
reaped(master *m, int idx, int st, long maxrss_kb)
{
    slot *s = &m->slots[idx];
    char why[96];
    int64_t now = clock_mono_ms();
    int clean = WIFEXITED(st) && WEXITSTATUS(st) == CHILD_EXIT_OK;
    describe_exit(st, why, sizeof(why));
    log_msg(clean || m->stopping ? LOG_INFO : LOG_WARN, "master.child_exit", "%s %d %s (peak RSS %ld kB)",
            s->role == ROLE_WRITER ? "writer" : "child", (int)s->pid, why, maxrss_kb);
    if (s->role == ROLE_JOB) salvage(m, s, idx, st, maxrss_kb);
    count_exit(m, s, idx, st);
    /* we know it is dead: return its jobs now rather than after its lease */
    int lease = s->lease_killed || (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_EXIT_LEASE);
    if (m->connected && reaper_requeue(&m->r, m->cfg, s->wid, lease ? "lease" : "exit") == 0)
        reaper_forget(&m->r, m->cfg, s->wid);
    if (!clean && !s->timeout_ms && !m->stopping && now - s->born_ms < CRASH_WINDOW_MS) s->crashes++;
    else s->crashes = 0;
    int64_t delay = s->crashes ? 100LL << (s->crashes > 9 ? 9 : s->crashes) : 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_EXIT_CONFIG) delay = RESPAWN_MAX_MS;
    if (delay > RESPAWN_MAX_MS) delay = RESPAWN_MAX_MS;
    if (delay) log_msg(LOG_WARN, "master.backoff", "respawning in %lld ms after %d early exit(s)", (long long)delay, s->crashes);
    close(s->ctl);
    s->ctl = -1;
    s->pid = 0;
    s->respawn_at_ms = now + delay;
}

static void
reap_all(master *m)
{
    int st;
    pid_t pid;
    struct rusage ru;
    while ((pid = wait4(-1, &st, WNOHANG, &ru)) != 0) {
        if (pid < 0) {
            if (errno == EINTR) continue;
            break; /* ECHILD */
        }
        for (int i = 0; i < m->nslots; i++)
            if (m->slots[i].pid == pid) reaped(m, i, st, ru.ru_maxrss);
    }
    trim(m);
}

static int
live_children(const master *m, int role)
{
    int n = 0;
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid && m->slots[i].role == role) n++;
    return n;
}

static void
respawn_due(master *m)
{
    int64_t now = clock_mono_ms();
    if (m->stopping || !m->connected) return;
    for (int i = 0; i <= m->want && i < m->nslots; i++) { /* slots past want are retiring */
        slot *s = &m->slots[i];
        if (!s->pid && now >= s->respawn_at_ms) {
            if (spawn(m, i) < 0) s->respawn_at_ms = now + 1000;
        }
    }
}

/* ---- Redis: connection, lease, sweeps ---- */

/* warn_durability says loudly, on every connect, when this Redis may lose
 * jobs: evictions or no persistence (durability.h). Not fatal: a test or
 * demo server may be volatile on purpose; `syncq check` fails on it. */
static void
warn_durability(master *m)
{
    durability d;
    char why[400];
    if (durability_read(&m->r, &d) < 0) return; /* the connection broke: the next tick sees it */
    if (durability_problems(&d, why, sizeof(why)))
        log_msg(LOG_WARN, "master.durability", "THIS REDIS CAN LOSE JOBS: %s (README \"Production Redis and"
                " PostgreSQL\")", why);
    else if (d.rdb < 0 || d.aof < 0)
        log_msg(LOG_INFO, "master.durability", "could not read Redis's persistence settings (CONFIG GET refused);"
                " make sure RDB or AOF is on");
}

/* warn_newer_library: a newer binary loaded its library, which this one
 * keeps (funcs_load never downgrades): say that this worker is the old one. */
static void
warn_newer_library(master *m)
{
    long have = funcs_loaded_version(&m->r), ours = funcs_our_version();
    if (have > ours)
        log_msg(LOG_WARN, "master.funcs", "Redis holds syncq function library version %ld, newer than this"
                " binary's %ld: kept (a rolling upgrade is under way; upgrade this worker)", have, ours);
}

static void
redis_tick(master *m)
{
    char shown[600];
    if (m->connected || m->exit_code) return;
    url_redact(m->cfg->redis_url, shown, sizeof(shown)); /* the password never reaches a log */
    if (rds_connect(&m->r, m->cfg->redis_url, redis_timeout_ms(m)) == 0 && funcs_ensure(&m->r) == 0) {
        m->connected = 1;
        m->redis_fails = 0;
        if (m->ever_connected++) m->mc.redis_reconnects_master++;
        log_msg(LOG_INFO, "master.redis", "connected to Redis at %s%s%s%s", shown, m->r.where[0] ? " (" : "",
                m->r.where, m->r.where[0] ? ")" : "");
        warn_durability(m);
        warn_newer_library(m);
        return;
    }
    if (m->r.err == RDS_ERR_AUTH || m->r.err == RDS_ERR_CONFIG) {
        /* a wrong password or URL does not fix itself: say so and stop, retrying only unreachable servers */
        log_msg(LOG_ERROR, "master.config", "Redis at %s: %s; stopping (exit %d)", shown, m->r.errstr, SYNCQ_EX_CONFIG);
        m->exit_code = SYNCQ_EX_CONFIG;
        rds_close(&m->r);
        begin_stop(m, clock_mono_ms());
        return;
    }
    /* one line per outage, then one every REDIS_LOG_EVERY attempts (a tick each): not ten a second */
    if (m->redis_fails++ % REDIS_LOG_EVERY == 0)
        log_msg(LOG_ERROR, "master.redis", "Redis at %s: %s (attempt %d)", shown, m->r.errstr, m->redis_fails);
    rds_close(&m->r);
}

static void
redis_lost(master *m)
{
    log_msg(LOG_ERROR, "master.redis", "%s", m->r.errstr);
    rds_close(&m->r);
    m->connected = 0;
}

/* renew moves the board deadline of every child whose heartbeat Redis
 * refreshed, and kills each one whose heartbeat had already run out: its
 * jobs are being requeued and its id is fenced, so it must not go on (its
 * slot respawns under a new id). sent is when the refresh was sent: the key
 * lives at least TTL from then, the child runs at most lease_ms from then. */
static void
renew(master *m, const int *idx, const int *alive, int n, int64_t sent)
{
    for (int k = 0; k < n; k++) {
        slot *s = &m->slots[idx[k]];
        if (alive[k]) {
            board_lease_set(board_at(m->board, idx[k]), sent + lease_ms(m));
        } else if (!s->lease_killed) {
            log_msg(LOG_ERROR, "master.lease", "the lease of %s %d (%s) ran out and was taken over: killing it",
                    s->role == ROLE_WRITER ? "writer" : "child", (int)s->pid, s->wid);
            s->lease_killed = 1;
            kill(s->pid, SIGKILL);
        }
    }
}

/* refresh sends every heartbeat in one pipeline per role; 0 or -1 (Redis). */
static int
refresh(master *m, int64_t sent)
{
    const char *wids[MAX_SLOTS], *self[] = {m->wid};
    int idx[MAX_SLOTS], alive[MAX_SLOTS], n = 0;
    for (int i = 1; i < m->nslots; i++)
        if (m->slots[i].pid) {
            idx[n] = i;
            wids[n++] = m->slots[i].wid;
        }
    if (reaper_heartbeat(&m->r, m->cfg, wids, n, "child", alive) < 0) return -1;
    renew(m, idx, alive, n, sent);
    if (m->slots[0].pid) {
        const char *writer[] = {m->slots[0].wid};
        int w0[] = {0};
        if (reaper_heartbeat(&m->r, m->cfg, writer, 1, "writer", alive) < 0) return -1;
        renew(m, w0, alive, 1, sent);
    }
    return reaper_heartbeat(&m->r, m->cfg, self, 1, "master", NULL);
}

/* lease_tick refreshes every lease. The children enforce their own leases
 * (a watchdog in child.c reads the board), so a master that cannot refresh
 * only logs; past the lease it also kills what is left, as a second line. */
static void
lease_tick(master *m, int64_t now)
{
    if (now < m->next_beat_ms) return;
    m->next_beat_ms = now + m->cfg->heartbeat_every_s * 1000;
    if (m->connected && refresh(m, now) == 0) {
        if (m->lease_failing)
            log_msg(LOG_INFO, "master.lease", "leases refreshed again after %lld ms",
                    (long long)(now - m->last_lease_ok_ms));
        m->lease_failing = 0;
        m->last_lease_ok_ms = now;
        return;
    }
    if (m->connected) redis_lost(m);
    int64_t since = now - m->last_lease_ok_ms;
    if (!m->lease_failing) {
        m->lease_failing = 1;
        log_msg(LOG_ERROR, "master.lease", "could not refresh leases (last refresh %lld ms ago): children stop"
                " on their own %lld ms after it", (long long)since, (long long)lease_ms(m));
    }
    if (since > lease_ms(m) && m->lease_failing == 1) {
        m->lease_failing = 2;
        log_msg(LOG_ERROR, "master.lease", "no lease refresh for %lld ms: killing children that are left",
                (long long)since);
        for (int i = 0; i < m->nslots; i++)
            if (m->slots[i].pid) {
                m->slots[i].lease_killed = 1;
                kill(m->slots[i].pid, SIGKILL);
            }
    }
}

static void
sweep_tick(master *m, int64_t now)
{
    if (!m->connected) return;
    if (now >= m->next_sweep_ms) {
        m->next_sweep_ms = now + m->cfg->reap_every_s * 1000;
        if (reaper_sweep(&m->r, m->cfg) < 0) {
            redis_lost(m);
            return;
        }
    }
    if (!m->published) publish_defaults(m);
    if (now >= m->next_schedule_ms && !m->stopping && !m->quiet && m->svc) {
        m->next_schedule_ms = now + 1000;
        if (schedule_tick(&m->r, m->cfg, m->svc) < 0) {
            redis_lost(m);
            return;
        }
    }
    if (now >= m->next_promote_ms && !m->stopping) {
        m->next_promote_ms = now + PROMOTE_EVERY_MS;
        int moved;
        while ((moved = reaper_promote(&m->r, m->cfg)) > 0) {}
        if (moved < 0) redis_lost(m);
    }
}

/* ---- deadlines ---- */

/* deadline_tick enforces each job's hard limit: SIGTERM to a child past its
 * deadline, SIGKILL after the kill grace. The reap records the timeout. */
static void
deadline_tick(master *m)
{
    int64_t wall = clock_wall_ms();
    for (int i = 1; i < m->nslots; i++) {
        slot *s = &m->slots[i];
        board_job bj;
        if (!s->pid) continue;
        if (s->term_at_ms) {
            if (!s->killed && wall - s->term_at_ms >= m->cfg->kill_grace_ms) {
                s->killed = 1;
                kill(s->pid, SIGKILL);
            }
            continue;
        }
        for (int k = 0; k < m->cfg->calls; k++) {
            if (board_read(board_at(m->board, i), k, &bj) < 0 || !bj.running || wall < bj.deadline_ms) continue;
            s->term_at_ms = wall;
            s->timeout_ms = bj.deadline_ms - bj.started_ms;
            snprintf(s->timeout_tag, sizeof(s->timeout_tag), "%s", bj.tag);
            log_msg(LOG_WARN, "master.timeout", "child %d: job %s past its %lld ms limit", (int)s->pid,
                    bj.id[0] ? bj.id : bj.tag, (long long)s->timeout_ms);
            kill(s->pid, SIGTERM);
            break;
        }
    }
}

/* ---- signals and shutdown ---- */

static void
begin_stop(master *m, int64_t now)
{
    if (!m->stopping) {
        m->stopping = 1;
        m->deadline_ms = now + (int64_t)m->cfg->grace_s * 1000;
        notify_stopping(&m->sd);
        log_msg(LOG_INFO, "master.stop", "stopping: finishing in-flight jobs (grace %d s)", m->cfg->grace_s);
        for (int i = 1; i < m->nslots; i++) order(&m->slots[i], 'q');
    } else if (m->deadline_ms > now + 1000) {
        m->deadline_ms = now + 1000; /* a second signal shortens the wait */
        log_msg(LOG_INFO, "master.stop", "second stop signal: 1 s left");
    }
}

/* stop_tick: job children get the grace period; then they are killed (their
 * jobs handed back on the reap) and the writer, told to finish once no job
 * child is left, gets WRITER_GRACE_MS more to flush what that produced. */
static void
stop_tick(master *m, int64_t now)
{
    if (!m->stopping) return;
    if (live_children(m, ROLE_JOB) == 0) order(&m->slots[0], 'q');
    if (now < m->deadline_ms) return;
    for (int i = 0; i < m->nslots; i++) {
        slot *s = &m->slots[i];
        if (!s->pid || s->shutdown_killed) continue;
        if (s->role == ROLE_WRITER && now < m->deadline_ms + WRITER_GRACE_MS) continue;
        log_msg(LOG_WARN, "master.kill", "grace period over: killing %s %d", s->role == ROLE_WRITER ? "writer" : "child",
                (int)s->pid);
        s->shutdown_killed = 1;
        kill(s->pid, SIGKILL);
    }
}

/* trim drops the empty slots past m->want from the end of the table. */
static void
trim(master *m)
{
    int before = m->nslots;
    while (m->nslots - 1 > m->want && !m->slots[m->nslots - 1].pid) m->nslots--;
    if (m->nslots != before) log_msg(LOG_INFO, "master.resize", "now %d children", m->nslots - 1);
}

/* resize: SIGTTIN wants one child more, SIGTTOU one fewer. The child in the
 * slot past the new count is told to finish its job and exit ('q'), and
 * respawn_due never refills a slot past m->want, so it is gone once reaped
 * (its in-flight jobs are handed back by the reap, like any exit). */
static void
resize(master *m, int delta)
{
    int want = m->want + delta;
    if (want < 1 || want > MAX_SLOTS - 1) return;
    m->want = want;
    if (delta > 0 && m->nslots - 1 < want) {
        slot *s = &m->slots[m->nslots++];
        memset(s, 0, sizeof(*s));
        s->ctl = -1;
        s->role = ROLE_JOB;
    }
    if (delta < 0) order(&m->slots[want + 1], 'q'); /* no-op on an empty slot */
    log_msg(LOG_INFO, "master.resize", "want %d children", want);
    trim(m);
}

static const char *
env_get(const char *name)
{
    return getenv(name);
}

/* load_services parses SYNCQ_SERVICES; NULL with the error logged. */
static svc_file *
load_services(const config *c, int *failed)
{
    char err[512];
    *failed = 0;
    if (!c->services_path[0]) return NULL;
    svc_file *f = svc_load(c->services_path, env_get, err, sizeof(err));
    if (!f) {
        log_msg(LOG_ERROR, "master.services", "%s", err);
        *failed = 1;
    }
    return f;
}

/* publish_defaults writes the per-action defaults of the services file to
 * each queue's config hash, where the enqueue function (which cannot read
 * the file) finds them: <service>/<action>:idempotency_ttl_s and friends. */
static void
publish_defaults(master *m)
{
    if (!m->connected || !m->svc) return;
    for (int q = 0; q < m->cfg->nqueues; q++) {
        qkeys k;
        keys_queue(&k, m->cfg->prefix, m->cfg->queues[q].name, NULL);
        for (int i = 0; i < m->svc->nservices; i++) {
            const svc_service *s = &m->svc->services[i];
            for (int r = 0; r < s->nresources; r++)
                for (int a = 0; a < s->resources[r].nactions; a++) {
                    const svc_action *act = &s->resources[r].actions[a];
                    const char *names[] = {"idempotency_ttl_s", "max_attempts", "timeout_ms"};
                    int vals[] = {act->idempotency_ttl_s, act->max_attempts, act->timeout_ms};
                    for (int f = 0; f < 3; f++) {
                        char field[256];
                        snprintf(field, sizeof(field), "%s/%s:%s", s->name, act->name, names[f]);
                        rds_reply *x = vals[f] ? rds_cmdf(&m->r, "HSET %s %s %d", k.config, field, vals[f])
                                               : rds_cmdf(&m->r, "HDEL %s %s", k.config, field);
                        rds_reply_free(x);
                    }
                }
        }
    }
    m->published = 1;
}

/* reload: SIGHUP re-reads the services file; when it is valid, every child
 * finishes its job and is replaced by one with the new file (no job is
 * dropped); when it is not, the old one stays in force. */
static void
reload(master *m)
{
    int failed;
    svc_file *f = load_services(m->cfg, &failed);
    if (failed) {
        log_msg(LOG_ERROR, "master.reload", "services file rejected; the previous one stays in force");
        return;
    }
    for (int i = 0; f && i < f->nplugins; i++)
        if (!plugin_loaded(f->plugins[i]))
            log_msg(LOG_WARN, "master.reload", "plugin %s is new: plugins load at the start only; restart the worker to load it",
                    f->plugins[i]);
    svc_free(m->svc);
    m->svc = f;
    m->published = 0;
    for (int i = 1; i < m->nslots; i++) order(&m->slots[i], 'q');
    log_msg(LOG_INFO, "master.reload", "services file reloaded; children are being replaced after their jobs");
}

static void
handle_signals(master *m, int64_t now)
{
    char buf[64];
    while (read(sigpipe_fds[0], buf, sizeof(buf)) > 0) {}
    if (got_chld) {
        got_chld = 0;
        reap_all(m);
    }
    if (got_term) {
        got_term = 0;
        begin_stop(m, now);
    }
    if (got_hup) {
        got_hup = 0;
        reload(m);
    }
    if (got_tstp || got_cont) {
        m->quiet = got_tstp && !got_cont ? 1 : got_cont && !got_tstp ? 0 : m->quiet;
        got_tstp = got_cont = 0;
        log_msg(LOG_INFO, "master.quiet", m->quiet ? "quiet: children finish their jobs and fetch no more"
                                                   : "resumed: children fetch again");
        for (int i = 1; i < m->nslots; i++) order(&m->slots[i], m->quiet ? 'p' : 'r');
    }
    for (; got_ttin > 0; got_ttin--) resize(m, +1);
    for (; got_ttou > 0; got_ttou--) resize(m, -1);
}

/* ---- /metrics and /healthz ---- */

/* healthz: 200 "ok" when Redis answers a PING and every child is alive;
 * 503 with one line per reason otherwise. */
static int
healthz(master *m, sbuf *body)
{
    int alive = live_children(m, ROLE_JOB), want = m->want;
    if (m->connected) {
        rds_reply *x = rds_cmdf(&m->r, "PING");
        if (!rds_reply_ok(&m->r, x)) redis_lost(m);
        rds_reply_free(x);
    }
    if (!m->connected) sbuf_adds(body, "redis: unreachable\n");
    if (alive < want) sbuf_printf(body, "children: %d of %d alive\n", alive, want);
    if (!live_children(m, ROLE_WRITER)) sbuf_adds(body, "writer: not running\n");
    if (m->stopping) sbuf_adds(body, "stopping\n");
    if (body->len) return 503;
    sbuf_adds(body, "ok\n");
    return 200;
}

static int
serve(void *ctx, const char *path, sbuf *body, const char **ctype)
{
    master *m = ctx;
    stats_table *tables[MAX_SLOTS];
    if (!strcmp(path, "/healthz")) return healthz(m, body);
    if (strcmp(path, "/metrics") != 0) {
        sbuf_adds(body, "not found: /metrics or /healthz\n");
        return 404;
    }
    for (int i = 0; i < m->nslots; i++) tables[i] = board_stats(board_at(m->board, i));
    metrics_src src = {m->cfg, m->connected ? &m->r : NULL, &m->mc, tables, m->nslots,
                       m->want, live_children(m, ROLE_JOB), live_children(m, ROLE_WRITER)};
    if (metrics_render(&src, body) < 0 && m->connected && rds_broken(&m->r)) redis_lost(m);
    *ctype = PROM_CONTENT_TYPE;
    return 200;
}

/* metrics_open listens on SYNCQ_METRICS_ADDR before any child is forked;
 * every child closes it (close_inherited). A failure leaves metrics off. */
static void
metrics_open(master *m)
{
    char err[300];
    if (!strcmp(m->cfg->metrics_addr, "off")) return;
    if (mhttp_open(&m->http, m->cfg->metrics_addr, err, sizeof(err)) < 0) {
        log_msg(LOG_ERROR, "master.metrics", "%s: /metrics and /healthz are off", err);
        return;
    }
    log_msg(LOG_INFO, "master.metrics", "serving /metrics and /healthz on http://%s", m->http.bound);
}

static void
loop(master *m)
{
    struct pollfd pfd[2 + MHTTP_CONNS]; /* the signal pipe, the listener, its connections */
    for (;;) {
        int64_t now = clock_mono_ms();
        handle_signals(m, now);
        redis_tick(m);
        respawn_due(m);
        lease_tick(m, now);
        deadline_tick(m);
        sweep_tick(m, now);
        stop_tick(m, now);
        notify_tick(&m->sd, now, m->connected); /* ready once Redis answers; pings while the loop turns */
        if (m->stopping && live_children(m, ROLE_JOB) == 0 && live_children(m, ROLE_WRITER) == 0) return;
        pfd[0] = (struct pollfd){sigpipe_fds[0], POLLIN, 0};
        int n = 1 + mhttp_pollfds(&m->http, pfd + 1, 1 + MHTTP_CONNS);
        if (poll(pfd, (nfds_t)n, TICK_MS) < 0 && errno != EINTR) {
            log_msg(LOG_ERROR, "master.poll", "poll() failed: %s", strerror(errno));
            return;
        }
        mhttp_serve(&m->http, pfd + 1, n - 1, clock_mono_ms(), serve, m);
    }
}

int
master_run(config *cfg)
{
    master m;
    memset(&m, 0, sizeof(m));
    m.cfg = cfg;
    rds_init(&m.r);
    mhttp_init(&m.http);
    if (random_hex(m.boot, 8) < 0 || master_signals() < 0) {
        log_msg(LOG_ERROR, "master.start", "setup failed: %s", strerror(errno));
        return SYNCQ_EX_SOFTWARE;
    }
    worker_id(m.wid, sizeof(m.wid), m.boot, (int)getpid());
    int failed;
    m.svc = load_services(cfg, &failed);
    if (failed) return SYNCQ_EX_DATAERR;
    /* before any fork: children inherit the plugins' code and handlers */
    char perr[1024];
    if (plugin_load_all(cfg->plugins, m.svc, perr, sizeof(perr)) < 0) {
        log_msg(LOG_ERROR, "master.plugin", "%s; not starting (exit %d)", perr, SYNCQ_EX_CONFIG);
        svc_free(m.svc);
        return SYNCQ_EX_CONFIG;
    }
    m.board = board_new(MAX_SLOTS);
    if (!m.board) {
        log_msg(LOG_ERROR, "master.start", "mmap() of the status board failed: %s", strerror(errno));
        return SYNCQ_EX_SOFTWARE;
    }
    m.nslots = cfg->concurrency + 1;
    m.want = cfg->concurrency;
    for (int i = 0; i < m.nslots; i++) {
        m.slots[i].ctl = -1;
        m.slots[i].role = i == 0 ? ROLE_WRITER : ROLE_JOB;
    }
    metrics_open(&m);
    if (notify_init(&m.sd) < 0)
        log_msg(LOG_WARN, "master.notify", "NOTIFY_SOCKET is set but no socket could be made: %s", strerror(errno));
    m.last_lease_ok_ms = clock_mono_ms();
    char lanes[48] = "";
    if (cfg->calls > 1) snprintf(lanes, sizeof(lanes), " of %d lanes", cfg->calls);
    log_msg(LOG_INFO, "master.start", "syncq-worker %s: %d children%s on %d queue(s) as %s", SYNCQ_VERSION,
            cfg->concurrency, lanes, cfg->nqueues, m.wid);
    loop(&m);
    if (m.connected) reaper_forget(&m.r, cfg, m.wid);
    rds_close(&m.r);
    mhttp_close(&m.http);
    notify_close(&m.sd);
    board_free(m.board, MAX_SLOTS);
    svc_free(m.svc);
    log_msg(LOG_INFO, "master.exit", "stopped");
    return m.exit_code;
}
