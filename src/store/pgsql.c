/*
 * pgsql.c: the PostgreSQL back-end of the store interface, over libpq: a pool of connections,
 * one thread each; constraints and row locks keep several connections and instances exactly-once.
 * Group commit per connection, as the SQLite writer does: a batch of jobs in one transaction,
 * each under its own (lazy) savepoint (a failing job rolls back only itself), none answered before
 * its COMMIT returned. Savepoints, small commands and counter bumps go in libpq's pipeline mode
 * with the next statement. Serialization failures, deadlocks and lock waits cut short in a batch
 * are retried (run_batch); a lost connection is reopened and the job answered
 * KITH_E_UNAVAILABLE (503 with Retry-After), never a 500. Named queries (queries.h) are
 * translated once per connection and prepared. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kith/buf.h"
#include "kith/log.h"
#include "store/backend.h"
#include "store/jobs.h"
#include "store/pgsql_counters.h"
#include "store/pgsql_schema.h"
#include "store/pgsql_text.h"
#include "store/queries.h"
#include "store/sqlbuild.h"

#define PG_CONNECTIONS_MAX 16
#define PG_STMTS 256
#define PG_RETRIES 3
#define PG_BATCH 32 /* jobs per transaction at most */
#define PG_PENDING 64
#define PG_LEVELS 64    /* savepoint levels a job may open */
#define PG_DEFER_ARGS 8 /* parameters of a deferred write at most */
/*
 * A job after the first in a batch waits this long for a row lock, then is rolled back (its
 * savepoint) and run again at the head of the next transaction. Waiting longer while holding the
 * batch's other locks would let two batches wait for each other until deadlock_timeout.
 */
#define PG_BATCH_LOCK_TIMEOUT "SET LOCAL lock_timeout = '25ms'"

struct pg_stmt {
    char *sql; /* the named query's or generated statement's original text */
    char name[16];
    bool reads; /* it only reads (kith_pgsql_only_reads) */
};

struct pg_conn {
    struct pg_store *s;
    PGconn *conn;
    uv_thread_t thread;
    struct pg_stmt stmts[PG_STMTS];
    int nstmts;
    int named[KITH_Q_COUNT]; /* 1 + index in stmts of a prepared named query, 0 when not yet */
    /* Commands without parameters (BEGIN, SAVEPOINT...) and deferred writes (see deferrable):
     * they go with the next statement. */
    struct pg_pending {
        char sql[48], name[16]; /* name: a deferred write's prepared statement, else "" */
        int n;
        char *values[PG_DEFER_ARGS];
    } pending[PG_PENDING];
    int npending;
    int ndeferred; /* deferred writes among the pending */
    bool broken;   /* the connection is out of step: reopen it before the next transaction */
};

/*
 * Lazy savepoints, as on SQLite: a level costs nothing until a statement needs it; then one real
 * SAVEPOINT, queued with that statement, stands for every level opened since the last (or the
 * newest one does, if only reads ran since). The job's level needs one before any statement (an
 * error aborts the whole transaction); a nested level only before a write, row lock or SET (any
 * statement in a careful run). Unique names: only the job's is released. A nested level rolled
 * back after an error it has no savepoint for makes the job run again carefully (redo).
 */
struct pg_tx {
    struct kith_tx base;
    struct pg_conn *c;
    int depth;                /* levels open */
    int pending;              /* the lowest level opened since the last real savepoint, or 0 */
    int owner[PG_LEVELS + 1]; /* level -> the real savepoint it rolls back to */
    int nsp;                  /* real savepoints taken in this transaction */
    int same;                 /* the real savepoint nothing has changed since, or 0 */
    bool failed;  /* the connection broke or the transaction aborted: the job must fail */
    bool retry;   /* a serialization failure or deadlock: run the job again */
    bool careful; /* every write under its own savepoint (the job's second run, see run_sql) */
    bool redo;    /* a write was refused without a savepoint: run the job again, carefully */
    bool heard;   /* the server answered something of this transaction */
    bool waited;  /* a lock timeout (or NOWAIT): run the job again */
    char sqlstate[6];
};

struct pg_store {
    struct kith_store base;
    char *url;
    struct kith_jobs q;
    bool started;
    struct pg_conn conns[PG_CONNECTIONS_MAX];
    int nconns;
};

static const struct kith_store_ops pg_ops;

/* ---- connections and statements ---- */

