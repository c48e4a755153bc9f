/* cli_jobs_show.c - `syncq jobs show ID`: one audit row with its lineage and
 * every attempt (syncq_job_history: failures from the events table, the
 * final success from the row), errors scrubbed and the payload as stored
 * (masked before it reached PostgreSQL). */
#include "fmacros.h"
#include "cli_jobs.h"
#include "cli_ops.h"
#include "mask.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: syncq jobs show ID [--json]\n"
    "\n"
    "Prints one job's audit row (status, attempts, times, worker, error, masked payload, result,\n"
    "lineage: the job it replays and the jobs replaying it) and its history: every attempt with\n"
    "its outcome, duration and error, lost deliveries, dead-letter and operator events.\n"
    "\n"
    "Exit codes: 0 ok, 64 usage, 65 no such job, 69 PostgreSQL unavailable.\n";

static const char *const fields[] = {"id", "queue", "kind", "service", "action", "target_type", "target_id",
                                     "scope", "actor", "status", "attempts", "enqueued_at", "started_at",
                                     "finished_at", "duration_ms", "worker", "replayed_from", "replayed_as",
                                     "error", "payload", "result"};
_Static_assert(sizeof(fields) / sizeof(fields[0]) == AUDIT_JOB_NCOLS, "a name per column of audit_job");
static const char *history_fields[] = {"at", "attempt", "event", "outcome", "duration_ms", "error", "worker", "due_at"};
_Static_assert(sizeof(history_fields) / sizeof(history_fields[0]) == AUDIT_HIST_NCOLS,
               "a name per column of audit_history");

/* ---------------------------------------------------------------- Text */

static void
text_job(const db_result *j)
{
    char d[32];
    for (int c = 0; c < AUDIT_JOB_NCOLS; c++) {
        const char *v = db_value(j, 0, c);
        char *shown = NULL;
        if (!v) continue;
        if (c == AUDIT_JOB_ERROR) shown = jobs_masked(v);
        else if (c == AUDIT_JOB_RESULT) shown = mask_json_text(v, strlen(v)); /* handler output: scrub it too */
        if (c == AUDIT_JOB_DURATION) v = config_fmt_duration_ms(atoll(v), d, sizeof(d));
        if (c == AUDIT_JOB_RESULT && !shown) continue; /* never print what could not be masked */
        printf("%-14s %s\n", fields[c], shown ? cli_tty(shown) : cli_tty(v));
        free(shown);
    }
}

static void
text_history(const db_result *h)
{
    char d[32];
    printf("\nHISTORY\n%-24s %7s %-8s %-10s %8s  %s\n", "AT", "ATTEMPT", "EVENT", "OUTCOME", "DURATION", "ERROR");
    for (int i = 0; i < db_ntuples(h); i++) {
        const char *dur = db_value(h, i, AUDIT_HIST_DURATION), *due = db_value(h, i, AUDIT_HIST_DUE);
        char *err = jobs_masked(db_value(h, i, AUDIT_HIST_ERROR));
        printf("%-24s %7s %-8s %-10s %8s  %s%s%s\n", cli_tty(db_value(h, i, AUDIT_HIST_AT)),
               db_value(h, i, AUDIT_HIST_ATTEMPT) ? cli_tty(db_value(h, i, AUDIT_HIST_ATTEMPT)) : "-",
               cli_tty(db_value(h, i, AUDIT_HIST_EVENT)),
               db_value(h, i, AUDIT_HIST_OUTCOME) ? cli_tty(db_value(h, i, AUDIT_HIST_OUTCOME)) : "-",
               dur ? config_fmt_duration_ms(atoll(dur), d, sizeof(d)) : "-", err ? err : "", due ? "; retry due " : "",
               due ? cli_tty(due) : "");
        free(err);
    }
    if (db_ntuples(h) == 0) printf("(no attempt recorded yet)\n");
}

/* ---------------------------------------------------------------- JSON */

/* json_value appends column c of row i of r as JSON: numbers bare, JSON
 * documents as they are, error texts scrubbed, the rest as strings. */
static void
json_value(sbuf *b, const db_result *r, int i, int c, int number, int document, int error)
{
    const char *v = db_value(r, i, c);
    char *m = NULL;
    if (!v) sbuf_adds(b, "null");
    else if (number) sbuf_adds(b, v);
    else if (document && (m = mask_json_text(v, strlen(v))) != NULL) sbuf_adds(b, m);
    else if (document) sbuf_adds(b, "null");
    else if (error && (m = jobs_scrubbed(v)) != NULL) sbuf_json_strz(b, m);
    else sbuf_json_strz(b, v);
    free(m);
}

void
jobs_show_json(sbuf *b, const db_result *j, const db_result *h)
{
    sbuf_addc(b, '{');
    for (int c = 0; c < AUDIT_JOB_NCOLS; c++) {
        sbuf_json_key(b, fields[c]);
        json_value(b, j, 0, c, c == AUDIT_JOB_ATTEMPTS || c == AUDIT_JOB_DURATION,
                   c == AUDIT_JOB_PAYLOAD || c == AUDIT_JOB_RESULT, c == AUDIT_JOB_ERROR);
    }
    sbuf_json_key(b, "history");
    sbuf_addc(b, '[');
    for (int i = 0; i < db_ntuples(h); i++) {
        sbuf_adds(b, i ? ",{" : "{");
        for (int c = 0; c < AUDIT_HIST_NCOLS; c++) {
            sbuf_json_key(b, history_fields[c]);
            json_value(b, h, i, c, c == AUDIT_HIST_ATTEMPT || c == AUDIT_HIST_DURATION, 0, c == AUDIT_HIST_ERROR);
        }
        sbuf_addc(b, '}');
    }
    sbuf_adds(b, "]}\n");
}

static void
print_json(const db_result *j, const db_result *h)
{
    sbuf b;
    sbuf_init(&b);
    jobs_show_json(&b, j, h);
    fwrite(b.buf, 1, b.len, stdout);
    sbuf_free(&b);
}

/* ---------------------------------------------------------------- Command */

static int
parse(int argc, char **argv, const char **id, int *as_json)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'h') {
            fputs(usage, stdout);
            return SYNCQ_EX_OK;
        }
        if (o != 'j') {
            fputs(usage, stderr);
            return SYNCQ_EX_USAGE;
        }
        *as_json = 1;
    }
    if (optind != argc - 1) {
        fputs(usage, stderr);
        return SYNCQ_EX_USAGE;
    }
    *id = argv[optind];
    return -1;
}

int
jobs_show(config *cfg, int argc, char **argv)
{
    const char *id = NULL;
    int as_json = 0, rc = parse(argc, argv, &id, &as_json);
    db d;
    db_result *j = NULL, *h = NULL;
    if (rc >= 0) return rc;
    if ((rc = ops_db(&d, cfg, "jobs show", 0)) != 0) return rc;
    if (!(j = audit_job(&d, id)) || !(h = audit_history(&d, id))) {
        fprintf(stderr, "syncq jobs show: PostgreSQL: %s\n", d.errstr);
        rc = db_alive(&d) ? SYNCQ_EX_SOFTWARE : SYNCQ_EX_UNAVAILABLE;
    } else if (db_ntuples(j) == 0) {
        fprintf(stderr, "syncq jobs show: no job %s in the audit table\n", id);
        rc = SYNCQ_EX_DATAERR;
    } else {
        if (as_json) print_json(j, h);
        else {
            text_job(j);
            text_history(h);
        }
        rc = SYNCQ_EX_OK;
    }
    if (j) db_result_free(j);
    if (h) db_result_free(h);
    db_close(&d);
    return rc;
}
