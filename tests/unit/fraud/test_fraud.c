/*
 * test_fraud.c: unit tests for src/fraud/fraud.c: every signal of CONTRACT section 6 with its
 * clean negative and its boundary, the score and verdict thresholds, the domain sets (parsing,
 * parent-domain matching and its false-positive guard, bounds) and e-mail stems. It does not
 * test how the engine gathers the facts; the black-box tests do.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kith/data.h"
#include "kith/fraud.h"
#include "test.h"

#define HOUR_MS INT64_C(3600000)
#define NOW_MS INT64_C(1800000000000)

/* A referral with no signal at all against the contract's defaults. */
static struct kith_fraud_facts clean_facts(void)
{
    struct kith_fraud_facts f;
    memset(&f, 0, sizeof(f));
    f.referrer_recent = 0;
    f.email_domain = "example.com";
    f.email_ends_in_digits = false;
    f.same_stem_earlier = 0;
    f.now_ms = NOW_MS;
    f.referrer_created_ms = NOW_MS - 30 * 24 * HOUR_MS;
    f.click_host = "blog.example.org";
    return f;
}

static struct kith_fraud_settings default_settings(void)
{
    struct kith_fraud_settings s;
    memset(&s, 0, sizeof(s));
    s.review_at = 3;
    s.reject_at = 4;
    s.velocity_per_day = 10;
    s.new_account_hours = 24;
    return s;
}

static struct kith_domain_set *set_of(const char *text)
{
    struct kith_domain_set *set = NULL;
    struct kith_err err;
    memset(&err, 0, sizeof(err));
    CHECK_INT(kith_domain_set_parse(text, strlen(text), &set, &err), KITH_OK);
    CHECK(set != NULL);
    return set;
}

static void test_clean_referral_has_no_flags(void)
{
    struct kith_fraud_facts f = clean_facts();
    struct kith_fraud_settings s = default_settings();
    unsigned flags = kith_fraud_flags(&f, &s);
    CHECK_INT(flags, 0);
    CHECK_INT(kith_fraud_score(flags), 0);
    CHECK_INT(kith_fraud_verdict(0, &s), KITH_FRAUD_PASS);
}

static void test_match_booleans(void)
{
    struct kith_fraud_settings s = default_settings();
    struct kith_fraud_facts f = clean_facts();
    f.ip_match = true;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_SAME_IP);
    f = clean_facts();
    f.device_match = true;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_SAME_DEVICE);
    f = clean_facts();
    f.payment_match = true;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_SAME_PAYMENT);
}

static void test_velocity_boundary(void)
{
    struct kith_fraud_settings s = default_settings();
    struct kith_fraud_facts f = clean_facts();
    f.referrer_recent = 9;
    CHECK_INT(kith_fraud_flags(&f, &s) & KITH_FRAUD_VELOCITY, 0);
    f.referrer_recent = 10;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_VELOCITY);
    f.referrer_recent = 11;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_VELOCITY);
    s.velocity_per_day = 1;
    f.referrer_recent = 0;
    CHECK_INT(kith_fraud_flags(&f, &s) & KITH_FRAUD_VELOCITY, 0);
    f.referrer_recent = 1;
    CHECK_INT(kith_fraud_flags(&f, &s) & KITH_FRAUD_VELOCITY, KITH_FRAUD_VELOCITY);
}

static void test_new_referrer_boundary(void)
{
    struct kith_fraud_settings s = default_settings();
    struct kith_fraud_facts f = clean_facts();
    /* Exactly 24 h old: not "less than" 24 h, so not new. */
    f.referrer_created_ms = NOW_MS - 24 * HOUR_MS;
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    f.referrer_created_ms = NOW_MS - 24 * HOUR_MS + 1;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_NEW_REFERRER);
    f.referrer_created_ms = NOW_MS - 24 * HOUR_MS - 1;
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    f.referrer_created_ms = NOW_MS;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_NEW_REFERRER);
    /* Stamped after now (clock skew): age 0, still new. */
    f.referrer_created_ms = NOW_MS + HOUR_MS;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_NEW_REFERRER);
    /* A 0-hour window switches the signal off. */
    s.new_account_hours = 0;
    f.referrer_created_ms = NOW_MS;
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
}

