/* cli_dlq.c - `syncq dlq VERB`: the verb table, flags and help. The verbs
 * themselves live in cli_dlq_show.c (ls, show) and cli_dlq_change.c (replay,
 * purge); see cli_dlq.h. */
#include "fmacros.h"
#include "cli_dlq.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define QUEUE_HELP \
    "  -q, --queue Q          only queue Q (default: the configured queues and every queue a worker has seen)\n"
#define FILTER_HELP \
    "  -s, --service S        jobs for service S\n" \
    "  -a, --action A         jobs for action A\n" \
    "  -e, --error TEXT       jobs whose error contains TEXT (case-insensitive)\n" \
    "      --older-than DUR   dead for at least DUR: 30s, 10m, 2h, 7d, 1h30m (units ms s m h d w)\n" \
    "      --newer-than DUR   dead for at most DUR\n"

static const char usage[] =
    "usage: syncq dlq VERB [options]\n"
    "\n"
    "Dead-letter jobs: those that failed for good (a permanent error, attempts exhausted, a bad or\n"
    "poison input), kept per queue with the producer's original bytes and the last error.\n"
    "\n"
    "  ls       list dead-letter jobs, newest first (a table, or JSON lines)\n"
    "  show     print one job with every field\n"
    "  replay   queue jobs again as new jobs linked to the old ones\n"
    "  purge    delete jobs from the dead-letter set\n"
    "\n"
    "Payloads are masked everywhere unless 'show --reveal'. Times are UTC.\n"
    "Run 'syncq dlq VERB --help' for a verb's options.\n"
    "Exit codes: 0 ok, 64 usage, 65 a job is not in dead-letter, 69 Redis unavailable, 70 internal error.\n";

static const char usage_ls[] =
    "usage: syncq dlq ls [filters] [--json] [--limit N]\n"
    "\n"
    "Lists dead-letter jobs, newest first: a table (ID, QUEUE, DEAD AT, SERVICE/ACTION, ERROR) and\n"
    "\"N shown of M matching\"; or, with --json, one object per line: id, queue, dead_at, service,\n"
    "action, kind, target_type, target_id, scope, actor, error, replayed_from, payload (masked).\n"
    "An envelope that does not parse has null service, action and payload.\n"
    "\n" QUEUE_HELP FILTER_HELP
    "      --json             one JSON object per line\n"
    "  -n, --limit N          show at most N jobs (default 100; 0 = all)\n";

static const char usage_show[] =
    "usage: syncq dlq show ID [--queue Q] [--reveal] [--json]\n"
    "\n"
    "Prints one dead-letter job with every field: lineage (replayed from, chain root), times, the\n"
    "error, the envelope's fields and its payload with secrets masked. An envelope that does not\n"
    "parse is shown by its size and why it does not parse.\n"
    "\n"
    "  -q, --queue Q          look in queue Q only (needed when the id is dead in several queues)\n"
    "      --reveal           show secrets: the payload unmasked, the raw bytes of an unparsable envelope\n"
    "      --json             one JSON object\n"
    "\n"
    "Exit codes: 0 ok, 64 usage, 65 not in dead-letter, 69 Redis unavailable.\n";

static const char usage_replay[] =
    "usage: syncq dlq replay ID... | --all | filters  [--dry-run] [--rate N] [--actor A] [--queue Q]\n"
    "\n"
    "Queues each job again as a new job: the producer's bytes unchanged, a new id, attempts from\n"
    "zero, replayed_from = the old id in the audit table. The old job leaves the dead-letter set\n"
    "and its audit history gets a 'replayed' event naming the actor. Each replay is atomic: when\n"
    "two operators replay one job at once, one job is queued and the other operator is told it is\n"
    "not in dead-letter. Prints \"replayed OLD as NEW\" per job; a progress bar on a terminal.\n"
    "\n"
    "  ID...                  the jobs to replay\n"
    "      --all              every dead-letter job\n"
    "  filters                instead of ids or --all, the jobs that pass every filter given:\n" FILTER_HELP
    QUEUE_HELP
    "      --dry-run          print the jobs that would be replayed and their count; change nothing\n"
    "      --rate N           at most N replays per second\n"
    "      --actor A          who replays, for the audit (default: the OS user)\n"
    "\n"
    "Exit codes: 0 every job replayed, 64 usage, 65 a job was not in dead-letter, 69 Redis unavailable.\n";