/* Forgets what was queued (sent, or never to be sent). */
static void drop_pending(struct pg_conn *c)
{
    for (int i = 0; i < c->npending; i++) {
        for (int k = 0; k < c->pending[i].n; k++)
            free(c->pending[i].values[k]);
        c->pending[i].n = 0;
        c->pending[i].name[0] = '\0';
    }
    c->npending = 0;
    c->ndeferred = 0;
}

static enum kith_status pg_connect(struct pg_store *s, struct pg_conn *c)
{
    if (c->conn)
        PQfinish(c->conn);
    for (int i = 0; i < c->nstmts; i++)
        free(c->stmts[i].sql);
    c->nstmts = 0;
    c->broken = false;
    memset(c->named, 0, sizeof(c->named)); /* a new connection has nothing prepared */
    drop_pending(c);
    c->conn = PQconnectdb(s->url);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        /* The URL may carry a password: say only that it failed. */
        kith_log_warn("store", "msg=\"cannot connect to PostgreSQL\" error=\"%s\"",
                      PQerrorMessage(c->conn));
        PQfinish(c->conn);
        c->conn = NULL;
        return KITH_E_UNAVAILABLE;
    }
    PQclear(PQexec(c->conn, "SET client_min_messages = warning"));
    return KITH_OK;
}

/* PostgreSQL's own statement where it differs, else the shared one (translated when prepared). */
static const char *named_sql(enum kith_query q)
{
    if ((unsigned)q >= KITH_Q_COUNT)
        return NULL;
    if (kith_pgsql_counter_sql[q])
        return kith_pgsql_counter_sql[q];
    return kith_pgsql_sql[q] ? kith_pgsql_sql[q] : kith_sqlite_sql[q];
}

/* Maps a failed result to a status and remembers its SQLSTATE. */
static enum kith_status result_status(struct pg_tx *tx, PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    kith_strlcpy(tx->sqlstate, state ? state : "", sizeof(tx->sqlstate));
    if (PQstatus(tx->c->conn) != CONNECTION_OK) {
        tx->failed = true;
        kith_log_warn("store", "msg=\"PostgreSQL connection lost\" during=%s", what);
        return KITH_E_UNAVAILABLE;
    }
    if (state && strncmp(state, "23", 2) == 0)
        return KITH_E_CONSTRAINT;
    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
        tx->retry = true;
    if (state && strcmp(state, "55P03") == 0)
        tx->waited = true;
    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
                  strncmp(state, "57", 2) == 0 || strncmp(state, "08", 2) == 0 ||
                  strcmp(state, "55P03") == 0)) {
        tx->failed = true;
        return KITH_E_UNAVAILABLE;
    }
    kith_log_error("store", "msg=\"%s failed\" sqlstate=%s error=\"%s\"", what, state ? state : "?",
                   res ? PQresultErrorMessage(res) : "no result");
    tx->failed = true;
    return KITH_E_INTERNAL;
}

/* Queues a command without parameters to go with the next statement. */
static void defer(struct pg_tx *tx, const char *sql)
{
    struct pg_conn *c = tx->c;
    if (c->npending == PG_PENDING)
        abort(); /* nesting this deep is a bug: every statement sends the queue */
    struct pg_pending *e = &c->pending[c->npending++];
    kith_strlcpy(e->sql, sql, sizeof(e->sql));
    e->name[0] = '\0';
    e->n = 0;
}

static bool result_ok(PGresult *res)
{
    ExecStatusType rs = PQresultStatus(res);
    return rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK;
}

/*
 * Sends the queued commands and then, when name is set, the prepared statement, in one pipeline
 * (one round trip). Returns the statement's result (the caller clears it), or NULL when there is
 * no statement or a queued command failed (then *st says why and the transaction is aborted).
 */
