/*
 * test_store.c: the store interface's contract, run against the SQLite back-end: rows in and
 * out, constraint violations reported as KITH_E_CONSTRAINT, a failing job undoing only itself
 * inside a shared (group) commit, nested savepoints, completions in submission order, and data
 * surviving a close and reopen.
 */
#include <stdlib.h>
#include <unistd.h>

#include "kith/store.h"
#include "store/backend.h"
#include "store/queries.h"
#include "test.h"

static char db_path[512];

/*
 * With KITH_TEST_PG_URL (postgres://user@host:port) the same cases run against PostgreSQL, each
 * on a database of its own made with psql.
 */
static int pg_round;

static void fresh_path(void)
{
    const char *pg = getenv("KITH_TEST_PG_URL");
    if (pg && *pg) {
        char cmd[1024];
        snprintf(db_path, sizeof(db_path), "%s/kith_store_%d_%d", pg, (int)getpid(), ++pg_round);
        snprintf(cmd, sizeof(cmd),
                 "psql -q '%s/postgres' -c 'CREATE DATABASE kith_store_%d_%d' >/dev/null", pg,
                 (int)getpid(), pg_round);
        if (system(cmd) != 0) {
            fprintf(stderr, "cannot create a PostgreSQL test database: %s\n", cmd);
            exit(1);
        }
        return;
    }
    snprintf(db_path, sizeof(db_path), "/tmp/kith-store-test-%d.db", (int)getpid());
    unlink(db_path);
    char wal[600];
    snprintf(wal, sizeof(wal), "%s-wal", db_path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", db_path);
    unlink(wal);
}

static enum kith_status put_key(struct kith_tx *tx, void *arg)
{
    json_t *row = json_pack("{s:s,s:s,s:s,s:i}", "id", (const char *)arg, "kind", "secret", "hash",
                            (const char *)arg, "created_at", 1);
    enum kith_status st = kith_store_insert(tx, "api_keys", row);
    json_decref(row);
    return st;
}

static enum kith_status put_then_fail(struct kith_tx *tx, void *arg)
{
    enum kith_status st = put_key(tx, arg);
    CHECK_INT(st, KITH_OK);
    return KITH_E_INVALID_STATE; /* the job's writes must vanish */
}

static enum kith_status count_keys(struct kith_tx *tx, void *arg)
{
    json_t *row = NULL, *args = json_array();
    enum kith_status st = kith_store_query_one(tx, KITH_Q_KEYS_COUNT, args, &row);
    json_decref(args);
    if (st == KITH_OK)
        *(int64_t *)arg = json_integer_value(json_object_get(row, "n"));
    json_decref(row);
    return st;
}

static void test_rows_and_constraints(void)
{
    struct kith_store *s = NULL;
    struct kith_err err;
    fresh_path();
    CHECK_INT(kith_store_open(db_path, &s, &err), KITH_OK);
    CHECK_INT(kith_store_run(s, put_key, "k1"), KITH_OK);
    CHECK_INT(kith_store_run(s, put_key, "k1"), KITH_E_CONSTRAINT);
    CHECK_INT(kith_store_run(s, put_then_fail, "k2"), KITH_E_INVALID_STATE);
    int64_t n = -1;
    CHECK_INT(kith_store_run(s, count_keys, &n), KITH_OK);
    CHECK_INT(n, 1);
    kith_store_close(s);
    /* reopen: the committed row is there, migrations are not re-run */
    CHECK_INT(kith_store_open(db_path, &s, &err), KITH_OK);
    n = -1;
    CHECK_INT(kith_store_run(s, count_keys, &n), KITH_OK);
    CHECK_INT(n, 1);
    kith_store_close(s);
}

static bool has_key(struct kith_tx *tx, const char *id)
{
    json_t *row = NULL;
    enum kith_status st = kith_store_get(tx, "api_keys", id, &row);
    json_decref(row);
    return st == KITH_OK;
}

static enum kith_status get_update(struct kith_tx *tx, void *arg)
{
    json_t *row = NULL;
    (void)arg;
    CHECK_INT(kith_store_get(tx, "api_keys", "missing", &row), KITH_E_NOT_FOUND);
    CHECK_INT(kith_store_get(tx, "api_keys", "k1", &row), KITH_OK);
    CHECK_STR(json_string_value(json_object_get(row, "kind")), "secret");
    json_decref(row);
    json_t *set = json_pack("{s:s}", "kind", "publishable");
    CHECK_INT(kith_store_update(tx, "api_keys", "k1", set), KITH_OK);
    CHECK_INT(kith_store_update(tx, "api_keys", "nope", set), KITH_E_NOT_FOUND);
    json_decref(set);
    CHECK_INT(kith_store_get(tx, "api_keys", "k1", &row), KITH_OK);
    CHECK_STR(json_string_value(json_object_get(row, "kind")), "publishable");
    json_decref(row);
    /* a row's lock alone leaves the row as it was; PostgreSQL's says whether it is there,
     * SQLite's reads nothing (kith/store.h) */
    CHECK_INT(kith_store_lock(tx, "api_keys", "k1"), KITH_OK);
    CHECK_INT(kith_store_lock(tx, "api_keys", "nope"),
              getenv("KITH_TEST_PG_URL") ? KITH_E_NOT_FOUND : KITH_OK);
    CHECK(has_key(tx, "k1"));
    CHECK_INT(kith_store_get(tx, "api_keys", "k1", &row), KITH_OK);
    CHECK_STR(json_string_value(json_object_get(row, "kind")), "publishable");
    json_decref(row);
    /* a nested savepoint rolled back leaves the outer work */
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK);
    CHECK_INT(put_key(tx, "k9"), KITH_OK);
    CHECK_INT(kith_tx_rollback(tx), KITH_OK);
    CHECK_INT(kith_store_get(tx, "api_keys", "k9", &row), KITH_E_NOT_FOUND);
    CHECK_INT(kith_store_query_one(tx, KITH_Q_COUNT, NULL, &row), KITH_E_INTERNAL);
    return KITH_OK;
}

