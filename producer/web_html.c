/* web_html.c - escaping and the page layout of the console (web_html.h). */
#include "fmacros.h"
#include "web_html.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
web_esc(sbuf *b, const char *s)
{
    if (!s) return;
    size_t n = strlen(s), i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);
            if (k == 0) {
                sbuf_adds(b, "\xEF\xBF\xBD"); /* U+FFFD */
                i++;
            } else {
                sbuf_add(b, s + i, k);
                i += k;
            }
            continue;
        }
        switch (c) {
        case '&': sbuf_adds(b, "&amp;"); break;
        case '<': sbuf_adds(b, "&lt;"); break;
        case '>': sbuf_adds(b, "&gt;"); break;
        case '"': sbuf_adds(b, "&quot;"); break;
        case '\'': sbuf_adds(b, "&#39;"); break;
        default:
            if (c < 0x20 && c != '\n' && c != '\t') sbuf_adds(b, "\xEF\xBF\xBD"); /* controls never reach a page */
            else sbuf_addc(b, (char)c);
        }
        i++;
    }
}

void
web_escf(sbuf *b, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    web_esc(b, buf);
}

void
web_url(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~", c)) {
            sbuf_addc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sbuf_add(b, e, 3);
        }
    }
}

int
web_is_manager(const web_req *rq)
{
    return rq->role == WEB_ROLE_MANAGER;
}

/* ---------------------------------------------------------------- Layout */

static const struct {
    const char *key, *href, *label;
} nav[] = {
    {"overview", "/", "Overview"},        {"jobs", "/jobs", "Jobs"},          {"dlq", "/dlq", "Dead letters"},
    {"snapshots", "/snapshots", "Snapshots"}, {"queues", "/queues", "Queues"},
};

void
web_csrf_field(sbuf *b, const web_req *rq)
{
    sbuf_adds(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
    web_esc(b, rq->sess ? rq->sess->csrf : "");
    sbuf_adds(b, "\">");
}

void
web_page_begin(sbuf *b, const web_req *rq, const char *title, const char *active, int refresh_s)
{
    sbuf_adds(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    if (refresh_s > 0) sbuf_printf(b, "<meta http-equiv=\"refresh\" content=\"%d\">", refresh_s);
    sbuf_adds(b, "<title>");
    web_esc(b, title);
    sbuf_adds(b, " · syncq</title><link rel=\"stylesheet\" href=\"/static/app.css\">"
                 "<script src=\"/static/app.js\" defer></script></head>\n<body><header><a class=\"brand\" "
                 "href=\"/\">syncq</a><nav>");
    for (size_t i = 0; rq->user && i < sizeof(nav) / sizeof(nav[0]); i++)
        sbuf_printf(b, "<a href=\"%s\"%s>%s</a>", nav[i].href,
                    active && !strcmp(active, nav[i].key) ? " class=\"active\" aria-current=\"page\"" : "", nav[i].label);
    sbuf_adds(b, "</nav>");
    if (rq->user) {
        sbuf_adds(b, "<form class=\"who\" method=\"post\" action=\"/logout\"><span>");
        web_esc(b, rq->user);
        sbuf_printf(b, " <em>%s</em></span>", web_role_name(rq->role));
        if (rq->sess) {
            web_csrf_field(b, rq);
            sbuf_adds(b, "<button type=\"submit\">Log out</button>");
        }
        sbuf_adds(b, "</form>");
    }
    sbuf_adds(b, "</header>\n<main><h1>");
    web_esc(b, title);
    sbuf_adds(b, "</h1>\n");
}

void
web_page_end(sbuf *b)
{
    sbuf_adds(b, "</main></body></html>\n");
}

void
web_note(sbuf *b, const char *kind, const char *msg)
{
    sbuf_printf(b, "<p class=\"note %s\" role=\"status\">", kind);
    web_esc(b, msg);
    sbuf_adds(b, "</p>\n");
}
