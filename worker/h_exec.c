/* h_exec.c - exec handlers (docs/HANDLERS.md): jobs run by a program in any
 * language, declared with "exec" in the services file.
 *
 *   per_job     the child forks and execs the command for each job, writes
 *               the job as one JSON object on its stdin, reads its stdout
 *               (one JSON object, bounded) and its exit status.
 *   persistent  the child starts the program once and keeps it for many
 *               jobs: one JSON line per request, one per reply. A program
 *               that dies, hangs past the job's timeout or answers garbage
 *               is killed, and started again for the next job.
 *
 * Programs run without a shell, in their own process group (a timeout kills
 * the whole group), and die with the child (PR_SET_PDEATHSIG): when the
 * master kills a child, its programs go too. They inherit the child's
 * rlimits. What every services-file mutation gets (the per-target lock, the
 * expected_hash check, the shared rate limit, the idempotency key) comes
 * from handler.c, as for HTTP actions; retries by class, masking of the
 * audit record and idempotent skips are job.c's and child.c's.
 *
 * Secrets: the payload goes to the program unmasked (it is the program's
 * input); what comes back (the result, error texts, stderr) is masked by
 * key and by value (the payload's secret members and the exec's env values)
 * before it reaches the audit record or a log. */
#define _GNU_SOURCE /* pipe2, execvpe, close_range: the fork/exec plumbing */
#include "fmacros.h"
#include "db.h"
#include "json.h"
#include "mask.h"
#include "services.h"
#include "snapshot.h"
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXEC_OUT_MAX (1024 * 1024) /* bytes of stdout (per_job) or of one reply line (persistent) */
#define EXEC_ERR_KEEP 4096         /* bytes of stderr kept for the error text */
#define EXEC_ERR_SHOWN 600         /* bytes of it that reach the audit error */
#define EXEC_PROGRAMS_MAX 32       /* persistent programs per child */
#define EXEC_TEMPFAIL 75           /* EX_TEMPFAIL: a transient failure */

/* Environment variables a program inherits from the worker; the rest (the
 * database and Redis URLs among them) stay out of its reach. */
static const char *const pass_env[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", NULL};

typedef struct proc {
    pid_t pid;        /* 0: not running */
    int in, out, err; /* our ends of its pipes, -1 when closed */
} proc;

/* A persistent program of this child, shared by every action whose exec is
 * the same. */
typedef struct program {
    const svc_exec *x;
    proc p;
    sbuf out;         /* bytes read past the last reply */
} program;

static program programs[EXEC_PROGRAMS_MAX];
static int nprograms;

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- masking what comes back ---- */

/* secret values of one job: the payload's secret members, the exec's env */
typedef struct secrets {
    const char *v[64];
    int n;
} secrets;

static void
collect(const json *n, int secret, secrets *s)
{
    if (s->n == (int)(sizeof(s->v) / sizeof(s->v[0]))) return;
    if (json_typeof(n) == JSON_STRING && secret && *json_str(n)) s->v[s->n++] = json_str(n);
    for (const json *m = json_child(n); m; m = json_next(m))
        collect(m, secret || (json_key(m) && mask_key_is_secret(json_key(m))), s);
}

static void
secrets_of(const handler_ctx *ctx, const svc_exec *x, secrets *s)
{
    s->n = 0;
    for (int i = 0; i < x->nenv && s->n < 32; i++)
        if (*x->env[i].value) s->v[s->n++] = x->env[i].value;
    collect(ctx->env->payload, 0, s);
}

/* scrub returns text (n bytes) with every secret value replaced, then
 * mask_string's credential patterns; control characters become spaces so
 * the text stays one line. Caller frees. */
static char *
scrub(const char *text, size_t n, const secrets *s)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_add(&b, text, n);
    sbuf_addc(&b, '\0');
    b.len--;
    for (int i = 0; i < s->n; i++) {
        size_t sl = strlen(s->v[i]);
        sbuf o;
        sbuf_init(&o);
        const char *p = b.buf, *hit;
        while ((hit = memmem(p, b.len - (size_t)(p - b.buf), s->v[i], sl))) {
            sbuf_add(&o, p, (size_t)(hit - p));
            sbuf_adds(&o, MASK_VALUE);
            p = hit + sl;
        }
        sbuf_add(&o, p, b.len - (size_t)(p - b.buf));
        sbuf_addc(&o, '\0');
        o.len--;
        sbuf_free(&b);
        b = o;
    }
    for (size_t i = 0; i < b.len; i++)
        if ((unsigned char)b.buf[i] < 0x20 || b.buf[i] == 0x7f) b.buf[i] = ' ';
    char *m = mask_string(b.buf);
    if (m) {
        sbuf_free(&b);
        return m;
    }
    return sbuf_steal(&b, NULL);
}