static void test_get_update_savepoints(void)
{
    struct kith_store *s = NULL;
    struct kith_err err;
    fresh_path();
    CHECK_INT(kith_store_open(db_path, &s, &err), KITH_OK);
    CHECK_INT(kith_store_run(s, put_key, "k1"), KITH_OK);
    CHECK_INT(kith_store_run(s, get_update, NULL), KITH_OK);
    kith_store_close(s);
}

/* Savepoints that only read before their first write share one real savepoint (sqlite.c): each
 * level still keeps or undoes exactly its own writes. */
static enum kith_status nested_levels(struct kith_tx *tx, void *arg)
{
    (void)arg;
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK); /* A: reads only, then writes in B */
    CHECK(!has_key(tx, "k20"));
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK); /* B */
    CHECK_INT(put_key(tx, "k20"), KITH_OK);
    CHECK_INT(kith_tx_release(tx), KITH_OK);
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK); /* C: nothing written, rolled back */
    CHECK(has_key(tx, "k20"));
    CHECK_INT(kith_tx_rollback(tx), KITH_OK);
    CHECK(has_key(tx, "k20"));
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK); /* D: its own write undone */
    CHECK_INT(put_key(tx, "k21"), KITH_OK);
    CHECK_INT(kith_tx_rollback(tx), KITH_OK);
    CHECK(!has_key(tx, "k21") && has_key(tx, "k20"));
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK); /* E and F open together, F writes first */
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK);
    CHECK_INT(put_key(tx, "k22"), KITH_OK);
    CHECK_INT(kith_tx_rollback(tx), KITH_OK); /* F: shares E's savepoint, undoes k22 only */
    CHECK(!has_key(tx, "k22"));
    CHECK_INT(put_key(tx, "k23"), KITH_OK);
    CHECK_INT(kith_tx_rollback(tx), KITH_OK); /* E */
    CHECK(!has_key(tx, "k23") && has_key(tx, "k20"));
    CHECK_INT(kith_tx_release(tx), KITH_OK);   /* A keeps k20 */
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK); /* G undoes what its released H wrote */
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK);
    CHECK_INT(put_key(tx, "k24"), KITH_OK);
    CHECK_INT(kith_tx_release(tx), KITH_OK);
    CHECK(has_key(tx, "k24"));
    CHECK_INT(kith_tx_rollback(tx), KITH_OK);
    CHECK(!has_key(tx, "k24") && has_key(tx, "k20"));
    return KITH_OK;
}

static enum kith_status check_nested(struct kith_tx *tx, void *arg)
{
    (void)arg;
    CHECK(has_key(tx, "k20"));
    CHECK(!has_key(tx, "k21") && !has_key(tx, "k22") && !has_key(tx, "k23") && !has_key(tx, "k24"));
    return KITH_OK;
}

/* A batch's first job opens its levels before any write: they have no savepoint of their own
 * (sqlite.c), and undoing one undoes the transaction, which goes on with what comes next. */
