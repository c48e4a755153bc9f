/* web_action.h - operator actions from the console. Each runs the CLI's own
 * verb (`syncq jobs retry`, `cancel`, `dlq replay|purge`, `queue
 * pause|resume`) in a child process of this binary, with the authenticated
 * user as --actor: the console writes the same audit events as the CLI
 * because it runs the same code. A child and not a call: those verbs parse
 * argv with getopt (global state), print their report, pace bulk replays
 * (--rate) and exit with the codes the console maps to HTTP statuses;
 * running them in the server's thread would need all of that rewritten. */
#ifndef SYNCQ_WEB_ACTION_H
#define SYNCQ_WEB_ACTION_H

#include "web.h"

#include <sys/types.h> /* for pid_t */

#define WEB_ACTION_ARGS_MAX 64

/* web_action_run runs `syncq args...` (args NULL-terminated) with the
 * server's Redis, PostgreSQL and prefix in its environment, and appends what
 * it printed (stdout and stderr, at most 64 KiB) to out. Returns its exit
 * code, or -1 when it could not run (the reason in out). */
int web_action_run(const config *cfg, const char *const *args, sbuf *out);
/* web_action_spawn starts `syncq args...` as web_action_run does, its
 * stdout and stderr on out_fd, and returns at once: 0 with *pid, or -1
 * with err. The caller reaps it. */
int web_action_spawn(const config *cfg, const char *const *args, int out_fd, pid_t *pid, char *err, size_t errlen);

/* Bulk dead-letter actions run in the background as tasks (web_task.c):
 * the console stays free, and the task's page shows the progress (the
 * CLI's "replayed OLD as NEW" lines counted against the total) and, once
 * done, the command's report. */
#define WEB_TASKS_MAX 16
/* web_task_start starts the command (see web_action_spawn) for user, its
 * output kept in an unlinked temporary file; total is the jobs it is
 * expected to touch, back the page to return to. The task's id (> 0), or
 * -1 with err (no free slot: every task still running). */
int web_task_start(const config *cfg, const char *const *args, const char *user, const char *op, size_t total,
                   const char *back, char *err, size_t errlen);
int web_page_task(web_req *rq, web_resp *rs);

/* web_action_status maps a CLI exit code to an HTTP status: 0 200, 64 400,
 * 65 409, 69 503, else 500. */
int web_action_status(int code);
/* web_actor writes the actor the audit records for rq: "web:NAME". */
void web_actor(const web_req *rq, char *out, size_t len);
/* web_action_answer finishes an action: JSON {"ok","exit_code","output"} for
 * the API, else a redirect to back with the output as a flash note. */
int web_action_answer(web_req *rq, web_resp *rs, int code, const sbuf *out, const char *back);
/* web_flash_take returns (and forgets) the session's flash note, or NULL. */
const char *web_flash_take(web_req *rq, int *ok);

#endif