static void test_new_referrer_extremes_do_not_overflow(void)
{
    struct kith_fraud_settings s = default_settings();
    struct kith_fraud_facts f = clean_facts();
    f.referrer_created_ms = INT64_MIN;
    f.now_ms = INT64_MAX;
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    f.referrer_created_ms = INT64_MAX;
    f.now_ms = INT64_MIN;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_NEW_REFERRER);
    s.new_account_hours = UINT32_MAX;
    f.referrer_created_ms = 0;
    f.now_ms = 0;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_NEW_REFERRER);
}

static void test_sequential_email(void)
{
    struct kith_fraud_settings s = default_settings();
    struct kith_fraud_facts f = clean_facts();
    f.email_ends_in_digits = true;
    f.same_stem_earlier = 1;
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    f.same_stem_earlier = 2;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_SEQUENTIAL_EMAIL);
    f.same_stem_earlier = 7;
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_SEQUENTIAL_EMAIL);
    /* Earlier look-alikes without trailing digits on this one: not sequential. */
    f.email_ends_in_digits = false;
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
}

static void test_disposable_email(void)
{
    struct kith_domain_set *disp = set_of("mailinator.com\nyopmail.com\n");
    const char *blocked[] = {"Spam.Example"};
    struct kith_fraud_settings s = default_settings();
    s.disposable = disp;
    s.blocked_email_domains = blocked;
    s.blocked_email_count = 1;
    struct kith_fraud_facts f = clean_facts();
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    f.email_domain = "mailinator.com";
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_DISPOSABLE_EMAIL);
    f.email_domain = "eu.MAILINATOR.com";
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_DISPOSABLE_EMAIL);
    f.email_domain = "notmailinator.com";
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    f.email_domain = "spam.example";
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_DISPOSABLE_EMAIL);
    f.email_domain = "x.spam.example";
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_DISPOSABLE_EMAIL);
    f.email_domain = "nospam.example";
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    f.email_domain = NULL;
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    /* No shipped list at all: the program's own list still applies. */
    s.disposable = NULL;
    f.email_domain = "spam.example";
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_DISPOSABLE_EMAIL);
    f.email_domain = "mailinator.com";
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    kith_domain_set_destroy(disp);
}

static void test_coupon_site(void)
{
    struct kith_domain_set *coupons = set_of("retailmenot.com\nslickdeals.net\n");
    const char *blocked[] = {"deals.example"};
    struct kith_fraud_settings s = default_settings();
    s.coupon_sites = coupons;
    s.blocked_referrer_domains = blocked;
    s.blocked_referrer_count = 1;
    struct kith_fraud_facts f = clean_facts();
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    f.click_host = "www.retailmenot.com";
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_COUPON_SITE);
    f.click_host = "slickdeals.net.";
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_COUPON_SITE);
    f.click_host = "deals.example";
    CHECK_INT(kith_fraud_flags(&f, &s), KITH_FRAUD_COUPON_SITE);
    f.click_host = "mydeals.example";
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    f.click_host = "retailmenot.com.evil.example";
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    f.click_host = NULL;
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    f.click_host = "";
    CHECK_INT(kith_fraud_flags(&f, &s), 0);
    kith_domain_set_destroy(coupons);
}

