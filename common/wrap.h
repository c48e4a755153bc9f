/* wrap.h - the one-line wrapper that syncq keeps in front of a producer's
 * bytes in Redis (see functions.lua):
 *   ~syncq1 id=<tag> seen=<ms>[ ready=<ms>][ jid=<id>][ from=<id>][ root=<id>][ err=<pct>][ dead=<ms>]\n<raw>
 * jid overrides the envelope's id (a replay is a new job with the same
 * bytes); from and root name the job it replays and the first of its chain.
 * Only functions.lua (fetch, claim) takes a wrapper in a ready list as one,
 * and only when it vouched for it: a producer's look-alike is raw bytes.
 * Pure code. */
#ifndef SYNCQ_WRAP_H
#define SYNCQ_WRAP_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for int64_t */

#define WRAP_MAGIC "~syncq1 "
#define WRAP_ID_MAX 128 /* tags and job ids (jid, from, root): 1..128 bytes, printable ASCII, no space */
#define WRAP_TAG_MAX 136 /* buffer size for one: WRAP_ID_MAX + NUL, rounded up */
#define WRAP_HDR_MAX 16384 /* the wrapper line, newline included */
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

/* wrap_parse splits s[0..n) by the strict grammar in wrap.c (the same as
 * functions.lua's). Returns 1 (wrapped), 0 (raw bytes: w->raw = s) or -1
 * (starts like a wrapper but is not one; w holds nothing but raw = s). */
int wrap_parse(const char *s, size_t n, wrap *w);
/* wrap_header formats w's header (no newline) into out; err is percent-encoded.
 * Returns the length, or 0 when out is too small. */
size_t wrap_header(const wrap *w, char *out, size_t outlen);

#endif
