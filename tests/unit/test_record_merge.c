/* test_record_merge.c - folding a job's records into its row: no column a
 * record carried is lost (the superseded debounce job of issue 9 item 15),
 * a later NULL never hides an earlier value, status follows rev, a new
 * attempt starts its columns afresh, and r1 records read in microseconds. */
#include "fmacros.h"
#include "record_merge.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

/* line builds a record with record_build (r2). */
static char *
line(const record *r, size_t *len)
{
    char *s = record_build(r, len);
    assert_non_null(s);
    return s;
}

static void
parse(const char *s, size_t n, record_row *row)
{
    assert_int_equal(record_row_parse(s, n, row), 0);
}

/* col returns column c of row as a string ("NULL" for NULL). */
static const char *
col(const record_row *row, int c)
{
    static char buf[8][256];
    static int k;
    char *b = buf[k++ % 8];
    if (!row->col[c]) return "NULL";
    snprintf(b, sizeof(buf[0]), "%.*s", (int)row->len[c], row->col[c]);
    return b;
}

static void
queued(record *r, const char *id)
{
    record_init(r);
    r->id = id;
    r->queue = "sync";
    r->kind = "sync";
    r->service = "dns";
    r->action = "sync_records";
    r->target_type = "zone";
    r->target_id = "z1";
    r->scope = "example.org";
    r->actor = "ops:alice";
    r->payload = "{\"a\":1}";
    r->status = "queued";
    r->rev = record_rev(0, REC_QUEUED);
    r->enqueued_us = 1000000;
}

/* The enqueue function's superseded record carries only the end of the job;
 * folded with the queued record, the row has every column of both. */
static void
test_superseded_keeps_queued_columns(void **state)
{
    (void)state;
    record q, s;
    queued(&q, "d-1");
    record_init(&s);
    s.id = "d-1";
    s.queue = "sync";
    s.status = "superseded";
    s.rev = record_rev(0, REC_TERMINAL);
    s.result = "{\"superseded_by\":\"d-2\"}";
    s.finished_us = 2000000;
    s.event = "superseded";
    s.ev_error = "superseded by d-2";
    s.ev_at_us = 2000000;
    s.ev_rev = 3;
    size_t ql, sl;
    char *qs = line(&q, &ql), *ss = line(&s, &sl);
    record_row newer, older;
    parse(ss, sl, &newer);
    parse(qs, ql, &older);
    record_row_merge(&newer, &older);
    assert_string_equal(col(&newer, RECORD_COL_STATUS), "superseded");
    assert_string_equal(col(&newer, RECORD_COL_REV), "3");
    const int kept[] = {RECORD_COL_KIND, RECORD_COL_SERVICE, RECORD_COL_ACTION, RECORD_COL_TARGET_TYPE,
                        RECORD_COL_TARGET_ID, RECORD_COL_SCOPE, RECORD_COL_ACTOR, RECORD_COL_PAYLOAD};
    const char *want[] = {"sync", "dns", "sync_records", "zone", "z1", "example.org", "ops:alice", "{\"a\":1}"};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) assert_string_equal(col(&newer, kept[i]), want[i]);
    assert_string_equal(col(&newer, RECORD_COL_ENQUEUED), "1000000");
    assert_string_equal(col(&newer, RECORD_COL_FINISHED), "2000000");
    assert_string_equal(col(&newer, RECORD_COL_RESULT), "{\"superseded_by\":\"d-2\"}");
    /* the job row leaves the event out; the event row keeps it */
    sbuf b;
    sbuf_init(&b);
    record_row_put(&newer, 0, &b);
    record_row check;
    char *l = malloc(b.len + 3);
    memcpy(l, "r2\t", 3);
    memcpy(l + 3, b.buf, b.len);
    parse(l, b.len + 3, &check);
    assert_string_equal(col(&check, RECORD_COL_EV_EVENT), "NULL");
    assert_string_equal(col(&check, RECORD_COL_ACTOR), "ops:alice");
    free(l);
    sbuf_reset(&b);
    record_row_put(&newer, 1, &b);
    assert_non_null(strstr(b.buf, "\tsuperseded by d-2\t"));
    sbuf_free(&b);
    free(qs);
    free(ss);
}

