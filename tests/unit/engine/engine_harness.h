/*
 * engine_harness.h: what the engine unit tests share. Each test opens a fresh store (a temporary
 * SQLite file, or with KITH_TEST_PG_URL a fresh PostgreSQL database made with psql on that
 * cluster), bootstraps the engine as the server does (hashing key, shipped domain lists, public
 * URL), and calls use cases through the engine's own interface (include/kith/engine.h): a
 * decoded request in, a status and a JSON document out, each call in its own store transaction
 * with the operation under a savepoint, exactly as src/http/api.c runs it. Time is only ever the
 * now_ms a test passes in. Assertions print both sides and the whole answer.
 *
 * It is not an HTTP harness: no authentication, idempotency or JSON framing errors (the HTTP
 * layer owns those). Only the public engine and store headers are used, so the tests do not
 * depend on how the engine is arranged inside.
 *
 * Answers returned by h_call() and the helpers are borrowed: they stay valid until h_close(),
 * which frees them all (like a request arena), so tests never free anything.
 */
#ifndef KITH_TEST_ENGINE_HARNESS_H
#define KITH_TEST_ENGINE_HARNESS_H

#include <jansson.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kith/clock.h"
#include "kith/core.h"
#include "kith/crypto.h"
#include "kith/data.h"
#include "kith/engine.h"
#include "kith/fraud.h"
#include "kith/log.h"
#include "kith/store.h"
#include "test.h"

/* Test time. T0 is 2026-01-01T00:00:00Z; every test counts from it. */
#define H_SEC INT64_C(1000)
#define H_HOUR INT64_C(3600000)
#define H_DAY INT64_C(86400000)
#define H_T0 INT64_C(1767225600000)
#define H_T0_TEXT "2026-01-01T00:00:00Z"
#define H_PUBLIC_URL "https://refer.example.com"
#define H_KEY_ID "key_enginetest"

struct h_state {
    struct kith_store *store;
    struct kith_engine eng;
    struct kith_domain_set *disposable, *coupons;
    char db[700];      /* SQLite path or PostgreSQL URL of this test's database */
    char pg_name[64];  /* PostgreSQL database name, "" on SQLite */
    int round;         /* tests opened in this process */
    int nprog;         /* programs made by h_program() in this test */
    char progs[4][48]; /* their ids */
    json_t *keep;      /* every answer of this test, freed by h_close() */
};
static struct h_state H;

/* ---- formatting ---- */

/* printf into one of 16 rotating buffers: for request bodies and queries that carry ids. */
static inline const char *h_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *h_fmt(const char *fmt, ...)
{
    static char bufs[16][8192];
    static int next;
    char *b = bufs[next++ % 16];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof(bufs[0]), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(bufs[0])) {
        fprintf(stderr, "harness: h_fmt result too long\n");
        abort();
    }
    return b;
}

static inline const char *h_status_name(enum kith_status st)
{
    switch (st) {
    case KITH_OK:
        return "KITH_OK";
    case KITH_CREATED:
        return "KITH_CREATED";
    case KITH_ACCEPTED:
        return "KITH_ACCEPTED";
    case KITH_E_INVALID_JSON:
        return "KITH_E_INVALID_JSON";
    case KITH_E_INVALID_PARAM:
        return "KITH_E_INVALID_PARAM";
    case KITH_E_IMMUTABLE:
        return "KITH_E_IMMUTABLE";
    case KITH_E_UNAUTHORIZED:
        return "KITH_E_UNAUTHORIZED";
    case KITH_E_FORBIDDEN:
        return "KITH_E_FORBIDDEN";
    case KITH_E_NOT_FOUND:
        return "KITH_E_NOT_FOUND";
    case KITH_E_INVALID_STATE:
        return "KITH_E_INVALID_STATE";
    case KITH_E_CODE_TAKEN:
        return "KITH_E_CODE_TAKEN";
    case KITH_E_IDEM_IN_USE:
        return "KITH_E_IDEM_IN_USE";
    case KITH_E_IDEM_REUSED:
        return "KITH_E_IDEM_REUSED";
    case KITH_E_TOO_LARGE:
        return "KITH_E_TOO_LARGE";
    case KITH_E_RATE_LIMITED:
        return "KITH_E_RATE_LIMITED";
    case KITH_E_UNAVAILABLE:
        return "KITH_E_UNAVAILABLE";
    case KITH_E_CONSTRAINT:
        return "KITH_E_CONSTRAINT";
    case KITH_E_INTERNAL:
        return "KITH_E_INTERNAL";
    }
    return "(unknown status)";
}

