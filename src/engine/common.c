/*
 * common.c: what several use cases share: reading columns, rendering rows into the contract's
 * shapes (participant, referral, reward), and creating a participant with a permanent code.
 */
#include <string.h>

#include "engine/health.h"
#include "engine/internal.h"
#include "engine/tracks.h"
#include "kith/clock.h"
#include "kith/codes.h"
#include "kith/crypto.h"

int64_t kith_eng_row_int(json_t *row, const char *col)
{
    return json_integer_value(json_object_get(row, col));
}

const char *kith_eng_row_str(json_t *row, const char *col)
{
    return json_string_value(json_object_get(row, col));
}

bool kith_eng_row_is_null(json_t *row, const char *col)
{
    json_t *v = json_object_get(row, col);
    return v == NULL || json_is_null(v);
}

json_t *kith_eng_time_json(int64_t ms)
{
    char buf[32];
    kith_time_format(ms, buf);
    return json_string(buf);
}

json_t *kith_eng_time_or_null(json_t *row, const char *col)
{
    if (kith_eng_row_is_null(row, col))
        return json_null();
    return kith_eng_time_json(kith_eng_row_int(row, col));
}

json_t *kith_eng_str_or_null(json_t *row, const char *col)
{
    const char *s = kith_eng_row_str(row, col);
    return s ? json_string(s) : json_null();
}

enum kith_status kith_eng_load_row(struct kith_tx *tx, const char *table, const char *id,
                                   const char *what, json_t **out, struct kith_err *err)
{
    enum kith_status st = kith_store_get(tx, table, id, out);
    if (st == KITH_E_NOT_FOUND)
        return kith_err_set(err, st, NULL, "no such %s", what);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the %s", what);
    return KITH_OK;
}

enum kith_status kith_eng_load_locked(struct kith_tx *tx, const char *table, const char *id,
                                      const char *what, json_t **out, struct kith_err *err)
{
    enum kith_status st = kith_store_get_locked(tx, table, id, out);
    if (st == KITH_E_NOT_FOUND)
        return kith_err_set(err, st, NULL, "no such %s", what);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the %s", what);
    return KITH_OK;
}

enum kith_status kith_eng_participant_by_external(struct kith_tx *tx, const char *program,
                                                  const char *external_id, json_t **out)
{
    json_t *args = json_pack("[ss]", program, external_id);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_PARTICIPANTS_BY_EXTERNAL, args, out);
    json_decref(args);
    return st;
}

static json_t *participant_json(struct kith_tx *tx, const struct kith_engine *eng, json_t *row,
                                json_t *codes, json_t *stats, bool fresh);

json_t *kith_eng_render_participant(struct kith_tx *tx, const struct kith_engine *eng, json_t *row)
{
    json_t *args = json_pack("[s]", kith_eng_row_str(row, "id"));
    json_t *codes = json_array(), *rows = NULL, *stats = NULL;
    if (kith_store_query(tx, KITH_Q_CODES_OF, args, &rows) == KITH_OK) {
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) json_array_append(codes, json_object_get(r, "code"));
    }
    json_decref(rows);
    if (kith_store_query_one(tx, KITH_Q_PARTICIPANTS_STATS, args, &stats) != KITH_OK)
        stats = NULL;
    json_decref(args);
    return participant_json(tx, eng, row, codes, stats, false);
}

json_t *kith_eng_render_new_participant(struct kith_tx *tx, const struct kith_engine *eng,
                                        json_t *row)
{
    return participant_json(tx, eng, row, json_pack("[O]", json_object_get(row, "code")), NULL,
                            true);
}

