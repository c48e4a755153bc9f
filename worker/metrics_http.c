/* metrics_http.c - a tiny HTTP/1.0 responder for /metrics and /healthz,
 * polled from the master's loop. Every socket is non-blocking: a connection
 * is read until the end of its headers, answered from memory, written as
 * the socket takes it, then closed. A client that has not sent its headers
 * after MHTTP_HEADER_MS, or is not answered after MHTTP_DEADLINE_MS, is
 * dropped; and when all MHTTP_CONNS slots are taken, the listener is still
 * polled and a new connection evicts the oldest one still sending its
 * request. So idle or slow clients, however many, delay a container's
 * health check by one accept, not by a deadline per slot (issue: 40 idle
 * connections once held /healthz for 6 s). Reading the whole request
 * before answering matters: closing a socket with unread bytes makes the
 * kernel send a reset, and the client may lose the answer. Only GET and
 * HEAD. */
#include "fmacros.h"
#include "errf.h"
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKLOG 128

void
mhttp_init(mhttp *h)
{
    memset(h, 0, sizeof(*h));
    h->lfd = -1;
    for (int i = 0; i < MHTTP_CONNS; i++) h->c[i].fd = -1;
}

/* bound_name writes the address fd is bound to (the port of :0 resolved). */
static void
bound_name(int fd, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV))
        snprintf(out, len, "?");
    else if (ss.ss_family == AF_INET6) snprintf(out, len, "[%.100s]:%.8s", host, port);
    else snprintf(out, len, "%.100s:%.8s", host, port);
}

/* nonblock makes fd non-blocking and closed on exec. 0 or -1. */
static int
nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* listen_on binds the first address of ai that works. fd or -1 (errno). */
static int
listen_on(const struct addrinfo *ai)
{
    int fd = -1, one = 1, e = 0;
    for (; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0 || nonblock(fd) < 0) {
            e = errno;
            if (fd >= 0) close(fd);
            continue;
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* a restart must not wait for TIME_WAIT */
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, BACKLOG) == 0) return fd;
        e = errno;
        close(fd);
        fd = -1;
    }
    errno = e;
    return -1;
}

int
mhttp_open(mhttp *h, const char *addr, char *err, size_t errlen)
{
    char host[128], port[8];
    int p;
    struct addrinfo hints, *ai = NULL;
    if (config_parse_listen(addr, host, sizeof(host), &p) < 0) return errf(err, errlen, "bad address %s: %s", addr, strerror(EINVAL));
    snprintf(port, sizeof(port), "%d", p);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "resolve %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    h->lfd = listen_on(ai);
    int e = errno;
    freeaddrinfo(ai);
    if (h->lfd < 0) return errf(err, errlen, "listen on %s: %s", addr, strerror(e));
    bound_name(h->lfd, h->bound, sizeof(h->bound));
    return 0;
}

/* evictable: the slot a new connection would take, an empty one or else
 * the oldest still reading its request; NULL when all are being answered. */
static mhttp_conn *
evictable(mhttp *h)
{
    mhttp_conn *old = NULL;
    for (int i = 0; i < MHTTP_CONNS; i++) {
        mhttp_conn *c = &h->c[i];
        if (c->fd < 0) return c;
        if (!c->answering && (!old || c->seq < old->seq)) old = c;
    }
    return old;
}

int
mhttp_pollfds(const mhttp *h, struct pollfd *p, int max)
{
    int n = 0;
    if (h->lfd < 0) return 0;
    for (int i = 0; i < MHTTP_CONNS && n < max; i++)
        if (h->c[i].fd >= 0) p[n++] = (struct pollfd){h->c[i].fd, h->c[i].answering ? POLLOUT : POLLIN, 0};
    /* the listener comes last, so an eviction never hits a descriptor this
     * round still has to serve; with every slot being answered, a waiting
     * client would wake poll() again and again: it waits in the backlog */
    if (n < max && evictable((mhttp *)h)) p[n++] = (struct pollfd){h->lfd, POLLIN, 0};
    return n;
}

static void
drop(mhttp_conn *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->got = c->sent = 0;
    c->answering = 0;
    sbuf_free(&c->out);
}

/* accept_all takes every waiting connection while a slot can be had,
 * evicting the oldest connection still sending its request when the table
 * is full: a burst of idle clients then costs each of them its slot, never
 * the health check that comes after them. */