static void test_every_flag_at_once(void)
{
    struct kith_domain_set *disp = set_of("mailinator.com\n");
    struct kith_domain_set *coupons = set_of("retailmenot.com\n");
    struct kith_fraud_settings s = default_settings();
    s.disposable = disp;
    s.coupon_sites = coupons;
    struct kith_fraud_facts f = clean_facts();
    f.ip_match = f.device_match = f.payment_match = true;
    f.referrer_recent = 10;
    f.email_domain = "mailinator.com";
    f.email_ends_in_digits = true;
    f.same_stem_earlier = 2;
    f.referrer_created_ms = NOW_MS - HOUR_MS;
    f.click_host = "retailmenot.com";
    unsigned flags = kith_fraud_flags(&f, &s);
    CHECK_INT(flags, 0xff);
    CHECK_INT(kith_fraud_score(flags), KITH_FRAUD_FLAG_COUNT);
    CHECK_INT(kith_fraud_verdict(kith_fraud_score(flags), &s), KITH_FRAUD_REJECT);
    kith_domain_set_destroy(disp);
    kith_domain_set_destroy(coupons);
}

static void test_score_and_verdict_thresholds(void)
{
    struct kith_fraud_settings s = default_settings();
    unsigned two = KITH_FRAUD_SAME_IP | KITH_FRAUD_VELOCITY;
    unsigned three = two | KITH_FRAUD_NEW_REFERRER;
    unsigned four = three | KITH_FRAUD_COUPON_SITE;
    CHECK_INT(kith_fraud_score(0), 0);
    CHECK_INT(kith_fraud_score(KITH_FRAUD_SEQUENTIAL_EMAIL), 1);
    CHECK_INT(kith_fraud_score(two), 2);
    CHECK_INT(kith_fraud_score(three), 3);
    CHECK_INT(kith_fraud_score(four), 4);
    /* Bits outside the eight flags are not flags. */
    CHECK_INT(kith_fraud_score(0x100u | KITH_FRAUD_SAME_IP), 1);
    CHECK_INT(kith_fraud_verdict(kith_fraud_score(two), &s), KITH_FRAUD_PASS);
    CHECK_INT(kith_fraud_verdict(kith_fraud_score(three), &s), KITH_FRAUD_REVIEW);
    CHECK_INT(kith_fraud_verdict(kith_fraud_score(four), &s), KITH_FRAUD_REJECT);
    CHECK_INT(kith_fraud_verdict(8, &s), KITH_FRAUD_REJECT);
    /* reject_at == review_at: reject wins. */
    s.review_at = 2;
    s.reject_at = 2;
    CHECK_INT(kith_fraud_verdict(1, &s), KITH_FRAUD_PASS);
    CHECK_INT(kith_fraud_verdict(2, &s), KITH_FRAUD_REJECT);
    /* Thresholds above the number of flags: never review, never reject. */
    s.review_at = 9;
    s.reject_at = 9;
    CHECK_INT(kith_fraud_verdict(8, &s), KITH_FRAUD_PASS);
}

static void test_flag_names(void)
{
    static const struct {
        unsigned flag;
        const char *name;
    } names[] = {
        {KITH_FRAUD_SAME_IP, "same_ip"},
        {KITH_FRAUD_SAME_DEVICE, "same_device"},
        {KITH_FRAUD_SAME_PAYMENT, "same_payment"},
        {KITH_FRAUD_VELOCITY, "velocity"},
        {KITH_FRAUD_DISPOSABLE_EMAIL, "disposable_email"},
        {KITH_FRAUD_SEQUENTIAL_EMAIL, "sequential_email"},
        {KITH_FRAUD_NEW_REFERRER, "new_referrer"},
        {KITH_FRAUD_COUPON_SITE, "coupon_site"},
    };
    for (size_t i = 0; i < KITH_ARRAY_LEN(names); i++) {
        CHECK_STR(kith_fraud_flag_name(names[i].flag), names[i].name);
        CHECK_INT(kith_fraud_flag_parse(names[i].name), names[i].flag);
    }
    CHECK_INT(KITH_ARRAY_LEN(names), KITH_FRAUD_FLAG_COUNT);
    CHECK(kith_fraud_flag_name(0) == NULL);
    CHECK(kith_fraud_flag_name(KITH_FRAUD_SAME_IP | KITH_FRAUD_VELOCITY) == NULL);
    CHECK(kith_fraud_flag_name(1u << 8) == NULL);
    CHECK_INT(kith_fraud_flag_parse("SAME_IP"), 0);
    CHECK_INT(kith_fraud_flag_parse("same_ip "), 0);
    CHECK_INT(kith_fraud_flag_parse(""), 0);
    CHECK_INT(kith_fraud_flag_parse(NULL), 0);
}

