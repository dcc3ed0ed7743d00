/*
 * test_fraud.c: the fraud signals as the engine gathers them at signup and on events (CONTRACT
 * section 6): same_ip, same_device, same_payment (from the referrer's own row and events),
 * velocity, disposable_email (shipped list and the program's list), sequential_email,
 * new_referrer and coupon_site (shipped list and the program's list), each with the boundary the
 * contract fixes. Thresholds are set high so every referral stays pending and only its flags are
 * looked at, except where the verdict is the point. Runs on SQLite, and on PostgreSQL with
 * KITH_TEST_PG_URL (pg_unit_engine_fraud).
 */
#include "engine_harness.h"

#define TS (H_T0 + 2 * H_DAY)

/* Scores never decide here, and the referrer is never new unless a test says so. */
#define QUIET "\"review_at\": 8, \"reject_at\": 9, \"new_account_hours\": 0"

static const char *jane_code(void)
{
    json_t *jane = h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\", \"ip\": "
                                 "\"2001:db8::7\", \"device_id\": \"dev-7\", "
                                 "\"payment_fingerprint\": \"card_7\"}",
                                 H_T0);
    return h_str(jane, "code");
}

/* A signup by ext with ref code and extra fields at at_ms: its referral. */
static json_t *refer_at(const char *file, int line, const char *code, const char *ext,
                        const char *extra, int64_t at_ms)
{
    json_t *out = h_signup_at(file, line,
                              h_fmt("{\"external_id\": \"%s\", \"ref\": \"%s\"%s%s}", ext, code,
                                    *extra ? ", " : "", extra),
                              at_ms);
    return h_at(out, "referral");
}
#define refer(code, ext, extra, at_ms) refer_at(__FILE__, __LINE__, (code), (ext), (extra), (at_ms))

static void test_identity_matches(void)
{
    /* CONTRACT 6: same_ip (compared as keyed hashes), same_device and same_payment compare the
     * signup with what is known for the referrer: their own creation and their own events. */
    h_program("{\"fraud\": {" QUIET "}}");
    const char *code = jane_code();
    json_t *r = refer(code, "a", "\"ip\": \"2001:db8::7\"", TS);
    CHECK_JSET(r, "fraud.flags", "[\"same_ip\"]");
    r = refer(code, "b", "\"device_id\": \"dev-7\"", TS);
    CHECK_JSET(r, "fraud.flags", "[\"same_device\"]");
    r = refer(code, "c", "\"payment_fingerprint\": \"card_7\"", TS);
    CHECK_JSET(r, "fraud.flags", "[\"same_payment\"]");
    r = refer(code, "d", "\"ip\": \"2001:db8::8\", \"device_id\": \"dev-8\"", TS);
    CHECK_JSON(r, "fraud", "{\"score\": 0, \"flags\": []}");
    /* a card Jane used in one of her own events is known for her too */
    h_event("{\"type\": \"purchase\", \"external_id\": \"jane\", \"payment_fingerprint\": "
            "\"card_8\"}",
            TS);
    r = refer(code, "e", "\"payment_fingerprint\": \"card_8\"", TS + H_HOUR);
    CHECK_JSET(r, "fraud.flags", "[\"same_payment\"]");
    CHECK_JINT(r, "fraud.score", 1);
    CHECK_JSTR(r, "status", "pending");
}

static void test_velocity(void)
{
    /* CONTRACT 6: velocity when the referrer already has velocity_per_day or more referrals
     * created in the 24 hours before this one. */
    h_program("{\"fraud\": {" QUIET ", \"velocity_per_day\": 2}}");
    const char *code = jane_code();
    CHECK_JSON(refer(code, "a", "", TS), "fraud.flags", "[]");
    CHECK_JSON(refer(code, "b", "", TS + H_HOUR), "fraud.flags", "[]");
    CHECK_JSET(refer(code, "c", "", TS + 2 * H_HOUR), "fraud.flags", "[\"velocity\"]");
    /* just over 24 hours after b only c is left in the window; later, nothing is */
    CHECK_JSON(refer(code, "d", "", TS + 25 * H_HOUR + 1), "fraud.flags", "[]");
    CHECK_JSET(refer(code, "e", "", TS + 25 * H_HOUR + H_SEC), "fraud.flags", "[\"velocity\"]");
    CHECK_JSON(refer(code, "f", "", TS + 60 * H_HOUR), "fraud.flags", "[]");
}

