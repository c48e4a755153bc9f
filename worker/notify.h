/* notify.h - readiness, watchdog and stopping notices to systemd (the
 * sd_notify(3) datagram protocol, written by hand: one sendto() on a unix
 * socket is all of it, so the worker needs no libsystemd). Used by the master
 * only; without NOTIFY_SOCKET every call is a no-op. */
#ifndef SYNCQ_NOTIFY_H
#define SYNCQ_NOTIFY_H

#include <stdint.h> /* for int64_t */

typedef struct notifier {
    int fd;                /* -1: not under systemd (or the socket failed) */
    char path[108];        /* sun_path; a leading '@' is the abstract namespace */
    int64_t watchdog_ms;   /* ping period (half of WATCHDOG_USEC), 0 none */
    int64_t last_ping_ms;
    int ready;
} notifier;

/* notify_init reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (the
 * watchdog is ours only when WATCHDOG_PID is unset or our pid). Returns 0, or
 * -1 with errno when the socket cannot be made (the caller logs and goes on). */
int notify_init(notifier *n);
/* notify_tick sends READY=1 the first time ready is true, and WATCHDOG=1
 * every watchdog period while the caller's loop keeps turning. */
void notify_tick(notifier *n, int64_t now_ms, int ready);
void notify_stopping(notifier *n);
void notify_close(notifier *n);
/* notify_send sends one state text ("READY=1\nSTATUS=..."); 0 sent or no
 * socket, -1 with errno. */
int notify_send(const notifier *n, const char *state);

#endif
