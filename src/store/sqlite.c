/*
 * sqlite.c: the SQLite back-end of the store interface. One connection, owned by one store
 * thread; jobs queue up while a transaction commits and the next batch runs in one transaction
 * (group commit), each job inside its own savepoint, so an error in one job never undoes another
 * and N concurrent writes cost one fsync. WAL with synchronous=FULL: a job's done callback runs
 * only after its COMMIT returned, so an acknowledged write survives kill -9 and power loss.
 * It is not the place for business rules: it runs what the engine asks, by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kith/log.h"
#include "kith/store.h"
#include "store/backend.h"
#include "store/jobs.h"
#include "store/queries.h"
#include "store/sqlbuild.h"
#include "store/sqlite_rows.h"
#include "store/sqlite_schema.h"

#define STMT_CACHE 512

static const struct kith_store_ops sq_ops;
#define BATCH_MAX 2048
#define LOOKASIDE_SLOT 1200  /* bytes, SQLite's default */
#define LOOKASIDE_SLOTS 1000 /* SQLite's default is 100 */

struct stmt_slot {
    char *sql;
    sqlite3_stmt *stmt;
};

/*
 * Savepoints are lazy. A level the engine opens costs nothing until a statement that writes
 * runs inside it; then one real SAVEPOINT stands for every level opened since the last write
 * (they all start from the same state, since only reads ran between them). Releasing or
 * rolling back a level that never wrote is free, and a level that shares its real savepoint
 * with the level below rolls back to it without releasing it. A signup opens three levels
 * (the job's, the call's, the new participant's) and pays for one.
 *
 * Levels opened while the transaction has written nothing yet (the first job of a batch) are
 * bare: they need no savepoint at all, since undoing one is undoing the whole transaction,
 * which then begins again. So the batch's first job neither copies the pages it changes into
 * a savepoint's journal nor runs SAVEPOINT and RELEASE.
 */
#define SP_DEPTH_MAX 64

struct sq_tx {
    struct kith_tx base; /* first: the engine holds a struct kith_tx * */
    struct sq_store *s;
    int depth;                   /* levels open */
    int real;                    /* real savepoints open: sp1 .. sp<real> */
    int pending;                 /* the lowest level without a real savepoint, 0 if none */
    int bare;                    /* levels 1 .. bare were opened before any write */
    int owner[SP_DEPTH_MAX + 1]; /* level -> its real savepoint */
    bool owns[SP_DEPTH_MAX + 1]; /* the level created that real savepoint */
};

struct sq_store {
    struct kith_store base; /* first: the engine holds a struct kith_store * */
    sqlite3 *db;
    uv_thread_t thread;
    bool started;
    struct kith_jobs q;
    bool purge_log;
    struct stmt_slot cache[STMT_CACHE];    /* generated row statements, by SQL text */
    sqlite3_stmt *named[KITH_Q_COUNT];     /* named queries, by id: no lookup at run time */
    sqlite3_stmt *sp[3][SP_DEPTH_MAX + 1]; /* SAVEPOINT, RELEASE, ROLLBACK TO, by depth */
    sqlite3_stmt *txs[3];                  /* BEGIN IMMEDIATE, COMMIT, ROLLBACK */
    bool dirty;                            /* the open transaction has run a write */
    bool clean_gap; /* a bare undo could not begin again, and nothing of the batch is lost */
    /*
     * Pipelined durability (kith_store_set_pipelined): commits run with synchronous=NORMAL and a
     * second thread fdatasync()s the log before any job of the batch is answered, so the next
     * batch executes while the previous one's fsync is in flight. The guarantee is the same as
     * synchronous=FULL: nothing is acknowledged before its log frames are on disk (a checkpoint
     * syncs the log before copying it, so frames it moved on are durable as well).
     */
    bool pipelined;
    int wal_fd;
    uv_thread_t sync_thread;
    uv_cond_t sync_cv;
    struct kith_job *sync_head, *sync_tail;
    bool sync_started, sync_stopping;
};

static enum kith_status map_rc(sqlite3 *db, int rc, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return KITH_OK;
    case SQLITE_CONSTRAINT:
        return KITH_E_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
        kith_log_warn("store", "msg=\"%s failed\" rc=%d error=\"%s\"", what, rc,
                      sqlite3_errmsg(db));
        return KITH_E_UNAVAILABLE;
    default:
        kith_log_error("store", "msg=\"%s failed\" rc=%d error=\"%s\"", what, rc,
                       sqlite3_errmsg(db));
        return KITH_E_INTERNAL;
    }
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static enum kith_status materialize(struct sq_tx *tx);

