/*
 * test_sign.c: unit tests for src/webhooks/sign.c: the Standard Webhooks published test vector,
 * new secrets, Stripe-Signature and X-Shopify-Hmac-Sha256 verification (valid, tampered, stale,
 * future, malformed) and the retry schedule with its jitter bounds and Retry-After override.
 * Not for the sender or the network policy, which have their own files.
 */
#include <stdbool.h>

#include "kith/crypto.h"
#include "kith/webhooks.h"
#include "test.h"

static const char *sw_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static const char *sw_body = "{\"test\": 2432232314}";

static void test_standard_webhooks_vector(void)
{
    char sig[KITH_WEBHOOK_SIGNATURE_MAX];
    CHECK_INT(kith_webhook_sign(sw_secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, sw_body,
                                strlen(sw_body), sig),
              KITH_OK);
    CHECK_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");

    /* Another timestamp or body gives another signature. */
    CHECK_INT(kith_webhook_sign(sw_secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, sw_body,
                                strlen(sw_body), sig),
              KITH_OK);
    CHECK(strcmp(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") != 0);
    /* An empty body is allowed (NULL with length 0). */
    CHECK_INT(kith_webhook_sign(sw_secret, "msg_1", 1, NULL, 0, sig), KITH_OK);
    CHECK_INT(strncmp(sig, "v1,", 3), 0);
}

static void test_sign_bad_secret(void)
{
    char sig[KITH_WEBHOOK_SIGNATURE_MAX];
    const char *bad[] = {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                         "whsec_",
                         "whsec_***",
                         "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
                         "wHsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                         "whsec_MfKQ 9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(bad); i++) {
        CHECK_INT(kith_webhook_sign(bad[i], "msg_1", 1, "{}", 2, sig), KITH_E_INVALID_PARAM);
        CHECK_STR(sig, "");
    }
    /* A key longer than 64 bytes is refused (base64 of 66 bytes). */
    char longsecret[KITH_WEBHOOK_SECRET_MAX] = "whsec_";
    uint8_t raw[66] = {0};
    CHECK(kith_crypto_base64_encode(raw, sizeof(raw), longsecret + 6, sizeof(longsecret) - 6));
    CHECK_INT(kith_webhook_sign(longsecret, "msg_1", 1, "{}", 2, sig), KITH_E_INVALID_PARAM);
}

static void test_secret_new(void)
{
    char a[KITH_WEBHOOK_SECRET_MAX], b[KITH_WEBHOOK_SECRET_MAX];
    uint8_t key[64];
    size_t len = 0;
    char sig[KITH_WEBHOOK_SIGNATURE_MAX];
    kith_webhook_secret_new(a);
    kith_webhook_secret_new(b);
    CHECK_INT(strncmp(a, "whsec_", 6), 0);
    CHECK(strcmp(a, b) != 0);
    CHECK(kith_crypto_base64_decode(a + 6, key, sizeof(key), &len));
    CHECK_INT(len, 32);
    CHECK_INT(kith_webhook_sign(a, "msg_x", 1700000000, "{}", 2, sig), KITH_OK);
}

/* A Stripe header "t=<t>,v1=<hex of HMAC(secret, "<t>.<body>")>". */
static void stripe_header(const char *secret, int64_t t, const char *body, char *out, size_t n)
{
    char msg[512];
    uint8_t mac[32];
    char hex[65];
    int len = snprintf(msg, sizeof(msg), "%lld.%s", (long long)t, body);
    kith_crypto_hmac_sha256(secret, strlen(secret), msg, (size_t)len, mac);
    kith_crypto_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
    snprintf(out, n, "t=%lld,v1=%s", (long long)t, hex);
}

static const char *st_secret = "whsec_stripe_test_secret";
static const char *st_body = "{\"id\":\"evt_1\",\"type\":\"invoice.paid\"}";

static bool stripe(const char *header, const char *body, int64_t now)
{
    return kith_stripe_verify(st_secret, header, body, strlen(body), now, 300);
}

static void test_stripe_valid_and_tampered(void)
{
    char h[256];
    int64_t t = 1700000000;
    stripe_header(st_secret, t, st_body, h, sizeof(h));
    CHECK(stripe(h, st_body, t));
    CHECK(stripe(h, st_body, t + 300));
    CHECK(stripe(h, st_body, t - 300));
    /* body changed */
    CHECK(!stripe(h, "{\"id\":\"evt_1\",\"type\":\"invoice.paif\"}", t));
    CHECK(!stripe(h, "", t));
    /* too old and too far in the future */
    CHECK(!stripe(h, st_body, t + 301));
    CHECK(!stripe(h, st_body, t - 301));
    /* wrong secret */
    CHECK(!kith_stripe_verify("whsec_other", h, st_body, strlen(st_body), t, 300));
    /* uppercase hex is the same bytes */
    char up[256];
    kith_strlcpy(up, h, sizeof(up));
    for (char *c = strstr(up, "v1=") + 3; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    CHECK(stripe(up, st_body, t));
}

static void test_stripe_several_signatures(void)
{
    char good[256], bad[256], h[600];
    int64_t t = 1700000000;
    stripe_header(st_secret, t, st_body, good, sizeof(good));
    stripe_header("whsec_rotated_out", t, st_body, bad, sizeof(bad));
    /* second v1 valid */
    snprintf(h, sizeof(h), "%s,v1=%s", bad, strstr(good, "v1=") + 3);
    CHECK(stripe(h, st_body, t));
    /* first v1 valid, then a v0 that is ignored */
    snprintf(h, sizeof(h), "%s,v0=%s", good, strstr(bad, "v1=") + 3);
    CHECK(stripe(h, st_body, t));
    /* v0 only, even carrying the right value */
    snprintf(h, sizeof(h), "t=%lld,v0=%s", (long long)t, strstr(good, "v1=") + 3);
    CHECK(!stripe(h, st_body, t));
    /* t after the signatures is fine */
    snprintf(h, sizeof(h), "v1=%s,t=%lld", strstr(good, "v1=") + 3, (long long)t);
    CHECK(stripe(h, st_body, t));
}

static void test_stripe_malformed(void)
{
    char good[256], h[600];
    int64_t t = 1700000000;
    stripe_header(st_secret, t, st_body, good, sizeof(good));
    const char *hex = strstr(good, "v1=") + 3;
    const char *cases[] = {"", ",", "t=", "v1=", "garbage", "t=1700000000", "t=1700000000,"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(cases); i++)
        CHECK(!stripe(cases[i], st_body, t));
    /* Each case is the text before and after the (valid) hex. */
    const char *cases2[][2] = {
        {"v1=", ""},                           /* missing t */
        {"t=abc,v1=", ""},                     /* non-numeric t */
        {"t=-1700000000,v1=", ""},             /* signed t */
        {"t=1700000000x,v1=", ""},             /* trailing junk */
        {"t=,v1=", ""},                        /* empty t */
        {"t=1700000000,t=1700000000,v1=", ""}, /* two t */
        {"t=1700000000,,v1=", ""},             /* empty item */
        {"t=1700000000,v1=", "0"},             /* too long hex */
        {"t=1700000000,v1=x", ""},             /* not hex */
        {"t=1700000000, v1=", ""},             /* space before key */
        {"t=99999999999999999999,v1=", ""},    /* overflow */
    };
    for (size_t i = 0; i < KITH_ARRAY_LEN(cases2); i++) {
        snprintf(h, sizeof(h), "%s%s%s", cases2[i][0], hex, cases2[i][1]);
        CHECK(!stripe(h, st_body, t));
    }
    /* short hex */
    snprintf(h, sizeof(h), "t=1700000000,v1=%.62s", hex);
    CHECK(!stripe(h, st_body, t));
    CHECK(!kith_stripe_verify(st_secret, NULL, st_body, strlen(st_body), t, 300));
}

static void test_shopify(void)
{
    const char *secret = "shpss_0123456789abcdef";
    const char *body = "{\"id\":820982911946154508,\"total_price\":\"199.00\"}";
    uint8_t mac[32];
    char b64[64];
    kith_crypto_hmac_sha256(secret, strlen(secret), body, strlen(body), mac);
    CHECK(kith_crypto_base64_encode(mac, sizeof(mac), b64, sizeof(b64)));
    CHECK(kith_shopify_verify(secret, b64, body, strlen(body)));
    /* wrong: another body, another secret, one changed character */
    CHECK(!kith_shopify_verify(secret, b64, body, strlen(body) - 1));
    CHECK(!kith_shopify_verify("shpss_other", b64, body, strlen(body)));
    b64[3] = b64[3] == 'A' ? 'B' : 'A';
    CHECK(!kith_shopify_verify(secret, b64, body, strlen(body)));
    /* bad base64 */
    CHECK(!kith_shopify_verify(secret, "!!!notbase64!!!", body, strlen(body)));
    CHECK(!kith_shopify_verify(secret, "", body, strlen(body)));
    CHECK(!kith_shopify_verify(secret, NULL, body, strlen(body)));
    /* wrong length: 31 and 33 bytes, and something huge */
    CHECK(kith_crypto_base64_encode(mac, 31, b64, sizeof(b64)));
    CHECK(!kith_shopify_verify(secret, b64, body, strlen(body)));
    uint8_t mac33[33] = {0};
    memcpy(mac33, mac, 32);
    CHECK(kith_crypto_base64_encode(mac33, 33, b64, sizeof(b64)));
    CHECK(!kith_shopify_verify(secret, b64, body, strlen(body)));
    char huge[400];
    memset(huge, 'A', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    CHECK(!kith_shopify_verify(secret, huge, body, strlen(body)));
}

static void test_retry_schedule(void)
{
    static const int64_t base_s[] = {5, 300, 1800, 7200, 18000, 36000, 36000};
    /* Middle jitter: no shift beyond rounding. The first retry never jitters. */
    for (int a = 1; a <= 7; a++) {
        int64_t base = base_s[a - 1] * 1000;
        int64_t lo = kith_webhook_retry_delay_ms(a, -1, 0);
        int64_t hi = kith_webhook_retry_delay_ms(a, -1, 65535);
        int64_t mid = kith_webhook_retry_delay_ms(a, -1, 32768);
        if (a == 1) {
            CHECK_INT(lo, 5000);
            CHECK_INT(hi, 5000);
            CHECK_INT(mid, 5000);
            continue;
        }
        CHECK_INT(lo, base - base / 10);
        CHECK_INT(hi, base + base / 10);
        CHECK(mid >= base - base / 1000 && mid <= base + base / 1000);
        /* Every jitter stays within the bounds and is monotonic. */
        int64_t prev = lo;
        for (uint32_t j = 0; j <= 65535; j += 4099) {
            int64_t d = kith_webhook_retry_delay_ms(a, -1, j);
            CHECK(d >= base - base / 10 && d <= base + base / 10);
            CHECK(d >= prev);
            prev = d;
        }
        /* Jitter beyond 16 bits is clamped. */
        CHECK_INT(kith_webhook_retry_delay_ms(a, -1, 0xffffffffu), base + base / 10);
    }
    CHECK_INT(kith_webhook_retry_delay_ms(8, -1, 0), -1);
    CHECK_INT(kith_webhook_retry_delay_ms(8, 10, 0), -1);
    CHECK_INT(kith_webhook_retry_delay_ms(100, -1, 0), -1);
}

static void test_retry_after(void)
{
    /* Longer Retry-After replaces the delay; shorter does not. */
    CHECK_INT(kith_webhook_retry_delay_ms(1, 120, 0), 120000);
    CHECK_INT(kith_webhook_retry_delay_ms(1, 2, 0), 5000);
    CHECK_INT(kith_webhook_retry_delay_ms(1, 0, 0), 5000);
    CHECK_INT(kith_webhook_retry_delay_ms(2, 60, 65535), 330000);
    CHECK_INT(kith_webhook_retry_delay_ms(2, 3600, 0), 3600000);
    /* capped at 24 h */
    CHECK_INT(kith_webhook_retry_delay_ms(3, 999999, 0), 86400000);
    CHECK_INT(kith_webhook_retry_delay_ms(7, 90000, 32768), 86400000);
    /* after the 7th retry nothing overrides failure */
    CHECK_INT(kith_webhook_retry_delay_ms(8, 60, 0), -1);
}

int main(void)
{
    if (kith_crypto_init(NULL) != KITH_OK)
        return 1;
    RUN(test_standard_webhooks_vector);
    RUN(test_sign_bad_secret);
    RUN(test_secret_new);
    RUN(test_stripe_valid_and_tampered);
    RUN(test_stripe_several_signatures);
    RUN(test_stripe_malformed);
    RUN(test_shopify);
    RUN(test_retry_schedule);
    RUN(test_retry_after);
    TEST_DONE();
}
