/*
 * preferences.c: what a person wants to hear from a program (section 17): asks at natural
 * moments (normal, fewer or never), the monthly digest, and whether they may be celebrated in a
 * spotlight. They are columns of the participant row, so showing them costs no query; every
 * change is also recorded with its time (preference_changes), because how many people turn asks
 * down, and when, is how a program learns it asks too much. It is not for applying them: the
 * ask rules (src/asks), spotlights and digests read the columns.
 */
#include <string.h>

#include "engine/internal.h"

static const char *const pref_fields[] = {"asks", "digest", "spotlight_opt_in", NULL};

json_t *kith_eng_preferences_json(json_t *row)
{
    const char *asks = kith_eng_row_str(row, "pref_asks");
    json_t *digest = json_object_get(row, "pref_digest");
    return json_pack("{s:s,s:b,s:b}", "asks", asks ? asks : "normal", "digest",
                     digest == NULL || json_is_null(digest) || json_integer_value(digest) != 0,
                     "spotlight_opt_in", kith_eng_row_int(row, "pref_spotlight") != 0);
}

static enum kith_status record(struct kith_tx *tx, json_t *row, const char *field, const char *from,
                               const char *to, int64_t now_ms)
{
    char id[KITH_ID_MAX];
    kith_crypto_random_id("prf_", id);
    json_t *change = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "id", id, "program",
                               kith_eng_row_str(row, "program"), "participant",
                               kith_eng_row_str(row, "id"), "field", field, "from_value", from,
                               "to_value", to, "created_at", (json_int_t)now_ms);
    enum kith_status st = kith_store_insert(tx, "preference_changes", change);
    json_decref(change);
    return st;
}

enum kith_status kith_eng_preferences_patch(struct kith_tx *tx, struct kith_call *call, json_t *row,
                                            json_t *set, struct kith_err *err)
{
    json_t *in = json_object_get(call->body, "preferences");
    const char *asks = NULL;
    bool digest = false, has_digest = false, spot = false, has_spot = false;
    enum kith_status st;
    if (in == NULL || json_is_null(in))
        return KITH_OK;
    if (!json_is_object(in))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "preferences",
                            "'preferences' must be an object with asks, digest, spotlight_opt_in");
    if ((st = kith_eng_in_allowed(in, pref_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "asks", false, 1, 16, &asks, err)) != KITH_OK ||
        (st = kith_eng_in_bool(in, "digest", &digest, &has_digest, err)) != KITH_OK ||
        (st = kith_eng_in_bool(in, "spotlight_opt_in", &spot, &has_spot, err)) != KITH_OK) {
        char full[160];
        snprintf(full, sizeof(full), "preferences.%s", err->param);
        kith_strlcpy(err->param, full, sizeof(err->param));
        return st;
    }
    enum kith_ask_pref pref;
    if (asks && !kith_ask_pref_parse(asks, &pref))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "preferences.asks",
                            "'preferences.asks' must be 'normal', 'fewer' or 'never'");
    json_t *now = kith_eng_preferences_json(row);
    const char *was = json_string_value(json_object_get(now, "asks"));
    bool was_digest = json_is_true(json_object_get(now, "digest"));
    bool was_spot = json_is_true(json_object_get(now, "spotlight_opt_in"));
    st = KITH_OK;
    if (asks && strcmp(asks, was) != 0) {
        json_object_set_new(set, "pref_asks", json_string(asks));
        st = record(tx, row, "asks", was, asks, call->now_ms);
    }
    if (st == KITH_OK && has_digest && digest != was_digest) {
        json_object_set_new(set, "pref_digest", json_integer(digest));
        st = record(tx, row, "digest", was_digest ? "true" : "false", digest ? "true" : "false",
                    call->now_ms);
    }
    if (st == KITH_OK && has_spot && spot != was_spot) {
        json_object_set_new(set, "pref_spotlight", json_integer(spot));
        st = record(tx, row, "spotlight_opt_in", was_spot ? "true" : "false",
                    spot ? "true" : "false", call->now_ms);
    }
    json_decref(now);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the preferences");
    return KITH_OK;
}
