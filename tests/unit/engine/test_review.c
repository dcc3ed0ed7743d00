/*
 * test_review.c: fraud verdicts and the review decisions through the engine (CONTRACT sections 6
 * and 7): review and reject thresholds, re-scoring on a payment with the referrer's card, approve
 * (applying a qualifying event that arrived during review) and reject from every state, 409
 * invalid_state from the others, and each decision kept with its key, time and reason. Runs on
 * SQLite, and on PostgreSQL with KITH_TEST_PG_URL (pg_unit_engine_review).
 */
#include "engine_harness.h"

#define TS (H_T0 + 2 * H_DAY) /* signups: two days after the referrer joined */
#define TE (H_T0 + 3 * H_DAY)

#define DOUBLE_SIDED                                                                               \
    "\"rewards\": [{\"to\": \"referrer\", \"kind\": \"credit\", \"amount\": 2500, "                \
    "\"currency\": \"USD\"}, {\"to\": \"referred\", \"kind\": \"gift\", \"description\": "         \
    "\"A welcome box\"}]"

/* Jane, whose device, IP and card the friends may share. */
static json_t *make_jane(void)
{
    return h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\", \"ip\": "
                         "\"198.51.100.4\", \"device_id\": \"d-1\", \"payment_fingerprint\": "
                         "\"card_1\"}",
                         H_T0);
}

/* A friend signing up with ref at TS with extra fields ("" for none): the referral. */
static json_t *refer(const char *code, const char *ext, const char *extra)
{
    json_t *out = h_signup(h_fmt("{\"external_id\": \"%s\", \"ref\": \"%s\"%s%s}", ext, code,
                                 *extra ? ", " : "", extra),
                           TS);
    return h_at(out, "referral");
}

static json_t *purchase(const char *ext, int64_t at_ms)
{
    return h_event(h_fmt("{\"type\": \"purchase\", \"external_id\": \"%s\", \"amount\": 12000, "
                         "\"currency\": \"USD\"}",
                         ext),
                   at_ms);
}

static void test_thresholds(void)
{
    /* CONTRACT 6: each flag counts 1 and score is their number; score >= reject_at: rejected;
     * score >= review_at: review; otherwise pending (same_ip, same_device, same_payment compare
     * with what is known for the referrer). */
    h_program("{\"fraud\": {\"review_at\": 2, \"reject_at\": 3}}");
    json_t *jane = make_jane();
    const char *code = h_str(jane, "code");
    json_t *r = refer(code, "a", "\"device_id\": \"d-1\"");
    CHECK_JSTR(r, "status", "pending");
    CHECK_JINT(r, "fraud.score", 1);
    CHECK_JSET(r, "fraud.flags", "[\"same_device\"]");
    r = refer(code, "b", "\"device_id\": \"d-1\", \"ip\": \"198.51.100.4\"");
    const char *in_review = h_str(r, "id");
    CHECK_JSTR(r, "status", "review");
    CHECK_JINT(r, "fraud.score", 2);
    CHECK_JSET(r, "fraud.flags", "[\"same_ip\", \"same_device\"]");
    r = refer(code, "c",
              "\"device_id\": \"d-1\", \"ip\": \"198.51.100.4\", \"payment_fingerprint\": "
              "\"card_1\"");
    CHECK_JSTR(r, "status", "rejected");
    CHECK_JINT(r, "fraud.score", 3);
    CHECK_JSET(r, "fraud.flags", "[\"same_ip\", \"same_device\", \"same_payment\"]");
    r = refer(code, "d", "\"device_id\": \"d-2\", \"ip\": \"203.0.113.7\"");
    CHECK_JSTR(r, "status", "pending");
    CHECK_JSON(r, "fraud", "{\"score\": 0, \"flags\": []}");
    /* a rejected referral never qualifies */
    json_t *out = purchase("c", TE);
    CHECK_JSTR(out, "referral.status", "rejected");
    CHECK_JLEN(out, "rewards", 0);
    out = h_read(kith_op_referral_list, NULL, "status=review", TE);
    CHECK_JLEN(out, "data", 1);
    CHECK_JSTR(out, "data[0].id", in_review);
}

