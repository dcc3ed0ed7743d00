/*
 * test_asks.c: the ask decision table (src/asks): each rule of the contract on its own, at its
 * boundary, and every pair of rules at once, where the earlier rule in the contract's order must
 * name the reason. The world: a person who joined 100 days ago, with three earlier asks (20, 40
 * and 60 days before the moment) of which the last was answered, one of them in the 30-day cap
 * window, and a click 19 days ago. Under the default policy that person is asked.
 */
#include "kith/asks.h"
#include "test.h"

#define DAY KITH_ASKS_DAY_MS
#define NOW (INT64_C(2051222400000)) /* 2035-01-01T00:00:00Z */

struct world {
    struct kith_ask_policy p;
    struct kith_ask_past recent[3];
    struct kith_ask_facts f;
};

static void base(struct world *w)
{
    kith_ask_policy_defaults(&w->p);
    for (int i = 0; i < 3; i++) {
        int64_t at = NOW - (int64_t)(20 + 20 * i) * DAY;
        w->recent[i] = (struct kith_ask_past){at, kith_ask_answer_by(&w->p, at), -1};
    }
    w->recent[0].answered_at_ms = NOW - 19 * DAY;
    w->f = (struct kith_ask_facts){
        .blocked = false,
        .erased = false,
        .pref = KITH_ASK_PREF_NORMAL,
        .joined_ms = NOW - 100 * DAY,
        .nps = false,
        .score = 0,
        .moment_ms = NOW,
        .recent = w->recent,
        .nrecent = 3,
        .asks_in_cap_window = 1,
        .last_click_ms = NOW - 19 * DAY,
    };
}

static enum kith_ask_reason decide(struct world *w)
{
    w->f.recent = w->recent;
    return kith_ask_decide(&w->p, &w->f);
}

/* Makes rule r hold without touching what the other rules look at. */
static void trigger(struct world *w, enum kith_ask_reason r)
{
    switch (r) {
    case KITH_ASK_REASON_DISABLED:
        w->p.enabled = false;
        break;
    case KITH_ASK_REASON_BLOCKED:
        w->f.blocked = true;
        break;
    case KITH_ASK_REASON_OPTED_OUT:
        w->f.pref = KITH_ASK_PREF_NEVER;
        break;
    case KITH_ASK_REASON_LOW_SCORE:
        w->f.nps = true;
        w->f.score = 5;
        break;
    case KITH_ASK_REASON_TOO_SOON:
        w->f.joined_ms = NOW - 1 * DAY;
        break;
    case KITH_ASK_REASON_COOLDOWN:
        w->p.min_days_between = 21;
        break;
    case KITH_ASK_REASON_CAP_REACHED:
        w->f.asks_in_cap_window = 2;
        break;
    case KITH_ASK_REASON_IGNORED:
        w->recent[0].answered_at_ms = -1;
        w->f.last_click_ms = NOW - 25 * DAY;
        break;
    case KITH_ASK_REASON_NONE:
        break;
    }
}

static void test_base_asks(void)
{
    struct world w;
    base(&w);
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
    CHECK(kith_ask_reason_name(KITH_ASK_REASON_NONE) == NULL);
}

static void test_each_rule_alone(void)
{
    for (int r = KITH_ASK_REASON_DISABLED; r <= KITH_ASK_REASON_IGNORED; r++) {
        struct world w;
        base(&w);
        trigger(&w, (enum kith_ask_reason)r);
        CHECK_INT(decide(&w), r);
    }
}

/* The contract's order: the first rule that holds decides. */
static void test_order_every_pair(void)
{
    for (int a = KITH_ASK_REASON_DISABLED; a <= KITH_ASK_REASON_IGNORED; a++) {
        for (int b = a + 1; b <= KITH_ASK_REASON_IGNORED; b++) {
            struct world w;
            base(&w);
            trigger(&w, (enum kith_ask_reason)b);
            trigger(&w, (enum kith_ask_reason)a);
            enum kith_ask_reason got = decide(&w);
            if (got != (enum kith_ask_reason)a)
                fprintf(stderr, "pair %s + %s\n", kith_ask_reason_name((enum kith_ask_reason)a),
                        kith_ask_reason_name((enum kith_ask_reason)b));
            CHECK_INT(got, a);
        }
    }
    /* All at once: disabled. */
    struct world w;
    base(&w);
    for (int r = KITH_ASK_REASON_IGNORED; r >= KITH_ASK_REASON_DISABLED; r--)
        trigger(&w, (enum kith_ask_reason)r);
    CHECK_INT(decide(&w), KITH_ASK_REASON_DISABLED);
}

