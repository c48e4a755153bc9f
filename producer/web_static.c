/* web_static.c - the stylesheet and the script, embedded at build time from
 * web/ (scripts/embed.sh), so the console needs no file and no CDN. */
#include "fmacros.h"
#include "web.h"
#include "web_assets.h"

int
web_static_css(web_req *rq, web_resp *rs)
{
    (void)rq;
    rs->ctype = "text/css; charset=utf-8";
    sbuf_adds(&rs->body, web_app_css);
    return 0;
}

int
web_static_js(web_req *rq, web_resp *rs)
{
    (void)rq;
    rs->ctype = "text/javascript; charset=utf-8";
    sbuf_adds(&rs->body, web_app_js);
    return 0;
}

/* web_static_favicon: no icon (204), so browsers stop asking and log no 404. */
int
web_static_favicon(web_req *rq, web_resp *rs)
{
    (void)rq;
    rs->status = 204;
    return 0;
}
