/*
 * pgsql_text.h: what the PostgreSQL back-end reads in a statement's text before it prepares it:
 * the translation of SQLite-style text to PostgreSQL's, whether an insert can be refused without
 * an error, and whether a statement can change what a savepoint would undo.
 */
#ifndef KITH_STORE_PGSQL_TEXT_H
#define KITH_STORE_PGSQL_TEXT_H

#include <jansson.h>
#include <stdbool.h>

/*
 * A one-row INSERT ... VALUES without a conflict clause of its own: on PostgreSQL it gains
 * ON CONFLICT DO NOTHING, so a unique refusal is "no row inserted" (KITH_E_CONSTRAINT) and
 * leaves the transaction usable, with no savepoint around it.
 */
bool kith_pgsql_refusable(const char *sql);
/* `?` and `?N` become `$N`; the word rowid becomes seq; INSERT OR IGNORE and refusable inserts
 * gain ON CONFLICT DO NOTHING (before any RETURNING). The text is the caller's to free. */
char *kith_pgsql_translate(const char *sql);
/*
 * True for a statement that only reads: a SELECT (or a WITH of SELECTs) that writes nothing,
 * locks no row and takes no advisory lock. Rolling back to a savepoint taken before it leaves
 * the transaction as it was after it, so savepoints may be taken after it and stand for levels
 * opened before it (pgsql.c). Anything else (writes, row locks, SET, sequences) is false.
 */
bool kith_pgsql_only_reads(const char *sql);

#define KITH_PGSQL_PARAMS 64 /* parameters of a statement at most */
/*
 * A statement's JSON arguments as libpq's text parameters: values[i] is NULL for null, borrows a
 * string's own text, else points to owned[i] (the caller frees every owned[i], NULL or not).
 * False, with nothing owned, when args has more than KITH_PGSQL_PARAMS entries.
 */
bool kith_pgsql_params(json_t *args, const char **values, char **owned);
/* A result value as JSON by its column's type oid: integers, numerics and booleans as numbers,
 * the rest as strings; NULL (SQL null) as null. */
json_t *kith_pgsql_value(const char *v, unsigned type_oid);

#endif
