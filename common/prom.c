/* prom.c - Prometheus text exposition (see prom.h). */
#include "fmacros.h"
#include "prom.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
prom_escape(sbuf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\') sbuf_add(b, "\\\\", 2);
        else if (*v == '"') sbuf_add(b, "\\\"", 2);
        else if (*v == '\n') sbuf_add(b, "\\n", 2);
        else sbuf_addc(b, *v);
    }
}

/* help_escape: HELP text escapes only \ and newline. */
static void
help_escape(sbuf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\') sbuf_add(b, "\\\\", 2);
        else if (*v == '\n') sbuf_add(b, "\\n", 2);
        else sbuf_addc(b, *v);
    }
}

void
prom_label_safe(char *out, const char *in)
{
    size_t n = 0;
    for (; in && in[n] && n < PROM_LABEL_MAX - 1; n++) {
        char c = in[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                 c == ':' || c == '-';
        out[n] = ok ? c : '_';
    }
    out[n] = '\0';
    if (n == 0) snprintf(out, PROM_LABEL_MAX, "_none");
}

void
prom_family(sbuf *b, const char *name, const char *type, const char *help)
{
    sbuf_printf(b, "# HELP %s ", name);
    help_escape(b, help);
    sbuf_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void
series(sbuf *b, const char *name, const prom_label *labels, int nlabels)
{
    sbuf_adds(b, name);
    if (nlabels == 0) return;
    sbuf_addc(b, '{');
    for (int i = 0; i < nlabels; i++) {
        sbuf_printf(b, "%s%s=\"", i ? "," : "", labels[i].name);
        prom_escape(b, labels[i].value);
        sbuf_addc(b, '"');
    }
    sbuf_addc(b, '}');
}

void
prom_sample(sbuf *b, const char *name, const prom_label *labels, int nlabels, const char *value)
{
    series(b, name, labels, nlabels);
    sbuf_printf(b, " %s\n", value);
}

void
prom_sample_u64(sbuf *b, const char *name, const prom_label *labels, int nlabels, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof(s), "%" PRIu64, v);
    prom_sample(b, name, labels, nlabels, s);
}

/* f64 formats v with up to 6 decimals, without trailing zeros. */
static void
f64(char *s, size_t len, double v)
{
    snprintf(s, len, "%.6f", v);
    char *dot = strchr(s, '.');
    if (!dot) return;
    char *end = s + strlen(s) - 1;
    while (end > dot && *end == '0') *end-- = '\0';
    if (end == dot) *end = '\0';
}

void
prom_sample_f64(sbuf *b, const char *name, const prom_label *labels, int nlabels, double v)
{
    char s[64];
    f64(s, sizeof(s), v);
    prom_sample(b, name, labels, nlabels, s);
}

void
prom_histogram(sbuf *b, const char *name, const prom_label *labels, int nlabels, const double *bounds,
               const uint64_t *counts, int nbounds, double sum)
{
    char metric[128], le[64];
    prom_label l[9];
    uint64_t cum = 0;
    int n = nlabels < 8 ? nlabels : 8;
    memcpy(l, labels, (size_t)n * sizeof(*l));
    l[n].name = "le";
    l[n].value = le;
    snprintf(metric, sizeof(metric), "%s_bucket", name);
    for (int i = 0; i <= nbounds; i++) {
        cum += counts[i];
        if (i < nbounds) f64(le, sizeof(le), bounds[i]);
        else snprintf(le, sizeof(le), "+Inf");
        prom_sample_u64(b, metric, l, n + 1, cum);
    }
    snprintf(metric, sizeof(metric), "%s_sum", name);
    prom_sample_f64(b, metric, labels, n, sum);
    snprintf(metric, sizeof(metric), "%s_count", name);
    prom_sample_u64(b, metric, labels, n, cum);
}
