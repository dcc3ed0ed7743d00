/*
 * test_programs.c: programs through the engine (CONTRACT section 2): creation with every default
 * filled in, each validation error naming its field, duplicate ids, reading, listing with
 * cursors, PATCH merging into the stored settings, and the reward_cost_high warning. Runs on
 * SQLite, and on PostgreSQL with KITH_TEST_PG_URL (pg_unit_engine_programs).
 */
#include "engine_harness.h"

#define DEST "\"destination_url\": \"https://example.com/join\""

static void test_create_defaults(void)
{
    /* CONTRACT 2: only name and destination_url are required; everything else has the defaults
     * shown (attribution_window_days defaults to cookie_days); the answer carries warnings. */
    json_t *out = NULL;
    enum kith_status st =
        h_call(kith_op_program_create, NULL, NULL,
               "{\"id\": \"wellness\", \"name\": \"Wellness Circle\", " DEST "}", H_T0, &out);
    CHECK_ST(st, KITH_CREATED, out);
    CHECK_JSTR(out, "id", "wellness");
    CHECK_JSTR(out, "name", "Wellness Circle");
    CHECK_JSTR(out, "destination_url", "https://example.com/join");
    CHECK_JINT(out, "cookie_days", 30);
    CHECK_JINT(out, "attribution_window_days", 30);
    CHECK_JSON(out, "qualification",
               "{\"event\": \"purchase\", \"min_amount\": 0, \"hold_days\": 0, "
               "\"within_days\": 90}");
    CHECK_JSON(out, "rewards", "[]");
    CHECK_JNULL(out, "max_rewards_per_referrer");
    CHECK_JSON(out, "fraud",
               "{\"review_at\": 3, \"reject_at\": 4, \"velocity_per_day\": 10, "
               "\"new_account_hours\": 24, \"blocked_email_domains\": [], "
               "\"blocked_referrer_domains\": []}");
    CHECK_JINT(out, "average_customer_value", 120000);
    CHECK_JSTR(out, "currency", "USD");
    CHECK_JSON(out, "warnings", "[]");
    CHECK_JSTR(out, "created_at", H_T0_TEXT);
}

static void test_window_follows_cookie_days(void)
{
    /* CONTRACT 2: attribution_window_days defaults to cookie_days, and can be set apart. */
    json_t *out = NULL;
    enum kith_status st =
        h_call(kith_op_program_create, NULL, NULL,
               "{\"id\": \"short\", \"name\": \"S\", " DEST ", \"cookie_days\": 7}", H_T0, &out);
    CHECK_ST(st, KITH_CREATED, out);
    CHECK_JINT(out, "cookie_days", 7);
    CHECK_JINT(out, "attribution_window_days", 7);
    st = h_call(kith_op_program_create, NULL, NULL,
                "{\"id\": \"apart\", \"name\": \"A\", " DEST
                ", \"cookie_days\": 7, \"attribution_window_days\": 14}",
                H_T0, &out);
    CHECK_ST(st, KITH_CREATED, out);
    CHECK_JINT(out, "cookie_days", 7);
    CHECK_JINT(out, "attribution_window_days", 14);
}