static PGresult *exchange(struct pg_tx *tx, const char *name, int n, const char *const *values,
                          enum kith_status *st)
{
    struct pg_conn *c = tx->c;
    PGconn *conn = c->conn;
    PGresult *out = NULL;
    int total = c->npending + (name ? 1 : 0);
    *st = KITH_OK;
    if (c->npending == 0 && name)
        return PQexecPrepared(conn, name, n, values, NULL, NULL, 0);
    if (PQenterPipelineMode(conn) != 1)
        goto broken;
    for (int i = 0; i < c->npending; i++) {
        const struct pg_pending *e = &c->pending[i];
        if (e->name[0] ? PQsendQueryPrepared(conn, e->name, e->n, (const char *const *)e->values,
                                             NULL, NULL, 0) != 1
                       : PQsendQueryParams(conn, e->sql, 0, NULL, NULL, NULL, NULL, 0) != 1)
            goto broken;
    }
    if (name && PQsendQueryPrepared(conn, name, n, values, NULL, NULL, 0) != 1)
        goto broken;
    if (PQpipelineSync(conn) != 1)
        goto broken;
    for (int i = 0; i < total; i++) {
        PGresult *res = PQgetResult(conn);
        if (res == NULL)
            goto broken;
        if (name && i == total - 1) {
            out = res;
        } else {
            if (!result_ok(res) && *st == KITH_OK &&
                PQresultStatus(res) != PGRES_PIPELINE_ABORTED) {
                const struct pg_pending *e = &c->pending[i];
                *st = result_status(tx, res, e->name[0] ? "deferred write" : e->sql);
                if (e->name[0]) { /* its caller was told OK: run the job again, carefully */
                    tx->failed = true;
                    if (!tx->retry && !tx->waited)
                        tx->redo = true;
                    *st = KITH_E_UNAVAILABLE;
                }
            }
            PQclear(res);
        }
        PGresult *end = PQgetResult(conn); /* the NULL that ends this command's results */
        if (end != NULL) {
            PQclear(end);
            goto broken;
        }
    }
    PGresult *sync = PQgetResult(conn);
    bool synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (!synced || PQexitPipelineMode(conn) != 1)
        goto broken;
    drop_pending(c);
    tx->heard = true;
    if (*st != KITH_OK) {
        PQclear(out);
        return NULL;
    }
    return out;
broken:
    PQclear(out);
    drop_pending(c);
    c->broken = true;
    tx->failed = true;
    if (*st == KITH_OK)
        kith_log_warn("store", "msg=\"PostgreSQL connection lost\" during=pipeline");
    *st = KITH_E_UNAVAILABLE;
    return NULL;
}

/* A command without parameters, now (after anything queued). */
static enum kith_status plain(struct pg_tx *tx, const char *sql)
{
    enum kith_status st = KITH_OK;
    if (tx->c->npending > 0) {
        defer(tx, sql);
        exchange(tx, NULL, 0, NULL, &st);
        return st;
    }
    PGresult *res = PQexec(tx->c->conn, sql);
    if (!result_ok(res))
        st = result_status(tx, res, sql);
    if (res && PQstatus(tx->c->conn) == CONNECTION_OK)
        tx->heard = true;
    PQclear(res);
    return st;
}

static const struct pg_stmt *prepared(struct pg_tx *tx, enum kith_query q, const char *sql,
                                      enum kith_status *st)
{
    struct pg_conn *c = tx->c;
    if (q < KITH_Q_COUNT && c->named[q] > 0)
        return &c->stmts[c->named[q] - 1];
    for (int i = 0; q == KITH_Q_COUNT && i < c->nstmts; i++) {
        if (strcmp(c->stmts[i].sql, sql) == 0)
            return &c->stmts[i];
    }
    if (c->nstmts == PG_STMTS) {
        kith_log_error("store", "msg=\"statement cache full\"");
        *st = KITH_E_INTERNAL;
        return NULL;
    }
    struct pg_stmt *p = &c->stmts[c->nstmts];
    snprintf(p->name, sizeof(p->name), "k%d", c->nstmts);
    char *text = kith_pgsql_translate(sql);
    PGresult *res = PQprepare(c->conn, p->name, text, 0, NULL);
    free(text);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *st = result_status(tx, res, "prepare");
        PQclear(res);
        return NULL;
    }
    PQclear(res);
    p->sql = strdup(sql);
    if (p->sql == NULL)
        abort();
    p->reads = kith_pgsql_only_reads(sql);
    c->nstmts++;
    if (q < KITH_Q_COUNT)
        c->named[q] = c->nstmts;
    return p;
}

/* Writes whose answer nobody reads, the sharded counters' upserts, go with the next statement
 * or at the job's end (run_one), one round trip fewer each; told OK at once, a failing one
 * reruns the job carefully (every write in its place), as a bare write refused does. */
static bool deferrable(const struct pg_tx *tx, enum kith_query q, size_t n, json_t **rows,
                       int64_t *changes)
{
    return (q == KITH_Q_PREFIX_BUMP || q == KITH_Q_COUNTS_ADD) && !tx->careful && rows == NULL &&
           changes == NULL && n <= PG_DEFER_ARGS && tx->c->npending < PG_PENDING / 2;
}

