/* cli_jobs.h - `syncq jobs`: the audit log from the command line (README "Operating syncq").
 *   cli_jobs.c         the verb table and the search (filters, keyset pages)
 *   cli_jobs_show.c    one job with its attempt history
 *   cli_jobs_retry.c   a dead or conflicted job queued again with lineage
 * Payloads are masked before they reach PostgreSQL; error texts are scrubbed
 * again (mask_string) when printed. */
#ifndef SYNCQ_CLI_JOBS_H
#define SYNCQ_CLI_JOBS_H

#include "cli.h"
#include "audit.h"
#include "db.h"
#include "sbuf.h"

#define JOBS_CURSOR_TS_LEN 27 /* 2026-11-24T10:00:00.123456Z (AUDIT_JOBS_KEY), or "-" for a row without enqueued_at */

/* A search of the audit log as people give it (`syncq jobs` flags, the web
 * console's jobs page), checked: strings are borrowed from the caller. */
typedef struct jobs_filter {
    const char *status, *queue, *service, *action, *target, *target_type, *actor, *text, *before;
    char since[24], until[24], limit[24]; /* ms and rows, as query parameters */
    char status_array[160];
    char cursor_ts[JOBS_CURSOR_TS_LEN + 1];
    const char *cursor_id;                /* points into before */
    int as_json;
} jobs_filter;

/* jobs_filter_init: no filter, the default page size (50). */
void jobs_filter_init(jobs_filter *f);
/* jobs_filter_set sets the filter called name (status queue service action
 * target target_type actor text since until before limit) to v, checked.
 * 0, or -1 with a message for people in err. */
int jobs_filter_set(jobs_filter *f, const char *name, const char *v, char *err, size_t errlen);
/* jobs_audit_filter says what f asks of the audit table (audit_jobs); the
 * result borrows f's strings. */
audit_jobs_filter jobs_audit_filter(const jobs_filter *f);
/* jobs_json_page appends a page of audit_jobs rows as `syncq jobs --json`
 * prints it (errors scrubbed); next NULL on the last page. */
void jobs_json_page(sbuf *b, const db_result *r, int rows, const char *next);
/* jobs_show_json appends a job (audit_job) and its history (audit_history)
 * as `syncq jobs show --json` prints them (payload and result masked). */
void jobs_show_json(sbuf *b, const db_result *j, const db_result *h);

int jobs_list(config *cfg, int argc, char **argv);
int jobs_show(config *cfg, int argc, char **argv);
int jobs_retry(config *cfg, int argc, char **argv);

/* jobs_masked returns s with credentials scrubbed (mask_string), one line
 * (newlines and tabs become spaces) and escaped for the terminal (tty.h),
 * malloc'd; NULL for NULL. */
char *jobs_masked(const char *s);
/* jobs_scrubbed returns s with credentials scrubbed (mask_string) and
 * nothing else changed, malloc'd, for JSON output (the encoder escapes
 * control characters); NULL for NULL. */
char *jobs_scrubbed(const char *s);

#endif
