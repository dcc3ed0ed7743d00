/*
 * test_rewards.c: rewards after they exist (CONTRACT section 8): redeem and void with their
 * timestamps, 409 invalid_state from every other state, expiry of issued rewards by the sweeper,
 * and the reward list's filters. Runs on SQLite, and on PostgreSQL with KITH_TEST_PG_URL
 * (pg_unit_engine_rewards).
 */
#include "engine_harness.h"

#define TS (H_T0 + 2 * H_DAY)
#define TE (H_T0 + 3 * H_DAY)

#define DOUBLE_SIDED(extra)                                                                        \
    "\"rewards\": [{\"to\": \"referrer\", \"kind\": \"cash\", \"amount\": 1500, "                  \
    "\"currency\": \"EUR\"" extra "}, {\"to\": \"referred\", \"kind\": \"discount\", "             \
    "\"amount\": 1000, \"currency\": \"EUR\"}]"

/* Jane refers sam, who buys at TE: the event's answer ({event, referral, rewards}). */
static json_t *earn(const char *ext)
{
    json_t *jane = h_read(kith_op_participant_list, NULL, "external_id=jane", H_T0);
    const char *code = h_str(jane, "data[0].code");
    if (!*code)
        code = h_str(h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\"}", H_T0),
                     "code");
    h_signup(h_fmt("{\"external_id\": \"%s\", \"ref\": \"%s\"}", ext, code), TS);
    return h_event(
        h_fmt("{\"type\": \"purchase\", \"external_id\": \"%s\", \"amount\": 9000}", ext), TE);
}