static void test_review_then_approve_applies_kept_event(void)
{
    /* CONTRACT 7: a referral in review does not qualify; its qualifying event is kept and
     * applied on approval. CONTRACT 6: approve moves review -> pending, then qualifies at once if
     * its qualifying event already arrived. */
    h_program("{\"fraud\": {\"review_at\": 1, \"reject_at\": 2}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    json_t *r = refer(h_str(jane, "code"), "sam", "\"device_id\": \"d-1\"");
    const char *id = h_str(r, "id");
    CHECK_JSTR(r, "status", "review");
    json_t *out = purchase("sam", TE);
    CHECK_JSTR(out, "referral.status", "review");
    CHECK_JNULL(out, "referral.qualified_at");
    CHECK_JLEN(out, "rewards", 0);
    enum kith_status st = h_call(kith_op_referral_approve, id, NULL,
                                 "{\"reason\": \"checked by phone\"}", TE + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "id", id);
    CHECK_JSTR(out, "status", "rewarded");
    CHECK_JSTR(out, "qualified_at", h_time(TE));
    out = h_read(kith_op_reward_list, NULL, "status=issued", TE + H_HOUR);
    CHECK_JLEN(out, "data", 2);
    st = h_call(kith_op_referral_approve, id, NULL, "{}", TE + 2 * H_HOUR, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
}

static void test_approve_before_event(void)
{
    /* CONTRACT 6: approve moves review -> pending; with no qualifying event yet it stays pending
     * and qualifies on the next one. */
    h_program("{\"fraud\": {\"review_at\": 1, \"reject_at\": 2}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    json_t *r = refer(h_str(jane, "code"), "sam", "\"device_id\": \"d-1\"");
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_referral_approve, h_str(r, "id"), NULL, "{}", TE, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "pending");
    CHECK_JNULL(out, "qualified_at");
    out = purchase("sam", TE + H_HOUR);
    CHECK_JSTR(out, "referral.status", "rewarded");
    CHECK_JLEN(out, "rewards", 2);
}

static void test_approve_applies_only_a_qualifying_event(void)
{
    /* CONTRACT 6 and 7: on approval only a kept event that qualifies (the program's event type
     * with amount >= min_amount) is applied. */
    h_program("{\"qualification\": {\"min_amount\": 5000}, \"fraud\": {\"review_at\": 1, "
              "\"reject_at\": 2}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    json_t *r = refer(h_str(jane, "code"), "sam", "\"device_id\": \"d-1\"");
    h_event("{\"type\": \"purchase\", \"external_id\": \"sam\", \"amount\": 4999}", TE);
    h_event("{\"type\": \"signup.completed\", \"external_id\": \"sam\", \"amount\": 9999}", TE);
    json_t *out = NULL;
    enum kith_status st =
        h_call(kith_op_referral_approve, h_str(r, "id"), NULL, "{}", TE + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "pending");
    out = h_read(kith_op_reward_list, NULL, NULL, TE + H_HOUR);
    CHECK_JLEN(out, "data", 0);
}