/* explain appends ": <masked text>" of the program's own words (an error
 * member, else its stderr) to ctx->error. */
static void
explain(handler_ctx *ctx, const secrets *s, const char *why, size_t n)
{
    while (n && (why[n - 1] == '\n' || why[n - 1] == ' ' || why[n - 1] == '\r')) n--;
    if (!n) return;
    char *m = scrub(why, n, s);
    size_t used = strlen(ctx->error);
    snprintf(ctx->error + used, sizeof(ctx->error) - used, ": %.*s", EXEC_ERR_SHOWN, m);
    free(m);
}

/* set_result stores the program's result (any JSON value) masked by key,
 * by value and by pattern. A result that is no longer JSON after masking by
 * value is replaced, never stored unmasked. */
static void
set_result(handler_ctx *ctx, const json *result, const secrets *s)
{
    if (!result || json_typeof(result) == JSON_NULL) return;
    char *txt = json_print(result);
    if (!txt) return;
    char *byval = scrub(txt, strlen(txt), s);
    char *masked = mask_json_text(byval, strlen(byval));
    sbuf_adds(&ctx->result, masked ? masked : "{\"masked\":\"the result held a secret value and was dropped\"}");
    free(masked);
    free(byval);
    free(txt);
}

/* ---- processes ---- */

static void
close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* build_env is the program's environment: pass_env from the worker, then
 * the exec's env (secrets: wiped by free_env). */
static char **
build_env(const svc_exec *x)
{
    int n = 0;
    char **envp = xcalloc((size_t)x->nenv + 8, sizeof(char *));
    for (int i = 0; pass_env[i]; i++) {
        const char *v = getenv(pass_env[i]);
        int own = 0;
        for (int j = 0; j < x->nenv; j++) own |= !strcmp(x->env[j].name, pass_env[i]);
        if (v && !own) {
            envp[n] = xmalloc(strlen(pass_env[i]) + strlen(v) + 2);
            sprintf(envp[n++], "%s=%s", pass_env[i], v);
        }
    }
    for (int j = 0; j < x->nenv; j++) {
        envp[n] = xmalloc(strlen(x->env[j].name) + strlen(x->env[j].value) + 2);
        sprintf(envp[n++], "%s=%s", x->env[j].name, x->env[j].value);
    }
    return envp;
}

static void
free_env(char **envp)
{
    for (char **e = envp; *e; e++) {
        explicit_bzero(*e, strlen(*e));
        free(*e);
    }
    free(envp);
}

/* in_program runs in the forked process until exec: async-signal-safe calls
 * only (the child is single-threaded, but keep it plain). */
static void __attribute__((noreturn))
in_program(const svc_exec *x, int in, int out, int err, char **envp, pid_t parent)
{
    sigset_t none;
    setpgid(0, 0); /* its own group: a timeout kills what it started too */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) _exit(127); /* die with the child */
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
    if (close_range(3, ~0U, 0) < 0)
        for (int fd = 3; fd < 1024; fd++) close(fd);
    /* the child ignores SIGPIPE, SIGINT, SIGHUP...: exec keeps ignored signals */
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (x->cwd && chdir(x->cwd) < 0) {
        dprintf(2, "syncq: cannot change to directory %s: %s\n", x->cwd, strerror(errno));
        _exit(127);
    }
    execvpe(x->argv[0], x->argv, envp);
    dprintf(2, "syncq: cannot run %s: %s\n", x->argv[0], strerror(errno));
    _exit(127);
}

