/*
 * test_rewards.c: unit tests for src/rewards: rule-list validation (every error, with its
 * parameter), referrer tier selection with gaps and unbounded tiers, overlap detection, the
 * reward_cost_high boundary, the partial-refund rule, both state machines checked cell by cell
 * against the contract's tables (written out here), the sweeper's due queries against those
 * machines, and the name tables. Not for issuing or storing rewards, which the engine tests
 * cover.
 */
#include <stdbool.h>

#include "kith/rewards.h"
#include "store/queries.h"
#include "test.h"

static struct kith_reward_rule money(enum kith_reward_side to, int64_t amount, const char *cur,
                                     uint32_t from, uint32_t top)
{
    struct kith_reward_rule r;
    memset(&r, 0, sizeof(r));
    r.to = to;
    r.kind = KITH_REWARD_KIND_CREDIT;
    r.has_amount = true;
    r.amount_minor = amount;
    kith_strlcpy(r.currency, cur, sizeof(r.currency));
    r.from_count = from;
    r.to_count = top;
    return r;
}

static struct kith_reward_rule gift(enum kith_reward_side to, enum kith_reward_kind kind,
                                    const char *description, uint32_t from, uint32_t top)
{
    struct kith_reward_rule r;
    memset(&r, 0, sizeof(r));
    r.to = to;
    r.kind = kind;
    kith_strlcpy(r.description, description, sizeof(r.description));
    r.from_count = from;
    r.to_count = top;
    return r;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Validates and returns the status; on failure checks the error names "rewards" and says why. */
static enum kith_status validate(const struct kith_reward_rule *rules, size_t n,
                                 struct kith_err *err)
{
    memset(err, 0, sizeof(*err));
    enum kith_status st = kith_rewards_validate(rules, n, err);
    if (st != KITH_OK) {
        CHECK_STR(err->param, "rewards");
        CHECK(strlen(err->message) > 10);
    }
    return st;
}

static bool contains(const char *hay, const char *needle)
{
    bool found = strstr(hay, needle) != NULL;
    if (!found)
        fprintf(stderr, "  \"%s\" does not contain \"%s\"\n", hay, needle);
    return found;
}

static void test_validate_contract_example(void)
{
    struct kith_reward_rule rules[] = {
        money(KITH_SIDE_REFERRER, 2500, "USD", 1, 3),
        money(KITH_SIDE_REFERRER, 5000, "USD", 4, 0),
        gift(KITH_SIDE_REFERRED, KITH_REWARD_KIND_FREE_MONTH, "Your first month on us", 1, 0),
    };
    rules[0].expires_days = 365;
    struct kith_err err;
    CHECK_INT(validate(rules, N(rules), &err), KITH_OK);
    CHECK_INT(validate(NULL, 0, &err), KITH_OK);
    CHECK_INT(kith_rewards_validate(rules, N(rules), NULL), KITH_OK);
    /* Every kind in its valid shape. */
    for (int k = KITH_REWARD_KIND_CREDIT; k <= KITH_REWARD_KIND_DONATION; k++) {
        struct kith_reward_rule r = money(KITH_SIDE_REFERRER, 100, "EUR", 1, 0);
        r.kind = (enum kith_reward_kind)k;
        if (!kith_reward_kind_monetary(r.kind)) {
            r = gift(KITH_SIDE_REFERRER, r.kind, "A thank-you", 1, 0);
        }
        CHECK_INT(validate(&r, 1, &err), KITH_OK);
    }
}

static void test_validate_money(void)
{
    struct kith_err err;
    struct kith_reward_rule r = money(KITH_SIDE_REFERRER, 2500, "USD", 1, 0);
    r.has_amount = false;
    CHECK_INT(validate(&r, 1, &err), KITH_E_INVALID_PARAM);
    CHECK(contains(err.message, "rewards[0]"));
    CHECK(contains(err.message, "amount"));

    r = money(KITH_SIDE_REFERRER, 0, "USD", 1, 0);
    CHECK_INT(validate(&r, 1, &err), KITH_E_INVALID_PARAM);
    CHECK(contains(err.message, "amount"));
    r = money(KITH_SIDE_REFERRER, -1, "USD", 1, 0);
    CHECK_INT(validate(&r, 1, &err), KITH_E_INVALID_PARAM);
    r = money(KITH_SIDE_REFERRER, 1, "USD", 1, 0);
    CHECK_INT(validate(&r, 1, &err), KITH_OK);

    const char *bad_currencies[] = {"", "usd", "US", "U1D", "Usd", "$$$"};
    for (size_t i = 0; i < N(bad_currencies); i++) {
        r = money(KITH_SIDE_REFERRER, 2500, bad_currencies[i], 1, 0);
        CHECK_INT(validate(&r, 1, &err), KITH_E_INVALID_PARAM);
        CHECK(contains(err.message, "currency"));
    }
    /* A currency field without its terminator is refused, not over-read. */
    r = money(KITH_SIDE_REFERRER, 2500, "USD", 1, 0);
    memcpy(r.currency, "USDX", 4);
    CHECK_INT(validate(&r, 1, &err), KITH_E_INVALID_PARAM);

    /* Each monetary kind needs money; the error names the kind. */
    const enum kith_reward_kind kinds[] = {KITH_REWARD_KIND_CASH, KITH_REWARD_KIND_DISCOUNT,
                                           KITH_REWARD_KIND_DONATION};
    for (size_t i = 0; i < N(kinds); i++) {
        r = gift(KITH_SIDE_REFERRED, kinds[i], "no money here", 1, 0);
        CHECK_INT(validate(&r, 1, &err), KITH_E_INVALID_PARAM);
        CHECK(contains(err.message, kith_reward_kind_name(kinds[i])));
    }
}

static void test_validate_description(void)
{
    struct kith_err err;
    for (int k = KITH_REWARD_KIND_CREDIT; k <= KITH_REWARD_KIND_DONATION; k++) {
        if (kith_reward_kind_monetary((enum kith_reward_kind)k))
            continue;
        struct kith_reward_rule r = gift(KITH_SIDE_REFERRED, (enum kith_reward_kind)k, "", 1, 0);
        r.has_amount = true;
        r.amount_minor = 100; /* money does not replace a description */
        kith_strlcpy(r.currency, "USD", sizeof(r.currency));
        CHECK_INT(validate(&r, 1, &err), KITH_E_INVALID_PARAM);
        CHECK(contains(err.message, "description"));
        CHECK(contains(err.message, kith_reward_kind_name((enum kith_reward_kind)k)));
    }
    struct kith_reward_rule r = gift(KITH_SIDE_REFERRER, KITH_REWARD_KIND_GIFT, "x", 1, 0);
    memset(r.description, 'a', sizeof(r.description)); /* no terminator */
    CHECK_INT(validate(&r, 1, &err), KITH_E_INVALID_PARAM);
}

static void test_validate_counts(void)
{
    struct kith_err err;
    struct kith_reward_rule r = money(KITH_SIDE_REFERRER, 2500, "USD", 0, 0);
    CHECK_INT(validate(&r, 1, &err), KITH_E_INVALID_PARAM);
    CHECK(contains(err.message, "from_count"));

    r = money(KITH_SIDE_REFERRER, 2500, "USD", 3, 2);
    CHECK_INT(validate(&r, 1, &err), KITH_E_INVALID_PARAM);
    CHECK(contains(err.message, "to_count (2)"));
    CHECK(contains(err.message, "from_count (3)"));

    r = money(KITH_SIDE_REFERRER, 2500, "USD", 3, 3);
    CHECK_INT(validate(&r, 1, &err), KITH_OK);
    r = money(KITH_SIDE_REFERRER, 2500, "USD", UINT32_MAX, 0);
    CHECK_INT(validate(&r, 1, &err), KITH_OK);

    /* The index in the message is the offending rule's. */
    struct kith_reward_rule rules[] = {
        money(KITH_SIDE_REFERRER, 2500, "USD", 1, 3),
        money(KITH_SIDE_REFERRER, 2500, "USD", 9, 5),
    };
    CHECK_INT(validate(rules, N(rules), &err), KITH_E_INVALID_PARAM);
    CHECK(contains(err.message, "rewards[1]"));
}

static void test_validate_referred_once(void)
{
    struct kith_err err;
    struct kith_reward_rule rules[] = {
        gift(KITH_SIDE_REFERRED, KITH_REWARD_KIND_FREE_MONTH, "A month", 1, 0),
        money(KITH_SIDE_REFERRER, 2500, "USD", 1, 0),
        money(KITH_SIDE_REFERRED, 1000, "USD", 1, 0),
    };
    CHECK_INT(validate(rules, N(rules), &err), KITH_E_INVALID_PARAM);
    CHECK(contains(err.message, "rewards[2]"));
    CHECK(contains(err.message, "rewards[0]"));
    CHECK(contains(err.message, "referred"));
    CHECK_INT(validate(rules, 2, &err), KITH_OK);
}

static void test_validate_limits(void)
{
    struct kith_err err;
    struct kith_reward_rule rules[KITH_REWARD_RULES_MAX + 1];
    for (uint32_t i = 0; i < KITH_REWARD_RULES_MAX + 1; i++)
        rules[i] = money(KITH_SIDE_REFERRER, 100, "USD", i + 1, i + 1);
    CHECK_INT(validate(rules, KITH_REWARD_RULES_MAX, &err), KITH_OK);
    CHECK_INT(validate(rules, KITH_REWARD_RULES_MAX + 1, &err), KITH_E_INVALID_PARAM);
    CHECK(contains(err.message, "16"));
    CHECK_INT(validate(NULL, 1, &err), KITH_E_INVALID_PARAM);
    /*
     * An out-of-range kind (a caller bug) is refused, not used as an index. 15 stays inside the
     * enum's bit range, so clang's -fsanitize=enum has nothing to say about the test itself.
     */
    struct kith_reward_rule r = money(KITH_SIDE_REFERRER, 100, "USD", 1, 0);
    r.kind = (enum kith_reward_kind)15;
    CHECK_INT(validate(&r, 1, &err), KITH_E_INVALID_PARAM);
    CHECK_STR(kith_reward_kind_name(r.kind), "unknown");
}

/* Two referrer tiers [a1, b1] and [a2, b2] (0 = unbounded): validation verdict. */
static bool tiers_overlap(uint32_t a1, uint32_t b1, uint32_t a2, uint32_t b2)
{
    struct kith_err err;
    struct kith_reward_rule rules[] = {
        money(KITH_SIDE_REFERRER, 100, "USD", a1, b1),
        money(KITH_SIDE_REFERRER, 200, "USD", a2, b2),
    };
    enum kith_status st = validate(rules, N(rules), &err);
    if (st != KITH_OK)
        CHECK(contains(err.message, "overlap"));
    /* The verdict does not depend on the order of the rules. */
    struct kith_reward_rule swapped[] = {rules[1], rules[0]};
    CHECK_INT(validate(swapped, N(swapped), &err), st);
    return st != KITH_OK;
}

static void test_overlap(void)
{
    CHECK(tiers_overlap(1, 3, 3, 0));
    CHECK(!tiers_overlap(1, 3, 4, 0));
    CHECK(tiers_overlap(1, 0, 100, 200));
    CHECK(tiers_overlap(1, 0, 5, 0));
    CHECK(tiers_overlap(5, 10, 1, 5));
    CHECK(!tiers_overlap(5, 10, 1, 4));
    CHECK(!tiers_overlap(5, 10, 11, 0));
    CHECK(tiers_overlap(2, 2, 2, 2));
    CHECK(!tiers_overlap(2, 2, 3, 3));
    CHECK(tiers_overlap(1, 10, 4, 6)); /* one inside the other */
    CHECK(!tiers_overlap(1, 2, 5, 6)); /* a gap is fine */
    CHECK(tiers_overlap(UINT32_MAX, 0, 1, 0));
    CHECK(tiers_overlap(UINT32_MAX, UINT32_MAX, 1, 0));

    /* Overlap found between non-adjacent rules, and only between referrer rules. */
    struct kith_err err;
    struct kith_reward_rule rules[] = {
        money(KITH_SIDE_REFERRER, 100, "USD", 1, 2),
        money(KITH_SIDE_REFERRED, 100, "USD", 1, 0),
        money(KITH_SIDE_REFERRER, 100, "USD", 3, 5),
        money(KITH_SIDE_REFERRER, 100, "USD", 2, 2),
    };
    CHECK_INT(validate(rules, N(rules), &err), KITH_E_INVALID_PARAM);
    CHECK(contains(err.message, "rewards[0]"));
    CHECK(contains(err.message, "rewards[3]"));
    CHECK(contains(err.message, "1-2"));
    CHECK_INT(validate(rules, 3, &err), KITH_OK);
    rules[3].from_count = 6;
    rules[3].to_count = 0;
    CHECK_INT(validate(rules, N(rules), &err), KITH_OK);
    rules[3].from_count = 5;
    CHECK_INT(validate(rules, N(rules), &err), KITH_E_INVALID_PARAM);
    CHECK(contains(err.message, "5 and up"));
}

static void test_pick_tier(void)
{
    struct kith_reward_rule rules[] = {
        gift(KITH_SIDE_REFERRED, KITH_REWARD_KIND_FREE_MONTH, "A month", 1, 0),
        money(KITH_SIDE_REFERRER, 2500, "USD", 1, 3),
        money(KITH_SIDE_REFERRER, 5000, "USD", 4, 0),
    };
    CHECK_INT(kith_rewards_pick_tier(rules, N(rules), 0), -1);
    CHECK_INT(kith_rewards_pick_tier(rules, N(rules), 1), 1);
    CHECK_INT(kith_rewards_pick_tier(rules, N(rules), 3), 1);
    CHECK_INT(kith_rewards_pick_tier(rules, N(rules), 4), 2);
    CHECK_INT(kith_rewards_pick_tier(rules, N(rules), 1000), 2);
    CHECK_INT(kith_rewards_pick_tier(rules, N(rules), UINT32_MAX), 2);
    CHECK_INT(kith_rewards_referred_rule(rules, N(rules)), 0);
    CHECK_INT(kith_rewards_pick_tier(NULL, 0, 1), -1);
    CHECK_INT(kith_rewards_referred_rule(NULL, 0), -1);

    /* Gaps and bounded tops: counts outside every tier get nothing. */
    struct kith_reward_rule gaps[] = {
        money(KITH_SIDE_REFERRER, 100, "USD", 5, 6),
        money(KITH_SIDE_REFERRER, 100, "USD", 2, 2),
    };
    CHECK_INT(kith_rewards_pick_tier(gaps, N(gaps), 1), -1);
    CHECK_INT(kith_rewards_pick_tier(gaps, N(gaps), 2), 1);
    CHECK_INT(kith_rewards_pick_tier(gaps, N(gaps), 3), -1);
    CHECK_INT(kith_rewards_pick_tier(gaps, N(gaps), 4), -1);
    CHECK_INT(kith_rewards_pick_tier(gaps, N(gaps), 5), 0);
    CHECK_INT(kith_rewards_pick_tier(gaps, N(gaps), 6), 0);
    CHECK_INT(kith_rewards_pick_tier(gaps, N(gaps), 7), -1);
    CHECK_INT(kith_rewards_referred_rule(gaps, N(gaps)), -1);

    /* A referred rule never serves as a referrer tier. */
    struct kith_reward_rule referred_only[] = {money(KITH_SIDE_REFERRED, 100, "USD", 1, 0)};
    CHECK_INT(kith_rewards_pick_tier(referred_only, 1, 1), -1);
    CHECK_INT(kith_rewards_referred_rule(referred_only, 1), 0);
}

static void test_cost_high(void)
{
    struct kith_reward_rule rules[] = {
        money(KITH_SIDE_REFERRER, 10000, "USD", 1, 3),
        money(KITH_SIDE_REFERRER, 900000, "USD", 4, 0), /* later tiers do not count */
        money(KITH_SIDE_REFERRED, 10000, "USD", 1, 0),
    };
    /* 20000 is exactly 20% of 100000: not high. One more minor unit is. */
    CHECK(!kith_rewards_cost_high(rules, N(rules), 100000, "USD"));
    rules[2].amount_minor = 10001;
    CHECK(kith_rewards_cost_high(rules, N(rules), 100000, "USD"));
    CHECK(!kith_rewards_cost_high(rules, N(rules), 100005, "USD"));
    CHECK(kith_rewards_cost_high(rules, N(rules), 100004, "USD"));
    /* Integer math: 20% of 7 is 1.4, so 1 is not high and 2 is. */
    struct kith_reward_rule one[] = {money(KITH_SIDE_REFERRER, 1, "USD", 1, 0)};
    CHECK(!kith_rewards_cost_high(one, 1, 7, "USD"));
    one[0].amount_minor = 2;
    CHECK(kith_rewards_cost_high(one, 1, 7, "USD"));
    /* Other currencies and non-monetary rewards are left out. */
    rules[2].amount_minor = 10001;
    kith_strlcpy(rules[2].currency, "EUR", sizeof(rules[2].currency));
    CHECK(!kith_rewards_cost_high(rules, N(rules), 100000, "USD"));
    CHECK(!kith_rewards_cost_high(rules, N(rules), 50005, "EUR"));
    CHECK(kith_rewards_cost_high(rules, N(rules), 50004, "EUR"));
    rules[2] = gift(KITH_SIDE_REFERRED, KITH_REWARD_KIND_FREE_MONTH, "A month", 1, 0);
    CHECK(!kith_rewards_cost_high(rules, N(rules), 50000, "USD"));
    CHECK(kith_rewards_cost_high(rules, N(rules), 49999, "USD"));
    /* Referrer side alone, and referred side alone when no tier covers N=1. */
    struct kith_reward_rule late[] = {
        money(KITH_SIDE_REFERRER, 900000, "USD", 2, 0),
        money(KITH_SIDE_REFERRED, 300, "USD", 1, 0),
    };
    CHECK(!kith_rewards_cost_high(late, N(late), 1500, "USD"));
    CHECK(kith_rewards_cost_high(late, N(late), 1499, "USD"));
    /* No average, no warning. */
    CHECK(!kith_rewards_cost_high(late, N(late), 0, "USD"));
    CHECK(!kith_rewards_cost_high(late, N(late), -5, "USD"));
    CHECK(!kith_rewards_cost_high(late, N(late), 1, NULL));
    CHECK(!kith_rewards_cost_high(NULL, 0, 1000, "USD"));
    /* Huge amounts saturate instead of overflowing (UBSan watches). */
    struct kith_reward_rule huge[] = {
        money(KITH_SIDE_REFERRER, INT64_MAX, "USD", 1, 0),
        money(KITH_SIDE_REFERRED, INT64_MAX, "USD", 1, 0),
    };
    CHECK(kith_rewards_cost_high(huge, N(huge), INT64_MAX, "USD"));
    huge[0].amount_minor = INT64_MAX / 10;
    huge[1].amount_minor = INT64_MAX / 10;
    CHECK(kith_rewards_cost_high(huge, N(huge), INT64_MAX / 2, "USD"));
    CHECK(!kith_rewards_cost_high(huge, N(huge), INT64_MAX, "USD"));
}

/*
 * The referral machine, every pair, as CONTRACT section 5 lists it (pending -> qualified ->
 * rewarded; qualified -> pending on a refund or cancel in the hold; pending|review|qualified ->
 * rejected; pending -> expired; review -> pending on approval) plus section 6's re-score at a
 * qualifying event (pending -> review, and -> rejected). Rows are from-states, columns to-states,
 * both in enum order. Written out cell by cell, not derived, so it cannot agree with the
 * implementation by construction.
 */
static const bool referral_table[6][6] = {
    /*                P  V  Q  W  R  E */
    /* pending   */ {0, 1, 1, 0, 1, 1},
    /* review    */ {1, 0, 0, 0, 1, 0},
    /* qualified */ {1, 0, 0, 1, 1, 0},
    /* rewarded  */ {0, 0, 0, 0, 0, 0},
    /* rejected  */ {0, 0, 0, 0, 0, 0},
    /* expired   */ {0, 0, 0, 0, 0, 0},
};

/* The reward machine from CONTRACT sections 7 and 8: pending -> issued (at once or when the hold
 * ends), issued -> redeemed, pending|issued -> voided, issued -> expired (expires_days). */
static const bool reward_table[5][5] = {
    /*               P  I  R  E  V */
    /* pending  */ {0, 1, 0, 0, 1},
    /* issued   */ {0, 0, 1, 1, 1},
    /* redeemed */ {0, 0, 0, 0, 0},
    /* expired  */ {0, 0, 0, 0, 0},
    /* voided   */ {0, 0, 0, 0, 0},
};

static void test_refunds_undo(void)
{
    /* min_amount 5000, purchase 12000: 7000 back leaves exactly 5000 (still qualifies) */
    CHECK(!kith_rewards_refunds_undo(12000, 0, 5000));
    CHECK(!kith_rewards_refunds_undo(12000, 7000, 5000));
    CHECK(kith_rewards_refunds_undo(12000, 7001, 5000));
    CHECK(kith_rewards_refunds_undo(12000, 20000, 5000));
    /* a purchase already under min_amount never qualified: any refund leaves it under */
    CHECK(kith_rewards_refunds_undo(4000, 0, 5000));
    /* min_amount 0: only a refund down to 0 undoes it */
    CHECK(!kith_rewards_refunds_undo(12000, 11999, 0));
    CHECK(kith_rewards_refunds_undo(12000, 12000, 0));
    CHECK(kith_rewards_refunds_undo(12000, 12001, 0));
    CHECK(kith_rewards_refunds_undo(0, 0, 0));
    /* negative inputs count as 0; extremes do not overflow */
    CHECK(!kith_rewards_refunds_undo(12000, -5, 12000));
    CHECK(kith_rewards_refunds_undo(-1, 0, 0));
    CHECK(!kith_rewards_refunds_undo(INT64_MAX, INT64_MAX - 1, 0));
    CHECK(kith_rewards_refunds_undo(INT64_MAX, INT64_MAX, 1));
    CHECK(!kith_rewards_refunds_undo(INT64_MAX, 0, INT64_MAX));
    CHECK(kith_rewards_refunds_undo(0, INT64_MAX, INT64_MAX));
}

static void test_referral_table(void)
{
    CHECK_INT(N(referral_table), KITH_REFERRAL_EXPIRED + 1);
    int n_allowed = 0;
    for (int f = KITH_REFERRAL_PENDING; f <= KITH_REFERRAL_EXPIRED; f++) {
        for (int t = KITH_REFERRAL_PENDING; t <= KITH_REFERRAL_EXPIRED; t++) {
            bool want = referral_table[f][t];
            bool got =
                kith_referral_can((enum kith_referral_status)f, (enum kith_referral_status)t);
            if (got != want)
                fprintf(stderr, "  referral %s -> %s: got %d, contract says %d\n",
                        kith_referral_status_name((enum kith_referral_status)f),
                        kith_referral_status_name((enum kith_referral_status)t), got, want);
            CHECK_INT(got, want);
            n_allowed += got;
        }
        /* Out-of-range targets from every state. */
        CHECK(!kith_referral_can((enum kith_referral_status)f, (enum kith_referral_status)6));
        CHECK(!kith_referral_can((enum kith_referral_status)f, (enum kith_referral_status) - 1));
        CHECK(!kith_referral_can((enum kith_referral_status)6, (enum kith_referral_status)f));
        CHECK(!kith_referral_can((enum kith_referral_status) - 1, (enum kith_referral_status)f));
    }
    CHECK_INT(n_allowed, 9);
    /* A sample of refusals, named for the reader. */
    const enum kith_referral_status P = KITH_REFERRAL_PENDING, V = KITH_REFERRAL_REVIEW,
                                    Q = KITH_REFERRAL_QUALIFIED, W = KITH_REFERRAL_REWARDED,
                                    R = KITH_REFERRAL_REJECTED, E = KITH_REFERRAL_EXPIRED;
    CHECK(!kith_referral_can(P, P)); /* staying put is never a transition */
    CHECK(!kith_referral_can(P, W)); /* no skipping qualification */
    CHECK(!kith_referral_can(V, Q)); /* review must be approved first */
    CHECK(!kith_referral_can(V, E)); /* only pending expires */
    CHECK(!kith_referral_can(W, P)); /* rewarded is final */
    CHECK(!kith_referral_can(W, R)); /* a rewarded referral cannot be rejected: 409 */
    CHECK(!kith_referral_can(R, P));
    CHECK(!kith_referral_can(E, P));
    CHECK(!kith_referral_can(Q, E));
    CHECK(!kith_referral_can(Q, V)); /* re-scoring stops once qualified */
    CHECK(!kith_referral_can((enum kith_referral_status)7, (enum kith_referral_status)7));
    CHECK_STR(kith_referral_status_name((enum kith_referral_status)7), "unknown");
}

static void test_reward_table(void)
{
    CHECK_INT(N(reward_table), KITH_REWARD_VOIDED + 1);
    int n_allowed = 0;
    for (int f = KITH_REWARD_PENDING; f <= KITH_REWARD_VOIDED; f++) {
        for (int t = KITH_REWARD_PENDING; t <= KITH_REWARD_VOIDED; t++) {
            bool want = reward_table[f][t];
            bool got = kith_reward_can((enum kith_reward_status)f, (enum kith_reward_status)t);
            if (got != want)
                fprintf(stderr, "  reward %s -> %s: got %d, contract says %d\n",
                        kith_reward_status_name((enum kith_reward_status)f),
                        kith_reward_status_name((enum kith_reward_status)t), got, want);
            CHECK_INT(got, want);
            n_allowed += got;
        }
        CHECK(!kith_reward_can((enum kith_reward_status)f, (enum kith_reward_status)5));
        CHECK(!kith_reward_can((enum kith_reward_status)f, (enum kith_reward_status) - 1));
        CHECK(!kith_reward_can((enum kith_reward_status)5, (enum kith_reward_status)f));
        CHECK(!kith_reward_can((enum kith_reward_status) - 1, (enum kith_reward_status)f));
    }
    CHECK_INT(n_allowed, 5);
    const enum kith_reward_status P = KITH_REWARD_PENDING, I = KITH_REWARD_ISSUED,
                                  R = KITH_REWARD_REDEEMED, E = KITH_REWARD_EXPIRED,
                                  V = KITH_REWARD_VOIDED;
    CHECK(!kith_reward_can(P, R)); /* redeem needs issued: 409 invalid_state */
    CHECK(!kith_reward_can(P, E)); /* only issued rewards expire */
    CHECK(!kith_reward_can(R, V)); /* void after redeem */
    CHECK(!kith_reward_can(E, V)); /* void after expiry */
    CHECK(!kith_reward_can(V, I));
    CHECK(!kith_reward_can(E, R));
    CHECK(!kith_reward_can(I, I));
    CHECK(!kith_reward_can(I, P)); /* an issue is never taken back, only voided */
    CHECK_STR(kith_reward_status_name((enum kith_reward_status)7), "unknown");
}

/*
 * The sweeper selects the rows it then moves one by one through the engine's writers, which
 * treat a refusal as a bug. So each due query's status filter, in both back-ends, must name
 * exactly the from-states the machine lets reach the target.
 */
static unsigned sql_statuses(const char *sql, bool reward)
{
    unsigned set = 0;
    for (const char *at = strstr(sql, "status = '"); at; at = strstr(at + 1, "status = '")) {
        char name[16] = "";
        const char *v = at + strlen("status = '"), *end = strchr(v, '\'');
        if (end == NULL || (size_t)(end - v) >= sizeof(name))
            continue;
        memcpy(name, v, (size_t)(end - v));
        enum kith_referral_status rs;
        enum kith_reward_status ws;
        if (reward ? kith_reward_status_parse(name, &ws) : kith_referral_status_parse(name, &rs))
            set |= 1u << (reward ? (unsigned)ws : (unsigned)rs);
        else
            fprintf(stderr, "  unknown status '%s' in: %s\n", name, sql);
    }
    return set;
}

static void test_due_queries_match_machines(void)
{
    const struct {
        enum kith_query q;
        bool reward;
        int to;
    } due[] = {
        {KITH_Q_REFERRALS_DUE_EXPIRY, false, KITH_REFERRAL_EXPIRED},
        {KITH_Q_REFERRALS_DUE_HOLD, false, KITH_REFERRAL_REWARDED},
        {KITH_Q_REWARDS_DUE_EXPIRY, true, KITH_REWARD_EXPIRED},
    };
    for (size_t i = 0; i < N(due); i++) {
        unsigned want = 0;
        for (int f = 0; f <= KITH_REFERRAL_EXPIRED; f++) {
            bool can = due[i].reward ? f <= KITH_REWARD_VOIDED &&
                                           kith_reward_can((enum kith_reward_status)f,
                                                           (enum kith_reward_status)due[i].to)
                                     : kith_referral_can((enum kith_referral_status)f,
                                                         (enum kith_referral_status)due[i].to);
            if (can)
                want |= 1u << f;
        }
        const char *sqlite = kith_sqlite_sql[due[i].q];
        const char *pg = kith_pgsql_sql[due[i].q] ? kith_pgsql_sql[due[i].q] : sqlite;
        if (sql_statuses(sqlite, due[i].reward) != want || sql_statuses(pg, due[i].reward) != want)
            fprintf(stderr, "  %s: the status filter differs from the machine\n",
                    kith_query_name(due[i].q));
        CHECK_INT(sql_statuses(sqlite, due[i].reward), want);
        CHECK_INT(sql_statuses(pg, due[i].reward), want);
    }
}

static void test_names(void)
{
    const char *kinds[] = {
        "credit", "cash",        "discount", "free_month", "subscription_extension",
        "gift",   "recognition", "access",   "experience", "donation"};
    int monetary = 0;
    for (size_t i = 0; i < N(kinds); i++) {
        enum kith_reward_kind k = KITH_REWARD_KIND_GIFT;
        CHECK(kith_reward_kind_parse(kinds[i], &k));
        CHECK_INT(k, i);
        CHECK_STR(kith_reward_kind_name(k), kinds[i]);
        monetary += kith_reward_kind_monetary(k);
    }
    CHECK_INT(monetary, 4);
    CHECK(kith_reward_kind_monetary(KITH_REWARD_KIND_CREDIT));
    CHECK(kith_reward_kind_monetary(KITH_REWARD_KIND_CASH));
    CHECK(kith_reward_kind_monetary(KITH_REWARD_KIND_DISCOUNT));
    CHECK(kith_reward_kind_monetary(KITH_REWARD_KIND_DONATION));
    enum kith_reward_kind k = KITH_REWARD_KIND_GIFT;
    CHECK(!kith_reward_kind_parse("Credit", &k));
    CHECK(!kith_reward_kind_parse("", &k));
    CHECK(!kith_reward_kind_parse("credits", &k));
    CHECK(!kith_reward_kind_parse(NULL, &k));
    CHECK_INT(k, KITH_REWARD_KIND_GIFT);

    CHECK_STR(kith_reward_side_name(KITH_SIDE_REFERRER), "referrer");
    CHECK_STR(kith_reward_side_name(KITH_SIDE_REFERRED), "referred");

    const char *referral[] = {"pending", "review", "qualified", "rewarded", "rejected", "expired"};
    for (size_t i = 0; i < N(referral); i++) {
        enum kith_referral_status s = KITH_REFERRAL_EXPIRED;
        CHECK(kith_referral_status_parse(referral[i], &s));
        CHECK_INT(s, i);
        CHECK_STR(kith_referral_status_name(s), referral[i]);
    }
    enum kith_referral_status rs;
    CHECK(!kith_referral_status_parse("issued", &rs));
    CHECK(!kith_referral_status_parse("PENDING", &rs));
    CHECK(!kith_referral_status_parse(NULL, &rs));

    const char *reward[] = {"pending", "issued", "redeemed", "expired", "voided"};
    for (size_t i = 0; i < N(reward); i++) {
        enum kith_reward_status s = KITH_REWARD_VOIDED;
        CHECK(kith_reward_status_parse(reward[i], &s));
        CHECK_INT(s, i);
        CHECK_STR(kith_reward_status_name(s), reward[i]);
    }
    enum kith_reward_status ws;
    CHECK(!kith_reward_status_parse("qualified", &ws));
    CHECK(!kith_reward_status_parse("", &ws));
    CHECK(!kith_reward_status_parse(NULL, &ws));
}

int main(void)
{
    RUN(test_validate_contract_example);
    RUN(test_validate_money);
    RUN(test_validate_description);
    RUN(test_validate_counts);
    RUN(test_validate_referred_once);
    RUN(test_validate_limits);
    RUN(test_overlap);
    RUN(test_pick_tier);
    RUN(test_cost_high);
    RUN(test_refunds_undo);
    RUN(test_referral_table);
    RUN(test_reward_table);
    RUN(test_due_queries_match_machines);
    RUN(test_names);
    TEST_DONE();
}