/* fold folds lines (newest first, as the writer sorts them) into *out. */
static void
fold(char **lines, size_t *lens, int n, record_row *rows, record_row *out)
{
    for (int i = 0; i < n; i++) parse(lines[i], lens[i], &rows[i]);
    *out = rows[0];
    for (int i = 1; i < n; i++) record_row_merge(out, &rows[i]);
}

/* A success record has no started_at (the start step stamped it on the
 * running record): the running record's value stays, and so does every
 * column the success record leaves NULL. */
static void
test_later_null_never_overwrites(void **state)
{
    (void)state;
    record q, run, ok;
    queued(&q, "j");
    record_init(&run);
    run.id = "j";
    run.queue = "sync";
    run.status = "running";
    run.attempts = 1;
    run.rev = record_rev(1, REC_RUNNING);
    run.started_us = 1500000;
    run.worker = "h:1:b";
    run.fetch_seq = 1400000;
    run.enqueued_us = 1000999; /* the envelope's enqueued_at, in ms: the queued record's stays */
    record_init(&ok);
    ok.id = "j";
    ok.queue = "sync";
    ok.status = "success";
    ok.attempts = 1;
    ok.rev = record_rev(1, REC_TERMINAL);
    ok.finished_us = 1700000;
    ok.duration_ms = 200;
    ok.result = "{\"ok\":true}";
    char *l[3];
    size_t n[3];
    l[0] = line(&ok, &n[0]);
    l[1] = line(&run, &n[1]);
    l[2] = line(&q, &n[2]);
    record_row rows[3], out;
    fold(l, n, 3, rows, &out);
    assert_string_equal(col(&out, RECORD_COL_STATUS), "success");
    assert_string_equal(col(&out, RECORD_COL_STARTED), "1500000");
    assert_string_equal(col(&out, RECORD_COL_FINISHED), "1700000");
    assert_string_equal(col(&out, RECORD_COL_DURATION), "200");
    assert_string_equal(col(&out, RECORD_COL_WORKER), "h:1:b");
    assert_string_equal(col(&out, RECORD_COL_FETCH_SEQ), "1400000");
    assert_string_equal(col(&out, RECORD_COL_ENQUEUED), "1000000");
    assert_string_equal(col(&out, RECORD_COL_ACTOR), "ops:alice");
    for (int i = 0; i < 3; i++) free(l[i]);
}

/* A record of a new attempt starts the attempt's columns afresh (the failed
 * attempt's are in its event), keeps the last error until a success, and
 * its status wins by rev. */
static void
test_new_attempt(void **state)
{
    (void)state;
    record retry, run2, ok2;
    record_init(&retry);
    retry.id = "a";
    retry.status = "retrying";
    retry.attempts = 1;
    retry.rev = record_rev(1, REC_RETRYING);
    retry.finished_us = 10;
    retry.duration_ms = 5;
    retry.result = "{\"r\":1}";
    retry.error = "HTTP 503";
    retry.event = "attempt";
    retry.ev_error = "HTTP 503";
    record_init(&run2);
    run2.id = "a";
    run2.status = "running";
    run2.attempts = 2;
    run2.rev = record_rev(2, REC_RUNNING);
    run2.started_us = 20;
    char *l[3];
    size_t n[3];
    l[0] = line(&run2, &n[0]);
    l[1] = line(&retry, &n[1]);
    record_row rows[3], out;
    fold(l, n, 2, rows, &out);
    assert_string_equal(col(&out, RECORD_COL_STATUS), "running");
    assert_string_equal(col(&out, RECORD_COL_ATTEMPTS), "2");
    assert_string_equal(col(&out, RECORD_COL_STARTED), "20");
    assert_string_equal(col(&out, RECORD_COL_FINISHED), "NULL");
    assert_string_equal(col(&out, RECORD_COL_DURATION), "NULL");
    assert_string_equal(col(&out, RECORD_COL_RESULT), "NULL");
    assert_string_equal(col(&out, RECORD_COL_ERROR), "HTTP 503");
    record_init(&ok2);
    ok2.id = "a";
    ok2.status = "success";
    ok2.attempts = 2;
    ok2.rev = record_rev(2, REC_TERMINAL);
    ok2.finished_us = 30;
    free(l[0]);
    free(l[1]);
    l[0] = line(&ok2, &n[0]);
    l[1] = line(&run2, &n[1]);
    l[2] = line(&retry, &n[2]);
    fold(l, n, 3, rows, &out);
    assert_string_equal(col(&out, RECORD_COL_STATUS), "success");
    assert_string_equal(col(&out, RECORD_COL_STARTED), "20");
    assert_string_equal(col(&out, RECORD_COL_FINISHED), "30");
    assert_string_equal(col(&out, RECORD_COL_ERROR), "NULL");
    for (int i = 0; i < 3; i++) free(l[i]);
}

