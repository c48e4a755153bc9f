/* cli.h - the syncq command-line tool: a table of subcommands (cli.c) and
 * the configuration they share. */
#ifndef SYNCQ_CLI_H
#define SYNCQ_CLI_H

#include <stddef.h> /* for size_t */

#include "config.h"
#include "exits.h" /* the exit codes every subcommand returns */

typedef struct cli_cmd {
    const char *name;
    int (*run)(config *cfg, int argc, char **argv);
    const char *summary;
} cli_cmd;

/* cli_dispatch runs argv[1] with the configuration from the environment and
 * the global flags before it. Returns an exit code. */
int cli_dispatch(int argc, char **argv);

/* cli_limit_opt checks a --limit value (1..max) and writes it as text into
 * out for a query parameter; on a bad value it says so for cmd and returns
 * SYNCQ_EX_USAGE, else 0. */
int cli_limit_opt(const char *cmd, const char *v, int max, char *out, size_t outlen);

/* cli_tty returns s escaped for the terminal (tty.h; NULL stays NULL). The
 * copy lives until 32 more calls (cli_tty.c), long enough for one printf of
 * a table row; human-readable printers pass every value they did not write
 * themselves through it. */
const char *cli_tty(const char *s);

int cli_enqueue(config *cfg, int argc, char **argv);
int cli_dlq(config *cfg, int argc, char **argv);
int cli_migrate(config *cfg, int argc, char **argv);
int cli_queue(config *cfg, int argc, char **argv);
int cli_status(config *cfg, int argc, char **argv);
int cli_cancel(config *cfg, int argc, char **argv);
int cli_stats(config *cfg, int argc, char **argv);
int cli_health(config *cfg, int argc, char **argv);
int cli_check(config *cfg, int argc, char **argv);
int cli_jobs(config *cfg, int argc, char **argv);
int cli_prune(config *cfg, int argc, char **argv);
int cli_snapshot(config *cfg, int argc, char **argv);
int cli_healthcheck(config *cfg, int argc, char **argv);
int cli_audit(config *cfg, int argc, char **argv);
int cli_web(config *cfg, int argc, char **argv);

#endif
