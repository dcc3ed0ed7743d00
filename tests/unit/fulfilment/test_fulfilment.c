/*
 * test_fulfilment.c: the pure rules of reward fulfilment (src/fulfilment): method names and
 * fits, Stripe's form encoding, Idempotency-Keys, the retry verdict, calendar months, trials,
 * promotion codes, major units and CSV fields.
 */
#include "kith/fulfilment.h"
#include "test.h"

static void test_methods(void)
{
    enum kith_fulfil_method m;
    const char *names[] = {"none",         "stripe_balance", "stripe_coupon",
                           "stripe_trial", "payout",         "claim"};
    for (int i = 0; i < KITH_FULFIL_METHOD_COUNT; i++) {
        CHECK(kith_fulfil_method_parse(names[i], &m));
        CHECK_INT(m, i);
        CHECK_STR(kith_fulfil_method_name(m), names[i]);
    }
    CHECK(!kith_fulfil_method_parse("stripe", &m));
    CHECK(!kith_fulfil_method_parse("", &m));
    CHECK(!kith_fulfil_method_parse(NULL, &m));
    CHECK(kith_fulfil_method_is_stripe(KITH_FULFIL_STRIPE_TRIAL));
    CHECK(!kith_fulfil_method_is_stripe(KITH_FULFIL_PAYOUT));
}

static void test_fits(void)
{
    CHECK(kith_fulfil_method_fits(KITH_FULFIL_STRIPE_BALANCE, KITH_REWARD_KIND_CREDIT));
    CHECK(kith_fulfil_method_fits(KITH_FULFIL_STRIPE_COUPON, KITH_REWARD_KIND_DISCOUNT));
    CHECK(kith_fulfil_method_fits(KITH_FULFIL_PAYOUT, KITH_REWARD_KIND_CASH));
    CHECK(!kith_fulfil_method_fits(KITH_FULFIL_STRIPE_BALANCE, KITH_REWARD_KIND_GIFT));
    CHECK(!kith_fulfil_method_fits(KITH_FULFIL_PAYOUT, KITH_REWARD_KIND_FREE_MONTH));
    CHECK(kith_fulfil_method_fits(KITH_FULFIL_STRIPE_TRIAL, KITH_REWARD_KIND_FREE_MONTH));
    CHECK(
        kith_fulfil_method_fits(KITH_FULFIL_STRIPE_TRIAL, KITH_REWARD_KIND_SUBSCRIPTION_EXTENSION));
    CHECK(!kith_fulfil_method_fits(KITH_FULFIL_STRIPE_TRIAL, KITH_REWARD_KIND_CREDIT));
    CHECK(kith_fulfil_method_fits(KITH_FULFIL_CLAIM, KITH_REWARD_KIND_EXPERIENCE));
    CHECK(kith_fulfil_method_fits(KITH_FULFIL_NONE, KITH_REWARD_KIND_RECOGNITION));
}

static void test_form(void)
{
    struct kith_buf b = {0};
    kith_form_add_int(&b, "amount", -2500);
    kith_form_add(&b, "currency", "usd");
    kith_form_add(&b, "metadata[kith_reward]", "rwd_abc");
    kith_form_add(&b, "description", "Referral reward: Jane & co = 100%");
    kith_form_add(&b, "name", "caf\xc3\xa9 ~ok_-.");
    CHECK_STR(kith_buf_cstr(&b),
              "amount=-2500&currency=usd&metadata%5Bkith_reward%5D=rwd_abc"
              "&description=Referral%20reward%3A%20Jane%20%26%20co%20%3D%20100%25"
              "&name=caf%C3%A9%20~ok_-.");
    kith_buf_dispose(&b);
    kith_form_encode(&b, "metadata['kith_external_id']:'u 1'");
    CHECK_STR(kith_buf_cstr(&b), "metadata%5B%27kith_external_id%27%5D%3A%27u%201%27");
    kith_buf_dispose(&b);
}

static void test_keys(void)
{
    char key[KITH_FULFIL_IDEM_MAX];
    kith_fulfil_idem_key("rwd_x1", 1, NULL, key);
    CHECK_STR(key, "kith-rwd_x1-1");
    kith_fulfil_idem_key("rwd_x1", 2, "", key);
    CHECK_STR(key, "kith-rwd_x1-2");
    kith_fulfil_idem_key("rwd_x1", 3, "code", key);
    CHECK_STR(key, "kith-rwd_x1-3-code");
}