static void test_payment_rescore(void)
{
    /* CONTRACT 6: a qualifying event carrying a payment_fingerprint equal to the referrer's adds
     * same_payment and re-scores the referral before it can qualify. */
    h_program("{\"fraud\": {\"review_at\": 1, \"reject_at\": 3}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    json_t *r = refer(h_str(jane, "code"), "sam", "");
    CHECK_JSTR(r, "status", "pending");
    json_t *out = h_event("{\"type\": \"purchase\", \"external_id\": \"sam\", \"amount\": 12000, "
                          "\"currency\": \"USD\", \"payment_fingerprint\": \"card_1\"}",
                          TE);
    CHECK_JSTR(out, "referral.status", "review");
    CHECK_JINT(out, "referral.fraud.score", 1);
    CHECK_JSET(out, "referral.fraud.flags", "[\"same_payment\"]");
    CHECK_JLEN(out, "rewards", 0);
    enum kith_status st =
        h_call(kith_op_referral_approve, h_str(r, "id"), NULL, "{}", TE + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "rewarded");
    /* a payment with another card changes nothing */
    r = refer(h_str(jane, "code"), "kim", "");
    out = h_event("{\"type\": \"purchase\", \"external_id\": \"kim\", \"amount\": 12000, "
                  "\"currency\": \"USD\", \"payment_fingerprint\": \"card_9\"}",
                  TE);
    CHECK_JSTR(out, "referral.status", "rewarded");
    CHECK_JSON(out, "referral.fraud", "{\"score\": 0, \"flags\": []}");
}

static void test_reject_from_each_state(void)
{
    /* CONTRACT 6: reject moves pending, review or qualified -> rejected and voids its pending
     * rewards; approve needs review; every other state is 409 invalid_state. */
    h_program("{\"qualification\": {\"hold_days\": 14, \"within_days\": 30}, \"fraud\": "
              "{\"review_at\": 1, \"reject_at\": 2}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *code = h_str(jane, "code");
    const char *pending = h_str(refer(code, "a", ""), "id");
    const char *review = h_str(refer(code, "b", "\"device_id\": \"d-1\""), "id");
    const char *qualified = h_str(refer(code, "c", ""), "id");
    const char *rewarded = h_str(refer(code, "d", ""), "id");
    const char *expired = h_str(refer(code, "e", ""), "id");
    purchase("c", TE);
    purchase("d", TE - H_DAY);
    json_t *out = NULL;

    /* approve from anything but review */
    enum kith_status st = h_call(kith_op_referral_approve, pending, NULL, "{}", TE, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    st = h_call(kith_op_referral_approve, qualified, NULL, "{}", TE, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);

    st = h_call(kith_op_referral_reject, pending, NULL, "{\"reason\": \"duplicate account\"}", TE,
                &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "rejected");
    st = h_call(kith_op_referral_reject, review, NULL, "{}", TE, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "rejected");
    st = h_call(kith_op_referral_reject, qualified, NULL, "{\"reason\": \"chargeback\"}",
                TE + H_DAY, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "rejected");
    out = h_read(kith_op_reward_list, NULL, "status=voided", TE + H_DAY);
    CHECK_JLEN(out, "data", 2);
    CHECK_JSTR(out, "data[0].referral", qualified);
    CHECK_JSTR(out, "data[1].referral", qualified);

    /* past the hold and the 30 days: d is rewarded, e expired, and c stays rejected */
    h_sweep(TS + 31 * H_DAY);
    out = h_read(kith_op_referral_get, rewarded, NULL, TS + 31 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
    out = h_read(kith_op_referral_get, expired, NULL, TS + 31 * H_DAY);
    CHECK_JSTR(out, "status", "expired");
    out = h_read(kith_op_referral_get, qualified, NULL, TS + 31 * H_DAY);
    CHECK_JSTR(out, "status", "rejected");
    out = h_read(kith_op_reward_list, NULL, "status=issued", TS + 31 * H_DAY);
    CHECK_JLEN(out, "data", 2);

    const char *const others[] = {pending, rewarded, expired};
    for (size_t i = 0; i < KITH_ARRAY_LEN(others); i++) {
        st = h_call(kith_op_referral_reject, others[i], NULL, "{}", TS + 32 * H_DAY, &out);
        CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
        st = h_call(kith_op_referral_approve, others[i], NULL, "{}", TS + 32 * H_DAY, &out);
        CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    }
    out = h_read(kith_op_reward_list, NULL, "status=issued", TS + 32 * H_DAY);
    CHECK_JLEN(out, "data", 2);

    st = h_call(kith_op_referral_reject, "ref_nothing", NULL, "{}", TE, &out);
    CHECK_ERR(st, out, KITH_E_NOT_FOUND, NULL);
    st = h_call(kith_op_referral_approve, "ref_nothing", NULL, "{}", TE, &out);
    CHECK_ERR(st, out, KITH_E_NOT_FOUND, NULL);
    st = h_call(kith_op_referral_reject, rewarded, NULL, "{\"why\": \"x\"}", TE, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "why");
}

static void test_decisions_after_time_moved_on(void)
{
    /* CONTRACT 5, 6 and 7: a decision meets the referral as time has made it, whether or not the
     * sweeper has looked: a pending referral past expires_at is expired and a qualified one whose
     * hold has ended is rewarded, so neither can be rejected (409 invalid_state, and it stays
     * expired or rewarded); approving a review that outlasted the window, with no qualifying
     * event inside it, leaves it expired. */
    h_program("{\"qualification\": {\"hold_days\": 14, \"within_days\": 10}, \"fraud\": "
              "{\"review_at\": 1, \"reject_at\": 2}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *code = h_str(jane, "code");
    const char *idle = h_str(refer(code, "a", ""), "id");
    const char *held = h_str(refer(code, "b", ""), "id");
    const char *review = h_str(refer(code, "c", "\"device_id\": \"d-1\""), "id");
    const char *late = h_str(refer(code, "d", "\"device_id\": \"d-1\""), "id");
    purchase("b", TS + H_DAY);
    purchase("d", TS + 10 * H_DAY);
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_referral_reject, idle, NULL, "{}", TS + 10 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    out = h_read(kith_op_referral_get, idle, NULL, TS + 10 * H_DAY);
    CHECK_JSTR(out, "status", "expired");
    st = h_call(kith_op_referral_reject, held, NULL, "{}", TS + 15 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    out = h_read(kith_op_referral_get, held, NULL, TS + 15 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
    CHECK_JSTR(out, "rewarded_at", h_time(TS + 15 * H_DAY));
    out = h_read(kith_op_reward_list, NULL, "status=issued", TS + 15 * H_DAY);
    CHECK_JLEN(out, "data", 2);
    st = h_call(kith_op_referral_approve, review, NULL, "{}", TS + 15 * H_DAY, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "expired");
    /* its purchase came on the window's last moment: too late to qualify it on approval */
    st = h_call(kith_op_referral_approve, late, NULL, "{}", TS + 15 * H_DAY, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "expired");
    CHECK_JNULL(out, "qualified_at");
    out = h_read(kith_op_referral_list, NULL, "status=expired", TS + 15 * H_DAY);
    CHECK_JLEN(out, "data", 3);
    /* the decisions that took effect are kept */
    st = h_call(kith_op_referral_reject, review, NULL, "{}", TS + 16 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
}

static void test_decisions_kept(void)
{
    /* CONTRACT 6: each decision is kept with who (the API key id), when and why; CONTRACT 6b: a
     * person's export shows the review decisions about their referrals. */
    h_program("{\"fraud\": {\"review_at\": 1, \"reject_at\": 2}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *code = h_str(jane, "code");
    json_t *b = refer(code, "b", "\"device_id\": \"d-1\"");
    json_t *c = refer(code, "c", "\"device_id\": \"d-1\"");
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_referral_approve, h_str(b, "id"), NULL,
                                 "{\"reason\": \"known customer\"}", TE, &out);
    CHECK_ST(st, KITH_OK, out);
    st = h_call(kith_op_referral_reject, h_str(c, "id"), NULL, "{\"reason\": \"same household\"}",
                TE + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);

    out = h_read(kith_op_participant_export, h_str(b, "referred.id"), NULL, TE + 2 * H_HOUR);
    CHECK_JLEN(out, "review_decisions", 1);
    CHECK_JSTR(out, "review_decisions[0].referral", h_str(b, "id"));
    CHECK_JSTR(out, "review_decisions[0].decision", "approve");
    CHECK_JSTR(out, "review_decisions[0].api_key", H_KEY_ID);
    CHECK_JSTR(out, "review_decisions[0].reason", "known customer");
    CHECK_JSTR(out, "review_decisions[0].created_at", h_time(TE));

    out = h_read(kith_op_participant_export, h_str(jane, "id"), NULL, TE + 2 * H_HOUR);
    CHECK_JLEN(out, "review_decisions", 2);
    CHECK_JSTR(out, "review_decisions[1].referral", h_str(c, "id"));
    CHECK_JSTR(out, "review_decisions[1].decision", "reject");
    CHECK_JSTR(out, "review_decisions[1].api_key", H_KEY_ID);
    CHECK_JSTR(out, "review_decisions[1].reason", "same household");
    CHECK_JSTR(out, "review_decisions[1].created_at", h_time(TE + H_HOUR));
    /* the decisions outlive their referral's later moves */
    purchase("b", TE + 3 * H_HOUR);
    out = h_read(kith_op_participant_export, h_str(jane, "id"), NULL, TE + 4 * H_HOUR);
    CHECK_JLEN(out, "review_decisions", 2);
}

int main(void)
{
    RUN_DB(test_thresholds);
    RUN_DB(test_review_then_approve_applies_kept_event);
    RUN_DB(test_approve_before_event);
    RUN_DB(test_approve_applies_only_a_qualifying_event);
    RUN_DB(test_payment_rescore);
    RUN_DB(test_reject_from_each_state);
    RUN_DB(test_decisions_after_time_moved_on);
    RUN_DB(test_decisions_kept);
    h_teardown();
    TEST_DONE();
}