/* The statement cached under key (SQL text, or an insert's shape), reset; KITH_E_NOT_FOUND when
 * there is none. */
static enum kith_status cache_find(struct sq_store *s, const char *key, sqlite3_stmt **out)
{
    uint32_t h = hash_str(key);
    for (uint32_t i = 0; i < STMT_CACHE; i++) {
        struct stmt_slot *slot = &s->cache[(h + i) % STMT_CACHE];
        if (slot->sql == NULL)
            return KITH_E_NOT_FOUND;
        if (strcmp(slot->sql, key) == 0) {
            *out = slot->stmt;
            sqlite3_reset(*out);
            sqlite3_clear_bindings(*out);
            return KITH_OK;
        }
    }
    return KITH_E_NOT_FOUND;
}

/* Prepares sql and keeps it under key. */
static enum kith_status cache_add(struct sq_store *s, const char *key, const char *sql,
                                  sqlite3_stmt **out)
{
    uint32_t h = hash_str(key);
    for (uint32_t i = 0; i < STMT_CACHE; i++) {
        struct stmt_slot *slot = &s->cache[(h + i) % STMT_CACHE];
        if (slot->sql != NULL)
            continue;
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
        if (rc != SQLITE_OK)
            return map_rc(s->db, rc, "prepare");
        slot->sql = strdup(key);
        if (slot->sql == NULL)
            abort();
        slot->stmt = *out;
        return KITH_OK;
    }
    /* A full cache means a bug (unbounded distinct SQL); prepare without caching would leak. */
    kith_log_error("store", "msg=\"statement cache full\"");
    return KITH_E_INTERNAL;
}

/* Prepared statements: named queries by id (q), generated row statements (q == KITH_Q_COUNT)
 * by SQL text. */
static enum kith_status prepare(struct sq_store *s, enum kith_query q, const char *sql,
                                sqlite3_stmt **out)
{
    if (q < KITH_Q_COUNT) {
        if (s->named[q] == NULL) {
            int rc =
                sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->named[q], NULL);
            if (rc != SQLITE_OK)
                return map_rc(s->db, rc, "prepare");
        }
        *out = s->named[q];
        return KITH_OK;
    }
    enum kith_status st = cache_find(s, sql, out);
    if (st == KITH_E_NOT_FOUND)
        st = cache_add(s, sql, sql, out);
    return st;
}

static enum kith_status bind_value(struct sq_store *s, sqlite3_stmt *st, int i, json_t *v)
{
    int rc;
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        rc = sqlite3_bind_int64(st, i, json_integer_value(v));
        break;
    case JSON_REAL:
        rc = sqlite3_bind_double(st, i, json_real_value(v));
        break;
    case JSON_STRING:
        /* Not copied: every caller resets the statement and clears its bindings before the
         * value it bound is freed. */
        rc = sqlite3_bind_text(st, i, json_string_value(v), (int)json_string_length(v),
                               SQLITE_STATIC);
        break;
    case JSON_TRUE:
        rc = sqlite3_bind_int(st, i, 1);
        break;
    case JSON_FALSE:
        rc = sqlite3_bind_int(st, i, 0);
        break;
    case JSON_NULL:
        rc = sqlite3_bind_null(st, i);
        break;
    default: {
        /* Objects and arrays are stored as their JSON text. */
        char *text = json_dumps(v, JSON_COMPACT);
        if (text == NULL)
            abort();
        rc = sqlite3_bind_text(st, i, text, -1, free);
        break;
    }
    }
    return map_rc(s->db, rc, "bind");
}

static json_t *row_to_json(sqlite3_stmt *st)
{
    json_t *row = json_object();
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        json_t *v;
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            v = json_integer(sqlite3_column_int64(st, i));
            break;
        case SQLITE_FLOAT:
            v = json_real(sqlite3_column_double(st, i));
            break;
        case SQLITE_NULL:
            v = json_null();
            break;
        default:
            v = json_stringn((const char *)sqlite3_column_text(st, i),
                             (size_t)sqlite3_column_bytes(st, i));
            if (v == NULL) /* not UTF-8: never written by kith, but never crash on it */
                v = json_null();
            break;
        }
        json_object_set_new(row, name, v);
    }
    return row;
}