static void test_velocity_counts_only_earlier(void)
{
    /* CONTRACT 6: velocity counts the referrals created in the 24 hours *before* this one: a
     * signup whose occurred_at lies before an existing referral does not count that later one. */
    h_program("{\"fraud\": {" QUIET ", \"velocity_per_day\": 1}}");
    const char *code = jane_code();
    CHECK_JSON(refer(code, "a", "", TS + 10 * H_HOUR), "fraud.flags", "[]");
    json_t *r = refer(code, "b", h_fmt("\"occurred_at\": \"%s\"", h_time(TS)), TS + 11 * H_HOUR);
    CHECK_JSTR(r, "created_at", h_time(TS));
    CHECK_JSON(r, "fraud.flags", "[]");
    CHECK_JINT(r, "fraud.score", h_len(r, "fraud.flags"));
}

static void test_disposable_email(void)
{
    /* CONTRACT 6: disposable_email when the e-mail's domain is on the shipped disposable list or
     * in blocked_email_domains (a listed domain covers its subdomains, not its look-alikes). */
    h_program("{\"fraud\": {" QUIET ", \"blocked_email_domains\": [\"Spam.Example\"]}}");
    const char *code = jane_code();
    CHECK_JSET(refer(code, "a", "\"email\": \"sam@mailinator.com\"", TS), "fraud.flags",
               "[\"disposable_email\"]");
    CHECK_JSET(refer(code, "b", "\"email\": \"sam@eu.mailinator.com\"", TS), "fraud.flags",
               "[\"disposable_email\"]");
    CHECK_JSET(refer(code, "c", "\"email\": \"kim@spam.example\"", TS), "fraud.flags",
               "[\"disposable_email\"]");
    CHECK_JSET(refer(code, "d", "\"email\": \"kim@mx.spam.example\"", TS), "fraud.flags",
               "[\"disposable_email\"]");
    CHECK_JSON(refer(code, "e", "\"email\": \"kim@notspam.example\"", TS), "fraud.flags", "[]");
    CHECK_JSON(refer(code, "f", "\"email\": \"kim@example.com\"", TS), "fraud.flags", "[]");
}

static void test_sequential_email(void)
{
    /* CONTRACT 6: sequential_email when the local part ends in digits and 2 or more earlier
     * referrals of the same referrer have the same domain and the same local part before its
     * trailing digits. */
    h_program("{\"fraud\": {" QUIET "}}");
    const char *code = jane_code();
    CHECK_JSON(refer(code, "a", "\"email\": \"anna1@mail.example\"", TS), "fraud.flags", "[]");
    CHECK_JSON(refer(code, "b", "\"email\": \"anna2@mail.example\"", TS + H_SEC), "fraud.flags",
               "[]");
    CHECK_JSET(refer(code, "c", "\"email\": \"anna3@mail.example\"", TS + 2 * H_SEC), "fraud.flags",
               "[\"sequential_email\"]");
    /* no trailing digits, another domain, another stem: not sequential */
    CHECK_JSON(refer(code, "d", "\"email\": \"anna@mail.example\"", TS + 3 * H_SEC), "fraud.flags",
               "[]");
    CHECK_JSON(refer(code, "e", "\"email\": \"anna4@other.example\"", TS + 4 * H_SEC),
               "fraud.flags", "[]");
    CHECK_JSON(refer(code, "f", "\"email\": \"anne5@mail.example\"", TS + 5 * H_SEC), "fraud.flags",
               "[]");
    /* another referrer's friends do not count */
    json_t *bob = h_participant("{\"external_id\": \"bob\", \"first_name\": \"Bob\"}", H_T0);
    CHECK_JSON(refer(h_str(bob, "code"), "g", "\"email\": \"anna6@mail.example\"", TS + 6 * H_SEC),
               "fraud.flags", "[]");
}