/* Before a statement: the real savepoint the levels opened since the last one need, if any. */
static void materialize(struct pg_tx *tx, bool reads)
{
    if (tx->pending == 0 || (reads && tx->pending > 1 && !tx->careful))
        return;
    if (tx->same == 0) {
        char sql[48];
        snprintf(sql, sizeof(sql), "SAVEPOINT sp%d", ++tx->nsp);
        defer(tx, sql);
        tx->same = tx->nsp;
    }
    for (int d = tx->pending; d <= tx->depth; d++)
        tx->owner[d] = tx->same;
    tx->pending = 0;
}

/* Runs sql (SQLite-style placeholders) with args; rows into *rows unless NULL. */
static enum kith_status run_sql(struct pg_tx *tx, enum kith_query q, const char *sql, json_t *args,
                                json_t **rows, size_t max_rows, int64_t *changes)
{
    enum kith_status st = KITH_OK;
    if (tx->failed)
        return KITH_E_UNAVAILABLE;
    const struct pg_stmt *ps = prepared(tx, q, sql, &st);
    if (ps == NULL)
        return st;
    const char *name = ps->name;
    size_t n = json_array_size(args);
    const char *values[KITH_PGSQL_PARAMS];
    char *owned[KITH_PGSQL_PARAMS];
    if (!kith_pgsql_params(args, values, owned))
        return KITH_E_INTERNAL;
    /*
     * In PostgreSQL an error aborts the whole transaction, and the engine goes on after a
     * constraint refusal. A refusable insert says "refused" without an error. Any other write
     * runs bare, betting on success (two messages fewer each); when one is refused after all,
     * the job is rolled back (its own savepoint) and run again with every write under a
     * savepoint of its own, so the engine sees the refusal exactly as it would have.
     */
    bool write = strncmp(sql, "INSERT", 6) == 0 || strncmp(sql, "UPDATE", 6) == 0 ||
                 strncmp(sql, "DELETE", 6) == 0;
    bool refuse = kith_pgsql_refusable(sql), guard = write && tx->careful;
    materialize(tx, ps->reads);
    if (!ps->reads)
        tx->same = 0;
    if (deferrable(tx, q, n, rows, changes)) {
        defer(tx, "");
        struct pg_pending *e = &tx->c->pending[tx->c->npending - 1];
        kith_strlcpy(e->name, name, sizeof(e->name));
        for (size_t i = 0; i < n; i++) {
            e->values[i] = values[i] ? strdup(values[i]) : NULL;
            if (values[i] && e->values[i] == NULL)
                abort();
            e->n = (int)i + 1;
        }
        tx->c->ndeferred++;
        goto out;
    }
    if (guard)
        defer(tx, "SAVEPOINT stmt");
    PGresult *res = exchange(tx, name, (int)n, (const char *const *)values, &st);
    if (res == NULL)
        goto out;
    if (!result_ok(res)) {
        st = result_status(tx, res, "statement");
        PQclear(res);
        if (guard && st == KITH_E_CONSTRAINT) {
            tx->failed = false;
            if (plain(tx, "ROLLBACK TO SAVEPOINT stmt") != KITH_OK)
                st = KITH_E_UNAVAILABLE;
            else
                defer(tx, "RELEASE SAVEPOINT stmt");
        } else if (st == KITH_E_CONSTRAINT) {
            tx->failed = true; /* aborted, with no savepoint to go back to */
            tx->redo = true;
            st = KITH_E_UNAVAILABLE;
        }
        goto out;
    }
    if (refuse && strcmp(PQcmdTuples(res), "0") == 0) {
        PQclear(res);
        st = KITH_E_CONSTRAINT; /* ON CONFLICT DO NOTHING: a unique constraint refused it */
        if (guard)
            defer(tx, "RELEASE SAVEPOINT stmt");
        goto out;
    }
    if (rows) {
        json_t *acc = json_array();
        int nr = PQntuples(res), nc = PQnfields(res);
        for (int r = 0; r < nr && (max_rows == 0 || (size_t)r < max_rows); r++) {
            json_t *row = json_object();
            for (int c = 0; c < nc; c++)
                json_object_set_new(
                    row, PQfname(res, c),
                    kith_pgsql_value(PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c),
                                     PQftype(res, c)));
            json_array_append_new(acc, row);
        }
        *rows = acc;
    }
    if (changes) {
        const char *t = PQcmdTuples(res);
        *changes = t && *t ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(res);
    if (guard)
        defer(tx, "RELEASE SAVEPOINT stmt");
out:
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
    return st;
}