static enum kith_status bare_levels(struct kith_tx *tx, void *arg)
{
    (void)arg;
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK); /* A */
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK); /* B */
    CHECK_INT(put_key(tx, "k30"), KITH_OK);
    CHECK_INT(kith_tx_rollback(tx), KITH_OK); /* B undoes k30 */
    CHECK(!has_key(tx, "k30"));
    CHECK_INT(put_key(tx, "k31"), KITH_OK);
    CHECK_INT(kith_tx_savepoint(tx), KITH_OK); /* C: opened after a write, a real savepoint */
    CHECK_INT(put_key(tx, "k32"), KITH_OK);
    CHECK_INT(kith_tx_rollback(tx), KITH_OK);
    CHECK(has_key(tx, "k31") && !has_key(tx, "k32"));
    CHECK_INT(kith_tx_release(tx), KITH_OK); /* A keeps k31 */
    return KITH_OK;
}

static enum kith_status check_bare(struct kith_tx *tx, void *arg)
{
    (void)arg;
    CHECK(!has_key(tx, "k30") && has_key(tx, "k31") && !has_key(tx, "k32"));
    return KITH_OK;
}

/* The click batch: rows in, a repeated id ignored. */
static enum kith_status click_batches(struct kith_tx *tx, void *arg)
{
    (void)arg;
    json_t *batch = json_pack(
        "[[{s:s,s:s,s:s,s:s,s:i,s:n},{s:s,s:s,s:s,s:s,s:i,s:s}]]", "id", "clk_1", "program", "p",
        "participant", "par_1", "code", "C-1", "created_at", 5, "channel", "id", "clk_2", "program",
        "p", "participant", "par_1", "code", "C-1", "created_at", 6, "channel", "email");
    int64_t changes = -1;
    CHECK_INT(kith_store_exec(tx, KITH_Q_CLICKS_INSERT_MANY, batch, &changes), KITH_OK);
    CHECK_INT(changes, 2);
    CHECK_INT(kith_store_exec(tx, KITH_Q_CLICKS_INSERT_MANY, batch, &changes), KITH_OK);
    CHECK_INT(changes, 0);
    json_decref(batch);
    json_t *row = NULL;
    CHECK_INT(kith_store_get(tx, "clicks", "clk_2", &row), KITH_OK);
    CHECK_STR(json_string_value(json_object_get(row, "channel")), "email");
    CHECK_INT(json_integer_value(json_object_get(row, "created_at")), 6);
    CHECK(json_is_null(json_object_get(row, "resource")));
    json_decref(row);
    return KITH_OK;
}

/* The same batch from typed rows (kith_store_exec_rows): 70 rows (two 32-row statements on
 * SQLite, then one row at a time), two of them ids already stored. */
static const char *const typed_cols[] = {
    "id",      "program", "participant", "code", "created_at", "channel", "referrer_host",
    "ip_hash", "ua_hash", "resource",    NULL};

static void typed_row(const void *rows, size_t i, struct kith_store_value *v)
{
    static char ids[70][16];
    (void)rows;
    snprintf(ids[i], sizeof(ids[i]), "clk_%zu", i < 2 ? i + 1 : i + 100);
    v[0].text = ids[i];
    v[1].text = "p";
    v[2].text = "par_2";
    v[3].text = "C-2";
    v[4].is_num = true;
    v[4].num = (int64_t)i * 10;
    v[5].text = i % 2 ? "sms" : NULL;
    v[9].text = i == 69 ? "guide" : NULL;
}

static enum kith_status typed_batches(struct kith_tx *tx, void *arg)
{
    (void)arg;
    int64_t changes = -1;
    CHECK_INT(kith_store_exec_rows(tx, KITH_Q_CLICKS_INSERT_MANY, typed_cols, 70, typed_row, NULL,
                                   &changes),
              KITH_OK);
    CHECK_INT(changes, 68);
    CHECK_INT(kith_store_exec_rows(tx, KITH_Q_CLICKS_INSERT_MANY, typed_cols, 70, typed_row, NULL,
                                   &changes),
              KITH_OK);
    CHECK_INT(changes, 0);
    json_t *row = NULL;
    CHECK_INT(kith_store_get(tx, "clicks", "clk_169", &row), KITH_OK);
    CHECK_STR(json_string_value(json_object_get(row, "channel")), "sms");
    CHECK_STR(json_string_value(json_object_get(row, "resource")), "guide");
    CHECK_INT(json_integer_value(json_object_get(row, "created_at")), 690);
    json_decref(row);
    CHECK_INT(kith_store_get(tx, "clicks", "clk_102", &row), KITH_OK);
    CHECK(json_is_null(json_object_get(row, "channel")));
    CHECK(json_is_null(json_object_get(row, "ip_hash")));
    CHECK_STR(json_string_value(json_object_get(row, "participant")), "par_2");
    json_decref(row);
    CHECK_INT(kith_store_get(tx, "clicks", "clk_2", &row), KITH_OK); /* the first one stays */
    CHECK_STR(json_string_value(json_object_get(row, "participant")), "par_1");
    json_decref(row);
    return KITH_OK;
}

