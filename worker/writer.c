/* writer.c - the audit writer: one supervised child per master that moves
 * outcome records from each queue's outbox into PostgreSQL in batches.
 *
 * A batch is claimed into the writer's own claim list (a dead writer's batch
 * is recovered like a job), each job's records folded into one row
 * (record_merge.h), COPY'd into a temporary table and merged with INSERT ...
 * ON CONFLICT DO UPDATE by the same rules, so writing the same batch twice
 * changes nothing, an older record never overwrites a newer one's status, and
 * no column a record carried is lost, however the records were batched.
 * While PostgreSQL is down the records wait in Redis; the workers' fetch
 * stops once an outbox passes its limit. */
#include "fmacros.h"
#include "audit.h"
#include "clock.h"
#include "db.h"
#include "funcs.h"
#include "log.h"
#include "partition.h"
#include "record.h"
#include "record_merge.h"
#include "schema.h"
#include "url.h"
#include "worker.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


/* Which store a pass failed on; the message is in d.errstr or r.errstr. */
typedef enum { WRITER_ERR_NONE = 0, WRITER_ERR_DB, WRITER_ERR_REDIS } writer_err;

typedef struct writer {
    const config *cfg;
    const char *wid;
    rds r;
    db d;
    writer_err err;       /* after a pass returned -1 */
    int db_down;          /* logged once per outage */
    int backoff_ms;
    int64_t written;
    int connects;         /* to PostgreSQL; all but the first are reconnects */
    stats_table *stats;   /* our board slot's counters, for /metrics */
    int64_t parts_due;    /* clock_mono_ms when the day partitions are due a check; 0 = now */
} writer;

/* ---- batches ---- */

typedef struct item {
    const char *s;
    size_t len;
} item;

/* set_aside keeps a record PostgreSQL refuses in the queue's rejected list,
 * so it never blocks the outbox and is never lost: `syncq stats`, `syncq
 * check` and /metrics count them, `syncq audit refeed` puts them back. */
static void
set_aside(writer *w, const char *queue, const item *it)
{
    qkeys k;
    keys_queue(&k, w->cfg->prefix, queue, NULL);
    /* ignored: with Redis down, the outbox_done that follows fails too and the
     * claim keeps the record */
    (void)queue_set_aside(&w->r, &k, it->s, it->len);
    log_msg(LOG_ERROR, "audit.set_aside",
            "PostgreSQL refused an audit record (%s); kept in %s for `syncq audit refeed` once fixed", w->d.errstr,
            k.rejected);
}

/* keyed is a record line with its job id and rev read off the front. */
typedef struct keyed {
    const item *it;
    const char *id;
    size_t idlen;
    int rev, has_event, ord;
} keyed;

static int
by_job_rev(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    size_t l = x->idlen < y->idlen ? x->idlen : y->idlen;
    int c = memcmp(x->id, y->id, l);
    if (c) return c;
    if (x->idlen != y->idlen) return x->idlen < y->idlen ? -1 : 1;
    return y->rev != x->rev ? y->rev - x->rev : y->ord - x->ord;
}

/* The COPY text of one batch: see audit_batch (common/audit.h). */
typedef struct copy_bufs {
    sbuf stage, direct;
    int allow_direct;             /* 0 once PostgreSQL refused this batch's direct rows */
    int direct_rows, merged_rows; /* job rows */
} copy_bufs;

/* put_group appends the COPY rows of one job's records k[0..n-1] (newest
 * first): the job row, every record folded into the newest (no column a
 * record carried is lost, see record_merge.h), then each record's event.
 * A job whose queued record (rev 0) is in the batch has no row yet: its row
 * goes to the direct COPY. */