/* ---- the store interface ---- */

static enum kith_status pg_query(struct kith_tx *t, enum kith_query q, json_t *args, json_t **out,
                                 size_t max_rows, int64_t *changes)
{
    const char *sql = named_sql(q);
    if (sql == NULL)
        return KITH_E_INTERNAL;
    return run_sql((struct pg_tx *)t, q, sql, args, out, max_rows, changes);
}

static enum kith_status pg_insert(struct kith_tx *t, const char *table, json_t *row)
{
    char sql[2048];
    json_t *args = NULL;
    enum kith_status st = kith_sql_insert(table, row, sql, sizeof(sql), &args);
    if (st == KITH_OK)
        st = run_sql((struct pg_tx *)t, KITH_Q_COUNT, sql, args, NULL, 0, NULL);
    json_decref(args);
    return st;
}

static enum kith_status pg_get(struct kith_tx *t, const char *table, const char *id, bool lock,
                               json_t **out)
{
    char sql[160];
    json_t *rows = NULL;
    if (!kith_sql_ident_ok(table))
        return KITH_E_INTERNAL;
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE id = ?%s", out ? "*" : "1 AS found", table,
             lock ? " FOR UPDATE" : ""); /* out NULL: the lock (kith_store_lock), no columns */
    json_t *args = json_pack("[s]", id);
    enum kith_status st = run_sql((struct pg_tx *)t, KITH_Q_COUNT, sql, args, &rows, 1, NULL);
    json_decref(args);
    if (st == KITH_OK && json_array_size(rows) == 0)
        st = KITH_E_NOT_FOUND;
    else if (st == KITH_OK && out)
        *out = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return st;
}

static enum kith_status pg_update(struct kith_tx *t, const char *table, const char *id, json_t *set)
{
    char sql[2048];
    json_t *args = NULL;
    int64_t changes = 0;
    enum kith_status st = kith_sql_update(table, id, set, sql, sizeof(sql), &args);
    if (st == KITH_OK)
        st = run_sql((struct pg_tx *)t, KITH_Q_COUNT, sql, args, NULL, 0, &changes);
    if (st == KITH_OK && changes == 0)
        st = KITH_E_NOT_FOUND;
    json_decref(args);
    return st;
}

static enum kith_status pg_savepoint(struct kith_tx *t)
{
    struct pg_tx *tx = (struct pg_tx *)t;
    if (tx->depth >= PG_LEVELS) {
        kith_log_error("store", "msg=\"savepoints nested too deep\" depth=%d", tx->depth);
        return KITH_E_INTERNAL;
    }
    tx->owner[++tx->depth] = 0;
    if (tx->pending == 0)
        tx->pending = tx->depth;
    return KITH_OK;
}

/* Closes the innermost level; true when it never got a real savepoint (*sp = 0). */
static bool close_level(struct pg_tx *tx, int *sp)
{
    int d = tx->depth--;
    *sp = tx->owner[d];
    if (tx->pending == 0 || d < tx->pending)
        return false;
    if (tx->pending > tx->depth)
        tx->pending = 0;
    *sp = 0;
    return true;
}

/* The job's level ends with its savepoint released (queued), not left open under the next. */
static void release_job(struct pg_tx *tx, int sp)
{
    char sql[48];
    if (tx->depth > 0 || sp == 0)
        return;
    snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT sp%d", sp);
    defer(tx, sql);
    tx->same = 0;
}

/* What a level wrote stays: a nested level's savepoint commits with the job's. */
static enum kith_status pg_release(struct kith_tx *t)
{
    struct pg_tx *tx = (struct pg_tx *)t;
    int sp;
    if (close_level(tx, &sp))
        return KITH_OK;
    if (tx->failed)
        return KITH_E_UNAVAILABLE; /* an aborted transaction keeps nothing */
    release_job(tx, sp);
    return KITH_OK;
}

