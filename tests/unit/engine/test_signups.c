/*
 * test_signups.c: signups and attribution through the engine (CONTRACT section 5): the url, code
 * and cookie candidates, each rejection reason, the waterfall's most-recent rule and its
 * tie-break, organic signups, people who already exist, and replays of the same external_id.
 * Clicks are written as the redirect path writes them (kith_engine_clicks_write) with chosen
 * times, so staleness is a matter of now_ms. Runs on SQLite, and on PostgreSQL with
 * KITH_TEST_PG_URL (pg_unit_engine_signups).
 */
#include <ctype.h>

#include "engine_harness.h"

/* Signups happen two days after the referrers joined, so no referral is flagged new_referrer. */
#define TS (H_T0 + 2 * H_DAY)

/* A code as a person might type it: " jane 2847 " for JANE-2847. */
static const char *typed_form(const char *code)
{
    char buf[32];
    size_t n = 0;
    buf[n++] = ' ';
    for (const char *c = code; *c && n < sizeof(buf) - 2; c++)
        buf[n++] = *c == '-' ? ' ' : (char)tolower((unsigned char)*c);
    buf[n++] = ' ';
    buf[n] = '\0';
    return h_fmt("%s", buf);
}

static void test_url_code_cookie_sources(void)
{
    /* CONTRACT 5: `ref` is the url candidate, `code` what the person typed (matched after
     * normalisation, CONTRACT 3), `click_id` the cookie; the winner makes a referral
     * {id, program, referrer {id, first_name, code}, referred {id, first_name}, code, source,
     * channel, status, fraud {score, flags}, created_at, qualified_at, rewarded_at, expires_at}
     * and the new participant's referred_by is its id. */
    const char *prog = h_program(NULL);
    json_t *jane = h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\", "
                                 "\"email\": \"jane@example.com\"}",
                                 H_T0);
    const char *code = h_str(jane, "code");

    json_t *out = h_signup(h_fmt("{\"external_id\": \"sam\", \"first_name\": \"Sam\", "
                                 "\"email\": \"sam@example.com\", \"ref\": \"%s\"}",
                                 code),
                           TS);
    CHECK_JMATCH(out, "referral.id", "^ref_[a-z0-9]+$");
    CHECK_JSTR(out, "participant.referred_by", h_str(out, "referral.id"));
    CHECK_JSTR(out, "participant.external_id", "sam");
    CHECK_JMATCH(out, "participant.code", "^SAM-[0-9]{4}$");
    CHECK_JSTR(out, "referral.program", prog);
    CHECK_JSTR(out, "referral.referrer.id", h_str(jane, "id"));
    CHECK_JSTR(out, "referral.referrer.first_name", "Jane");
    CHECK_JSTR(out, "referral.referrer.code", code);
    CHECK_JSTR(out, "referral.referred.id", h_str(out, "participant.id"));
    CHECK_JSTR(out, "referral.referred.first_name", "Sam");
    CHECK_JSTR(out, "referral.code", code);
    CHECK_JSTR(out, "referral.source", "url");
    CHECK_JNULL(out, "referral.channel");
    CHECK_JSTR(out, "referral.status", "pending");
    CHECK_JSON(out, "referral.fraud", "{\"score\": 0, \"flags\": []}");
    CHECK_JSTR(out, "referral.created_at", h_time(TS));
    CHECK_JNULL(out, "referral.qualified_at");
    CHECK_JNULL(out, "referral.rewarded_at");
    /* CONTRACT 5 (expiry): not qualified within qualification.within_days (90) of creation */
    CHECK_JSTR(out, "referral.expires_at", h_time(TS + 90 * H_DAY));
    CHECK_JSON(out, "attribution", "{\"source\": \"url\", \"rejected\": []}");
    json_t *got = h_read(kith_op_referral_get, h_str(out, "referral.id"), NULL, TS);
    CHECK(json_equal(got, h_at(out, "referral")));
    if (!json_equal(got, h_at(out, "referral")))
        fprintf(stderr, "    get: %s\n    signup: %s\n", h_dump(got), h_dump(out));

    out = h_signup(h_fmt("{\"external_id\": \"kim\", \"code\": \"%s\"}", typed_form(code)), TS);
    CHECK_JSTR(out, "referral.source", "code");
    CHECK_JSTR(out, "referral.code", code);
    CHECK_JSTR(out, "referral.referrer.id", h_str(jane, "id"));
    CHECK_JSON(out, "attribution", "{\"source\": \"code\", \"rejected\": []}");

    h_click("clk_lee1", code, TS - H_HOUR, "whatsapp", "");
    out = h_signup("{\"external_id\": \"lee\", \"click_id\": \"clk_lee1\"}", TS);
    CHECK_JSTR(out, "referral.source", "cookie");
    CHECK_JSTR(out, "referral.channel", "whatsapp");
    CHECK_JSTR(out, "referral.referrer.id", h_str(jane, "id"));
    CHECK_JSON(out, "attribution", "{\"source\": \"cookie\", \"rejected\": []}");

    /* CONTRACT 3: the referrer's stats count what happened */
    out = h_read(kith_op_participant_get, h_str(jane, "id"), NULL, TS);
    CHECK_JSON(out, "stats", "{\"clicks\": 1, \"signups\": 3, \"qualified\": 0, \"rewarded\": 0}");
    out = h_read(kith_op_referral_list, NULL, h_fmt("referrer=%s", h_str(jane, "id")), TS);
    CHECK_JLEN(out, "data", 3);
}

