/* db.c - the only file that knows libpq. */
#include "fmacros.h"
#include "db.h"
#include "mask.h"
#include "sbuf.h"
#include "url.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#define CONN(d) ((PGconn *)(d)->conn)

/* error_kind classifies the error set_err just recorded. */
static int
error_kind(const db *d)
{
    const char *s = d->sqlstate;
    if (!d->conn || PQstatus(CONN(d)) != CONNECTION_OK) return DB_ERR_CONN;
    if (s[0] && (!strncmp(s, "22", 2) || !strncmp(s, "23", 2) || !strncmp(s, "42", 2) || !strncmp(s, "54", 2)))
        return DB_ERR_DATA;
    return DB_ERR_SERVER;
}

static void
set_err(db *d, const char *what, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg) msg = d->conn ? PQerrorMessage(CONN(d)) : "no connection";
    snprintf(d->errstr, sizeof(d->errstr), "%s: %s", what, msg);
    size_t n = strlen(d->errstr);
    while (n && (d->errstr[n - 1] == '\n' || d->errstr[n - 1] == ' ')) d->errstr[--n] = '\0';
    mask_in_place(d->errstr, sizeof(d->errstr)); /* libpq quotes a malformed URI whole, password and all */
    snprintf(d->sqlstate, sizeof(d->sqlstate), "%s", state ? state : "");
    d->err = error_kind(d);
}

/* redact_echo replaces conninfo, when errstr quotes it, with its redacted
 * form: a URI too broken for the text patterns of mask.h is still caught. */
static void
redact_echo(char *errstr, size_t size, const char *conninfo)
{
    char red[1024];
    const char *at = conninfo && *conninfo ? strstr(errstr, conninfo) : NULL;
    if (!at) return;
    url_redact(conninfo, red, sizeof(red));
    sbuf b;
    sbuf_init(&b);
    sbuf_add(&b, errstr, (size_t)(at - errstr));
    sbuf_adds(&b, red);
    sbuf_adds(&b, at + strlen(conninfo));
    snprintf(errstr, size, "%s", b.buf);
    sbuf_free(&b);
}

void
db_init(db *d)
{
    memset(d, 0, sizeof(*d));
}

int
db_connect(db *d, const char *conninfo)
{
    db_close(d);
    d->conn = PQconnectdb(conninfo);
    if (!d->conn || PQstatus(CONN(d)) != CONNECTION_OK) {
        set_err(d, "connect to PostgreSQL", NULL);
        redact_echo(d->errstr, sizeof(d->errstr), conninfo);
        db_close(d);
        return -1;
    }
    return 0;
}

void
db_close(db *d)
{
    if (d->conn) PQfinish(CONN(d));
    d->conn = NULL;
    d->nprep = 0; /* statements live and die with their connection */
}

int
db_alive(const db *d)
{
    return d->conn && PQstatus(CONN(d)) == CONNECTION_OK;
}

int
db_data_error(const db *d)
{
    return d->err == DB_ERR_DATA;
}

int
db_exec(db *d, const char *sql)
{
    if (!d->conn) {
        set_err(d, "exec", NULL);
        return -1;
    }
    PGresult *res = PQexec(CONN(d), sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
    if (!ok) set_err(d, "exec", res);
    PQclear(res);
    return ok ? 0 : -1;
}

/* checked returns a query's result, or NULL with d's error when it failed. */
static db_result *
checked(db *d, PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        set_err(d, "query", res);
        PQclear(res);
        return NULL;
    }
    return (db_result *)res;
}

db_result *
db_query(db *d, const char *sql, int nparams, const char *const *params)
{
    if (!d->conn) {
        set_err(d, "query", NULL);
        return NULL;
    }
    return checked(d, PQexecParams(CONN(d), sql, nparams, NULL, params, NULL, NULL, 0));
}

static int prepare_on = 1;

void
db_prepare_off(void)
{
    prepare_on = 0;
}

/* prepared returns sql's statement number on this connection, preparing it
 * the first time; -1 when it is not to be prepared (the cache is full, or
 * prepared statements are off: run it unprepared), -2 when the server
 * refused it (d holds why). */
static int
prepared(db *d, const char *sql, int nparams)
{
    for (int i = 0; i < d->nprep; i++)
        if (d->prep[i] == sql) return i;
    if (!prepare_on || d->nprep == DB_PREP_MAX) return -1;
    char name[24];
    snprintf(name, sizeof(name), "syncq_p%d", d->nprep);
    PGresult *res = PQprepare(CONN(d), name, sql, nparams, NULL);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) set_err(d, "prepare", res);
    PQclear(res);
    if (!ok) return -2;
    d->prep[d->nprep] = sql;
    return d->nprep++;
}

db_result *
db_query_prep(db *d, const char *sql, int nparams, const char *const *params)
{
    if (!d->conn) {
        set_err(d, "query", NULL);
        return NULL;
    }
    int k = prepared(d, sql, nparams);
    if (k == -2) return NULL;
    if (k < 0) return db_query(d, sql, nparams, params);
    char name[24];
    snprintf(name, sizeof(name), "syncq_p%d", k);
    return checked(d, PQexecPrepared(CONN(d), name, nparams, params, NULL, NULL, 0));
}

int db_ntuples(const db_result *r) { return PQntuples((const PGresult *)r); }
int db_nfields(const db_result *r) { return PQnfields((const PGresult *)r); }
const char *db_fname(const db_result *r, int col) { return PQfname((const PGresult *)r, col); }

const char *
db_value(const db_result *r, int row, int col)
{
    const PGresult *res = (const PGresult *)r;
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

void
db_result_free(db_result *r)
{
    PQclear((PGresult *)r);
}

int
db_copy_begin(db *d, const char *sql)
{
    if (!d->conn) {
        set_err(d, "copy", NULL);
        return -1;
    }
    PGresult *res = PQexec(CONN(d), sql);
    int ok = PQresultStatus(res) == PGRES_COPY_IN;
    if (!ok) set_err(d, "copy", res);
    PQclear(res);
    return ok ? 0 : -1;
}

int
db_copy_put(db *d, const char *buf, size_t len)
{
    if (PQputCopyData(CONN(d), buf, (int)len) != 1) {
        set_err(d, "copy data", NULL);
        return -1;
    }
    return 0;
}

int
db_copy_end(db *d)
{
    int rc = 0;
    if (PQputCopyEnd(CONN(d), NULL) != 1) {
        set_err(d, "copy end", NULL);
        return -1;
    }
    PGresult *res;
    while ((res = PQgetResult(CONN(d))) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            set_err(d, "copy", res);
            rc = -1;
        }
        PQclear(res);
    }
    return rc;
}
