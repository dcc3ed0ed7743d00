/*
 * call.c: one API call as a whole, inside the job's transaction: who is calling (API key or
 * none, for routes a provider signs), the Idempotency-Key rule (a replay within 24 hours answers
 * as the first time and has no new effect; another body is refused; a key in flight on another
 * instance is refused), the JSON body, the operation under its own savepoint, and the answer
 * stored with the effect in the same commit. It is not for the transport: which header carries
 * what, and what number an answer gets, are the caller's (src/app).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/pages.h"
#include "kith/clock.h"
#include "kith/hub.h"

/* How long a stored answer replays (CONTRACT section 1). */
#define IDEM_WINDOW_MS (24 * INT64_C(3600000))

static void answer_error(struct kith_engine_answer *ans, const struct kith_engine_request *rq,
                         enum kith_status st, const char *param, const char *message)
{
    struct kith_err err;
    kith_err_set(&err, st, param, "%s", message);
    free(ans->body);
    ans->st = st;
    ans->code = rq->code_of(st);
    ans->body = kith_engine_error_json(st, &err);
}

static void answer_unavailable(struct kith_engine_answer *ans, const struct kith_engine_request *rq)
{
    answer_error(ans, rq, KITH_E_UNAVAILABLE, NULL, "the database is not available; retry");
}

/* Answers refused by validation (400) are not stored: the same key may carry a fixed request. */
static bool validation_error(enum kith_status st)
{
    return st == KITH_E_INVALID_JSON || st == KITH_E_INVALID_PARAM || st == KITH_E_IMMUTABLE;
}

char *kith_engine_error_json(enum kith_status st, const struct kith_err *err)
{
    return kith_error_json(st, err ? err->message : NULL, err ? err->param : NULL);
}

/* Adds an operation's members (CONTRACT 19: the import's "errors") to its error body. */
static void with_detail(struct kith_engine_answer *ans, json_t *detail)
{
    json_t *body = json_loads(ans->body, 0, NULL);
    if (body == NULL || json_object_update_missing(body, detail) != 0)
        abort();
    free(ans->body);
    ans->body = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (ans->body == NULL)
        abort();
}

/* An admin session in place of an API key (section 21): writes need the CSRF token, and a
 * reviewer writes only where the route allows it. */
static bool authorise_session(struct kith_tx *tx, const struct kith_engine_request *rq,
                              int64_t now_ms, char key_id[KITH_ID_MAX],
                              struct kith_engine_session *s, struct kith_engine_answer *ans)
{
    enum kith_status st = kith_engine_session_authenticate(tx, rq->session, now_ms, s);
    if (st == KITH_E_UNAUTHORIZED) {
        answer_error(ans, rq, st, NULL, "this session has ended: sign in again at /admin");
        return false;
    }
    if (st != KITH_OK) {
        answer_unavailable(ans, rq);
        return false;
    }
    if (!rq->safe_method && !kith_engine_session_csrf_ok(s, rq->csrf)) {
        answer_error(ans, rq, KITH_E_FORBIDDEN, NULL,
                     "a signed-in write needs the X-Kith-CSRF header from the sign-in");
        return false;
    }
    if (s->reviewer && !rq->safe_method && !rq->reviewer_ok) {
        answer_error(ans, rq, KITH_E_FORBIDDEN, NULL,
                     "a reviewer may read and decide referrals, not change this");
        return false;
    }
    memcpy(key_id, "adm:", 4); /* ids are far shorter than KITH_ID_MAX */
    kith_strlcpy(key_id + 4, s->admin, KITH_ID_MAX - 4);
    return true;
}

