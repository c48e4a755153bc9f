/* schema.h - which audit schema a database has, against the one this build
 * carries (schema/NNN_*.sql, applied by `syncq migrate`). The worker refuses
 * to start on an older or missing schema rather than have PostgreSQL refuse
 * its records one by one; a newer schema is fine (expand-then-contract
 * upgrades migrate before the new binaries roll out).
 *
 * Adding a migration is adding schema/NNN_name.sql, numbered on from the
 * last: the build embeds it, lists it for `syncq migrate` (schema_sql.h,
 * SCHEMA_MIGRATIONS) and makes NNN the version the worker checks for. */
#ifndef SYNCQ_SCHEMA_H
#define SYNCQ_SCHEMA_H

#include <stddef.h> /* for size_t */

#include "db.h"
#include "schema_version.h" /* SYNCQ_SCHEMA_VERSION, generated from schema/ at build time */

/* schema_applied returns the highest migration applied to d (0 when
 * `syncq migrate` never ran), or -1 with d->errstr. */
int schema_applied(db *d);

/* schema_check: 0 when d's schema is SYNCQ_SCHEMA_VERSION or newer; 1 when
 * it is older or missing, with a message ending "run syncq migrate" in msg;
 * -1 when the database could not be asked (d->errstr). */
int schema_check(db *d, char *msg, size_t len);

#endif