static json_t *participant_json(struct kith_tx *tx, const struct kith_engine *eng, json_t *row,
                                json_t *codes, json_t *stats, bool fresh)
{
    const char *id = kith_eng_row_str(row, "id");
    if (stats == NULL)
        stats = json_pack("{s:i,s:i,s:i,s:i}", "clicks", 0, "signups", 0, "qualified", 0,
                          "rewarded", 0);
    bool erased = kith_eng_row_int(row, "erased") != 0;
    char share[1024];
    snprintf(share, sizeof(share), "%s/r/%s", eng->public_url, kith_eng_row_str(row, "code"));
    json_t *meta = NULL;
    const char *meta_text = kith_eng_row_str(row, "metadata");
    if (meta_text)
        meta = json_loads(meta_text, 0, NULL);
    if (meta == NULL)
        meta = json_object();
    json_t *out = json_object();
    json_object_set_new(out, "id", json_string(id));
    json_object_set_new(out, "program", kith_eng_str_or_null(row, "program"));
    json_object_set_new(out, "external_id", kith_eng_str_or_null(row, "external_id"));
    json_object_set_new(out, "email", kith_eng_str_or_null(row, "email"));
    json_object_set_new(out, "first_name", kith_eng_str_or_null(row, "first_name"));
    json_object_set_new(out, "code", kith_eng_str_or_null(row, "code"));
    json_object_set_new(out, "codes", codes);
    json_object_set_new(out, "share_url", json_string(share));
    json_object_set_new(out, "referred_by", kith_eng_str_or_null(row, "referred_by"));
    json_object_set_new(out, "status", kith_eng_str_or_null(row, "status"));
    json_object_set_new(out, "leaderboard_opt_in",
                        json_boolean(kith_eng_row_int(row, "leaderboard_opt_in") != 0));
    json_object_set_new(out, "metadata", meta);
    /* The person's Stripe objects, for reward fulfilment (section 25). */
    json_object_set_new(out, "stripe_customer_id", kith_eng_str_or_null(row, "stripe_customer_id"));
    json_object_set_new(out, "stripe_subscription_id",
                        kith_eng_str_or_null(row, "stripe_subscription_id"));
    json_object_set_new(out, "created_at", kith_eng_time_or_null(row, "created_at"));
    json_object_set_new(out, "stats", stats);
    kith_eng_adv_render(tx, row, fresh, out); /* progress and roles (section 15) */
    json_object_set_new(out, "preferences", kith_eng_preferences_json(row));
    kith_eng_exp_render(tx, row, out); /* the running experiment's variant (23) */
    if (erased)
        json_object_set_new(out, "erased", json_true());
    return out;
}

json_t *kith_eng_render_referral(struct kith_tx *tx, json_t *row)
{
    json_t *referrer = NULL, *referred = NULL;
    kith_store_get(tx, "participants", kith_eng_row_str(row, "referrer"), &referrer);
    kith_store_get(tx, "participants", kith_eng_row_str(row, "referred"), &referred);
    json_t *out = kith_eng_render_referral_rows(row, referrer, referred);
    json_decref(referrer);
    json_decref(referred);
    return out;
}

json_t *kith_eng_render_referral_rows(json_t *row, json_t *referrer, json_t *referred)
{
    json_t *out = json_object();
    json_object_set_new(out, "id", kith_eng_str_or_null(row, "id"));
    json_object_set_new(out, "program", kith_eng_str_or_null(row, "program"));
    if (referrer) {
        json_object_set_new(out, "referrer",
                            json_pack("{s:o,s:o,s:o}", "id", kith_eng_str_or_null(referrer, "id"),
                                      "first_name", kith_eng_str_or_null(referrer, "first_name"),
                                      "code", kith_eng_str_or_null(referrer, "code")));
    }
    if (referred) {
        json_object_set_new(out, "referred",
                            json_pack("{s:o,s:o}", "id", kith_eng_str_or_null(referred, "id"),
                                      "first_name", kith_eng_str_or_null(referred, "first_name")));
    }
    json_object_set_new(out, "code", kith_eng_str_or_null(row, "code"));
    json_object_set_new(out, "source", kith_eng_str_or_null(row, "source"));
    json_object_set_new(out, "channel", kith_eng_str_or_null(row, "channel"));
    json_object_set_new(out, "resource", kith_eng_str_or_null(row, "resource")); /* CONTRACT 19 */
    json_object_set_new(out, "status", kith_eng_str_or_null(row, "status"));
    json_t *flags = json_loads(
        kith_eng_row_str(row, "fraud_flags") ? kith_eng_row_str(row, "fraud_flags") : "[]", 0,
        NULL);
    json_object_set_new(out, "fraud",
                        json_pack("{s:I,s:o}", "score",
                                  (json_int_t)kith_eng_row_int(row, "fraud_score"), "flags",
                                  flags ? flags : json_array()));
    json_object_set_new(out, "created_at", kith_eng_time_or_null(row, "created_at"));
    json_object_set_new(out, "qualified_at", kith_eng_time_or_null(row, "qualified_at"));
    json_object_set_new(out, "rewarded_at", kith_eng_time_or_null(row, "rewarded_at"));
    json_object_set_new(out, "expires_at", kith_eng_time_or_null(row, "expires_at"));
    return out;
}