/* A JSON value as compact text for failure messages (static buffer, truncated). */
static inline const char *h_dump(const json_t *v)
{
    static char buf[2][4096];
    static int next;
    char *b = buf[next++ % 2];
    if (v == NULL) {
        snprintf(b, sizeof(buf[0]), "(absent)");
        return b;
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    snprintf(b, sizeof(buf[0]), "%s", text ? text : "(unprintable)");
    if (text && strlen(text) >= sizeof(buf[0]))
        memcpy(b + sizeof(buf[0]) - 5, "...", 4);
    free(text);
    return b;
}

/* ---- the store ---- */

static inline void h_psql(const char *server, const char *sql)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "psql -X -q -v ON_ERROR_STOP=1 -d '%s/postgres' -c '%s' >/dev/null",
             server, sql);
    if (system(cmd) != 0) {
        fprintf(stderr, "harness: psql failed: %s\n", cmd);
        exit(1);
    }
}

/* The PostgreSQL server URL without a trailing slash, or NULL on SQLite. */
static inline const char *h_pg_server(void)
{
    static char url[512];
    const char *pg = getenv("KITH_TEST_PG_URL");
    if (pg == NULL || *pg == '\0')
        return NULL;
    kith_strlcpy(url, pg, sizeof(url));
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
    return url;
}

static inline void h_unlink_sqlite(const char *path)
{
    char side[760];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

static inline enum kith_status h_boot_job(struct kith_tx *tx, void *arg)
{
    int64_t keys = 0;
    return kith_engine_bootstrap(tx, arg, &keys);
}

/* Opens this test's fresh database and bootstraps the engine on it, as `kith serve` does. */
static inline void h_open(void)
{
    struct kith_err err = {{0}, {0}};
    if (H.disposable == NULL) {
        kith_log_min_level = KITH_LOG_WARN; /* no "migrated" line per test */
        if (kith_crypto_init(&err) != KITH_OK ||
            kith_domain_set_parse(kith_data_disposable_email_domains,
                                  kith_data_disposable_email_domains_len, &H.disposable,
                                  &err) != KITH_OK ||
            kith_domain_set_parse(kith_data_coupon_sites, kith_data_coupon_sites_len, &H.coupons,
                                  &err) != KITH_OK) {
            fprintf(stderr, "harness: cannot start: %s\n", err.message);
            exit(1);
        }
    }
    H.round++;
    H.nprog = 0;
    H.pg_name[0] = '\0';
    const char *pg = h_pg_server();
    if (pg) {
        char sql[128];
        snprintf(H.pg_name, sizeof(H.pg_name), "kith_engine_%d_%d", (int)getpid(), H.round);
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", H.pg_name);
        h_psql(pg, sql);
        snprintf(H.db, sizeof(H.db), "%s/%s", pg, H.pg_name);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(H.db, sizeof(H.db), "%s/kith-engine-test-%d-%d.db", tmp && *tmp ? tmp : "/tmp",
                 (int)getpid(), H.round);
        h_unlink_sqlite(H.db);
    }
    if (kith_store_open(H.db, &H.store, &err) != KITH_OK) {
        fprintf(stderr, "harness: cannot open %s: %s\n", H.db, err.message);
        exit(1);
    }
    memset(&H.eng, 0, sizeof(H.eng));
    if (kith_store_run(H.store, h_boot_job, &H.eng) != KITH_OK) {
        fprintf(stderr, "harness: cannot bootstrap the engine on %s\n", H.db);
        exit(1);
    }
    kith_strlcpy(H.eng.public_url, H_PUBLIC_URL, sizeof(H.eng.public_url));
    H.eng.secure_cookies = true;
    H.eng.disposable = H.disposable;
    H.eng.coupon_sites = H.coupons;
    H.keep = json_array();
}

/* Closes and removes this test's database (KITH_TEST_KEEP=1 keeps it) and frees its answers. */
static inline void h_close(void)
{
    kith_store_close(H.store);
    H.store = NULL;
    json_decref(H.keep);
    H.keep = NULL;
    const char *keep = getenv("KITH_TEST_KEEP");
    if (keep && *keep && strcmp(keep, "0") != 0) {
        fprintf(stderr, "harness: kept %s\n", H.db);
        return;
    }
    const char *pg = h_pg_server();
    if (pg && H.pg_name[0]) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", H.pg_name);
        h_psql(pg, sql);
    } else if (!pg) {
        h_unlink_sqlite(H.db);
    }
}

