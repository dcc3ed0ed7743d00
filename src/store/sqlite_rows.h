/*
 * sqlite_rows.h: the SQLite back-end's batch inserts (sqlite_rows.c), and the few pieces of
 * sqlite.c they use. Store thread only, inside a job's transaction.
 */
#ifndef KITH_STORE_SQLITE_ROWS_H
#define KITH_STORE_SQLITE_ROWS_H

#include <sqlite3.h>

#include "kith/store.h"

/* sqlite.c: the statement cached under key (prepared from sql the first time), reset, with the
 * job's savepoint made real; a SQLite result code as a status. */
enum kith_status kith_sq_stmt(struct kith_tx *tx, const char *key, const char *sql,
                              sqlite3_stmt **out);
enum kith_status kith_sq_status(struct kith_tx *tx, int rc, const char *what);

/* kith_store_exec_rows */
enum kith_status kith_sq_exec_rows(struct kith_tx *tx, enum kith_query q, const char *const *cols,
                                   size_t n, kith_store_row_fn fill, const void *rows,
                                   int64_t *changes);

#endif
