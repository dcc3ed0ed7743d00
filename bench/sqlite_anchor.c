/*
 * sqlite_anchor.c: the reference bench/run.sh measures kith's durable signups on SQLite against,
 * in the same run. It is bench/pg.sh's pgbench anchor done on SQLite: a signup-shaped
 * transaction of five prepared statements (find the referrer's code, look for the person, insert
 * them, count the referrer's recent referrals, insert the referral), nothing else, on a database
 * of its own opened exactly as src/store/sqlite.c opens kith's (WAL, synchronous=FULL,
 * temp_store=MEMORY, cache_size=-32768, secure_delete=ON, the default page size, one
 * connection), with participants, codes and referrals shaped like kith's (the columns the
 * statements write, every index kith keeps on those tables, random 24-character ids as
 * kith_crypto_random_id makes) and the same 300 referrers as the bench's signups.
 *
 *   sqlite_anchor DB MODE SECONDS
 *
 * MODE tx: one transaction per signup, BEGIN IMMEDIATE ... COMMIT, an fsync each (what a naive
 * durable server gets). MODE group: 64 signups per transaction, each under its own SAVEPOINT and
 * RELEASE, as kith's writer runs a batch of jobs (what the database does at best with these
 * statements and this durability). Runs whole transactions until SECONDS have passed, then prints
 * one line: "<mode> <signups> signups in <s> s: <rate> per s". The database is created and
 * seeded when it has no tables yet, and grows from run to run, as kith's does over the rounds.
 * Exits 1 with SQLite's message on any error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REFERRERS 300
#define GROUP 64
#define ID_LEN 24
#define WINDOW_MS (24LL * 3600 * 1000)

/* The tables as kith's migrations leave them, reduced to the columns these statements write;
 * every index kith has on participants, codes and referrals (sqlite_schema.h). */
static const char schema[] =
    "CREATE TABLE participants (id TEXT PRIMARY KEY, program TEXT NOT NULL,"
    "  external_id TEXT NOT NULL, email TEXT, email_norm TEXT, first_name TEXT,"
    "  code TEXT NOT NULL, referred_by TEXT, status TEXT NOT NULL,"
    "  leaderboard_opt_in INTEGER NOT NULL DEFAULT 0, erased INTEGER NOT NULL DEFAULT 0,"
    "  clicks INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL, UNIQUE (program, external_id));"
    "CREATE INDEX participants_email ON participants (program, email_norm);"
    "CREATE INDEX participants_active ON participants (program, created_at)"
    "  WHERE status = 'active' AND erased = 0;"
    "CREATE INDEX participants_joined ON participants (program, created_at);"
    "CREATE TABLE codes (norm TEXT PRIMARY KEY, code TEXT NOT NULL, participant TEXT NOT NULL,"
    "  kind TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE INDEX codes_participant ON codes (participant);"
    "CREATE TABLE referrals (id TEXT PRIMARY KEY, program TEXT NOT NULL, referrer TEXT NOT NULL,"
    "  referred TEXT NOT NULL, code TEXT, source TEXT NOT NULL, channel TEXT, click TEXT,"
    "  status TEXT NOT NULL, fraud_score INTEGER NOT NULL DEFAULT 0,"
    "  fraud_flags TEXT NOT NULL DEFAULT '[]', email_domain TEXT, email_stem TEXT,"
    "  created_at INTEGER NOT NULL, qualified_at INTEGER, rewarded_at INTEGER,"
    "  expires_at INTEGER, hold_until INTEGER, updated_at INTEGER NOT NULL, resource TEXT,"
    "  UNIQUE (program, referred));"
    "CREATE INDEX referrals_referrer ON referrals (referrer, created_at);"
    "CREATE INDEX referrals_stem ON referrals (referrer, email_domain, email_stem);"
    "CREATE INDEX referrals_due ON referrals (status, expires_at);"
    "CREATE INDEX referrals_hold ON referrals (status, hold_until);"
    "CREATE INDEX referrals_program ON referrals (program, created_at);"
    "CREATE INDEX referrals_qualified ON referrals (program, qualified_at)"
    "  WHERE qualified_at IS NOT NULL;"
    "CREATE INDEX referrals_resource ON referrals (program, resource, created_at)"
    "  WHERE resource IS NOT NULL;";