static void test_reason_names(void)
{
    static const char *const names[] = {"disabled", "blocked",  "opted_out",   "low_score",
                                        "too_soon", "cooldown", "cap_reached", "ignored"};
    for (int r = KITH_ASK_REASON_DISABLED; r <= KITH_ASK_REASON_IGNORED; r++)
        CHECK_STR(kith_ask_reason_name((enum kith_ask_reason)r), names[r - 1]);
}

static void test_blocked_and_erased(void)
{
    struct world w;
    base(&w);
    w.f.erased = true;
    CHECK_INT(decide(&w), KITH_ASK_REASON_BLOCKED);
}

static void test_low_score_boundary(void)
{
    struct world w;
    base(&w);
    w.f.nps = true;
    w.f.score = 9;
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
    w.f.score = 8;
    CHECK_INT(decide(&w), KITH_ASK_REASON_LOW_SCORE);
    w.p.nps_min_score = 0;
    w.f.score = 0;
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
    /* A score on a moment that is not nps is not looked at. */
    base(&w);
    w.f.score = 1;
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
}

static void test_too_soon_boundary(void)
{
    struct world w;
    base(&w);
    w.f.joined_ms = NOW - 3 * DAY;
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
    w.f.joined_ms = NOW - 3 * DAY + 1;
    CHECK_INT(decide(&w), KITH_ASK_REASON_TOO_SOON);
    /* A moment dated before the person joined is too soon too. */
    w.f.joined_ms = NOW + DAY;
    CHECK_INT(decide(&w), KITH_ASK_REASON_TOO_SOON);
    w.p.not_before_days = 0;
    w.f.joined_ms = NOW;
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
}

static void test_cooldown_boundary_and_fewer(void)
{
    struct world w;
    base(&w);
    w.p.min_days_between = 20; /* last ask exactly 20 days before: not less */
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
    w.recent[0].at_ms += 1;
    CHECK_INT(decide(&w), KITH_ASK_REASON_COOLDOWN);
    /* "fewer" doubles it: 14 -> 28 days. */
    base(&w);
    w.f.pref = KITH_ASK_PREF_FEWER;
    CHECK_INT(decide(&w), KITH_ASK_REASON_COOLDOWN);
    w.p.min_days_between = 10;
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
    /* Nobody asked yet: no cooldown. */
    base(&w);
    w.p.min_days_between = 1000;
    w.f.nrecent = 0;
    w.f.asks_in_cap_window = 0;
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
}

static void test_cap_boundary(void)
{
    struct world w;
    base(&w);
    w.p.max_per_30_days = 3;
    w.f.asks_in_cap_window = 2;
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
    w.f.asks_in_cap_window = 3;
    CHECK_INT(decide(&w), KITH_ASK_REASON_CAP_REACHED);
}

static void test_ignored_details(void)
{
    struct world w;
    base(&w);
    trigger(&w, KITH_ASK_REASON_IGNORED);
    CHECK_INT(decide(&w), KITH_ASK_REASON_IGNORED);
    /* A counted click at or after the last ask lifts it. */
    w.f.last_click_ms = w.recent[0].at_ms;
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
    w.f.last_click_ms = w.recent[0].at_ms - 1;
    CHECK_INT(decide(&w), KITH_ASK_REASON_IGNORED);
    /* An answered ask among the last three lifts it. */
    w.recent[2].answered_at_ms = w.recent[2].at_ms + DAY;
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
    /* Fewer asks than stop_after_ignored: the rule cannot hold. */
    base(&w);
    trigger(&w, KITH_ASK_REASON_IGNORED);
    w.f.nrecent = 2;
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
    w.p.stop_after_ignored = 2;
    CHECK_INT(decide(&w), KITH_ASK_REASON_IGNORED);
    /* An ask whose window is still open is not ignored. */
    base(&w);
    trigger(&w, KITH_ASK_REASON_IGNORED);
    w.p.min_days_between = 0;
    w.recent[0].at_ms = NOW - 2 * DAY;
    w.recent[0].answer_by_ms = kith_ask_answer_by(&w.p, w.recent[0].at_ms);
    CHECK_INT(decide(&w), KITH_ASK_REASON_NONE);
    /* A click after the moment (reported late) does not answer it yet. */
    base(&w);
    trigger(&w, KITH_ASK_REASON_IGNORED);
    w.recent[0].answered_at_ms = NOW + DAY;
    CHECK_INT(decide(&w), KITH_ASK_REASON_IGNORED);
}

