/*
 * fuzz_signatures.c: incoming webhook signatures (src/webhooks/sign.c): the Stripe-Signature and
 * X-Shopify-Hmac-Sha256 headers are attacker-controlled until verified. The input is split at
 * its first '\n' into a header and a body (no '\n': all header, empty body).
 *
 * Two checks per input. Forgery: the header as given must never verify for the body under our
 * secret (the fuzzer cannot compute an HMAC; libsodium's comparisons are not instrumented, so
 * it cannot learn one either), and verification must not crash on any shape of header. Round
 * trip: a header built here the documented way for that same body must verify, and stop
 * verifying when it is stale, tampered with, or signed with another secret.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz_check.h"
#include "kith/crypto.h"
#include "kith/webhooks.h"

#define SECRET "whsec_fuzz_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLc"
#define NOW_S INT64_C(1763805600) /* 2025-11-22T10:00:00Z */
#define TOLERANCE_S 300

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct kith_err err;
    if (kith_crypto_init(&err) != KITH_OK) {
        fprintf(stderr, "crypto init: %s\n", err.message);
        abort();
    }
    return 0;
}

static void round_trip(const char *body, size_t body_len, int64_t t)
{
    uint8_t mac[32];
    char hex[65], header[256], b64[64];
    size_t tlen;
    char msg_head[32];

    /* Stripe: HMAC-SHA256(secret, "<t>.<body>") as lowercase hex. */
    tlen = (size_t)snprintf(msg_head, sizeof(msg_head), "%" PRId64 ".", t);
    char *msg = malloc(tlen + body_len + 1);
    if (msg == NULL)
        abort();
    memcpy(msg, msg_head, tlen);
    if (body_len > 0)
        memcpy(msg + tlen, body, body_len);
    kith_crypto_hmac_sha256(SECRET, strlen(SECRET), msg, tlen + body_len, mac);
    free(msg);
    kith_crypto_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
    bool fresh = NOW_S - t <= TOLERANCE_S && t - NOW_S <= TOLERANCE_S;

    snprintf(header, sizeof(header), "t=%" PRId64 ",v1=%s", t, hex);
    FUZZ_CHECK(kith_stripe_verify(SECRET, header, body, body_len, NOW_S, TOLERANCE_S) == fresh,
               "own header \"%s\" (fresh %d) for %zu-byte body", header, fresh, body_len);
    /* Order, a v0 and a second (wrong) v1 do not matter. */
    snprintf(header, sizeof(header), "v0=00,v1=%064d,v1=%s,t=%" PRId64, 0, hex, t);
    FUZZ_CHECK(kith_stripe_verify(SECRET, header, body, body_len, NOW_S, TOLERANCE_S) == fresh,
               "reordered header \"%s\" (fresh %d)", header, fresh);
    /* Another secret, a flipped digit, a second t=: never. */
    FUZZ_CHECK(!kith_stripe_verify(SECRET "x", header, body, body_len, NOW_S, TOLERANCE_S),
               "\"%s\" verifies under another secret", header);
    snprintf(header, sizeof(header), "t=%" PRId64 ",v1=%s", t, hex);
    char *digit = header + strlen(header) - 1;
    *digit = *digit == '0' ? '1' : '0';
    FUZZ_CHECK(!kith_stripe_verify(SECRET, header, body, body_len, NOW_S, TOLERANCE_S),
               "tampered \"%s\" verifies", header);
    snprintf(header, sizeof(header), "t=%" PRId64 ",t=%" PRId64 ",v1=%s", t, t, hex);
    FUZZ_CHECK(!kith_stripe_verify(SECRET, header, body, body_len, NOW_S, TOLERANCE_S),
               "two t= in \"%s\" verify", header);

    /* Shopify: base64(HMAC-SHA256(secret, body)). */
    kith_crypto_hmac_sha256(SECRET, strlen(SECRET), body_len ? body : "", body_len, mac);
    FUZZ_CHECK(kith_crypto_base64_encode(mac, sizeof(mac), b64, sizeof(b64)), "base64");
    FUZZ_CHECK(kith_shopify_verify(SECRET, b64, body, body_len), "own Shopify \"%s\" for %zu bytes",
               b64, body_len);
    FUZZ_CHECK(!kith_shopify_verify(SECRET "x", b64, body, body_len),
               "Shopify \"%s\" verifies under another secret", b64);
    b64[0] = b64[0] == 'A' ? 'B' : 'A';
    FUZZ_CHECK(!kith_shopify_verify(SECRET, b64, body, body_len), "tampered Shopify \"%s\"", b64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hlen = nl ? (size_t)(nl - data) : size;
    char *header = fuzz_cstr(data, hlen);
    size_t body_len = nl ? size - hlen - 1 : 0;
    /* The body is bytes with a length: an exact-size copy lets ASan see any overread. */
    char *body = malloc(body_len ? body_len : 1);
    if (body == NULL)
        abort();
    if (body_len > 0)
        memcpy(body, nl + 1, body_len);

    FUZZ_CHECK(!kith_stripe_verify(SECRET, header, body, body_len, NOW_S, TOLERANCE_S),
               "forged Stripe-Signature \"%s\" verifies", header);
    FUZZ_CHECK(!kith_stripe_verify(SECRET, header, body, body_len, NOW_S, INT64_MAX / 4),
               "forged Stripe-Signature \"%s\" verifies (wide tolerance)", header);
    FUZZ_CHECK(!kith_shopify_verify(SECRET, header, body, body_len),
               "forged X-Shopify-Hmac-Sha256 \"%s\" verifies", header);

    /* A timestamp near now, steered by the input so both fresh and stale get exercised. */
    int64_t t = NOW_S + (int64_t)(size % 701) - 350;
    round_trip(body, body_len, t);
    free(body);
    free(header);
    return 0;
}