/* Frees what the harness keeps for the whole process; call once before TEST_DONE(). */
static inline void h_teardown(void)
{
    kith_domain_set_destroy(H.disposable);
    kith_domain_set_destroy(H.coupons);
    H.disposable = H.coupons = NULL;
}

/* ---- calling the engine ---- */

struct h_job {
    kith_op_fn op;
    struct kith_call *call;
    json_t *out;
    struct kith_err err;
    enum kith_status st;
};

/* One API call's job, as api.c runs it: the operation under a savepoint, undone when it fails. */
static inline enum kith_status h_op_job(struct kith_tx *tx, void *arg)
{
    struct h_job *j = arg;
    /* A job may run again (a PostgreSQL serialization retry): start from a clean answer. */
    json_decref(j->out);
    j->out = NULL;
    memset(&j->err, 0, sizeof(j->err));
    j->call->invalidates_links = false;
    j->call->keeps_due_moves = false;
    if ((j->st = kith_tx_savepoint(tx)) != KITH_OK)
        return j->st;
    j->st = j->op(tx, j->call, &j->out, &j->err);
    if (j->st == KITH_OK || j->st == KITH_CREATED) {
        kith_tx_release(tx);
    } else if (j->st == KITH_E_INVALID_STATE && j->call->keeps_due_moves) {
        kith_tx_release(tx); /* as call.c: the moves time had made due stay */
        json_decref(j->out);
        j->out = NULL;
    } else {
        kith_tx_rollback(tx);
        json_decref(j->out);
        j->out = NULL;
    }
    return KITH_OK;
}

static inline json_t *h_keep(json_t *v)
{
    json_array_append_new(H.keep, v);
    return v;
}

/*
 * Calls one operation: param is the route's capture ({id}) or NULL, query the raw query string
 * or NULL, body the JSON object text or NULL (no body). *out receives the answer (borrowed until
 * h_close): the operation's document on success, else the contract's error document
 * {"error": {"code", "message", "param"}} built from the status and err, as api.c builds it.
 * Returns the operation's status.
 */
static inline enum kith_status h_call(kith_op_fn op, const char *param, const char *query,
                                      const char *body, int64_t now_ms, json_t **out)
{
    json_t *b = NULL;
    if (body) {
        json_error_t jerr;
        b = json_loads(body, JSON_REJECT_DUPLICATES, &jerr);
        if (b == NULL || !json_is_object(b)) {
            fprintf(stderr, "harness: a test's body is not a JSON object (%s): %s\n", jerr.text,
                    body);
            abort();
        }
    }
    const char *params[3] = {param, NULL, NULL};
    struct kith_call call = {
        .eng = &H.eng,
        .params = params,
        .query = query,
        .body = b,
        .key_id = H_KEY_ID,
        .now_ms = now_ms,
    };
    struct h_job j = {.op = op, .call = &call, .out = NULL, .st = KITH_E_INTERNAL};
    enum kith_status rs = kith_store_run(H.store, h_op_job, &j);
    json_decref(b);
    if (rs != KITH_OK) {
        /* The commit itself failed: nothing of the call was kept. */
        json_decref(j.out);
        j.out = NULL;
        j.st = KITH_E_UNAVAILABLE;
        kith_strlcpy(j.err.message, "the store did not commit", sizeof(j.err.message));
    }
    json_t *doc;
    if (j.st == KITH_OK || j.st == KITH_CREATED) {
        doc = j.out ? j.out : json_null();
    } else {
        doc = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", kith_status_code(j.st), "message",
                        j.err.message, "param",
                        j.err.param[0] ? json_string(j.err.param) : json_null());
    }
    *out = h_keep(doc);
    return j.st;
}

/* ---- reading answers ---- */