json_t *kith_eng_render_reward(struct kith_tx *tx, json_t *row)
{
    json_t *out = json_object();
    json_object_set_new(out, "id", kith_eng_str_or_null(row, "id"));
    json_object_set_new(out, "program", kith_eng_str_or_null(row, "program"));
    json_object_set_new(out, "participant", kith_eng_str_or_null(row, "participant"));
    json_object_set_new(out, "referral", kith_eng_str_or_null(row, "referral"));
    json_object_set_new(out, "to", kith_eng_str_or_null(row, "side"));
    json_object_set_new(out, "kind", kith_eng_str_or_null(row, "kind"));
    json_object_set_new(out, "amount",
                        kith_eng_row_is_null(row, "amount")
                            ? json_null()
                            : json_integer(kith_eng_row_int(row, "amount")));
    json_object_set_new(out, "currency", kith_eng_str_or_null(row, "currency"));
    json_object_set_new(out, "description", kith_eng_str_or_null(row, "description"));
    json_object_set_new(out, "status", kith_eng_str_or_null(row, "status"));
    json_object_set_new(out, "created_at", kith_eng_time_or_null(row, "created_at"));
    json_object_set_new(out, "issued_at", kith_eng_time_or_null(row, "issued_at"));
    json_object_set_new(out, "redeemed_at", kith_eng_time_or_null(row, "redeemed_at"));
    json_object_set_new(out, "expires_at", kith_eng_time_or_null(row, "expires_at"));
    json_t *source = kith_eng_row_str(row, "source") /* what earned a participant reward */
                         ? json_loads(kith_eng_row_str(row, "source"), 0, NULL)
                         : NULL;
    json_object_set_new(out, "source", source ? source : json_null());
    json_object_set_new(out, "fulfilment", kith_eng_fulfil_render(tx, row)); /* section 25 */
    return out;
}

/* Tries random codes for a prefix until one is free; the unique index decides, not a lookup. */
static enum kith_status claim_code(struct kith_tx *tx, const char *participant,
                                   const char *first_name, int64_t now_ms, char code[16],
                                   struct kith_err *err)
{
    char prefix[KITH_CODE_PREFIX_MAX + 1];
    size_t plen = kith_code_prefix(first_name, prefix);
    bool alnum = false;
    enum kith_status st;
    if (plen > 0) {
        json_t *row = NULL, *args = json_pack("[s]", prefix);
        st = kith_store_query_one(tx, KITH_Q_PREFIX_TAKEN, args, &row);
        json_decref(args);
        if (st == KITH_OK)
            alnum = kith_code_use_alnum((uint32_t)kith_eng_row_int(row, "taken"));
        json_decref(row);
        if (st != KITH_OK && st != KITH_E_NOT_FOUND)
            return kith_err_set(err, st, NULL, "the database could not read code prefixes");
    }
    for (int attempt = 0; attempt < 64; attempt++) {
        uint8_t rnd[KITH_CODE_RANDOM_BYTES];
        char norm[KITH_CODE_NORM_MAX + 1];
        kith_crypto_random(rnd, sizeof(rnd));
        /* Past 24 collisions the digit space is crowded: switch alphabets early. */
        kith_code_make(prefix, alnum || attempt >= 24, rnd, code);
        if (!kith_code_normalize(code, norm))
            return kith_err_set(err, KITH_E_INTERNAL, NULL, "generated an invalid code");
        json_t *args = json_pack("[ssssI]", norm, code, participant, "primary", (json_int_t)now_ms);
        st = kith_store_exec(tx, KITH_Q_CODES_INSERT, args, NULL);
        json_decref(args);
        if (st == KITH_E_CONSTRAINT)
            continue;
        if (st != KITH_OK)
            return kith_err_set(err, st, NULL, "the database could not store the code");
        if (plen > 0 && !alnum && attempt < 24) {
            args = json_pack("[s]", prefix);
            st = kith_store_exec(tx, KITH_Q_PREFIX_BUMP, args, NULL);
            json_decref(args);
            if (st != KITH_OK)
                return kith_err_set(err, st, NULL, "the database could not count the code");
        }
        return KITH_OK;
    }
    return kith_err_set(err, KITH_E_UNAVAILABLE, NULL, "no free code found; try again");
}

