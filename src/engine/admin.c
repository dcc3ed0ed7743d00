/*
 * admin.c: the owner's dashboard accounts (CONTRACT section 21). Accounts hold only an Argon2id
 * hash of their password; a sign-in makes a random session token and a CSRF token, of which only
 * digests are stored. A session ends after 12 hours without use. Ten failed sign-ins for one
 * e-mail within 15 minutes refuse the next ones until the oldest falls out of the window; an
 * unknown e-mail costs the same work as a wrong password (a dummy hash is verified). Also the API
 * keys as the dashboard sees them (never the key itself after its creation).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"

#define SESSION_IDLE_MS (12 * INT64_C(3600000))
#define FAIL_WINDOW_MS (15 * INT64_C(60000))
#define FAIL_MAX 10
#define KEY_TOUCH_MS INT64_C(60000)

bool kith_engine_admin_role_valid(const char *role)
{
    return role && (strcmp(role, "owner") == 0 || strcmp(role, "reviewer") == 0);
}

/* E-mails compare case-insensitively: accounts are stored lower-cased. */
static void email_norm(const char *in, char out[256])
{
    size_t i = 0;
    for (; in[i] && i < 255; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

enum kith_status kith_engine_admin_create(struct kith_tx *tx, const char *email, const char *role,
                                          const char *password_hash, int64_t now_ms)
{
    char id[KITH_ID_MAX], norm[256];
    kith_crypto_random_id("adm_", id);
    email_norm(email, norm);
    json_t *args = json_pack("[ssssI]", id, norm, role, password_hash, (json_int_t)now_ms);
    enum kith_status st = kith_store_exec(tx, KITH_Q_ADMIN_INSERT, args, NULL);
    json_decref(args);
    return st;
}

enum kith_status kith_engine_admin_list(struct kith_tx *tx, json_t **out)
{
    json_t *args = json_array();
    enum kith_status st = kith_store_query(tx, KITH_Q_ADMIN_LIST, args, out);
    json_decref(args);
    return st;
}

enum kith_status kith_engine_admin_remove(struct kith_tx *tx, const char *email)
{
    char norm[256];
    json_t *row = NULL, *args;
    email_norm(email, norm);
    args = json_pack("[s]", norm);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_ADMIN_BY_EMAIL, args, &row);
    if (st == KITH_OK) {
        json_t *a2 = json_pack("[s]", kith_eng_row_str(row, "id"));
        st = kith_store_exec(tx, KITH_Q_ADMIN_SESSIONS_OF_DELETE, a2, NULL);
        json_decref(a2);
        if (st == KITH_OK)
            st = kith_store_exec(tx, KITH_Q_ADMIN_DELETE, args, NULL);
    }
    json_decref(row);
    json_decref(args);
    return st;
}

enum kith_status kith_engine_session_authenticate(struct kith_tx *tx, const char *session,
                                                  int64_t now_ms, struct kith_engine_session *out)
{
    char digest[KITH_CRYPTO_HASH_HEX];
    memset(out, 0, sizeof(*out));
    if (session == NULL || *session == '\0' || strlen(session) > 200)
        return KITH_E_UNAUTHORIZED;
    kith_crypto_hash(session, strlen(session), digest);
    json_t *row = NULL, *args = json_pack("[s]", digest);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_ADMIN_SESSION_FIND, args, &row);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND)
        return KITH_E_UNAUTHORIZED;
    if (st != KITH_OK)
        return st;
    int64_t last = kith_eng_row_int(row, "last_used_at");
    kith_strlcpy(out->admin, kith_eng_row_str(row, "admin"), sizeof(out->admin));
    kith_strlcpy(out->csrf_digest, kith_eng_row_str(row, "csrf_digest"), sizeof(out->csrf_digest));
    out->reviewer = strcmp(kith_eng_row_str(row, "role"), "reviewer") == 0;
    kith_strlcpy(out->digest, digest, sizeof(out->digest));
    json_decref(row);
    if (last <= now_ms - SESSION_IDLE_MS) {
        args = json_pack("[s]", digest);
        st = kith_store_exec(tx, KITH_Q_ADMIN_SESSION_DELETE, args, NULL);
        json_decref(args);
        return st == KITH_OK ? KITH_E_UNAUTHORIZED : st;
    }
    args = json_pack("[Is]", (json_int_t)now_ms, digest);
    st = kith_store_exec(tx, KITH_Q_ADMIN_SESSION_TOUCH, args, NULL);
    json_decref(args);
    return st;
}