/* The value at path in doc: "a.b", "data[0].id", "[1]"; NULL when absent. */
static inline json_t *h_at(json_t *doc, const char *path)
{
    json_t *v = doc;
    const char *p = path;
    while (v && *p) {
        if (*p == '.') {
            p++;
        } else if (*p == '[') {
            char *end = NULL;
            long i = strtol(p + 1, &end, 10);
            if (end == NULL || *end != ']' || !json_is_array(v) || i < 0)
                return NULL;
            v = json_array_get(v, (size_t)i);
            p = end + 1;
        } else {
            size_t n = strcspn(p, ".[");
            char key[128];
            if (n >= sizeof(key) || !json_is_object(v))
                return NULL;
            memcpy(key, p, n);
            key[n] = '\0';
            v = json_object_get(v, key);
            p += n;
        }
    }
    return v;
}

/* The string at path, or "" when it is absent or not a string (so a failed step cannot crash
 * the ones after it: they fail on their own assertions instead). */
static inline const char *h_str(json_t *doc, const char *path)
{
    const char *s = json_string_value(h_at(doc, path));
    return s ? s : "";
}

static inline int64_t h_int(json_t *doc, const char *path)
{
    return json_integer_value(h_at(doc, path));
}

static inline size_t h_len(json_t *doc, const char *path)
{
    json_t *v = h_at(doc, path);
    return json_is_array(v) ? json_array_size(v) : json_is_object(v) ? json_object_size(v) : 0;
}

/* RFC 3339 text of a test time. */
static inline const char *h_time(int64_t ms)
{
    static char bufs[8][32];
    static int next;
    char *b = bufs[next++ % 8];
    kith_time_format(ms, b);
    return b;
}

/* ---- assertions (each prints both sides and the whole answer) ---- */

static inline bool h_fail_begin(const char *file, int line)
{
    test_failures++;
    fprintf(stderr, "%s:%d: ", file, line);
    return true;
}

static inline void h_check_st(const char *file, int line, const char *expr, enum kith_status got,
                              enum kith_status want, json_t *doc)
{
    test_checks++;
    if (got != want && h_fail_begin(file, line))
        fprintf(stderr, "%s: got %s, expected %s\n    answer: %s\n", expr, h_status_name(got),
                h_status_name(want), h_dump(doc));
}

static inline void h_check_err(const char *file, int line, const char *expr, enum kith_status got,
                               json_t *doc, enum kith_status want, const char *want_param)
{
    test_checks++;
    json_t *param = h_at(doc, "error.param");
    const char *code = json_string_value(h_at(doc, "error.code"));
    bool param_ok = want_param
                        ? json_is_string(param) && strcmp(json_string_value(param), want_param) == 0
                        : json_is_null(param);
    if ((got != want || code == NULL || strcmp(code, kith_status_code(want)) != 0 || !param_ok) &&
        h_fail_begin(file, line))
        fprintf(stderr,
                "%s: got %s with param %s, expected %s (\"%s\") with param %s%s%s\n"
                "    answer: %s\n",
                expr, h_status_name(got), h_dump(param), h_status_name(want),
                kith_status_code(want), want_param ? "\"" : "", want_param ? want_param : "null",
                want_param ? "\"" : "", h_dump(doc));
}

static inline void h_check_jstr(const char *file, int line, json_t *doc, const char *path,
                                const char *want)
{
    test_checks++;
    json_t *v = h_at(doc, path);
    bool ok = want ? json_is_string(v) && strcmp(json_string_value(v), want) == 0 : json_is_null(v);
    if (!ok && h_fail_begin(file, line))
        fprintf(stderr, "%s: got %s, expected %s%s%s\n    answer: %s\n", path, h_dump(v),
                want ? "\"" : "", want ? want : "null", want ? "\"" : "", h_dump(doc));
}

static inline void h_check_jint(const char *file, int line, json_t *doc, const char *path,
                                long long want)
{
    test_checks++;
    json_t *v = h_at(doc, path);
    if (!(json_is_integer(v) && json_integer_value(v) == want) && h_fail_begin(file, line))
        fprintf(stderr, "%s: got %s, expected %lld\n    answer: %s\n", path, h_dump(v), want,
                h_dump(doc));
}