/* Version r1 carried milliseconds: its times read as microseconds. A time
 * the step never stamped reads as NULL (an older step function). */
static void
test_r1_and_unstamped(void **state)
{
    (void)state;
    record r;
    record_init(&r);
    r.id = "v";
    r.status = "dead";
    r.enqueued_us = 1700000000123;
    r.finished_us = RECORD_NOW;
    r.duration_ms = 42;
    r.event = "dead";
    r.ev_at_us = 1700000000456;
    r.ev_due = 1;
    r.fetch_seq = 1700000000123456;
    size_t len;
    char *s = line(&r, &len);
    s[1] = '1'; /* the same columns as r1 wrote them */
    record_row row;
    parse(s, len, &row);
    assert_string_equal(col(&row, RECORD_COL_ENQUEUED), "1700000000123000");
    assert_string_equal(col(&row, RECORD_COL_EV_AT), "1700000000456000");
    assert_string_equal(col(&row, RECORD_COL_FINISHED), "NULL");
    assert_string_equal(col(&row, RECORD_COL_EV_DUE), "NULL");
    assert_string_equal(col(&row, RECORD_COL_DURATION), "42");             /* not a time */
    assert_string_equal(col(&row, RECORD_COL_FETCH_SEQ), "1700000000123456"); /* us in r1 too */
    assert_int_equal(row.rev, 0);
    s[1] = '2';
    parse(s, len, &row);
    assert_string_equal(col(&row, RECORD_COL_ENQUEUED), "1700000000123");
    free(s);
}