static int
spawn(const svc_exec *x, proc *p, char *err, size_t errlen)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    char **envp = build_env(x);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) in_program(x, in[0], out[1], er[1], envp, parent);
    free_env(envp);
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        goto fail;
    }
    setpgid(pid, pid); /* also here: no window where a kill of the group misses it */
    close(in[0]);
    close(out[1]);
    close(er[1]);
    *p = (proc){pid, in[1], out[0], er[0]};
    fcntl(p->in, F_SETFL, O_NONBLOCK);
    fcntl(p->out, F_SETFL, O_NONBLOCK);
    fcntl(p->err, F_SETFL, O_NONBLOCK);
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        close_fd(&in[i]);
        close_fd(&out[i]);
        close_fd(&er[i]);
    }
    return -1;
}

/* how describes a wait status: "exit 3", "killed by signal 9". */
static void
how(int st, char *out, size_t len)
{
    if (WIFEXITED(st)) snprintf(out, len, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(out, len, "killed by signal %d", WTERMSIG(st));
    else snprintf(out, len, "status %d", st);
}

/* reap waits for p until deadline (monotonic ms); past it, or with deadline
 * 0, the group is killed first (*killed set, when given). What the program
 * left running in its group is killed while its exit is still unreaped (the
 * zombie keeps the group id from being reused). Returns the wait status. */
static int
reap(proc *p, int64_t deadline, int *killed)
{
    int st = 0;
    close_fd(&p->in);
    close_fd(&p->out);
    close_fd(&p->err);
    if (!p->pid) return 0;
    for (;;) {
        siginfo_t si;
        si.si_pid = 0;
        int r = waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOWAIT | (deadline ? WNOHANG : 0));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || si.si_pid == p->pid) break;
        if (mono_ms() < deadline) {
            struct timespec ts = {0, 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        if (killed) *killed = 1;
        kill(-p->pid, SIGKILL);
        kill(p->pid, SIGKILL);
        deadline = 0;
    }
    kill(-p->pid, SIGKILL);
    while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {}
    p->pid = 0;
    return st;
}

/* exited_already says whether p has ended (unreaped) since its last job. */
static int
exited_already(const proc *p)
{
    siginfo_t si;
    si.si_pid = 0;
    return p->pid && waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOWAIT | WNOHANG) == 0 && si.si_pid == p->pid;
}

static int
kill_now(proc *p)
{
    if (p->pid) {
        kill(-p->pid, SIGKILL);
        kill(p->pid, SIGKILL);
    }
    return reap(p, 0, NULL);
}

/* ---- moving bytes ---- */

enum { PUMP_DONE = 0, PUMP_TIMEOUT, PUMP_OVERSIZE, PUMP_EOF, PUMP_ERROR };

typedef struct pump {
    const char *in;
    size_t inlen, inoff;
    int close_in;        /* per_job: stdin closes once written */
    sbuf *out;
    size_t scanned;      /* persistent: bytes of out known to hold no newline */
    int want_line;       /* persistent: done at the first newline */
    sbuf *err;           /* the first EXEC_ERR_KEEP bytes */
    int64_t deadline;    /* monotonic ms */
} pump;

static void
read_into(int *fd, sbuf *b, size_t keep, int *over, size_t max)
{
    char chunk[65536];
    ssize_t n = read(*fd, chunk, sizeof(chunk));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        close_fd(fd);
        return;
    }
    if (n < 0) return;
    if (max && b->len + (size_t)n > max) {
        *over = 1;
        return;
    }
    size_t take = keep && b->len + (size_t)n > keep ? (b->len < keep ? keep - b->len : 0) : (size_t)n;
    if (take) sbuf_add(b, chunk, take);
}

static void
write_some(proc *p, pump *u)
{
    ssize_t n = write(p->in, u->in + u->inoff, u->inlen - u->inoff);
    if (n > 0) u->inoff += (size_t)n;
    else if (n < 0 && errno != EAGAIN && errno != EINTR) u->inoff = u->inlen; /* EPIPE: it stopped reading */
    if (u->inoff == u->inlen && u->close_in) close_fd(&p->in);
}

static int
line_done(pump *u)
{
    if (!u->want_line || u->out->len <= u->scanned) return 0;
    if (memchr(u->out->buf + u->scanned, '\n', u->out->len - u->scanned)) return 1;
    u->scanned = u->out->len;
    return 0;
}

/* run_pump moves bytes both ways until: per_job, both output pipes closed;
 * persistent, a whole line came back. */