/* The five statements of one signup, in order. */
static const char *const sql[] = {
    "SELECT p.id, p.first_name FROM codes c JOIN participants p ON p.id = c.participant"
    " WHERE c.norm = ?1",
    "SELECT id FROM participants WHERE program = 'bench' AND external_id = ?1",
    "INSERT INTO participants (id, program, external_id, email, email_norm, first_name, code,"
    " referred_by, status, created_at, updated_at)"
    " VALUES (?1, 'bench', ?2, ?3, ?3, 'Sam', ?4, ?5, 'active', ?6, ?6)",
    "SELECT count(*) FROM referrals WHERE referrer = ?1 AND created_at > ?2",
    "INSERT INTO referrals (id, program, referrer, referred, code, source, status, fraud_score,"
    " fraud_flags, email_domain, email_stem, created_at, expires_at, updated_at)"
    " VALUES (?1, 'bench', ?2, ?3, ?4, 'url', 'pending', 2, '[\"velocity\",\"new_referrer\"]',"
    " 'example.org', ?5, ?6, ?7, ?6)",
};
enum { Q_CODE, Q_PERSON, Q_INSERT_PERSON, Q_COUNT, Q_INSERT_REFERRAL, Q_N };

static sqlite3 *db;
static sqlite3_stmt *stmt[Q_N];
static sqlite3_stmt *begin_st, *commit_st, *savepoint_st, *release_st;
static uint64_t rng_state;

static void die(const char *what)
{
    fprintf(stderr, "sqlite_anchor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "no database");
    exit(1);
}

/* splitmix64: ids need to be spread like random ones, not to be secret. */
static uint64_t next_random(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* prefix + ID_LEN base32 characters, as kith_crypto_random_id. */
static void random_id(const char *prefix, char *out, size_t cap)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t n = (size_t)snprintf(out, cap, "%s", prefix);
    for (int i = 0; i < ID_LEN && n + 1 < cap; i++)
        out[n++] = alphabet[next_random() & 31];
    out[n] = '\0';
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void exec(const char *text)
{
    char *msg = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "sqlite_anchor: %s: %s\n", text, msg ? msg : "error");
        exit(1);
    }
}

/* Runs a statement that returns no row, then resets it. */
static void run(sqlite3_stmt *st, const char *what)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        die(what);
    sqlite3_reset(st);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) != SQLITE_OK)
        die("bind");
}

static void bind_int(sqlite3_stmt *st, int i, int64_t v)
{
    if (sqlite3_bind_int64(st, i, v) != SQLITE_OK)
        die("bind");
}

static void seed(void)
{
    sqlite3_stmt *st = NULL;
    int tables = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        die("schema");
    tables = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (tables > 0)
        return;
    exec("BEGIN IMMEDIATE");
    exec(schema);
    sqlite3_stmt *person = NULL, *code = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO participants (id, program, external_id, first_name, code,"
                           " status, created_at, updated_at)"
                           " VALUES (?1, 'bench', ?2, 'R', ?3, 'active', ?4, ?4)",
                           -1, &person, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO codes (norm, code, participant, kind, created_at)"
                           " VALUES (?1, ?1, ?2, 'primary', ?3)",
                           -1, &code, NULL) != SQLITE_OK)
        die("prepare seed");
    int64_t t = now_ms();
    for (int i = 0; i < REFERRERS; i++) {
        char id[48], ext[32], norm[32];
        random_id("par_", id, sizeof(id));
        snprintf(ext, sizeof(ext), "ref%d", i);
        snprintf(norm, sizeof(norm), "REF-%d", i);
        bind_text(person, 1, id);
        bind_text(person, 2, ext);
        bind_text(person, 3, norm);
        bind_int(person, 4, t);
        run(person, "seed participant");
        bind_text(code, 1, norm);
        bind_text(code, 2, id);
        bind_int(code, 3, t);
        run(code, "seed code");
    }
    sqlite3_finalize(person);
    sqlite3_finalize(code);
    exec("COMMIT");
}