static inline void h_check_json(const char *file, int line, json_t *doc, const char *path,
                                const char *want_text)
{
    test_checks++;
    json_t *v = h_at(doc, path);
    json_t *want = json_loads(want_text, JSON_DECODE_ANY, NULL);
    if (want == NULL) {
        fprintf(stderr, "harness: expected value is not JSON: %s\n", want_text);
        abort();
    }
    if (!(v && json_equal(v, want)) && h_fail_begin(file, line))
        fprintf(stderr, "%s: got %s, expected %s\n    answer: %s\n", path, h_dump(v), want_text,
                h_dump(doc));
    json_decref(want);
}

/* The array at path holds exactly the elements of want_text (a JSON array), in any order: for
 * lists whose order the contract does not fix (fraud flags). */
static inline void h_check_jset(const char *file, int line, json_t *doc, const char *path,
                                const char *want_text)
{
    test_checks++;
    json_t *v = h_at(doc, path);
    json_t *want = json_loads(want_text, 0, NULL);
    if (!json_is_array(want)) {
        fprintf(stderr, "harness: expected set is not a JSON array: %s\n", want_text);
        abort();
    }
    bool ok = json_is_array(v) && json_array_size(v) == json_array_size(want);
    size_t i, k;
    json_t *w, *x;
    json_array_foreach(want, i, w)
    {
        bool found = false;
        json_array_foreach(v, k, x) found = found || json_equal(w, x);
        ok = ok && found;
    }
    if (!ok && h_fail_begin(file, line))
        fprintf(stderr, "%s: got %s, expected these in any order: %s\n    answer: %s\n", path,
                h_dump(v), want_text, h_dump(doc));
    json_decref(want);
}

static inline void h_check_jlen(const char *file, int line, json_t *doc, const char *path,
                                size_t want)
{
    test_checks++;
    json_t *v = h_at(doc, path);
    bool ok = (json_is_array(v) || json_is_object(v)) && h_len(doc, path) == want;
    if (!ok && h_fail_begin(file, line))
        fprintf(stderr, "%s: got %s (%zu entries), expected %zu entries\n    answer: %s\n", path,
                h_dump(v), h_len(doc, path), want, h_dump(doc));
}

static inline void h_check_jabsent(const char *file, int line, json_t *doc, const char *path)
{
    test_checks++;
    json_t *v = h_at(doc, path);
    if (v != NULL && h_fail_begin(file, line))
        fprintf(stderr, "%s: got %s, expected it absent\n    answer: %s\n", path, h_dump(v),
                h_dump(doc));
}

/* The string at path matches the POSIX extended regular expression re (anchor it yourself). */
static inline void h_check_jmatch(const char *file, int line, json_t *doc, const char *path,
                                  const char *re)
{
    regex_t rx;
    test_checks++;
    if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0) {
        fprintf(stderr, "harness: bad regular expression %s\n", re);
        abort();
    }
    json_t *v = h_at(doc, path);
    bool ok = json_is_string(v) && regexec(&rx, json_string_value(v), 0, NULL, 0) == 0;
    regfree(&rx);
    if (!ok && h_fail_begin(file, line))
        fprintf(stderr, "%s: got %s, expected a string matching /%s/\n    answer: %s\n", path,
                h_dump(v), re, h_dump(doc));
}

/* A substring test on the compact text of a whole document (what it must or must not hold). */
static inline void h_check_holds(const char *file, int line, json_t *doc, const char *needle,
                                 bool want)
{
    test_checks++;
    char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    bool has = text && strstr(text, needle) != NULL;
    free(text);
    if (has != want && h_fail_begin(file, line))
        fprintf(stderr, "answer %s \"%s\", expected it %s\n    answer: %s\n",
                has ? "holds" : "lacks", needle, want ? "there" : "gone", h_dump(doc));
}

