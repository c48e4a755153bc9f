/* funcs.h - the syncq Redis Function library (common/functions.lua, embedded
 * at build time): loading it. Calling its functions is the queue layer's
 * (queue.h). */
#ifndef SYNCQ_FUNCS_H
#define SYNCQ_FUNCS_H

#include <stddef.h> /* for size_t */

#include "rds.h"

/* funcs_load runs FUNCTION LOAD REPLACE. 0 or -1 with r->errstr. */
int funcs_load(rds *r);
/* funcs_ensure loads the library unless the loaded version is ours. */
int funcs_ensure(rds *r);
/* funcs_missing says whether reply x is Redis's "function not found" error. */
int funcs_missing(const rds_reply *x);

#endif
