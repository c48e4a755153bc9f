/* web_session.c - login sessions and CSRF tokens. A session is a random id
 * (the HttpOnly cookie) mapped in memory to a user, a role and a CSRF token
 * that every form carries back; it ends at logout, after WEB_SESSION_IDLE_MS
 * without a request, or WEB_SESSION_MAX_MS after login. Kept in memory only:
 * a restart logs everyone out, which is the safe side. Pure apart from
 * getrandom(2); the clock is the caller's (unit tests pass their own). */
#include "fmacros.h"
#include "web.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int
web_random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char buf[64];
    if (nbytes > sizeof(buf) || getrandom(buf, nbytes, 0) != (ssize_t)nbytes) return -1;
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[buf[i] >> 4];
        out[2 * i + 1] = hex[buf[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}

/* web_equal: the length may show (ids and tokens have one fixed length);
 * where the bytes differ does not. Empty strings never match. */
int
web_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = 0;
    if (la != lb || la == 0) return 0;
    for (size_t i = 0; i < la; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static int
expired(const web_session *x, int64_t now_ms)
{
    return now_ms - x->seen_ms > WEB_SESSION_IDLE_MS || now_ms - x->created_ms > WEB_SESSION_MAX_MS;
}

web_session *
web_session_new(web_sessions *s, const char *user, web_role role, int64_t now_ms)
{
    web_session *slot = &s->v[0];
    for (int i = 0; i < WEB_SESSIONS_MAX; i++) {
        web_session *x = &s->v[i];
        if (x->id[0] && expired(x, now_ms)) web_session_drop(x);
        if (!x->id[0]) {
            slot = x;
            break;
        }
        if (x->seen_ms < slot->seen_ms) slot = x; /* full: the least recently used goes */
    }
    web_session_drop(slot);
    if (web_random_hex(slot->id, WEB_SID_LEN / 2) < 0 || web_random_hex(slot->csrf, WEB_CSRF_LEN / 2) < 0) {
        web_session_drop(slot);
        return NULL;
    }
    snprintf(slot->user, sizeof(slot->user), "%s", user);
    slot->role = role;
    slot->created_ms = slot->seen_ms = now_ms;
    return slot;
}

web_session *
web_session_find(web_sessions *s, const char *id, int64_t now_ms)
{
    if (!id || strlen(id) != WEB_SID_LEN) return NULL;
    for (int i = 0; i < WEB_SESSIONS_MAX; i++) {
        web_session *x = &s->v[i];
        if (!x->id[0] || !web_equal(x->id, id)) continue;
        if (expired(x, now_ms)) {
            web_session_drop(x);
            return NULL;
        }
        x->seen_ms = now_ms;
        return x;
    }
    return NULL;
}

void
web_session_drop(web_session *x)
{
    memset(x, 0, sizeof(*x));
}

int
web_csrf_ok(const web_session *x, const char *token)
{
    return x && x->csrf[0] && token && web_equal(x->csrf, token);
}
