/* web_action.c - operator actions as children running the CLI's verbs
 * (web_action.h says why). */
#include "fmacros.h"
#include "web_action.h"
#include "web_html.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT_MAX (64 * 1024)

extern char **environ;

/* child_env copies environ with the server's configuration over it (flags
 * given before `web` win over the environment, as for any command). The
 * strings of the three it sets are owned by the array's last entries. */
static char **
child_env(const config *cfg, char *own[3])
{
    size_t n = 0;
    while (environ[n]) n++;
    char **env = calloc(n + 4, sizeof(*env));
    size_t k = 0;
    if (!env) return NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "SYNCQ_REDIS_URL=", 16) && strncmp(environ[i], "SYNCQ_DATABASE_URL=", 19) &&
            strncmp(environ[i], "SYNCQ_PREFIX=", 13))
            env[k++] = environ[i];
    const char *names[] = {"SYNCQ_REDIS_URL", "SYNCQ_DATABASE_URL", "SYNCQ_PREFIX"};
    const char *vals[] = {cfg->redis_url, cfg->database_url, cfg->prefix};
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(names[i]) + strlen(vals[i]) + 2;
        own[i] = malloc(len);
        if (own[i]) {
            snprintf(own[i], len, "%s=%s", names[i], vals[i]);
            env[k++] = own[i];
        }
    }
    return env;
}

/* drain reads fd to its end, keeping the first OUTPUT_MAX bytes in out. */
static void
drain(int fd, sbuf *out)
{
    char buf[4096];
    size_t kept = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        size_t take = kept + (size_t)n > OUTPUT_MAX ? OUTPUT_MAX - kept : (size_t)n;
        sbuf_add(out, buf, take);
        kept += take;
    }
}

int
web_action_spawn(const config *cfg, const char *const *args, int out_fd, pid_t *pid, char *err, size_t errlen)
{
    const char *argv[WEB_ACTION_ARGS_MAX + 2];
    char *own[3] = {NULL, NULL, NULL};
    int n = 0;
    argv[n++] = "syncq";
    for (; args[n - 1] && n <= WEB_ACTION_ARGS_MAX; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    char **env = child_env(cfg, own);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", 0, 0); /* never a terminal to ask on */
    int e = env ? posix_spawn(pid, "/proc/self/exe", &fa, NULL, (char *const *)argv, env) : ENOMEM;
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    for (int i = 0; i < 3; i++) free(own[i]);
    if (e == 0) return 0;
    snprintf(err, errlen, "cannot run syncq: %s", strerror(e));
    return -1;
}

int
web_action_run(const config *cfg, const char *const *args, sbuf *out)
{
    char err[200];
    int p[2], status = 0;
    pid_t pid;
    if (pipe(p) < 0) return sbuf_printf(out, "pipe: %s", strerror(errno)), -1;
    fcntl(p[0], F_SETFD, FD_CLOEXEC); /* the child gets the write end as stdout, nothing else */
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    int rc = web_action_spawn(cfg, args, p[1], &pid, err, sizeof(err));
    close(p[1]);
    if (rc == 0) {
        drain(p[0], out);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : SYNCQ_EX_SOFTWARE;
    } else {
        sbuf_adds(out, err);
    }
    close(p[0]);
    return rc;
}

int
web_action_status(int code)
{
    switch (code) {
    case 0: return 200;
    case SYNCQ_EX_USAGE: return 400;
    case SYNCQ_EX_DATAERR: return 409;
    case SYNCQ_EX_UNAVAILABLE: return 503;
    default: return 500;
    }
}

void
web_actor(const web_req *rq, char *out, size_t len)
{
    snprintf(out, len, "web:%s", rq->user ? rq->user : "unknown");
}

int
web_action_answer(web_req *rq, web_resp *rs, int code, const sbuf *out, const char *back)
{
    const char *text = out->len ? out->buf : "";
    if (rq->api) {
        sbuf *b = web_json(rs);
        rs->status = web_action_status(code);
        sbuf_adds(b, "{\"ok\":");
        sbuf_adds(b, code == 0 ? "true" : "false");
        sbuf_printf(b, ",\"exit_code\":%d,\"output\":", code);
        sbuf_json_strz(b, text);
        sbuf_adds(b, "}\n");
        return 0;
    }
    if (rq->sess) {
        snprintf(rq->sess->flash, sizeof(rq->sess->flash), "%s", text[0] ? text : code == 0 ? "done" : "failed");
        rq->sess->flash_ok = code == 0;
    }
    return web_redirect(rs, back);
}

const char *
web_flash_take(web_req *rq, int *ok)
{
    static char copy[sizeof(((web_session *)0)->flash)]; /* one thread (web.h) */
    if (!rq->sess || !rq->sess->flash[0]) return NULL;
    memcpy(copy, rq->sess->flash, sizeof(copy));
    *ok = rq->sess->flash_ok;
    rq->sess->flash[0] = '\0';
    return copy;
}
