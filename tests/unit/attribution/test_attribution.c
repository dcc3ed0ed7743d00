/*
 * test_attribution.c: unit tests for src/attribution: every reject reason for every source, the
 * order in which reasons apply when several do, most-recent-wins and each tie-break, organic
 * signups, the stale-click boundary, and e-mail normalisation for self-referral. Not for how the
 * engine gathers the facts, which the engine and API tests cover.
 */
#include <stdbool.h>

#include "kith/attribution.h"
#include "test.h"

#define NOW_MS INT64_C(1795000000000)
#define DAY_MS INT64_C(86400000)
#define WINDOW_MS (30 * DAY_MS)

/* A signup where all four sources are present, valid, and point at four other people; the lead
 * is the oldest interaction, the cookie's click the next oldest. */
static struct kith_attr_input base_input(void)
{
    struct kith_attr_input in = {0};
    static const char *ext[KITH_ATTR_SOURCES] = {"u_url", "u_code", "u_cookie", "u_lead"};
    static const char *mail[KITH_ATTR_SOURCES] = {"url@example.com", "code@example.com",
                                                  "cookie@example.com", "lead@example.com"};
    for (int i = 0; i < KITH_ATTR_SOURCES; i++) {
        in.cand[i].present = true;
        in.cand[i].found = true;
        in.cand[i].same_program = true;
        in.cand[i].referrer_blocked = false;
        in.cand[i].referrer_external_id = ext[i];
        in.cand[i].referrer_email_norm = mail[i];
        in.cand[i].at_ms = NOW_MS;
    }
    in.cand[KITH_ATTR_COOKIE].at_ms = NOW_MS - DAY_MS;
    in.cand[KITH_ATTR_LEAD].at_ms = NOW_MS - 2 * DAY_MS;
    in.external_id = "u_new";
    in.email_norm = "sam@example.com";
    in.now_ms = NOW_MS;
    in.window_ms = WINDOW_MS;
    return in;
}

static struct kith_attr_input only(enum kith_attr_source keep)
{
    struct kith_attr_input in = base_input();
    for (int i = 0; i < KITH_ATTR_SOURCES; i++)
        in.cand[i].present = i == (int)keep;
    return in;
}

static struct kith_attr_result decide(const struct kith_attr_input *in)
{
    struct kith_attr_result out;
    memset(&out, 0x5A, sizeof(out));
    kith_attribution_decide(in, &out);
    return out;
}

static void test_organic_when_nothing_present(void)
{
    struct kith_attr_input in = base_input();
    for (int i = 0; i < KITH_ATTR_SOURCES; i++)
        in.cand[i].present = false;
    struct kith_attr_result r = decide(&in);
    CHECK_INT(r.winner, KITH_ATTR_ORGANIC);
    for (int i = 0; i < KITH_ATTR_SOURCES; i++)
        CHECK_INT(r.reason[i], KITH_ATTR_ABSENT);
}

static void test_single_source_wins(void)
{
    for (int s = 0; s < KITH_ATTR_SOURCES; s++) {
        struct kith_attr_input in = only((enum kith_attr_source)s);
        struct kith_attr_result r = decide(&in);
        CHECK_INT(r.winner, s);
        for (int i = 0; i < KITH_ATTR_SOURCES; i++)
            CHECK_INT(r.reason[i], i == s ? KITH_ATTR_ACCEPTED : KITH_ATTR_ABSENT);
    }
}

/* Applies one fault to source s and checks the reason and that nothing else won. */
enum fault { F_UNKNOWN, F_OTHER_PROGRAM, F_BLOCKED, F_SELF_ID, F_SELF_EMAIL, F_STALE };

static void apply(struct kith_attr_input *in, int s, enum fault f)
{
    struct kith_attr_facts *c = &in->cand[s];
    switch (f) {
    case F_UNKNOWN:
        c->found = false;
        break;
    case F_OTHER_PROGRAM:
        c->same_program = false;
        break;
    case F_BLOCKED:
        c->referrer_blocked = true;
        break;
    case F_SELF_ID:
        c->referrer_external_id = "u_new";
        break;
    case F_SELF_EMAIL:
        c->referrer_email_norm = "sam@example.com";
        break;
    case F_STALE:
        c->at_ms = in->now_ms - in->window_ms - 1;
        break;
    }
}

