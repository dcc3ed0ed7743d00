/*
 * sign.c: the signatures kith puts on its outgoing webhooks (Standard Webhooks), the checks it
 * runs on inbound provider events (Stripe-Signature, X-Shopify-Hmac-Sha256) and the retry
 * schedule. Pure apart from the randomness of a new secret: no I/O, no clock (callers pass
 * now_s), no logging. It is not for deciding what a verified event means; that is the engine's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith/crypto.h"
#include "kith/webhooks.h"

#define SECRET_PREFIX "whsec_"
#define SECRET_PREFIX_LEN 6
#define SECRET_KEY_MAX 64   /* bytes after decoding, per KITH_WEBHOOK_SECRET_MAX */
#define SECRET_NEW_BYTES 32 /* fits the contract's 24..64 */
#define STRIPE_T_DIGITS_MAX 15
#define SHOPIFY_B64_MAX 64 /* base64 of 32 bytes is 44 characters; leave room, reject beyond */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();
    return p;
}

void kith_webhook_secret_new(char out[KITH_WEBHOOK_SECRET_MAX])
{
    uint8_t key[SECRET_NEW_BYTES];
    kith_crypto_random(key, sizeof(key));
    memcpy(out, SECRET_PREFIX, SECRET_PREFIX_LEN);
    if (!kith_crypto_base64_encode(key, sizeof(key), out + SECRET_PREFIX_LEN,
                                   KITH_WEBHOOK_SECRET_MAX - SECRET_PREFIX_LEN))
        abort(); /* 44 characters always fit in 122 */
    kith_crypto_wipe(key, sizeof(key));
}

enum kith_status kith_webhook_sign(const char *secret, const char *msg_id, int64_t timestamp_s,
                                   const char *body, size_t body_len,
                                   char out[KITH_WEBHOOK_SIGNATURE_MAX])
{
    enum kith_status st = KITH_OK;
    uint8_t key[SECRET_KEY_MAX + 4];
    uint8_t mac[32];
    size_t key_len = 0;
    char *msg = NULL;
    char ts[24];

    out[0] = '\0';
    if (secret == NULL || msg_id == NULL || (body == NULL && body_len > 0) ||
        strncmp(secret, SECRET_PREFIX, SECRET_PREFIX_LEN) != 0 ||
        strlen(secret) >= KITH_WEBHOOK_SECRET_MAX) {
        st = KITH_E_INVALID_PARAM;
        goto out;
    }
    if (!kith_crypto_base64_decode(secret + SECRET_PREFIX_LEN, key, sizeof(key), &key_len) ||
        key_len == 0 || key_len > SECRET_KEY_MAX) {
        st = KITH_E_INVALID_PARAM;
        goto out;
    }
    int ts_len = snprintf(ts, sizeof(ts), "%lld", (long long)timestamp_s);
    size_t id_len = strlen(msg_id);
    size_t total = id_len + 1 + (size_t)ts_len + 1 + body_len;
    msg = xmalloc(total);
    memcpy(msg, msg_id, id_len);
    msg[id_len] = '.';
    memcpy(msg + id_len + 1, ts, (size_t)ts_len);
    msg[id_len + 1 + (size_t)ts_len] = '.';
    if (body_len > 0)
        memcpy(msg + id_len + 2 + (size_t)ts_len, body, body_len);
    kith_crypto_hmac_sha256(key, key_len, msg, total, mac);
    memcpy(out, "v1,", 3);
    if (!kith_crypto_base64_encode(mac, sizeof(mac), out + 3, KITH_WEBHOOK_SIGNATURE_MAX - 3))
        abort(); /* 44 characters always fit */
out:
    free(msg);
    kith_crypto_wipe(key, sizeof(key));
    kith_crypto_wipe(mac, sizeof(mac));
    return st;
}

