/* exec.h - running a handler program (exec_proc.c), shared by exec
 * mutations (h_exec.c) and exec syncs (h_exec_sync.c); the protocols are in
 * docs/HANDLERS.md. Conventions: 0 ok, -1 failed with the reason in the
 * caller's err buffer; times are CLOCK_MONOTONIC ms. */
#ifndef SYNCQ_EXEC_H
#define SYNCQ_EXEC_H

#include <stddef.h>    /* for size_t */
#include <stdint.h>    /* for int64_t */
#include <sys/types.h> /* for pid_t */

#include "json.h"
#include "sbuf.h"
#include "services.h"
#include "worker.h"

#define EXEC_OUT_MAX (1024 * 1024) /* bytes of stdout (per_job), of one reply line (persistent) or one record line (sync) */
#define EXEC_ERR_KEEP 4096         /* bytes of stderr kept for the error text */
#define EXEC_ERR_SHOWN 600         /* bytes of it that reach the audit error */
#define EXEC_TEMPFAIL 75           /* EX_TEMPFAIL: a transient failure */

/* A running program: its pid (0 none) and our ends of its pipes (-1 closed). */
typedef struct exec_proc {
    pid_t pid;
    int in, out, err;
} exec_proc;

/* The secret values of one job: the payload's secret members and the
 * exec's env values (borrowed). */
typedef struct exec_secrets {
    const char *v[64];
    int n;
} exec_secrets;

/* ---- masking what comes back ---- */

/* exec_secrets_of collects ctx's secret values (x may be NULL: the payload's only). */
void exec_secrets_of(const handler_ctx *ctx, const svc_exec *x, exec_secrets *s);
/* exec_scrub returns text (n bytes) with every secret value replaced, then
 * mask_string's credential patterns; control characters become spaces so
 * the text stays one line. Caller frees. */
char *exec_scrub(const char *text, size_t n, const exec_secrets *s);
/* exec_mask: exec_scrub without turning control characters into spaces. */
char *exec_mask(const char *text, size_t n, const exec_secrets *s);
/* exec_explain appends ": <masked text>" (at most EXEC_ERR_SHOWN bytes) to
 * ctx->error. */
void exec_explain(handler_ctx *ctx, const exec_secrets *s, const char *why, size_t n);
/* exec_set_result stores a program's result in ctx->result, masked by key,
 * by value and by pattern (dropped, never stored unmasked, when masking by
 * value broke it). */
void exec_set_result(handler_ctx *ctx, const json *result, const exec_secrets *s);

/* ---- processes ---- */

/* exec_spawn starts x without a shell, in its own process group, with
 * non-blocking pipes; it dies with this process (PR_SET_PDEATHSIG). */
int exec_spawn(const svc_exec *x, exec_proc *p, char *err, size_t errlen);
/* exec_how describes a wait status: "exit 3", "killed by signal 9". */
void exec_how(int st, char *out, size_t len);
/* exec_reap closes p's pipes and waits for it until deadline; past it (or
 * with deadline 0) its group is killed first (*killed set when given).
 * Returns the wait status. */
int exec_reap(exec_proc *p, int64_t deadline, int *killed);
/* exec_exited says whether p has ended (unreaped). */
int exec_exited(const exec_proc *p);
/* exec_kill kills p's group now and reaps it; returns the wait status. */
int exec_kill(exec_proc *p);

/* ---- moving bytes ---- */

enum { EXEC_PUMP_DONE = 0, EXEC_PUMP_TIMEOUT, EXEC_PUMP_OVERSIZE, EXEC_PUMP_EOF, EXEC_PUMP_ERROR };

typedef struct exec_pump {
    const char *in;      /* what to write on stdin (borrowed) */
    size_t inlen, inoff;
    int close_in;        /* per_job: stdin closes once written */
    sbuf *out;
    size_t scanned;      /* line mode: bytes of out known to hold no newline */
    int want_line;       /* line mode: done at the first newline */
    sbuf *err;           /* the first EXEC_ERR_KEEP bytes */
    int64_t deadline;    /* monotonic ms */
    size_t out_max;      /* bytes out may hold; 0: EXEC_OUT_MAX + 1 */
} exec_pump;

/* exec_read_into reads what fd has into b (the first keep bytes when keep
 * is set; over set past max when max is set); EOF or an error closes fd. */
void exec_read_into(int *fd, sbuf *b, size_t keep, int *over, size_t max);
/* exec_pump_run moves bytes both ways until: line mode, a whole line is in
 * u->out (or stdout closed: EOF); otherwise both output pipes closed. */
int exec_pump_run(exec_proc *p, exec_pump *u);

/* ---- the job as the program sees it ---- */

/* exec_request appends the job as one JSON object without a newline inside
 * (docs/HANDLERS.md); snapshot is the target's snapshot row as JSON text
 * ("null" or NULL for none, which is left out). */
void exec_request(handler_ctx *ctx, int64_t timeout_ms, int max_attempts, const char *snapshot, sbuf *b);

#endif
