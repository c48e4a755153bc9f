/* prom.h - the Prometheus text exposition format, version 0.0.4: metric
 * families (HELP and TYPE lines), samples with escaped label values, and
 * histograms. Pure code: it only appends to an sbuf.
 *
 * Label values here come from job envelopes (service, action), queue names
 * and signal names: prom_label_safe keeps them to a small alphabet and a
 * bounded length so that a label can never carry payload data or break the
 * format, whatever a producer sends. */
#ifndef SYNCQ_PROM_H
#define SYNCQ_PROM_H

#include <stddef.h> /* for size_t */
#include <stdint.h> /* for uint64_t */

#include "sbuf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROM_LABEL_MAX 48 /* bytes of a label value kept by prom_label_safe, with the NUL */

/* A label pair; a sample takes an array of them. */
typedef struct prom_label {
    const char *name, *value;
} prom_label;

/* prom_family writes the HELP (escaped) and TYPE lines of a family; type is
 * counter, gauge or histogram. */
void prom_family(sbuf *b, const char *name, const char *type, const char *help);
/* prom_sample writes one sample line: name{l1="v1",...} value. */
void prom_sample(sbuf *b, const char *name, const prom_label *labels, int nlabels, const char *value);
void prom_sample_u64(sbuf *b, const char *name, const prom_label *labels, int nlabels, uint64_t v);
/* prom_sample_f64 prints v with up to 6 decimals, trailing zeros cut ("0.25", "3"). */
void prom_sample_f64(sbuf *b, const char *name, const prom_label *labels, int nlabels, double v);

/* prom_histogram writes the _bucket (cumulative, with le="+Inf"), _sum and
 * _count samples of one series. counts[i] holds the observations in bucket
 * i (not cumulative): bounds[i-1] < x <= bounds[i], and counts[nbounds]
 * those above the last bound. bounds are in the family's unit. */
void prom_histogram(sbuf *b, const char *name, const prom_label *labels, int nlabels, const double *bounds,
                    const uint64_t *counts, int nbounds, double sum);

/* prom_escape appends a label value escaped per the format: \\ \" \n. */
void prom_escape(sbuf *b, const char *v);
/* prom_label_safe copies in to out (PROM_LABEL_MAX bytes) keeping
 * [A-Za-z0-9_.:-] and writing '_' for anything else; "" becomes "_none". */
void prom_label_safe(char *out, const char *in);

#endif