bool kith_engine_session_csrf_ok(const struct kith_engine_session *s, const char *csrf)
{
    char digest[KITH_CRYPTO_HASH_HEX];
    if (csrf == NULL || *csrf == '\0' || strlen(csrf) > 200)
        return false;
    kith_crypto_hash(csrf, strlen(csrf), digest);
    return strlen(s->csrf_digest) == strlen(digest) &&
           kith_crypto_equal(digest, s->csrf_digest, strlen(digest));
}

enum kith_status kith_eng_key_touch(struct kith_tx *tx, const char *key_id, int64_t now_ms)
{
    json_t *args =
        json_pack("[IsI]", (json_int_t)now_ms, key_id, (json_int_t)(now_ms - KEY_TOUCH_MS));
    enum kith_status st = kith_store_exec(tx, KITH_Q_ADMIN_KEY_TOUCH, args, NULL);
    json_decref(args);
    return st;
}

static enum kith_status login_failed(struct kith_tx *tx, struct kith_call *call, const char *norm,
                                     struct kith_err *err)
{
    json_t *args = json_pack("[sI]", norm, (json_int_t)call->now_ms);
    enum kith_status st = kith_store_exec(tx, KITH_Q_ADMIN_FAILURE_INSERT, args, NULL);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    call->commit_refusal = true; /* the failure counts although the answer is a refusal */
    return kith_err_set(err, KITH_E_UNAUTHORIZED, NULL, "the e-mail or the password is wrong");
}

enum kith_status kith_op_admin_login(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                     struct kith_err *err)
{
    static const char *const allowed[] = {"email", "password", NULL};
    const char *email = NULL, *password = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "email", true, 1, 254, &email, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "password", true, 1, 1024, &password, err)) != KITH_OK)
        return st;
    char norm[256];
    email_norm(email, norm);
    json_t *row = NULL,
           *args = json_pack("[sI]", norm, (json_int_t)(call->now_ms - FAIL_WINDOW_MS));
    st = kith_store_query_one(tx, KITH_Q_ADMIN_FAILURES_COUNT, args, &row);
    json_decref(args);
    int64_t fails = st == KITH_OK ? kith_eng_row_int(row, "n") : 0;
    json_decref(row);
    row = NULL;
    if (st != KITH_OK)
        return st;
    if (fails >= FAIL_MAX)
        return kith_err_set(err, KITH_E_RATE_LIMITED, NULL,
                            "too many failed sign-ins for this e-mail; try again later");
    args = json_pack("[s]", norm);
    st = kith_store_query_one(tx, KITH_Q_ADMIN_BY_EMAIL, args, &row);
    json_decref(args);
    if (st != KITH_OK && st != KITH_E_NOT_FOUND)
        return st;
    const char *hash = st == KITH_OK ? kith_eng_row_str(row, "password_hash") : NULL;
    if (!kith_crypto_pwhash_verify(hash, password)) {
        json_decref(row);
        return login_failed(tx, call, norm, err);
    }
    char session[64], csrf[64], sdigest[KITH_CRYPTO_HASH_HEX], cdigest[KITH_CRYPTO_HASH_HEX];
    kith_crypto_random_token("ks_", session);
    kith_crypto_random_token("kc_", csrf);
    kith_crypto_hash(session, strlen(session), sdigest);
    kith_crypto_hash(csrf, strlen(csrf), cdigest);
    args = json_pack("[sssII]", sdigest, kith_eng_row_str(row, "id"), cdigest,
                     (json_int_t)call->now_ms, (json_int_t)call->now_ms);
    st = kith_store_exec(tx, KITH_Q_ADMIN_SESSION_INSERT, args, NULL);
    json_decref(args);
    if (st == KITH_OK) {
        args = json_pack("[I]", (json_int_t)(call->now_ms - FAIL_WINDOW_MS));
        st = kith_store_exec(tx, KITH_Q_ADMIN_FAILURES_SWEEP, args, NULL);
        json_decref(args);
    }
    if (st == KITH_OK) {
        snprintf(call->set_cookie, sizeof(call->set_cookie),
                 "kith_session=%s; HttpOnly; SameSite=Strict; Path=/%s", session,
                 call->eng->secure_cookies ? "; Secure" : "");
        *out = json_pack("{s:s,s:s}", "csrf", csrf, "role", kith_eng_row_str(row, "role"));
    }
    json_decref(row);
    kith_crypto_wipe(session, sizeof(session));
    return st;
}

