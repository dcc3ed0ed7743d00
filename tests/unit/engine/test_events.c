/*
 * test_events.c: events and what they do to referrals and rewards (CONTRACT sections 7, 5 and 2):
 * qualification and its minimum amount, holds released by the sweeper at a later now_ms,
 * refunds and cancels during the hold, tiered referrer rewards, the per-referrer cap, replays by
 * provider id, arrival order, and referral expiry. Time moves only through now_ms and
 * kith_engine_sweep. Runs on SQLite, and on PostgreSQL with KITH_TEST_PG_URL
 * (pg_unit_engine_events).
 */
#include "engine_harness.h"

#define TS (H_T0 + 2 * H_DAY) /* signups: two days after the referrer joined */
#define TE (H_T0 + 3 * H_DAY) /* first purchases */

#define DOUBLE_SIDED                                                                               \
    "\"rewards\": [{\"to\": \"referrer\", \"kind\": \"credit\", \"amount\": 2500, "                \
    "\"currency\": \"USD\", \"expires_days\": 365}, {\"to\": \"referred\", \"kind\": "             \
    "\"free_month\", \"description\": \"Your first month on us\"}]"

/* Jane, the referrer of every test. */
static json_t *make_jane(void)
{
    return h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\"}", H_T0);
}

/* Signs up ext referred by code at TS: the referral id. */
static const char *refer(const char *code, const char *ext)
{
    json_t *out = h_signup(h_fmt("{\"external_id\": \"%s\", \"ref\": \"%s\"}", ext, code), TS);
    CHECK_JSTR(out, "referral.status", "pending");
    return h_str(out, "referral.id");
}

static json_t *purchase(const char *ext, int64_t amount, int64_t at_ms)
{
    return h_event(
        h_fmt("{\"type\": \"purchase\", \"external_id\": \"%s\", \"amount\": %lld, \"currency\": "
              "\"USD\"}",
              ext, (long long)amount),
        at_ms);
}