static void test_each_reject_reason(void)
{
    const enum kith_attr_reject unknown[KITH_ATTR_SOURCES] = {
        KITH_ATTR_UNKNOWN_CODE, KITH_ATTR_UNKNOWN_CODE, KITH_ATTR_UNKNOWN_CLICK,
        KITH_ATTR_UNKNOWN_CLICK};
    for (int s = 0; s < KITH_ATTR_SOURCES; s++) {
        const struct {
            enum fault f;
            enum kith_attr_reject want;
        } cases[] = {
            {F_UNKNOWN, unknown[s]},
            {F_OTHER_PROGRAM, KITH_ATTR_OTHER_PROGRAM},
            {F_BLOCKED, KITH_ATTR_REFERRER_BLOCKED},
            {F_SELF_ID, KITH_ATTR_SELF_REFERRAL},
            {F_SELF_EMAIL, KITH_ATTR_SELF_REFERRAL},
            /* Only clicks and leads go stale: url and code happen at signup time. */
            {F_STALE, s == KITH_ATTR_COOKIE || s == KITH_ATTR_LEAD ? KITH_ATTR_STALE_CLICK
                                                                   : KITH_ATTR_ACCEPTED},
        };
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
            struct kith_attr_input in = only((enum kith_attr_source)s);
            apply(&in, s, cases[k].f);
            struct kith_attr_result r = decide(&in);
            CHECK_INT(r.reason[s], cases[k].want);
            CHECK_INT(r.winner, cases[k].want == KITH_ATTR_ACCEPTED ? s : KITH_ATTR_ORGANIC);
        }
    }
}

static void test_reject_order(void)
{
    /* With faults[k..] all applied at once, the reason is the one for faults[k]. */
    const enum fault faults[] = {F_UNKNOWN, F_OTHER_PROGRAM, F_BLOCKED,
                                 F_SELF_ID, F_SELF_EMAIL,    F_STALE};
    const enum kith_attr_reject want[] = {KITH_ATTR_UNKNOWN_CLICK,    KITH_ATTR_OTHER_PROGRAM,
                                          KITH_ATTR_REFERRER_BLOCKED, KITH_ATTR_SELF_REFERRAL,
                                          KITH_ATTR_SELF_REFERRAL,    KITH_ATTR_STALE_CLICK};
    for (size_t k = 0; k < sizeof(faults) / sizeof(faults[0]); k++) {
        struct kith_attr_input in = only(KITH_ATTR_COOKIE);
        for (size_t j = k; j < sizeof(faults) / sizeof(faults[0]); j++)
            apply(&in, KITH_ATTR_COOKIE, faults[j]);
        struct kith_attr_result r = decide(&in);
        CHECK_INT(r.reason[KITH_ATTR_COOKIE], want[k]);
        CHECK_INT(r.winner, KITH_ATTR_ORGANIC);
    }
    /* The same for a url candidate (no staleness). */
    struct kith_attr_input in = only(KITH_ATTR_URL);
    apply(&in, KITH_ATTR_URL, F_UNKNOWN);
    apply(&in, KITH_ATTR_URL, F_OTHER_PROGRAM);
    apply(&in, KITH_ATTR_URL, F_BLOCKED);
    apply(&in, KITH_ATTR_URL, F_SELF_ID);
    CHECK_INT(decide(&in).reason[KITH_ATTR_URL], KITH_ATTR_UNKNOWN_CODE);
    in.cand[KITH_ATTR_URL].found = true;
    CHECK_INT(decide(&in).reason[KITH_ATTR_URL], KITH_ATTR_OTHER_PROGRAM);
    in.cand[KITH_ATTR_URL].same_program = true;
    CHECK_INT(decide(&in).reason[KITH_ATTR_URL], KITH_ATTR_REFERRER_BLOCKED);
    in.cand[KITH_ATTR_URL].referrer_blocked = false;
    CHECK_INT(decide(&in).reason[KITH_ATTR_URL], KITH_ATTR_SELF_REFERRAL);
}