#define CHECK_ST(st, want, doc) h_check_st(__FILE__, __LINE__, #st, (st), (want), (doc))
#define CHECK_ERR(st, doc, want, param)                                                            \
    h_check_err(__FILE__, __LINE__, #st, (st), (doc), (want), (param))
#define CHECK_JSTR(doc, path, want) h_check_jstr(__FILE__, __LINE__, (doc), (path), (want))
#define CHECK_JNULL(doc, path) h_check_jstr(__FILE__, __LINE__, (doc), (path), NULL)
#define CHECK_JINT(doc, path, want) h_check_jint(__FILE__, __LINE__, (doc), (path), (want))
#define CHECK_JSON(doc, path, want) h_check_json(__FILE__, __LINE__, (doc), (path), (want))
#define CHECK_JBOOL(doc, path, want)                                                               \
    h_check_json(__FILE__, __LINE__, (doc), (path), (want) ? "true" : "false")
#define CHECK_JSET(doc, path, want) h_check_jset(__FILE__, __LINE__, (doc), (path), (want))
#define CHECK_JLEN(doc, path, want) h_check_jlen(__FILE__, __LINE__, (doc), (path), (want))
#define CHECK_JABSENT(doc, path) h_check_jabsent(__FILE__, __LINE__, (doc), (path))
#define CHECK_JMATCH(doc, path, re) h_check_jmatch(__FILE__, __LINE__, (doc), (path), (re))
#define CHECK_HOLDS(doc, needle) h_check_holds(__FILE__, __LINE__, (doc), (needle), true)
#define CHECK_LACKS(doc, needle) h_check_holds(__FILE__, __LINE__, (doc), (needle), false)

/* ---- making things ---- */

/*
 * Creates a program at H_T0 from the base {"id", "name": "Test program", "destination_url":
 * "https://example.com/join"} updated with fields (JSON object text, may be NULL) and returns
 * its id. The id is unique in the process ("t<test>-<n>"): the engine keeps recently read
 * program settings by id for up to a second (programs.c), so a later test's fresh database must
 * not reuse an id an earlier test's database had.
 */
static inline const char *h_program(const char *fields)
{
    json_t *out = NULL;
    if (H.nprog >= 4) {
        fprintf(stderr, "harness: at most 4 programs per test\n");
        abort();
    }
    char *id = H.progs[H.nprog++];
    snprintf(id, sizeof(H.progs[0]), "t%d-%d", H.round, H.nprog);
    json_t *body = json_pack("{s:s,s:s,s:s}", "id", id, "name", "Test program", "destination_url",
                             "https://example.com/join");
    if (fields) {
        json_t *extra = json_loads(fields, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(extra)) {
            fprintf(stderr, "harness: program fields are not a JSON object: %s\n", fields);
            abort();
        }
        json_object_update(body, extra);
        json_decref(extra);
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    enum kith_status st = h_call(kith_op_program_create, NULL, NULL, text, H_T0, &out);
    free(text);
    CHECK_ST(st, KITH_CREATED, out);
    return id;
}

/* POST /v1/participants with body at now_ms, expecting 201: the participant. */
static inline json_t *h_participant_at(const char *file, int line, const char *body, int64_t now_ms)
{
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_participant_create, NULL, NULL, body, now_ms, &out);
    h_check_st(file, line, "participant create", st, KITH_CREATED, out);
    return out;
}
#define h_participant(body, now_ms) h_participant_at(__FILE__, __LINE__, (body), (now_ms))

/* POST /v1/signups with body at now_ms, expecting 201: {participant, referral, attribution}. */
static inline json_t *h_signup_at(const char *file, int line, const char *body, int64_t now_ms)
{
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_signup, NULL, NULL, body, now_ms, &out);
    h_check_st(file, line, "signup", st, KITH_CREATED, out);
    return out;
}
#define h_signup(body, now_ms) h_signup_at(__FILE__, __LINE__, (body), (now_ms))

/* POST /v1/events with body at now_ms, expecting 201: {event, referral, rewards}. */
static inline json_t *h_event_at(const char *file, int line, const char *body, int64_t now_ms)
{
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_event_create, NULL, NULL, body, now_ms, &out);
    h_check_st(file, line, "event", st, KITH_CREATED, out);
    return out;
}
#define h_event(body, now_ms) h_event_at(__FILE__, __LINE__, (body), (now_ms))

/* A GET-style read expecting KITH_OK: the answer. */
static inline json_t *h_read_at(const char *file, int line, kith_op_fn op, const char *param,
                                const char *query, int64_t now_ms)
{
    json_t *out = NULL;
    enum kith_status st = h_call(op, param, query, NULL, now_ms, &out);
    h_check_st(file, line, "read", st, KITH_OK, out);
    return out;
}
#define h_read(op, param, query, now_ms)                                                           \
    h_read_at(__FILE__, __LINE__, (op), (param), (query), (now_ms))

