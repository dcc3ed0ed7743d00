/*
 * store.h: kith's one storage interface. The engine never sees SQL dialects or drivers: it
 * submits jobs, and a job runs inside a transaction on the store's own thread, calling the
 * functions below on the transaction handle. Rows travel as jansson objects whose keys are column
 * names (integers, strings or null). The SQLite back-end (src/store/sqlite.c) runs one writer
 * thread that groups concurrent jobs into one commit (each job inside its own savepoint), so a
 * batch of signups costs one fsync; a PostgreSQL back-end can implement the same calls with a
 * connection pool and one transaction per job.
 *
 * Threading: kith_store_submit() and kith_store_close() are called from the loop thread; job
 * functions run on the store thread; done callbacks run on the loop thread, in submission order.
 */
#ifndef KITH_STORE_H
#define KITH_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "kith/core.h"
#include "kith/queries.h"

struct kith_store;
struct kith_tx;

/* A job: returns KITH_OK (its writes stay) or an error (its savepoint is rolled back). */
typedef enum kith_status (*kith_store_job_fn)(struct kith_tx *tx, void *arg);
/*
 * Called on the loop thread when the job's transaction is over: st is the job's own status, or
 * KITH_E_UNAVAILABLE when the commit failed (then nothing of the job was kept).
 */
typedef void (*kith_store_done_fn)(void *arg, enum kith_status st);

/*
 * Opens (creating and migrating) the database at path. Until kith_store_start() only
 * kith_store_run() may be used (start-up work, command-line tools).
 */
enum kith_status kith_store_open(const char *path, struct kith_store **out, struct kith_err *err);
/*
 * Before start: overlap each batch's fsync with the next batch's work (synchronous=NORMAL plus
 * an explicit fdatasync of the log before any answer). Durability is that of synchronous=FULL:
 * nothing is acknowledged before it is on disk. Off by default.
 */
void kith_store_set_pipelined(struct kith_store *s, bool on);
/* Starts the store thread, which posts completions to loop. */
void kith_store_start(struct kith_store *s, uv_loop_t *loop);
/* Queues a job. Never fails: the job runs, or done gets KITH_E_UNAVAILABLE at shutdown. */
void kith_store_submit(struct kith_store *s, kith_store_job_fn fn, kith_store_done_fn done,
                       void *arg);
/*
 * Queues a job that commits after every job submitted before it and before any job submitted
 * after it starts (click batches: a signup sent after a click's redirect must see the click).
 * With one writer (SQLite) that is every job; with a pool (PostgreSQL) the pool waits for it.
 */
void kith_store_submit_barrier(struct kith_store *s, kith_store_job_fn fn, kith_store_done_fn done,
                               void *arg);
/* Runs one job synchronously in its own transaction on the calling thread (start-up, CLI). */
enum kith_status kith_store_run(struct kith_store *s, kith_store_job_fn fn, void *arg);
/* Jobs queued and not yet finished. */
size_t kith_store_pending(struct kith_store *s);
/*
 * Finishes queued jobs (their done callbacks run here, on the calling loop thread), stops the
 * thread and closes the database. A started store is freed when the loop has closed its handle,
 * so call this on the loop thread and let uv_run return afterwards. NULL is a no-op.
 */
void kith_store_close(struct kith_store *s);

/*
 * Writes a consistent copy of the live SQLite database at db_path to out_path (which must not
 * exist), checked with PRAGMA integrity_check and moved into place only when complete. Safe while
 * a server writes to the database. PostgreSQL URLs are refused (use pg_dump).
 */
enum kith_status kith_store_backup(const char *db_path, const char *out_path, struct kith_err *err);

/* Nested savepoints inside a job, for a step that may fail without undoing the whole job. */
enum kith_status kith_tx_savepoint(struct kith_tx *tx);
enum kith_status kith_tx_release(struct kith_tx *tx);
enum kith_status kith_tx_rollback(struct kith_tx *tx);

/*
 * Asks for the write-ahead log to be checkpointed and truncated right after this job's commit,
 * so data the job removed leaves no copy in the log (erasure). Best effort: a failure is logged.
 */
void kith_tx_purge_log_after_commit(struct kith_tx *tx);

/*
 * Generic row access by primary key `id` (or `key` for meta). table and column names come from
 * kith's own code, never from input. Insert returns KITH_E_CONSTRAINT when a unique constraint
 * refused the row. Get returns KITH_E_NOT_FOUND when absent; *out is a new reference.
 */
enum kith_status kith_store_insert(struct kith_tx *tx, const char *table, json_t *row);
enum kith_status kith_store_get(struct kith_tx *tx, const char *table, const char *id,
                                json_t **out);
/* The same, locking the row until the transaction ends (SELECT ... FOR UPDATE where the back-end
 * has row locks): for read-then-write moves that another instance could race. */
enum kith_status kith_store_get_locked(struct kith_tx *tx, const char *table, const char *id,
                                       json_t **out);
/* Only the lock, for a caller that needs no column of the row: PostgreSQL locks it like
 * kith_store_get_locked (KITH_E_NOT_FOUND when it does not exist); SQLite, whose one writer runs
 * every transaction after the other, has nothing to lock and reads nothing. */
enum kith_status kith_store_lock(struct kith_tx *tx, const char *table, const char *id);
/* Sets the columns in `set` on row id; KITH_E_NOT_FOUND when no row changed. */
enum kith_status kith_store_update(struct kith_tx *tx, const char *table, const char *id,
                                   json_t *set);

/*
 * Named queries: each is a fixed statement of the back-end, addressed by its compile-time id
 * (include/kith/queries.h), with positional
 * arguments given as a JSON array. kith_store_query returns every row (a new JSON array);
 * kith_store_query_one the first row (KITH_E_NOT_FOUND when none); kith_store_exec runs a
 * statement and returns the number of rows changed in *changes (may be NULL).
 * The ids are listed in include/kith/queries.h, their SQL and arguments in src/store/queries.h.
 */
enum kith_status kith_store_query(struct kith_tx *tx, enum kith_query q, json_t *args,
                                  json_t **out);
enum kith_status kith_store_query_one(struct kith_tx *tx, enum kith_query q, json_t *args,
                                      json_t **out);
enum kith_status kith_store_exec(struct kith_tx *tx, enum kith_query q, json_t *args,
                                 int64_t *changes);

/*
 * Many rows of one insert without a JSON object per row (the click batch: thousands of rows a
 * second). q is a batch insert whose one argument is an array of row objects with the columns
 * cols (NULL-terminated, at most KITH_STORE_ROW_COLS); fill writes row i's values in that order
 * (text NULL for SQL NULL, or is_num and num). The SQLite back-end binds each row straight
 * into a prepared one-row insert; otherwise the rows are packed as JSON and q runs as
 * kith_store_exec would run it. *changes (may be NULL) is the number of rows inserted.
 */
#define KITH_STORE_ROW_COLS 12
struct kith_store_value {
    const char *text;
    int64_t num;
    bool is_num;
};
typedef void (*kith_store_row_fn)(const void *rows, size_t i, struct kith_store_value *out);
enum kith_status kith_store_exec_rows(struct kith_tx *tx, enum kith_query q,
                                      const char *const *cols, size_t n, kith_store_row_fn fill,
                                      const void *rows, int64_t *changes);

#endif