/* Who calls: KITH_OK with key_id set, or an answer already written into ans. */
static bool authorise(struct kith_tx *tx, const struct kith_engine *eng,
                      const struct kith_engine_request *rq, int64_t now_ms,
                      char key_id[KITH_ID_MAX], enum kith_key_kind *kind_out,
                      struct kith_engine_session *s, struct kith_engine_answer *ans)
{
    enum kith_key_kind kind = KITH_KEY_NONE;
    if ((rq->token == NULL || rq->token[0] == '\0') && rq->session && rq->session[0]) {
        *kind_out = KITH_KEY_SECRET;
        return authorise_session(tx, rq, now_ms, key_id, s, ans);
    }
    enum kith_status st = kith_engine_authenticate(tx, eng, rq->token, key_id, &kind);
    *kind_out = kind;
    if (st == KITH_E_UNAUTHORIZED) {
        answer_error(ans, rq, st, NULL, "a valid API key is required: Authorization: Bearer <key>");
        return false;
    }
    if (st == KITH_OK && strcmp(key_id, "key_env") != 0)
        st = kith_eng_key_touch(tx, key_id, now_ms);
    if (st != KITH_OK) {
        answer_unavailable(ans, rq);
        return false;
    }
    if (kind == KITH_KEY_PUBLISHABLE && rq->scope != KITH_SCOPE_PUBLISHABLE) {
        answer_error(ans, rq, KITH_E_FORBIDDEN, NULL, "this route needs a secret key (sk_...)");
        return false;
    }
    return true;
}

/* The people's routes (section 20): none needs a key, and a hub token opens only /v1/hub. */
static bool authorise_people(struct kith_tx *tx, const struct kith_engine_request *rq,
                             int64_t now_ms, char key_id[KITH_ID_MAX],
                             char participant[KITH_ID_MAX], char program[48],
                             struct kith_engine_answer *ans)
{
    if (rq->scope == KITH_SCOPE_PUBLIC) {
        kith_strlcpy(key_id, "public", KITH_ID_MAX);
        return true;
    }
    enum kith_status st =
        rq->hub_token && rq->hub_token[0]
            ? kith_engine_hub_authorise(tx, rq->hub_token, now_ms, participant, program)
            : KITH_E_UNAUTHORIZED;
    if (st == KITH_E_UNAUTHORIZED) {
        answer_error(ans, rq, st, NULL,
                     "this link has expired or no longer works: Authorization: Hub <token>");
        return false;
    }
    if (st != KITH_OK) {
        answer_unavailable(ans, rq);
        return false;
    }
    snprintf(key_id, KITH_ID_MAX, "hub:%s", participant);
    return true;
}

/*
 * The Idempotency-Key rule before the operation runs. Returns true when the operation should run
 * (req_hash then holds the request's fingerprint), false when ans already holds the answer.
 */
static bool idem_check(struct kith_tx *tx, const struct kith_engine_request *rq, const char *key_id,
                       int64_t now_ms, char req_hash[KITH_CRYPTO_HASH_HEX],
                       struct kith_engine_answer *ans)
{
    /* The request's fingerprint: what it asks, not who relays it. */
    size_t plen = strlen(rq->path), n = plen + 2 + rq->body_len;
    char *buf = malloc(n);
    if (buf == NULL)
        abort();
    memcpy(buf, rq->path, plen);
    buf[plen] = '\n';
    if (rq->body_len > 0)
        memcpy(buf + plen + 1, rq->body, rq->body_len);
    kith_crypto_hash(buf, plen + 1 + rq->body_len, req_hash);
    free(buf);

    /* In flight on another instance: the database holds the lock until that commit. */
    char lock_key[KITH_ID_MAX + KITH_ENGINE_IDEM_KEY_MAX + 2];
    json_t *row = NULL, *args;
    snprintf(lock_key, sizeof(lock_key), "%s:%s", key_id, rq->idem_key);
    args = json_pack("[s]", lock_key);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_IDEM_LOCK, args, &row);
    json_decref(args);
    bool locked = st == KITH_OK && kith_eng_row_int(row, "locked") != 0;
    json_decref(row);
    row = NULL;
    if (!locked) {
        if (st == KITH_OK)
            answer_error(ans, rq, KITH_E_IDEM_IN_USE, "Idempotency-Key",
                         "a request with this Idempotency-Key is still running");
        else
            answer_unavailable(ans, rq);
        return false;
    }
    args = json_pack("[ss]", key_id, rq->idem_key);
    st = kith_store_query_one(tx, KITH_Q_IDEM_GET, args, &row);
    json_decref(args);
    if (st == KITH_OK && kith_eng_row_int(row, "created_at") >= now_ms - IDEM_WINDOW_MS) {
        const char *stored = kith_eng_row_str(row, "request_hash");
        if (stored && strcmp(stored, req_hash) == 0) {
            free(ans->body);
            ans->st = KITH_OK;
            ans->code = (int)kith_eng_row_int(row, "status");
            ans->body = strdup(kith_eng_row_str(row, "body"));
            if (ans->body == NULL)
                abort();
            ans->replayed = true;
        } else {
            answer_error(ans, rq, KITH_E_IDEM_REUSED, "Idempotency-Key",
                         "this Idempotency-Key was used with a different request");
        }
        json_decref(row);
        return false;
    }
    json_decref(row);
    if (st != KITH_OK && st != KITH_E_NOT_FOUND) {
        answer_unavailable(ans, rq);
        return false;
    }
    return true;
}