static void test_self_referral_needs_known_values(void)
{
    struct kith_attr_input in = only(KITH_ATTR_CODE);
    /* Unknown e-mails on either side never count as equal. */
    in.email_norm = NULL;
    in.cand[KITH_ATTR_CODE].referrer_email_norm = NULL;
    CHECK_INT(decide(&in).winner, KITH_ATTR_CODE);
    in.email_norm = "";
    in.cand[KITH_ATTR_CODE].referrer_email_norm = "";
    CHECK_INT(decide(&in).winner, KITH_ATTR_CODE);
    in.email_norm = "sam@example.com";
    in.cand[KITH_ATTR_CODE].referrer_email_norm = NULL;
    CHECK_INT(decide(&in).winner, KITH_ATTR_CODE);
    in.cand[KITH_ATTR_CODE].referrer_email_norm = "sam@example.com";
    CHECK_INT(decide(&in).reason[KITH_ATTR_CODE], KITH_ATTR_SELF_REFERRAL);
    /* A NULL external id on the referrer side cannot match. */
    in = only(KITH_ATTR_CODE);
    in.cand[KITH_ATTR_CODE].referrer_external_id = NULL;
    CHECK_INT(decide(&in).winner, KITH_ATTR_CODE);
    in.external_id = NULL;
    CHECK_INT(decide(&in).winner, KITH_ATTR_CODE);
    /* Comparison is exact: ids are opaque. */
    in = only(KITH_ATTR_CODE);
    in.cand[KITH_ATTR_CODE].referrer_external_id = "U_NEW";
    CHECK_INT(decide(&in).winner, KITH_ATTR_CODE);
}

static void test_most_recent_wins(void)
{
    struct kith_attr_input in = base_input();
    in.cand[KITH_ATTR_URL].at_ms = NOW_MS - 5;
    in.cand[KITH_ATTR_CODE].at_ms = NOW_MS;
    in.cand[KITH_ATTR_COOKIE].at_ms = NOW_MS - DAY_MS;
    CHECK_INT(decide(&in).winner, KITH_ATTR_CODE);

    in.cand[KITH_ATTR_COOKIE].at_ms = NOW_MS + 1; /* a click stamped after the signup */
    CHECK_INT(decide(&in).winner, KITH_ATTR_COOKIE);

    in.cand[KITH_ATTR_URL].at_ms = NOW_MS + 2;
    CHECK_INT(decide(&in).winner, KITH_ATTR_URL);

    /* A more recent but rejected candidate does not win; the next most recent does. */
    in.cand[KITH_ATTR_URL].referrer_blocked = true;
    struct kith_attr_result r = decide(&in);
    CHECK_INT(r.winner, KITH_ATTR_COOKIE);
    CHECK_INT(r.reason[KITH_ATTR_URL], KITH_ATTR_REFERRER_BLOCKED);
    CHECK_INT(r.reason[KITH_ATTR_CODE], KITH_ATTR_ACCEPTED);
    CHECK_INT(r.reason[KITH_ATTR_COOKIE], KITH_ATTR_ACCEPTED);

    /* Cookie only beats nothing older when url and code are gone. */
    in = base_input();
    in.cand[KITH_ATTR_URL].found = false;
    in.cand[KITH_ATTR_CODE].present = false;
    r = decide(&in);
    CHECK_INT(r.winner, KITH_ATTR_COOKIE);
    CHECK_INT(r.reason[KITH_ATTR_URL], KITH_ATTR_UNKNOWN_CODE);
    CHECK_INT(r.reason[KITH_ATTR_CODE], KITH_ATTR_ABSENT);
}