static void test_sequential_counts_only_earlier(void)
{
    /* CONTRACT 6: sequential_email needs 2 or more *earlier* referrals with the same domain and
     * stem: a signup whose occurred_at lies before two such referrals is not sequential. */
    h_program("{\"fraud\": {" QUIET "}}");
    const char *code = jane_code();
    refer(code, "a", "\"email\": \"anna1@mail.example\"", TS + 10 * H_HOUR);
    refer(code, "b", "\"email\": \"anna2@mail.example\"", TS + 11 * H_HOUR);
    json_t *r = refer(
        code, "c", h_fmt("\"email\": \"anna3@mail.example\", \"occurred_at\": \"%s\"", h_time(TS)),
        TS + 12 * H_HOUR);
    CHECK_JSTR(r, "created_at", h_time(TS));
    CHECK_JSON(r, "fraud.flags", "[]");
    CHECK_JINT(r, "fraud.score", h_len(r, "fraud.flags"));
}

static void test_new_referrer(void)
{
    /* CONTRACT 6: new_referrer when the referrer became a participant less than
     * new_account_hours before: a millisecond short of 24 hours is new, 24 hours is not. */
    h_program("{\"fraud\": {\"review_at\": 8, \"reject_at\": 9}}");
    const char *code = jane_code();
    CHECK_JSET(refer(code, "a", "", H_T0 + 24 * H_HOUR - 1), "fraud.flags", "[\"new_referrer\"]");
    CHECK_JSON(refer(code, "b", "", H_T0 + 24 * H_HOUR), "fraud.flags", "[]");
}

static void test_coupon_site(void)
{
    /* CONTRACT 6: coupon_site when the winning click's referrer host is on the shipped
     * coupon/deal-site list or in blocked_referrer_domains. */
    h_program("{\"fraud\": {" QUIET ", \"blocked_referrer_domains\": [\"deals.example\"]}}");
    const char *code = jane_code();
    h_click("clk_rmn", code, TS - H_HOUR, "", "www.retailmenot.com");
    h_click("clk_deal", code, TS - H_HOUR, "", "deals.example");
    h_click("clk_blog", code, TS - H_HOUR, "", "blog.example.org");
    static const struct {
        const char *click, *flags;
    } cases[] = {
        {"clk_rmn", "[\"coupon_site\"]"},
        {"clk_deal", "[\"coupon_site\"]"},
        {"clk_blog", "[]"},
    };
    for (size_t i = 0; i < KITH_ARRAY_LEN(cases); i++) {
        json_t *out = h_signup(
            h_fmt("{\"external_id\": \"f%zu\", \"click_id\": \"%s\"}", i, cases[i].click), TS);
        CHECK_JSTR(out, "referral.source", "cookie");
        CHECK_JSET(out, "referral.fraud.flags", cases[i].flags);
    }
}

static void test_verdicts_and_rescoring(void)
{
    /* CONTRACT 6: the score is the number of flags; reject_at and review_at decide the status;
     * a qualifying event paid with the referrer's card adds same_payment and re-scores before it
     * can qualify, up to rejected. */
    h_program("{\"fraud\": {\"review_at\": 2, \"reject_at\": 2, \"new_account_hours\": 0}, "
              "\"rewards\": [{\"to\": \"referrer\", \"kind\": \"credit\", \"amount\": 100, "
              "\"currency\": \"USD\"}]}");
    const char *code = jane_code();
    json_t *r = refer(code, "a", "\"device_id\": \"dev-7\"", TS);
    CHECK_JSTR(r, "status", "pending");
    json_t *out = h_event("{\"type\": \"purchase\", \"external_id\": \"a\", \"amount\": 100, "
                          "\"payment_fingerprint\": \"card_7\"}",
                          TS + H_DAY);
    CHECK_JSTR(out, "referral.status", "rejected");
    CHECK_JINT(out, "referral.fraud.score", 2);
    CHECK_JSET(out, "referral.fraud.flags", "[\"same_device\", \"same_payment\"]");
    CHECK_JLEN(out, "rewards", 0);
    out = h_read(kith_op_reward_list, NULL, NULL, TS + H_DAY);
    CHECK_JLEN(out, "data", 0);
}

int main(void)
{
    RUN_DB(test_identity_matches);
    RUN_DB(test_velocity);
    RUN_DB(test_velocity_counts_only_earlier);
    RUN_DB(test_disposable_email);
    RUN_DB(test_sequential_email);
    RUN_DB(test_sequential_counts_only_earlier);
    RUN_DB(test_new_referrer);
    RUN_DB(test_coupon_site);
    RUN_DB(test_verdicts_and_rescoring);
    h_teardown();
    TEST_DONE();
}