static void test_set_parse_comments_blanks_crlf_case_duplicates(void)
{
    const char *text = "# a header comment\r\n"
                       "\r\n"
                       "   \t\n"
                       "Mailinator.COM\r\n"
                       "  yopmail.com  \n"
                       "mailinator.com\n"
                       "MAILINATOR.com.\n"
                       "# mailinator.net is only a comment\n"
                       "trashmail.de"; /* no final newline */
    struct kith_domain_set *set = set_of(text);
    CHECK_INT(kith_domain_set_size(set), 3);
    CHECK(kith_domain_set_match(set, "mailinator.com"));
    CHECK(kith_domain_set_match(set, "yopmail.com"));
    CHECK(kith_domain_set_match(set, "trashmail.de"));
    CHECK(!kith_domain_set_match(set, "mailinator.net"));
    CHECK(!kith_domain_set_match(set, "# a header comment"));
    kith_domain_set_destroy(set);
}

static void test_set_parse_empty_and_errors(void)
{
    struct kith_domain_set *set = NULL;
    struct kith_err err;
    memset(&err, 0, sizeof(err));
    CHECK_INT(kith_domain_set_parse(NULL, 0, &set, &err), KITH_OK);
    CHECK_INT(kith_domain_set_size(set), 0);
    CHECK(!kith_domain_set_match(set, "example.com"));
    kith_domain_set_destroy(set);

    set = set_of("# only comments\n\n\n");
    CHECK_INT(kith_domain_set_size(set), 0);
    kith_domain_set_destroy(set);

    set = (struct kith_domain_set *)&err; /* must be reset to NULL on failure */
    CHECK_INT(kith_domain_set_parse(NULL, 5, &set, &err), KITH_E_INVALID_PARAM);
    CHECK(set == NULL);
    CHECK_INT(kith_domain_set_parse("a.com", 5, NULL, &err), KITH_E_INVALID_PARAM);

    kith_domain_set_destroy(NULL);
    CHECK_INT(kith_domain_set_size(NULL), 0);
    CHECK(!kith_domain_set_match(NULL, "example.com"));
}

static void test_set_parse_skips_bad_lines(void)
{
    char text[1024];
    char long_name[300];
    /* 254 characters: one over the limit, so the whole line is skipped, not truncated. */
    memset(long_name, 'a', 250);
    memcpy(long_name + 250, ".com", 5);
    int n = snprintf(text, sizeof(text), "%s\nmail.example with space\nok.example\n.\n", long_name);
    CHECK(n > 0 && (size_t)n < sizeof(text));
    struct kith_domain_set *set = NULL;
    struct kith_err err;
    CHECK_INT(kith_domain_set_parse(text, (size_t)n, &set, &err), KITH_OK);
    CHECK_INT(kith_domain_set_size(set), 1);
    CHECK(kith_domain_set_match(set, "ok.example"));
    CHECK(!kith_domain_set_match(set, long_name));
    CHECK(!kith_domain_set_match(set, "mail.example"));
    kith_domain_set_destroy(set);

    /* An embedded NUL byte never smuggles in a name; the parse reads len bytes exactly. */
    static const char with_nul[] = "bad\0name.example\ngood.example\nlast.example";
    set = NULL;
    CHECK_INT(kith_domain_set_parse(with_nul, sizeof(with_nul) - 1 - 13, &set, &err), KITH_OK);
    CHECK_INT(kith_domain_set_size(set), 1);
    CHECK(kith_domain_set_match(set, "good.example"));
    CHECK(!kith_domain_set_match(set, "bad"));
    CHECK(!kith_domain_set_match(set, "last.example"));
    kith_domain_set_destroy(set);

    /* Exactly 253 characters is a valid name. */
    char max_name[260];
    memset(max_name, 'b', 249);
    memcpy(max_name + 249, ".com", 5);
    CHECK_INT(strlen(max_name), 253);
    set = set_of(max_name);
    CHECK_INT(kith_domain_set_size(set), 1);
    CHECK(kith_domain_set_match(set, max_name));
    kith_domain_set_destroy(set);
}