static void test_tie_breaks(void)
{
    struct kith_attr_input in = base_input();
    in.cand[KITH_ATTR_COOKIE].at_ms = NOW_MS;
    CHECK_INT(decide(&in).winner, KITH_ATTR_URL); /* all three tie */

    in.cand[KITH_ATTR_URL].present = false;
    CHECK_INT(decide(&in).winner, KITH_ATTR_CODE); /* code and cookie tie */

    in = base_input();
    in.cand[KITH_ATTR_COOKIE].at_ms = NOW_MS;
    in.cand[KITH_ATTR_CODE].present = false;
    CHECK_INT(decide(&in).winner, KITH_ATTR_URL); /* url and cookie tie */

    in = base_input();
    in.cand[KITH_ATTR_COOKIE].present = false;
    CHECK_INT(decide(&in).winner, KITH_ATTR_URL); /* url and code tie */

    /* Ties among the accepted only: an earlier rejected source does not break the tie. */
    in = base_input();
    in.cand[KITH_ATTR_COOKIE].at_ms = NOW_MS;
    in.cand[KITH_ATTR_URL].same_program = false;
    CHECK_INT(decide(&in).winner, KITH_ATTR_CODE);

    /* Negative and zero timestamps are ordinary values, not "unset". */
    in = base_input();
    in.cand[KITH_ATTR_URL].at_ms = -10;
    in.cand[KITH_ATTR_CODE].at_ms = -5;
    in.cand[KITH_ATTR_COOKIE].present = false;
    in.cand[KITH_ATTR_LEAD].present = false;
    CHECK_INT(decide(&in).winner, KITH_ATTR_CODE);
    in.cand[KITH_ATTR_URL].at_ms = 0;
    CHECK_INT(decide(&in).winner, KITH_ATTR_URL);
}

static void test_organic_when_all_rejected(void)
{
    struct kith_attr_input in = base_input();
    in.cand[KITH_ATTR_URL].found = false;
    in.cand[KITH_ATTR_CODE].referrer_external_id = "u_new";
    in.cand[KITH_ATTR_COOKIE].at_ms = NOW_MS - WINDOW_MS - 1;
    in.cand[KITH_ATTR_LEAD].referrer_blocked = true;
    struct kith_attr_result r = decide(&in);
    CHECK_INT(r.winner, KITH_ATTR_ORGANIC);
    CHECK_INT(r.reason[KITH_ATTR_URL], KITH_ATTR_UNKNOWN_CODE);
    CHECK_INT(r.reason[KITH_ATTR_CODE], KITH_ATTR_SELF_REFERRAL);
    CHECK_INT(r.reason[KITH_ATTR_COOKIE], KITH_ATTR_STALE_CLICK);
    CHECK_INT(r.reason[KITH_ATTR_LEAD], KITH_ATTR_REFERRER_BLOCKED);
}