static void test_state_at(void)
{
    struct kith_ask_policy p;
    kith_ask_policy_defaults(&p);
    struct kith_ask_past a = {NOW, kith_ask_answer_by(&p, NOW), -1};
    CHECK_INT(a.answer_by_ms, NOW + 7 * DAY);
    CHECK_INT(kith_ask_state_at(&a, NOW), KITH_ASK_OPEN);
    CHECK_INT(kith_ask_state_at(&a, NOW + 7 * DAY - 1), KITH_ASK_OPEN);
    CHECK_INT(kith_ask_state_at(&a, NOW + 7 * DAY), KITH_ASK_IGNORED);
    a.answered_at_ms = NOW + 6 * DAY;
    CHECK_INT(kith_ask_state_at(&a, NOW + 5 * DAY), KITH_ASK_OPEN);
    CHECK_INT(kith_ask_state_at(&a, NOW + 6 * DAY), KITH_ASK_ANSWERED);
    CHECK_INT(kith_ask_state_at(&a, NOW + 60 * DAY), KITH_ASK_ANSWERED);
}

static void test_defaults_and_names(void)
{
    struct kith_ask_policy p;
    kith_ask_policy_defaults(&p);
    CHECK(p.enabled);
    CHECK_INT(p.not_before_days, 3);
    CHECK_INT(p.min_days_between, 14);
    CHECK_INT(p.max_per_30_days, 2);
    CHECK_INT(p.stop_after_ignored, 3);
    CHECK_INT(p.nps_min_score, 9);
    CHECK_INT(p.answered_within_days, 7);
    enum kith_ask_pref pref;
    CHECK(kith_ask_pref_parse("fewer", &pref) && pref == KITH_ASK_PREF_FEWER);
    CHECK(kith_ask_pref_parse("never", &pref) && pref == KITH_ASK_PREF_NEVER);
    CHECK(kith_ask_pref_parse("normal", &pref) && pref == KITH_ASK_PREF_NORMAL);
    CHECK(!kith_ask_pref_parse("Never", &pref));
    CHECK(!kith_ask_pref_parse("", &pref));
    CHECK(!kith_ask_pref_parse(NULL, &pref));
    CHECK_STR(kith_ask_pref_name(KITH_ASK_PREF_FEWER), "fewer");
}

static void test_moment_types(void)
{
    CHECK(kith_ask_moment_type_valid("purchase"));
    CHECK(kith_ask_moment_type_valid("support_resolved"));
    CHECK(kith_ask_moment_type_valid("class.completed"));
    CHECK(kith_ask_moment_type_valid("a234567890123456789012345678901234567890"));
    CHECK(!kith_ask_moment_type_valid("a2345678901234567890123456789012345678901"));
    CHECK(!kith_ask_moment_type_valid(""));
    CHECK(!kith_ask_moment_type_valid(NULL));
    CHECK(!kith_ask_moment_type_valid("Purchase"));
    CHECK(!kith_ask_moment_type_valid("trial-end"));
    CHECK(!kith_ask_moment_type_valid("a b"));
}

int main(void)
{
    RUN(test_base_asks);
    RUN(test_each_rule_alone);
    RUN(test_order_every_pair);
    RUN(test_reason_names);
    RUN(test_blocked_and_erased);
    RUN(test_low_score_boundary);
    RUN(test_too_soon_boundary);
    RUN(test_cooldown_boundary_and_fewer);
    RUN(test_cap_boundary);
    RUN(test_ignored_details);
    RUN(test_state_at);
    RUN(test_defaults_and_names);
    RUN(test_moment_types);
    TEST_DONE();
}