static void test_retryable(void)
{
    CHECK(kith_fulfil_retryable(0, -1));
    CHECK(kith_fulfil_retryable(409, -1));
    CHECK(kith_fulfil_retryable(429, -1));
    CHECK(kith_fulfil_retryable(500, -1));
    CHECK(kith_fulfil_retryable(503, -1));
    CHECK(kith_fulfil_retryable(599, -1));
    CHECK(!kith_fulfil_retryable(200, -1));
    CHECK(!kith_fulfil_retryable(400, -1));
    CHECK(!kith_fulfil_retryable(401, -1));
    CHECK(!kith_fulfil_retryable(402, -1));
    CHECK(!kith_fulfil_retryable(404, -1));
    /* Stripe-Should-Retry decides when present; without an answer there is no header. */
    CHECK(!kith_fulfil_retryable(500, 0));
    CHECK(kith_fulfil_retryable(400, 1));
    CHECK(kith_fulfil_retryable(409, 1));
    CHECK(kith_fulfil_retryable(0, 0));
}

static void test_months(void)
{
    /* 2026-01-31T10:00:00Z + 1 month = 2026-02-28T10:00:00Z (clamped) */
    CHECK_INT(kith_fulfil_add_months(1769853600, 1), 1772272800);
    /* 2028-01-31 + 1 month = 2028-02-29 (leap year) */
    CHECK_INT(kith_fulfil_add_months(1832925600, 1), 1835431200);
    /* 2026-11-15T00:00:00Z + 3 months = 2027-02-15T00:00:00Z */
    CHECK_INT(kith_fulfil_add_months(1794700800, 3), 1802649600);
    /* + 12 months = the same day next year */
    CHECK_INT(kith_fulfil_add_months(1794700800, 12), 1826236800);
    CHECK_INT(kith_fulfil_add_months(1794700800, 0), 1794700800);
    /* before 1970 too */
    CHECK_INT(kith_fulfil_add_months(-86400, 1), 2592000);
}

static void test_trial_end(void)
{
    int64_t now = 1794700800; /* 2026-11-15 */
    /* no trial, period paid until 2026-12-01: one month from then */
    CHECK_INT(kith_fulfil_trial_end(now, 0, 1796083200, 1), 1798761600);
    /* trialing until 2026-12-20, period end earlier: from the trial's end */
    CHECK_INT(kith_fulfil_trial_end(now, 1797724800, 1796083200, 1),
              kith_fulfil_add_months(1797724800, 1));
    /* both in the past: from now */
    CHECK_INT(kith_fulfil_trial_end(now, 1000, 2000, 2), kith_fulfil_add_months(now, 2));
}

static void test_promo_code(void)
{
    const uint8_t rnd[8] = {0, 1, 31, 32, 255, 8, 9, 16};
    char code[KITH_FULFIL_PROMO_CODE_MAX];
    kith_fulfil_promo_code("JANE-2847", rnd, code);
    CHECK_STR(code, "JANE2823Z2ZABJ");
    kith_fulfil_promo_code("", rnd, code);
    CHECK_STR(code, "23Z2ZABJ");
    kith_fulfil_promo_code("jo", rnd, code);
    CHECK_STR(code, "JO23Z2ZABJ");
    kith_fulfil_promo_code(NULL, rnd, code);
    CHECK_INT(strlen(code), 8);
}

static void test_major_units(void)
{
    char out[32];
    kith_fulfil_major_units(2500, "USD", out);
    CHECK_STR(out, "25.00");
    kith_fulfil_major_units(5, "EUR", out);
    CHECK_STR(out, "0.05");
    kith_fulfil_major_units(-150, "USD", out);
    CHECK_STR(out, "-1.50");
    kith_fulfil_major_units(500, "JPY", out);
    CHECK_STR(out, "500");
    kith_fulfil_major_units(1500, "KWD", out);
    CHECK_STR(out, "1.500");
    kith_fulfil_major_units(INT64_MIN, "USD", out);
    CHECK_STR(out, "-92233720368547758.08");
    CHECK_INT(kith_fulfil_currency_exponent(NULL), 2);
}

static void test_csv_field(void)
{
    struct kith_buf b = {0};
    kith_fulfil_csv_field(&b, "plain@example.com");
    kith_buf_str(&b, "|");
    kith_fulfil_csv_field(&b, "Thanks, Jane");
    kith_buf_str(&b, "|");
    kith_fulfil_csv_field(&b, "say \"hi\"");
    kith_buf_str(&b, "|");
    kith_fulfil_csv_field(&b, "two\nlines");
    kith_buf_str(&b, "|");
    kith_fulfil_csv_field(&b, NULL);
    CHECK_STR(kith_buf_cstr(&b),
              "plain@example.com|\"Thanks, Jane\"|\"say \"\"hi\"\"\"|\"two\nlines\"|");
    kith_buf_dispose(&b);
}

int main(void)
{
    RUN(test_methods);
    RUN(test_fits);
    RUN(test_form);
    RUN(test_keys);
    RUN(test_retryable);
    RUN(test_months);
    RUN(test_trial_end);
    RUN(test_promo_code);
    RUN(test_major_units);
    RUN(test_csv_field);
    TEST_DONE();
}