static void
accept_all(mhttp *h, int64_t now_ms)
{
    mhttp_conn *c;
    while ((c = evictable(h)) != NULL) {
        int fd = accept(h->lfd, NULL, NULL);
        if (fd < 0) return; /* EAGAIN: none waiting; other errors: the next poll tries again */
        if (nonblock(fd) < 0) {
            close(fd);
            continue;
        }
        drop(c); /* a no-op on an empty slot */
        c->fd = fd;
        c->accepted_ms = now_ms;
        c->seq = h->accepts++;
        c->got = c->sent = 0;
        c->answering = 0;
        sbuf_init(&c->out);
    }
}

static const char *
reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

/* respond builds the answer to the request line in c->req. */
static void
respond(mhttp_conn *c, mhttp_handler fn, void *ctx)
{
    char method[8] = "", path[256] = "";
    const char *ctype = "text/plain; charset=utf-8";
    sbuf body;
    int status, head = 0;
    sbuf_init(&body);
    if (sscanf(c->req, "%7s %255s", method, path) != 2 || path[0] != '/') {
        status = 400;
        sbuf_adds(&body, "bad request\n");
    } else if (strcmp(method, "GET") != 0 && !(head = !strcmp(method, "HEAD"))) {
        status = 405;
        sbuf_adds(&body, "only GET and HEAD\n");
    } else {
        path[strcspn(path, "?")] = '\0';
        status = fn(ctx, path, &body, &ctype);
    }
    sbuf_printf(&c->out, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                status, reason(status), ctype, body.len);
    if (!head && body.len) sbuf_add(&c->out, body.buf, body.len);
    sbuf_free(&body);
    c->answering = 1;
}

/* headers_done: the request so far ends with an empty line. */
static int
headers_done(const mhttp_conn *c)
{
    return strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n");
}

static void
on_write(mhttp_conn *c)
{
    while (c->sent < c->out.len) {
        ssize_t n = write(c->fd, c->out.buf + c->sent, c->out.len - c->sent);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        c->sent += (size_t)n;
    }
    (void)shutdown(c->fd, SHUT_WR); /* done either way: the close follows */
    drop(c);
}

static void
on_read(mhttp_conn *c, mhttp_handler fn, void *ctx)
{
    for (;;) {
        ssize_t n = read(c->fd, c->req + c->got, sizeof(c->req) - 1 - c->got);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* the client left, or an error: drop it */
        c->got += (size_t)n;
        c->req[c->got] = '\0';
        if (headers_done(c)) {
            respond(c, fn, ctx);
            on_write(c); /* most answers fit the socket buffer at once */
            return;
        }
        if (c->got == sizeof(c->req) - 1) break; /* headers too large */
    }
    drop(c);
}

static mhttp_conn *
conn_of(mhttp *h, int fd)
{
    for (int i = 0; i < MHTTP_CONNS; i++)
        if (h->c[i].fd == fd) return &h->c[i];
    return NULL;
}

void
mhttp_serve(mhttp *h, const struct pollfd *p, int n, int64_t now_ms, mhttp_handler fn, void *ctx)
{
    if (h->lfd < 0) return;
    for (int i = 0; i < n; i++) {
        mhttp_conn *c = p[i].fd == h->lfd ? NULL : conn_of(h, p[i].fd);
        if (!p[i].revents) continue;
        if (p[i].fd == h->lfd) accept_all(h, now_ms);
        else if (c && c->answering && (p[i].revents & (POLLOUT | POLLERR | POLLHUP))) on_write(c);
        else if (c && !c->answering) on_read(c, fn, ctx);
    }
    for (int i = 0; i < MHTTP_CONNS; i++) {
        mhttp_conn *c = &h->c[i];
        int64_t limit = c->accepted_ms + (c->answering ? MHTTP_DEADLINE_MS : MHTTP_HEADER_MS);
        if (c->fd >= 0 && now_ms >= limit) drop(c);
    }
}

void
mhttp_close(mhttp *h)
{
    for (int i = 0; i < MHTTP_CONNS; i++) drop(&h->c[i]);
    if (h->lfd >= 0) close(h->lfd);
    h->lfd = -1;
}

void
mhttp_forget(mhttp *h)
{
    /* the parent keeps serving: closing our copies sends nothing on the wire */
    mhttp_close(h);
}