static void test_set_subdomains_and_false_positive_guard(void)
{
    struct kith_domain_set *set = set_of("mailinator.com\nco.example\nzzz.com\naaa.com\n");
    CHECK(kith_domain_set_match(set, "mailinator.com"));
    CHECK(kith_domain_set_match(set, "a.b.mailinator.com"));
    CHECK(kith_domain_set_match(set, "A.B.MailInator.Com"));
    CHECK(kith_domain_set_match(set, "mailinator.com."));
    CHECK(kith_domain_set_match(set, "x.mailinator.com."));
    CHECK(!kith_domain_set_match(set, "notmailinator.com"));
    CHECK(!kith_domain_set_match(set, "mailinator.com.evil.example"));
    CHECK(!kith_domain_set_match(set, "mailinator.co"));
    CHECK(!kith_domain_set_match(set, "com"));
    CHECK(!kith_domain_set_match(set, "mailinator.com.."));
    CHECK(!kith_domain_set_match(set, "."));
    CHECK(!kith_domain_set_match(set, ""));
    CHECK(!kith_domain_set_match(set, NULL));
    CHECK(kith_domain_set_match(set, "aaa.com"));
    CHECK(kith_domain_set_match(set, "zzz.com"));
    CHECK(!kith_domain_set_match(set, "mmm.com"));
    kith_domain_set_destroy(set);
}

static void test_set_bounds_long_hosts(void)
{
    struct kith_domain_set *set = set_of("mailinator.com\n");
    char host[400];
    /* 253 characters ending in the listed domain: matches. */
    memset(host, 'a', sizeof(host));
    for (size_t i = 63; i < 238; i += 64)
        host[i] = '.';
    memcpy(host + 238, ".mailinator.com", 16);
    CHECK_INT(strlen(host), 253);
    CHECK(kith_domain_set_match(set, host));
    /* The same with a trailing dot (254 written): still the same 253-character name. */
    host[253] = '.';
    host[254] = '\0';
    CHECK(kith_domain_set_match(set, host));
    /* 254 characters without the dot: never matches, whatever its suffix. */
    memset(host, 'a', sizeof(host));
    for (size_t i = 63; i < 239; i += 64)
        host[i] = '.';
    memcpy(host + 239, ".mailinator.com", 16);
    CHECK_INT(strlen(host), 254);
    CHECK(!kith_domain_set_match(set, host));
    /* Far longer, and the list variant follows the same bound. */
    memset(host, 'a', sizeof(host) - 20);
    memcpy(host + sizeof(host) - 20, ".mailinator.com", 16);
    CHECK(!kith_domain_set_match(set, host));
    const char *list[] = {"mailinator.com"};
    CHECK(!kith_domain_list_match(list, 1, host));
    kith_domain_set_destroy(set);
}

static void test_list_match(void)
{
    const char *list[] = {"Deals.Example", NULL, "", "shop.test."};
    CHECK(kith_domain_list_match(list, 4, "deals.example"));
    CHECK(kith_domain_list_match(list, 4, "www.deals.example"));
    CHECK(kith_domain_list_match(list, 4, "WWW.DEALS.EXAMPLE."));
    CHECK(kith_domain_list_match(list, 4, "a.shop.test"));
    CHECK(!kith_domain_list_match(list, 4, "mydeals.example"));
    CHECK(!kith_domain_list_match(list, 4, "deals.example.org"));
    CHECK(!kith_domain_list_match(list, 4, "example"));
    CHECK(!kith_domain_list_match(list, 4, ""));
    CHECK(!kith_domain_list_match(list, 4, NULL));
    /* n bounds the list: the entry past it is not read. */
    CHECK(!kith_domain_list_match(list, 1, "shop.test"));
    CHECK(!kith_domain_list_match(list, 0, "deals.example"));
    CHECK(!kith_domain_list_match(NULL, 3, "deals.example"));
}

