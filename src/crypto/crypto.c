/*
 * crypto.c: kith's only user of <sodium.h>. Everything random or hashed passes through here so
 * the choice of primitives lives in one place: BLAKE2b (crypto_generichash) for keyed and plain
 * digests, randombytes for identifiers and secrets.
 */
#include <assert.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "kith/crypto.h"

_Static_assert(KITH_CRYPTO_SHORTHASH_KEY_BYTES == crypto_shorthash_siphashx24_KEYBYTES,
               "SipHash key size");

enum kith_status kith_crypto_init(struct kith_err *err)
{
    if (sodium_init() < 0)
        return kith_err_set(err, KITH_E_INTERNAL, NULL, "libsodium failed to initialise");
    return KITH_OK;
}

static void pool_bytes(uint8_t *out, size_t n);

void kith_crypto_random(void *buf, size_t n)
{
    pool_bytes(buf, n);
}

uint32_t kith_crypto_uniform(uint32_t upper)
{
    return randombytes_uniform(upper);
}

static const char base32[] = "abcdefghijkmnpqrstuvwxyz23456789";

/*
 * Identifiers are made on the redirect path for every click: draw their bytes from a per-thread
 * pool refilled 4 KiB at a time, instead of one getrandom() call each. The pool holds output of
 * the system CSPRNG and is wiped as it is used.
 */
static _Thread_local uint8_t pool[4096];
static _Thread_local size_t pool_left;

static void pool_bytes(uint8_t *out, size_t n)
{
    if (n > sizeof(pool)) {
        randombytes_buf(out, n);
        return;
    }
    if (pool_left < n) {
        randombytes_buf(pool, sizeof(pool));
        pool_left = sizeof(pool);
    }
    uint8_t *from = pool + sizeof(pool) - pool_left;
    memcpy(out, from, n);
    sodium_memzero(from, n);
    pool_left -= n;
}

static void random_chars(char *out, size_t n)
{
    uint8_t rnd[64];
    pool_bytes(rnd, n);
    for (size_t i = 0; i < n; i++)
        out[i] = base32[rnd[i] & 31];
    out[n] = '\0';
}

void kith_crypto_random_id(const char *prefix, char out[KITH_ID_MAX])
{
    size_t plen = kith_strlcpy(out, prefix, KITH_ID_MAX - 25);
    if (plen > KITH_ID_MAX - 26)
        plen = KITH_ID_MAX - 26;
    random_chars(out + plen, 24);
}

void kith_crypto_time_id(const char *prefix, int64_t time_ms, char out[KITH_ID_MAX])
{
    static const char sortable[] = "0123456789abcdefghjkmnpqrstvwxyz";
    size_t plen = kith_strlcpy(out, prefix, KITH_ID_MAX - 25);
    if (plen > KITH_ID_MAX - 26)
        plen = KITH_ID_MAX - 26;
    uint64_t t = time_ms < 0 ? 0 : (uint64_t)time_ms;
    for (int i = 8; i >= 0; i--) {
        out[plen + (size_t)i] = sortable[t & 31];
        t >>= 5;
    }
    random_chars(out + plen + 9, 15);
}

void kith_crypto_random_token(const char *prefix, char out[64])
{
    size_t plen = kith_strlcpy(out, prefix, 20);
    if (plen > 19)
        plen = 19;
    random_chars(out + plen, 40);
}

static void to_hex(const uint8_t *h, char out[KITH_CRYPTO_HASH_HEX])
{
    sodium_bin2hex(out, KITH_CRYPTO_HASH_HEX, h, 32);
}

void kith_crypto_keyed_hash(const uint8_t key[KITH_CRYPTO_KEY_BYTES], const void *data, size_t len,
                            char out[KITH_CRYPTO_HASH_HEX])
{
    uint8_t h[16];
    crypto_generichash(h, sizeof(h), data, len, key, KITH_CRYPTO_KEY_BYTES);
    sodium_bin2hex(out, KITH_CRYPTO_HASH_HEX, h, sizeof(h));
}

void kith_crypto_shorthash128(const uint8_t key[KITH_CRYPTO_SHORTHASH_KEY_BYTES], const void *data,
                              size_t len, uint32_t out[4])
{
    uint8_t h[crypto_shorthash_siphashx24_BYTES];
    crypto_shorthash_siphashx24(h, data, len, key);
    memcpy(out, h, sizeof(h));
}

void kith_crypto_hash(const void *data, size_t len, char out[KITH_CRYPTO_HASH_HEX])
{
    uint8_t h[32];
    crypto_generichash(h, sizeof(h), data, len, NULL, 0);
    to_hex(h, out);
}

bool kith_crypto_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

void kith_crypto_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

void kith_crypto_bin2hex(char *hex, size_t hexsize, const uint8_t *bin, size_t n)
{
    sodium_bin2hex(hex, hexsize, bin, n);
}

bool kith_crypto_hex2bin(uint8_t *bin, size_t n, const char *hex)
{
    size_t got = 0;
    if (strlen(hex) != n * 2)
        return false;
    return sodium_hex2bin(bin, n, hex, n * 2, NULL, &got, NULL) == 0 && got == n;
}

void kith_crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                             uint8_t out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, data, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

bool kith_crypto_base64_encode(const uint8_t *bin, size_t n, char *out, size_t outsize)
{
    if (outsize < sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL))
        return false;
    sodium_bin2base64(out, outsize, bin, n, sodium_base64_VARIANT_ORIGINAL);
    return true;
}

bool kith_crypto_base64_decode(const char *b64, uint8_t *out, size_t outsize, size_t *out_len)
{
    const char *end = NULL;
    size_t len = strlen(b64);
    if (sodium_base642bin(out, outsize, b64, len, NULL, out_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    return end == b64 + len;
}

/* Argon2id at libsodium's interactive limits: about 64 MiB and a tenth of a second a try. */
bool kith_crypto_pwhash(const char *password, char out[KITH_CRYPTO_PWHASH_MAX])
{
    static_assert(crypto_pwhash_STRBYTES <= KITH_CRYPTO_PWHASH_MAX, "pwhash string fits");
    return crypto_pwhash_str_alg(
               out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
               crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) == 0;
}

static char dummy_hash[KITH_CRYPTO_PWHASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
    char pw[33];
    uint8_t raw[16];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(pw, sizeof(pw), raw, sizeof(raw));
    if (!kith_crypto_pwhash(pw, dummy_hash))
        dummy_hash[0] = '\0';
}

bool kith_crypto_pwhash_verify(const char *hash, const char *password)
{
    bool known = hash != NULL;
    if (!known) {
        pthread_once(&dummy_once, dummy_make);
        hash = dummy_hash;
    }
    if (hash[0] == '\0')
        return false;
    bool ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    return ok && known;
}