static void
put_group(const keyed *k, int n, record_row *rows, copy_bufs *cb)
{
    int first = -1, last = -1;
    for (int i = 0; i < n; i++) {
        if (record_row_parse(k[i].it->s, k[i].it->len, &rows[i]) < 0) rows[i].rev = -1; /* kept out by keep_record */
        else if (first < 0) first = i;
        if (rows[i].rev >= 0) last = i;
    }
    if (first < 0) return;
    record_row folded = rows[first];
    for (int i = first + 1; i < n; i++)
        if (rows[i].rev >= 0) record_row_merge(&folded, &rows[i]);
    if (cb->allow_direct && rows[last].rev == 0 && record_row_put_job(&folded, &cb->direct) == 0) {
        cb->direct_rows++;
    } else {
        cb->merged_rows++;
        sbuf_printf(&cb->stage, "%d\tt\t", k[first].ord);
        record_row_put(&folded, 0, &cb->stage);
    }
    for (int i = first; i < n; i++) {
        if (rows[i].rev < 0 || !rows[i].col[RECORD_COL_EV_EVENT]) continue;
        sbuf_printf(&cb->stage, "%d\tf\t", k[i].ord);
        record_row_put(&rows[i], 1, &cb->stage);
    }
}

/* build_copy streams records into COPY rows: one job row per job and one
 * row per history event, so PostgreSQL handles one row per job. */
static void
build_copy(const item *items, int n, copy_bufs *cb)
{
    keyed *k = xcalloc((size_t)(n ? n : 1), sizeof(*k));
    record_row *rows = NULL;
    int m = 0, cap = 0;
    for (int i = 0; i < n; i++) {
        keyed *x = &k[m];
        if (record_key(items[i].s, items[i].len, &x->id, &x->idlen, &x->rev, &x->has_event) < 0)
            continue; /* screened out by keep_record already */
        x->it = &items[i];
        x->ord = i;
        m++;
    }
    qsort(k, (size_t)m, sizeof(*k), by_job_rev);
    for (int j = 0, end; j < m; j = end) {
        for (end = j + 1; end < m && k[end].idlen == k[j].idlen && !memcmp(k[end].id, k[j].id, k[j].idlen);) end++;
        if (end - j > cap) {
            cap = end - j;
            free(rows);
            rows = xcalloc((size_t)cap, sizeof(*rows));
        }
        put_group(&k[j], end - j, rows, cb);
    }
    free(rows);
    free(k);
}

/* write_as writes items in one transaction, new job rows straight in when
 * allow_direct: see audit_write for what it returns. */
static int
write_as(writer *w, const item *items, int n, int allow_direct)
{
    copy_bufs cb;
    memset(&cb, 0, sizeof(cb));
    sbuf_init(&cb.stage);
    sbuf_init(&cb.direct);
    cb.allow_direct = allow_direct;
    build_copy(items, n, &cb);
    audit_batch bt = {.direct = cb.direct.buf, .direct_len = cb.direct.len, .stage = cb.stage.buf,
                      .stage_len = cb.stage.len};
    int rc = audit_write(&w->d, &bt);
    if (rc == AUDIT_DIRECT_REFUSED)
        log_msg(LOG_DEBUG, "audit.direct", "the direct COPY of %d new job row(s) was refused (%s): merging them",
                cb.direct_rows, w->d.errstr);
    else if (rc == 0)
        log_msg(LOG_DEBUG, "audit.batch", "%d record(s): %d new job row(s) copied straight in, %d merged", n,
                cb.direct_rows, cb.merged_rows);
    sbuf_free(&cb.stage);
    sbuf_free(&cb.direct);
    return rc;
}

/* write_once writes items in one transaction: 0, or -1 with w->d's error.
 * Rows that were not new after all (rare) cost the batch a second try. */
static int
write_once(writer *w, const item *items, int n)
{
    int rc = write_as(w, items, n, 1);
    if (rc == AUDIT_DIRECT_REFUSED) rc = write_as(w, items, n, 0);
    return rc;
}

/* write_split writes items, halving on data errors until the bad record is
 * alone; a connection failure returns -1 and the batch waits. */
static int
write_split(writer *w, const char *queue, const item *items, int n)
{
    if (n == 0) return 0;
    if (write_once(w, items, n) == 0) return 0;
    if (!db_alive(&w->d) || !db_data_error(&w->d)) return -1;
    if (n == 1) {
        set_aside(w, queue, items);
        return 0;
    }
    if (write_split(w, queue, items, n / 2) < 0) return -1;
    return write_split(w, queue, items + n / 2, n - n / 2);
}

