/* cli_jobs.h - `syncq jobs`: the audit log from the command line (README "Operating syncq").
 *   cli_jobs.c         the verb table and the search (filters, keyset pages)
 *   cli_jobs_show.c    one job with its attempt history
 *   cli_jobs_retry.c   a dead or conflicted job queued again with lineage
 * Payloads are masked before they reach PostgreSQL; error texts are scrubbed
 * again (mask_string) when printed. */
#ifndef SYNCQ_CLI_JOBS_H
#define SYNCQ_CLI_JOBS_H

#include "cli.h"

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
