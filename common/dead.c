/* dead.c - read dead-letter entries; build replay entries and dlq records. */
#include "fmacros.h"
#include "dead.h"
#include "mask.h"
#include "record.h"
#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- Reading */

void
dead_entry_parse(dead_entry *e, const char *s, size_t n, size_t max_bytes)
{
    memset(e, 0, sizeof(*e));
    e->wrapped = wrap_parse(s, n, &e->w);
    if (e->wrapped < 0) {
        /* fields read before the damage are not to be trusted: keep only the bytes */
        memset(&e->w, 0, sizeof(e->w));
        e->w.seen_ms = e->w.ready_ms = e->w.dead_ms = -1;
        e->w.raw = s;
        e->w.rawlen = n;
        snprintf(e->env_err, sizeof(e->env_err), "damaged syncq wrapper line");
        return;
    }
    if (envelope_parse(e->w.raw, e->w.rawlen, max_bytes, &e->env, e->env_err, sizeof(e->env_err)) == ENV_OK)
        e->env_ok = 1;
}

void
dead_entry_free(dead_entry *e)
{
    if (e->env_ok) envelope_free(&e->env);
    e->env_ok = 0;
}

void
dead_job_id(const dead_entry *e, const char *member, char *out, size_t outlen)
{
    if (e->w.jid[0]) snprintf(out, outlen, "%s", e->w.jid);
    else if (e->env_ok && e->env.id) snprintf(out, outlen, "%s", e->env.id);
    else if (e->wrapped == 1 && envelope_id_of(e->w.raw, e->w.rawlen, 0, out, outlen) == 0) return;
    else if (e->wrapped == 1) snprintf(out, outlen, "%s", e->w.tag);
    else snprintf(out, outlen, "%s", member);
}

int
dead_event_rev(const char *member, int base)
{
    if (!strchr(member, '~')) return base;
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)member; *p; p++) h = (h ^ *p) * 16777619u;
    return base + 2 * (int)(1 + h % 499999u);
}

static int
fold(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int
dead_icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay;; p++) {
        size_t i = 0;
        while (i < n && p[i] && fold((unsigned char)p[i]) == fold((unsigned char)needle[i])) i++;
        if (i == n) return 1;
        if (!*p) return 0;
    }
}

int
dead_match(const dead_entry *e, const dead_filter *f)
{
    if (f->service && (!e->env_ok || strcmp(e->env.service, f->service) != 0)) return 0;
    if (f->action && (!e->env_ok || strcmp(e->env.action, f->action) != 0)) return 0;
    if (f->error && !dead_icontains(e->w.err, f->error)) return 0;
    return 1;
}

char *
dead_masked_payload(const dead_entry *e)
{
    if (!e->env_ok || !e->env.payload) return NULL;
    char *txt = json_print(e->env.payload);
    char *out = txt ? mask_json_text(txt, strlen(txt)) : NULL;
    free(txt);
    return out;
}

/* ---------------------------------------------------------------- Building */

/* copy_id copies id into out (WRAP_TAG_MAX bytes); an id that does not fit
 * is left out rather than cut (a cut id would name another job). */
static int
copy_id(char *out, const char *id)
{
    size_t n = strlen(id);
    if (n >= WRAP_TAG_MAX) return -1;
    memcpy(out, id, n + 1);
    return 0;
}

char *
dead_replay_entry(const dead_entry *e, const char *old_id, const char *new_id, int64_t now_ms, size_t *len)
{
    wrap w;
    char hdr[WRAP_TAG_MAX * 4 + 128];
    sbuf b;
    memset(&w, 0, sizeof(w));
    w.seen_ms = now_ms;
    w.ready_ms = w.dead_ms = -1;
    if (copy_id(w.tag, new_id) < 0 || copy_id(w.jid, new_id) < 0) return NULL;
    (void)copy_id(w.from, old_id); /* too long: the audit record still names it */
    (void)copy_id(w.root, e->w.root[0] ? e->w.root : old_id);
    size_t hl = wrap_header(&w, hdr, sizeof(hdr));
    if (hl == 0) return NULL;
    sbuf_init(&b);
    sbuf_add(&b, hdr, hl);
    sbuf_addc(&b, '\n');
    sbuf_add(&b, e->w.raw, e->w.rawlen);
    return sbuf_steal(&b, len);
}

char *
dead_queued_record(const dead_entry *e, const char *queue, const char *new_id, const char *old_id,
                   int64_t now_ms, size_t *len)
{
    record r;
    char *payload = dead_masked_payload(e), *out;
    record_init(&r);
    r.id = new_id;
    r.queue = queue;
    r.status = "queued";
    r.rev = record_rev(0, REC_QUEUED);
    r.replayed_from = old_id;
    r.enqueued_us = now_ms * 1000; /* Redis TIME, read by the caller */
    if (e->env_ok) {
        r.kind = envelope_kind_name(e->env.kind);
        r.service = e->env.service;
        r.action = e->env.action;
        r.target_type = e->env.target_type;
        r.target_id = e->env.target_id;
        r.scope = e->env.scope;
        r.actor = e->env.actor;
        r.payload = payload;
    }
    out = record_build(&r, len);
    free(payload);
    return out;
}

char *
dead_event_record(const char *queue, const char *id, const char *event, const char *text, int ev_rev,
                  int64_t now_ms, size_t *len)
{
    record r;
    record_init(&r);
    r.id = id;
    r.queue = queue;
    r.status = "dead";
    r.rev = 0;
    r.event = event;
    r.ev_outcome = NULL;
    r.ev_error = text;
    r.ev_attempt = -1; /* no attempt: an operator's act */
    r.ev_at_us = now_ms * 1000;
    r.ev_rev = ev_rev;
    return record_build(&r, len);
}