/* A signup that must come out organic with exactly one rejection. */
static void expect_rejected(const char *file, int line, const char *body, int64_t at_ms,
                            const char *source, const char *reason)
{
    json_t *out = h_signup_at(file, line, body, at_ms);
    h_check_jstr(file, line, out, "referral", NULL);
    h_check_jstr(file, line, out, "participant.referred_by", NULL);
    h_check_json(file, line, out, "attribution",
                 h_fmt("{\"source\": \"organic\", \"rejected\": [{\"source\": \"%s\", "
                       "\"reason\": \"%s\"}]}",
                       source, reason));
}
#define EXPECT_REJECTED(body, at_ms, source, reason)                                               \
    expect_rejected(__FILE__, __LINE__, (body), (at_ms), (source), (reason))

static void test_rejection_reasons(void)
{
    /* CONTRACT 5: candidates are rejected as unknown_code, unknown_click, referrer_blocked,
     * self_referral or stale_click; with none left the signup is organic (201, no referral) and
     * `rejected` says why. */
    h_program(NULL);
    json_t *jane = h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\", "
                                 "\"email\": \"jane.doe@gmail.com\"}",
                                 H_T0);
    json_t *bob = h_participant("{\"external_id\": \"bob\", \"first_name\": \"Bob\"}", H_T0);
    const char *jane_code = h_str(jane, "code"), *bob_code = h_str(bob, "code");
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_participant_update, h_str(bob, "id"), NULL,
                                 "{\"status\": \"blocked\"}", H_T0 + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);

    EXPECT_REJECTED("{\"external_id\": \"s1\", \"ref\": \"NOPE-0000\"}", TS, "url", "unknown_code");
    EXPECT_REJECTED("{\"external_id\": \"s2\", \"code\": \"no such code\"}", TS, "code",
                    "unknown_code");
    EXPECT_REJECTED("{\"external_id\": \"s3\", \"code\": \"!!\"}", TS, "code", "unknown_code");
    /* a click id kith never issued */
    EXPECT_REJECTED("{\"external_id\": \"s4\", \"click_id\": \"clk_fake0000000000000\"}", TS,
                    "cookie", "unknown_click");
    EXPECT_REJECTED(h_fmt("{\"external_id\": \"s5\", \"ref\": \"%s\"}", bob_code), TS, "url",
                    "referrer_blocked");
    h_click("clk_bob1", bob_code, TS - H_HOUR, "", "");
    EXPECT_REJECTED("{\"external_id\": \"s6\", \"click_id\": \"clk_bob1\"}", TS, "cookie",
                    "referrer_blocked");

    /* self-referral: equal normalised e-mail; gmail ignores dots, every domain ignores +tags */
    EXPECT_REJECTED(h_fmt("{\"external_id\": \"s7\", \"email\": \"JaneDoe+promo@Gmail.com\", "
                          "\"ref\": \"%s\"}",
                          jane_code),
                    TS, "url", "self_referral");
    EXPECT_REJECTED(h_fmt("{\"external_id\": \"s8\", \"email\": \"j.a.n.e.d.o.e@gmail.com\", "
                          "\"code\": \"%s\"}",
                          jane_code),
                    TS, "code", "self_referral");

    /* stale: the click is older than attribution_window_days (30, from cookie_days) */
    h_click("clk_old", jane_code, TS - 30 * H_DAY - 1, "", "");
    EXPECT_REJECTED("{\"external_id\": \"s9\", \"click_id\": \"clk_old\"}", TS, "cookie",
                    "stale_click");

    /* several at once: each source gets its own reason */
    out = h_signup(h_fmt("{\"external_id\": \"s10\", \"ref\": \"NOPE-0000\", \"code\": \"%s\", "
                         "\"click_id\": \"clk_fake\"}",
                         bob_code),
                   TS);
    CHECK_JNULL(out, "referral");
    CHECK_JSTR(out, "attribution.source", "organic");
    CHECK_JSET(out, "attribution.rejected",
               "[{\"source\": \"url\", \"reason\": \"unknown_code\"}, "
               "{\"source\": \"code\", \"reason\": \"referrer_blocked\"}, "
               "{\"source\": \"cookie\", \"reason\": \"unknown_click\"}]");

    out = h_read(kith_op_referral_list, NULL, NULL, TS);
    CHECK_JLEN(out, "data", 0);
}

