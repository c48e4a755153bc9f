/* log.h - JSON-lines logging on stderr: one object per line with time, level,
 * pid, event, message and, where known, job id, service, action and error. */
#ifndef SYNCQ_LOG_H
#define SYNCQ_LOG_H

enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

typedef struct log_job {
    const char *job_id, *service, *action;
} log_job;

void log_set_level(int level);
int log_level_from(const char *s); /* -1 when unknown */
/* log_msg logs event with a printf-style message. */
void log_msg(int level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* log_job_msg adds job fields and an error text (either may be NULL). Secrets
 * must already be masked by the caller: the logger never sees payloads. */
void log_job_msg(int level, const char *event, const log_job *job, const char *error,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
