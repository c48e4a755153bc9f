/* funcs.h - the syncq Redis Function library (common/functions.lua, embedded
 * at build time): loading it and calling its functions. */
#ifndef SYNCQ_FUNCS_H
#define SYNCQ_FUNCS_H

#include <stddef.h> /* for size_t */

#include "rds.h"

#define FUNCS_MAX_ARGS 1024

/* funcs_load runs FUNCTION LOAD REPLACE. 0 or -1 with r->errstr. */
int funcs_load(rds *r);
/* funcs_ensure loads the library unless the loaded version is ours. */
int funcs_ensure(rds *r);
/* funcs_argv fills argv/lens for FCALL fn nkeys keys... args... into the
 * caller's arrays (size FUNCS_MAX_ARGS); returns argc or -1 when too many. */
int funcs_argv(const char *fn, int nkeys, const char *const *keys, int nargs, const char *const *args,
               const size_t *arglens, const char **argv, size_t *lens, char *nkbuf, size_t nkbuflen);
/* funcs_call runs FCALL and, on "Function not found", loads the library and
 * retries once (Redis lost it: restarted without persistence, or flushed). */
rds_reply *funcs_call(rds *r, const char *fn, int nkeys, const char *const *keys, int nargs,
                      const char *const *args, const size_t *arglens);
/* funcs_missing says whether reply x is Redis's "function not found" error. */
int funcs_missing(const rds_reply *x);

#endif
