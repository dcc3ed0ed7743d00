/*
 * sqlbuild.c: statement text for the generic row calls, shared by the SQLite and PostgreSQL
 * back-ends. Bounded: a statement that would not fit is refused, never truncated.
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlbuild.h"

bool kith_sql_ident_ok(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
            return false;
    }
    return true;
}

/* Appends text to sql at *len; false when it would not fit. */
static bool put(char *sql, size_t size, size_t *len, const char *a, const char *b)
{
    int n = snprintf(sql + *len, size - *len, "%s%s", a, b);
    if (n < 0 || (size_t)n >= size - *len)
        return false;
    *len += (size_t)n;
    return true;
}

enum kith_status kith_sql_insert(const char *table, json_t *row, char *sql, size_t size,
                                 json_t **args)
{
    size_t len = 0, n = 0;
    const char *key;
    json_t *v;
    *args = json_array();
    if (!kith_sql_ident_ok(table) || !put(sql, size, &len, "INSERT INTO ", table) ||
        !put(sql, size, &len, " (", ""))
        goto fail;
    json_object_foreach(row, key, v)
    {
        if (!kith_sql_ident_ok(key) || !put(sql, size, &len, n ? ", " : "", key))
            goto fail;
        json_array_append(*args, v);
        n++;
    }
    if (!put(sql, size, &len, ") VALUES (", ""))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (!put(sql, size, &len, i ? ", " : "", "?"))
            goto fail;
    }
    if (!put(sql, size, &len, ")", ""))
        goto fail;
    return KITH_OK;
fail:
    json_decref(*args);
    *args = NULL;
    return KITH_E_INTERNAL;
}

enum kith_status kith_sql_update(const char *table, const char *id, json_t *set, char *sql,
                                 size_t size, json_t **args)
{
    size_t len = 0, n = 0;
    const char *key;
    json_t *v;
    *args = json_array();
    if (!kith_sql_ident_ok(table) || json_object_size(set) == 0 ||
        !put(sql, size, &len, "UPDATE ", table) || !put(sql, size, &len, " SET ", ""))
        goto fail;
    json_object_foreach(set, key, v)
    {
        if (!kith_sql_ident_ok(key) || !put(sql, size, &len, n ? ", " : "", key) ||
            !put(sql, size, &len, " = ?", ""))
            goto fail;
        json_array_append(*args, v);
        n++;
    }
    if (!put(sql, size, &len, " WHERE id = ?", ""))
        goto fail;
    json_array_append_new(*args, json_string(id));
    return KITH_OK;
fail:
    json_decref(*args);
    *args = NULL;
    return KITH_E_INTERNAL;
}
