/*
 * test_errors.c: how the engine's failures reach the contract (CONTRACT section 1): every
 * operation that names a resource answers not_found for an unknown id; unknown body fields and
 * query parameters are invalid_param naming them on every route; a refused call leaves nothing
 * behind; and each status the engine returns maps to the contract's error code and HTTP status.
 * Runs on SQLite, and on PostgreSQL with KITH_TEST_PG_URL (pg_unit_engine_errors).
 */
#include "engine_harness.h"
#include "kith/http.h"

static void test_status_map(void)
{
    /* CONTRACT 1: the error codes and their HTTP statuses; a busy database (and a constraint the
     * engine could not place) is 503 unavailable, never 500. */
    static const struct {
        enum kith_status st;
        const char *code;
        int http;
    } map[] = {
        {KITH_E_INVALID_JSON, "invalid_json", 400},
        {KITH_E_INVALID_PARAM, "invalid_param", 400},
        {KITH_E_IMMUTABLE, "immutable_field", 400},
        {KITH_E_UNAUTHORIZED, "unauthorized", 401},
        {KITH_E_FORBIDDEN, "forbidden", 403},
        {KITH_E_NOT_FOUND, "not_found", 404},
        {KITH_E_INVALID_STATE, "invalid_state", 409},
        {KITH_E_CODE_TAKEN, "code_taken", 409},
        {KITH_E_IDEM_IN_USE, "idempotency_key_in_use", 409},
        {KITH_E_IDEM_REUSED, "idempotency_key_reused", 422},
        {KITH_E_TOO_LARGE, "payload_too_large", 413},
        {KITH_E_RATE_LIMITED, "rate_limited", 429},
        {KITH_E_UNAVAILABLE, "unavailable", 503},
        {KITH_E_CONSTRAINT, "unavailable", 503},
    };
    for (size_t i = 0; i < KITH_ARRAY_LEN(map); i++) {
        CHECK_STR(kith_status_code(map[i].st), map[i].code);
        CHECK_INT(kith_http_status_for(map[i].st), map[i].http);
    }
    CHECK_INT(kith_http_status_for(KITH_OK), 200);
    CHECK_INT(kith_http_status_for(KITH_CREATED), 201);
}

static void test_not_found_everywhere(void)
{
    /* CONTRACT 1: an unknown resource is 404 not_found, on every route that names one. */
    static const struct {
        kith_op_fn op;
        const char *name, *body; /* body NULL for reads */
    } ops[] = {
        {kith_op_program_get, "program_get", NULL},
        {kith_op_program_update, "program_update", "{\"name\": \"X\"}"},
        {kith_op_participant_get, "participant_get", NULL},
        {kith_op_participant_update, "participant_update", "{\"first_name\": \"X\"}"},
        {kith_op_participant_add_code, "participant_add_code", "{\"code\": \"FREE9\"}"},
        {kith_op_participant_export, "participant_export", NULL},
        {kith_op_participant_erase, "participant_erase", "{}"},
        {kith_op_participant_notifications, "participant_notifications", NULL},
        {kith_op_participant_share, "participant_share", NULL},
        {kith_op_referral_get, "referral_get", NULL},
        {kith_op_referral_approve, "referral_approve", "{}"},
        {kith_op_referral_reject, "referral_reject", "{}"},
        {kith_op_reward_get, "reward_get", NULL},
        {kith_op_reward_redeem, "reward_redeem", "{}"},
        {kith_op_reward_void, "reward_void", "{}"},
    };
    h_program(NULL);
    json_t *out = NULL;
    for (size_t i = 0; i < KITH_ARRAY_LEN(ops); i++) {
        enum kith_status st = h_call(ops[i].op, "zzz_unknown", NULL, ops[i].body, H_T0, &out);
        CHECK_ERR(st, out, KITH_E_NOT_FOUND, NULL);
        if (st != KITH_E_NOT_FOUND)
            fprintf(stderr, "    (%s)\n", ops[i].name);
    }
}

