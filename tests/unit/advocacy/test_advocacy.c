/*
 * test_advocacy.c: unit tests for src/advocacy, the level rules of CONTRACT section 15: ids and
 * `counts`, validation of a program's tracks (limits, unique ids, strictly increasing `at`),
 * climbing one or several levels at once, owner approval (pending, approve, decline, a declined
 * level approved later, a level given before needing no second approval), windows and grace
 * (a count below the level keeps it until the grace ends, recovers within it, drops to what the
 * count still reaches, grace 0 drops at once), pending levels withdrawn, and `next`. Not for the
 * counting and the grants the engine does (tests/api/test_advocacy.py covers those).
 */
#include "kith/advocacy.h"
#include "test.h"

#define DAY INT64_C(86400000)

/* The contract's connector track: friend at 1, advocate at 3, guide at 10 (owner approval). */
static struct kith_adv_track connector(int64_t window_days, int64_t grace_days)
{
    struct kith_adv_track t;
    memset(&t, 0, sizeof(t));
    kith_strlcpy(t.id, "connector", sizeof(t.id));
    t.counts = KITH_ADV_QUALIFIED_REFERRALS;
    t.window_days = window_days;
    t.grace_days = grace_days;
    const char *ids[] = {"friend", "advocate", "guide"};
    int64_t at[] = {1, 3, 10};
    for (size_t i = 0; i < 3; i++) {
        kith_strlcpy(t.levels[i].id, ids[i], sizeof(t.levels[i].id));
        t.levels[i].at = at[i];
    }
    t.levels[2].owner_approval = true;
    t.nlevels = 3;
    return t;
}

static struct kith_adv_state fresh(void)
{
    struct kith_adv_state s;
    kith_adv_state_init(&s);
    return s;
}

static void test_ids(void)
{
    CHECK(kith_adv_id_valid("connector"));
    CHECK(kith_adv_id_valid("host-2_b"));
    CHECK(!kith_adv_id_valid(""));
    CHECK(!kith_adv_id_valid("Connector"));
    CHECK(!kith_adv_id_valid("a b"));
    CHECK(kith_adv_id_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));   /* 40 */
    CHECK(!kith_adv_id_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 41 */
    CHECK(kith_adv_role_valid("community_guide"));
    CHECK(!kith_adv_role_valid("community-guide"));
    CHECK(!kith_adv_role_valid(NULL));
}

static void test_counts(void)
{
    enum kith_adv_counts k;
    char type[KITH_ADV_ID_MAX + 1];
    CHECK(kith_adv_counts_parse("qualified_referrals", &k, type));
    CHECK_INT(k, KITH_ADV_QUALIFIED_REFERRALS);
    CHECK(kith_adv_counts_parse("signups", &k, type));
    CHECK_INT(k, KITH_ADV_SIGNUPS);
    CHECK(kith_adv_counts_parse("resource_signups", &k, type));
    CHECK_INT(k, KITH_ADV_RESOURCE_SIGNUPS);
    CHECK(kith_adv_counts_parse("activity:testimonial", &k, type));
    CHECK_INT(k, KITH_ADV_ACTIVITY);
    CHECK_STR(type, "testimonial");
    CHECK(!kith_adv_counts_parse("activity:", &k, type));
    CHECK(!kith_adv_counts_parse("activity:Event", &k, type));
    CHECK(!kith_adv_counts_parse("activity:event-hosted", &k, type));
    CHECK(!kith_adv_counts_parse("clicks", &k, type));
    CHECK(!kith_adv_counts_parse(NULL, &k, type));

    struct kith_adv_track t = connector(0, 30);
    char basis[80];
    kith_adv_basis(&t, basis, sizeof(basis));
    CHECK_STR(basis, "qualified_referrals");
    t.window_days = 90;
    kith_adv_basis(&t, basis, sizeof(basis));
    CHECK_STR(basis, "qualified_referrals/90d");
    t.counts = KITH_ADV_ACTIVITY;
    kith_strlcpy(t.activity, "event_hosted", sizeof(t.activity));
    kith_adv_counts_name(&t, basis, sizeof(basis));
    CHECK_STR(basis, "activity:event_hosted");
}

static void expect_invalid(struct kith_adv_track *t, size_t n, const char *param)
{
    struct kith_err err = {"", ""};
    CHECK_INT(kith_adv_tracks_validate(t, n, &err), KITH_E_INVALID_PARAM);
    CHECK_STR(err.param, param);
    CHECK(err.message[0] != '\0');
}

