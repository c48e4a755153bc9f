/* db.h - PostgreSQL access. Only db.c includes libpq. Return convention: 0 ok,
 * -1 error with d->err (its kind), d->errstr (the server's message) and
 * d->sqlstate set, as hiredis keeps err and errstr in its context. */
#ifndef SYNCQ_DB_H
#define SYNCQ_DB_H

#include <stddef.h> /* for size_t */

/* Kinds of d->err, so callers branch on the kind: only DB_ERR_DATA is about
 * the statement's data (a batch can be split to find the bad record); the
 * others mean the batch waits for the server. */
enum {
    DB_ERR_NONE = 0,
    DB_ERR_CONN = 1,   /* no connection, or it failed or broke */
    DB_ERR_DATA = 2,   /* SQLSTATE classes 22, 23, 42, 54: the data or the statement */
    DB_ERR_SERVER = 3, /* any other error the server reported */
};

#define DB_PREP_MAX 32 /* statements prepared per connection (db_query_prep) */

typedef struct db {
    void *conn;          /* PGconn*, NULL when closed */
    int err;             /* a DB_ERR_* kind after a failed call */
    char errstr[512];
    char sqlstate[6];    /* "" for connection-level errors */
    const char *prep[DB_PREP_MAX]; /* db_query_prep's statements on this connection, by address */
    int nprep;
} db;

typedef struct db_result db_result; /* opaque: a PGresult */

void db_init(db *d);
/* db_connect opens conninfo (URI or key=value). The session gets a short
 * statement timeout only if the caller sets one. */
int db_connect(db *d, const char *conninfo);
void db_close(db *d);
/* db_alive: 1 when the connection is usable. */
int db_alive(const db *d);
/* db_data_error: 1 when the last error was about the data (d->err is
 * DB_ERR_DATA), so splitting a batch can isolate the bad record; 0 when the
 * server or connection failed and the whole batch should wait. */
int db_data_error(const db *d);

/* db_exec runs sql (one or more statements, no parameters). */
int db_exec(db *d, const char *sql);
/* db_query runs sql with text parameters (NULL = SQL NULL); returns a result
 * (free with db_result_free) or NULL with errstr. */
db_result *db_query(db *d, const char *sql, int nparams, const char *const *params);
/* db_query_prep is db_query for a statement a process runs over and over
 * (a worker's per-job statements): prepared once per connection, then
 * executed without parsing and planning it again, about half of
 * PostgreSQL's time for a one-row statement. sql must be a string constant:
 * its address is the statement's key. Behind a pooler that does not keep
 * named statements (PgBouncer's transaction mode before 1.21),
 * db_prepare_off() makes it db_query. */
db_result *db_query_prep(db *d, const char *sql, int nparams, const char *const *params);
void db_prepare_off(void);
int db_ntuples(const db_result *r);
int db_nfields(const db_result *r);
const char *db_fname(const db_result *r, int col);
const char *db_value(const db_result *r, int row, int col); /* NULL for SQL NULL */
void db_result_free(db_result *r);

/* COPY ... FROM STDIN in text format. */
int db_copy_begin(db *d, const char *sql);
int db_copy_put(db *d, const char *buf, size_t len);
int db_copy_end(db *d);

#endif
