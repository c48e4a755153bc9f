/* web_chart.h - inline SVG charts for the overview (web_chart.c). */
#ifndef SYNCQ_WEB_CHART_H
#define SYNCQ_WEB_CHART_H

#include "sbuf.h"

/* web_chart_bars draws n stacked bars (ok below bad), labelled first and
 * last under the x axis. */
void web_chart_bars(sbuf *b, const char *title, const double *ok, const double *bad, int n, const char *first,
                    const char *last);
/* web_chart_line draws v (ms) as a line, the y axis labelled as a duration. */
void web_chart_line(sbuf *b, const char *title, const char *label, const double *v, int n, const char *first,
                    const char *last);

#endif
