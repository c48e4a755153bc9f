/* log.c - JSON-lines logger. Each line is built in memory and written with one
 * write(2), so lines from the master and children never interleave. */
#include "fmacros.h"
#include "log.h"
#include "mask.h"
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int min_level = LOG_INFO;
static const char *names[] = {"debug", "info", "warn", "error"};

void
log_set_level(int level)
{
    min_level = level;
}

int
log_level_from(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0) return i;
    if (strcasecmp(s, "warning") == 0) return LOG_WARN;
    return -1;
}

/* scrubbed appends s as a JSON string with credentials it carries masked
 * (URL passwords, access_token=..., Bearer ...: mask_string): an error text
 * may quote a URL or a header. */
static void
scrubbed(sbuf *b, const char *s)
{
    char *m = mask_string(s);
    sbuf_json_strz(b, m ? m : s);
    free(m);
}

static void
emit(int level, const char *event, const log_job *job, const char *error, const char *fmt, va_list ap)
{
    char msg[1024], ts[40];
    struct timeval tv;
    struct tm tm;
    sbuf b;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    sbuf_init(&b);
    sbuf_printf(&b, "{\"time\":\"%s.%03dZ\",\"level\":\"%s\",\"pid\":%d", ts, (int)(tv.tv_usec / 1000),
                names[level], (int)getpid());
    sbuf_json_key(&b, "event");
    sbuf_json_strz(&b, event);
    if (job && job->job_id) { sbuf_json_key(&b, "job_id"); sbuf_json_strz(&b, job->job_id); }
    if (job && job->service) { sbuf_json_key(&b, "service"); sbuf_json_strz(&b, job->service); }
    if (job && job->action) { sbuf_json_key(&b, "action"); sbuf_json_strz(&b, job->action); }
    if (error) { sbuf_json_key(&b, "error"); scrubbed(&b, error); }
    sbuf_json_key(&b, "msg");
    scrubbed(&b, msg);
    sbuf_adds(&b, "}\n");
    ssize_t w = write(2, b.buf, b.len);
    (void)w; /* a logger has nowhere to report its own failure */
    sbuf_free(&b);
}

void
log_msg(int level, const char *event, const char *fmt, ...)
{
    if (level < min_level) return;
    va_list ap;
    va_start(ap, fmt);
    emit(level, event, NULL, NULL, fmt, ap);
    va_end(ap);
}

void
log_job_msg(int level, const char *event, const log_job *job, const char *error, const char *fmt, ...)
{
    if (level < min_level) return;
    va_list ap;
    va_start(ap, fmt);
    emit(level, event, job, error, fmt, ap);
    va_end(ap);
}