static void test_patch_cookie_days_moves_default_window(void)
{
    /* CONTRACT 2: attribution_window_days defaults to cookie_days, so a PATCH of cookie_days
     * moves a window that was never set apart from it (the engine says so too, programs.c:
     * "follows cookie_days only when it was never set apart from it"); a window set apart
     * stays. */
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_program_create, NULL, NULL,
                                 "{\"id\": \"follow\", \"name\": \"F\", " DEST "}", H_T0, &out);
    CHECK_ST(st, KITH_CREATED, out);
    st =
        h_call(kith_op_program_update, "follow", NULL, "{\"cookie_days\": 7}", H_T0 + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JINT(out, "cookie_days", 7);
    CHECK_JINT(out, "attribution_window_days", 7);

    st = h_call(kith_op_program_create, NULL, NULL,
                "{\"id\": \"apart\", \"name\": \"A\", " DEST
                ", \"cookie_days\": 7, \"attribution_window_days\": 14}",
                H_T0, &out);
    CHECK_ST(st, KITH_CREATED, out);
    st =
        h_call(kith_op_program_update, "apart", NULL, "{\"cookie_days\": 10}", H_T0 + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JINT(out, "cookie_days", 10);
    CHECK_JINT(out, "attribution_window_days", 14);
}

static void test_validation_names_param(void)
{
    /* CONTRACT 1 and 2: a bad program is 400 invalid_param whose param names the field, also for
     * unknown fields, wrong types and out-of-range values; sub-fields are named by their path.
     * Nothing is created. */
    static const struct {
        const char *body;
        const char *param;
    } cases[] = {
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"colour\": \"red\"}", "colour"},
        {"{\"id\": \"Wellness\", \"name\": \"N\", " DEST "}", "id"},
        {"{\"id\": \"well_ness\", \"name\": \"N\", " DEST "}", "id"},
        {"{\"id\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"name\": \"N\", " DEST "}",
         "id"},
        {"{\"name\": \"N\", " DEST "}", "id"},
        {"{\"id\": \"v\", " DEST "}", "name"},
        {"{\"id\": \"v\", \"name\": 5, " DEST "}", "name"},
        {"{\"id\": \"v\", \"name\": \"N\"}", "destination_url"},
        {"{\"id\": \"v\", \"name\": \"N\", \"destination_url\": \"ftp://example.com/x\"}",
         "destination_url"},
        {"{\"id\": \"v\", \"name\": \"N\", \"destination_url\": \"example.com/join\"}",
         "destination_url"},
        {"{\"id\": \"v\", \"name\": \"N\", \"destination_url\": \"https://\"}", "destination_url"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"cookie_days\": 0}", "cookie_days"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"cookie_days\": \"30\"}", "cookie_days"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"currency\": \"usd\"}", "currency"},
        /* overlapping referrer tiers: 1..3 and 3.. */
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"rewards\": ["
         "{\"to\": \"referrer\", \"kind\": \"credit\", \"amount\": 1000, \"currency\": \"USD\", "
         "\"from_count\": 1, \"to_count\": 3},"
         "{\"to\": \"referrer\", \"kind\": \"credit\", \"amount\": 2000, \"currency\": \"USD\", "
         "\"from_count\": 3}]}",
         "rewards"},
        /* an unbounded first tier overlaps any later one */
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"rewards\": ["
         "{\"to\": \"referrer\", \"kind\": \"cash\", \"amount\": 1000, \"currency\": \"USD\"},"
         "{\"to\": \"referrer\", \"kind\": \"cash\", \"amount\": 2000, \"currency\": \"USD\", "
         "\"from_count\": 5}]}",
         "rewards"},
        /* at most one rule for the referred side */
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"rewards\": ["
         "{\"to\": \"referred\", \"kind\": \"gift\", \"description\": \"A mug\"},"
         "{\"to\": \"referred\", \"kind\": \"gift\", \"description\": \"A cap\"}]}",
         "rewards"},
        /* monetary kinds need amount and currency, the others a description */
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"rewards\": ["
         "{\"to\": \"referrer\", \"kind\": \"credit\", \"currency\": \"USD\"}]}",
         "rewards[0].amount"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"rewards\": ["
         "{\"to\": \"referred\", \"kind\": \"free_month\", \"description\": \"Free\"},"
         "{\"to\": \"referrer\", \"kind\": \"donation\", \"currency\": \"EUR\"}]}",
         "rewards[1].amount"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"rewards\": ["
         "{\"to\": \"referrer\", \"kind\": \"cash\", \"amount\": 500}]}",
         "rewards[0].currency"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"rewards\": ["
         "{\"to\": \"referred\", \"kind\": \"free_month\"}]}",
         "rewards[0].description"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"rewards\": ["
         "{\"to\": \"referrer\", \"kind\": \"points\", \"amount\": 5, \"currency\": \"USD\"}]}",
         "rewards[0].kind"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"rewards\": ["
         "{\"to\": \"friend\", \"kind\": \"gift\", \"description\": \"A mug\"}]}",
         "rewards[0].to"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"rewards\": ["
         "{\"to\": \"referrer\", \"kind\": \"gift\", \"description\": \"A mug\", \"size\": 1}]}",
         "rewards[0].size"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"qualification\": {\"event\": \"refund\"}}",
         "qualification.event"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"qualification\": {\"hold_days\": -1}}",
         "qualification.hold_days"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"qualification\": {\"delay\": 3}}",
         "qualification.delay"},
        {"{\"id\": \"v\", \"name\": \"N\", " DEST ", \"fraud\": {\"review_at\": 4, "
         "\"reject_at\": 2}}",
         "fraud.reject_at"},
    };
    json_t *out = NULL;
    for (size_t i = 0; i < KITH_ARRAY_LEN(cases); i++) {
        enum kith_status st = h_call(kith_op_program_create, NULL, NULL, cases[i].body, H_T0, &out);
        CHECK_ERR(st, out, KITH_E_INVALID_PARAM, cases[i].param);
        if (st != KITH_E_INVALID_PARAM)
            fprintf(stderr, "    (case %zu: %s)\n", i, cases[i].body);
    }
    out = h_read(kith_op_program_list, NULL, NULL, H_T0);
    CHECK_JSON(out, "data", "[]");
}