static enum kith_status pg_rollback(struct kith_tx *t)
{
    struct pg_tx *tx = (struct pg_tx *)t;
    char sql[48];
    int sp;
    if (close_level(tx, &sp)) {
        /* Only reads since it opened: nothing to undo, unless one aborted the transaction. */
        if (!tx->failed)
            return KITH_OK;
        if (tx->same == 0) {
            tx->redo = true;
            return KITH_E_UNAVAILABLE;
        }
        sp = tx->same;
    }
    snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT sp%d", sp);
    if (!tx->failed) {
        defer(tx, sql);
        tx->same = sp;
        release_job(tx, sp);
        return KITH_OK;
    }
    /* Aborted: what was queued since never ran; rolling back to a savepoint clears the abort. */
    drop_pending(tx->c);
    if (tx->c->broken || PQstatus(tx->c->conn) != CONNECTION_OK)
        return KITH_E_UNAVAILABLE;
    tx->failed = false;
    enum kith_status st = plain(tx, sql);
    if (st == KITH_OK) {
        tx->same = sp;
        release_job(tx, sp);
    } else {
        tx->failed = true;
    }
    return st;
}

static void pg_purge_log(struct kith_tx *t)
{
    (void)t; /* the server's WAL is PostgreSQL's to recycle; VACUUM reclaims dead rows */
}

static bool is_error(enum kith_status st)
{
    return st != KITH_OK && st != KITH_CREATED;
}

static bool open_conn(struct pg_conn *c)
{
    if (c->conn && !c->broken && PQstatus(c->conn) == CONNECTION_OK)
        return true;
    return pg_connect(c->s, c) == KITH_OK;
}

enum job_outcome { JOB_DONE, JOB_RETRY, JOB_WAIT, JOB_CAREFUL, JOB_LOST };

/* Runs one job of the open transaction under its own savepoint. */
static enum job_outcome run_one(struct pg_tx *tx, struct kith_job *j)
{
    tx->retry = tx->waited = tx->redo = false;
    pg_savepoint(&tx->base);
    j->st = j->fn(&tx->base, j->arg);
    enum kith_status flushed; /* the job's deferred writes answer for it */
    if (tx->c->ndeferred > 0 && !tx->failed)
        exchange(tx, NULL, 0, NULL, &flushed);
    while (tx->depth > 1)
        pg_rollback(&tx->base);
    /* A job cut short by a lock timeout, deadlock or serialization failure is run again, even if
     * it went on and said OK: what it skipped may have mattered. */
    bool again = tx->retry || tx->waited || tx->redo;
    if (is_error(j->st) || tx->failed || again) {
        if (!is_error(j->st))
            j->st = KITH_E_UNAVAILABLE;
        pg_rollback(&tx->base);
    } else {
        pg_release(&tx->base);
    }
    if (tx->failed || tx->c->broken)
        return JOB_LOST; /* the savepoint could not be rolled back: the connection is gone */
    if (tx->retry)
        return JOB_RETRY;
    return tx->waited ? JOB_WAIT : tx->redo ? JOB_CAREFUL : JOB_DONE;
}

/*
 * Group commit on one connection: the jobs first.. run in one transaction, each under its own
 * savepoint, and are answered (by the caller) only once that transaction committed. A job cut
 * short (a lock it would wait for while the batch holds others, a deadlock, a serialization
 * failure) is rolled back alone and runs again at the head of the next transaction, where it
 * may wait like any lone transaction; at most PG_RETRIES times. A lost connection answers what
 * it held KITH_E_UNAVAILABLE: their transaction did not commit, or may have (COMMIT unanswered).
 */