/* CONTRACT 5 (v2): the lead candidate, at the lead's time, stale past the window, last in ties. */
static void test_lead_candidate(void)
{
    /* Alone, a fresh lead wins weeks later (inside a 30-day window). */
    struct kith_attr_input in = only(KITH_ATTR_LEAD);
    in.cand[KITH_ATTR_LEAD].at_ms = NOW_MS - 21 * DAY_MS;
    struct kith_attr_result r = decide(&in);
    CHECK_INT(r.winner, KITH_ATTR_LEAD);
    CHECK_INT(r.reason[KITH_ATTR_LEAD], KITH_ATTR_ACCEPTED);
    /* Past the window: stale_click, and organic. The boundary itself is inside. */
    in.cand[KITH_ATTR_LEAD].at_ms = NOW_MS - WINDOW_MS - 1;
    r = decide(&in);
    CHECK_INT(r.winner, KITH_ATTR_ORGANIC);
    CHECK_INT(r.reason[KITH_ATTR_LEAD], KITH_ATTR_STALE_CLICK);
    in.cand[KITH_ATTR_LEAD].at_ms = NOW_MS - WINDOW_MS;
    CHECK_INT(decide(&in).winner, KITH_ATTR_LEAD);
    /* A newer ref beats the lead; so does a newer click; an older click does not. */
    in = base_input();
    in.cand[KITH_ATTR_CODE].present = false;
    in.cand[KITH_ATTR_COOKIE].present = false;
    CHECK_INT(decide(&in).winner, KITH_ATTR_URL);
    in = base_input();
    in.cand[KITH_ATTR_URL].present = false;
    in.cand[KITH_ATTR_CODE].present = false;
    CHECK_INT(decide(&in).winner, KITH_ATTR_COOKIE);
    in.cand[KITH_ATTR_COOKIE].at_ms = NOW_MS - 3 * DAY_MS;
    CHECK_INT(decide(&in).winner, KITH_ATTR_LEAD);
    /* A rejected newer candidate leaves the lead the winner. */
    in = base_input();
    in.cand[KITH_ATTR_URL].referrer_blocked = true;
    in.cand[KITH_ATTR_CODE].found = false;
    in.cand[KITH_ATTR_COOKIE].same_program = false;
    r = decide(&in);
    CHECK_INT(r.winner, KITH_ATTR_LEAD);
    CHECK_INT(r.reason[KITH_ATTR_COOKIE], KITH_ATTR_OTHER_PROGRAM);
}

static void test_lead_ties(void)
{
    /* Everything at one instant: url, then code, then cookie, then lead. */
    struct kith_attr_input in = base_input();
    for (int i = 0; i < KITH_ATTR_SOURCES; i++)
        in.cand[i].at_ms = NOW_MS - DAY_MS;
    CHECK_INT(decide(&in).winner, KITH_ATTR_URL);
    in.cand[KITH_ATTR_URL].present = false;
    CHECK_INT(decide(&in).winner, KITH_ATTR_CODE);
    in.cand[KITH_ATTR_CODE].present = false;
    CHECK_INT(decide(&in).winner, KITH_ATTR_COOKIE);
    in.cand[KITH_ATTR_COOKIE].present = false;
    CHECK_INT(decide(&in).winner, KITH_ATTR_LEAD);
    /* The lead loses every tie, whichever single other source it ties with. */
    for (int s = 0; s < KITH_ATTR_LEAD; s++) {
        in = base_input();
        for (int i = 0; i < KITH_ATTR_SOURCES; i++) {
            in.cand[i].present = i == s || i == KITH_ATTR_LEAD;
            in.cand[i].at_ms = NOW_MS;
        }
        CHECK_INT(decide(&in).winner, s);
    }
    /* A lead one millisecond newer than a click wins. */
    in = base_input();
    in.cand[KITH_ATTR_URL].present = in.cand[KITH_ATTR_CODE].present = false;
    in.cand[KITH_ATTR_COOKIE].at_ms = NOW_MS - DAY_MS;
    in.cand[KITH_ATTR_LEAD].at_ms = NOW_MS - DAY_MS + 1;
    CHECK_INT(decide(&in).winner, KITH_ATTR_LEAD);
}

static enum kith_attr_reject cookie_reason(int64_t now, int64_t at, int64_t window)
{
    struct kith_attr_input in = only(KITH_ATTR_COOKIE);
    in.now_ms = now;
    in.window_ms = window;
    in.cand[KITH_ATTR_COOKIE].at_ms = at;
    return decide(&in).reason[KITH_ATTR_COOKIE];
}

