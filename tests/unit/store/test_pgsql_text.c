/*
 * test_pgsql_text.c: the PostgreSQL back-end's reading of statement text (pgsql_text.h): the
 * translation, refusable inserts, and which statements only read (those need no savepoint of a
 * nested level before them).
 */
#include <stdlib.h>

#include "store/pgsql_text.h"
#include "test.h"

static void test_translate(void)
{
    char *t = kith_pgsql_translate("SELECT rowid, a FROM t WHERE a = ? AND b = ?3 AND ? IS NULL");
    CHECK_STR(t, "SELECT seq, a FROM t WHERE a = $1 AND b = $3 AND $2::text IS NULL");
    free(t);
    t = kith_pgsql_translate("INSERT OR IGNORE INTO t (a) VALUES (?)");
    CHECK_STR(t, "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING");
    free(t);
    t = kith_pgsql_translate("INSERT INTO t (a) VALUES (?) RETURNING a");
    CHECK_STR(t, "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING RETURNING a");
    free(t);
    CHECK(!kith_pgsql_refusable("INSERT INTO t (a) VALUES (?), (?)"));
    CHECK(!kith_pgsql_refusable("INSERT INTO t (a) SELECT a FROM u"));
}

static void test_only_reads(void)
{
    CHECK(kith_pgsql_only_reads("SELECT * FROM participants WHERE id = $1"));
    CHECK(kith_pgsql_only_reads("  select updated_at, last_update FROM t"));
    CHECK(kith_pgsql_only_reads("WITH x AS (SELECT 1) SELECT * FROM x"));
    CHECK(!kith_pgsql_only_reads("SELECT * FROM participants WHERE id = $1 FOR UPDATE"));
    CHECK(!kith_pgsql_only_reads("SELECT * FROM t WHERE id = $1 FOR KEY SHARE"));
    CHECK(!kith_pgsql_only_reads("SELECT * FROM t FOR UPDATE SKIP LOCKED"));
    CHECK(!kith_pgsql_only_reads("SELECT pg_advisory_xact_lock(1)"));
    CHECK(!kith_pgsql_only_reads("SELECT nextval('s')"));
    CHECK(
        !kith_pgsql_only_reads("WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x"));
    CHECK(!kith_pgsql_only_reads("INSERT INTO t (a) VALUES ($1)"));
    CHECK(!kith_pgsql_only_reads("UPDATE t SET a = 1"));
    CHECK(!kith_pgsql_only_reads("SET LOCAL lock_timeout = '25ms'"));
}

int main(void)
{
    RUN(test_translate);
    RUN(test_only_reads);
    TEST_DONE();
}