/* The body as a JSON object; false with ans written when it is not one. */
json_t *kith_engine_parse_body(const char *body, size_t len)
{
    json_t *v = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

static bool parse_body(const struct kith_engine_request *rq, json_t **out,
                       struct kith_engine_answer *ans)
{
    json_error_t jerr;
    if (rq->parsed && *rq->parsed) {
        *out = *rq->parsed;
        *rq->parsed = NULL;
        return true;
    }
    if (rq->body_len == 0) {
        *out = json_object();
        return true;
    }
    json_t *body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL) {
        char msg[200];
        snprintf(msg, sizeof(msg), "the body is not valid JSON: %s", jerr.text);
        answer_error(ans, rq, KITH_E_INVALID_JSON, NULL, msg);
        return false;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        answer_error(ans, rq, KITH_E_INVALID_JSON, NULL, "the body must be a JSON object");
        return false;
    }
    *out = body;
    return true;
}

enum kith_status kith_engine_call(struct kith_tx *tx, const struct kith_engine *eng,
                                  const struct kith_engine_request *rq,
                                  struct kith_engine_answer *ans)
{
    char key_id[KITH_ID_MAX] = "", req_hash[KITH_CRYPTO_HASH_HEX] = "";
    struct kith_err err = {{0}, {0}};
    json_t *body = NULL, *out = NULL;
    int64_t now_ms = kith_clock_now_ms();
    bool idem =
        rq->idem_key != NULL && rq->scope != KITH_SCOPE_SIGNED && rq->scope != KITH_SCOPE_PUBLIC;
    bool people = rq->scope == KITH_SCOPE_PUBLIC || rq->scope == KITH_SCOPE_HUB;
    enum kith_key_kind kind = KITH_KEY_NONE;
    char hub_participant[KITH_ID_MAX] = "", cors_program[48] = "";
    struct kith_engine_session session = {{0}, {0}, {0}, false};

    /* A job may run again (a PostgreSQL serialization retry): start from a clean answer. */
    free(ans->body);
    json_decref(ans->body_json);
    memset(ans, 0, sizeof(*ans));
    if (rq->hub_token && rq->scope != KITH_SCOPE_HUB) {
        answer_error(ans, rq, KITH_E_UNAUTHORIZED, NULL,
                     "a hub link opens only the hub's own routes (/v1/hub/...)");
        goto cors;
    }
    if (rq->scope == KITH_SCOPE_SIGNED) {
        kith_strlcpy(key_id, "public", sizeof(key_id));
    } else {
        if (people ? !authorise_people(tx, rq, now_ms, key_id, hub_participant, cors_program, ans)
                   : !authorise(tx, eng, rq, now_ms, key_id, &kind, &session, ans))
            goto cors;
        if (idem && !idem_check(tx, rq, key_id, now_ms, req_hash, ans))
            goto cors;
        if (rq->json_body && !parse_body(rq, &body, ans))
            goto cors;
    }

