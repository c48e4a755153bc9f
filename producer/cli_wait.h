/* cli_wait.h - waiting for a job's end on its queue's events stream
 * (docs/PROTOCOL.md "Producer events"), for `syncq status ID --wait`. */
#ifndef SYNCQ_CLI_WAIT_H
#define SYNCQ_CLI_WAIT_H

#include "rds.h"

#include <stddef.h>  /* for size_t */
#include <stdint.h>  /* for int64_t */

#define CLI_WAIT_ID_MAX 64
#define CLI_WAIT_TEXT_MAX 4096

/* One ending read from the stream. */
typedef struct cli_event {
    char status[32];
    char result[CLI_WAIT_TEXT_MAX], error[CLI_WAIT_TEXT_MAX];
    int has_result, has_error;
} cli_event;

/* cli_wait_mark writes the stream's last entry id ("0-0" when empty) into
 * last: read it before looking the job up, so no ending is missed between
 * the look-up and the wait. Returns 0, or -1 on a Redis error. */
int cli_wait_mark(rds *r, const char *events, char *last, size_t len);

/* cli_wait_for reads the stream after last (advancing it) for an entry
 * naming job id, blocking at most 1 s per call so Ctrl-C and the deadline
 * are honoured, until deadline_ms (clock_mono_ms; 0: one non-blocking
 * pass). Returns 1 with *ev filled, 0 at the deadline, -1 on a Redis error. */
int cli_wait_for(rds *r, const char *events, char *last, size_t len, const char *id, int64_t deadline_ms,
                 cli_event *ev);

/* cli_wait_recent looks for job id among the stream's newest RECENT entries
 * (a job that ended before the mark was read, while its audit row may still
 * be on its way to PostgreSQL). Returns 1 with *ev filled, 0, or -1. */
#define CLI_WAIT_RECENT 1000
int cli_wait_recent(rds *r, const char *events, const char *id, cli_event *ev);

#endif
