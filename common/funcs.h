/* funcs.h - the syncq Redis Function library (common/functions.lua, embedded
 * at build time): loading it. Calling its functions is the queue layer's
 * (queue.h). */
#ifndef SYNCQ_FUNCS_H
#define SYNCQ_FUNCS_H

#include <stddef.h> /* for size_t */

#include "rds.h"

/* funcs_load loads the library (FUNCTION LOAD REPLACE) on every master
 * unless it holds our version or a newer one: a binary never replaces a
 * newer library with its older one (rolling upgrades). 0 or -1 with
 * r->errstr. */
int funcs_load(rds *r);
/* funcs_ensure does the same now and, on a Cluster, on masters that join. */
int funcs_ensure(rds *r);
/* funcs_our_version: LIBRARY_VERSION of the embedded library. */
long funcs_our_version(void);
/* funcs_loaded_version: the version Redis holds (FCALL syncq_version, which
 * every version keeps), 0 when none, -1 on an I/O error. */
long funcs_loaded_version(rds *r);
/* funcs_missing says whether reply x is Redis's "function not found" error. */
int funcs_missing(const rds_reply *x);

#endif
