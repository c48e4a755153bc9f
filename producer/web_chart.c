/* web_chart.c - inline SVG charts drawn on the server: no chart library, no
 * script, nothing from a CDN. Colours are SVG presentation attributes, not
 * style attributes, which the Content-Security-Policy (style-src 'self')
 * would drop. */
#include "fmacros.h"
#include "config.h"
#include "web_chart.h"
#include "web_html.h"

#include <stdio.h>

#define W 600
#define H 170
#define LEFT 46
#define BOTTOM 22
#define TOP 22

static double
max_of(const double *v, int n, double floor)
{
    double m = floor;
    for (int i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

static void
frame(sbuf *b, const char *title, const char *label, const char *top_label)
{
    sbuf_printf(b, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", W, H);
    web_esc(b, title);
    sbuf_adds(b, "\"><title>");
    web_esc(b, title);
    sbuf_printf(b, "</title><text x=\"%d\" y=\"14\">", LEFT);
    web_esc(b, label);
    sbuf_printf(b, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LEFT - 4, TOP + 4);
    web_esc(b, top_label);
    sbuf_printf(b, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>", LEFT - 4, H - BOTTOM);
    sbuf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#c5ccd6\"/>", LEFT, H - BOTTOM, W - 4,
                H - BOTTOM);
    sbuf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eef0f3\"/>", LEFT, TOP, W - 4, TOP);
}

void
web_chart_bars(sbuf *b, const char *title, const double *ok, const double *bad, int n, const char *first,
               const char *last)
{
    double top = 1;
    for (int i = 0; i < n; i++)
        if (ok[i] + bad[i] > top) top = ok[i] + bad[i];
    char tl[32];
    snprintf(tl, sizeof(tl), "%.0f", top);
    frame(b, title, "processed (green) and failed (red) per minute", tl);
    double slot = (double)(W - 4 - LEFT) / (n > 0 ? n : 1), scale = (H - BOTTOM - TOP) / top;
    for (int i = 0; i < n; i++) {
        double x = LEFT + i * slot + 1, w = slot > 3 ? slot - 2 : slot, hb = bad[i] * scale, ho = ok[i] * scale;
        if (ho > 0)
            sbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#3f9b5f\"/>", x,
                        H - BOTTOM - ho - hb, w, ho);
        if (hb > 0)
            sbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#c8453b\"/>", x,
                        H - BOTTOM - hb, w, hb);
    }
    sbuf_printf(b, "<text x=\"%d\" y=\"%d\">", LEFT, H - 6);
    web_esc(b, first);
    sbuf_printf(b, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", W - 4, H - 6);
    web_esc(b, last);
    sbuf_adds(b, "</text></svg>\n");
}

void
web_chart_line(sbuf *b, const char *title, const char *label, const double *v, int n, const char *first,
               const char *last)
{
    double top = max_of(v, n, 1000);
    char tl[32];
    config_fmt_duration_ms((int64_t)top, tl, sizeof(tl));
    frame(b, title, label, tl);
    if (n > 0) {
        double step = n > 1 ? (double)(W - 4 - LEFT) / (n - 1) : 0, scale = (H - BOTTOM - TOP) / top;
        sbuf_adds(b, "<polyline fill=\"none\" stroke=\"#2456c7\" stroke-width=\"2\" points=\"");
        for (int i = 0; i < n; i++)
            sbuf_printf(b, "%.1f,%.1f ", LEFT + i * step, H - BOTTOM - (v[i] > 0 ? v[i] : 0) * scale);
        sbuf_adds(b, "\"/>");
    }
    sbuf_printf(b, "<text x=\"%d\" y=\"%d\">", LEFT, H - 6);
    web_esc(b, first);
    sbuf_printf(b, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", W - 4, H - 6);
    web_esc(b, last);
    sbuf_adds(b, "</text></svg>\n");
}