static void run_batch(struct pg_conn *c, struct kith_job *first)
{
    struct kith_job *todo[PG_BATCH], *held[PG_BATCH];
    int tries[PG_BATCH] = {0}, n = 0, connects = 0;
    bool careful[PG_BATCH] = {false};
    for (struct kith_job *j = first; j && n < PG_BATCH; j = j->next)
        todo[n++] = j;
    while (n > 0) {
        if (!open_conn(c)) {
            if (++connects >= PG_RETRIES) {
                for (int i = 0; i < n; i++)
                    todo[i]->st = KITH_E_UNAVAILABLE;
                return;
            }
            usleep(100000);
            continue;
        }
        struct pg_tx tx = {.base = {&pg_ops}, .c = c};
        int nheld = 0, left = 0;
        bool lost = false, timed = false;
        defer(&tx, "BEGIN");
        for (int i = 0; i < n && !lost; i++) {
            struct kith_job *j = todo[i];
            if (nheld > 0 && !timed) {
                defer(&tx, PG_BATCH_LOCK_TIMEOUT);
                tx.same = 0; /* a later job's rollback must not undo it */
                timed = true;
            }
            /* A lock timeout costs a try only to a job that could wait (nothing held before
             * it): each transaction's first job runs to its end, so this loop ends. */
            tx.careful = careful[i];
            enum job_outcome o = run_one(&tx, j);
            bool free_try = (o == JOB_WAIT && timed) || o == JOB_CAREFUL;
            if (o == JOB_CAREFUL)
                careful[i] = true; /* once: a careful run never asks for another */
            if (o == JOB_LOST) {
                lost = true;
            } else if (o != JOB_DONE && (free_try || ++tries[i] < PG_RETRIES)) {
                todo[left] = j; /* i >= left: the ones before are held or kept already */
                careful[left] = careful[i];
                tries[left++] = tries[i];
                continue;
            }
            held[nheld++] = j;
        }
        if (!lost) {
            enum kith_status cst = plain(&tx, "COMMIT");
            lost = cst != KITH_OK;
        }
        if (lost && !tx.heard && ++connects < PG_RETRIES) {
            /* The connection was gone before the server saw this transaction's BEGIN (an idle
             * connection the server dropped): nothing of it ran there; all of it runs again. */
            c->broken = true;
            continue;
        }
        if (lost) {
            if (!c->broken && PQstatus(c->conn) == CONNECTION_OK) {
                drop_pending(c);
                PQclear(PQexec(c->conn, "ROLLBACK"));
            }
            c->broken = true; /* start the next transaction from a clean connection */
            for (int i = 0; i < nheld; i++)
                held[i]->st = KITH_E_UNAVAILABLE;
            for (int i = 0; i < left; i++)
                todo[i]->st = KITH_E_UNAVAILABLE;
            return;
        }
        n = left;
    }
}

static void conn_main(void *arg)
{
    struct pg_conn *c = arg;
    struct kith_job *j, *last;
    while ((j = kith_jobs_take_batch(&c->s->q, PG_BATCH, &last)) != NULL) {
        run_batch(c, j);
        kith_jobs_deliver(&c->s->q, j, last);
    }
}

/* Tables with rows never analyzed have no statistics, and a statement prepared then keeps its
 * plan (participants.by_external read every participant of the program): analyzed at open. */
static void analyze_new(PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT format('ANALYZE %I', c.relname) FROM pg_class c"
                                 " WHERE c.relnamespace = current_schema()::regnamespace"
                                 " AND c.relkind = 'r' AND c.reltuples < 0"
                                 " AND pg_relation_size(c.oid) > 0");
    for (int i = 0; PQresultStatus(res) == PGRES_TUPLES_OK && i < PQntuples(res); i++)
        PQclear(PQexec(conn, PQgetvalue(res, i, 0)));
    PQclear(res);
}