static int
run_pump(proc *p, pump *u)
{
    for (;;) {
        struct pollfd f[3];
        int nf = 0, over = 0, wi = -1, oi = -1, ei = -1;
        if (line_done(u)) return PUMP_DONE;
        if (u->want_line && p->out < 0) return PUMP_EOF;
        if (!u->want_line && p->out < 0 && p->err < 0) return PUMP_DONE;
        int64_t left = u->deadline - mono_ms();
        if (left <= 0) return PUMP_TIMEOUT;
        if (p->in >= 0 && u->inoff < u->inlen) wi = nf, f[nf++] = (struct pollfd){p->in, POLLOUT, 0};
        if (p->out >= 0) oi = nf, f[nf++] = (struct pollfd){p->out, POLLIN, 0};
        if (p->err >= 0) ei = nf, f[nf++] = (struct pollfd){p->err, POLLIN, 0};
        int r = poll(f, (nfds_t)nf, left > 100 ? 100 : (int)left);
        if (r < 0 && errno != EINTR) return PUMP_ERROR;
        if (r <= 0) continue;
        if (wi >= 0 && f[wi].revents) write_some(p, u);
        if (oi >= 0 && f[oi].revents) read_into(&p->out, u->out, 0, &over, EXEC_OUT_MAX + 1);
        if (over) return PUMP_OVERSIZE;
        if (ei >= 0 && f[ei].revents) read_into(&p->err, u->err, EXEC_ERR_KEEP, &over, 0);
    }
}

/* ---- the job as the program sees it ---- */

static void
add_str(sbuf *b, const char *key, const char *v)
{
    sbuf_json_key(b, key);
    sbuf_json_strz(b, v);
}

/* request is the job as one JSON object (no newline inside: the payload is
 * printed compactly and strings are escaped). */
static void
request(handler_ctx *ctx, int64_t timeout_ms, int max_attempts, sbuf *b)
{
    const envelope *e = ctx->env;
    char *payload = e->payload ? json_print(e->payload) : NULL;
    sbuf_addc(b, '{');
    add_str(b, "id", ctx->job_id);
    sbuf_json_key(b, "attempt");
    sbuf_printf(b, "%d", ctx->attempt);
    sbuf_json_key(b, "max_attempts");
    sbuf_printf(b, "%d", max_attempts);
    sbuf_json_key(b, "timeout_ms");
    sbuf_printf(b, "%lld", (long long)timeout_ms);
    add_str(b, "queue", ctx->queue);
    add_str(b, "kind", envelope_kind_name(e->kind));
    add_str(b, "service", e->service);
    add_str(b, "action", e->action);
    add_str(b, "target_type", e->target_type);
    add_str(b, "target_id", e->target_id);
    add_str(b, "scope", e->scope);
    add_str(b, "actor", e->actor);
    add_str(b, "idempotency_key", handler_idempotency_key(ctx));
    add_str(b, "expected_hash", e->expected_hash);
    sbuf_json_key(b, "payload");
    sbuf_adds(b, payload ? payload : "{}");
    sbuf_addc(b, '}');
    free(payload);
}

/* answer reads the program's JSON object: "result", "error",
 * "retry_after_ms" (and "id", "status" for persistent replies). */
typedef struct answer {
    json *root;
    const json *result;
    const char *error, *status, *id;
    int64_t retry_after_ms; /* -1 none */
} answer;

static int
parse_answer(const char *s, size_t n, answer *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof(*a));
    a->retry_after_ms = -1;
    if (!(a->root = json_parse(s, n, err, errlen))) return -1;
    if (json_typeof(a->root) != JSON_OBJECT) {
        snprintf(err, errlen, "a JSON value that is not an object");
        return -1;
    }
    a->result = json_get(a->root, "result");
    a->error = json_str(json_get(a->root, "error"));
    a->status = json_str(json_get(a->root, "status"));
    a->id = json_str(json_get(a->root, "id"));
    const json *ra = json_get(a->root, "retry_after_ms");
    if (json_typeof(ra) == JSON_NUMBER && json_num(ra) >= 0 && json_num(ra) <= 86400000.0)
        a->retry_after_ms = (int64_t)json_num(ra);
    return 0;
}

/* ---- per_job ---- */

typedef struct run {
    handler_ctx *ctx;
    const svc_exec *x;
    secrets s;
    int64_t timeout_ms;
    int max_attempts;
} run;