static void test_email_stem(void)
{
    char domain[64], stem[64];
    bool digits = true;
    CHECK(kith_fraud_email_stem("anna17@mail.com", domain, sizeof(domain), stem, sizeof(stem),
                                &digits));
    CHECK_STR(domain, "mail.com");
    CHECK_STR(stem, "anna");
    CHECK(digits);

    CHECK(kith_fraud_email_stem("anna@mail.com", domain, sizeof(domain), stem, sizeof(stem),
                                &digits));
    CHECK_STR(stem, "anna");
    CHECK(!digits);

    /* Only trailing digits go; inner ones stay. */
    CHECK(
        kith_fraud_email_stem("a1b2c33@x.io", domain, sizeof(domain), stem, sizeof(stem), &digits));
    CHECK_STR(stem, "a1b2c");
    CHECK(digits);

    /* All digits: the stem is empty, and that is still a stem. */
    CHECK(kith_fraud_email_stem("12345@x.io", domain, sizeof(domain), stem, sizeof(stem), &digits));
    CHECK_STR(stem, "");
    CHECK_STR(domain, "x.io");
    CHECK(digits);

    /* The last '@' splits. */
    CHECK(kith_fraud_email_stem("\"a@b\"9@x.io", domain, sizeof(domain), stem, sizeof(stem),
                                &digits));
    CHECK_STR(stem, "\"a@b\"");
    CHECK_STR(domain, "x.io");
    CHECK(digits);
}

static void test_email_stem_malformed_and_bounds(void)
{
    char domain[16], stem[8];
    bool digits = true;
    CHECK(
        !kith_fraud_email_stem("no-at-sign", domain, sizeof(domain), stem, sizeof(stem), &digits));
    CHECK(!digits);
    CHECK_STR(domain, "");
    CHECK(!kith_fraud_email_stem("@mail.com", domain, sizeof(domain), stem, sizeof(stem), &digits));
    CHECK(!kith_fraud_email_stem("anna@", domain, sizeof(domain), stem, sizeof(stem), &digits));
    CHECK(!kith_fraud_email_stem("a@b@", domain, sizeof(domain), stem, sizeof(stem), &digits));
    CHECK(!kith_fraud_email_stem("", domain, sizeof(domain), stem, sizeof(stem), &digits));
    CHECK(!kith_fraud_email_stem(NULL, domain, sizeof(domain), stem, sizeof(stem), &digits));
    CHECK(!kith_fraud_email_stem("a@b.c", NULL, 0, stem, sizeof(stem), &digits));
    CHECK(!kith_fraud_email_stem("a@b.c", domain, sizeof(domain), NULL, 0, &digits));

    /* Fits exactly: 7 characters + NUL in stem[8], 15 + NUL in domain[16]. */
    CHECK(kith_fraud_email_stem("abcdefg@abcdefghijk.com", domain, sizeof(domain), stem,
                                sizeof(stem), &digits));
    CHECK_STR(stem, "abcdefg");
    CHECK_STR(domain, "abcdefghijk.com");
    /* Digits do not count against the stem buffer, since they are not copied. */
    CHECK(kith_fraud_email_stem("abcdefg123456@a.b", domain, sizeof(domain), stem, sizeof(stem),
                                &digits));
    CHECK_STR(stem, "abcdefg");
    CHECK(digits);
    /* One over: refused, and the outputs are left empty. */
    CHECK(!kith_fraud_email_stem("abcdefgh@a.b", domain, sizeof(domain), stem, sizeof(stem),
                                 &digits));
    CHECK_STR(stem, "");
    CHECK(!kith_fraud_email_stem("a@abcdefghijkl.com", domain, sizeof(domain), stem, sizeof(stem),
                                 &digits));
    CHECK_STR(domain, "");

    /* ends_in_digits may be NULL. */
    CHECK(kith_fraud_email_stem("a1@b.c", domain, sizeof(domain), stem, sizeof(stem), NULL));
    CHECK_STR(stem, "a");

    /* An absurdly long address is refused before anything is copied. */
    char big[2048];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[5] = '@';
    char big_domain[4096], big_stem[4096];
    CHECK(!kith_fraud_email_stem(big, big_domain, sizeof(big_domain), big_stem, sizeof(big_stem),
                                 &digits));
}

