/*
 * sqlite_rows.c: the SQLite back-end's batch inserts (the click batch, kith_store_exec_rows). The
 * shared SQL of such a query hands an array of row objects to json_each as text, which costs a
 * JSON text, its parse and a json_extract per column. Here no JSON is made at all: the rows are
 * bound straight to a prepared INSERT in the job's transaction (same rows, same OR IGNORE), each
 * value where it lies, ROWS_PER_STMT rows to one multi-row INSERT while that many remain (a
 * statement's start and end, its cursors on the table and each index and its statement journal,
 * cost about as much as a row's insert), the rest one row at a time. It is not for deciding what a
 * batch holds: the engine does.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "store/backend.h"
#include "store/sqlite_rows.h"

#define ROWS_PER_STMT 32
/*
 * A long batch gives up its core every this many statements (256 rows, about half a millisecond):
 * the click batch is background work, and on a machine as busy as it has cores, the loop thread
 * (and the load) waited for the writer's whole batch, several milliseconds, at the tail of every
 * redirect's latency. sched_yield lets whatever is waiting run first and then goes on; the
 * transaction stays open meanwhile, and nothing else writes through this connection.
 */
#define STMTS_PER_YIELD 8

static const struct {
    enum kith_query q;
    const char *sql; /* one row; the multi-row statement repeats what follows VALUES */
    const char *cols[KITH_STORE_ROW_COLS];
} row_inserts[] = {
    {KITH_Q_CLICKS_INSERT_MANY,
     "INSERT OR IGNORE INTO clicks (id, program, participant, code, created_at, channel,"
     " referrer_host, ip_hash, ua_hash, resource) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
     {"id", "program", "participant", "code", "created_at", "channel", "referrer_host", "ip_hash",
      "ua_hash", "resource", NULL}},
};

static enum kith_status step_row(struct kith_tx *tx, sqlite3_stmt *st, int64_t *n)
{
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE)
        return kith_sq_status(tx, r, "step");
    *n += sqlite3_changes64(sqlite3_db_handle(st));
    sqlite3_reset(st);
    return KITH_OK;
}

/* The statement of ROWS_PER_STMT rows, its text made once (the cache keeps it under "*" and
 * the one-row text: no SQL starts with "*"). */
static enum kith_status many_rows_stmt(struct kith_tx *tx, size_t which, sqlite3_stmt **st)
{
    const char *one = row_inserts[which].sql;
    const char *values = strstr(one, "VALUES ");
    char key[1024], sql[4096];
    if (values == NULL || snprintf(key, sizeof(key), "*%s", one) >= (int)sizeof(key))
        return KITH_E_INTERNAL;
    const char *tuple = values + strlen("VALUES ");
    size_t len = (size_t)(tuple - one), tl = strlen(tuple);
    if (len + ROWS_PER_STMT * (tl + 1) >= sizeof(sql))
        return KITH_E_INTERNAL;
    memcpy(sql, one, len);
    for (int r = 0; r < ROWS_PER_STMT; r++) {
        if (r > 0)
            sql[len++] = ',';
        memcpy(sql + len, tuple, tl);
        len += tl;
    }
    sql[len] = '\0';
    return kith_sq_stmt(tx, key, sql, st);
}

static enum kith_status bind_rows(struct kith_tx *tx, sqlite3_stmt *st, size_t ncols,
                                  kith_store_row_fn fill, const void *rows, size_t from, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        struct kith_store_value v[KITH_STORE_ROW_COLS];
        memset(v, 0, ncols * sizeof(v[0]));
        fill(rows, from + r, v);
        for (size_t c = 0; c < ncols; c++) {
            int i = (int)(r * ncols + c + 1);
            int rc = v[c].is_num ? sqlite3_bind_int64(st, i, v[c].num)
                     : v[c].text ? sqlite3_bind_text(st, i, v[c].text, -1, SQLITE_STATIC)
                                 : sqlite3_bind_null(st, i);
            if (rc != SQLITE_OK)
                return kith_sq_status(tx, rc, "bind");
        }
    }
    return KITH_OK;
}

/* Rows of n at a time through st (then reset): the rows from *i on while n of them remain. */
static enum kith_status run_rows(struct kith_tx *tx, sqlite3_stmt *st, size_t ncols,
                                 kith_store_row_fn fill, const void *rows, size_t total, size_t per,
                                 size_t *i, int64_t *done)
{
    enum kith_status rc = KITH_OK;
    for (; *i + per <= total && rc == KITH_OK; *i += per) {
        if ((rc = bind_rows(tx, st, ncols, fill, rows, *i, per)) == KITH_OK)
            rc = step_row(tx, st, done);
        if ((*i / per) % STMTS_PER_YIELD == STMTS_PER_YIELD - 1)
            sched_yield();
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

enum kith_status kith_sq_exec_rows(struct kith_tx *tx, enum kith_query q, const char *const *cols,
                                   size_t n, kith_store_row_fn fill, const void *rows,
                                   int64_t *changes)
{
    size_t which = 0, ncols = 0;
    while (which < KITH_ARRAY_LEN(row_inserts) && row_inserts[which].q != q)
        which++;
    if (which < KITH_ARRAY_LEN(row_inserts)) {
        const char *const *mine = row_inserts[which].cols;
        while (ncols < KITH_STORE_ROW_COLS && cols[ncols] && mine[ncols] &&
               strcmp(cols[ncols], mine[ncols]) == 0)
            ncols++;
        if (ncols == KITH_STORE_ROW_COLS || cols[ncols] || mine[ncols])
            which = KITH_ARRAY_LEN(row_inserts); /* other columns: the portable way */
    }
    if (which == KITH_ARRAY_LEN(row_inserts))
        return kith_store_rows_as_json(tx, q, cols, n, fill, rows, changes);
    enum kith_status rc = KITH_OK;
    int64_t done = 0;
    size_t i = 0;
    sqlite3_stmt *st = NULL;
    if (n >= ROWS_PER_STMT && (rc = many_rows_stmt(tx, which, &st)) == KITH_OK)
        rc = run_rows(tx, st, ncols, fill, rows, n, ROWS_PER_STMT, &i, &done);
    if (rc == KITH_OK && i < n &&
        (rc = kith_sq_stmt(tx, row_inserts[which].sql, row_inserts[which].sql, &st)) == KITH_OK)
        rc = run_rows(tx, st, ncols, fill, rows, n, 1, &i, &done);
    if (rc == KITH_OK && changes)
        *changes = done;
    return rc;
}
