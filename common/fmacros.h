/* fmacros.h - feature-test macros; every .c file includes this first. */
#ifndef SYNCQ_FMACROS_H
#define SYNCQ_FMACROS_H

/* Under -std=c11, sigaction, kill, strdup and clock_gettime are hidden without these. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* for prctl/getrandom helpers, strcasecmp, timegm */

#endif