static void test_stale_boundary(void)
{
    CHECK_INT(cookie_reason(NOW_MS, NOW_MS - WINDOW_MS, WINDOW_MS), KITH_ATTR_ACCEPTED);
    CHECK_INT(cookie_reason(NOW_MS, NOW_MS - WINDOW_MS - 1, WINDOW_MS), KITH_ATTR_STALE_CLICK);
    CHECK_INT(cookie_reason(NOW_MS, NOW_MS - WINDOW_MS + 1, WINDOW_MS), KITH_ATTR_ACCEPTED);
    CHECK_INT(cookie_reason(NOW_MS, NOW_MS, WINDOW_MS), KITH_ATTR_ACCEPTED);
    CHECK_INT(cookie_reason(NOW_MS, NOW_MS + DAY_MS, WINDOW_MS), KITH_ATTR_ACCEPTED);
    /* A zero window accepts only clicks at (or after) the signup instant. */
    CHECK_INT(cookie_reason(NOW_MS, NOW_MS, 0), KITH_ATTR_ACCEPTED);
    CHECK_INT(cookie_reason(NOW_MS, NOW_MS - 1, 0), KITH_ATTR_STALE_CLICK);
    /* A negative window behaves as zero. */
    CHECK_INT(cookie_reason(NOW_MS, NOW_MS, -DAY_MS), KITH_ATTR_ACCEPTED);
    CHECK_INT(cookie_reason(NOW_MS, NOW_MS - 1, -DAY_MS), KITH_ATTR_STALE_CLICK);
    /* Extremes must not overflow (UBSan watches). */
    CHECK_INT(cookie_reason(INT64_MAX, INT64_MIN, WINDOW_MS), KITH_ATTR_STALE_CLICK);
    CHECK_INT(cookie_reason(INT64_MAX, INT64_MIN, INT64_MAX), KITH_ATTR_STALE_CLICK);
    CHECK_INT(cookie_reason(INT64_MIN, INT64_MAX, WINDOW_MS), KITH_ATTR_ACCEPTED);
    CHECK_INT(cookie_reason(INT64_MAX, 0, INT64_MAX), KITH_ATTR_ACCEPTED);
    /* The stale click loses to nothing: with a fresh url, url wins; alone, organic. */
    struct kith_attr_input in = only(KITH_ATTR_COOKIE);
    in.cand[KITH_ATTR_COOKIE].at_ms = NOW_MS - WINDOW_MS - 1;
    CHECK_INT(decide(&in).winner, KITH_ATTR_ORGANIC);
}

static void test_names(void)
{
    CHECK_STR(kith_attr_source_name(KITH_ATTR_URL), "url");
    CHECK_STR(kith_attr_source_name(KITH_ATTR_CODE), "code");
    CHECK_STR(kith_attr_source_name(KITH_ATTR_COOKIE), "cookie");
    CHECK_STR(kith_attr_source_name(KITH_ATTR_LEAD), "lead");
    CHECK_STR(kith_attr_source_name(KITH_ATTR_ORGANIC), "organic");
    CHECK(kith_attr_reject_name(KITH_ATTR_ACCEPTED) == NULL);
    CHECK(kith_attr_reject_name(KITH_ATTR_ABSENT) == NULL);
    CHECK_STR(kith_attr_reject_name(KITH_ATTR_UNKNOWN_CODE), "unknown_code");
    CHECK_STR(kith_attr_reject_name(KITH_ATTR_UNKNOWN_CLICK), "unknown_click");
    CHECK_STR(kith_attr_reject_name(KITH_ATTR_OTHER_PROGRAM), "other_program");
    CHECK_STR(kith_attr_reject_name(KITH_ATTR_REFERRER_BLOCKED), "referrer_blocked");
    CHECK_STR(kith_attr_reject_name(KITH_ATTR_SELF_REFERRAL), "self_referral");
    CHECK_STR(kith_attr_reject_name(KITH_ATTR_STALE_CLICK), "stale_click");
}

static const char *email_of(const char *email)
{
    static char out[256];
    memset(out, 'x', sizeof(out));
    if (!kith_email_normalize(email, out, sizeof(out)))
        return out[0] == '\0' ? "(refused)" : "(refused but wrote)";
    return out;
}

