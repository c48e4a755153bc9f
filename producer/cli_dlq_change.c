/* cli_dlq_change.c - `syncq dlq replay` and `syncq dlq purge`. Each job is
 * one call of a Redis function (syncq_dlq_replay, syncq_dlq_purge in
 * common/functions.lua) whose ZREM decides: of two operators acting on one
 * job at once, exactly one succeeds and the other is told "not in
 * dead-letter". The audit records travel in the same call. */
#include "fmacros.h"
#include "clock.h"
#include "cli_dlq.h"
#include "queue.h"
#include "keys.h"
#include "uuid.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30

/* ---------------------------------------------------------------- Helpers */

static const char *
default_actor(void)
{
    struct passwd *pw = getpwuid(geteuid());
    const char *u = getenv("USER");
    if (pw && pw->pw_name && *pw->pw_name) return pw->pw_name;
    return u && *u ? u : "unknown";
}

/* A progress bar on stderr, only on a terminal and only for several jobs. */
typedef struct bar {
    int on;
    size_t total;
} bar;

static void
bar_init(bar *b, size_t total)
{
    b->on = total > 1 && isatty(2);
    b->total = total;
}

static void
bar_draw(const bar *b, size_t done)
{
    if (!b->on) return;
    int full = (int)(done * BAR_WIDTH / b->total);
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu", full, "##############################", BAR_WIDTH - full, "", done, b->total);
    fflush(stderr);
}

/* bar_clear erases the bar's line so that a message can take it. */
static void
bar_clear(const bar *b)
{
    if (b->on) fputs("\r\033[K", stderr);
}

static void
bar_end(const bar *b)
{
    if (b->on) fputc('\n', stderr);
}

static void
pace(int64_t rate)
{
    if (rate <= 0) return;
    clock_nap_us(1000000 / rate);
}

/* targets lists the jobs o names: its ids, each found in its queue (those not
 * found are reported and counted in *missing), or the jobs passing its
 * filters (or all of them). 0, or an exit code. */
static int
targets(dlq *d, const dlq_opts *o, const char *verb, dlq_list *l, int *missing)
{
    if (o->nids == 0) return dlq_select(d, o, l) < 0 ? dlq_report(d, verb) : 0;
    for (int i = 0; i < o->nids; i++) {
        int hits = dlq_find(d, o->ids[i], l);
        if (hits < 0) return dlq_report(d, verb);
        if (hits > 1) {
            fprintf(stderr, "syncq dlq %s: %s is dead in %d queues: pass --queue\n", verb, o->ids[i], hits);
            return SYNCQ_EX_USAGE;
        }
        if (hits == 0) {
            fprintf(stderr, "%s: not in dead-letter (already replayed or purged)\n", o->ids[i]);
            (*missing)++;
        }
    }
    return 0;
}

/* dry_run prints what verb would do (done: its past participle). */
static void
dry_run(const dlq *d, const dlq_list *l, const char *verb, const char *done)
{
    for (size_t i = 0; i < l->n; i++)
        printf("would %s %s (queue %s)\n", verb, cli_tty(l->v[i].id), cli_tty(dlq_queue_name(d, l->v[i].queue)));
    printf("%zu dead-letter job(s) would be %s (dry run: nothing changed)\n", l->n, done);
}

/* done passes on a queue_dlq_* answer: 1 or 0, or -1 with d's error set. */
static int
done(dlq *d, int rc)
{
    return rc < 0 ? dlq_fail_rds(d) : rc;
}

/* ---------------------------------------------------------------- replay */

/* A replay's parts: the new job's id, entry and queued record, and the old
 * job's 'replayed' event (all owned). */
typedef struct replay_msg {
    char new_id[UUID_STR_LEN];
    char *entry, *queued, *event;
    size_t entry_len, queued_len, event_len;
} replay_msg;

