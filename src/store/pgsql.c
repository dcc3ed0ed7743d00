/*
 * pgsql.c: the PostgreSQL back-end of the store interface, over libpq. A pool of connections,
 * each driven by its own thread: a job runs in its own transaction (BEGIN ... COMMIT) on one
 * connection, so several instances and several connections work at once and the database's
 * constraints and row locks keep them exactly-once. Serialization failures and deadlocks are
 * retried a bounded number of times; a lost connection is reopened and the job answered
 * KITH_E_UNAVAILABLE (503 with Retry-After), never a crash or a 500. Statements are the named
 * queries of queries.h, translated once per connection and prepared.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kith/buf.h"
#include "kith/log.h"
#include "store/backend.h"
#include "store/jobs.h"
#include "store/pgsql_schema.h"
#include "store/queries.h"
#include "store/sqlbuild.h"

#define PG_CONNECTIONS 4
#define PG_STMTS 256
#define PG_RETRIES 3

/* PostgreSQL type oids we turn into JSON numbers and booleans. */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_NUMERIC 1700

struct pg_stmt {
    char *sql; /* the named query's or generated statement's original text */
    char name[16];
};

struct pg_conn {
    struct pg_store *s;
    PGconn *conn;
    uv_thread_t thread;
    struct pg_stmt stmts[PG_STMTS];
    int nstmts;
    int named[KITH_Q_COUNT]; /* 1 + index in stmts of a prepared named query, 0 when not yet */
};

struct pg_tx {
    struct kith_tx base;
    struct pg_conn *c;
    int depth;
    bool failed; /* the connection broke or the transaction aborted: the job must fail */
    char sqlstate[6];
};

struct pg_store {
    struct kith_store base;
    char *url;
    struct kith_jobs q;
    bool started;
    struct pg_conn conns[PG_CONNECTIONS];
    int nconns;
};

static const struct kith_store_ops pg_ops;

/* ---- connections and statements ---- */

