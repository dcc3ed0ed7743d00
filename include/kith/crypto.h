/*
 * crypto.h: the only door to libsodium. Randomness, random identifiers, keyed and plain hashes,
 * constant-time comparison and wiping. Thread-safe after kith_crypto_init().
 */
#ifndef KITH_CRYPTO_H
#define KITH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kith/core.h"

#define KITH_CRYPTO_KEY_BYTES 32
#define KITH_CRYPTO_HASH_HEX 65 /* 32-byte hash as lowercase hex plus NUL */
#define KITH_ID_MAX 40          /* "par_" + 24 random base32 characters + NUL fits */

/* Initialises libsodium. Returns KITH_E_INTERNAL if the library cannot start. */
enum kith_status kith_crypto_init(struct kith_err *err);

void kith_crypto_random(void *buf, size_t n);
/* Uniform in [0, upper). */
uint32_t kith_crypto_uniform(uint32_t upper);

/* prefix + 24 random lowercase base32 characters (120 bits), e.g. "par_k3x...". */
void kith_crypto_random_id(const char *prefix, char out[KITH_ID_MAX]);
/*
 * prefix + 9 characters of time_ms (sortable) + 15 random base32 characters (75 bits): ids that
 * are unguessable but arrive in order, so a table keyed by them grows at its right edge (clicks).
 */
void kith_crypto_time_id(const char *prefix, int64_t time_ms, char out[KITH_ID_MAX]);
/* prefix + 40 random base32 characters: API keys ("sk_", "pk_"). out holds 64 bytes. */
void kith_crypto_random_token(const char *prefix, char out[64]);

/* BLAKE2b-128 of data keyed with key, as 32 lowercase hex characters: equality tokens for IPs
 * and user agents (out holds KITH_CRYPTO_HASH_HEX bytes). */
void kith_crypto_keyed_hash(const uint8_t key[KITH_CRYPTO_KEY_BYTES], const void *data, size_t len,
                            char out[KITH_CRYPTO_HASH_HEX]);
/* SipHash-2-4 with 128-bit output (libsodium's crypto_shorthash_siphashx24) of data under a
 * 16-byte key, as four 32-bit words: fast keyed indexes into fixed tables (kith/sketch.h). */
#define KITH_CRYPTO_SHORTHASH_KEY_BYTES 16
void kith_crypto_shorthash128(const uint8_t key[KITH_CRYPTO_SHORTHASH_KEY_BYTES], const void *data,
                              size_t len, uint32_t out[4]);
/* Unkeyed BLAKE2b-256 as lowercase hex: API key digests, request fingerprints. */
void kith_crypto_hash(const void *data, size_t len, char out[KITH_CRYPTO_HASH_HEX]);

/* Lowercase hex of n bytes into hex (2n+1 bytes). */
void kith_crypto_bin2hex(char *hex, size_t hexsize, const uint8_t *bin, size_t n);
/* Exactly n bytes from 2n hex digits; false on anything else. */
bool kith_crypto_hex2bin(uint8_t *bin, size_t n, const char *hex);

/* HMAC-SHA256 of data under key (any length). */
void kith_crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                             uint8_t out[32]);
/* Standard base64 (with padding) of n bytes into out; false when out is too small. */
bool kith_crypto_base64_encode(const uint8_t *bin, size_t n, char *out, size_t outsize);
/* Decodes standard base64 (padding required, no whitespace); false on malformed input or when
 * it does not fit. *out_len receives the decoded length. */
bool kith_crypto_base64_decode(const char *b64, uint8_t *out, size_t outsize, size_t *out_len);

/* Constant-time equality of two n-byte buffers. */
bool kith_crypto_equal(const void *a, const void *b, size_t n);
/* Zeroes memory the compiler may not optimise away. */
void kith_crypto_wipe(void *p, size_t n);

/* Password hashes (admin accounts): Argon2id strings of at most KITH_CRYPTO_PWHASH_MAX bytes. */
#define KITH_CRYPTO_PWHASH_MAX 128
/* Hashes password into out; false when memory runs short. */
bool kith_crypto_pwhash(const char *password, char out[KITH_CRYPTO_PWHASH_MAX]);
/* Whether password matches hash. With hash NULL, verifies against a fixed dummy hash (always
 * false) so that an unknown account costs the same work as a wrong password. */
bool kith_crypto_pwhash_verify(const char *hash, const char *password);

#endif