static void test_redeem_and_void_issued(void)
{
    /* CONTRACT 8: redeem moves issued -> redeemed (redeemed_at set), void moves pending or issued
     * -> voided; from any other state both are 409 invalid_state and change nothing. */
    h_program("{" DOUBLE_SIDED("") "}");
    json_t *ev = earn("sam");
    const char *mine = h_str(ev, "rewards[0].id"), *theirs = h_str(ev, "rewards[1].id");
    CHECK_JSTR(ev, "rewards[0].status", "issued");
    CHECK_JSTR(ev, "rewards[1].status", "issued");
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_reward_redeem, mine, NULL, "{}", TE + H_DAY, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "id", mine);
    CHECK_JSTR(out, "status", "redeemed");
    CHECK_JSTR(out, "redeemed_at", h_time(TE + H_DAY));
    CHECK_JSTR(out, "issued_at", h_time(TE));
    st = h_call(kith_op_reward_void, theirs, NULL, "{}", TE + 2 * H_DAY, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "voided");
    CHECK_JNULL(out, "redeemed_at");

    st = h_call(kith_op_reward_redeem, mine, NULL, "{}", TE + 3 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    st = h_call(kith_op_reward_void, mine, NULL, "{}", TE + 3 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    st = h_call(kith_op_reward_redeem, theirs, NULL, "{}", TE + 3 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    st = h_call(kith_op_reward_void, theirs, NULL, "{}", TE + 3 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    out = h_read(kith_op_reward_get, mine, NULL, TE + 3 * H_DAY);
    CHECK_JSTR(out, "status", "redeemed");
    CHECK_JSTR(out, "redeemed_at", h_time(TE + H_DAY));
    out = h_read(kith_op_reward_get, theirs, NULL, TE + 3 * H_DAY);
    CHECK_JSTR(out, "status", "voided");
}

static void test_pending_rewards(void)
{
    /* CONTRACT 8: a pending (held) reward cannot be redeemed (409 invalid_state) but can be
     * voided; CONTRACT 7: at the hold's end only the pending ones are issued. */
    h_program("{\"qualification\": {\"hold_days\": 7}, " DOUBLE_SIDED("") "}");
    json_t *ev = earn("sam");
    const char *mine = h_str(ev, "rewards[0].id"), *theirs = h_str(ev, "rewards[1].id");
    CHECK_JSTR(ev, "rewards[0].status", "pending");
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_reward_redeem, mine, NULL, "{}", TE + H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    st = h_call(kith_op_reward_void, mine, NULL, "{}", TE + H_DAY, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "voided");
    h_sweep(TE + 7 * H_DAY);
    out = h_read(kith_op_reward_get, mine, NULL, TE + 7 * H_DAY);
    CHECK_JSTR(out, "status", "voided");
    CHECK_JNULL(out, "issued_at");
    out = h_read(kith_op_reward_get, theirs, NULL, TE + 7 * H_DAY);
    CHECK_JSTR(out, "status", "issued");
    CHECK_JSTR(out, "issued_at", h_time(TE + 7 * H_DAY));
    out = h_read(kith_op_referral_get, h_str(ev, "referral.id"), NULL, TE + 7 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
}

static void test_issued_reward_expires(void)
{
    /* CONTRACT 8: an issued reward with expires_days expires at issued_at + expires_days (the
     * sweeper, at a later now); an expired reward can be neither redeemed nor voided. A reward
     * without expires_days never expires. */
    h_program("{" DOUBLE_SIDED(", \"expires_days\": 30") "}");
    json_t *ev = earn("sam");
    const char *mine = h_str(ev, "rewards[0].id"), *theirs = h_str(ev, "rewards[1].id");
    CHECK_JSTR(ev, "rewards[0].expires_at", h_time(TE + 30 * H_DAY));
    CHECK_JNULL(ev, "rewards[1].expires_at");
    h_sweep(TE + 30 * H_DAY - 1);
    json_t *out = h_read(kith_op_reward_get, mine, NULL, TE + 30 * H_DAY - 1);
    CHECK_JSTR(out, "status", "issued");
    h_sweep(TE + 30 * H_DAY);
    out = h_read(kith_op_reward_get, mine, NULL, TE + 30 * H_DAY);
    CHECK_JSTR(out, "status", "expired");
    CHECK_JSTR(out, "expires_at", h_time(TE + 30 * H_DAY));
    enum kith_status st = h_call(kith_op_reward_redeem, mine, NULL, "{}", TE + 31 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    st = h_call(kith_op_reward_void, mine, NULL, "{}", TE + 31 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    h_sweep(TE + 3650 * H_DAY);
    out = h_read(kith_op_reward_get, theirs, NULL, TE + 3650 * H_DAY);
    CHECK_JSTR(out, "status", "issued");
    /* the referral stays rewarded: expiry is the reward's */
    out = h_read(kith_op_referral_get, h_str(ev, "referral.id"), NULL, TE + 3650 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
}

static void test_no_redeem_after_expiry(void)
{
    /* CONTRACT 8: an issued reward with expires_days expires at issued_at + expires_days, so
     * redeeming it after that time is 409 invalid_state, whether or not the sweeper has marked it
     * expired yet; just before, it redeems. */
    h_program("{" DOUBLE_SIDED(", \"expires_days\": 30") "}");
    json_t *a = earn("sam"), *b = earn("kim");
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_reward_redeem, h_str(a, "rewards[0].id"), NULL, "{}",
                                 TE + 30 * H_DAY - 1, &out);
    CHECK_ST(st, KITH_OK, out);
    st =
        h_call(kith_op_reward_redeem, h_str(b, "rewards[0].id"), NULL, "{}", TE + 31 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
}

static void test_no_void_after_expiry(void)
{
    /* CONTRACT 8: void is pending or issued -> voided, and an issued reward is expired from its
     * expires_at on: voiding it then is 409 invalid_state whether or not the sweeper has marked
     * it, and the refusal leaves it expired (as the sweeper would), not issued. */
    h_program("{" DOUBLE_SIDED(", \"expires_days\": 30") "}");
    json_t *a = earn("sam"), *b = earn("kim");
    const char *late = h_str(a, "rewards[0].id"), *redeemed_late = h_str(b, "rewards[0].id");
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_reward_void, late, NULL, "{}", TE + 30 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    out = h_read(kith_op_reward_get, late, NULL, TE + 30 * H_DAY);
    CHECK_JSTR(out, "status", "expired");
    CHECK_JSTR(out, "expires_at", h_time(TE + 30 * H_DAY));
    st = h_call(kith_op_reward_redeem, redeemed_late, NULL, "{}", TE + 31 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    out = h_read(kith_op_reward_get, redeemed_late, NULL, TE + 31 * H_DAY);
    CHECK_JSTR(out, "status", "expired");
    CHECK_JNULL(out, "redeemed_at");
    /* the sweeper finds nothing left to do, and nothing changes */
    h_sweep(TE + 32 * H_DAY);
    out = h_read(kith_op_reward_list, NULL, "status=expired", TE + 32 * H_DAY);
    CHECK_JLEN(out, "data", 2);
    /* the referred side's rewards never expire: still voidable */
    st = h_call(kith_op_reward_void, h_str(a, "rewards[1].id"), NULL, "{}", TE + 32 * H_DAY, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "voided");
}

static void test_held_reward_after_hold_before_sweep(void)
{
    /* CONTRACT 7 and 8: held rewards are issued at qualified_at + hold_days. A reward whose hold
     * has ended redeems as an issued one whether or not the sweeper has released it yet; one
     * whose expiry (from the hold's end) has passed too is expired, so 409. Either way the
     * referral is rewarded, as the sweeper would make it. */
    h_program(
        "{\"qualification\": {\"hold_days\": 14}, " DOUBLE_SIDED(", \"expires_days\": 30") "}");
    json_t *a = earn("sam"), *b = earn("kim");
    CHECK_JSTR(a, "rewards[0].status", "pending");
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_reward_redeem, h_str(a, "rewards[0].id"), NULL, "{}",
                                 TE + 14 * H_DAY - 1, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    st =
        h_call(kith_op_reward_redeem, h_str(a, "rewards[0].id"), NULL, "{}", TE + 14 * H_DAY, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "status", "redeemed");
    CHECK_JSTR(out, "issued_at", h_time(TE + 14 * H_DAY));
    out = h_read(kith_op_referral_get, h_str(a, "referral.id"), NULL, TE + 14 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
    CHECK_JSTR(out, "rewarded_at", h_time(TE + 14 * H_DAY));
    out = h_read(kith_op_reward_get, h_str(a, "rewards[1].id"), NULL, TE + 14 * H_DAY);
    CHECK_JSTR(out, "status", "issued");

    st =
        h_call(kith_op_reward_redeem, h_str(b, "rewards[0].id"), NULL, "{}", TE + 45 * H_DAY, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    out = h_read(kith_op_reward_get, h_str(b, "rewards[0].id"), NULL, TE + 45 * H_DAY);
    CHECK_JSTR(out, "status", "expired");
    CHECK_JSTR(out, "issued_at", h_time(TE + 14 * H_DAY));
    CHECK_JSTR(out, "expires_at", h_time(TE + 44 * H_DAY));
    out = h_read(kith_op_referral_get, h_str(b, "referral.id"), NULL, TE + 45 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
    out = h_read(kith_op_reward_get, h_str(b, "rewards[1].id"), NULL, TE + 45 * H_DAY);
    CHECK_JSTR(out, "status", "issued");
}

static void test_redeemed_reward_does_not_expire(void)
{
    /* CONTRACT 8: expiry is for issued rewards: one redeemed before its expires_at stays
     * redeemed after it. */
    h_program("{" DOUBLE_SIDED(", \"expires_days\": 30") "}");
    json_t *ev = earn("sam");
    const char *mine = h_str(ev, "rewards[0].id");
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_reward_redeem, mine, NULL, "{}", TE + 29 * H_DAY, &out);
    CHECK_ST(st, KITH_OK, out);
    h_sweep(TE + 31 * H_DAY);
    out = h_read(kith_op_reward_get, mine, NULL, TE + 31 * H_DAY);
    CHECK_JSTR(out, "status", "redeemed");
    CHECK_JSTR(out, "redeemed_at", h_time(TE + 29 * H_DAY));
}

static void test_list_filters(void)
{
    /* CONTRACT 8: GET /v1/rewards?program=&participant=&status=; CONTRACT 1: a bad filter is
     * 400 invalid_param naming it, an unknown reward 404 not_found. */
    h_program("{" DOUBLE_SIDED("") "}");
    json_t *a = earn("sam"), *b = earn("kim");
    json_t *jane = h_read(kith_op_participant_list, NULL, "external_id=jane", TE);
    const char *jane_id = h_str(jane, "data[0].id");
    json_t *out = NULL;
    enum kith_status st =
        h_call(kith_op_reward_redeem, h_str(b, "rewards[0].id"), NULL, "{}", TE + H_DAY, &out);
    CHECK_ST(st, KITH_OK, out);

    out = h_read(kith_op_reward_list, NULL, NULL, TE + H_DAY);
    CHECK_JLEN(out, "data", 4);
    CHECK_JSTR(out, "data[0].id", h_str(a, "rewards[0].id"));
    CHECK_JSTR(out, "data[3].id", h_str(b, "rewards[1].id"));
    out = h_read(kith_op_reward_list, NULL, h_fmt("participant=%s", jane_id), TE + H_DAY);
    CHECK_JLEN(out, "data", 2);
    CHECK_JSTR(out, "data[0].to", "referrer");
    CHECK_JSTR(out, "data[1].to", "referrer");
    out = h_read(kith_op_reward_list, NULL, h_fmt("participant=%s&status=issued", jane_id),
                 TE + H_DAY);
    CHECK_JLEN(out, "data", 1);
    CHECK_JSTR(out, "data[0].id", h_str(a, "rewards[0].id"));
    out = h_read(kith_op_reward_list, NULL, "status=redeemed", TE + H_DAY);
    CHECK_JLEN(out, "data", 1);
    out = h_read(kith_op_reward_list, NULL, h_fmt("program=%s", H.progs[0]), TE + H_DAY);
    CHECK_JLEN(out, "data", 4);
    out = h_read(kith_op_reward_list, NULL, "program=other", TE + H_DAY);
    CHECK_JLEN(out, "data", 0);
    out = h_read(kith_op_reward_list, NULL, "limit=3", TE + H_DAY);
    CHECK_JLEN(out, "data", 3);
    CHECK_JBOOL(out, "has_more", true);

    st = h_call(kith_op_reward_list, NULL, "status=spent", NULL, TE, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "status");
    st = h_call(kith_op_reward_list, NULL, "referral=ref_x", NULL, TE, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "referral");
    st = h_call(kith_op_reward_get, "rwd_nothing", NULL, NULL, TE, &out);
    CHECK_ERR(st, out, KITH_E_NOT_FOUND, NULL);
    st = h_call(kith_op_reward_redeem, "rwd_nothing", NULL, "{}", TE, &out);
    CHECK_ERR(st, out, KITH_E_NOT_FOUND, NULL);
    st = h_call(kith_op_reward_void, "rwd_nothing", NULL, "{}", TE, &out);
    CHECK_ERR(st, out, KITH_E_NOT_FOUND, NULL);
    st = h_call(kith_op_reward_void, h_str(a, "rewards[0].id"), NULL, "{\"reason\": \"x\"}", TE,
                &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "reason");
}

int main(void)
{
    RUN_DB(test_redeem_and_void_issued);
    RUN_DB(test_pending_rewards);
    RUN_DB(test_issued_reward_expires);
    RUN_DB(test_no_redeem_after_expiry);
    RUN_DB(test_no_void_after_expiry);
    RUN_DB(test_held_reward_after_hold_before_sweep);
    RUN_DB(test_redeemed_reward_does_not_expire);
    RUN_DB(test_list_filters);
    h_teardown();
    TEST_DONE();
}