static const char usage_purge[] =
    "usage: syncq dlq purge ID... | --all | filters  [--yes] [--dry-run] [--actor A] [--queue Q]\n"
    "\n"
    "Deletes jobs from the dead-letter set for good; their audit rows stay, with a 'purged' event\n"
    "naming the actor. Asks \"Purge N dead-letter job(s)? [y/N]\" on the terminal unless --yes;\n"
    "without a terminal and without --yes it refuses (exit 64). Any answer but y purges nothing\n"
    "(exit 0). Prints the number of jobs purged.\n"
    "\n"
    "  ID...                  the jobs to purge\n"
    "      --all              every dead-letter job\n"
    "  filters                instead of ids or --all, the jobs that pass every filter given:\n" FILTER_HELP
    QUEUE_HELP
    "  -y, --yes              do not ask\n"
    "      --dry-run          print the jobs that would be purged and their count; change nothing\n"
    "      --actor A          who purges, for the audit (default: the OS user)\n"
    "\n"
    "Exit codes: 0 ok, 64 usage or no terminal to ask on, 65 a job was not in dead-letter,\n"
    "69 Redis unavailable.\n";

/* ---------------------------------------------------------------- Verbs */

/* Flags a verb accepts. */
enum {
    F_QUEUE = 1 << 0, F_FILTER = 1 << 1, F_JSON = 1 << 2, F_LIMIT = 1 << 3, F_REVEAL = 1 << 4,
    F_DRY = 1 << 5, F_RATE = 1 << 6, F_ACTOR = 1 << 7, F_ALL = 1 << 8, F_YES = 1 << 9,
};

enum { IDS_NONE, IDS_ONE, IDS_SELECT }; /* what the positional arguments may be */

typedef struct verb {
    const char *name;
    int (*run)(dlq *d, const dlq_opts *o);
    int flags, ids;
    const char *usage;
} verb;

static const verb verbs[] = {
    {"ls", dlq_ls, F_QUEUE | F_FILTER | F_JSON | F_LIMIT, IDS_NONE, usage_ls},
    {"show", dlq_show, F_QUEUE | F_REVEAL | F_JSON, IDS_ONE, usage_show},
    {"replay", dlq_replay, F_QUEUE | F_FILTER | F_ALL | F_DRY | F_RATE | F_ACTOR, IDS_SELECT, usage_replay},
    {"purge", dlq_purge, F_QUEUE | F_FILTER | F_ALL | F_DRY | F_ACTOR | F_YES, IDS_SELECT, usage_purge},
};

/* ---------------------------------------------------------------- Flags */

enum { O_OLDER = 256, O_NEWER, O_JSON, O_REVEAL, O_DRY, O_RATE, O_ACTOR, O_ALL };