/* The five statements of one signup to referrer r. */
static void signup(int r)
{
    char norm[32], referrer[64], person[48], ext[48], email[64], pcode[16], referral[48];
    int64_t t = now_ms();
    snprintf(norm, sizeof(norm), "REF-%d", r);
    random_id("par_", person, sizeof(person));
    random_id("ref_", referral, sizeof(referral));
    snprintf(ext, sizeof(ext), "a-%s", person + 4);
    snprintf(email, sizeof(email), "%s@example.org", person + 4);
    snprintf(pcode, sizeof(pcode), "SAM-%.6s", person + 4);

    sqlite3_stmt *st = stmt[Q_CODE];
    bind_text(st, 1, norm);
    if (sqlite3_step(st) != SQLITE_ROW)
        die("referrer's code not found");
    snprintf(referrer, sizeof(referrer), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);

    st = stmt[Q_PERSON];
    bind_text(st, 1, ext);
    if (sqlite3_step(st) != SQLITE_DONE)
        die("person already there");
    sqlite3_reset(st);

    st = stmt[Q_INSERT_PERSON];
    bind_text(st, 1, person);
    bind_text(st, 2, ext);
    bind_text(st, 3, email);
    bind_text(st, 4, pcode);
    bind_text(st, 5, referral);
    bind_int(st, 6, t);
    run(st, "insert participant");

    st = stmt[Q_COUNT];
    bind_text(st, 1, referrer);
    bind_int(st, 2, t - WINDOW_MS);
    if (sqlite3_step(st) != SQLITE_ROW)
        die("count referrals");
    sqlite3_reset(st);

    st = stmt[Q_INSERT_REFERRAL];
    bind_text(st, 1, referral);
    bind_text(st, 2, referrer);
    bind_text(st, 3, person);
    bind_text(st, 4, norm);
    bind_text(st, 5, person + 4);
    bind_int(st, 6, t);
    bind_int(st, 7, t + 30 * WINDOW_MS);
    run(st, "insert referral");
}

static sqlite3_stmt *prepare(const char *text)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, text, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        die(text);
    return st;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[2], "tx") != 0 && strcmp(argv[2], "group") != 0)) {
        fprintf(stderr, "usage: sqlite_anchor DB tx|group SECONDS\n");
        return 2;
    }
    char *end = NULL;
    errno = 0;
    double seconds = strtod(argv[3], &end);
    if (errno != 0 || end == argv[3] || *end != '\0' || seconds <= 0) {
        fprintf(stderr, "sqlite_anchor: SECONDS must be a positive number\n");
        return 2;
    }
    int per_tx = strcmp(argv[2], "group") == 0 ? GROUP : 1;
    rng_state = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);

    if (sqlite3_open_v2(argv[1], &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        die(argv[1]);
    sqlite3_busy_timeout(db, 5000);
    exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
         "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768;"
         "PRAGMA secure_delete = ON");
    seed();
    for (int i = 0; i < Q_N; i++)
        stmt[i] = prepare(sql[i]);
    begin_st = prepare("BEGIN IMMEDIATE");
    commit_st = prepare("COMMIT");
    savepoint_st = prepare("SAVEPOINT job");
    release_st = prepare("RELEASE job");

    long done = 0;
    uint64_t counter = 0;
    double t0 = monotonic_s(), elapsed = 0;
    while (elapsed < seconds) {
        run(begin_st, "BEGIN");
        for (int j = 0; j < per_tx; j++) {
            /* spread over the referrers as bench/signup.lua does */
            int r = (int)((++counter * 7) % REFERRERS);
            if (per_tx > 1)
                run(savepoint_st, "SAVEPOINT");
            signup(r);
            if (per_tx > 1)
                run(release_st, "RELEASE");
        }
        run(commit_st, "COMMIT");
        done += per_tx;
        elapsed = monotonic_s() - t0;
    }
    printf("%s %ld signups in %.2f s: %.1f per s\n", argv[2], done, elapsed,
           (double)done / elapsed);

    for (int i = 0; i < Q_N; i++)
        sqlite3_finalize(stmt[i]);
    sqlite3_finalize(begin_st);
    sqlite3_finalize(commit_st);
    sqlite3_finalize(savepoint_st);
    sqlite3_finalize(release_st);
    return sqlite3_close(db) == SQLITE_OK ? 0 : 1;
}