enum kith_status kith_op_admin_logout(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                      struct kith_err *err)
{
    (void)err;
    if (call->admin_session && call->admin_session[0]) {
        json_t *args = json_pack("[s]", call->admin_session);
        enum kith_status st = kith_store_exec(tx, KITH_Q_ADMIN_SESSION_DELETE, args, NULL);
        json_decref(args);
        if (st != KITH_OK)
            return st;
    }
    snprintf(call->set_cookie, sizeof(call->set_cookie),
             "kith_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s",
             call->eng->secure_cookies ? "; Secure" : "");
    *out = json_pack("{s:b}", "ok", 1);
    return KITH_OK;
}

enum kith_status kith_op_session_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                     struct kith_err *err)
{
    (void)tx;
    (void)err;
    *out = json_pack("{s:s}", "role", call->admin_reviewer ? "reviewer" : "owner");
    return KITH_OK;
}

static json_t *key_json(json_t *row)
{
    const char *name = kith_eng_row_str(row, "name");
    return json_pack("{s:s,s:s,s:o,s:o,s:o}", "id", kith_eng_row_str(row, "id"), "kind",
                     kith_eng_row_str(row, "kind"), "name", name ? json_string(name) : json_null(),
                     "created_at", kith_eng_time_json(kith_eng_row_int(row, "created_at")),
                     "last_used_at", kith_eng_time_or_null(row, "last_used_at"));
}

enum kith_status kith_op_api_key_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                      struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *rows = NULL, *args = json_array(), *r;
    size_t i;
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st != KITH_OK) {
        json_decref(args);
        return st;
    }
    st = kith_store_query(tx, KITH_Q_ADMIN_KEYS_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    json_t *data = json_array();
    json_array_foreach(rows, i, r) json_array_append_new(data, key_json(r));
    json_decref(rows);
    *out = json_pack("{s:o,s:b,s:n}", "data", data, "has_more", 0, "next_cursor");
    return KITH_OK;
}

enum kith_status kith_op_api_key_create(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                        struct kith_err *err)
{
    static const char *const allowed[] = {"kind", "name", NULL};
    const char *kind = NULL, *name = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "kind", true, 1, 20, &kind, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "name", false, 0, 200, &name, err)) != KITH_OK)
        return st;
    if (strcmp(kind, "secret") != 0 && strcmp(kind, "publishable") != 0)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "kind",
                            "kind must be \"secret\" or \"publishable\"");
    char key[64], digest[KITH_CRYPTO_HASH_HEX];
    if ((st = kith_engine_key_create(tx, kind[0] == 'p', key, call->now_ms)) != KITH_OK)
        return st;
    kith_crypto_hash(key, strlen(key), digest);
    json_t *args = json_pack("[ss]", name ? name : "", digest), *rows = NULL;
    if (name == NULL) {
        json_decref(args);
        args = json_pack("[ns]", digest);
    }
    st = kith_store_exec(tx, KITH_Q_ADMIN_KEY_NAME, args, NULL);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    args = json_array();
    st = kith_store_query(tx, KITH_Q_ADMIN_KEYS_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    json_t *r, *found = NULL;
    size_t i;
    json_array_foreach(rows, i, r) found = r; /* the newest is last */
    char id[KITH_ID_MAX] = "";
    json_t *args2 = json_pack("[s]", digest), *row = NULL;
    if (kith_store_query_one(tx, KITH_Q_KEYS_BY_HASH, args2, &row) == KITH_OK)
        kith_strlcpy(id, kith_eng_row_str(row, "id"), sizeof(id));
    json_decref(args2);
    json_decref(row);
    json_array_foreach(rows, i, r)
    {
        if (strcmp(kith_eng_row_str(r, "id"), id) == 0)
            found = r;
    }
    *out = key_json(found);
    json_object_set_new(*out, "key", json_string(key));
    json_decref(rows);
    kith_crypto_wipe(key, sizeof(key));
    return KITH_CREATED;
}

enum kith_status kith_op_api_key_delete(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                        struct kith_err *err)
{
    const char *id = call->params[0];
    if (strcmp(id, "key_env") == 0)
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                            "KITH_SECRET_KEY is set where kith starts; change it there");
    json_t *args = json_pack("[s]", id);
    int64_t changed = 0;
    enum kith_status st = kith_store_exec(tx, KITH_Q_ADMIN_KEY_DELETE, args, &changed);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    if (changed == 0)
        return kith_err_set(err, KITH_E_NOT_FOUND, NULL, "no such API key");
    *out = json_pack("{s:s,s:b}", "id", id, "deleted", 1);
    return KITH_OK;
}