/* exited maps a per_job program's end to the job's outcome. */
static handler_result
exited(run *k, int st, sbuf *out, sbuf *err)
{
    handler_ctx *ctx = k->ctx;
    char h[64], perr[160];
    answer a;
    memset(&a, 0, sizeof(a));
    a.retry_after_ms = -1;
    how(st, h, sizeof(h));
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    int parsed = out->len ? parse_answer(out->buf, out->len, &a, perr, sizeof(perr)) : (a.root = NULL, 0);
    handler_result hr;
    if (code == 0 && parsed < 0) {
        hr = handler_fail(ctx, HANDLER_PERMANENT, "exit 0 but stdout is not the JSON object the protocol asks for (%s)", perr);
    } else if (code == 0) {
        set_result(ctx, a.result, &k->s);
        hr = HANDLER_OK;
    } else {
        hr = handler_fail(ctx, code == EXEC_TEMPFAIL ? HANDLER_TRANSIENT : HANDLER_PERMANENT, "%s%s", h,
                  code == EXEC_TEMPFAIL ? " (temporary failure)" : "");
        if (a.error) explain(ctx, &k->s, a.error, strlen(a.error));
        else if (err->len) explain(ctx, &k->s, err->buf, err->len);
        if (code == EXEC_TEMPFAIL) ctx->retry_after_ms = a.retry_after_ms;
    }
    json_free(a.root);
    return hr;
}

static handler_result
per_job(run *k)
{
    handler_ctx *ctx = k->ctx;
    proc p;
    sbuf in, out, err;
    char why[256];
    handler_result hr;
    sbuf_init(&in);
    sbuf_init(&out);
    sbuf_init(&err);
    request(ctx, k->timeout_ms, k->max_attempts, &in);
    sbuf_addc(&in, '\n');
    int64_t deadline = mono_ms() + k->timeout_ms;
    if (spawn(k->x, &p, why, sizeof(why)) < 0) {
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "cannot start %s: %s", k->x->argv[0], why);
        goto out;
    }
    pump u = {in.buf, in.len, 0, 1, &out, 0, 0, &err, deadline};
    int rc = run_pump(&p, &u);
    if (rc == PUMP_DONE) {
        int killed = 0, st = reap(&p, deadline, &killed); /* both pipes closed: it is ending */
        if (killed) rc = PUMP_TIMEOUT;
        else hr = exited(k, st, &out, &err);
    } else {
        kill_now(&p);
    }
    if (rc == PUMP_TIMEOUT) {
        ctx->timed_out = 1;
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "timeout after %lld ms: the handler was killed", (long long)k->timeout_ms);
    }
    else if (rc == PUMP_OVERSIZE)
        hr = handler_fail(ctx, HANDLER_PERMANENT, "stdout over %d bytes: the handler was killed", EXEC_OUT_MAX);
    else if (rc != PUMP_DONE)
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "talking to the handler: %s", strerror(errno));
out:
    explicit_bzero(in.buf, in.len); /* the unmasked payload */
    sbuf_free(&in);
    sbuf_free(&out);
    sbuf_free(&err);
    return hr;
}

/* ---- persistent ---- */

static int
same_exec(const svc_exec *a, const svc_exec *b)
{
    if (a->argc != b->argc || a->nenv != b->nenv || !a->cwd != !b->cwd || (a->cwd && strcmp(a->cwd, b->cwd)))
        return 0;
    for (int i = 0; i < a->argc; i++)
        if (strcmp(a->argv[i], b->argv[i])) return 0;
    for (int i = 0; i < a->nenv; i++)
        if (strcmp(a->env[i].name, b->env[i].name) || strcmp(a->env[i].value, b->env[i].value)) return 0;
    return 1;
}

static program *
program_for(const svc_exec *x)
{
    for (int i = 0; i < nprograms; i++)
        if (same_exec(programs[i].x, x)) return &programs[i];
    if (nprograms == EXEC_PROGRAMS_MAX) return NULL;
    program *g = &programs[nprograms++];
    memset(g, 0, sizeof(*g));
    g->x = x;
    g->p = (proc){0, -1, -1, -1};
    sbuf_init(&g->out);
    return g;
}