static const struct option options[] = {
    {"queue", required_argument, NULL, 'q'}, {"service", required_argument, NULL, 's'},
    {"action", required_argument, NULL, 'a'}, {"error", required_argument, NULL, 'e'},
    {"older-than", required_argument, NULL, O_OLDER}, {"newer-than", required_argument, NULL, O_NEWER},
    {"json", no_argument, NULL, O_JSON}, {"limit", required_argument, NULL, 'n'},
    {"reveal", no_argument, NULL, O_REVEAL}, {"dry-run", no_argument, NULL, O_DRY},
    {"rate", required_argument, NULL, O_RATE}, {"actor", required_argument, NULL, O_ACTOR},
    {"all", no_argument, NULL, O_ALL}, {"yes", no_argument, NULL, 'y'},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

static int
flag_of(int c)
{
    switch (c) {
    case 'q': return F_QUEUE;
    case 's': case 'a': case 'e': case O_OLDER: case O_NEWER: return F_FILTER;
    case O_JSON: return F_JSON;
    case 'n': return F_LIMIT;
    case O_REVEAL: return F_REVEAL;
    case O_DRY: return F_DRY;
    case O_RATE: return F_RATE;
    case O_ACTOR: return F_ACTOR;
    case O_ALL: return F_ALL;
    case 'y': return F_YES;
    default: return 0;
    }
}

static const char *
option_name(int c)
{
    for (const struct option *p = options; p->name; p++)
        if (p->val == c) return p->name;
    return "?";
}

static int
bad_value(const verb *v, int c, const char *arg)
{
    fprintf(stderr, "syncq dlq %s: bad value \"%s\" for --%s\n", v->name, arg, option_name(c));
    return SYNCQ_EX_USAGE;
}

/* set_opt stores one flag. 0, or SYNCQ_EX_USAGE after a message. */
static int
set_opt(const verb *v, dlq_opts *o, int c, const char *arg)
{
    switch (c) {
    case 'q': o->queue = arg; return config_valid_queue_name(arg) ? 0 : bad_value(v, c, arg);
    case 's': o->f.service = arg; return 0;
    case 'a': o->f.action = arg; return 0;
    case 'e': o->f.error = arg; return 0;
    case O_OLDER: return config_parse_duration_ms(arg, &o->older_ms) ? bad_value(v, c, arg) : 0;
    case O_NEWER: return config_parse_duration_ms(arg, &o->newer_ms) ? bad_value(v, c, arg) : 0;
    case 'n': return config_parse_int(arg, 0, 1000000000, &o->limit) ? bad_value(v, c, arg) : 0;
    case O_RATE: return config_parse_int(arg, 1, 1000000, &o->rate) ? bad_value(v, c, arg) : 0;
    case O_ACTOR: o->actor = arg; return *arg ? 0 : bad_value(v, c, arg);
    case O_JSON: o->json = 1; return 0;
    case O_REVEAL: o->reveal = 1; return 0;
    case O_DRY: o->dry_run = 1; return 0;
    case O_ALL: o->all = 1; return 0;
    case 'y': o->yes = 1; return 0;
    default: return SYNCQ_EX_USAGE;
    }
}

/* check_ids checks the positional arguments against what v takes. */
static int
check_ids(const verb *v, const dlq_opts *o)
{
    const char *why = NULL;
    int ways = (o->nids > 0) + o->all + dlq_opts_filtered(o);
    if (v->ids == IDS_NONE && o->nids) why = "takes no job ids";
    else if (v->ids == IDS_ONE && o->nids != 1) why = "takes one job id";
    else if (v->ids == IDS_SELECT && ways == 0) why = "which jobs? give job ids, --all or filters";
    else if (v->ids == IDS_SELECT && ways > 1) why = "give job ids, --all or filters, not several of them";
    if (!why) return -1;
    fprintf(stderr, "syncq dlq %s: %s (see syncq dlq %s --help)\n", v->name, why, v->name);
    return SYNCQ_EX_USAGE;
}

/* parse fills o from argv (argv[0] is the verb). Returns -1 to go on, or an
 * exit code (help printed, or a usage error). */
static int
parse(const verb *v, int argc, char **argv, dlq_opts *o)
{
    int c, rc;
    memset(o, 0, sizeof(*o));
    o->older_ms = o->newer_ms = -1;
    o->limit = 100;
    optind = 0; /* GNU getopt: start over */
    opterr = 0; /* our messages, naming the verb */
    while ((c = getopt_long(argc, argv, ":q:s:a:e:n:yh", options, NULL)) != -1) {
        if (c == 'h') {
            fputs(v->usage, stdout);
            return SYNCQ_EX_OK;
        }
        if (c == '?' || c == ':') {
            fprintf(stderr, "syncq dlq %s: %s \"%s\" (see syncq dlq %s --help)\n", v->name,
                    c == ':' ? "missing value for" : "unknown option", argv[optind - 1], v->name);
            return SYNCQ_EX_USAGE;
        }
        if (!(flag_of(c) & v->flags)) {
            fprintf(stderr, "syncq dlq %s: --%s does not apply here (see syncq dlq %s --help)\n", v->name,
                    option_name(c), v->name);
            return SYNCQ_EX_USAGE;
        }
        if ((rc = set_opt(v, o, c, optarg)) != 0) return rc;
    }
    o->ids = argv + optind;
    o->nids = argc - optind;
    return check_ids(v, o);
}

int
cli_dlq(config *cfg, int argc, char **argv)
{
    dlq d;
    dlq_opts o;
    const verb *v = NULL;
    for (size_t i = 0; argc > 1 && i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (!strcmp(argv[1], verbs[i].name)) v = &verbs[i];
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        fputs(usage, stdout);
        return SYNCQ_EX_OK;
    }
    if (!v) {
        if (argc > 1) fprintf(stderr, "syncq dlq: unknown verb \"%s\"\n", argv[1]);
        fputs(usage, stderr);
        return SYNCQ_EX_USAGE;
    }
    int rc = parse(v, argc - 1, argv + 1, &o);
    if (rc >= 0) return rc;
    if (dlq_open(&d, cfg, o.queue) < 0) rc = dlq_report(&d, v->name);
    else rc = v->run(&d, &o);
    dlq_close(&d);
    return rc;
}