static void test_qualify_issues_at_once(void)
{
    /* CONTRACT 7: a purchase with amount >= min_amount for a pending referral qualifies it
     * (qualified_at = the event's time) and creates the referrer's reward (by tier) and the
     * referred's; with hold_days 0 they are issued at once and the referral becomes rewarded.
     * CONTRACT 8: the reward shape; an issued reward with expires_days expires at issued_at +
     * expires_days; non-monetary rewards carry a description. */
    const char *prog = h_program("{" DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *ref = refer(h_str(jane, "code"), "sam");
    int64_t occurred = TE - H_HOUR;
    json_t *out = h_event(h_fmt("{\"type\": \"purchase\", \"external_id\": \"sam\", \"amount\": "
                                "12000, \"currency\": \"USD\", \"occurred_at\": \"%s\"}",
                                h_time(occurred)),
                          TE);
    CHECK_JMATCH(out, "event.id", "^evt_[a-z0-9]+$");
    CHECK_JSTR(out, "event.program", prog);
    CHECK_JSTR(out, "event.type", "purchase");
    CHECK_JSTR(out, "event.external_id", "sam");
    CHECK_JINT(out, "event.amount", 12000);
    CHECK_JSTR(out, "event.currency", "USD");
    CHECK_JSTR(out, "event.referral", ref);
    CHECK_JSTR(out, "event.occurred_at", h_time(occurred));
    CHECK_JSTR(out, "referral.id", ref);
    CHECK_JSTR(out, "referral.status", "rewarded");
    CHECK_JSTR(out, "referral.qualified_at", h_time(occurred));
    CHECK_JSTR(out, "referral.rewarded_at", h_time(TE));
    CHECK_JLEN(out, "rewards", 2);

    json_t *r0 = h_at(out, "rewards[0]"), *r1 = h_at(out, "rewards[1]");
    CHECK_JMATCH(r0, "id", "^rwd_[a-z0-9]+$");
    CHECK_JSTR(r0, "program", prog);
    CHECK_JSTR(r0, "participant", h_str(jane, "id"));
    CHECK_JSTR(r0, "referral", ref);
    CHECK_JSTR(r0, "to", "referrer");
    CHECK_JSTR(r0, "kind", "credit");
    CHECK_JINT(r0, "amount", 2500);
    CHECK_JSTR(r0, "currency", "USD");
    CHECK_JNULL(r0, "description");
    CHECK_JSTR(r0, "status", "issued");
    CHECK_JSTR(r0, "created_at", h_time(TE));
    CHECK_JSTR(r0, "issued_at", h_time(TE));
    CHECK_JNULL(r0, "redeemed_at");
    CHECK_JSTR(r0, "expires_at", h_time(TE + 365 * H_DAY));

    CHECK_JSTR(r1, "participant", h_str(out, "event.participant"));
    CHECK_JSTR(r1, "to", "referred");
    CHECK_JSTR(r1, "kind", "free_month");
    CHECK_JNULL(r1, "amount");
    CHECK_JNULL(r1, "currency");
    CHECK_JSTR(r1, "description", "Your first month on us");
    CHECK_JSTR(r1, "status", "issued");
    CHECK_JNULL(r1, "expires_at");

    json_t *got = h_read(kith_op_reward_get, h_str(r0, "id"), NULL, TE);
    CHECK(json_equal(got, r0));
    if (!json_equal(got, r0))
        fprintf(stderr, "    get: %s\n    event: %s\n", h_dump(got), h_dump(r0));
    got = h_read(kith_op_participant_get, h_str(jane, "id"), NULL, TE);
    CHECK_JSON(got, "stats", "{\"clicks\": 0, \"signups\": 1, \"qualified\": 1, \"rewarded\": 1}");
}

static void test_min_amount_and_event_type(void)
{
    /* CONTRACT 7: only an event of the program's qualification.event type with amount >=
     * min_amount qualifies; other events are kept and change nothing. */
    h_program("{\"qualification\": {\"min_amount\": 5000}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    refer(h_str(jane, "code"), "sam");
    json_t *out = purchase("sam", 4999, TE);
    CHECK_JSTR(out, "referral.status", "pending");
    CHECK_JNULL(out, "referral.qualified_at");
    CHECK_JLEN(out, "rewards", 0);
    out = h_event("{\"type\": \"trial.started\", \"external_id\": \"sam\", \"amount\": 9000}", TE);
    CHECK_JSTR(out, "event.type", "trial.started");
    CHECK_JSTR(out, "referral.status", "pending");
    out = h_event("{\"type\": \"purchase\", \"external_id\": \"sam\"}", TE);
    CHECK_JNULL(out, "event.amount");
    CHECK_JSTR(out, "referral.status", "pending");
    out = purchase("sam", 5000, TE + H_HOUR);
    CHECK_JSTR(out, "referral.status", "rewarded");
    CHECK_JSTR(out, "referral.qualified_at", h_time(TE + H_HOUR));
    CHECK_JLEN(out, "rewards", 2);
}

static void test_custom_qualification_event(void)
{
    /* CONTRACT 2 and 7: qualification.event may be a custom type; a purchase then does not
     * qualify, that event does. */
    h_program("{\"qualification\": {\"event\": \"subscription.paid\"}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    refer(h_str(jane, "code"), "sam");
    json_t *out = purchase("sam", 10000, TE);
    CHECK_JSTR(out, "referral.status", "pending");
    out = h_event("{\"type\": \"subscription.paid\", \"external_id\": \"sam\"}", TE + H_HOUR);
    CHECK_JSTR(out, "referral.status", "rewarded");
    CHECK_JLEN(out, "rewards", 2);
}

static void test_hold_then_sweep(void)
{
    /* CONTRACT 7: with hold_days > 0 the rewards stay pending until qualified_at + hold_days,
     * then are issued and the referral becomes rewarded (the sweeper, at a later now). Issued at
     * the hold's end even when the sweeper runs later, so expiry counts from there (docs/api). */
    h_program("{\"qualification\": {\"hold_days\": 14}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *ref = refer(h_str(jane, "code"), "sam");
    const char *ref2 = refer(h_str(jane, "code"), "kim");
    json_t *out = purchase("sam", 12000, TE);
    CHECK_JSTR(out, "referral.status", "qualified");
    CHECK_JSTR(out, "referral.qualified_at", h_time(TE));
    CHECK_JNULL(out, "referral.rewarded_at");
    CHECK_JLEN(out, "rewards", 2);
    CHECK_JSTR(out, "rewards[0].status", "pending");
    CHECK_JNULL(out, "rewards[0].issued_at");
    CHECK_JNULL(out, "rewards[0].expires_at");
    CHECK_JSTR(out, "rewards[1].status", "pending");
    const char *rw = h_str(out, "rewards[0].id");

    h_sweep(TE + 14 * H_DAY - 1);
    out = h_read(kith_op_referral_get, ref, NULL, TE + 14 * H_DAY - 1);
    CHECK_JSTR(out, "status", "qualified");
    out = h_read(kith_op_reward_get, rw, NULL, TE + 14 * H_DAY - 1);
    CHECK_JSTR(out, "status", "pending");

    h_sweep(TE + 14 * H_DAY);
    out = h_read(kith_op_referral_get, ref, NULL, TE + 14 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
    CHECK_JSTR(out, "rewarded_at", h_time(TE + 14 * H_DAY));
    out = h_read(kith_op_reward_get, rw, NULL, TE + 14 * H_DAY);
    CHECK_JSTR(out, "status", "issued");
    CHECK_JSTR(out, "issued_at", h_time(TE + 14 * H_DAY));
    CHECK_JSTR(out, "expires_at", h_time(TE + 14 * H_DAY + 365 * H_DAY));
    out = h_read(kith_op_reward_list, NULL, "status=issued", TE + 14 * H_DAY);
    CHECK_JLEN(out, "data", 2);

    /* the second referral's hold ends while nobody looks: issued at its end all the same */
    purchase("kim", 12000, TE + H_DAY);
    h_sweep(TE + 40 * H_DAY);
    out = h_read(kith_op_referral_get, ref2, NULL, TE + 40 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
    CHECK_JSTR(out, "rewarded_at", h_time(TE + 15 * H_DAY));
    out = h_read(kith_op_reward_list, NULL, h_fmt("participant=%s", h_str(jane, "id")),
                 TE + 40 * H_DAY);
    CHECK_JLEN(out, "data", 2);
    CHECK_JSTR(out, "data[1].issued_at", h_time(TE + 15 * H_DAY));
}

static void test_refund_during_hold(void)
{
    /* CONTRACT 7: a refund or cancel for the referred person before qualified_at + hold_days
     * voids the pending rewards and returns the referral to pending; after the hold it changes
     * nothing. */
    h_program("{\"qualification\": {\"hold_days\": 14}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *code = h_str(jane, "code");
    const char *r_refund = refer(code, "sam");
    const char *r_cancel = refer(code, "kim");
    const char *r_late = refer(code, "lee");
    purchase("sam", 12000, TE);
    purchase("kim", 12000, TE);
    purchase("lee", 12000, TE);

    json_t *out = h_event("{\"type\": \"refund\", \"external_id\": \"sam\", \"amount\": 12000, "
                          "\"currency\": \"USD\"}",
                          TE + 3 * H_DAY);
    CHECK_JSTR(out, "referral.id", r_refund);
    CHECK_JSTR(out, "referral.status", "pending");
    CHECK_JNULL(out, "referral.qualified_at");
    out = h_event("{\"type\": \"cancel\", \"external_id\": \"kim\"}", TE + 14 * H_DAY - 1);
    CHECK_JSTR(out, "referral.id", r_cancel);
    CHECK_JSTR(out, "referral.status", "pending");

    h_sweep(TE + 14 * H_DAY);
    out = h_read(kith_op_referral_get, r_refund, NULL, TE + 14 * H_DAY);
    CHECK_JSTR(out, "status", "pending");
    out = h_read(kith_op_referral_get, r_cancel, NULL, TE + 14 * H_DAY);
    CHECK_JSTR(out, "status", "pending");
    out = h_read(kith_op_referral_get, r_late, NULL, TE + 14 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
    out = h_read(kith_op_reward_list, NULL, "status=voided", TE + 14 * H_DAY);
    CHECK_JLEN(out, "data", 4);
    out = h_read(kith_op_reward_list, NULL, "status=issued", TE + 14 * H_DAY);
    CHECK_JLEN(out, "data", 2);

    /* after the hold a refund is only recorded */
    out = h_event("{\"type\": \"refund\", \"external_id\": \"lee\"}", TE + 15 * H_DAY);
    CHECK_JSTR(out, "referral.status", "rewarded");
    out = h_read(kith_op_reward_list, NULL, "status=issued", TE + 15 * H_DAY);
    CHECK_JLEN(out, "data", 2);
}

static void test_purchase_after_refund_qualifies_again(void)
{
    /* CONTRACT 7 (docs/api): after a refund during the hold returned the referral to pending, a
     * later qualifying event qualifies it again with new rewards; the voided ones stay, and there
     * is still one live reward per side. */
    h_program("{\"qualification\": {\"hold_days\": 14}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *ref = refer(h_str(jane, "code"), "sam");
    purchase("sam", 12000, TE);
    h_event("{\"type\": \"refund\", \"external_id\": \"sam\"}", TE + H_DAY);
    json_t *out = purchase("sam", 12000, TE + 2 * H_DAY);
    CHECK_JSTR(out, "referral.status", "qualified");
    CHECK_JSTR(out, "referral.qualified_at", h_time(TE + 2 * H_DAY));
    CHECK_JLEN(out, "rewards", 2);
    CHECK_JSTR(out, "rewards[0].status", "pending");
    h_sweep(TE + 16 * H_DAY);
    out = h_read(kith_op_referral_get, ref, NULL, TE + 16 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
    out = h_read(kith_op_reward_list, NULL, "status=voided", TE + 16 * H_DAY);
    CHECK_JLEN(out, "data", 2);
    out = h_read(kith_op_reward_list, NULL, "status=issued", TE + 16 * H_DAY);
    CHECK_JLEN(out, "data", 2);
    CHECK_JSTR(out, "data[0].issued_at", h_time(TE + 16 * H_DAY));
}

static void test_hold_change_applies_after(void)
{
    /* CONTRACT 2: PATCH changes apply to what happens after them: shortening hold_days does not
     * release a referral already held; the next qualification uses the new hold. */
    const char *prog = h_program("{\"qualification\": {\"hold_days\": 14}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *held = refer(h_str(jane, "code"), "sam");
    const char *later = refer(h_str(jane, "code"), "kim");
    purchase("sam", 12000, TE);
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_program_update, prog, NULL,
                                 "{\"qualification\": {\"hold_days\": 0}}", TE + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    h_sweep(TE + H_DAY);
    out = h_read(kith_op_referral_get, held, NULL, TE + H_DAY);
    CHECK_JSTR(out, "status", "qualified");
    out = purchase("kim", 12000, TE + H_DAY);
    CHECK_JSTR(out, "referral.id", later);
    CHECK_JSTR(out, "referral.status", "rewarded");
    h_sweep(TE + 14 * H_DAY);
    out = h_read(kith_op_referral_get, held, NULL, TE + 14 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
    CHECK_JSTR(out, "rewarded_at", h_time(TE + 14 * H_DAY));
}

static void test_refund_at_hold_end(void)
{
    /* CONTRACT 7: only a refund or cancel *before* qualified_at + hold_days undoes the
     * qualification: a millisecond before voids, one at the very end does not (whether or not
     * the sweeper has run yet). */
    h_program("{\"qualification\": {\"hold_days\": 14}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *before = refer(h_str(jane, "code"), "sam");
    const char *at_end = refer(h_str(jane, "code"), "kim");
    purchase("sam", 12000, TE);
    purchase("kim", 12000, TE);
    json_t *out = h_event("{\"type\": \"refund\", \"external_id\": \"sam\"}", TE + 14 * H_DAY - 1);
    CHECK_JSTR(out, "referral.id", before);
    CHECK_JSTR(out, "referral.status", "pending");
    out = h_event("{\"type\": \"refund\", \"external_id\": \"kim\"}", TE + 14 * H_DAY);
    CHECK_JSTR(out, "referral.id", at_end);
    CHECK_JSTR(out, "referral.status", "qualified");
    h_sweep(TE + 14 * H_DAY);
    out = h_read(kith_op_referral_get, at_end, NULL, TE + 14 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
    out = h_read(kith_op_reward_list, NULL, "status=issued", TE + 14 * H_DAY);
    CHECK_JLEN(out, "data", 2);
}

static void test_refund_arriving_first(void)
{
    /* CONTRACT 7: events may arrive in any order: a refund that happened within the purchase's
     * hold but arrives before it leaves the referral as the in-order arrival would (pending, no
     * live reward). */
    h_program("{\"qualification\": {\"hold_days\": 14}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *code = h_str(jane, "code");
    const char *in_order = refer(code, "sam");
    const char *reversed = refer(code, "kim");
    json_t *out = purchase("sam", 12000, TE);
    h_event(h_fmt("{\"type\": \"refund\", \"external_id\": \"sam\", \"occurred_at\": \"%s\"}",
                  h_time(TE + 2 * H_DAY)),
            TE + 2 * H_DAY);
    h_event(h_fmt("{\"type\": \"refund\", \"external_id\": \"kim\", \"occurred_at\": \"%s\"}",
                  h_time(TE + 2 * H_DAY)),
            TE + 2 * H_DAY);
    out = h_event(h_fmt("{\"type\": \"purchase\", \"external_id\": \"kim\", \"amount\": 12000, "
                        "\"occurred_at\": \"%s\"}",
                        h_time(TE)),
                  TE + 2 * H_DAY + H_HOUR);
    CHECK_JSTR(out, "referral.status", "pending");
    CHECK_JLEN(out, "rewards", 0);
    h_sweep(TE + 30 * H_DAY);
    out = h_read(kith_op_referral_get, in_order, NULL, TE + 30 * H_DAY);
    CHECK_JSTR(out, "status", "pending");
    out = h_read(kith_op_referral_get, reversed, NULL, TE + 30 * H_DAY);
    CHECK_JSTR(out, "status", "pending");
    out = h_read(kith_op_reward_list, NULL, "status=issued", TE + 30 * H_DAY);
    CHECK_JLEN(out, "data", 0);
}

static void test_tiers_by_count(void)
{
    /* CONTRACT 2 and 7: referrer rules are tiered by count: the referrer's N-th rewarded referral
     * gets the rule with from_count <= N <= to_count (to_count unbounded when absent). */
    h_program("{\"rewards\": ["
              "{\"to\": \"referrer\", \"kind\": \"credit\", \"amount\": 1000, \"currency\": "
              "\"USD\", \"to_count\": 2},"
              "{\"to\": \"referrer\", \"kind\": \"credit\", \"amount\": 3000, \"currency\": "
              "\"USD\", \"from_count\": 3, \"to_count\": 3},"
              "{\"to\": \"referrer\", \"kind\": \"cash\", \"amount\": 5000, \"currency\": \"USD\", "
              "\"from_count\": 4}]}");
    json_t *jane = make_jane();
    static const char *const friends[] = {"a", "b", "c", "d", "e"};
    static const long long amounts[] = {1000, 1000, 3000, 5000, 5000};
    static const char *const kinds[] = {"credit", "credit", "credit", "cash", "cash"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(friends); i++)
        refer(h_str(jane, "code"), friends[i]);
    for (size_t i = 0; i < KITH_ARRAY_LEN(friends); i++) {
        json_t *out = purchase(friends[i], 12000, TE + (int64_t)i * H_HOUR);
        CHECK_JLEN(out, "rewards", 1);
        CHECK_JSTR(out, "rewards[0].to", "referrer");
        CHECK_JINT(out, "rewards[0].amount", amounts[i]);
        CHECK_JSTR(out, "rewards[0].kind", kinds[i]);
    }
}

static void test_max_rewards_per_referrer(void)
{
    /* CONTRACT 7: beyond max_rewards_per_referrer the referrer gets no new reward; the referred
     * still does, and the referral is still rewarded. */
    h_program("{\"max_rewards_per_referrer\": 1, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    refer(h_str(jane, "code"), "sam");
    const char *second = refer(h_str(jane, "code"), "kim");
    json_t *out = purchase("sam", 12000, TE);
    CHECK_JLEN(out, "rewards", 2);
    out = purchase("kim", 12000, TE + H_HOUR);
    CHECK_JSTR(out, "referral.id", second);
    CHECK_JSTR(out, "referral.status", "rewarded");
    CHECK_JLEN(out, "rewards", 1);
    CHECK_JSTR(out, "rewards[0].to", "referred");
    out = h_read(kith_op_reward_list, NULL, h_fmt("participant=%s", h_str(jane, "id")), TE);
    CHECK_JLEN(out, "data", 1);
}

static void test_replay_by_id_and_repeats(void)
{
    /* CONTRACT 7: an event `id` sent again returns 200 with the first result and no new effect;
     * at most one reward per (referral, side), however many qualifying events arrive. */
    h_program("{" DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    refer(h_str(jane, "code"), "sam");
    const char *body = "{\"type\": \"purchase\", \"external_id\": \"sam\", \"amount\": 12000, "
                       "\"currency\": \"USD\", \"id\": \"in_1Nx\"}";
    json_t *first = h_event(body, TE);
    CHECK_JSTR(first, "event.provider_id", "in_1Nx");
    CHECK_JLEN(first, "rewards", 2);
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_event_create, NULL, NULL, body, TE + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK(json_equal(out, first));
    if (!json_equal(out, first))
        fprintf(stderr, "    replay: %s\n    first: %s\n", h_dump(out), h_dump(first));
    out = h_event("{\"type\": \"purchase\", \"external_id\": \"sam\", \"amount\": 12000, "
                  "\"currency\": \"USD\", \"id\": \"in_2\"}",
                  TE + 2 * H_HOUR);
    CHECK_JLEN(out, "rewards", 0);
    CHECK_JSTR(out, "referral.status", "rewarded");
    out = h_read(kith_op_reward_list, NULL, NULL, TE);
    CHECK_JLEN(out, "data", 2);
}

static void test_events_without_referral(void)
{
    /* CONTRACT 7 (and docs/api): an event for an organic participant is kept with referral null;
     * one for an unknown external_id is 404 not_found naming external_id; bad events are 400
     * invalid_param naming the field. */
    h_program("{" DOUBLE_SIDED "}");
    h_participant("{\"external_id\": \"solo\"}", H_T0);
    json_t *out = purchase("solo", 12000, TE);
    CHECK_JNULL(out, "referral");
    CHECK_JNULL(out, "event.referral");
    CHECK_JLEN(out, "rewards", 0);
    enum kith_status st =
        h_call(kith_op_event_create, NULL, NULL,
               "{\"type\": \"purchase\", \"external_id\": \"ghost\", \"amount\": 1}", TE, &out);
    CHECK_ERR(st, out, KITH_E_NOT_FOUND, "external_id");
    static const struct {
        const char *body, *param;
    } bad[] = {
        {"{\"external_id\": \"solo\"}", "type"},
        {"{\"type\": \"Purchase!\", \"external_id\": \"solo\"}", "type"},
        {"{\"type\": \"purchase\"}", "external_id"},
        {"{\"type\": \"purchase\", \"external_id\": \"solo\", \"amount\": -1}", "amount"},
        {"{\"type\": \"purchase\", \"external_id\": \"solo\", \"amount\": 1.5}", "amount"},
        {"{\"type\": \"purchase\", \"external_id\": \"solo\", \"currency\": \"usd\"}", "currency"},
        {"{\"type\": \"purchase\", \"external_id\": \"solo\", \"occurred_at\": \"soon\"}",
         "occurred_at"},
        {"{\"type\": \"purchase\", \"external_id\": \"solo\", \"coupon\": \"X\"}", "coupon"},
    };
    for (size_t i = 0; i < KITH_ARRAY_LEN(bad); i++) {
        st = h_call(kith_op_event_create, NULL, NULL, bad[i].body, TE, &out);
        CHECK_ERR(st, out, KITH_E_INVALID_PARAM, bad[i].param);
    }
}

static void test_referral_expiry(void)
{
    /* CONTRACT 5: pending -> expired when not qualified within qualification.within_days of its
     * creation; an expired referral no longer qualifies. */
    h_program("{\"qualification\": {\"within_days\": 10}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *ref = refer(h_str(jane, "code"), "sam");
    json_t *out = h_read(kith_op_referral_get, ref, NULL, TS);
    CHECK_JSTR(out, "expires_at", h_time(TS + 10 * H_DAY));
    h_sweep(TS + 10 * H_DAY - 1);
    out = h_read(kith_op_referral_get, ref, NULL, TS + 10 * H_DAY - 1);
    CHECK_JSTR(out, "status", "pending");
    h_sweep(TS + 10 * H_DAY);
    out = h_read(kith_op_referral_get, ref, NULL, TS + 10 * H_DAY);
    CHECK_JSTR(out, "status", "expired");
    out = purchase("sam", 12000, TS + 11 * H_DAY);
    CHECK_JSTR(out, "referral.status", "expired");
    CHECK_JLEN(out, "rewards", 0);
    out = h_read(kith_op_referral_list, NULL, "status=expired", TS + 11 * H_DAY);
    CHECK_JLEN(out, "data", 1);
}

static void test_no_qualification_after_window(void)
{
    /* CONTRACT 5: a referral not qualified within qualification.within_days of its creation
     * expires; a purchase made after that time does not qualify it, whether or not the sweeper
     * has marked it expired yet, while one made inside the window and reported late does. */
    h_program("{\"qualification\": {\"within_days\": 10}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *late = refer(h_str(jane, "code"), "sam");
    const char *inside = refer(h_str(jane, "code"), "kim");
    json_t *out = purchase("sam", 12000, TS + 11 * H_DAY);
    CHECK_JSTR(out, "referral.id", late);
    CHECK_JSTR(out, "referral.status", "expired");
    CHECK_JLEN(out, "rewards", 0);
    out = h_event(h_fmt("{\"type\": \"purchase\", \"external_id\": \"kim\", \"amount\": 12000, "
                        "\"occurred_at\": \"%s\"}",
                        h_time(TS + 9 * H_DAY)),
                  TS + 11 * H_DAY);
    CHECK_JSTR(out, "referral.id", inside);
    CHECK_JSTR(out, "referral.status", "rewarded");
    CHECK_JSTR(out, "referral.qualified_at", h_time(TS + 9 * H_DAY));
}

static void test_window_is_the_event_time(void)
{
    /* CONTRACT 5: what counts is when the purchase happened: one dated at or after expires_at
     * does not qualify even while the window is still open by the server's clock (the referral
     * stays pending and may still qualify); one inside it does. */
    h_program("{\"qualification\": {\"within_days\": 10}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *ref = refer(h_str(jane, "code"), "sam");
    json_t *out = h_event(h_fmt("{\"type\": \"purchase\", \"external_id\": \"sam\", \"amount\": "
                                "12000, \"occurred_at\": \"%s\"}",
                                h_time(TS + 10 * H_DAY)),
                          TS + H_DAY);
    CHECK_JSTR(out, "referral.id", ref);
    CHECK_JSTR(out, "referral.status", "pending");
    CHECK_JLEN(out, "rewards", 0);
    out = purchase("sam", 12000, TS + 2 * H_DAY);
    CHECK_JSTR(out, "referral.status", "rewarded");
    CHECK_JSTR(out, "referral.qualified_at", h_time(TS + 2 * H_DAY));
}

static void test_other_events_after_window(void)
{
    /* CONTRACT 5: any event that finds a pending referral past expires_at finds it expired, as
     * the sweeper would have made it; a refund during a hold that returns a referral to pending
     * after its window closed leaves it expired. */
    h_program("{\"qualification\": {\"within_days\": 10, \"hold_days\": 14}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *idle = refer(h_str(jane, "code"), "sam");
    const char *held = refer(h_str(jane, "code"), "kim");
    json_t *out = h_event("{\"type\": \"signed_in\", \"external_id\": \"sam\"}", TS + 10 * H_DAY);
    CHECK_JSTR(out, "referral.id", idle);
    CHECK_JSTR(out, "referral.status", "expired");
    out = purchase("kim", 12000, TS + 9 * H_DAY);
    CHECK_JSTR(out, "referral.status", "qualified");
    out = h_event("{\"type\": \"refund\", \"external_id\": \"kim\"}", TS + 11 * H_DAY);
    CHECK_JSTR(out, "referral.id", held);
    CHECK_JSTR(out, "referral.status", "expired");
    CHECK_JNULL(out, "referral.qualified_at");
    out = h_read(kith_op_reward_list, NULL, "status=voided", TS + 11 * H_DAY);
    CHECK_JLEN(out, "data", 2);
}

#define REFUND_DATED "{\"type\": \"refund\", \"external_id\": \"%s\", \"occurred_at\": \"%s\"}"

static void test_refund_reported_after_hold(void)
{
    /* CONTRACT 7: the hold ends at qualified_at + hold_days, and then the rewards are issued; a
     * refund dated inside the hold but reported after its end finds the referral released,
     * whether or not the sweeper has run yet (the same outcome as after the sweep). */
    h_program("{\"qualification\": {\"hold_days\": 14}, " DOUBLE_SIDED "}");
    json_t *jane = make_jane();
    const char *swept = refer(h_str(jane, "code"), "sam");
    const char *unswept = refer(h_str(jane, "code"), "kim");
    purchase("sam", 12000, TE);
    purchase("kim", 12000, TE + H_DAY);
    /* sam's hold ends at TE + 14 days and the sweeper releases it; kim's ends a day later and
     * nothing looks until the refund */
    h_sweep(TE + 14 * H_DAY);
    json_t *out =
        h_event(h_fmt(REFUND_DATED, "sam", h_time(TE + 2 * H_DAY)), TE + 15 * H_DAY + H_HOUR);
    CHECK_JSTR(out, "referral.id", swept);
    CHECK_JSTR(out, "referral.status", "rewarded");
    out = h_event(h_fmt(REFUND_DATED, "kim", h_time(TE + 2 * H_DAY)), TE + 15 * H_DAY + H_HOUR);
    CHECK_JSTR(out, "referral.id", unswept);
    CHECK_JSTR(out, "referral.status", "qualified");
    h_sweep(TE + 16 * H_DAY);
    out = h_read(kith_op_referral_get, unswept, NULL, TE + 16 * H_DAY);
    CHECK_JSTR(out, "status", "rewarded");
    CHECK_JSTR(out, "rewarded_at", h_time(TE + 15 * H_DAY));
    out = h_read(kith_op_reward_list, NULL, "status=issued", TE + 16 * H_DAY);
    CHECK_JLEN(out, "data", 4);
    out = h_read(kith_op_reward_list, NULL, "status=voided", TE + 16 * H_DAY);
    CHECK_JLEN(out, "data", 0);
}

static void test_late_release_expires_due_rewards(void)
{
    /* CONTRACT 7 and 8: a purchase reported after its hold ended is released at once, issued at
     * the hold's end; a reward whose expiry (issued_at + expires_days) has passed by then is
     * expired in the same answer, as the sweeper would make it. */
    h_program(
        "{\"qualification\": {\"hold_days\": 14}, \"rewards\": [{\"to\": \"referrer\", "
        "\"kind\": \"credit\", \"amount\": 2500, \"currency\": \"USD\", \"expires_days\": "
        "5}, {\"to\": \"referred\", \"kind\": \"free_month\", \"description\": \"A month\"}]}");
    json_t *jane = make_jane();
    refer(h_str(jane, "code"), "sam");
    json_t *out = h_event(h_fmt("{\"type\": \"purchase\", \"external_id\": \"sam\", \"amount\": "
                                "12000, \"occurred_at\": \"%s\"}",
                                h_time(TE)),
                          TE + 20 * H_DAY);
    CHECK_JSTR(out, "referral.status", "rewarded");
    CHECK_JSTR(out, "referral.rewarded_at", h_time(TE + 14 * H_DAY));
    CHECK_JLEN(out, "rewards", 2);
    CHECK_JSTR(out, "rewards[0].status", "expired");
    CHECK_JSTR(out, "rewards[0].issued_at", h_time(TE + 14 * H_DAY));
    CHECK_JSTR(out, "rewards[0].expires_at", h_time(TE + 19 * H_DAY));
    CHECK_JSTR(out, "rewards[1].status", "issued");
}

int main(void)
{
    RUN_DB(test_qualify_issues_at_once);
    RUN_DB(test_min_amount_and_event_type);
    RUN_DB(test_custom_qualification_event);
    RUN_DB(test_hold_then_sweep);
    RUN_DB(test_refund_during_hold);
    RUN_DB(test_purchase_after_refund_qualifies_again);
    RUN_DB(test_hold_change_applies_after);
    RUN_DB(test_refund_at_hold_end);
    RUN_DB(test_refund_arriving_first);
    RUN_DB(test_tiers_by_count);
    RUN_DB(test_max_rewards_per_referrer);
    RUN_DB(test_replay_by_id_and_repeats);
    RUN_DB(test_events_without_referral);
    RUN_DB(test_referral_expiry);
    RUN_DB(test_no_qualification_after_window);
    RUN_DB(test_window_is_the_event_time);
    RUN_DB(test_other_events_after_window);
    RUN_DB(test_refund_reported_after_hold);
    RUN_DB(test_late_release_expires_due_rewards);
    h_teardown();
    TEST_DONE();
}
