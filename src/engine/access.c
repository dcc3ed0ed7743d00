/*
 * access.c: API keys and start-up secrets. Keys are stored only as BLAKE2b digests, so a copy of
 * the database does not hand out working keys; KITH_SECRET_KEY is compared by digest in constant
 * time. The hashing secret for IPs and user agents is made at first start and never leaves the
 * database.
 */
#include <string.h>

#include "engine/internal.h"

enum kith_status kith_engine_authenticate(struct kith_tx *tx, const struct kith_engine *eng,
                                          const char *token, char key_id[KITH_ID_MAX],
                                          enum kith_key_kind *kind)
{
    char digest[KITH_CRYPTO_HASH_HEX];
    *kind = KITH_KEY_NONE;
    if (token == NULL || *token == '\0' || strlen(token) > 200)
        return KITH_E_UNAUTHORIZED;
    kith_crypto_hash(token, strlen(token), digest);
    if (eng->env_key_hash[0] && kith_crypto_equal(digest, eng->env_key_hash, sizeof(digest) - 1)) {
        kith_strlcpy(key_id, "key_env", KITH_ID_MAX);
        *kind = KITH_KEY_SECRET;
        return KITH_OK;
    }
    json_t *row = NULL, *args = json_pack("[s]", digest);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_KEYS_BY_HASH, args, &row);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND)
        return KITH_E_UNAUTHORIZED;
    if (st != KITH_OK)
        return st;
    kith_strlcpy(key_id, kith_eng_row_str(row, "id"), KITH_ID_MAX);
    *kind = strcmp(kith_eng_row_str(row, "kind"), "publishable") == 0 ? KITH_KEY_PUBLISHABLE
                                                                      : KITH_KEY_SECRET;
    json_decref(row);
    return KITH_OK;
}

enum kith_status kith_engine_key_create(struct kith_tx *tx, bool publishable, char out[64],
                                        int64_t now_ms)
{
    char id[KITH_ID_MAX], digest[KITH_CRYPTO_HASH_HEX];
    kith_crypto_random_id("key_", id);
    kith_crypto_random_token(publishable ? "pk_" : "sk_", out);
    kith_crypto_hash(out, strlen(out), digest);
    json_t *row =
        json_pack("{s:s,s:s,s:s,s:I}", "id", id, "kind", publishable ? "publishable" : "secret",
                  "hash", digest, "created_at", (json_int_t)now_ms);
    enum kith_status st = kith_store_insert(tx, "api_keys", row);
    json_decref(row);
    return st;
}

enum kith_status kith_engine_bootstrap(struct kith_tx *tx, struct kith_engine *eng,
                                       int64_t *key_count)
{
    json_t *row = NULL, *args = json_pack("[s]", "hash_key");
    enum kith_status st = kith_store_query_one(tx, KITH_Q_META_GET, args, &row);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND) {
        char hex[KITH_CRYPTO_KEY_BYTES * 2 + 1];
        kith_crypto_random(eng->hash_key, sizeof(eng->hash_key));
        kith_crypto_bin2hex(hex, sizeof(hex), eng->hash_key, sizeof(eng->hash_key));
        args = json_pack("[ss]", "hash_key", hex);
        st = kith_store_exec(tx, KITH_Q_META_PUT, args, NULL);
        json_decref(args);
        kith_crypto_wipe(hex, sizeof(hex));
        if (st == KITH_E_CONSTRAINT) /* another instance made it first: use theirs */
            return kith_engine_bootstrap(tx, eng, key_count);
        if (st != KITH_OK)
            return st;
    } else if (st == KITH_OK) {
        const char *hex = kith_eng_row_str(row, "value");
        if (hex == NULL || !kith_crypto_hex2bin(eng->hash_key, sizeof(eng->hash_key), hex)) {
            json_decref(row);
            return KITH_E_INTERNAL;
        }
        json_decref(row);
    } else {
        return st;
    }
    args = json_array();
    st = kith_store_query_one(tx, KITH_Q_KEYS_COUNT, args, &row);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    *key_count = kith_eng_row_int(row, "n");
    json_decref(row);
    return KITH_OK;
}