static void test_validate(void)
{
    struct kith_adv_track t[KITH_ADV_TRACKS_MAX + 1];
    struct kith_err err = {"", ""};
    t[0] = connector(0, 30);
    t[1] = connector(90, 0);
    kith_strlcpy(t[1].id, "storyteller", sizeof(t[1].id));
    CHECK_INT(kith_adv_tracks_validate(t, 2, &err), KITH_OK);
    CHECK_INT(kith_adv_tracks_validate(t, 0, &err), KITH_OK);

    kith_strlcpy(t[1].id, "connector", sizeof(t[1].id));
    expect_invalid(t, 2, "tracks[1].id");
    kith_strlcpy(t[1].id, "Story", sizeof(t[1].id));
    expect_invalid(t, 2, "tracks[1].id");
    kith_strlcpy(t[1].id, "storyteller", sizeof(t[1].id));

    /* at: strictly increasing, equal refused */
    t[1].levels[1].at = 1;
    expect_invalid(t, 2, "tracks[1].levels[1].at");
    t[1].levels[1].at = 0;
    expect_invalid(t, 2, "tracks[1].levels[1].at");
    t[1].levels[1].at = 3;
    t[1].levels[0].at = 0;
    expect_invalid(t, 2, "tracks[1].levels[0].at");
    t[1].levels[0].at = 1;
    kith_strlcpy(t[1].levels[2].id, "friend", sizeof(t[1].levels[2].id));
    expect_invalid(t, 2, "tracks[1].levels[2].id");
    kith_strlcpy(t[1].levels[2].id, "guide", sizeof(t[1].levels[2].id));

    t[0].nlevels = 0;
    expect_invalid(t, 2, "tracks[0].levels");
    t[0].nlevels = KITH_ADV_LEVELS_MAX + 1;
    expect_invalid(t, 1, "tracks[0].levels");
    t[0].nlevels = 3;
    t[0].grace_days = -1;
    expect_invalid(t, 1, "tracks[0].downgrade_grace_days");
    t[0].grace_days = 30;
    t[0].window_days = KITH_ADV_DAYS_MAX + 1;
    expect_invalid(t, 1, "tracks[0].window_days");
    t[0].window_days = 0;

    /* ten levels pass, eight tracks pass, nine do not */
    struct kith_adv_track ten = connector(0, 30);
    for (size_t i = 0; i < KITH_ADV_LEVELS_MAX; i++) {
        snprintf(ten.levels[i].id, sizeof(ten.levels[i].id), "l%zu", i);
        ten.levels[i].at = (int64_t)i + 1;
    }
    ten.nlevels = KITH_ADV_LEVELS_MAX;
    CHECK_INT(kith_adv_tracks_validate(&ten, 1, &err), KITH_OK);
    for (size_t i = 0; i <= KITH_ADV_TRACKS_MAX; i++) {
        t[i] = connector(0, 30);
        snprintf(t[i].id, sizeof(t[i].id), "t%zu", i);
    }
    CHECK_INT(kith_adv_tracks_validate(t, KITH_ADV_TRACKS_MAX, &err), KITH_OK);
    expect_invalid(t, KITH_ADV_TRACKS_MAX + 1, "tracks");
}

static void test_reach_and_next(void)
{
    struct kith_adv_track t = connector(0, 30);
    CHECK_INT(kith_adv_reach(&t, 0), -1);
    CHECK_INT(kith_adv_reach(&t, 1), 0);
    CHECK_INT(kith_adv_reach(&t, 2), 0);
    CHECK_INT(kith_adv_reach(&t, 3), 1);
    CHECK_INT(kith_adv_reach(&t, 1000), 2);
    CHECK_INT(kith_adv_level_index(&t, "advocate"), 1);
    CHECK_INT(kith_adv_level_index(&t, "nobody"), -1);
    CHECK_INT(kith_adv_level_index(&t, NULL), -1);
    struct kith_adv_state s = fresh();
    CHECK_INT(kith_adv_next(&t, &s), 0);
    s.level = 1;
    CHECK_INT(kith_adv_next(&t, &s), 2);
    s.pending = 2;
    CHECK_INT(kith_adv_next(&t, &s), -1);
    s.level = 2;
    s.pending = -1;
    CHECK_INT(kith_adv_next(&t, &s), -1);
}

