/*
 * access.c: API keys and start-up secrets. Keys are stored only as BLAKE2b digests, so a copy of
 * the database does not hand out working keys; KITH_SECRET_KEY is compared by digest in constant
 * time. The hashing secret for IPs and user agents is made at first start and kept in the
 * database, or, with KITH_HASH_KEY_FILE, in a file of its own (read and written by src/app; the
 * engine only moves it out of the database and refuses a start that would change it).
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

/* Reads a meta value into out (KITH_E_NOT_FOUND when absent). */
static enum kith_status meta_get(struct kith_tx *tx, const char *key, char *out, size_t outsize)
{
    json_t *row = NULL, *args = json_pack("[s]", key);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_META_GET, args, &row);
    json_decref(args);
    if (st == KITH_OK) {
        const char *v = kith_eng_row_str(row, "value");
        kith_strlcpy(out, v ? v : "", outsize);
    }
    json_decref(row);
    return st;
}

static enum kith_status meta_exec(struct kith_tx *tx, enum kith_query q, const char *key,
                                  const char *value)
{
    json_t *args = value ? json_pack("[ss]", key, value) : json_pack("[s]", key);
    enum kith_status st = kith_store_exec(tx, q, args, NULL);
    json_decref(args);
    return st;
}

/* Where this database's hashing key lives: "database" (the default) or "file". */
static bool key_in_file(struct kith_tx *tx, enum kith_status *st)
{
    char where[16] = "";
    *st = meta_get(tx, "hash_key_location", where, sizeof(where));
    if (*st == KITH_E_NOT_FOUND)
        *st = KITH_OK;
    return strcmp(where, "file") == 0;
}

static enum kith_status count_keys(struct kith_tx *tx, int64_t *key_count)
{
    json_t *row = NULL, *args = json_array();
    enum kith_status st = kith_store_query_one(tx, KITH_Q_KEYS_COUNT, args, &row);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    *key_count = kith_eng_row_int(row, "n");
    json_decref(row);
    return KITH_OK;
}

enum kith_status kith_engine_hash_key_peek(struct kith_tx *tx, uint8_t key[KITH_CRYPTO_KEY_BYTES],
                                           bool *found)
{
    char hex[KITH_CRYPTO_KEY_BYTES * 2 + 1];
    *found = false;
    enum kith_status st = meta_get(tx, "hash_key", hex, sizeof(hex));
    if (st == KITH_E_NOT_FOUND)
        return KITH_OK;
    if (st != KITH_OK)
        return st;
    bool ok = kith_crypto_hex2bin(key, KITH_CRYPTO_KEY_BYTES, hex);
    kith_crypto_wipe(hex, sizeof(hex));
    if (!ok)
        return KITH_E_INTERNAL;
    *found = true;
    return KITH_OK;
}

enum kith_status kith_engine_bootstrap_file_key(struct kith_tx *tx, struct kith_engine *eng,
                                                const uint8_t key[KITH_CRYPTO_KEY_BYTES],
                                                int64_t *key_count)
{
    uint8_t db_key[KITH_CRYPTO_KEY_BYTES];
    bool found = false;
    enum kith_status st = kith_engine_hash_key_peek(tx, db_key, &found);
    if (st != KITH_OK)
        return st;
    if (found) {
        /* A key still in the database must be the file's (the file was written from it): it
         * leaves the database now. Another key would make every stored hash unmatchable. */
        bool same = kith_crypto_equal(db_key, key, KITH_CRYPTO_KEY_BYTES);
        kith_crypto_wipe(db_key, sizeof(db_key));
        if (!same)
            return KITH_E_INVALID_STATE;
        if ((st = meta_exec(tx, KITH_Q_META_DELETE, "hash_key", NULL)) != KITH_OK)
            return st;
        kith_tx_purge_log_after_commit(tx);
    }
    /* A check value (a keyed hash of a fixed text: it tells nothing of the key) catches a file
     * that holds another key once the database has no copy left to compare with. */
    static const char probe[] = "kith hash key check";
    char check[KITH_CRYPTO_HASH_HEX], stored[KITH_CRYPTO_HASH_HEX + 1] = "";
    kith_crypto_keyed_hash(key, probe, sizeof(probe) - 1, check);
    st = meta_get(tx, "hash_key_check", stored, sizeof(stored));
    if (st == KITH_OK &&
        (strlen(stored) != strlen(check) || !kith_crypto_equal(stored, check, strlen(check))))
        return KITH_E_INVALID_STATE;
    if (st == KITH_E_NOT_FOUND)
        st = meta_exec(tx, KITH_Q_META_PUT, "hash_key_check", check);
    if (st != KITH_OK && st != KITH_E_CONSTRAINT)
        return st;
    enum kith_status lst;
    if (!key_in_file(tx, &lst)) {
        if (lst != KITH_OK)
            return lst;
        if ((st = meta_exec(tx, KITH_Q_META_PUT, "hash_key_location", "file")) != KITH_OK &&
            st != KITH_E_CONSTRAINT)
            return st;
    }
    memcpy(eng->hash_key, key, KITH_CRYPTO_KEY_BYTES);
    return count_keys(tx, key_count);
}

enum kith_status kith_engine_bootstrap(struct kith_tx *tx, struct kith_engine *eng,
                                       int64_t *key_count)
{
    enum kith_status lst;
    if (key_in_file(tx, &lst))
        return KITH_E_INVALID_STATE; /* the key lives in a file this start was not given */
    if (lst != KITH_OK)
        return lst;
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
    return count_keys(tx, key_count);
}