static enum kith_status migrate(struct pg_store *s, struct kith_err *err)
{
    struct pg_tx tx = {.base = {&pg_ops}, .c = &s->conns[0]};
    enum kith_status st;
    /* Several instances may start together: one migrates, the others wait for it. */
    if ((st = plain(&tx, "SELECT pg_advisory_lock(7283172)")) != KITH_OK)
        return kith_err_set(err, st, NULL, "cannot lock the schema for migration");
    st = plain(&tx, "CREATE TABLE IF NOT EXISTS kith_schema (version BIGINT NOT NULL)");
    int version = 0;
    if (st == KITH_OK) {
        PGresult *res = PQexec(tx.c->conn, "SELECT coalesce(max(version), 0) FROM kith_schema");
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            version = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    int target = (int)KITH_ARRAY_LEN(kith_pgsql_migrations);
    for (int v = version; st == KITH_OK && v < target; v++) {
        char rec[96];
        snprintf(rec, sizeof(rec), "INSERT INTO kith_schema (version) VALUES (%d)", v + 1);
        if ((st = plain(&tx, "BEGIN")) != KITH_OK ||
            (st = plain(&tx, kith_pgsql_migrations[v])) != KITH_OK ||
            (st = plain(&tx, rec)) != KITH_OK || (st = plain(&tx, "COMMIT")) != KITH_OK) {
            tx.failed = false;
            plain(&tx, "ROLLBACK");
            kith_err_set(err, KITH_E_INTERNAL, NULL, "PostgreSQL migration %d failed", v + 1);
            break;
        }
        kith_log_info("store", "msg=migrated backend=postgresql version=%d", v + 1);
    }
    if (st == KITH_OK)
        analyze_new(tx.c->conn);
    tx.failed = false;
    plain(&tx, "SELECT pg_advisory_unlock(7283172)");
    if (st == KITH_OK && version > target)
        return kith_err_set(err, KITH_E_INTERNAL, NULL,
                            "database schema %d is newer than this kith (%d)", version, target);
    return st;
}

/*
 * Connections: each commits a batch while the others fill theirs, so a few per core keep the
 * server's CPUs busy through every round trip and fsync; many more only queue on its locks.
 */
static int pool_size(void)
{
    int n = 2 * (int)uv_available_parallelism() + 2;
    return n < 4 ? 4 : n > PG_CONNECTIONS_MAX ? PG_CONNECTIONS_MAX : n;
}

enum kith_status kith_pgsql_open(const char *url, struct kith_store **out, struct kith_err *err)
{
    struct pg_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort();
    s->base.ops = &pg_ops;
    s->url = strdup(url);
    if (s->url == NULL)
        abort();
    s->nconns = pool_size();
    for (int i = 0; i < s->nconns; i++)
        s->conns[i].s = s;
    enum kith_status st = pg_connect(s, &s->conns[0]);
    if (st != KITH_OK) {
        kith_err_set(err, st, NULL, "cannot connect to the PostgreSQL database");
        goto fail;
    }
    if ((st = migrate(s, err)) != KITH_OK)
        goto fail;
    kith_jobs_init(&s->q);
    *out = &s->base;
    return KITH_OK;
fail:
    if (s->conns[0].conn)
        PQfinish(s->conns[0].conn);
    free(s->url);
    free(s);
    return st;
}

static void pg_set_pipelined(struct kith_store *store, bool on)
{
    (void)store, (void)on; /* PostgreSQL commits with its own group commit: nothing to do */
}

static void pg_start(struct kith_store *store, uv_loop_t *loop)
{
    struct pg_store *s = (struct pg_store *)store;
    kith_jobs_start(&s->q, loop);
    for (int i = 0; i < s->nconns; i++) {
        if (uv_thread_create(&s->conns[i].thread, conn_main, &s->conns[i]) != 0)
            abort();
    }
    s->started = true;
}

static void pg_submit(struct kith_store *store, kith_store_job_fn fn, kith_store_done_fn done,
                      void *arg, bool barrier)
{
    kith_jobs_push(&((struct pg_store *)store)->q, fn, done, arg, barrier);
}

static enum kith_status pg_run(struct kith_store *store, kith_store_job_fn fn, void *arg)
{
    struct pg_store *s = (struct pg_store *)store;
    struct kith_job j = {.fn = fn, .arg = arg};
    run_batch(&s->conns[0], &j);
    return j.st;
}

static size_t pg_pending(struct kith_store *store)
{
    return kith_jobs_pending(&((struct pg_store *)store)->q);
}

static void pg_free(void *owner)
{
    free(owner);
}

static void pg_close(struct kith_store *store)
{
    struct pg_store *s = (struct pg_store *)store;
    if (s->started) {
        /* Every job queued, and every job their done callbacks queue, is run and answered while
         * the pool still runs; then its threads stop. */
        kith_jobs_drain(&s->q);
        kith_jobs_stop(&s->q);
        for (int i = 0; i < s->nconns; i++)
            uv_thread_join(&s->conns[i].thread);
    }
    for (int i = 0; i < s->nconns; i++) {
        if (s->conns[i].conn)
            PQfinish(s->conns[i].conn);
        for (int k = 0; k < s->conns[i].nstmts; k++)
            free(s->conns[i].stmts[k].sql);
    }
    free(s->url);
    /* The store's memory and the queue's mutex stay until the wake-up handle has closed. */
    kith_jobs_close(&s->q, pg_free, s);
}

static const struct kith_store_ops pg_ops = {
    .set_pipelined = pg_set_pipelined,
    .start = pg_start,
    .submit = pg_submit,
    .run = pg_run,
    .pending = pg_pending,
    .close = pg_close,
    .purge_log = pg_purge_log,
    .savepoint = pg_savepoint,
    .release = pg_release,
    .rollback = pg_rollback,
    .insert = pg_insert,
    .get = pg_get,
    .update = pg_update,
    .query = pg_query,
};