static void
test_not_a_row(void **state)
{
    (void)state;
    record_row row;
    record r;
    record_init(&r);
    r.id = "x";
    r.status = "queued";
    size_t len;
    char *s = line(&r, &len);
    assert_int_equal(record_row_parse(s, len, &row), 0);
    /* an older binary's record (RECORD_NCOLS_MIN columns) reads with the
     * columns added since NULL; one column fewer is not a record */
    size_t cut = 0;
    for (int tabs = 0; cut < len - 1 && (tabs += s[cut] == '\t') <= RECORD_NCOLS_MIN;) cut++;
    /* cut: the end of column RECORD_NCOLS_MIN (a tab, or the newline) */
    assert_int_equal(record_row_parse(s, cut, &row), 0);
    assert_string_equal(col(&row, RECORD_COL_ID), "x");
    for (int c = RECORD_NCOLS_MIN; c < RECORD_NCOLS; c++) assert_string_equal(col(&row, c), "NULL");
    while (s[--cut] != '\t') {}
    assert_int_equal(record_row_parse(s, cut, &row), -1); /* a column short of the oldest shape */
    char *more = malloc(len + 3);
    memcpy(more, s, len - 1);
    memcpy(more + len - 1, "\tx\n", 3);
    assert_int_equal(record_row_parse(more, len + 2, &row), -1); /* a column too many */
    const char *bad[] = {"", "r1", "r3\tx\t0\t", "{\"id\":1}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(record_row_parse(bad[i], strlen(bad[i]), &row), -1);
    free(more);
    free(s);
}

/* A job's first row COPY'd straight into syncq_jobs: id_at first, then
 * every column but the events', times as exact timestamptz text, NULLs as
 * \N; a time that is no timestamp leaves the row to the merge. */
static void
test_put_job(void **state)
{
    (void)state;
    record q;
    queued(&q, "019adc5b-e001-7abc-8def-0123456789ab");
    q.enqueued_us = 1764633600123456; /* 2025-12-02 00:00:00.123456 UTC */
    q.event = "attempt";              /* an event column: never in the job row */
    size_t len;
    char *s = line(&q, &len);
    record_row row;
    parse(s, len, &row);
    sbuf b;
    sbuf_init(&b);
    assert_int_equal(record_row_put_job(&row, &b), 0);
    /* 0x019adc5be001 ms = 1764633600.001 s (syncq_id_time agrees) */
    const char *want = "2025-12-02 00:00:00.001+00\t019adc5b-e001-7abc-8def-0123456789ab\t0\tsync\tsync\tdns\t"
                       "sync_records\tzone\tz1\texample.org\tops:alice\t{\"a\":1}\tqueued\t0\t\\N\t\\N\t\\N\t"
                       "2025-12-02 00:00:00.123456+00\t\\N\t\\N\t\\N\t\\N\t\\N\n";
    assert_string_equal(b.buf, want);
    free(s);

    /* not a v7 id (and upper case hex is one): the epoch, as syncq_id_time */
    char at[64];
    record_id_at("job-1", 5, at);
    assert_string_equal(at, "1970-01-01 00:00:00+00");
    record_id_at("019ADC5B-E001-7ABC-BDEF-0123456789AB", 36, at);
    assert_string_equal(at, "2025-12-02 00:00:00.001+00");
    record_id_at("019ad000-0001-4abc-8def-0123456789ab", 36, at); /* v4 */
    assert_string_equal(at, "1970-01-01 00:00:00+00");
    record_id_at("019ad000-0001-7abc-cdef-0123456789ab", 36, at); /* not the RFC variant */
    assert_string_equal(at, "1970-01-01 00:00:00+00");
    record_id_at("019ad000-0001-7abc-8def-0123456789ag", 36, at);
    assert_string_equal(at, "1970-01-01 00:00:00+00");

    /* a time past year 9999: left to the merge, nothing appended */
    q.id = "j-2";
    q.enqueued_us = 999999999999999999;
    s = line(&q, &len);
    parse(s, len, &row);
    size_t before = b.len;
    assert_int_equal(record_row_put_job(&row, &b), -1);
    assert_int_equal(b.len, before);
    free(s);
    sbuf_free(&b);
}

/* Every time of the direct COPY is the calendar's (gmtime_r's), to the
 * microsecond: leap days, century years, the ends of the range, and random
 * times up to year 9999. */
static void
test_put_job_times(void **state)
{
    (void)state;
    int64_t fixed[] = {0, 951782400000000 - 1, 951782400000000, 1709251199999999, 4107542400000000,
                       253402300799999999};
    uint64_t x = 88172645463325252ull; /* xorshift64 */
    for (int i = 0; i < 20000; i++) {
        int64_t us;
        if (i < (int)(sizeof(fixed) / sizeof(fixed[0]))) {
            us = fixed[i];
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            us = (int64_t)(x % 253402300800000000ull);
        }
        record q;
        queued(&q, "j-1");
        q.enqueued_us = us;
        size_t len;
        char *s = line(&q, &len);
        record_row row;
        parse(s, len, &row);
        sbuf b;
        sbuf_init(&b);
        assert_int_equal(record_row_put_job(&row, &b), 0);
        /* the field: id_at, then the columns before enqueued_us, none of them an event's */
        const char *p = b.buf;
        for (int t = 0; t < 1 + RECORD_COL_ENQUEUED; t++) p = strchr(p, '\t') + 1;
        time_t sec = (time_t)(us / 1000000);
        struct tm tm;
        assert_non_null(gmtime_r(&sec, &tm));
        char want[64];
        snprintf(want, sizeof(want), "%04d-%02d-%02d %02d:%02d:%02d.%06d+00\t", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
        assert_memory_equal(p, want, strlen(want));
        sbuf_free(&b);
        free(s);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_superseded_keeps_queued_columns),
        cmocka_unit_test(test_later_null_never_overwrites),
        cmocka_unit_test(test_new_attempt),
        cmocka_unit_test(test_r1_and_unstamped),
        cmocka_unit_test(test_not_a_row),
        cmocka_unit_test(test_put_job),
        cmocka_unit_test(test_put_job_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