static int
replay_build(dlq *d, const dlq_target *t, const char *text, size_t len, const char *actor, replay_msg *m)
{
    dead_entry e;
    char why[512];
    int64_t now;
    const char *queue = dlq_queue_name(d, t->queue);
    if (dlq_now_ms(d, &now) < 0) return -1;
    if (uuid_v7(m->new_id) < 0) {
        snprintf(d->errstr, sizeof(d->errstr), "uuid_v7: no random bytes for a job id");
        d->code = SYNCQ_EX_SOFTWARE;
        return -1;
    }
    dead_entry_parse(&e, text, len, (size_t)d->cfg->max_envelope);
    char old_id[WRAP_TAG_MAX]; /* the job's id: t->id may be <id>~<tag> (dead.h) */
    dead_job_id(&e, t->id, old_id, sizeof(old_id));
    m->entry = dead_replay_entry(&e, old_id, m->new_id, now, &m->entry_len);
    m->queued = dead_queued_record(&e, queue, m->new_id, old_id, now, &m->queued_len);
    snprintf(why, sizeof(why), "replayed by %s as %s", actor, m->new_id);
    m->event = dead_event_record(queue, old_id, "replayed", why, dead_event_rev(t->id, DEAD_REV_REPLAYED), now,
                                 &m->event_len);
    dead_entry_free(&e);
    return 0; /* a uuid always fits the wrapper: entry is never NULL */
}

/* replay_one replays t. 1 replayed (new id in new_id), 0 not in dead-letter
 * (its entry gone, even when its id is still in the set), or -1. */
static int
replay_one(dlq *d, const dlq_target *t, const char *actor, char *new_id)
{
    replay_msg m;
    qkeys k;
    char *text = NULL;
    size_t len;
    memset(&m, 0, sizeof(m));
    int rc = dlq_load(d, t, &text, &len);
    if (rc <= 0) goto out;
    if ((rc = replay_build(d, t, text, len, actor, &m)) < 0) goto out;
    keys_queue(&k, d->cfg->prefix, dlq_queue_name(d, t->queue), NULL);
    const char *recs[] = {m.queued, m.event};
    size_t lens[] = {m.queued_len, m.event_len};
    rc = done(d, queue_dlq_replay(&d->r, &k, t->id, m.entry, m.entry_len, recs, lens, 2));
    if (rc == 1) memcpy(new_id, m.new_id, UUID_STR_LEN);
out:
    free(text);
    free(m.entry);
    free(m.queued);
    free(m.event);
    return rc;
}

/* replay_all replays l's jobs; not-found ones are counted in *missing. 0 or -1. */
static int
replay_all(dlq *d, const dlq_opts *o, const dlq_list *l, int *missing)
{
    const char *actor = o->actor ? o->actor : default_actor();
    char new_id[UUID_STR_LEN];
    bar b;
    bar_init(&b, l->n);
    bar_draw(&b, 0);
    for (size_t i = 0; i < l->n; i++) {
        int rc = replay_one(d, &l->v[i], actor, new_id);
        bar_clear(&b);
        if (rc < 0) return -1;
        if (rc == 1) printf("replayed %s as %s\n", cli_tty(l->v[i].id), cli_tty(new_id));
        else fprintf(stderr, "%s: not in dead-letter (already replayed or purged)\n", cli_tty(l->v[i].id));
        *missing += rc == 0;
        fflush(stdout);
        bar_draw(&b, i + 1);
        if (i + 1 < l->n) pace(o->rate);
    }
    bar_end(&b);
    return 0;
}

int
dlq_replay(dlq *d, const dlq_opts *o)
{
    dlq_list l;
    int missing = 0, rc;
    memset(&l, 0, sizeof(l));
    if ((rc = targets(d, o, "replay", &l, &missing)) != 0) goto out;
    if (o->dry_run) dry_run(d, &l, "replay", "replayed");
    else if (replay_all(d, o, &l, &missing) < 0) rc = dlq_report(d, "replay");
    if (rc == 0 && missing) rc = SYNCQ_EX_DATAERR;
out:
    dlq_list_free(&l);
    return rc;
}

/* ---------------------------------------------------------------- purge */

