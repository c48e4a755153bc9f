/* web_html.h - HTML for the console's pages: escaping (every value that did
 * not come from our own code goes through web_esc), query-string encoding,
 * and the page layout with its navigation. Pure (web_html.c). */
#ifndef SYNCQ_WEB_HTML_H
#define SYNCQ_WEB_HTML_H

#include "web.h"

/* web_esc appends s escaped for HTML text and quoted attribute values
 * (& < > " ' and control characters); NULL appends nothing. Invalid UTF-8
 * becomes U+FFFD, so the page stays valid UTF-8. */
void web_esc(sbuf *b, const char *s);
/* web_escf appends printf output, escaped. */
void web_escf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* web_url appends s percent-encoded for a query value (all but A-Z a-z 0-9 - . _ ~). */
void web_url(sbuf *b, const char *s);
/* web_page_begin opens a page: head (stylesheet, script, meta refresh after
 * refresh_s seconds when > 0), the navigation with `active` marked, the
 * user and the logout form, and <h1>title</h1>. */
void web_page_begin(sbuf *b, const web_req *rq, const char *title, const char *active, int refresh_s);
void web_page_end(sbuf *b);
/* web_csrf_field appends the hidden CSRF input of rq's session. */
void web_csrf_field(sbuf *b, const web_req *rq);
/* web_note appends a message box (kind: "ok", "error", "info"), escaped. */
void web_note(sbuf *b, const char *kind, const char *msg);
/* web_is_manager: rq may act (retry, replay, purge, cancel, pause). */
int web_is_manager(const web_req *rq);

#endif