/* A row whose text is not UTF-8, given to the JSON form of a batch: the batch is refused, and
 * no row of it is written with that value dropped. */
static void bad_text_row(const void *rows, size_t i, struct kith_store_value *v)
{
    (void)rows;
    v[0].text = i == 0 ? "clk_utf_ok" : "clk_utf_bad";
    v[1].text = "p";
    v[2].text = "par_2";
    v[3].text = "C-2";
    v[4].is_num = true;
    v[4].num = 5;
    v[6].text = i == 0 ? "example.com"
                       : "ex\xff"
                         "ample.com";
}

static enum kith_status bad_text_batch(struct kith_tx *tx, void *arg)
{
    (void)arg;
    int64_t changes = -1;
    CHECK_INT(kith_store_rows_as_json(tx, KITH_Q_CLICKS_INSERT_MANY, typed_cols, 2, bad_text_row,
                                      NULL, &changes),
              KITH_E_INTERNAL);
    CHECK_INT(changes, -1);
    json_t *row = NULL;
    CHECK_INT(kith_store_get(tx, "clicks", "clk_utf_ok", &row), KITH_E_NOT_FOUND);
    CHECK_INT(kith_store_get(tx, "clicks", "clk_utf_bad", &row), KITH_E_NOT_FOUND);
    return KITH_OK;
}

static void test_lazy_savepoints_and_click_batches(void)
{
    struct kith_store *s = NULL;
    struct kith_err err;
    fresh_path();
    CHECK_INT(kith_store_open(db_path, &s, &err), KITH_OK);
    CHECK_INT(kith_store_run(s, nested_levels, NULL), KITH_OK);
    CHECK_INT(kith_store_run(s, check_nested, NULL), KITH_OK);
    CHECK_INT(kith_store_run(s, bare_levels, NULL), KITH_OK);
    CHECK_INT(kith_store_run(s, check_bare, NULL), KITH_OK);
    CHECK_INT(kith_store_run(s, click_batches, NULL), KITH_OK);
    CHECK_INT(kith_store_run(s, typed_batches, NULL), KITH_OK);
    CHECK_INT(kith_store_run(s, bad_text_batch, NULL), KITH_OK);
    kith_store_close(s);
}

/*
 * Counter bumps nobody reads the answer of (PostgreSQL sends them with the next statement, or
 * at the job's end): a read after them sees them, a failing job undoes them, and one that fails
 * after being told OK makes its job end as if it had been refused in its place.
 */
static enum kith_status bump(struct kith_tx *tx, json_int_t active, json_t *sharers)
{
    json_t *args = json_pack("[sIo]", "t", active, sharers);
    enum kith_status st = kith_store_exec(tx, KITH_Q_COUNTS_ADD, args, NULL);
    json_decref(args);
    return st;
}

static enum kith_status active_count(struct kith_tx *tx, void *arg)
{
    json_t *row = NULL, *args = json_pack("[s]", "t");
    enum kith_status st = kith_store_query_one(tx, KITH_Q_COUNTS_GET, args, &row);
    json_decref(args);
    if (st == KITH_OK)
        *(int64_t *)arg = json_integer_value(json_object_get(row, "participants_active"));
    json_decref(row);
    return st;
}

static enum kith_status bumps_then_read(struct kith_tx *tx, void *arg)
{
    enum kith_status st = bump(tx, 2, json_integer(1));
    if (st == KITH_OK)
        st = bump(tx, 3, json_integer(0));
    return st == KITH_OK ? active_count(tx, arg) : st;
}

static enum kith_status bump_last(struct kith_tx *tx, void *arg)
{
    (void)arg;
    return bump(tx, 1, json_integer(0));
}

static enum kith_status bump_then_fail(struct kith_tx *tx, void *arg)
{
    (void)arg;
    CHECK_INT(bump(tx, 100, json_integer(0)), KITH_OK);
    return KITH_E_INVALID_STATE;
}

static enum kith_status bad_bump(struct kith_tx *tx, void *arg)
{
    enum kith_status st = put_key(tx, arg);
    if (st != KITH_OK)
        return st;
    st = bump(tx, 1, json_null()); /* sharers NOT NULL: refused */
    if (st != KITH_OK)
        return st;
    return bump(tx, 1, json_integer(0));
}