static void test_duplicate_id(void)
{
    /* CONTRACT 2: program ids are the user's slugs, so a second program with the same id is
     * refused (the engine answers invalid_param on "id") and the first stays as it was. */
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_program_create, NULL, NULL,
                                 "{\"id\": \"dup\", \"name\": \"First\", " DEST "}", H_T0, &out);
    CHECK_ST(st, KITH_CREATED, out);
    st = h_call(kith_op_program_create, NULL, NULL,
                "{\"id\": \"dup\", \"name\": \"Second\", " DEST "}", H_T0 + H_SEC, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "id");
    out = h_read(kith_op_program_get, "dup", NULL, H_T0);
    CHECK_JSTR(out, "name", "First");
}

static void test_get_list_update(void)
{
    /* CONTRACT 2 and 1: GET returns what was created; lists are {data, has_more, next_cursor}
     * paged by limit and cursor; PATCH changes only what it names (nested settings merge) and the
     * whole result is validated again; the id cannot change; unknown ids are not_found. */
    json_t *a = NULL, *out = NULL;
    enum kith_status st = h_call(kith_op_program_create, NULL, NULL,
                                 "{\"id\": \"alpha\", \"name\": \"Alpha\", " DEST
                                 ", \"qualification\": {\"min_amount\": 500}}",
                                 H_T0, &a);
    CHECK_ST(st, KITH_CREATED, a);
    st = h_call(kith_op_program_create, NULL, NULL,
                "{\"id\": \"beta\", \"name\": \"Beta\", " DEST "}", H_T0 + H_SEC, &out);
    CHECK_ST(st, KITH_CREATED, out);

    out = h_read(kith_op_program_get, "alpha", NULL, H_T0 + H_HOUR);
    CHECK(json_equal(out, a));
    if (!json_equal(out, a))
        fprintf(stderr, "    get: %s\n    create: %s\n", h_dump(out), h_dump(a));
    CHECK_JSTR(out, "updated_at", H_T0_TEXT);

    out = h_read(kith_op_program_list, NULL, NULL, H_T0);
    CHECK_JLEN(out, "data", 2);
    CHECK_JSTR(out, "data[0].id", "alpha");
    CHECK_JSTR(out, "data[1].id", "beta");
    CHECK_JBOOL(out, "has_more", false);
    CHECK_JNULL(out, "next_cursor");

    out = h_read(kith_op_program_list, NULL, "limit=1", H_T0);
    CHECK_JLEN(out, "data", 1);
    CHECK_JSTR(out, "data[0].id", "alpha");
    CHECK_JBOOL(out, "has_more", true);
    CHECK_JMATCH(out, "next_cursor", "^.+$");
    const char *cursor = h_str(out, "next_cursor");
    out = h_read(kith_op_program_list, NULL, h_fmt("limit=1&cursor=%s", cursor), H_T0);
    CHECK_JLEN(out, "data", 1);
    CHECK_JSTR(out, "data[0].id", "beta");
    CHECK_JBOOL(out, "has_more", false);
    CHECK_JNULL(out, "next_cursor");

    st = h_call(kith_op_program_update, "alpha", NULL, "{\"qualification\": {\"hold_days\": 14}}",
                H_T0 + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSON(out, "qualification",
               "{\"event\": \"purchase\", \"min_amount\": 500, \"hold_days\": 14, "
               "\"within_days\": 90}");
    CHECK_JSTR(out, "name", "Alpha");
    CHECK_JSTR(out, "created_at", H_T0_TEXT);
    CHECK_JSTR(out, "updated_at", h_time(H_T0 + H_HOUR));
    st = h_call(kith_op_program_update, "alpha", NULL, "{\"name\": \"Alpha Two\"}",
                H_T0 + 2 * H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSTR(out, "name", "Alpha Two");
    CHECK_JINT(out, "qualification.hold_days", 14);

    /* a PATCH that makes the program invalid changes nothing */
    st = h_call(kith_op_program_update, "alpha", NULL, "{\"cookie_days\": 0}", H_T0 + 3 * H_HOUR,
                &out);
    CHECK_ERR(st, out, KITH_E_INVALID_PARAM, "cookie_days");
    st = h_call(kith_op_program_update, "alpha", NULL, "{\"id\": \"gamma\"}", H_T0 + 3 * H_HOUR,
                &out);
    CHECK_ERR(st, out, KITH_E_IMMUTABLE, "id");
    out = h_read(kith_op_program_get, "alpha", NULL, H_T0 + 4 * H_HOUR);
    CHECK_JSTR(out, "name", "Alpha Two");
    CHECK_JINT(out, "cookie_days", 30);
    CHECK_JSTR(out, "updated_at", h_time(H_T0 + 2 * H_HOUR));

    st = h_call(kith_op_program_get, "nope", NULL, NULL, H_T0, &out);
    CHECK_ERR(st, out, KITH_E_NOT_FOUND, NULL);
    st = h_call(kith_op_program_update, "nope", NULL, "{\"name\": \"X\"}", H_T0, &out);
    CHECK_ERR(st, out, KITH_E_NOT_FOUND, NULL);
}

static void test_patch_applies_to_what_follows(void)
{
    /* CONTRACT 2: PATCH changes apply to what happens after them: a referral created before a
     * min_amount increase qualifies under the new setting. */
    const char *prog = h_program("{\"qualification\": {\"min_amount\": 100}, \"rewards\": ["
                                 "{\"to\": \"referrer\", \"kind\": \"credit\", \"amount\": 500, "
                                 "\"currency\": \"USD\"}]}");
    json_t *jane = h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\"}", H_T0);
    json_t *out =
        h_signup(h_fmt("{\"external_id\": \"sam\", \"ref\": \"%s\"}", h_str(jane, "code")),
                 H_T0 + H_DAY * 2);
    CHECK_JSTR(out, "referral.status", "pending");
    enum kith_status st =
        h_call(kith_op_program_update, prog, NULL, "{\"qualification\": {\"min_amount\": 10000}}",
               H_T0 + H_DAY * 3, &out);
    CHECK_ST(st, KITH_OK, out);
    out = h_event("{\"type\": \"purchase\", \"external_id\": \"sam\", \"amount\": 5000, "
                  "\"currency\": \"USD\"}",
                  H_T0 + H_DAY * 4);
    CHECK_JSTR(out, "referral.status", "pending");
    CHECK_JLEN(out, "rewards", 0);
    out = h_event("{\"type\": \"purchase\", \"external_id\": \"sam\", \"amount\": 10000, "
                  "\"currency\": \"USD\"}",
                  H_T0 + H_DAY * 5);
    CHECK_JSTR(out, "referral.status", "rewarded");
    CHECK_JLEN(out, "rewards", 1);
}

static void test_reward_cost_high(void)
{
    /* CONTRACT 2: warnings holds "reward_cost_high" when one referral's monetary rewards (the
     * referrer's first tier plus the referred) exceed 20% of average_customer_value: exactly 20%
     * does not warn; later tiers and non-monetary rewards do not count; reads warn too. */
    json_t *out = NULL;
    enum kith_status st = h_call(
        kith_op_program_create, NULL, NULL,
        "{\"id\": \"even\", \"name\": \"N\", " DEST ", \"average_customer_value\": 20000, "
        "\"rewards\": [{\"to\": \"referrer\", \"kind\": \"credit\", \"amount\": 2000, "
        "\"currency\": \"USD\"}, {\"to\": \"referred\", \"kind\": \"discount\", \"amount\": 2000, "
        "\"currency\": \"USD\"}]}",
        H_T0, &out);
    CHECK_ST(st, KITH_CREATED, out);
    CHECK_JSON(out, "warnings", "[]");

    st = h_call(kith_op_program_create, NULL, NULL,
                "{\"id\": \"over\", \"name\": \"N\", " DEST ", \"average_customer_value\": 20000, "
                "\"rewards\": [{\"to\": \"referrer\", \"kind\": \"credit\", \"amount\": 2001, "
                "\"currency\": \"USD\"}, {\"to\": \"referred\", \"kind\": \"discount\", "
                "\"amount\": 2000, \"currency\": \"USD\"}]}",
                H_T0, &out);
    CHECK_ST(st, KITH_CREATED, out);
    CHECK_JSON(out, "warnings", "[\"reward_cost_high\"]");
    out = h_read(kith_op_program_get, "over", NULL, H_T0);
    CHECK_JSON(out, "warnings", "[\"reward_cost_high\"]");

    st = h_call(kith_op_program_create, NULL, NULL,
                "{\"id\": \"tiers\", \"name\": \"N\", " DEST ", \"average_customer_value\": 20000, "
                "\"rewards\": [{\"to\": \"referrer\", \"kind\": \"cash\", \"amount\": 1000, "
                "\"currency\": \"USD\", \"to_count\": 1}, {\"to\": \"referrer\", \"kind\": "
                "\"cash\", \"amount\": 100000, \"currency\": \"USD\", \"from_count\": 2}, "
                "{\"to\": \"referred\", \"kind\": \"gift\", \"description\": \"A hamper\"}]}",
                H_T0, &out);
    CHECK_ST(st, KITH_CREATED, out);
    CHECK_JSON(out, "warnings", "[]");

    /* lowering the customer value makes the even program's rewards too costly */
    st = h_call(kith_op_program_update, "even", NULL, "{\"average_customer_value\": 19999}",
                H_T0 + H_HOUR, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JSON(out, "warnings", "[\"reward_cost_high\"]");
}

int main(void)
{
    RUN_DB(test_create_defaults);
    RUN_DB(test_window_follows_cookie_days);
    RUN_DB(test_patch_cookie_days_moves_default_window);
    RUN_DB(test_validation_names_param);
    RUN_DB(test_duplicate_id);
    RUN_DB(test_get_list_update);
    RUN_DB(test_patch_applies_to_what_follows);
    RUN_DB(test_reward_cost_high);
    h_teardown();
    TEST_DONE();
}