static enum kith_status pg_connect(struct pg_store *s, struct pg_conn *c)
{
    if (c->conn)
        PQfinish(c->conn);
    for (int i = 0; i < c->nstmts; i++)
        free(c->stmts[i].sql);
    c->nstmts = 0;
    memset(c->named, 0, sizeof(c->named)); /* a new connection has nothing prepared */
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

/* `?` and `?N` become `$N`; the word rowid becomes seq; INSERT OR IGNORE gains ON CONFLICT. */
static char *translate(const char *sql)
{
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
    return kith_buf_take(&out);
}

/* PostgreSQL's own statement where it differs, else the shared one (translated when prepared). */
static const char *named_sql(enum kith_query q)
{
    if ((unsigned)q >= KITH_Q_COUNT)
        return NULL;
    return kith_pgsql_sql[q] ? kith_pgsql_sql[q] : kith_sqlite_sql[q];
}

static bool sqlstate_is(struct pg_tx *tx, const char *code)
{
    return strcmp(tx->sqlstate, code) == 0;
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

static enum kith_status plain(struct pg_tx *tx, const char *sql)
{
    PGresult *res = PQexec(tx->c->conn, sql);
    enum kith_status st = KITH_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        st = result_status(tx, res, sql);
    PQclear(res);
    return st;
}

static const char *prepared(struct pg_tx *tx, enum kith_query q, const char *sql,
                            enum kith_status *st)
{
    struct pg_conn *c = tx->c;
    if (q < KITH_Q_COUNT && c->named[q] > 0)
        return c->stmts[c->named[q] - 1].name;
    for (int i = 0; q == KITH_Q_COUNT && i < c->nstmts; i++) {
        if (strcmp(c->stmts[i].sql, sql) == 0)
            return c->stmts[i].name;
    }
    if (c->nstmts == PG_STMTS) {
        kith_log_error("store", "msg=\"statement cache full\"");
        *st = KITH_E_INTERNAL;
        return NULL;
    }
    struct pg_stmt *p = &c->stmts[c->nstmts];
    snprintf(p->name, sizeof(p->name), "k%d", c->nstmts);
    char *text = translate(sql);
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
    c->nstmts++;
    if (q < KITH_Q_COUNT)
        c->named[q] = c->nstmts;
    return p->name;
}

static json_t *value_json(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return json_null();
    const char *v = PQgetvalue(res, row, col);
    switch (PQftype(res, col)) {
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

/* Runs sql (SQLite-style placeholders) with args; rows into *rows unless NULL. */
static enum kith_status run_sql(struct pg_tx *tx, enum kith_query q, const char *sql, json_t *args,
                                json_t **rows, size_t max_rows, int64_t *changes)
{
    enum kith_status st = KITH_OK;
    if (tx->failed)
        return KITH_E_UNAVAILABLE;
    const char *name = prepared(tx, q, sql, &st);
    if (name == NULL)
        return st;
    size_t n = json_array_size(args);
    const char *values[64];
    char *owned[64];
    if (n > 64)
        return KITH_E_INTERNAL;
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
            values[i] = owned[i];
            continue;
        }
        owned[i] = strdup(buf);
        if (owned[i] == NULL)
            abort();
        values[i] = owned[i];
    }
    /* A statement that may hit a unique constraint runs under a savepoint: in PostgreSQL an
     * error aborts the whole transaction, and the engine goes on after a constraint refusal. */
    bool guard = strncmp(sql, "INSERT", 6) == 0 || strncmp(sql, "UPDATE", 6) == 0 ||
                 strncmp(sql, "DELETE", 6) == 0;
    if (guard && (st = plain(tx, "SAVEPOINT stmt")) != KITH_OK)
        goto out;
    PGresult *res = PQexecPrepared(tx->c->conn, name, (int)n, values, NULL, NULL, 0);
    ExecStatusType rs = PQresultStatus(res);
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
        st = result_status(tx, res, "statement");
        PQclear(res);
        if (guard && st == KITH_E_CONSTRAINT) {
            tx->failed = false;
            if (plain(tx, "ROLLBACK TO SAVEPOINT stmt") != KITH_OK)
                st = KITH_E_UNAVAILABLE;
        }
        goto out;
    }
    if (rows) {
        json_t *acc = json_array();
        int nr = PQntuples(res), nc = PQnfields(res);
        for (int r = 0; r < nr && (max_rows == 0 || (size_t)r < max_rows); r++) {
            json_t *row = json_object();
            for (int c = 0; c < nc; c++)
                json_object_set_new(row, PQfname(res, c), value_json(res, r, c));
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
        st = plain(tx, "RELEASE SAVEPOINT stmt");
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
    snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE id = ?%s", table, lock ? " FOR UPDATE" : "");
    json_t *args = json_pack("[s]", id);
    enum kith_status st = run_sql((struct pg_tx *)t, KITH_Q_COUNT, sql, args, &rows, 1, NULL);
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

static enum kith_status sp(struct pg_tx *tx, const char *verb, int depth)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "%s sp%d", verb, depth);
    return plain(tx, sql);
}

static enum kith_status pg_savepoint(struct kith_tx *t)
{
    struct pg_tx *tx = (struct pg_tx *)t;
    enum kith_status st = sp(tx, "SAVEPOINT", tx->depth + 1);
    if (st == KITH_OK)
        tx->depth++;
    return st;
}

static enum kith_status pg_release(struct kith_tx *t)
{
    struct pg_tx *tx = (struct pg_tx *)t;
    enum kith_status st = sp(tx, "RELEASE SAVEPOINT", tx->depth);
    tx->depth--;
    return st;
}

static enum kith_status pg_rollback(struct kith_tx *t)
{
    struct pg_tx *tx = (struct pg_tx *)t;
    bool was_failed = tx->failed;
    tx->failed = false; /* rolling back to a savepoint clears an aborted transaction */
    enum kith_status st = sp(tx, "ROLLBACK TO SAVEPOINT", tx->depth);
    if (st == KITH_OK)
        st = sp(tx, "RELEASE SAVEPOINT", tx->depth);
    tx->depth--;
    if (st != KITH_OK || (was_failed && PQstatus(tx->c->conn) != CONNECTION_OK))
        tx->failed = true;
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

/* One job in its own transaction, retried on serialization failures and deadlocks. */
static void run_job(struct pg_conn *c, struct kith_job *j)
{
    for (int attempt = 0; attempt < PG_RETRIES; attempt++) {
        if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
            if (pg_connect(c->s, c) != KITH_OK) {
                j->st = KITH_E_UNAVAILABLE;
                usleep(100000);
                continue;
            }
        }
        struct pg_tx tx = {.base = {&pg_ops}, .c = c};
        if ((j->st = plain(&tx, "BEGIN")) != KITH_OK)
            continue;
        if ((j->st = pg_savepoint(&tx.base)) == KITH_OK) {
            j->st = j->fn(&tx.base, j->arg);
            while (tx.depth > 1)
                pg_rollback(&tx.base);
            if (is_error(j->st))
                pg_rollback(&tx.base);
            else
                pg_release(&tx.base);
        }
        bool retry = sqlstate_is(&tx, "40001") || sqlstate_is(&tx, "40P01");
        if (tx.failed) {
            plain(&(struct pg_tx){.base = {&pg_ops}, .c = c}, "ROLLBACK");
            if (!is_error(j->st))
                j->st = KITH_E_UNAVAILABLE;
        } else {
            enum kith_status cst = plain(&tx, "COMMIT");
            retry = retry || sqlstate_is(&tx, "40001") || sqlstate_is(&tx, "40P01");
            if (cst != KITH_OK && !is_error(j->st))
                j->st = KITH_E_UNAVAILABLE;
        }
        if (!retry)
            return;
        j->st = KITH_E_UNAVAILABLE;
    }
}

static void conn_main(void *arg)
{
    struct pg_conn *c = arg;
    struct kith_job *j, *last;
    /* One job at a time per connection; barriers wait for the others. */
    while ((j = kith_jobs_take(&c->s->q, 1, &last)) != NULL) {
        run_job(c, j);
        kith_jobs_deliver(&c->s->q, j, last);
    }
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
    tx.failed = false;
    plain(&tx, "SELECT pg_advisory_unlock(7283172)");
    if (st == KITH_OK && version > target)
        return kith_err_set(err, KITH_E_INTERNAL, NULL,
                            "database schema %d is newer than this kith (%d)", version, target);
    return st;
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
    s->nconns = PG_CONNECTIONS;
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
    (void)store;
    (void)on; /* PostgreSQL commits with its own group commit; nothing to pipeline here */
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
    run_job(&s->conns[0], &j);
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