static void test_self_referral_normalisation_is_exact(void)
{
    /* CONTRACT 5: dots are removed only for gmail.com and googlemail.com, so another domain's
     * dotted address is a different person; a +tag is dropped in every domain. */
    h_program(NULL);
    json_t *carl = h_participant("{\"external_id\": \"carl\", \"first_name\": \"Carl\", \"email\": "
                                 "\"carl.smith@example.com\"}",
                                 H_T0);
    const char *code = h_str(carl, "code");
    json_t *out = h_signup(
        h_fmt("{\"external_id\": \"c2\", \"email\": \"carlsmith@example.com\", \"ref\": \"%s\"}",
              code),
        TS);
    CHECK_JSTR(out, "referral.source", "url");
    CHECK_JSTR(out, "referral.referrer.id", h_str(carl, "id"));
    EXPECT_REJECTED(
        h_fmt("{\"external_id\": \"c3\", \"email\": \"Carl.Smith+news@EXAMPLE.com\", \"ref\": "
              "\"%s\"}",
              code),
        TS, "url", "self_referral");
}

static void test_stale_click_window(void)
{
    /* CONTRACT 5: stale_click is a click older than attribution_window_days (here 7, apart from
     * cookie_days 30): a click exactly 7 days old still attributes, one a millisecond older does
     * not. Time is the signup's now. */
    h_program("{\"cookie_days\": 30, \"attribution_window_days\": 7}");
    json_t *jane = h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\"}", H_T0);
    const char *code = h_str(jane, "code");
    int64_t at = H_T0 + 20 * H_DAY;
    h_click("clk_edge", code, at - 7 * H_DAY, "email", "");
    h_click("clk_past", code, at - 7 * H_DAY - 1, "email", "");
    json_t *out = h_signup("{\"external_id\": \"a\", \"click_id\": \"clk_edge\"}", at);
    CHECK_JSTR(out, "referral.source", "cookie");
    CHECK_JSTR(out, "referral.channel", "email");
    EXPECT_REJECTED("{\"external_id\": \"b\", \"click_id\": \"clk_past\"}", at, "cookie",
                    "stale_click");
    /* occurred_at, not the call's now, is the signup time */
    out = h_signup("{\"external_id\": \"c\", \"click_id\": \"clk_past\", "
                   "\"occurred_at\": \"2026-01-14T00:00:00Z\"}",
                   at);
    CHECK_JSTR(out, "referral.source", "cookie");
    CHECK_JSTR(out, "referral.created_at", "2026-01-14T00:00:00Z");
}

static void test_other_program(void)
{
    /* CONTRACT 5: a code or click of another program's participant is rejected other_program. */
    const char *p1 = h_program(NULL), *p2 = h_program(NULL);
    json_t *olga = h_participant(
        h_fmt("{\"program\": \"%s\", \"external_id\": \"olga\", \"first_name\": \"Olga\"}", p2),
        H_T0);
    const char *code = h_str(olga, "code");
    EXPECT_REJECTED(
        h_fmt("{\"program\": \"%s\", \"external_id\": \"x\", \"ref\": \"%s\"}", p1, code), TS,
        "url", "other_program");
    h_click("clk_olga", code, TS - H_HOUR, "", "");
    EXPECT_REJECTED(
        h_fmt("{\"program\": \"%s\", \"external_id\": \"y\", \"click_id\": \"clk_olga\"}", p1), TS,
        "cookie", "other_program");
    /* the same code in its own program attributes */
    json_t *out = h_signup(
        h_fmt("{\"program\": \"%s\", \"external_id\": \"x\", \"ref\": \"%s\"}", p2, code), TS);
    CHECK_JSTR(out, "referral.program", p2);
    CHECK_JSTR(out, "referral.referrer.id", h_str(olga, "id"));
}