/* confirm asks on the terminal. 0 yes, 1 no, SYNCQ_EX_USAGE without a terminal. */
static int
confirm(size_t n)
{
    char answer[32] = "";
    FILE *tty = fopen("/dev/tty", "r");
    FILE *in = tty ? tty : isatty(0) ? stdin : NULL;
    if (!in) {
        fprintf(stderr, "syncq dlq purge: no terminal to confirm on: pass --yes to purge %zu job(s)\n", n);
        return SYNCQ_EX_USAGE;
    }
    fprintf(stderr, "Purge %zu dead-letter job(s)? [y/N] ", n);
    fflush(stderr);
    int yes = fgets(answer, sizeof(answer), in) && (!strcmp(answer, "y\n") || !strcmp(answer, "Y\n") ||
                                                     !strcmp(answer, "yes\n") || !strcmp(answer, "YES\n"));
    if (tty) fclose(tty);
    return yes ? 0 : 1;
}

/* purge_one purges t. 1, 0 when it is not in dead-letter, or -1. */
static int
purge_one(dlq *d, const dlq_target *t, const char *actor)
{
    qkeys k;
    char why[300];
    int64_t now;
    size_t len;
    const char *queue = dlq_queue_name(d, t->queue);
    char id[WRAP_TAG_MAX], *text = NULL;
    if (dlq_now_ms(d, &now) < 0) return -1;
    snprintf(id, sizeof(id), "%s", t->id);
    if (strchr(t->id, '~')) {
        /* <id>~<tag>: the event goes on the job's own row (dead.h) */
        dead_entry e;
        int found = dlq_load(d, t, &text, &len);
        if (found < 0) return -1;
        if (!found) return 0;
        dead_entry_parse(&e, text, len, (size_t)d->cfg->max_envelope);
        dead_job_id(&e, t->id, id, sizeof(id));
        dead_entry_free(&e);
        free(text);
    }
    snprintf(why, sizeof(why), "purged by %s", actor);
    char *rec = dead_event_record(queue, id, "purged", why, dead_event_rev(t->id, DEAD_REV_PURGED), now, &len);
    keys_queue(&k, d->cfg->prefix, queue, NULL);
    int rc = done(d, queue_dlq_purge(&d->r, &k, t->id, rec, len));
    free(rec);
    return rc;
}

/* purge_all purges l's jobs, counting them in *purged and the ones already
 * gone in *missing. 0 or -1. */
static int
purge_all(dlq *d, const dlq_opts *o, const dlq_list *l, size_t *purged, int *missing)
{
    const char *actor = o->actor ? o->actor : default_actor();
    bar b;
    bar_init(&b, l->n);
    bar_draw(&b, 0);
    for (size_t i = 0; i < l->n; i++) {
        int rc = purge_one(d, &l->v[i], actor);
        bar_clear(&b);
        if (rc < 0) return -1;
        if (rc == 0) fprintf(stderr, "%s: not in dead-letter (already replayed or purged)\n", l->v[i].id);
        *purged += rc == 1;
        *missing += rc == 0;
        bar_draw(&b, i + 1);
    }
    bar_end(&b);
    return 0;
}

int
dlq_purge(dlq *d, const dlq_opts *o)
{
    dlq_list l;
    size_t purged = 0;
    int missing = 0, rc;
    memset(&l, 0, sizeof(l));
    if ((rc = targets(d, o, "purge", &l, &missing)) != 0) goto out;
    if (o->dry_run) {
        dry_run(d, &l, "purge", "purged");
        goto done;
    }
    if (l.n > 0 && !o->yes && (rc = confirm(l.n)) != 0) {
        if (rc == 1) fprintf(stderr, "syncq dlq purge: nothing purged\n");
        rc = rc == 1 ? SYNCQ_EX_OK : rc;
        goto out;
    }
    if (purge_all(d, o, &l, &purged, &missing) < 0) {
        rc = dlq_report(d, "purge");
        goto out;
    }
    printf("purged %zu dead-letter job(s)\n", purged);
done:
    if (missing) rc = SYNCQ_EX_DATAERR;
out:
    dlq_list_free(&l);
    return rc;
}