/* restart kills g's program; the next job starts it again. */
static void
restart(program *g, char *h, size_t hlen)
{
    int st = kill_now(&g->p);
    if (h) how(st, h, hlen);
    sbuf_reset(&g->out);
}

/* drain reads what the program wrote to stderr between jobs (so it never
 * blocks on a full pipe) and forgets it: it belongs to no job. */
static void
drain(program *g)
{
    sbuf junk;
    int over = 0;
    sbuf_init(&junk);
    struct pollfd f = {g->p.err, POLLIN, 0};
    while (g->p.err >= 0 && poll(&f, 1, 0) > 0) {
        read_into(&g->p.err, &junk, 1, &over, 0);
        sbuf_reset(&junk);
        f.fd = g->p.err;
    }
    sbuf_free(&junk);
}

/* replied maps a reply line to the job's outcome. A reply that is not a
 * protocol answer for this job means the program lost track: restart it. */
static handler_result
replied(run *k, program *g, size_t linelen, sbuf *err)
{
    handler_ctx *ctx = k->ctx;
    char perr[160];
    answer a;
    handler_result hr;
    int bad = parse_answer(g->out.buf, linelen, &a, perr, sizeof(perr)) < 0;
    if (!bad && (!a.id || strcmp(a.id, ctx->job_id)))
        bad = 1, snprintf(perr, sizeof(perr), "the id is not this job's");
    else if (!bad && (!a.status || (strcmp(a.status, "ok") && strcmp(a.status, "retry") && strcmp(a.status, "fail"))))
        bad = 1, snprintf(perr, sizeof(perr), "status is not ok, retry or fail");
    if (bad) {
        json_free(a.root);
        restart(g, NULL, 0);
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "the handler answered garbage (%s): it was killed and will be restarted", perr);
        if (err->len) explain(ctx, &k->s, err->buf, err->len);
        return hr;
    }
    if (!strcmp(a.status, "ok")) {
        set_result(ctx, a.result, &k->s);
        hr = HANDLER_OK;
    } else {
        hr = handler_fail(ctx, !strcmp(a.status, "retry") ? HANDLER_TRANSIENT : HANDLER_PERMANENT, "handler: %s",
                  !strcmp(a.status, "retry") ? "retry" : "fail");
        if (a.error) explain(ctx, &k->s, a.error, strlen(a.error));
        if (!strcmp(a.status, "retry")) ctx->retry_after_ms = a.retry_after_ms;
    }
    json_free(a.root);
    /* the reply is consumed; anything after it waits for the next job */
    size_t rest = g->out.len - linelen - 1;
    memmove(g->out.buf, g->out.buf + linelen + 1, rest);
    g->out.len = rest;
    return hr;
}

static handler_result
persistent(run *k)
{
    handler_ctx *ctx = k->ctx;
    char why[256], h[64];
    sbuf in, err;
    handler_result hr;
    program *g = program_for(k->x);
    if (!g) return handler_fail(ctx, HANDLER_PERMANENT, "more than %d persistent programs in one child", EXEC_PROGRAMS_MAX);
    if (exited_already(&g->p)) restart(g, NULL, 0); /* it ended between jobs: not this job's fault */
    if (!g->p.pid && spawn(k->x, &g->p, why, sizeof(why)) < 0)
        return handler_fail(ctx, HANDLER_TRANSIENT, "cannot start %s: %s", k->x->argv[0], why);
    drain(g);
    sbuf_init(&in);
    sbuf_init(&err);
    request(ctx, k->timeout_ms, k->max_attempts, &in);
    sbuf_addc(&in, '\n');
    pump u = {in.buf, in.len, 0, 0, &g->out, 0, 1, &err, mono_ms() + k->timeout_ms};
    int rc = run_pump(&g->p, &u);
    char *nl = rc == PUMP_DONE ? memchr(g->out.buf, '\n', g->out.len) : NULL;
    if (nl) {
        hr = replied(k, g, (size_t)(nl - g->out.buf), &err);
    } else if (rc == PUMP_EOF) {
        restart(g, h, sizeof(h));
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "the handler program died during the job (%s); it will be restarted", h);
        if (err.len) explain(ctx, &k->s, err.buf, err.len);
    } else if (rc == PUMP_TIMEOUT) {
        restart(g, NULL, 0);
        ctx->timed_out = 1;
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "timeout after %lld ms: the handler program was killed and will be restarted",
                  (long long)k->timeout_ms);
    } else if (rc == PUMP_OVERSIZE) {
        restart(g, NULL, 0);
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "reply over %d bytes: the handler program was killed and will be restarted",
                  EXEC_OUT_MAX);
    } else {
        restart(g, NULL, 0);
        hr = handler_fail(ctx, HANDLER_TRANSIENT, "talking to the handler program: %s", strerror(errno));
    }
    explicit_bzero(in.buf, in.len);
    sbuf_free(&in);
    sbuf_free(&err);
    return hr;
}

