/* funcs.h - the syncq Redis Function library (common/functions.lua, embedded
 * at build time): loading it without ever replacing a newer one
 * (docs/DESIGN.md §12). Calling its functions is the queue layer's (queue.h). */
#ifndef SYNCQ_FUNCS_H
#define SYNCQ_FUNCS_H

#include <stddef.h> /* for size_t */

#include "rds.h"

/* What a node has loaded: nothing, a library from before versions (20 and
 * older: syncq_version only), or a versioned one (syncq_compat). */
typedef enum { FUNCS_NONE, FUNCS_LEGACY, FUNCS_LOADED } funcs_state;
typedef struct {
    funcs_state state;
    int version; /* LIBRARY_VERSION's number (20 for FUNCS_LEGACY) */
    int compat;  /* the oldest binary version it serves */
    char full[64]; /* LIBRARY_VERSION with its record-columns digest */
} funcs_lib;
typedef enum { FUNCS_USE, FUNCS_LOAD, FUNCS_REPLACE, FUNCS_REFUSE } funcs_action;

/* funcs_decide says what a binary with library ours does about loaded: use
 * it (ours or a newer one that serves ours), load ours where none is,
 * replace an older one, or refuse a newer one that no longer serves ours. */
funcs_action funcs_decide(const funcs_lib *ours, const funcs_lib *loaded);
/* funcs_load brings every master to a library serving this binary now (after
 * "function not found"). 0, or -1 with r->errstr; r->err RDS_ERR_CONFIG when
 * a newer library no longer serves this binary (exit 78: upgrade). */
int funcs_load(rds *r);
/* funcs_ensure does the same, and on a Cluster for masters joining later. */
int funcs_ensure(rds *r);
/* funcs_our_version: LIBRARY_VERSION's number of the embedded library. */
long funcs_our_version(void);
/* funcs_loaded_version: the number of the library Redis holds (20 for one
 * from before versions), 0 when none, -1 on an I/O error. */
long funcs_loaded_version(rds *r);
/* funcs_missing says whether reply x is Redis's "function not found" error. */
int funcs_missing(const rds_reply *x);

#endif