/* Runs sql with args; collects rows into *rows when rows is not NULL (max_rows 0 = all). */
static enum kith_status run_sql(struct sq_tx *tx, enum kith_query q, const char *sql, json_t *args,
                                json_t **rows, size_t max_rows, int64_t *changes)
{
    struct sq_store *s = tx->s;
    sqlite3_stmt *st = NULL;
    enum kith_status rc = prepare(s, q, sql, &st);
    if (rc != KITH_OK)
        return rc;
    size_t i;
    json_t *v;
    json_array_foreach(args, i, v)
    {
        if ((rc = bind_value(s, st, (int)i + 1, v)) != KITH_OK)
            goto out;
    }
    if (!sqlite3_stmt_readonly(st) && (rc = materialize(tx)) != KITH_OK)
        goto out;
    json_t *acc = rows ? json_array() : NULL;
    for (;;) {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            if (acc && (max_rows == 0 || json_array_size(acc) < max_rows))
                json_array_append_new(acc, row_to_json(st));
            continue;
        }
        if (r != SQLITE_DONE) {
            rc = map_rc(s->db, r, "step");
            json_decref(acc);
            goto out;
        }
        break;
    }
    if (changes)
        *changes = sqlite3_changes64(s->db);
    if (rows)
        *rows = acc;
out:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* For sqlite_rows.c: a statement by key (prepared from sql the first time), reset, with the
 * job's savepoint made real; a SQLite result code as a status; a JSON value bound. */
enum kith_status kith_sq_stmt(struct kith_tx *t, const char *key, const char *sql,
                              sqlite3_stmt **out)
{
    struct sq_tx *tx = (struct sq_tx *)t;
    enum kith_status rc = cache_find(tx->s, key, out);
    if (rc == KITH_E_NOT_FOUND)
        rc = cache_add(tx->s, key, sql, out);
    if (rc == KITH_OK)
        rc = materialize(tx);
    return rc;
}

enum kith_status kith_sq_status(struct kith_tx *t, int rc, const char *what)
{
    return map_rc(((struct sq_tx *)t)->s->db, rc, what);
}

static enum kith_status sq_query(struct kith_tx *t, enum kith_query q, json_t *args, json_t **out,
                                 size_t max_rows, int64_t *changes)
{
    struct sq_tx *tx = (struct sq_tx *)t;
    if ((unsigned)q >= KITH_Q_COUNT || kith_sqlite_sql[q] == NULL)
        return KITH_E_INTERNAL;
    return run_sql(tx, q, kith_sqlite_sql[q], args, out, max_rows, changes);
}

/*
 * Generic inserts (kith_store_insert): the statement is found by a key made of the table and
 * the row's column names in order, without formatting any SQL; only a new shape builds its
 * text (kith_sql_insert, which also checks the names) and prepares it. Values are bound straight
 * from the row, in the order its columns were named.
 */
static enum kith_status sq_insert(struct kith_tx *t, const char *table, json_t *row)
{
    struct sq_tx *tx = (struct sq_tx *)t;
    struct sq_store *s = tx->s;
    char key[2048];
    size_t len = 0, tl = strlen(table);
    const char *col;
    json_t *v;
    if (tl + 2 > sizeof(key))
        return KITH_E_INTERNAL;
    key[len++] = '+'; /* no SQL text starts with it: keys and SQL share the cache */
    memcpy(key + len, table, tl);
    len += tl;
    json_object_foreach(row, col, v)
    {
        size_t cl = strlen(col);
        if (len + cl + 2 > sizeof(key))
            return KITH_E_INTERNAL;
        key[len++] = ',';
        memcpy(key + len, col, cl);
        len += cl;
    }
    key[len] = '\0';
    sqlite3_stmt *st = NULL;
    enum kith_status rc = cache_find(s, key, &st);
    if (rc == KITH_E_NOT_FOUND) {
        char sql[2048];
        json_t *args = NULL;
        rc = kith_sql_insert(table, row, sql, sizeof(sql), &args);
        json_decref(args);
        if (rc == KITH_OK)
            rc = cache_add(s, key, sql, &st);
    }
    if (rc != KITH_OK)
        return rc;
    int i = 0;
    json_object_foreach(row, col, v)
    {
        if ((rc = bind_value(s, st, ++i, v)) != KITH_OK)
            goto out;
    }
    if ((rc = materialize(tx)) != KITH_OK)
        goto out;
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE)
        rc = map_rc(s->db, r, "step");
out:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static enum kith_status sq_get(struct kith_tx *t, const char *table, const char *id, bool lock,
                               json_t **out)
{
    struct sq_tx *tx = (struct sq_tx *)t;
    (void)lock;
    char sql[128];
    json_t *rows = NULL;
    if (!kith_sql_ident_ok(table))
        return KITH_E_INTERNAL;
    snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE id = ?", table);
    json_t *args = json_pack("[s]", id);
    enum kith_status st = run_sql(tx, KITH_Q_COUNT, sql, args, &rows, 1, NULL);
    json_decref(args);
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

/* One writer runs the transactions one after the other: a row lock would add nothing. */
static enum kith_status sq_lock(struct kith_tx *t, const char *table, const char *id)
{
    (void)t;
    (void)table;
    (void)id;
    return KITH_OK;
}

static enum kith_status sq_update(struct kith_tx *t, const char *table, const char *id, json_t *set)
{
    struct sq_tx *tx = (struct sq_tx *)t;
    char sql[2048];
    json_t *args = NULL;
    int64_t changes = 0;
    enum kith_status st = kith_sql_update(table, id, set, sql, sizeof(sql), &args);
    if (st == KITH_OK)
        st = run_sql(tx, KITH_Q_COUNT, sql, args, NULL, 0, &changes);
    if (st == KITH_OK && changes == 0)
        st = KITH_E_NOT_FOUND;
    json_decref(args);
    return st;
}

static enum kith_status exec_plain(struct sq_store *s, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        kith_log_error("store", "msg=\"exec failed\" error=\"%s\"", msg ? msg : "?");
        sqlite3_free(msg);
        return map_rc(s->db, rc, "exec");
    }
    return KITH_OK;
}

/* A batch's BEGIN IMMEDIATE, COMMIT or ROLLBACK, prepared once (sqlite3_exec parses each). */
enum tx_verb { TX_BEGIN, TX_COMMIT, TX_ROLLBACK };

/* Runs a command without rows through *st, preparing sql into it the first time. */
static enum kith_status command(struct sq_store *s, sqlite3_stmt **st, const char *sql,
                                const char *what)
{
    if (*st == NULL) {
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
        if (rc != SQLITE_OK)
            return map_rc(s->db, rc, "prepare");
    }
    int r = sqlite3_step(*st);
    sqlite3_reset(*st);
    return r == SQLITE_DONE ? KITH_OK : map_rc(s->db, r, what);
}

