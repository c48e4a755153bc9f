/* cli_wait.c - reading a queue's events stream for one job's end (see
 * cli_wait.h; the stream's format is docs/PROTOCOL.md "Producer events"). */
#include "fmacros.h"
#include "clock.h"
#include "cli_wait.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define BLOCK_MS 1000 /* one blocking read at most: Ctrl-C and the deadline act within a second */
#define BATCH 500

int
cli_wait_mark(rds *r, const char *events, char *last, size_t len)
{
    rds_reply *x = rds_cmdf(r, "XREVRANGE %s + - COUNT 1", events);
    if (!rds_reply_ok(r, x)) {
        rds_reply_free(x);
        return -1;
    }
    const char *id = rds_reply_len(x) ? rds_reply_str(rds_reply_at(rds_reply_at(x, 0), 0), NULL) : NULL;
    snprintf(last, len, "%s", id ? id : "0-0");
    rds_reply_free(x);
    return 0;
}

static void
copy(char *out, size_t len, const rds_reply *v)
{
    size_t n = 0;
    const char *s = rds_reply_str(v, &n);
    if (n >= len) n = len - 1;
    memcpy(out, s ? s : "", s ? n : 0);
    out[s ? n : 0] = '\0';
}

/* match fills ev when entry [entry-id, [field, value, ...]] names job id. */
static int
match(const rds_reply *entry, const char *id, cli_event *ev)
{
    const rds_reply *f = rds_reply_at(entry, 1);
    size_t n = rds_reply_len(f), idlen = strlen(id), len;
    int mine = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        const char *s = rds_reply_str(rds_reply_at(f, i + 1), &len);
        if (!strcmp(rds_reply_str(rds_reply_at(f, i), NULL), "id")) mine = s && len == idlen && !memcmp(s, id, len);
    }
    if (!mine) return 0;
    memset(ev, 0, sizeof(*ev));
    for (size_t i = 0; i + 1 < n; i += 2) {
        const char *k = rds_reply_str(rds_reply_at(f, i), NULL);
        const rds_reply *v = rds_reply_at(f, i + 1);
        if (!strcmp(k, "status")) copy(ev->status, sizeof(ev->status), v);
        else if (!strcmp(k, "result")) copy(ev->result, sizeof(ev->result), v), ev->has_result = 1;
        else if (!strcmp(k, "error")) copy(ev->error, sizeof(ev->error), v), ev->has_error = 1;
    }
    return 1;
}

/* scan looks through one XREAD reply, moving last past every entry. */
static int
scan(const rds_reply *x, char *last, size_t len, const char *id, cli_event *ev)
{
    if (rds_reply_type(x) != RDS_ARR || !rds_reply_len(x)) return 0;
    const rds_reply *entries = rds_reply_at(rds_reply_at(x, 0), 1);
    for (size_t i = 0; i < rds_reply_len(entries); i++) {
        const rds_reply *e = rds_reply_at(entries, i);
        snprintf(last, len, "%s", rds_reply_str(rds_reply_at(e, 0), NULL));
        if (match(e, id, ev)) return 1;
    }
    return 0;
}

int
cli_wait_for(rds *r, const char *events, char *last, size_t len, const char *id, int64_t deadline_ms,
             cli_event *ev)
{
    for (;;) {
        int64_t left = deadline_ms - clock_mono_ms();
        rds_reply *x = left > 0 ? rds_cmdf(r, "XREAD COUNT %d BLOCK %d STREAMS %s %s", BATCH,
                                           (int)(left < BLOCK_MS ? left : BLOCK_MS), events, last)
                                : rds_cmdf(r, "XREAD COUNT %d STREAMS %s %s", BATCH, events, last);
        if (!rds_reply_ok(r, x)) {
            rds_reply_free(x);
            return -1;
        }
        int got = scan(x, last, len, id, ev), more = rds_reply_type(x) == RDS_ARR;
        rds_reply_free(x);
        if (got) return 1;
        if (!more && left <= 0) return 0; /* nothing more to read and no time left */
    }
}

int
cli_wait_recent(rds *r, const char *events, const char *id, cli_event *ev)
{
    rds_reply *x = rds_cmdf(r, "XREVRANGE %s + - COUNT %d", events, CLI_WAIT_RECENT);
    if (!rds_reply_ok(r, x)) {
        rds_reply_free(x);
        return -1;
    }
    int got = 0;
    for (size_t i = 0; !got && rds_reply_type(x) == RDS_ARR && i < rds_reply_len(x); i++)
        got = match(rds_reply_at(x, i), id, ev);
    rds_reply_free(x);
    return got;
}
