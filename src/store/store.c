/*
 * store.c: the public store interface, dispatched to the back-end the database URL names:
 * postgres:// or postgresql:// for PostgreSQL, anything else is a SQLite file path.
 */
#include <string.h>

#include "store/backend.h"

enum kith_status kith_store_open(const char *path, struct kith_store **out, struct kith_err *err)
{
    if (strncmp(path, "postgres://", 11) == 0 || strncmp(path, "postgresql://", 13) == 0)
        return kith_pgsql_open(path, out, err);
    return kith_sqlite_open(path, out, err);
}

void kith_store_set_pipelined(struct kith_store *s, bool on)
{
    s->ops->set_pipelined(s, on);
}

void kith_store_start(struct kith_store *s, uv_loop_t *loop)
{
    s->ops->start(s, loop);
}

void kith_store_submit(struct kith_store *s, kith_store_job_fn fn, kith_store_done_fn done,
                       void *arg)
{
    s->ops->submit(s, fn, done, arg, false);
}

void kith_store_submit_barrier(struct kith_store *s, kith_store_job_fn fn, kith_store_done_fn done,
                               void *arg)
{
    s->ops->submit(s, fn, done, arg, true);
}

enum kith_status kith_store_run(struct kith_store *s, kith_store_job_fn fn, void *arg)
{
    return s->ops->run(s, fn, arg);
}

size_t kith_store_pending(struct kith_store *s)
{
    return s->ops->pending(s);
}

void kith_store_close(struct kith_store *s)
{
    if (s != NULL)
        s->ops->close(s);
}

void kith_tx_purge_log_after_commit(struct kith_tx *tx)
{
    tx->ops->purge_log(tx);
}

enum kith_status kith_tx_savepoint(struct kith_tx *tx)
{
    return tx->ops->savepoint(tx);
}

enum kith_status kith_tx_release(struct kith_tx *tx)
{
    return tx->ops->release(tx);
}

enum kith_status kith_tx_rollback(struct kith_tx *tx)
{
    return tx->ops->rollback(tx);
}

enum kith_status kith_store_insert(struct kith_tx *tx, const char *table, json_t *row)
{
    return tx->ops->insert(tx, table, row);
}

enum kith_status kith_store_get(struct kith_tx *tx, const char *table, const char *id, json_t **out)
{
    return tx->ops->get(tx, table, id, false, out);
}

enum kith_status kith_store_get_locked(struct kith_tx *tx, const char *table, const char *id,
                                       json_t **out)
{
    return tx->ops->get(tx, table, id, true, out);
}

enum kith_status kith_store_lock(struct kith_tx *tx, const char *table, const char *id)
{
    return tx->ops->lock ? tx->ops->lock(tx, table, id) : tx->ops->get(tx, table, id, true, NULL);
}

enum kith_status kith_store_update(struct kith_tx *tx, const char *table, const char *id,
                                   json_t *set)
{
    return tx->ops->update(tx, table, id, set);
}

enum kith_status kith_store_query(struct kith_tx *tx, enum kith_query q, json_t *args, json_t **out)
{
    return tx->ops->query(tx, q, args, out, 0, NULL);
}

enum kith_status kith_store_query_one(struct kith_tx *tx, enum kith_query q, json_t *args,
                                      json_t **out)
{
    json_t *rows = NULL;
    enum kith_status st = tx->ops->query(tx, q, args, &rows, 1, NULL);
    if (st != KITH_OK)
        return st;
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        return KITH_E_NOT_FOUND;
    }
    *out = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return KITH_OK;
}

enum kith_status kith_store_exec(struct kith_tx *tx, enum kith_query q, json_t *args,
                                 int64_t *changes)
{
    return tx->ops->query(tx, q, args, NULL, 0, changes);
}

enum kith_status kith_store_rows_as_json(struct kith_tx *tx, enum kith_query q,
                                         const char *const *cols, size_t n, kith_store_row_fn fill,
                                         const void *rows, int64_t *changes)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        struct kith_store_value v[KITH_STORE_ROW_COLS];
        memset(v, 0, sizeof(v));
        fill(rows, i, v);
        json_t *row = json_object();
        for (size_t c = 0; c < KITH_STORE_ROW_COLS && cols[c]; c++) {
            json_t *val = v[c].is_num ? json_integer(v[c].num)
                          : v[c].text ? json_string(v[c].text)
                                      : json_null();
            if (val == NULL) { /* text that is not UTF-8: refuse the batch, never drop a value */
                json_decref(row);
                json_decref(list);
                return KITH_E_INTERNAL;
            }
            json_object_set_new(row, cols[c], val);
        }
        json_array_append_new(list, row);
    }
    json_t *args = json_pack("[o]", list);
    enum kith_status st = tx->ops->query(tx, q, args, NULL, 0, changes);
    json_decref(args);
    return st;
}

enum kith_status kith_store_exec_rows(struct kith_tx *tx, enum kith_query q,
                                      const char *const *cols, size_t n, kith_store_row_fn fill,
                                      const void *rows, int64_t *changes)
{
    if (tx->ops->exec_rows)
        return tx->ops->exec_rows(tx, q, cols, n, fill, rows, changes);
    return kith_store_rows_as_json(tx, q, cols, n, fill, rows, changes);
}

const char *kith_query_name(enum kith_query q)
{
    static const char *const names[KITH_Q_COUNT] = {
#define KITH_Q_NAME_(id, name) [KITH_Q_##id] = name,
        KITH_QUERY_LIST(KITH_Q_NAME_)
#undef KITH_Q_NAME_
    };
    return (unsigned)q < KITH_Q_COUNT ? names[q] : "?";
}