static void test_most_recent_wins_and_ties(void)
{
    /* CONTRACT 5: of the candidates left, the most recent interaction wins (url and code at the
     * signup time, cookie at its click time); ties go url, then code, then cookie. A candidate
     * that loses is not rejected. */
    h_program(NULL);
    json_t *jane = h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\"}", H_T0);
    json_t *bob = h_participant("{\"external_id\": \"bob\", \"first_name\": \"Bob\"}", H_T0);
    json_t *cleo = h_participant("{\"external_id\": \"cleo\", \"first_name\": \"Cleo\"}", H_T0);
    const char *jc = h_str(jane, "code"), *bc = h_str(bob, "code"), *cc = h_str(cleo, "code");

    /* url and code at the same time: url */
    json_t *out =
        h_signup(h_fmt("{\"external_id\": \"a\", \"ref\": \"%s\", \"code\": \"%s\"}", jc, bc), TS);
    CHECK_JSTR(out, "referral.referrer.id", h_str(jane, "id"));
    CHECK_JSON(out, "attribution", "{\"source\": \"url\", \"rejected\": []}");
    /* a typed code now beats an earlier click */
    h_click("clk_c1", cc, TS - H_HOUR, "sms", "");
    out = h_signup(
        h_fmt("{\"external_id\": \"b\", \"code\": \"%s\", \"click_id\": \"clk_c1\"}", bc), TS);
    CHECK_JSTR(out, "referral.referrer.id", h_str(bob, "id"));
    CHECK_JSON(out, "attribution", "{\"source\": \"code\", \"rejected\": []}");
    /* a click at the very signup time ties with the code: code */
    h_click("clk_c2", cc, TS, "sms", "");
    out = h_signup(
        h_fmt("{\"external_id\": \"c\", \"code\": \"%s\", \"click_id\": \"clk_c2\"}", bc), TS);
    CHECK_JSTR(out, "referral.referrer.id", h_str(bob, "id"));
    CHECK_JSTR(out, "referral.source", "code");
    /* and with the url: url */
    out = h_signup(h_fmt("{\"external_id\": \"d\", \"ref\": \"%s\", \"click_id\": \"clk_c2\"}", jc),
                   TS);
    CHECK_JSTR(out, "referral.referrer.id", h_str(jane, "id"));
    CHECK_JSTR(out, "referral.source", "url");
    /* a click more recent than the signup's own time wins over the url */
    h_click("clk_c3", cc, TS - H_HOUR, "qr", "");
    out = h_signup(h_fmt("{\"external_id\": \"e\", \"ref\": \"%s\", \"click_id\": \"clk_c3\", "
                         "\"occurred_at\": \"%s\"}",
                         jc, h_time(TS - 2 * H_HOUR)),
                   TS);
    CHECK_JSTR(out, "referral.referrer.id", h_str(cleo, "id"));
    CHECK_JSTR(out, "referral.source", "cookie");
    CHECK_JSTR(out, "referral.channel", "qr");
    /* a rejected newer candidate leaves the older one */
    out =
        h_signup("{\"external_id\": \"f\", \"ref\": \"NOPE-0000\", \"click_id\": \"clk_c1\"}", TS);
    CHECK_JSTR(out, "referral.referrer.id", h_str(cleo, "id"));
    CHECK_JSON(out, "attribution",
               "{\"source\": \"cookie\", \"rejected\": [{\"source\": \"url\", \"reason\": "
               "\"unknown_code\"}]}");
}

static void test_organic(void)
{
    /* CONTRACT 5: only external_id is required; with no candidate the signup is organic: 201,
     * referral null, and the person gets a code of their own. */
    h_program(NULL);
    json_t *out = h_signup("{\"external_id\": \"solo\", \"first_name\": \"Nina\"}", TS);
    CHECK_JNULL(out, "referral");
    CHECK_JSON(out, "attribution", "{\"source\": \"organic\", \"rejected\": []}");
    CHECK_JNULL(out, "participant.referred_by");
    CHECK_JMATCH(out, "participant.code", "^NINA-[0-9]{4}$");
    CHECK_JSTR(out, "participant.created_at", h_time(TS));
    out = h_read(kith_op_participant_list, NULL, "external_id=solo", TS);
    CHECK_JLEN(out, "data", 1);
}

