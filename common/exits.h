/* exits.h - the exit codes of syncq, syncq-worker and the CLI: one
 * vocabulary, sysexits(3) with one documented exception (docs/DESIGN.md §11).
 * Named here instead of <sysexits.h> so the codes a script may rely on are
 * listed in our tree, with what each means for syncq. */
#ifndef SYNCQ_EXITS_H
#define SYNCQ_EXITS_H

#define SYNCQ_EX_OK 0
#define SYNCQ_EX_BREACH 1       /* syncq check: a threshold breached; syncq healthcheck: unhealthy */
#define SYNCQ_EX_USAGE 64       /* a bad flag or argument, a bad SYNCQ_ variable */
#define SYNCQ_EX_DATAERR 65     /* bad input data; a job not found, or ended not in success (status --wait) */
#define SYNCQ_EX_UNAVAILABLE 69 /* Redis or PostgreSQL unreachable */
#define SYNCQ_EX_SOFTWARE 70    /* an internal error */
#define SYNCQ_EX_TEMPFAIL 75    /* try again: syncq status --wait timed out */
#define SYNCQ_EX_CONFIG 78      /* a configuration to fix: a malformed URL, a wrong password, a schema
                                   older than the binary; the worker is never restarted into it */

#endif