static void test_climb(void)
{
    struct kith_adv_track t = connector(0, 30);
    struct kith_adv_state s = fresh();
    struct kith_adv_outcome o;
    kith_adv_evaluate(&t, 0, &s, 100, 100, &o);
    CHECK_INT(o.next.level, -1);
    CHECK_INT(o.reached, 0);

    kith_adv_evaluate(&t, 1, &s, 100, 100, &o);
    CHECK_INT(o.next.level, 0);
    CHECK_INT(o.reached, 1);
    CHECK_INT(o.next.given, 1);
    s = o.next;

    /* 1 -> 5 in one step: advocate reached, friend already held */
    kith_adv_evaluate(&t, 5, &s, 200, 200, &o);
    CHECK_INT(o.next.level, 1);
    CHECK_INT(o.reached, 2);
    CHECK_INT(o.dropped, 0);
    CHECK(!o.pending_new);
    CHECK_INT(o.grace_until_ms, -1);

    /* from nothing to 4: two levels at once */
    s = fresh();
    kith_adv_evaluate(&t, 4, &s, 200, 200, &o);
    CHECK_INT(o.next.level, 1);
    CHECK_INT(o.reached, 3);
}

static void test_approval(void)
{
    struct kith_adv_track t = connector(0, 30);
    struct kith_adv_state s = fresh();
    struct kith_adv_outcome o;
    /* 12 reaches guide, which waits for the owner: advocate held, guide pending */
    kith_adv_evaluate(&t, 12, &s, 100, 100, &o);
    CHECK_INT(o.next.level, 1);
    CHECK_INT(o.next.pending, 2);
    CHECK(o.pending_new);
    CHECK_INT(o.reached, 3);
    s = o.next;

    /* more counts: still pending, nothing new */
    kith_adv_evaluate(&t, 13, &s, 110, 110, &o);
    CHECK_INT(o.next.pending, 2);
    CHECK(!o.pending_new);
    CHECK_INT(o.reached, 0);

    /* nothing to decline or approve on a fresh state */
    struct kith_adv_state none = fresh();
    CHECK(!kith_adv_decline(&t, &none, &o));
    CHECK(!kith_adv_approve(&t, 0, &none, 100, &o));

    /* approve: guide held and given */
    CHECK(kith_adv_approve(&t, 13, &s, 120, &o));
    CHECK_INT(o.next.level, 2);
    CHECK_INT(o.next.pending, -1);
    CHECK_INT(o.reached, 4);
    CHECK(o.next.given & 4);
    s = o.next;
    CHECK(!kith_adv_approve(&t, 13, &s, 130, &o));
}

static void test_approval_then_climb(void)
{
    /* friend 1, host 2 (owner), elder 5: approving host at 6 reaches elder too */
    struct kith_adv_track t = connector(0, 30);
    t.levels[1].owner_approval = true;
    t.levels[2].owner_approval = false;
    t.levels[2].at = 5;
    struct kith_adv_state s = fresh();
    struct kith_adv_outcome o;
    kith_adv_evaluate(&t, 6, &s, 1, 1, &o);
    CHECK_INT(o.next.level, 0);
    CHECK_INT(o.next.pending, 1);
    s = o.next;
    CHECK(kith_adv_approve(&t, 6, &s, 2, &o));
    CHECK_INT(o.next.level, 2);
    CHECK_INT(o.reached, 6);
}

static void test_decline(void)
{
    struct kith_adv_track t = connector(0, 30);
    struct kith_adv_state s = fresh();
    struct kith_adv_outcome o;
    kith_adv_evaluate(&t, 10, &s, 1, 1, &o);
    s = o.next;
    CHECK(kith_adv_decline(&t, &s, &o));
    CHECK_INT(o.next.pending, -1);
    CHECK_INT(o.next.declined, 2);
    CHECK_INT(o.next.level, 1);
    CHECK_INT(o.reached, 0);
    s = o.next;
    CHECK(!kith_adv_decline(&t, &s, &o));
    /* a declined level is not proposed again as the count grows */
    kith_adv_evaluate(&t, 20, &s, 2, 2, &o);
    CHECK_INT(o.next.pending, -1);
    CHECK(!o.pending_new);
    CHECK_INT(o.next.level, 1);
    s = o.next;
    /* the owner may still approve it while the count reaches it */
    CHECK(kith_adv_approve(&t, 20, &s, 3, &o));
    CHECK_INT(o.next.level, 2);
    CHECK_INT(o.next.declined, -1);
    CHECK_INT(o.reached, 4);
    /* but not when the count no longer reaches it */
    CHECK(!kith_adv_approve(&t, 5, &s, 3, &o));
}