/* schema_ready: the database has the schema this build writes to. An older
 * one (rolled back, or migrate never ran) is treated like an outage: the
 * records wait in Redis for `syncq migrate`, none is refused and set aside. */
static int
schema_ready(writer *w)
{
    char msg[256];
    int k = schema_check(&w->d, msg, sizeof(msg));
    if (k > 0) snprintf(w->d.errstr, sizeof(w->d.errstr), "%s", msg);
    return k == 0;
}

/* ensure_days makes the audit's day partitions ahead, on connect and then
 * hourly (partition.h). A failure is a warning: until a partition exists,
 * its rows go to the default partition and nothing is refused. */
static void
ensure_days(writer *w)
{
    int made = 0;
    if (w->parts_due && clock_mono_ms() < w->parts_due) return;
    w->parts_due = clock_mono_ms() + PARTITION_ENSURE_MS;
    if (partition_ensure(&w->d, PARTITION_AHEAD_DAYS, &made) < 0)
        log_msg(LOG_WARN, "audit.partitions", "making the audit partitions ahead: %s (retried in an hour;"
                " meanwhile rows go to the default partition)", w->d.errstr);
    else if (made)
        log_msg(LOG_INFO, "audit.partitions", "made %d audit partition(s) for the days ahead", made);
}

static int
db_ready(writer *w)
{
    if (db_alive(&w->d)) {
        ensure_days(w);
        return 1;
    }
    if (db_connect(&w->d, w->cfg->database_url) == 0 && schema_ready(w) && audit_stage(&w->d) == 0) {
        if (w->db_down) log_msg(LOG_INFO, "audit.db_up", "PostgreSQL is back; writing the audit backlog");
        if (w->connects++) stats_note(w->stats, STATS_PG_RECONNECTS);
        w->db_down = 0;
        w->backoff_ms = 0;
        w->parts_due = 0;
        ensure_days(w);
        return 1;
    }
    if (!w->db_down) {
        char shown[1100];
        url_redact(w->cfg->database_url[0] ? w->cfg->database_url : "(libpq defaults)", shown, sizeof(shown));
        log_msg(LOG_ERROR, "audit.db_down", "PostgreSQL at %s: %s; audit records wait in Redis", shown, w->d.errstr);
    }
    w->db_down = 1;
    db_close(&w->d);
    return 0;
}

/* keep_record screens out what is not a record of ours (a stray RPUSH, a
 * newer format): set aside once, never retried against PostgreSQL. */
static int
keep_record(writer *w, const char *queue, const item *it)
{
    const char *id;
    size_t idlen;
    int rev, ev;
    record_row row;
    if (it->len && record_key(it->s, it->len, &id, &idlen, &rev, &ev) == 0 &&
        record_row_parse(it->s, it->len, &row) == 0)
        return 1;
    snprintf(w->d.errstr, sizeof(w->d.errstr), "not a syncq audit record");
    set_aside(w, queue, it);
    return 0;
}

/* writer_failed records which store failed and returns -1. */
static int
writer_failed(writer *w, writer_err kind)
{
    w->err = kind;
    return -1;
}

/* drain_queue writes one claimed batch of queue qi. Returns records written,
 * or -1 with w->err saying whether PostgreSQL or Redis failed. */