    struct kith_call call = {
        .eng = eng,
        .params = rq->params,
        .query = rq->query,
        .body = body,
        .key_id = key_id,
        .now_ms = now_ms,
        .raw_body = rq->body,
        .raw_len = rq->body_len,
        .header = rq->header,
        .header_ctx = rq->header_ctx,
        .hub_participant = hub_participant,
        .admin_session = session.digest,
        .admin_reviewer = session.reviewer,
    };
    enum kith_status st = kith_tx_savepoint(tx);
    if (st != KITH_OK) {
        json_decref(body);
        answer_unavailable(ans, rq);
        goto cors;
    }
    st = rq->op(tx, &call, &out, &err);
    if (st == KITH_OK || st == KITH_CREATED || st == KITH_ACCEPTED) {
        kith_tx_release(tx);
        ans->st = st;
        ans->code = rq->code_of(st);
        if (call.text_out) {
            ans->body = call.text_out;
            ans->content_type = call.text_type;
            kith_strlcpy(ans->filename, call.text_filename, sizeof(ans->filename));
        } else if (rq->text_later && call.answer_owned && out && !idem) {
            /* The text is made on the caller's thread: the store's thread is the bottleneck. */
            ans->body_json = out;
            out = NULL;
        } else {
            ans->body = json_dumps(out ? out : json_null(), JSON_COMPACT);
        }
        if (ans->body == NULL && ans->body_json == NULL)
            abort();
        kith_strlcpy(ans->set_cookie, call.set_cookie, sizeof(ans->set_cookie));
        ans->invalidates_links = call.invalidates_links;
    } else {
        /* A refusal keeps only the moves time had already made due (the sweeper's work). */
        if ((st == KITH_E_INVALID_STATE && call.keeps_due_moves) || call.commit_refusal)
            kith_tx_release(tx);
        else
            kith_tx_rollback(tx);
        free(call.text_out);
        if (st == KITH_E_CONSTRAINT) /* a race another writer won: retry, as for an outage */
            st = KITH_E_UNAVAILABLE;
        ans->st = st;
        ans->code = rq->code_of(st);
        ans->body = kith_engine_error_json(st, &err);
        if (call.error_detail)
            with_detail(ans, call.error_detail);
    }
    json_decref(call.error_detail);
    json_decref(out);
    json_decref(body);
    if (call.cors_program[0])
        kith_strlcpy(cors_program, call.cors_program, sizeof(cors_program));

    /* Store the answer in the same transaction, except validation failures and outages. */
    if (idem && !validation_error(st) && st != KITH_E_UNAVAILABLE && st != KITH_E_INTERNAL) {
        json_t *args = json_pack("[sssisI]", key_id, rq->idem_key, req_hash, ans->code, ans->body,
                                 (json_int_t)now_ms);
        enum kith_status ist = kith_store_exec(tx, KITH_Q_IDEM_PUT, args, NULL);
        json_decref(args);
        if (ist != KITH_OK)
            return KITH_E_UNAVAILABLE; /* the whole job rolls back: nothing half-done */
    }
cors:
    /* A browser route's answer (errors too, so pages can read them) may allow the Origin. A
     * leaderboard read with a secret key never does: such a key has no place in a browser. */
    if (rq->cors && !(rq->scope == KITH_SCOPE_PUBLISHABLE && kind != KITH_KEY_PUBLISHABLE))
        return kith_eng_cors_answer(tx, rq, cors_program, ans);
    return KITH_OK;
}

void kith_engine_answer_dispose(struct kith_engine_answer *ans)
{
    free(ans->body);
    ans->body = NULL;
    json_decref(ans->body_json);
    ans->body_json = NULL;
}

void kith_engine_answer_text(struct kith_engine_answer *ans)
{
    if (ans->body_json == NULL)
        return;
    free(ans->body);
    ans->body = json_dumps(ans->body_json, JSON_COMPACT);
    if (ans->body == NULL)
        abort();
    json_decref(ans->body_json);
    ans->body_json = NULL;
}

bool kith_engine_idem_key_valid(const char *key)
{
    size_t n = strlen(key);
    if (n < 1 || n > KITH_ENGINE_IDEM_KEY_MAX)
        return false;
    for (; *key; key++) {
        if (*key < 0x21 || *key > 0x7e)
            return false;
    }
    return true;
}

enum kith_status kith_engine_health(struct kith_tx *tx)
{
    json_t *row = NULL, *args = json_array();
    enum kith_status st = kith_store_query_one(tx, KITH_Q_HEALTH, args, &row);
    json_decref(args);
    json_decref(row);
    return st;
}

enum kith_status kith_engine_referral_counts(struct kith_tx *tx,
                                             int64_t counts[KITH_REFERRAL_STATUS_COUNT])
{
    json_t *rows = NULL, *args = json_array(), *r;
    size_t i;
    enum kith_status st = kith_store_query(tx, KITH_Q_REFERRALS_BY_STATUS, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    memset(counts, 0, sizeof(int64_t) * KITH_REFERRAL_STATUS_COUNT);
    json_array_foreach(rows, i, r)
    {
        enum kith_referral_status s;
        const char *name = kith_eng_row_str(r, "status");
        if (name && kith_referral_status_parse(name, &s))
            counts[s] = kith_eng_row_int(r, "n");
    }
    json_decref(rows);
    return KITH_OK;
}
