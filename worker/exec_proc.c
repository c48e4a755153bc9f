/* exec_proc.c - running a handler program (exec.h): starting it without a
 * shell in its own process group, moving bytes through its pipes under a
 * deadline, reaping it, and masking what it says. Shared by exec mutations
 * (h_exec.c) and exec syncs (h_exec_sync.c); docs/HANDLERS.md. */
#define _GNU_SOURCE /* pipe2, execvpe, close_range: the fork/exec plumbing */
#include "fmacros.h"
#include "clock.h"
#include "exec.h"
#include "json.h"
#include "mask.h"
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

/* Environment variables a program inherits from the worker; the rest (the
 * database and Redis URLs among them) stay out of its reach. */
static const char *const pass_env[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", NULL};

/* ---- masking what comes back ---- */

static void
collect(const json *n, int secret, exec_secrets *s)
{
    if (s->n == (int)(sizeof(s->v) / sizeof(s->v[0]))) return;
    if (json_typeof(n) == JSON_STRING && secret && *json_str(n)) s->v[s->n++] = json_str(n);
    for (const json *m = json_child(n); m; m = json_next(m))
        collect(m, secret || (json_key(m) && mask_key_is_secret(json_key(m))), s);
}

void
exec_secrets_of(const handler_ctx *ctx, const svc_exec *x, exec_secrets *s)
{
    s->n = 0;
    for (int i = 0; x && i < x->nenv && s->n < 32; i++)
        if (*x->env[i].value) s->v[s->n++] = x->env[i].value;
    collect(ctx->env->payload, 0, s);
}

/* scrub returns text (n bytes) with every secret value replaced, then
 * mask_string's credential patterns; with one_line, control characters
 * become spaces. Caller frees. */
static char *
scrub(const char *text, size_t n, const exec_secrets *s, int one_line)
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
    for (size_t i = 0; one_line && i < b.len; i++)
        if ((unsigned char)b.buf[i] < 0x20 || b.buf[i] == 0x7f) b.buf[i] = ' ';
    char *m = mask_string(b.buf);
    if (m) {
        sbuf_free(&b);
        return m;
    }
    return sbuf_steal(&b, NULL);
}

/* A program's stderr and words become one line of the error. */
char *
exec_scrub(const char *text, size_t n, const exec_secrets *s)
{
    return scrub(text, n, s, 1);
}

/* A plugin's reason is kept as written (the CLI and the console escape
 * control characters when they show it), masked all the same. */
char *
exec_mask(const char *text, size_t n, const exec_secrets *s)
{
    return scrub(text, n, s, 0);
}

/* explain appends ": <masked text>" of the program's own words (an error
 * member, else its stderr) to ctx->error. */
void
exec_explain(handler_ctx *ctx, const exec_secrets *s, const char *why, size_t n)
{
    while (n && (why[n - 1] == '\n' || why[n - 1] == ' ' || why[n - 1] == '\r')) n--;
    if (!n) return;
    char *m = exec_scrub(why, n, s);
    size_t used = strlen(ctx->error);
    snprintf(ctx->error + used, sizeof(ctx->error) - used, ": %.*s", EXEC_ERR_SHOWN, m);
    free(m);
}

/* set_result stores the program's result (any JSON value) masked by key,
 * by value and by pattern. A result that is no longer JSON after masking by
 * value is replaced, never stored unmasked. */