static int
drain_queue(writer *w, const qkeys *k, const char *queue)
{
    rds_reply *x = queue_outbox_claim(&w->r, k, w->cfg->writer_batch);
    if (!x) {
        log_msg(LOG_ERROR, "audit.redis", "%s", w->r.errstr);
        return writer_failed(w, WRITER_ERR_REDIS);
    }
    int n = (int)rds_reply_len(x), rc = n;
    item *items = xcalloc((size_t)(n ? n : 1), sizeof(item));
    int valid = 0;
    for (int i = 0; i < n; i++) {
        item it;
        it.s = rds_reply_str(rds_reply_at(x, i), &it.len);
        if (keep_record(w, queue, &it)) items[valid++] = it;
    }
    if (valid && write_split(w, queue, items, valid) < 0) {
        if (!w->db_down) log_msg(LOG_ERROR, "audit.db_down", "%s; audit records wait in Redis", w->d.errstr);
        w->db_down = 1;
        db_close(&w->d);
        rc = writer_failed(w, WRITER_ERR_DB);
    } else if (n) {
        if (queue_outbox_done(&w->r, k, n) < 0) rc = writer_failed(w, WRITER_ERR_REDIS);
        w->written += n;
    }
    free(items);
    rds_reply_free(x);
    return rc;
}

/* pass drains every queue once; returns records written, or -1 with w->err. */
static int
pass(writer *w, qkeys *keys)
{
    int total = 0;
    for (int i = 0; i < w->cfg->nqueues; i++) {
        if (!db_ready(w)) return writer_failed(w, WRITER_ERR_DB);
        int n = drain_queue(w, &keys[i], w->cfg->queues[i].name);
        if (n < 0) return n;
        total += n;
    }
    return total;
}

static int
ctl_order(int fd)
{
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n == 1) return c;
    return n == 0 ? 'q' : 0;
}

static int
writer_loop(writer *w, int ctl_fd)
{
    qkeys keys[CONFIG_MAX_QUEUES];
    int quitting = 0;
    for (int i = 0; i < w->cfg->nqueues; i++) keys_queue(&keys[i], w->cfg->prefix, w->cfg->queues[i].name, w->wid);
    for (;;) {
        if (!quitting && ctl_order(ctl_fd) == 'q') quitting = 1;
        int n = pass(w, keys);
        if (n < 0 && w->err == WRITER_ERR_REDIS) return -1;
        if (n < 0) {
            if (quitting) return 0; /* the records stay in Redis for the next writer */
            w->backoff_ms = w->backoff_ms ? (w->backoff_ms * 2 > 5000 ? 5000 : w->backoff_ms * 2) : 100;
            clock_nap_ms(w->backoff_ms);
            continue;
        }
        if (n == 0 && quitting) return 0;
        if (n < w->cfg->writer_batch / 4) clock_nap_ms(n == 0 ? 50 : 10); /* let a batch build up */
    }
}

int
writer_main(const config *cfg, const char *wid, int ctl_fd, board_slot *slot)
{
    writer w;
    int rc = CHILD_EXIT_REDIS;
    memset(&w, 0, sizeof(w));
    w.cfg = cfg;
    w.wid = wid;
    w.stats = board_stats(slot);
    rds_init(&w.r);
    db_init(&w.d);
    if (fcntl(ctl_fd, F_SETFL, O_NONBLOCK) < 0) return CHILD_EXIT_CONFIG;
    if (rds_connect(&w.r, cfg->redis_url, 5000) < 0 || funcs_ensure(&w.r) < 0) {
        log_msg(LOG_ERROR, "audit.redis", "%s", w.r.errstr);
        if (w.r.err == RDS_ERR_CONFIG) rc = CHILD_EXIT_CONFIG; /* e.g. a newer library that no longer serves us */
        goto out;
    }
    if (reaper_register(&w.r, cfg, wid, "writer") < 0) {
        log_msg(LOG_ERROR, "audit.redis", "%s", w.r.errstr);
        goto out;
    }
    if (writer_loop(&w, ctl_fd) == 0) {
        /* hand unwritten claims back to the outboxes for the next writer */
        if (reaper_requeue(&w.r, cfg, wid, "exit") == 0) reaper_forget(&w.r, cfg, wid);
        rc = CHILD_EXIT_OK;
    } else {
        log_msg(LOG_ERROR, "audit.redis", "%s", w.r.errstr);
    }
    log_msg(LOG_DEBUG, "audit.stop", "writer wrote %lld records", (long long)w.written);
out:
    db_close(&w.d);
    rds_close(&w.r);
    return rc;
}