static void test_grace(void)
{
    struct kith_adv_track t = connector(90, 30);
    struct kith_adv_state s = fresh();
    struct kith_adv_outcome o;
    kith_adv_evaluate(&t, 4, &s, 0, 0, &o);
    s = o.next;
    CHECK_INT(s.level, 1);

    /* the window lets two go at day 100: below advocate, kept for 30 days */
    kith_adv_evaluate(&t, 2, &s, 100 * DAY, 100 * DAY, &o);
    CHECK_INT(o.next.level, 1);
    CHECK_INT(o.next.below_since_ms, 100 * DAY);
    CHECK_INT(o.grace_until_ms, 130 * DAY);
    CHECK_INT(o.dropped, 0);
    s = o.next;

    /* a second drop within the grace keeps its start */
    kith_adv_evaluate(&t, 1, &s, 110 * DAY, 110 * DAY, &o);
    CHECK_INT(o.next.below_since_ms, 100 * DAY);
    CHECK_INT(o.grace_until_ms, 130 * DAY);
    s = o.next;

    /* one millisecond before the end: still held */
    kith_adv_evaluate(&t, 1, &s, 130 * DAY - 1, 130 * DAY - 1, &o);
    CHECK_INT(o.next.level, 1);
    /* at the end: drops to what 1 reaches (friend) */
    kith_adv_evaluate(&t, 1, &s, 130 * DAY, 130 * DAY, &o);
    CHECK_INT(o.next.level, 0);
    CHECK_INT(o.dropped, 2);
    CHECK_INT(o.next.below_since_ms, -1);
    CHECK_INT(o.grace_until_ms, -1);
    /* given stays: re-reaching advocate later needs nothing new */
    CHECK(o.next.given & 2);

    /* recovering within the grace ends it */
    kith_adv_evaluate(&t, 3, &s, 120 * DAY, 120 * DAY, &o);
    CHECK_INT(o.next.level, 1);
    CHECK_INT(o.next.below_since_ms, -1);
    CHECK_INT(o.grace_until_ms, -1);
    CHECK_INT(o.reached, 0);

    /* a count of 0 after the grace drops to no level at all */
    kith_adv_evaluate(&t, 0, &s, 130 * DAY, 131 * DAY, &o);
    CHECK_INT(o.next.level, -1);
    CHECK_INT(o.dropped, 3);
}

static void test_settings_raised(void)
{
    /* advocate held at 3; the owner raises it to 5: it stays until the count falls */
    struct kith_adv_track t = connector(0, 0);
    struct kith_adv_state s = fresh();
    struct kith_adv_outcome o;
    kith_adv_evaluate(&t, 3, &s, -1, 0, &o);
    s = o.next;
    CHECK_INT(s.level, 1);
    t.levels[1].at = 5;
    kith_adv_evaluate(&t, 3, &s, -1, DAY, &o);
    CHECK_INT(o.next.level, 1);
    CHECK_INT(o.next.below_since_ms, -1);
    CHECK_INT(o.dropped, 0);
    kith_adv_evaluate(&t, 4, &s, -1, DAY, &o);
    CHECK_INT(o.next.level, 1);
    /* a count that falls starts the (here zero) grace: dropped to what 2 reaches */
    kith_adv_evaluate(&t, 2, &s, 2 * DAY, 2 * DAY, &o);
    CHECK_INT(o.next.level, 0);
    CHECK_INT(o.dropped, 2);
}

static void test_grace_zero(void)
{
    struct kith_adv_track t = connector(30, 0);
    struct kith_adv_state s = fresh();
    struct kith_adv_outcome o;
    kith_adv_evaluate(&t, 3, &s, 0, 0, &o);
    s = o.next;
    kith_adv_evaluate(&t, 2, &s, 5 * DAY, 5 * DAY, &o);
    CHECK_INT(o.next.level, 0);
    CHECK_INT(o.dropped, 2);
    CHECK_INT(o.grace_until_ms, -1);
}

static void test_regain_owner_level(void)
{
    /* guide approved, dropped after the grace, reached again: no second approval */
    struct kith_adv_track t = connector(30, 0);
    struct kith_adv_state s = fresh();
    struct kith_adv_outcome o;
    kith_adv_evaluate(&t, 10, &s, 0, 0, &o);
    s = o.next;
    CHECK(kith_adv_approve(&t, 10, &s, 1, &o));
    s = o.next;
    kith_adv_evaluate(&t, 4, &s, 40 * DAY, 40 * DAY, &o);
    CHECK_INT(o.next.level, 1);
    CHECK_INT(o.dropped, 4);
    s = o.next;
    kith_adv_evaluate(&t, 10, &s, 50 * DAY, 50 * DAY, &o);
    CHECK_INT(o.next.level, 2);
    CHECK_INT(o.next.pending, -1);
    CHECK_INT(o.reached, 4);
}

