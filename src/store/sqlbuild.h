/*
 * sqlbuild.h: the statements both back-ends generate for the generic row calls (insert, update),
 * written with `?` placeholders (the PostgreSQL back-end turns them into `$N` when it prepares
 * them). Table and column names come from kith's own code; anything but [a-z_] is refused.
 */
#ifndef KITH_STORE_SQLBUILD_H
#define KITH_STORE_SQLBUILD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "kith/core.h"

bool kith_sql_ident_ok(const char *s);
/* "INSERT INTO table (cols...) VALUES (?, ...)" into sql; *args (new) holds row's values. */
enum kith_status kith_sql_insert(const char *table, json_t *row, char *sql, size_t size,
                                 json_t **args);
/* "UPDATE table SET col = ?, ... WHERE id = ?" into sql; *args (new) ends with id. */
enum kith_status kith_sql_update(const char *table, const char *id, json_t *set, char *sql,
                                 size_t size, json_t **args);

#endif
