/* durability.h - is this Redis safe to hold jobs? A queue server must never
 * evict a key (maxmemory-policy noeviction) and must keep its data across a
 * restart (RDB snapshots or AOF). Read by the worker master (a loud warning)
 * and `syncq check` (a breach); README "Production Redis and PostgreSQL". */
#ifndef SYNCQ_DURABILITY_H
#define SYNCQ_DURABILITY_H

#include <stddef.h> /* for size_t */

#include "rds.h"

typedef struct durability {
    char policy[48];    /* maxmemory-policy, "" when unknown */
    int rdb;            /* 1 save points set, 0 none, -1 unknown */
    int aof;            /* 1 appendonly yes, 0 no, -1 unknown */
} durability;

/* durability_read reads the settings: INFO memory for the eviction policy
 * (any user with INFO may read it), CONFIG GET for save and appendonly
 * (managed services and least-privilege ACL users often may not: then
 * they stay -1). Returns 0, or -1 on an I/O error (r->errstr). */
int durability_read(rds *r, durability *d);

/* durability_problems writes what is unsafe, "; "-separated, into out and
 * returns the number of problems (0: safe, or unknown and not provably
 * unsafe). Pure. */
int durability_problems(const durability *d, char *out, size_t outlen);

#endif