static void test_pending_withdrawn(void)
{
    struct kith_adv_track t = connector(30, 30);
    struct kith_adv_state s = fresh();
    struct kith_adv_outcome o;
    kith_adv_evaluate(&t, 10, &s, 0, 0, &o);
    s = o.next;
    CHECK_INT(s.pending, 2);
    /* the window lets some go: guide is no longer reached, its request goes at once, while
     * advocate (held) is still reached */
    kith_adv_evaluate(&t, 9, &s, 31 * DAY, 31 * DAY, &o);
    CHECK_INT(o.next.pending, -1);
    CHECK(o.pending_withdrawn);
    CHECK_INT(o.next.level, 1);
    CHECK_INT(o.dropped, 0);
    s = o.next;
    /* back at 10: pending again */
    kith_adv_evaluate(&t, 10, &s, 32 * DAY, 32 * DAY, &o);
    CHECK_INT(o.next.pending, 2);
    CHECK(o.pending_new);
}

static void test_removed_level(void)
{
    /* a stored index beyond the settings (a level removed) counts as nothing held */
    struct kith_adv_track t = connector(0, 30);
    struct kith_adv_state s = fresh();
    struct kith_adv_outcome o;
    s.level = 7;
    s.pending = 9;
    s.given = 0xffffffffu;
    kith_adv_evaluate(&t, 3, &s, 0, 0, &o);
    CHECK_INT(o.next.level, 1);
    CHECK_INT(o.next.pending, -1);
    CHECK_INT(o.next.given, 7);
}

static void test_role_after_drop(void)
{
    /* two tracks; the role "elder" is granted by track 0 level 2 and track 1 level 0 */
    uint32_t grants[2] = {4, 1};
    int held[2] = {1, -1};
    struct kith_adv_role_source src = {false, 0, 2}, next = {true, -9, -9};
    /* track 0 dropped from 2 to 1, track 1 holds nothing: the role goes */
    CHECK_INT(kith_adv_role_after_drop(&src, 0, 2, held, grants, 2, &next), KITH_ADV_ROLE_REVOKE);
    /* track 1 holds its level 0: the role stays, sourced there now */
    held[1] = 0;
    CHECK_INT(kith_adv_role_after_drop(&src, 0, 2, held, grants, 2, &next), KITH_ADV_ROLE_MOVE);
    CHECK(!next.owner);
    CHECK_INT(next.track, 1);
    CHECK_INT(next.level, 0);
    /* the owner gave it: kept whatever drops */
    struct kith_adv_role_source owner = {true, -1, -1};
    held[1] = -1;
    CHECK_INT(kith_adv_role_after_drop(&owner, 0, 2, held, grants, 2, &next), KITH_ADV_ROLE_KEEP);
    /* another level is its source: that level's own drop decides */
    struct kith_adv_role_source other = {false, 1, 0};
    CHECK_INT(kith_adv_role_after_drop(&other, 0, 2, held, grants, 2, &next), KITH_ADV_ROLE_KEEP);
    /* a lower level of the same track, still held, grants it too */
    grants[0] = 4 | 1;
    CHECK_INT(kith_adv_role_after_drop(&src, 0, 2, held, grants, 2, &next), KITH_ADV_ROLE_MOVE);
    CHECK_INT(next.track, 0);
    CHECK_INT(next.level, 0);
}

static void test_drop_names_the_levels_whose_roles_go(void)
{
    /* from guide (2) down to nothing at once: dropped names friend, advocate and guide, whose
     * roles the engine then revokes (test_role_after_drop); rewards are not its business */
    struct kith_adv_track t = connector(10, 0);
    struct kith_adv_state s = fresh();
    struct kith_adv_outcome o;
    kith_adv_evaluate(&t, 10, &s, -1, 0, &o);
    s = o.next;
    CHECK(kith_adv_approve(&t, 10, &s, 0, &o));
    s = o.next;
    CHECK_INT(s.level, 2);
    kith_adv_evaluate(&t, 0, &s, 10 * DAY, 10 * DAY, &o);
    CHECK_INT(o.next.level, -1);
    CHECK_INT(o.dropped, 7);
    CHECK_INT(o.reached, 0);
}

int main(void)
{
    RUN(test_ids);
    RUN(test_counts);
    RUN(test_validate);
    RUN(test_reach_and_next);
    RUN(test_climb);
    RUN(test_approval);
    RUN(test_approval_then_climb);
    RUN(test_decline);
    RUN(test_grace);
    RUN(test_settings_raised);
    RUN(test_grace_zero);
    RUN(test_regain_owner_level);
    RUN(test_pending_withdrawn);
    RUN(test_removed_level);
    RUN(test_role_after_drop);
    RUN(test_drop_names_the_levels_whose_roles_go);
    TEST_DONE();
}