static enum kith_status tx_cmd(struct sq_store *s, enum tx_verb verb)
{
    static const char *const sql[] = {"BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};
    return command(s, &s->txs[verb], sql[verb], sql[verb]);
}

static enum kith_status begin(struct sq_store *s)
{
    s->dirty = false;
    return tx_cmd(s, TX_BEGIN);
}

enum sp_verb { SP_BEGIN, SP_RELEASE, SP_ROLLBACK };

static enum kith_status sp_cmd(struct sq_tx *tx, enum sp_verb verb, int n)
{
    static const char *const verbs[] = {"SAVEPOINT", "RELEASE", "ROLLBACK TO"};
    sqlite3_stmt **st = &tx->s->sp[verb][n];
    char sql[64] = "";
    if (*st == NULL) /* its text is needed once */
        snprintf(sql, sizeof(sql), "%s sp%d", verbs[verb], n);
    return command(tx->s, st, sql, verbs[verb]);
}

/* Before a statement that writes: one real savepoint for the levels opened since the last. */
static enum kith_status materialize(struct sq_tx *tx)
{
    /* Never a write outside the batch's transaction (one that could not begin again). */
    if (sqlite3_get_autocommit(tx->s->db))
        return KITH_E_UNAVAILABLE;
    tx->s->dirty = true;
    if (tx->pending == 0)
        return KITH_OK;
    enum kith_status st = sp_cmd(tx, SP_BEGIN, tx->real + 1);
    if (st != KITH_OK)
        return st;
    tx->real++;
    for (int d = tx->pending; d <= tx->depth; d++) {
        tx->owner[d] = tx->real;
        tx->owns[d] = d == tx->pending;
    }
    tx->pending = 0;
    return KITH_OK;
}

static void sq_tx_purge_log_after_commit(struct kith_tx *t)
{
    struct sq_tx *tx = (struct sq_tx *)t;
    tx->s->purge_log = true;
}

static enum kith_status sq_tx_savepoint(struct kith_tx *t)
{
    struct sq_tx *tx = (struct sq_tx *)t;
    if (tx->depth >= SP_DEPTH_MAX) {
        kith_log_error("store", "msg=\"savepoints nested too deep\" depth=%d", tx->depth);
        return KITH_E_INTERNAL;
    }
    tx->depth++;
    /* Only a job's own level is ever bare: undoing it ends the job, so nothing reads on after
     * the transaction was begun again. */
    if (!tx->s->dirty && tx->depth == 1)
        tx->bare = 1;
    else if (tx->pending == 0)
        tx->pending = tx->depth;
    return KITH_OK;
}

/* Closes the innermost level, keeping (release) or undoing (rollback) its writes. */
static enum kith_status close_level(struct sq_tx *tx, bool undo)
{
    enum kith_status st = KITH_OK;
    int d = tx->depth;
    if (d == 0)
        return KITH_E_INTERNAL;
    tx->depth--;
    if (d <= tx->bare) {
        /* Everything written so far came after this level opened. */
        tx->bare = d - 1;
        if (!undo || !tx->s->dirty)
            return KITH_OK;
        /* SQLite may have rolled back by itself already (a full disk, I/O). */
        if (!sqlite3_get_autocommit(tx->s->db))
            st = tx_cmd(tx->s, TX_ROLLBACK);
        if (st == KITH_OK) {
            st = begin(tx->s);
            tx->s->clean_gap = st != KITH_OK;
        }
        return st;
    }
    if (tx->pending != 0 && d >= tx->pending) {
        /* Nothing written since this level opened: nothing to keep or undo. */
        if (tx->pending > tx->depth)
            tx->pending = 0;
        return KITH_OK;
    }
    if (undo)
        st = sp_cmd(tx, SP_ROLLBACK, tx->owner[d]);
    if (tx->owns[d]) {
        enum kith_status rst = sp_cmd(tx, SP_RELEASE, tx->owner[d]);
        if (st == KITH_OK)
            st = rst;
        tx->real--;
    }
    return st;
}

static enum kith_status sq_tx_release(struct kith_tx *t)
{
    return close_level((struct sq_tx *)t, false);
}

static enum kith_status sq_tx_rollback(struct kith_tx *t)
{
    return close_level((struct sq_tx *)t, true);
}

static bool is_error(enum kith_status st)
{
    return st != KITH_OK && st != KITH_CREATED;
}

/* One job inside the open transaction, under its own savepoint. */
static void run_job(struct sq_store *s, struct kith_job *j)
{
    struct sq_tx tx = {.base = {&sq_ops}, .s = s, .depth = 0};
    if ((j->st = sq_tx_savepoint(&tx.base)) != KITH_OK)
        return;
    j->st = j->fn(&tx.base, j->arg);
    while (tx.depth > 1) { /* a job that forgot to close its own savepoints */
        sq_tx_rollback(&tx.base);
    }
    if (is_error(j->st))
        sq_tx_rollback(&tx.base);
    else
        sq_tx_release(&tx.base);
}

static void run_batch(struct sq_store *s, struct kith_job *batch)
{
    s->clean_gap = false;
    enum kith_status st = begin(s);
    if (st != KITH_OK) {
        for (struct kith_job *j = batch; j; j = j->next)
            j->st = KITH_E_UNAVAILABLE;
        return;
    }
    for (struct kith_job *j = batch; j; j = j->next) {
        run_job(s, j);
        if (s->clean_gap) {
            /* The first writer of the batch failed and its undo gave up the write lock, which
             * another process (kith import) took: nothing else was written yet, so the jobs
             * after it wait for a new transaction instead of failing with this one. */
            s->clean_gap = false;
            if (j->next == NULL)
                return;
            if (begin(s) == KITH_OK)
                continue;
            for (struct kith_job *k = j->next; k; k = k->next)
                k->st = KITH_E_UNAVAILABLE;
            return;
        }
        /* Some failures (full disk, I/O) make SQLite roll the whole transaction back by itself:
         * nothing of this batch will commit, so no later job may run outside it. */
        if (sqlite3_get_autocommit(s->db)) {
            for (struct kith_job *k = batch; k; k = k->next) {
                if (!is_error(k->st)) /* jobs not run yet are KITH_OK too */
                    k->st = KITH_E_UNAVAILABLE;
            }
            return;
        }
    }
    if (tx_cmd(s, TX_COMMIT) != KITH_OK) {
        tx_cmd(s, TX_ROLLBACK);
        for (struct kith_job *j = batch; j; j = j->next) {
            if (!is_error(j->st))
                j->st = KITH_E_UNAVAILABLE;
        }
    }
    if (s->purge_log) {
        /* Copy every page into the database file (secure_delete has zeroed freed content
         * there), then cut the log to zero bytes so no old page image survives in it. */
        s->purge_log = false;
        if (exec_plain(s, "PRAGMA wal_checkpoint(TRUNCATE)") != KITH_OK)
            kith_log_warn("store",
                          "msg=\"log purge failed; it will be retried by the next erase\"");
    }
}

static void thread_main(void *arg)
{
    struct sq_store *s = arg;
    struct kith_job *batch, *last;
    /* Up to BATCH_MAX jobs at once: everything that queued while the last commit ran. */
    while ((batch = kith_jobs_take(&s->q, BATCH_MAX, &last)) != NULL) {
        run_batch(s, batch);
        if (!s->sync_started) {
            kith_jobs_deliver(&s->q, batch, last);
            continue;
        }
        kith_jobs_release(&s->q, batch);
        uv_mutex_lock(&s->q.mu);
        if (s->sync_tail)
            s->sync_tail->next = batch;
        else
            s->sync_head = batch;
        s->sync_tail = last;
        uv_cond_signal(&s->sync_cv);
        uv_mutex_unlock(&s->q.mu);
    }
}

/* The pipelined mode's fsync thread: one fdatasync covers every batch committed meanwhile. */
static void sync_main(void *arg)
{
    struct sq_store *s = arg;
    for (;;) {
        uv_mutex_lock(&s->q.mu);
        while (s->sync_head == NULL && !s->sync_stopping)
            uv_cond_wait(&s->sync_cv, &s->q.mu);
        struct kith_job *first = s->sync_head, *last = s->sync_tail;
        s->sync_head = s->sync_tail = NULL;
        uv_mutex_unlock(&s->q.mu);
        if (first == NULL)
            break;
        if (fdatasync(s->wal_fd) != 0) {
            kith_log_error("store", "msg=\"log fsync failed\" errno=%d", errno);
            for (struct kith_job *j = first; j; j = j->next) {
                if (!is_error(j->st))
                    j->st = KITH_E_UNAVAILABLE;
            }
        }
        kith_jobs_deliver(&s->q, first, last);
    }
}

static void sq_set_pipelined(struct kith_store *store, bool on)
{
    struct sq_store *s = (struct sq_store *)store;
    s->pipelined = on;
}

static enum kith_status migrate(struct sq_store *s, struct kith_err *err)
{
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    int target = (int)KITH_ARRAY_LEN(kith_sqlite_migrations);
    if (version > target)
        return kith_err_set(err, KITH_E_INTERNAL, NULL,
                            "database schema %d is newer than this kith (%d)", version, target);
    for (int v = version; v < target; v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if (exec_plain(s, "BEGIN IMMEDIATE") != KITH_OK ||
            exec_plain(s, kith_sqlite_migrations[v]) != KITH_OK ||
            exec_plain(s, pragma) != KITH_OK || exec_plain(s, "COMMIT") != KITH_OK) {
            exec_plain(s, "ROLLBACK");
            return kith_err_set(err, KITH_E_INTERNAL, NULL, "migration %d failed", v + 1);
        }
        kith_log_info("store", "msg=migrated version=%d", v + 1);
    }
    return KITH_OK;
}

/* No allocation statistics (nothing reads them): each of SQLite's mallocs would take a mutex
 * to count itself. Only possible before SQLite's first use (else SQLITE_MISUSE, no change). */
static uv_once_t config_once = UV_ONCE_INIT;
static void configure_sqlite(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

enum kith_status kith_sqlite_open(const char *path, struct kith_store **out, struct kith_err *err)
{
    struct sq_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort();
    enum kith_status st = KITH_OK;
    uv_once(&config_once, configure_sqlite);
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        st = kith_err_set(err, KITH_E_UNAVAILABLE, NULL, "cannot open database %s: %s", path,
                          s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    /* More of the writer's small allocations from the connection's own slots, not malloc. */
    (void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, LOOKASIDE_SLOT,
                            LOOKASIDE_SLOTS);
    if ((st = exec_plain(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                            "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768;"
                            "PRAGMA secure_delete = ON")) != KITH_OK) {
        kith_err_set(err, st, NULL, "cannot configure database %s", path);
        goto fail;
    }
    if ((st = migrate(s, err)) != KITH_OK)
        goto fail;
    kith_jobs_init(&s->q);
    s->base.ops = &sq_ops;
    *out = &s->base;
    return KITH_OK;
fail:
    sqlite3_close(s->db);
    free(s);
    return st;
}

static void sq_start(struct kith_store *store, uv_loop_t *loop)
{
    struct sq_store *s = (struct sq_store *)store;
    if (s->pipelined) {
        char wal[4096];
        const char *path = sqlite3_db_filename(s->db, "main");
        snprintf(wal, sizeof(wal), "%s-wal", path ? path : "");
        s->wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
        if (s->wal_fd < 0 || exec_plain(s, "PRAGMA synchronous = NORMAL") != KITH_OK) {
            kith_log_warn("store", "msg=\"pipelined sync unavailable; using synchronous=FULL\"");
            if (s->wal_fd >= 0)
                close(s->wal_fd);
        } else {
            uv_cond_init(&s->sync_cv);
            if (uv_thread_create(&s->sync_thread, sync_main, s) != 0)
                abort();
            s->sync_started = true;
        }
    }
    kith_jobs_start(&s->q, loop);
    if (uv_thread_create(&s->thread, thread_main, s) != 0)
        abort();
    s->started = true;
}

static void sq_submit(struct kith_store *store, kith_store_job_fn fn, kith_store_done_fn done,
                      void *arg, bool barrier)
{
    /* One writer takes jobs in order: every job already is a barrier. */
    kith_jobs_push(&((struct sq_store *)store)->q, fn, done, arg, barrier);
}

static enum kith_status sq_run(struct kith_store *store, kith_store_job_fn fn, void *arg)
{
    struct sq_store *s = (struct sq_store *)store;
    struct kith_job j = {.fn = fn, .arg = arg};
    run_batch(s, &j);
    return j.st;
}

static size_t sq_pending(struct kith_store *store)
{
    return kith_jobs_pending(&((struct sq_store *)store)->q);
}

static void sq_free(void *owner)
{
    free(owner); /* the store, kept alive until its loop handle is closed */
}

static void sq_close(struct kith_store *store)
{
    struct sq_store *s = (struct sq_store *)store;
    if (s == NULL)
        return;
    if (s->started) {
        /* Every job queued, and every job their done callbacks queue, commits (or fails) and is
         * answered while the writer and the fsync thread still run; then they stop. */
        kith_jobs_drain(&s->q);
        kith_jobs_stop(&s->q);
        uv_thread_join(&s->thread);
        if (s->sync_started) {
            uv_mutex_lock(&s->q.mu);
            s->sync_stopping = true;
            uv_cond_signal(&s->sync_cv);
            uv_mutex_unlock(&s->q.mu);
            uv_thread_join(&s->sync_thread);
            uv_cond_destroy(&s->sync_cv);
            close(s->wal_fd);
        }
    }
    for (size_t i = 0; i < STMT_CACHE; i++) {
        if (s->cache[i].sql) {
            sqlite3_finalize(s->cache[i].stmt);
            free(s->cache[i].sql);
        }
    }
    for (size_t i = 0; i < KITH_Q_COUNT; i++)
        sqlite3_finalize(s->named[i]); /* NULL is a no-op */
    for (size_t v = 0; v < 3; v++) {
        for (size_t i = 0; i <= SP_DEPTH_MAX; i++)
            sqlite3_finalize(s->sp[v][i]);
        sqlite3_finalize(s->txs[v]);
    }
    sqlite3_close(s->db);
    /* The store's memory and the queue's mutex stay until the wake-up handle has closed. */
    kith_jobs_close(&s->q, sq_free, s);
}

static const struct kith_store_ops sq_ops = {
    .set_pipelined = sq_set_pipelined,
    .start = sq_start,
    .submit = sq_submit,
    .run = sq_run,
    .pending = sq_pending,
    .close = sq_close,
    .purge_log = sq_tx_purge_log_after_commit,
    .savepoint = sq_tx_savepoint,
    .release = sq_tx_release,
    .rollback = sq_tx_rollback,
    .insert = sq_insert,
    .get = sq_get,
    .lock = sq_lock,
    .update = sq_update,
    .query = sq_query,
    .exec_rows = kith_sq_exec_rows,
};