static void test_email_normalize(void)
{
    CHECK_STR(email_of("jane@example.com"), "jane@example.com");
    CHECK_STR(email_of("Jane@Example.COM"), "jane@example.com");
    CHECK_STR(email_of("  jane@example.com\t\r\n"), "jane@example.com");
    CHECK_STR(email_of("jane.doe@example.com"), "jane.doe@example.com");
    CHECK_STR(email_of("jane+tag@example.com"), "jane@example.com");
    CHECK_STR(email_of("jane+a+b@example.com"), "jane@example.com");
    CHECK_STR(email_of("jane.doe+x@example.com"), "jane.doe@example.com");
    CHECK_STR(email_of("j.a.n.e@gmail.com"), "jane@gmail.com");
    CHECK_STR(email_of("J.Ane@GMAIL.com"), "jane@gmail.com");
    CHECK_STR(email_of("jane.doe+promo@gmail.com"), "janedoe@gmail.com");
    CHECK_STR(email_of("j.ane+x.y@googlemail.com"), "jane@googlemail.com");
    CHECK_STR(email_of("J.Ane@GoogleMail.Com"), "jane@googlemail.com");
    /* Only the exact gmail domains drop dots. */
    CHECK_STR(email_of("j.ane@notgmail.com"), "j.ane@notgmail.com");
    CHECK_STR(email_of("j.ane@gmail.com.example.org"), "j.ane@gmail.com.example.org");
    CHECK_STR(email_of("j.ane@mail.gmail.com"), "j.ane@mail.gmail.com");
    /* '+' matters only in the local part. */
    CHECK_STR(email_of("jane@ex+ample.com"), "jane@ex+ample.com");
    /* The two spellings that self-referral must catch compare equal. */
    char a[64], b[64];
    CHECK(kith_email_normalize("Sam.Smith+kith@gmail.com", a, sizeof(a)));
    CHECK(kith_email_normalize(" samsmith@GMAIL.COM", b, sizeof(b)));
    CHECK_STR(a, b);
}

static void test_email_refused(void)
{
    char out[64] = "untouched";
    CHECK(!kith_email_normalize(NULL, out, sizeof(out)));
    CHECK(!kith_email_normalize("jane@example.com", out, 0));
    CHECK(!kith_email_normalize("jane@example.com", NULL, 10));
    CHECK_STR(email_of(""), "(refused)");
    CHECK_STR(email_of("   "), "(refused)");
    CHECK_STR(email_of("jane"), "(refused)");
    CHECK_STR(email_of("@example.com"), "(refused)");
    CHECK_STR(email_of("jane@"), "(refused)");
    CHECK_STR(email_of("jane@ "), "(refused)");
    CHECK_STR(email_of("a@b@c.com"), "(refused)");
    CHECK_STR(email_of("+tag@example.com"), "(refused)");
    CHECK_STR(email_of("...@gmail.com"), "(refused)");
    CHECK_STR(email_of(".+x@googlemail.com"), "(refused)");
}

static void test_email_outsize(void)
{
    char out[32];
    /* "jane@example.com" is 16 characters: it needs 17 bytes. */
    CHECK(kith_email_normalize("jane@example.com", out, 17));
    CHECK_STR(out, "jane@example.com");
    memset(out, 'x', sizeof(out));
    CHECK(!kith_email_normalize("jane@example.com", out, 16));
    CHECK_STR(out, "");
    memset(out, 'x', sizeof(out));
    CHECK(!kith_email_normalize("jane@example.com", out, 4));
    CHECK_STR(out, "");
    /* What counts is the normalised length. */
    CHECK(kith_email_normalize("j.a.n.e+long-tag@gmail.com", out, 15));
    CHECK_STR(out, "jane@gmail.com");
}

int main(void)
{
    RUN(test_organic_when_nothing_present);
    RUN(test_single_source_wins);
    RUN(test_each_reject_reason);
    RUN(test_reject_order);
    RUN(test_self_referral_needs_known_values);
    RUN(test_most_recent_wins);
    RUN(test_tie_breaks);
    RUN(test_organic_when_all_rejected);
    RUN(test_lead_candidate);
    RUN(test_lead_ties);
    RUN(test_stale_boundary);
    RUN(test_names);
    RUN(test_email_normalize);
    RUN(test_email_refused);
    RUN(test_email_outsize);
    TEST_DONE();
}
