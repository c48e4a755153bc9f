/* wrap.h - the one-line wrapper that syncq keeps in front of a producer's
 * bytes in Redis (see functions.lua):
 *   ~syncq1 id=<tag> seen=<ms>[ ready=<ms>][ jid=<id>][ from=<id>][ root=<id>][ err=<pct>][ dead=<ms>]\n<raw>
 * jid overrides the envelope's id (a replay is a new job with the same
 * bytes); from and root name the job it replays and the first of its chain.
 * Pure code. */
#ifndef SYNCQ_WRAP_H
#define SYNCQ_WRAP_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#define WRAP_MAGIC "~syncq1 "
#define WRAP_TAG_MAX 136 /* delivery tags are 36 chars; job ids (jid, from, root) up to 128 */
#define WRAP_ERR_MAX 4096

typedef struct wrap {
    char tag[WRAP_TAG_MAX];  /* delivery tag (job id unless the envelope has one) */
    int64_t seen_ms;         /* first sight in Redis TIME, -1 unknown */
    int64_t ready_ms;        /* last promotion to ready, -1 never */
    int64_t dead_ms;         /* dead-letter time, -1 not dead */
    char jid[WRAP_TAG_MAX];  /* job id overriding the envelope's, empty for none */
    char from[WRAP_TAG_MAX]; /* replayed_from job id, empty for none */
    char root[WRAP_TAG_MAX]; /* first job of the replay chain, empty for none */
    char err[WRAP_ERR_MAX];  /* last error (decoded), empty for none */
    char lost[WRAP_TAG_MAX + 16]; /* <reason>/<worker id> of the last requeue (docs/LEASES.md), empty for none */
    const char *raw;         /* borrowed: the producer's bytes */
    size_t rawlen;
} wrap;

/* wrap_parse splits s[0..n). Returns 1 (wrapped), 0 (raw bytes: w->raw = s)
 * or -1 (a wrapper header that does not parse). */
int wrap_parse(const char *s, size_t n, wrap *w);
/* wrap_header formats w's header (no newline) into out; err is percent-encoded.
 * Returns the length, or 0 when out is too small. */
size_t wrap_header(const wrap *w, char *out, size_t outlen);

#endif
