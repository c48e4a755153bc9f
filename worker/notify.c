/* notify.c - the systemd notification protocol (see notify.h). */
#include "fmacros.h"
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
notify_init(notifier *n)
{
    memset(n, 0, sizeof(*n));
    n->fd = -1;
    const char *p = getenv("NOTIFY_SOCKET");
    if (!p || !*p || strlen(p) >= sizeof(n->path) || (p[0] != '/' && p[0] != '@')) return 0;
    memcpy(n->path, p, strlen(p) + 1);
    const char *us = getenv("WATCHDOG_USEC"), *wp = getenv("WATCHDOG_PID");
    long long usec = us ? strtoll(us, NULL, 10) : 0;
    if (usec > 0 && (!wp || strtoll(wp, NULL, 10) == (long long)getpid()))
        n->watchdog_ms = usec >= 2000 ? usec / 2000 : 1; /* ping at half the period */
    /* CLOEXEC: the programs of exec handlers must not talk to systemd as us. */
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    return n->fd < 0 ? -1 : 0;
}

int
notify_send(const notifier *n, const char *state)
{
    if (n->fd < 0) return 0;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    size_t len = strlen(n->path);
    memcpy(sa.sun_path, n->path, len);
    if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    ssize_t w = sendto(n->fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    return w < 0 ? -1 : 0;
}

void
notify_tick(notifier *n, int64_t now_ms, int ready)
{
    if (n->fd < 0) return;
    if (ready && !n->ready) {
        n->ready = 1;
        notify_send(n, "READY=1\nSTATUS=running");
    }
    if (n->watchdog_ms > 0 && now_ms - n->last_ping_ms >= n->watchdog_ms) {
        n->last_ping_ms = now_ms;
        notify_send(n, "WATCHDOG=1");
    }
}

void
notify_stopping(notifier *n)
{
    notify_send(n, "STOPPING=1\nSTATUS=draining in-flight jobs");
}

void
notify_close(notifier *n)
{
    if (n->fd >= 0) close(n->fd);
    n->fd = -1;
}