static enum kith_status key_exists(struct kith_tx *tx, void *arg)
{
    json_t *row = NULL;
    enum kith_status st = kith_store_get(tx, "api_keys", arg, &row);
    json_decref(row);
    return st;
}

static void test_counter_bumps(void)
{
    struct kith_store *s = NULL;
    struct kith_err err;
    int64_t n = -1;
    fresh_path();
    CHECK_INT(kith_store_open(db_path, &s, &err), KITH_OK);
    CHECK_INT(kith_store_run(s, bumps_then_read, &n), KITH_OK);
    CHECK_INT(n, 5);
    CHECK_INT(kith_store_run(s, bump_last, NULL), KITH_OK);
    CHECK_INT(kith_store_run(s, bump_then_fail, NULL), KITH_E_INVALID_STATE);
    CHECK_INT(kith_store_run(s, bad_bump, "dk"), KITH_E_CONSTRAINT);
    CHECK_INT(kith_store_run(s, active_count, &n), KITH_OK);
    CHECK_INT(n, 6);
    CHECK_INT(kith_store_run(s, key_exists, "dk"), KITH_E_NOT_FOUND);
    kith_store_close(s);
}

#define JOBS 500

struct job_rec {
    char id[16];
    int order;
    enum kith_status st;
};

static int done_order;

static enum kith_status job_fn(struct kith_tx *tx, void *arg)
{
    struct job_rec *r = arg;
    /* every 7th job fails after writing: only its own row must disappear */
    enum kith_status st = put_key(tx, r->id);
    if (st == KITH_OK && strtol(r->id + 1, NULL, 10) % 7 == 0)
        return KITH_E_INVALID_PARAM;
    return st;
}

static void job_done(void *arg, enum kith_status st)
{
    struct job_rec *r = arg;
    r->st = st;
    r->order = done_order++;
}

static void test_group_commit(void)
{
    struct kith_store *s = NULL;
    struct kith_err err;
    static struct job_rec recs[JOBS];
    uv_loop_t loop;
    fresh_path();
    uv_loop_init(&loop);
    CHECK_INT(kith_store_open(db_path, &s, &err), KITH_OK);
    kith_store_start(s, &loop);
    for (int i = 0; i < JOBS; i++) {
        snprintf(recs[i].id, sizeof(recs[i].id), "j%d", i);
        recs[i].order = -1;
        kith_store_submit(s, job_fn, job_done, &recs[i]);
    }
    while (done_order < JOBS)
        uv_run(&loop, UV_RUN_ONCE);
    int in_order = 1, failed = 0;
    for (int i = 0; i < JOBS; i++) {
        if (recs[i].order != i)
            in_order = 0;
        if (recs[i].st != KITH_OK)
            failed++;
    }
    /* One writer commits in submission order; a connection pool (PostgreSQL) need not. */
    if (getenv("KITH_TEST_PG_URL") == NULL)
        CHECK(in_order);
    CHECK_INT(failed, (JOBS + 6) / 7);
    kith_store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT); /* the store is freed when its handle has closed */
    CHECK_INT(uv_loop_close(&loop), 0);
    CHECK_INT(kith_store_open(db_path, &s, &err), KITH_OK);
    int64_t n = -1;
    CHECK_INT(kith_store_run(s, count_keys, &n), KITH_OK);
    CHECK_INT(n, JOBS - (JOBS + 6) / 7);
    kith_store_close(s);
    fresh_path();
}

/* Every query id has SQLite SQL (PostgreSQL falls back to it) and a dotted name. */
static void test_query_table(void)
{
    for (int q = 0; q < KITH_Q_COUNT; q++) {
        CHECK(kith_sqlite_sql[q] != NULL);
        CHECK(strchr(kith_query_name((enum kith_query)q), '.') != NULL ||
              strcmp(kith_query_name((enum kith_query)q), "health") == 0 ||
              strcmp(kith_query_name((enum kith_query)q), "leaderboard") == 0);
    }
    CHECK_STR(kith_query_name(KITH_Q_PARTICIPANTS_BY_EXTERNAL), "participants.by_external");
    CHECK_STR(kith_query_name(KITH_Q_COUNT), "?");
}

int main(void)
{
    RUN(test_query_table);
    RUN(test_rows_and_constraints);
    RUN(test_get_update_savepoints);
    RUN(test_lazy_savepoints_and_click_batches);
    RUN(test_counter_bumps);
    RUN(test_group_commit);
    TEST_DONE();
}
