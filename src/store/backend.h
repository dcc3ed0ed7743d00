/*
 * backend.h: what a storage back-end provides behind include/kith/store.h. Each back-end's
 * store and transaction structs begin with struct kith_store / struct kith_tx, whose only member
 * is this table, and src/store/store.c dispatches every public call through it.
 */
#ifndef KITH_STORE_BACKEND_H
#define KITH_STORE_BACKEND_H

#include "kith/store.h"

struct kith_store_ops {
    void (*set_pipelined)(struct kith_store *s, bool on);
    void (*start)(struct kith_store *s, uv_loop_t *loop);
    void (*submit)(struct kith_store *s, kith_store_job_fn fn, kith_store_done_fn done, void *arg,
                   bool barrier);
    enum kith_status (*run)(struct kith_store *s, kith_store_job_fn fn, void *arg);
    size_t (*pending)(struct kith_store *s);
    void (*close)(struct kith_store *s);
    void (*purge_log)(struct kith_tx *tx);
    enum kith_status (*savepoint)(struct kith_tx *tx);
    enum kith_status (*release)(struct kith_tx *tx);
    enum kith_status (*rollback)(struct kith_tx *tx);
    enum kith_status (*insert)(struct kith_tx *tx, const char *table, json_t *row);
    enum kith_status (*get)(struct kith_tx *tx, const char *table, const char *id, bool lock,
                            json_t **out);
    /* NULL: kith_store_lock calls get(lock = true, out = NULL), which locks the row without
     * reading its columns (a get with out NULL only says whether the row is there). */
    enum kith_status (*lock)(struct kith_tx *tx, const char *table, const char *id);
    enum kith_status (*update)(struct kith_tx *tx, const char *table, const char *id, json_t *set);
    enum kith_status (*query)(struct kith_tx *tx, enum kith_query q, json_t *args, json_t **out,
                              size_t max_rows, int64_t *changes);
    /* NULL: kith_store_exec_rows packs the rows as JSON (kith_store_rows_as_json) */
    enum kith_status (*exec_rows)(struct kith_tx *tx, enum kith_query q, const char *const *cols,
                                  size_t n, kith_store_row_fn fill, const void *rows,
                                  int64_t *changes);
};

struct kith_store {
    const struct kith_store_ops *ops;
};

struct kith_tx {
    const struct kith_store_ops *ops;
};

/* kith_store_exec_rows the portable way: the rows as an array of JSON objects, run with q. */
enum kith_status kith_store_rows_as_json(struct kith_tx *tx, enum kith_query q,
                                         const char *const *cols, size_t n, kith_store_row_fn fill,
                                         const void *rows, int64_t *changes);

enum kith_status kith_sqlite_open(const char *path, struct kith_store **out, struct kith_err *err);
enum kith_status kith_pgsql_open(const char *url, struct kith_store **out, struct kith_err *err);

#endif