struct h_click_job {
    const char *code;
    struct kith_click click;
    enum kith_status st;
};

static inline enum kith_status h_click_run(struct kith_tx *tx, void *arg)
{
    struct h_click_job *c = arg;
    struct kith_link link;
    if ((c->st = kith_engine_link_resolve(tx, c->code, &link)) != KITH_OK)
        return c->st;
    kith_strlcpy(c->click.program, link.program, sizeof(c->click.program));
    kith_strlcpy(c->click.participant, link.participant, sizeof(c->click.participant));
    kith_strlcpy(c->click.code, link.code, sizeof(c->click.code));
    return c->st = kith_engine_clicks_write(tx, &c->click, 1);
}

/* Records a click on code (what GET /r/{code} writes) with a chosen id, time, channel and
 * referrer host ("" for none), as the redirect path's click batch does. */
static inline void h_click_at(const char *file, int line, const char *click_id, const char *code,
                              int64_t at_ms, const char *channel, const char *referrer_host)
{
    struct h_click_job c = {.code = code, .st = KITH_E_INTERNAL};
    kith_strlcpy(c.click.id, click_id, sizeof(c.click.id));
    c.click.at_ms = at_ms;
    kith_strlcpy(c.click.channel, channel, sizeof(c.click.channel));
    kith_strlcpy(c.click.referrer_host, referrer_host, sizeof(c.click.referrer_host));
    kith_crypto_keyed_hash(H.eng.hash_key, "198.51.100.9", 12, c.click.ip_hash);
    kith_crypto_keyed_hash(H.eng.hash_key, "Mozilla/5.0", 11, c.click.ua_hash);
    enum kith_status rs = kith_store_run(H.store, h_click_run, &c);
    test_checks++;
    if ((rs != KITH_OK || c.st != KITH_OK) && h_fail_begin(file, line))
        fprintf(stderr, "click %s on %s not recorded: %s\n", click_id, code, h_status_name(c.st));
}
#define h_click(id, code, at_ms, channel, host)                                                    \
    h_click_at(__FILE__, __LINE__, (id), (code), (at_ms), (channel), (host))

struct h_resolve_job {
    const char *code;
    struct kith_link *link;
    enum kith_status st;
};

static inline enum kith_status h_resolve_run(struct kith_tx *tx, void *arg)
{
    struct h_resolve_job *r = arg;
    r->st = kith_engine_link_resolve(tx, r->code, r->link);
    return KITH_OK;
}

/* What the redirect path learns about a typed or linked code (kith_engine_link_resolve): its
 * status, with *link filled when KITH_OK. */
static inline enum kith_status h_resolve(const char *code, struct kith_link *link)
{
    struct h_resolve_job r = {.code = code, .link = link, .st = KITH_E_INTERNAL};
    if (kith_store_run(H.store, h_resolve_run, &r) != KITH_OK)
        return KITH_E_UNAVAILABLE;
    return r.st;
}

struct h_sweep_job {
    const struct kith_engine *eng;
    int64_t now_ms;
    bool more;
};

static inline enum kith_status h_sweep_run(struct kith_tx *tx, void *arg)
{
    struct h_sweep_job *s = arg;
    return kith_engine_sweep(tx, s->eng, s->now_ms, &s->more);
}

/* Runs the sweeper at now_ms until no due work remains (what the test clock does). */
static inline void h_sweep_at(const char *file, int line, int64_t now_ms)
{
    struct h_sweep_job s = {.eng = &H.eng, .now_ms = now_ms, .more = true};
    for (int round = 0; s.more && round < 100; round++) {
        enum kith_status st = kith_store_run(H.store, h_sweep_run, &s);
        test_checks++;
        if (st != KITH_OK && h_fail_begin(file, line)) {
            fprintf(stderr, "sweep at %s failed: %s\n", h_time(now_ms), h_status_name(st));
            return;
        }
    }
}
#define h_sweep(now_ms) h_sweep_at(__FILE__, __LINE__, (now_ms))

/* Runs a test case on a database of its own. */
#define RUN_DB(fn)                                                                                 \
    do {                                                                                           \
        h_open();                                                                                  \
        RUN(fn);                                                                                   \
        h_close();                                                                                 \
    } while (0)

#endif
