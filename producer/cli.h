/* cli.h - the syncq command-line tool: a table of subcommands (cli.c) and
 * the configuration they share. */
#ifndef SYNCQ_CLI_H
#define SYNCQ_CLI_H

#include "config.h"

/* sysexits (SPEC §2) */
#define EX_OK_ 0
#define EX_USAGE_ 64
#define EX_DATAERR_ 65
#define EX_UNAVAILABLE_ 69
#define EX_SOFTWARE_ 70

typedef struct cli_cmd {
    const char *name;
    int (*run)(config *cfg, int argc, char **argv);
    const char *summary;
} cli_cmd;

/* cli_dispatch runs argv[1] with the configuration from the environment and
 * the global flags before it. Returns an exit code. */
int cli_dispatch(int argc, char **argv);

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

#endif