/* The lists embedded from data/: they parse, hold what they should, and spare the big mailers. */
static void test_shipped_lists(void)
{
    struct kith_domain_set *disp = NULL, *coupons = NULL;
    struct kith_err err;
    CHECK_INT(kith_domain_set_parse(kith_data_disposable_email_domains,
                                    kith_data_disposable_email_domains_len, &disp, &err),
              KITH_OK);
    CHECK_INT(
        kith_domain_set_parse(kith_data_coupon_sites, kith_data_coupon_sites_len, &coupons, &err),
        KITH_OK);
    CHECK(kith_domain_set_size(disp) > 4000);
    CHECK(kith_domain_set_size(coupons) >= 60);
    CHECK(kith_domain_set_match(disp, "mailinator.com"));
    CHECK(kith_domain_set_match(disp, "yopmail.com"));
    CHECK(kith_domain_set_match(disp, "guerrillamail.com"));
    CHECK(kith_domain_set_match(disp, "x.10minutemail.com"));
    static const char *const real[] = {"gmail.com",   "googlemail.com", "outlook.com",
                                       "hotmail.com", "yahoo.com",      "icloud.com",
                                       "aol.com",     "proton.me",      "gmx.de"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(real); i++)
        CHECK(!kith_domain_set_match(disp, real[i]));
    CHECK(kith_domain_set_match(coupons, "www.retailmenot.com"));
    CHECK(kith_domain_set_match(coupons, "slickdeals.net"));
    CHECK(!kith_domain_set_match(coupons, "google.com"));
    CHECK(!kith_domain_set_match(coupons, "example.com"));
    /* Header comments are comments, not names. */
    CHECK(!kith_domain_set_match(disp, "#"));
    kith_domain_set_destroy(disp);
    kith_domain_set_destroy(coupons);
}

static void test_null_inputs_are_safe(void)
{
    struct kith_fraud_facts f = clean_facts();
    struct kith_fraud_settings s = default_settings();
    CHECK_INT(kith_fraud_flags(NULL, &s), 0);
    CHECK_INT(kith_fraud_flags(&f, NULL), 0);
    CHECK_INT(kith_fraud_verdict(8, NULL), KITH_FRAUD_PASS);
}

int main(void)
{
    RUN(test_clean_referral_has_no_flags);
    RUN(test_match_booleans);
    RUN(test_velocity_boundary);
    RUN(test_new_referrer_boundary);
    RUN(test_new_referrer_extremes_do_not_overflow);
    RUN(test_sequential_email);
    RUN(test_disposable_email);
    RUN(test_coupon_site);
    RUN(test_every_flag_at_once);
    RUN(test_score_and_verdict_thresholds);
    RUN(test_flag_names);
    RUN(test_set_parse_comments_blanks_crlf_case_duplicates);
    RUN(test_set_parse_empty_and_errors);
    RUN(test_set_parse_skips_bad_lines);
    RUN(test_set_subdomains_and_false_positive_guard);
    RUN(test_set_bounds_long_hosts);
    RUN(test_list_match);
    RUN(test_email_stem);
    RUN(test_email_stem_malformed_and_bounds);
    RUN(test_shipped_lists);
    RUN(test_null_inputs_are_safe);
    TEST_DONE();
}
