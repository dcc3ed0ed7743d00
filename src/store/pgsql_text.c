/*
 * pgsql_text.c: statement text, parameters and values for the PostgreSQL back-end (pgsql_text.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kith/buf.h"
#include "store/pgsql_text.h"

bool kith_pgsql_refusable(const char *sql)
{
    return strncmp(sql, "INSERT INTO", 11) == 0 && strstr(sql, " VALUES (") != NULL &&
           strstr(sql, "ON CONFLICT") == NULL && strstr(sql, "SELECT") == NULL &&
           strstr(sql, "), (") == NULL && strstr(sql, "),(") == NULL;
}

char *kith_pgsql_translate(const char *sql)
{
    bool refuse = kith_pgsql_refusable(sql);
    struct kith_buf out = {0};
    int next = 1;
    bool ignore = strncmp(sql, "INSERT OR IGNORE INTO", 21) == 0;
    kith_buf_reserve(&out, strlen(sql) * 2 + 64);
    if (ignore) {
        kith_buf_str(&out, "INSERT ");
        sql += 17; /* "INTO ..." after "INSERT OR IGNORE " */
    }
    for (const char *p = sql; *p; p++) {
        if (*p == '?') {
            int num = 0;
            while (p[1] >= '0' && p[1] <= '9') {
                num = num * 10 + (p[1] - '0');
                p++;
            }
            if (num == 0)
                num = next++;
            kith_buf_printf(&out, "$%d", num);
            /* "$2 IS NULL" alone tells PostgreSQL nothing of $2's type: optional filters are
             * text. */
            if (strncmp(p + 1, " IS NULL", 8) == 0 || strncmp(p + 1, " IS NOT NULL", 12) == 0)
                kith_buf_str(&out, "::text");
            continue;
        }
        if (strncmp(p, "rowid", 5) == 0 &&
            (p == sql || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z')))) {
            kith_buf_str(&out, "seq");
            p += 4;
            continue;
        }
        kith_buf_append(&out, p, 1);
    }
    if (ignore)
        kith_buf_str(&out, " ON CONFLICT DO NOTHING");
    char *text = kith_buf_take(&out);
    if (refuse) {
        struct kith_buf with = {0};
        char *ret = strstr(text, " RETURNING ");
        size_t head = ret ? (size_t)(ret - text) : strlen(text);
        kith_buf_append(&with, text, head);
        kith_buf_str(&with, " ON CONFLICT DO NOTHING");
        kith_buf_str(&with, text + head);
        free(text);
        text = kith_buf_take(&with);
    }
    return text;
}

/* True when the word (upper case) occurs in sql in any case, not inside a longer word. */
static bool has_word(const char *sql, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = sql; *p; p++) {
        if (strncasecmp(p, word, n) != 0)
            continue;
        bool before = p > sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
        bool after = isalnum((unsigned char)p[n]) || p[n] == '_';
        if (!before && !after)
            return true;
    }
    return false;
}

bool kith_pgsql_only_reads(const char *sql)
{
    static const char *const changes[] = {"INSERT",
                                          "UPDATE",
                                          "DELETE",
                                          "MERGE",
                                          "SHARE",
                                          "NOWAIT",
                                          "LOCKED",
                                          "nextval",
                                          "setval",
                                          "pg_advisory_lock",
                                          "pg_advisory_xact_lock",
                                          "pg_try_advisory_lock",
                                          "pg_try_advisory_xact_lock",
                                          "set_config"};
    while (isspace((unsigned char)*sql))
        sql++;
    if (strncasecmp(sql, "SELECT", 6) != 0 && strncasecmp(sql, "WITH", 4) != 0)
        return false;
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        if (has_word(sql, changes[i]))
            return false;
    }
    return true;
}

#define OID_BOOL 16 /* type oids we turn into JSON numbers and booleans */
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_NUMERIC 1700

bool kith_pgsql_params(json_t *args, const char **values, char **owned)
{
    size_t n = json_array_size(args);
    if (n > KITH_PGSQL_PARAMS)
        return false;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(args, i);
        char buf[64];
        owned[i] = NULL;
        switch (json_typeof(v)) {
        case JSON_NULL:
            values[i] = NULL;
            continue;
        case JSON_STRING:
            values[i] = json_string_value(v);
            continue;
        case JSON_INTEGER:
            snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
            break;
        case JSON_REAL:
            snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
            break;
        case JSON_TRUE:
            snprintf(buf, sizeof(buf), "1");
            break;
        case JSON_FALSE:
            snprintf(buf, sizeof(buf), "0");
            break;
        default:
            owned[i] = json_dumps(v, JSON_COMPACT);
            if (owned[i] == NULL)
                abort(); /* out of memory, as strdup below */
            values[i] = owned[i];
            continue;
        }
        owned[i] = strdup(buf);
        if (owned[i] == NULL)
            abort();
        values[i] = owned[i];
    }
    return true;
}

json_t *kith_pgsql_value(const char *v, unsigned type_oid)
{
    if (v == NULL)
        return json_null();
    switch (type_oid) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
        return json_integer(strtoll(v, NULL, 10));
    case OID_NUMERIC:
        if (strchr(v, '.') == NULL)
            return json_integer(strtoll(v, NULL, 10));
        return json_real(strtod(v, NULL));
    case OID_BOOL:
        return json_integer(v[0] == 't');
    default: {
        json_t *s = json_string(v);
        return s ? s : json_null();
    }
    }
}