void
exec_set_result(handler_ctx *ctx, const json *result, const exec_secrets *s)
{
    if (!result || json_typeof(result) == JSON_NULL) return;
    char *txt = json_print(result);
    if (!txt) return;
    char *byval = exec_scrub(txt, strlen(txt), s);
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

int
exec_spawn(const svc_exec *x, exec_proc *p, char *err, size_t errlen)
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
    *p = (exec_proc){pid, in[1], out[0], er[0]};
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
void
exec_how(int st, char *out, size_t len)
{
    if (WIFEXITED(st)) snprintf(out, len, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(out, len, "killed by signal %d", WTERMSIG(st));
    else snprintf(out, len, "status %d", st);
}

/* reap waits for p until deadline (monotonic ms); past it, or with deadline
 * 0, the group is killed first (*killed set, when given). What the program
 * left running in its group is killed while its exit is still unreaped (the
 * zombie keeps the group id from being reused). Returns the wait status. */
int
exec_reap(exec_proc *p, int64_t deadline, int *killed)
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
        if (clock_mono_ms() < deadline) {
            clock_nap_ms(1);
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
int
exec_exited(const exec_proc *p)
{
    siginfo_t si;
    si.si_pid = 0;
    return p->pid && waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOWAIT | WNOHANG) == 0 && si.si_pid == p->pid;
}

int
exec_kill(exec_proc *p)
{
    if (p->pid) {
        kill(-p->pid, SIGKILL);
        kill(p->pid, SIGKILL);
    }
    return exec_reap(p, 0, NULL);
}

/* ---- moving bytes ---- */

void
exec_read_into(int *fd, sbuf *b, size_t keep, int *over, size_t max)
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
write_some(exec_proc *p, exec_pump *u)
{
    ssize_t n = write(p->in, u->in + u->inoff, u->inlen - u->inoff);
    if (n > 0) u->inoff += (size_t)n;
    else if (n < 0 && errno != EAGAIN && errno != EINTR) u->inoff = u->inlen; /* EPIPE: it stopped reading */
    if (u->inoff == u->inlen && u->close_in) close_fd(&p->in);
}

static int
line_done(exec_pump *u)
{
    if (!u->want_line || u->out->len <= u->scanned) return 0;
    if (memchr(u->out->buf + u->scanned, '\n', u->out->len - u->scanned)) return 1;
    u->scanned = u->out->len;
    return 0;
}

/* run_pump moves bytes both ways until: per_job, both output pipes closed;
 * persistent, a whole line came back. */
int
exec_pump_run(exec_proc *p, exec_pump *u)
{
    for (;;) {
        struct pollfd f[3];
        int nf = 0, over = 0, wi = -1, oi = -1, ei = -1;
        if (line_done(u)) return EXEC_PUMP_DONE;
        if (u->want_line && p->out < 0) return EXEC_PUMP_EOF;
        if (!u->want_line && p->out < 0 && p->err < 0) return EXEC_PUMP_DONE;
        int64_t left = u->deadline - clock_mono_ms();
        if (left <= 0) return EXEC_PUMP_TIMEOUT;
        if (p->in >= 0 && u->inoff < u->inlen) wi = nf, f[nf++] = (struct pollfd){p->in, POLLOUT, 0};
        if (p->out >= 0) oi = nf, f[nf++] = (struct pollfd){p->out, POLLIN, 0};
        if (p->err >= 0) ei = nf, f[nf++] = (struct pollfd){p->err, POLLIN, 0};
        int r = poll(f, (nfds_t)nf, left > 100 ? 100 : (int)left);
        if (r < 0 && errno != EINTR) return EXEC_PUMP_ERROR;
        if (r <= 0) continue;
        if (wi >= 0 && f[wi].revents) write_some(p, u);
        if (oi >= 0 && f[oi].revents) exec_read_into(&p->out, u->out, 0, &over, u->out_max ? u->out_max : EXEC_OUT_MAX + 1);
        if (over) return EXEC_PUMP_OVERSIZE;
        if (ei >= 0 && f[ei].revents) exec_read_into(&p->err, u->err, EXEC_ERR_KEEP, &over, 0);
    }
}

/* ---- the job as the program sees it ---- */

static void
add_str(sbuf *b, const char *key, const char *v)
{
    sbuf_json_key(b, key);
    sbuf_json_strz(b, v);
}

/* the payload is printed compactly and strings are escaped: no newline */
void
exec_request(handler_ctx *ctx, int64_t timeout_ms, int max_attempts, const char *snapshot, sbuf *b)
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
    if (snapshot) {
        sbuf_json_key(b, "snapshot");
        sbuf_adds(b, snapshot);
    }
    sbuf_addc(b, '}');
    free(payload);
}