static void test_existing_participant_not_referred(void)
{
    /* CONTRACT 5: a person who is already a participant (also one created with POST
     * /v1/participants) cannot be referred afterwards: 200 with the existing participant and no
     * referral. */
    h_program(NULL);
    json_t *jane = h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\"}", H_T0);
    json_t *pat = h_participant("{\"external_id\": \"pat\", \"first_name\": \"Pat\"}", H_T0);
    json_t *out = NULL;
    enum kith_status st =
        h_call(kith_op_signup, NULL, NULL,
               h_fmt("{\"external_id\": \"pat\", \"ref\": \"%s\"}", h_str(jane, "code")), TS, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "participant.id", h_str(pat, "id"));
    CHECK_JNULL(out, "participant.referred_by");
    CHECK_JNULL(out, "referral");
    CHECK_JSON(out, "attribution", "{\"source\": \"organic\", \"rejected\": []}");
    out = h_read(kith_op_referral_list, NULL, NULL, TS);
    CHECK_JLEN(out, "data", 0);
    out = h_read(kith_op_participant_get, h_str(jane, "id"), NULL, TS);
    CHECK_JINT(out, "stats.signups", 0);
}

static void test_replay_same_external_id(void)
{
    /* CONTRACT 5: the same external_id again: 200 with the existing participant and referral, no
     * new effect, even when the replay names another referrer; a person is referred at most once
     * per program. */
    h_program(NULL);
    json_t *jane = h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\"}", H_T0);
    json_t *bob = h_participant("{\"external_id\": \"bob\", \"first_name\": \"Bob\"}", H_T0);
    const char *body = h_fmt("{\"external_id\": \"sam\", \"first_name\": \"Sam\", \"ref\": \"%s\"}",
                             h_str(jane, "code"));
    json_t *first = h_signup(body, TS);
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_signup, NULL, NULL, body, TS + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "participant.id", h_str(first, "participant.id"));
    CHECK_JSTR(out, "referral.id", h_str(first, "referral.id"));
    CHECK_JSTR(out, "referral.referrer.id", h_str(jane, "id"));
    CHECK_JSTR(out, "referral.created_at", h_time(TS));
    CHECK_JSON(out, "attribution", "{\"source\": \"url\", \"rejected\": []}");

    st = h_call(kith_op_signup, NULL, NULL,
                h_fmt("{\"external_id\": \"sam\", \"ref\": \"%s\"}", h_str(bob, "code")),
                TS + 2 * H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "referral.id", h_str(first, "referral.id"));
    CHECK_JSTR(out, "referral.referrer.id", h_str(jane, "id"));
    CHECK_JSTR(out, "participant.first_name", "Sam");

    out = h_read(kith_op_referral_list, NULL, NULL, TS);
    CHECK_JLEN(out, "data", 1);
    out = h_read(kith_op_participant_list, NULL, "external_id=sam", TS);
    CHECK_JLEN(out, "data", 1);
    out = h_read(kith_op_participant_get, h_str(bob, "id"), NULL, TS);
    CHECK_JINT(out, "stats.signups", 0);
}

static void test_signup_validation(void)
{
    /* CONTRACT 1 and 5: a bad signup is 400 invalid_param naming the field, and creates no one. */
    static const struct {
        const char *body, *param;
    } cases[] = {
        {"{\"email\": \"a@example.com\"}", "external_id"},
        {"{\"external_id\": \"x\", \"referrer\": \"jane\"}", "referrer"},
        {"{\"external_id\": \"x\", \"ref\": \"\"}", "ref"},
        {"{\"external_id\": \"x\", \"click_id\": 5}", "click_id"},
        {"{\"external_id\": \"x\", \"occurred_at\": \"yesterday\"}", "occurred_at"},
        {"{\"external_id\": \"x\", \"email\": \"x@\"}", "email"},
        {"{\"external_id\": \"x\", \"metadata\": []}", "metadata"},
    };
    h_program(NULL);
    json_t *out = NULL;
    for (size_t i = 0; i < KITH_ARRAY_LEN(cases); i++) {
        enum kith_status st = h_call(kith_op_signup, NULL, NULL, cases[i].body, TS, &out);
        CHECK_ERR(st, out, KITH_E_INVALID_PARAM, cases[i].param);
    }
    out = h_read(kith_op_participant_list, NULL, NULL, TS);
    CHECK_JLEN(out, "data", 0);
}

int main(void)
{
    RUN_DB(test_url_code_cookie_sources);
    RUN_DB(test_rejection_reasons);
    RUN_DB(test_self_referral_normalisation_is_exact);
    RUN_DB(test_stale_click_window);
    RUN_DB(test_other_program);
    RUN_DB(test_most_recent_wins_and_ties);
    RUN_DB(test_organic);
    RUN_DB(test_existing_participant_not_referred);
    RUN_DB(test_replay_same_external_id);
    RUN_DB(test_signup_validation);
    h_teardown();
    TEST_DONE();
}