enum kith_status kith_eng_participant_insert(struct kith_tx *tx, const struct kith_engine *eng,
                                             const struct prog *p, json_t *fields, int64_t now_ms,
                                             json_t **out, struct kith_err *err)
{
    char id[KITH_ID_MAX], code[16];
    enum kith_status st;
    (void)eng;
    kith_crypto_random_id("par_", id);
    /* Under a savepoint: if another transaction creates the same person first, the code claimed
     * here must go with the refused row, leaving nothing behind. */
    if ((st = kith_tx_savepoint(tx)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the participant");
    /* An import keeps the code a person brings from another tool (imports.c). */
    const char *kept = kith_eng_row_str(fields, "code");
    st = kept ? kith_eng_code_keep(tx, id, kept, now_ms, code, err)
              : claim_code(tx, id, kith_eng_row_str(fields, "first_name"), now_ms, code, err);
    if (st != KITH_OK) {
        kith_tx_rollback(tx);
        return st;
    }
    json_t *row = json_deep_copy(fields);
    json_object_set_new(row, "id", json_string(id));
    json_object_set_new(row, "program", json_string(p->id));
    json_object_set_new(row, "code", json_string(code));
    json_object_set_new(row, "status", json_string("active"));
    json_object_set_new(row, "created_at", json_integer(now_ms));
    json_object_set_new(row, "updated_at", json_integer(now_ms));
    st = kith_store_insert(tx, "participants", row);
    if (st == KITH_OK && ((st = kith_eng_program_count(tx, p->id, 1, 0)) != KITH_OK ||
                          (st = kith_eng_health_joined(tx, row)) != KITH_OK)) /* section 22 */
        kith_err_set(err, st, NULL, "the database could not count the participant");
    if (st != KITH_OK) {
        json_decref(row);
        kith_tx_rollback(tx);
        if (st == KITH_E_CONSTRAINT)
            return st;
        return kith_err_set(err, st, NULL, "the database could not store the participant");
    }
    if ((st = kith_tx_release(tx)) != KITH_OK) {
        json_decref(row);
        return kith_err_set(err, st, NULL, "the database could not store the participant");
    }
    /* The row as written, with the defaults the table would give it. */
    if (json_object_get(row, "leaderboard_opt_in") == NULL)
        json_object_set_new(row, "leaderboard_opt_in", json_integer(0));
    json_object_set_new(row, "erased", json_integer(0));
    if (json_is_boolean(json_object_get(row, "leaderboard_opt_in")))
        json_object_set_new(row, "leaderboard_opt_in",
                            json_integer(json_is_true(json_object_get(row, "leaderboard_opt_in"))));
    *out = row;
    return KITH_OK;
}

enum kith_status kith_eng_program_count(struct kith_tx *tx, const char *program,
                                        int64_t active_delta, int64_t sharers_delta)
{
    json_t *args = json_pack("[sII]", program, (json_int_t)active_delta, (json_int_t)sharers_delta);
    enum kith_status st = kith_store_exec(tx, KITH_Q_COUNTS_ADD, args, NULL);
    json_decref(args);
    return st;
}