/* ---- the handler ---- */

static int
max_attempts_of(const handler_ctx *ctx, const svc_action *act)
{
    if (ctx->env->max_attempts > 0) return ctx->env->max_attempts;
    if (act->max_attempts > 0) return act->max_attempts;
    return ENVELOPE_DEFAULT_MAX_ATTEMPTS;
}

/* guarded runs the program under what every services-file mutation holds:
 * the expected_hash check, the shared rate limit. */
static handler_result
guarded(run *k, const svc_service *svc, const svc_resource *res)
{
    handler_ctx *ctx = k->ctx;
    handler_world *w = ctx->world;
    if (res && ctx->env->expected_hash) {
        if (!db_alive(w->d) && db_connect(w->d, w->cfg->database_url) < 0) {
            ctx->retry_after_ms = 2000;
            return handler_fail(ctx, HANDLER_DEFER, "PostgreSQL unavailable: %s", w->d->errstr);
        }
        snap_key key = {svc->name, res->name, ctx->env->scope ? ctx->env->scope : "",
                        ctx->env->target_id ? ctx->env->target_id : ""};
        handler_result hr = handler_check_expected(ctx, &key);
        if (hr != HANDLER_OK) return hr;
    }
    int pace = handler_pace(ctx, svc->name, svc->rate_per_s, svc->burst, 1000);
    if (pace != 0) /* over the shared rate limit: wait in the retry set, not in a child */
        return pace > 0 ? handler_fail(ctx, HANDLER_DEFER, "%s rate limit: %lld ms to wait", svc->name,
                               (long long)ctx->retry_after_ms)
                        : handler_fail(ctx, HANDLER_DEFER, "rate limit: Redis unavailable");
    return k->x->mode == EXEC_PERSISTENT ? persistent(k) : per_job(k);
}

static handler_result
h_exec(handler_ctx *ctx)
{
    const svc_service *svc;
    const svc_resource *res;
    const svc_action *act;
    handler_world *w = ctx->world;
    char lock[KEY_MAX + 512];
    if (!w->svc || svc_find_action(w->svc, ctx->env->service, ctx->env->action, &svc, &res, &act) < 0 || !act ||
        act->exec.mode == EXEC_NONE)
        return handler_fail(ctx, HANDLER_PERMANENT, "no exec action %s in the services file", ctx->env->action);
    run k = {ctx, &act->exec, {{0}, 0}, 0, max_attempts_of(ctx, act)};
    k.timeout_ms = ctx->env->timeout_ms ? ctx->env->timeout_ms : act->timeout_ms ? act->timeout_ms : w->cfg->timeout_ms;
    secrets_of(ctx, k.x, &k.s);
    int got = handler_lock(ctx, lock, sizeof(lock));
    if (got <= 0) {
        ctx->retry_after_ms = 500;
        if (got < 0) return handler_fail(ctx, HANDLER_DEFER, "Redis: %s", w->r->errstr);
        return handler_fail(ctx, HANDLER_DEFER, "another mutation of this target is running");
    }
    handler_result hr = guarded(&k, svc, res);
    handler_unlock(ctx, lock);
    return hr;
}

static void
register_actions(const svc_service *s, const svc_action *as, int n)
{
    for (int i = 0; i < n; i++)
        if (as[i].exec.mode != EXEC_NONE) handler_register_self_timed(s->name, as[i].name, h_exec);
}

void
exec_handlers_register(const svc_file *svc)
{
    for (int i = 0; i < svc->nservices; i++) {
        const svc_service *s = &svc->services[i];
        register_actions(s, s->actions, s->nactions);
        for (int r = 0; r < s->nresources; r++) register_actions(s, s->resources[r].actions, s->resources[r].nactions);
    }
}