/* Unsigned decimal of 1..STRIPE_T_DIGITS_MAX digits, nothing else. */
static bool parse_unix(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    if (len == 0 || len > STRIPE_T_DIGITS_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Does the 64-hex-digit value at v (vlen bytes) equal mac? Length is public; bytes are not. */
static bool hex_matches(const char *v, size_t vlen, const uint8_t mac[32])
{
    char hex[65];
    uint8_t got[32];
    bool eq;
    if (vlen != 64)
        return false;
    memcpy(hex, v, 64);
    hex[64] = '\0';
    if (!kith_crypto_hex2bin(got, sizeof(got), hex))
        return false;
    eq = kith_crypto_equal(got, mac, 32);
    kith_crypto_wipe(got, sizeof(got));
    return eq;
}

bool kith_stripe_verify(const char *secret, const char *header, const char *body, size_t body_len,
                        int64_t now_s, int64_t tolerance_s)
{
    const char *t_str = NULL;
    size_t t_len = 0;
    int64_t t = 0;
    size_t v1_count = 0;
    bool valid = false;
    char *msg = NULL;
    uint8_t mac[32];

    if (secret == NULL || header == NULL || (body == NULL && body_len > 0) || tolerance_s < 0)
        return false;

    /* First pass: find exactly one t= and at least one v1=; anything without '=' is malformed. */
    for (const char *p = header;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq == NULL || eq == p)
            return false;
        size_t klen = (size_t)(eq - p);
        if (klen == 1 && p[0] == 't') {
            if (t_str != NULL)
                return false;
            t_str = eq + 1;
            t_len = len - 2;
        } else if (klen == 2 && p[0] == 'v' && p[1] == '1') {
            v1_count++;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (t_str == NULL || v1_count == 0 || !parse_unix(t_str, t_len, &t))
        return false;
    /* Both values are bounded to 15 digits by the parser and the caller's clock. */
    if (now_s - t > tolerance_s || t - now_s > tolerance_s)
        return false;

    size_t total = t_len + 1 + body_len;
    msg = xmalloc(total);
    memcpy(msg, t_str, t_len);
    msg[t_len] = '.';
    if (body_len > 0)
        memcpy(msg + t_len + 1, body, body_len);
    kith_crypto_hmac_sha256(secret, strlen(secret), msg, total, mac);
    free(msg);

    /* Second pass: every v1 is compared, so timing does not reveal which one matched. */
    for (const char *p = header;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 3 && p[0] == 'v' && p[1] == '1' && p[2] == '=')
            valid |= hex_matches(p + 3, len - 3, mac);
        if (end == NULL)
            break;
        p = end + 1;
    }
    kith_crypto_wipe(mac, sizeof(mac));
    return valid;
}

bool kith_shopify_verify(const char *secret, const char *hmac_b64, const char *body,
                         size_t body_len)
{
    uint8_t got[SHOPIFY_B64_MAX];
    uint8_t mac[32];
    size_t got_len = 0;
    bool eq;

    if (secret == NULL || hmac_b64 == NULL || (body == NULL && body_len > 0))
        return false;
    if (strlen(hmac_b64) > SHOPIFY_B64_MAX ||
        !kith_crypto_base64_decode(hmac_b64, got, sizeof(got), &got_len) || got_len != 32)
        return false;
    kith_crypto_hmac_sha256(secret, strlen(secret), body_len ? body : "", body_len, mac);
    eq = kith_crypto_equal(got, mac, 32);
    kith_crypto_wipe(mac, sizeof(mac));
    return eq;
}

/* The delays of retries 1..7, in seconds (the contract's section 11; docs/api/reference.md,
 * Webhooks). */
static const int64_t retry_base_s[] = {5,        5 * 60,    30 * 60,  2 * 3600,
                                       5 * 3600, 10 * 3600, 10 * 3600};

#define RETRY_AFTER_CAP_S KITH_S_PER_DAY
#define JITTER_SPAN 65535

int64_t kith_webhook_retry_delay_ms(int attempt, int64_t retry_after_s, uint32_t jitter)
{
    /* Attempt 0 or below is a caller's slip; treat it as the first retry rather than fail. */
    if (attempt < 1)
        attempt = 1;
    if (attempt > (int)KITH_ARRAY_LEN(retry_base_s))
        return -1;
    int64_t base_ms = retry_base_s[attempt - 1] * 1000;
    int64_t delay_ms = base_ms;
    if (attempt > 1) {
        /* jitter 0 -> -10%, 32767.5 -> 0, 65535 -> +10%: linear, exact at both ends. */
        int64_t j = jitter > JITTER_SPAN ? JITTER_SPAN : (int64_t)jitter;
        delay_ms += (base_ms / 10) * (2 * j - JITTER_SPAN) / JITTER_SPAN;
    }
    if (retry_after_s >= 0) {
        int64_t ra_ms =
            (retry_after_s > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : retry_after_s) * 1000;
        if (ra_ms > delay_ms)
            delay_ms = ra_ms;
    }
    return delay_ms;
}