static void test_unknown_fields_and_parameters(void)
{
    /* CONTRACT 1: invalid_param names the field, also for unknown fields; docs/api: unknown
     * query parameters are refused the same way. Checked on every route with a body or query. */
    h_program(NULL);
    json_t *jane = h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\"}", H_T0);
    const char *jid = h_str(jane, "id");
    json_t *sig =
        h_signup(h_fmt("{\"external_id\": \"sam\", \"ref\": \"%s\"}", h_str(jane, "code")),
                 H_T0 + 2 * H_DAY);
    const char *rid = h_str(sig, "referral.id");
    json_t *ev = h_event("{\"type\": \"purchase\", \"external_id\": \"sam\"}", H_T0 + 3 * H_DAY);
    CHECK_JLEN(ev, "rewards", 0); /* no reward rules: rewarded with nothing */
    CHECK_JSTR(ev, "referral.status", "rewarded");
    const char *pid = H.progs[0];

    static const char *const bodies[] = {"program_create",
                                         "program_update",
                                         "participant_create",
                                         "participant_update",
                                         "add_code",
                                         "signup",
                                         "event",
                                         "approve",
                                         "reject",
                                         "redeem",
                                         "void",
                                         "erase"};
    kith_op_fn body_ops[] = {
        kith_op_program_create,     kith_op_program_update,       kith_op_participant_create,
        kith_op_participant_update, kith_op_participant_add_code, kith_op_signup,
        kith_op_event_create,       kith_op_referral_approve,     kith_op_referral_reject,
        kith_op_reward_redeem,      kith_op_reward_void,          kith_op_participant_erase};
    const char *body_params[] = {NULL, pid, NULL, jid,     jid,     NULL,
                                 NULL, rid, rid,  "rwd_x", "rwd_x", jid};
    json_t *out = NULL;
    for (size_t i = 0; i < KITH_ARRAY_LEN(body_ops); i++) {
        enum kith_status st = h_call(body_ops[i], body_params[i], NULL, "{\"zz_unknown\": 1}",
                                     H_T0 + 4 * H_DAY, &out);
        CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "zz_unknown");
        if (st != KITH_E_INVALID_PARAM)
            fprintf(stderr, "    (%s)\n", bodies[i]);
    }

    static const char *const reads[] = {
        "program_list",  "program_get",   "participant_list", "participant_get", "export",
        "notifications", "referral_list", "referral_get",     "reward_list",     "reward_get"};
    kith_op_fn read_ops[] = {kith_op_program_list,       kith_op_program_get,
                             kith_op_participant_list,   kith_op_participant_get,
                             kith_op_participant_export, kith_op_participant_notifications,
                             kith_op_referral_list,      kith_op_referral_get,
                             kith_op_reward_list,        kith_op_reward_get};
    const char *read_params[] = {NULL, pid, NULL, jid, jid, jid, NULL, rid, NULL, "rwd_x"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(read_ops); i++) {
        enum kith_status st =
            h_call(read_ops[i], read_params[i], "zz_unknown=1", NULL, H_T0 + 4 * H_DAY, &out);
        CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "zz_unknown");
        if (st != KITH_E_INVALID_PARAM)
            fprintf(stderr, "    (%s)\n", reads[i]);
    }

    /* referral list filters */
    enum kith_status st = h_call(kith_op_referral_list, NULL, "status=approved", NULL, H_T0, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "status");
    st = h_call(kith_op_referral_list, NULL, "limit=0", NULL, H_T0, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "limit");
    st = h_call(kith_op_referral_list, NULL, "cursor=%zz", NULL, H_T0, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "cursor");
    out = h_read(kith_op_referral_list, NULL, h_fmt("referrer=%s&status=rewarded", jid), H_T0);
    CHECK_JLEN(out, "data", 1);
    CHECK_JSTR(out, "data[0].id", rid);
}

static void test_refused_calls_leave_nothing(void)
{
    /* CONTRACT 1 (and the engine's all-or-nothing rule, engine.h): a refused call has no
     * effect: a program refused for one bad rule is not half-stored, a signup refused for a bad
     * field makes no participant, a refused decision changes no state. */
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_program_create, NULL, NULL,
                                 "{\"id\": \"half\", \"name\": \"N\", \"destination_url\": "
                                 "\"https://example.com\", \"rewards\": [{\"to\": \"referrer\", "
                                 "\"kind\": \"credit\"}]}",
                                 H_T0, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "rewards[0].amount");
    st = h_call(kith_op_program_get, "half", NULL, NULL, H_T0, &out);
    CHECK_ERR(st, out, KITH_E_NOT_FOUND, NULL);

    h_program(NULL);
    json_t *jane = h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\"}", H_T0);
    st = h_call(kith_op_signup, NULL, NULL,
                h_fmt("{\"external_id\": \"sam\", \"ref\": \"%s\", \"occurred_at\": 5}",
                      h_str(jane, "code")),
                H_T0 + 2 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "occurred_at");
    out = h_read(kith_op_participant_list, NULL, "external_id=sam", H_T0);
    CHECK_JLEN(out, "data", 0);
    out = h_read(kith_op_referral_list, NULL, NULL, H_T0);
    CHECK_JLEN(out, "data", 0);

    json_t *sig =
        h_signup(h_fmt("{\"external_id\": \"sam\", \"ref\": \"%s\"}", h_str(jane, "code")),
                 H_T0 + 2 * H_DAY);
    st = h_call(kith_op_referral_reject, h_str(sig, "referral.id"), NULL, "{\"reason\": 5}",
                H_T0 + 3 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "reason");
    out = h_read(kith_op_referral_get, h_str(sig, "referral.id"), NULL, H_T0 + 3 * H_DAY);
    CHECK_JSTR(out, "status", "pending");
    out = h_read(kith_op_participant_export, h_str(jane, "id"), NULL, H_T0 + 3 * H_DAY);
    CHECK_JLEN(out, "review_decisions", 0);
}

int main(void)
{
    RUN(test_status_map);
    RUN_DB(test_not_found_everywhere);
    RUN_DB(test_unknown_fields_and_parameters);
    RUN_DB(test_refused_calls_leave_nothing);
    h_teardown();
    TEST_DONE();
}
