/*
 * participants.c: participants and their codes (CONTRACT section 3). Creating a participant is
 * idempotent on (program, external_id) through the table's unique constraint: a second create
 * answers with the row that exists and changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/health.h"
#include "engine/internal.h"
#include "kith/attribution.h"
#include "kith/clock.h"
#include "kith/codes.h"
#include "kith/crypto.h"
#include "kith/net.h"

#define EMAIL_MAX 254
#define NAME_MAX_BYTES 100
#define EXTERNAL_ID_MAX 255
#define METADATA_MAX 16384

static const char *const create_fields[] = {"program",
                                            "external_id",
                                            "email",
                                            "first_name",
                                            "ip",
                                            "device_id",
                                            "payment_fingerprint",
                                            "leaderboard_opt_in",
                                            "metadata",
                                            "stripe_customer_id",
                                            "stripe_subscription_id",
                                            NULL};

/* Checks an e-mail enough to compare it, and fills its normal form. */
enum kith_status kith_eng_participant_email(json_t *body, const char **email, char *norm,
                                            size_t normsize, struct kith_err *err);
enum kith_status kith_eng_participant_email(json_t *body, const char **email, char *norm,
                                            size_t normsize, struct kith_err *err)
{
    enum kith_status st = kith_eng_in_string(body, "email", false, 3, EMAIL_MAX, email, err);
    norm[0] = '\0';
    if (st != KITH_OK || *email == NULL)
        return st;
    if (!kith_email_normalize(*email, norm, normsize))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "email", "'email' is not an e-mail address");
    return KITH_OK;
}

/*
 * The person's identifying facts for fraud checks: IP as a keyed hash, device and payment as
 * given. Shared with signups.
 */
enum kith_status kith_eng_participant_facts(json_t *body, const struct kith_engine *eng,
                                            json_t *row, struct kith_err *err);
enum kith_status kith_eng_participant_facts(json_t *body, const struct kith_engine *eng,
                                            json_t *row, struct kith_err *err)
{
    const char *ip = NULL, *device = NULL, *payment = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_string(body, "ip", false, 2, 45, &ip, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "device_id", false, 1, 200, &device, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "payment_fingerprint", false, 1, 200, &payment, err)) !=
            KITH_OK)
        return st;
    if (ip) {
        /* Hashed in canonical form, so ::ffff:198.51.100.4 and 198.51.100.4 are one address
         * (as the redirect path hashes them, kith/net.h). */
        char canon[KITH_NET_ADDR_MAX];
        if (!kith_net_addr_canonical(ip, canon))
            return kith_err_set(err, KITH_E_INVALID_PARAM, "ip",
                                "'ip' must be an IPv4 or IPv6 address");
        char hash[KITH_CRYPTO_HASH_HEX];
        kith_crypto_keyed_hash(eng->hash_key, canon, strlen(canon), hash);
        json_object_set_new(row, "ip_hash", json_string(hash));
    }
    if (device)
        json_object_set_new(row, "device_id", json_string(device));
    if (payment)
        json_object_set_new(row, "payment_fingerprint", json_string(payment));
    return KITH_OK;
}

enum kith_status kith_eng_participant_fields(json_t *body, const struct kith_engine *eng,
                                             json_t *row, struct kith_err *err)
{
    const char *ext = NULL, *email = NULL, *name = NULL;
    char norm[EMAIL_MAX + 1];
    enum kith_status st;
    if ((st = kith_eng_in_string(body, "external_id", true, 1, EXTERNAL_ID_MAX, &ext, err)) !=
            KITH_OK ||
        (st = kith_eng_participant_email(body, &email, norm, sizeof(norm), err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "first_name", false, 0, NAME_MAX_BYTES, &name, err)) !=
            KITH_OK ||
        (st = kith_eng_participant_facts(body, eng, row, err)) != KITH_OK)
        return st;
    json_object_set_new(row, "external_id", json_string(ext));
    if (email) {
        json_object_set_new(row, "email", json_string(email));
        json_object_set_new(row, "email_norm", json_string(norm));
    }
    if (name)
        json_object_set_new(row, "first_name", json_string(name));
    return KITH_OK;
}

enum kith_status kith_eng_metadata_field(json_t *body, json_t *row, struct kith_err *err)
{
    json_t *meta = json_object_get(body, "metadata");
    if (meta == NULL || json_is_null(meta))
        return KITH_OK;
    if (!json_is_object(meta))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "metadata", "'metadata' must be an object");
    char *text = json_dumps(meta, JSON_COMPACT);
    size_t len = text ? strlen(text) : 0;
    if (text == NULL || len > METADATA_MAX) {
        free(text);
        return kith_err_set(err, KITH_E_INVALID_PARAM, "metadata",
                            "'metadata' must be at most %d bytes of JSON", METADATA_MAX);
    }
    json_object_set_new(row, "metadata", json_string(text));
    free(text);
    return KITH_OK;
}

/* The person's Stripe customer and subscription (section 25): Stripe ids, or null to clear
 * them (PATCH). They end up in Stripe's URLs, so only letters, digits and '_' pass. */
static enum kith_status stripe_ids(json_t *body, json_t *row, struct kith_err *err)
{
    static const char *const names[] = {"stripe_customer_id", "stripe_subscription_id"};
    static const char *const prefixes[] = {"cus_", "sub_"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = NULL;
        enum kith_status st = kith_eng_in_string(body, names[i], false, 5, 255, &v, err);
        if (st != KITH_OK)
            return st;
        if (v == NULL) {
            if (json_is_null(json_object_get(body, names[i])))
                json_object_set_new(row, names[i], json_null());
            continue;
        }
        bool ok = strncmp(v, prefixes[i], 4) == 0;
        for (const char *c = v; ok && *c; c++)
            ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                 *c == '_';
        if (!ok)
            return kith_err_set(err, KITH_E_INVALID_PARAM, names[i],
                                "'%s' is a Stripe id such as %s...", names[i], prefixes[i]);
        json_object_set_new(row, names[i], json_string(v));
    }
    return KITH_OK;
}

enum kith_status kith_op_participant_create(struct kith_tx *tx, struct kith_call *call,
                                            json_t **out, struct kith_err *err)
{
    const char *program = NULL;
    struct prog p;
    bool opt_in = false;
    json_t *fields = json_object(), *row = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, create_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "program", false, 1, 40, &program, err)) != KITH_OK ||
        (st = kith_eng_participant_fields(call->body, call->eng, fields, err)) != KITH_OK ||
        (st = kith_eng_in_bool(call->body, "leaderboard_opt_in", &opt_in, NULL, err)) != KITH_OK ||
        (st = kith_eng_metadata_field(call->body, fields, err)) != KITH_OK ||
        (st = stripe_ids(call->body, fields, err)) != KITH_OK ||
        (st = kith_eng_prog_resolve(tx, program, &p, err)) != KITH_OK)
        goto out;
    json_object_set_new(fields, "leaderboard_opt_in", json_boolean(opt_in));
    st = kith_eng_participant_insert(tx, call->eng, &p, fields, call->now_ms, &row, err);
    if (st == KITH_E_CONSTRAINT) {
        /* The external_id exists: answer with it, unchanged. */
        if ((st = kith_eng_participant_by_external(
                 tx, p.id, kith_eng_row_str(fields, "external_id"), &row)) != KITH_OK) {
            st = kith_err_set(err, st, NULL, "the database could not read the participant");
            goto out;
        }
        *out = kith_eng_render_participant(tx, call->eng, row);
        st = KITH_OK;
        goto out;
    }
    if (st != KITH_OK)
        goto out;
    *out = kith_eng_render_new_participant(tx, call->eng, row);
    if (kith_eng_outbox_wanted(tx) &&
        (st = kith_eng_outbox_emit(tx, "participant.created", json_incref(*out), call->now_ms)) !=
            KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the participant");
        goto out;
    }
    st = KITH_CREATED;
out:
    json_decref(fields);
    json_decref(row);
    return st;
}

static json_t *render_participant_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    return kith_eng_render_participant(tx, ctx, row);
}

enum kith_status kith_op_participant_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                          struct kith_err *err)
{
    static const char *const allowed[] = {"program", "external_id", "email",
                                          "limit",   "cursor",      NULL};
    char program[64], ext[EXTERNAL_ID_MAX + 1], email[EMAIL_MAX + 1], norm[EMAIL_MAX + 1];
    bool has_program, has_ext, has_email;
    int64_t limit, after;
    json_t *rows = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_page(call->query, &limit, &after, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "external_id", ext, sizeof(ext), &has_ext, err)) !=
            KITH_OK ||
        (st = kith_eng_q_string(call->query, "email", email, sizeof(email), &has_email, err)) !=
            KITH_OK)
        return st;
    if (has_email && !kith_email_normalize(email, norm, sizeof(norm)))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "email", "'email' is not an e-mail address");
    json_t *args =
        json_pack("[IOOOI]", (json_int_t)after, has_program ? json_string(program) : json_null(),
                  has_ext ? json_string(ext) : json_null(),
                  has_email ? json_string(norm) : json_null(), (json_int_t)(limit + 1));
    /* json_pack's O takes a new reference: drop ours. */
    for (size_t i = 1; i <= 3; i++)
        json_decref(json_array_get(args, i));
    st = kith_store_query(tx, KITH_Q_PARTICIPANTS_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not list participants");
    *out = kith_eng_list_page(rows, limit, render_participant_row, tx, (void *)call->eng);
    json_decref(rows);
    return KITH_OK;
}

enum kith_status kith_op_participant_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                         struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *row = NULL;
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st != KITH_OK || (st = kith_eng_load_row(tx, "participants", call->params[0], "participant",
                                                 &row, err)) != KITH_OK)
        return st;
    *out = kith_eng_render_participant(tx, call->eng, row);
    json_decref(row);
    return KITH_OK;
}

enum kith_status kith_op_participant_update(struct kith_tx *tx, struct kith_call *call,
                                            json_t **out, struct kith_err *err)
{
    static const char *const allowed[] = {"email",
                                          "first_name",
                                          "leaderboard_opt_in",
                                          "status",
                                          "metadata",
                                          "code",
                                          "codes",
                                          "preferences",
                                          "stripe_customer_id",
                                          "stripe_subscription_id",
                                          NULL};
    const char *email = NULL, *name = NULL, *status = NULL;
    char norm[EMAIL_MAX + 1];
    bool opt_in = false, has_opt_in = false;
    json_t *row = NULL, *set = json_object();
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK)
        goto out;
    if (json_object_get(call->body, "code") || json_object_get(call->body, "codes")) {
        st = kith_err_set(err, KITH_E_IMMUTABLE,
                          json_object_get(call->body, "code") ? "code" : "codes",
                          "codes are permanent; add an alias with POST .../codes instead");
        goto out;
    }
    if ((st = kith_eng_participant_email(call->body, &email, norm, sizeof(norm), err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "first_name", false, 0, NAME_MAX_BYTES, &name, err)) !=
            KITH_OK ||
        (st = kith_eng_in_bool(call->body, "leaderboard_opt_in", &opt_in, &has_opt_in, err)) !=
            KITH_OK ||
        (st = kith_eng_in_string(call->body, "status", false, 1, 16, &status, err)) != KITH_OK ||
        (st = kith_eng_metadata_field(call->body, set, err)) != KITH_OK ||
        (st = stripe_ids(call->body, set, err)) != KITH_OK)
        goto out;
    if (status && strcmp(status, "active") != 0 && strcmp(status, "blocked") != 0) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "status",
                          "'status' must be 'active' or 'blocked'");
        goto out;
    }
    if ((st = kith_eng_load_row(tx, "participants", call->params[0], "participant", &row, err)) !=
        KITH_OK)
        goto out;
    if (kith_eng_row_int(row, "erased") != 0) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL, "this participant was erased");
        goto out;
    }
    if ((st = kith_eng_preferences_patch(tx, call, row, set, err)) != KITH_OK)
        goto out;
    if (email) {
        json_object_set_new(set, "email", json_string(email));
        json_object_set_new(set, "email_norm", json_string(norm));
    }
    if (name)
        json_object_set_new(set, "first_name", json_string(name));
    if (has_opt_in)
        json_object_set_new(set, "leaderboard_opt_in", json_boolean(opt_in));
    if (status) {
        json_object_set_new(set, "status", json_string(status));
        call->invalidates_links = true;
        bool was_active = strcmp(kith_eng_row_str(row, "status"), "active") == 0;
        bool now_active = strcmp(status, "active") == 0;
        if (was_active != now_active &&
            ((st = kith_eng_program_count(tx, kith_eng_row_str(row, "program"), now_active ? 1 : -1,
                                          0)) != KITH_OK ||
             (st = kith_eng_health_active(tx, call->params[0], now_active)) != KITH_OK)) {
            st = kith_err_set(err, st, NULL, "the database could not count the participant");
            goto out;
        }
    }
    json_object_set_new(set, "updated_at", json_integer(call->now_ms));
    if ((st = kith_store_update(tx, "participants", call->params[0], set)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the participant");
        goto out;
    }
    json_decref(row);
    row = NULL;
    if ((st = kith_eng_load_row(tx, "participants", call->params[0], "participant", &row, err)) !=
        KITH_OK)
        goto out;
    *out = kith_eng_render_participant(tx, call->eng, row);
out:
    json_decref(row);
    json_decref(set);
    return st;
}

enum kith_status kith_op_participant_add_code(struct kith_tx *tx, struct kith_call *call,
                                              json_t **out, struct kith_err *err)
{
    static const char *const allowed[] = {"code", NULL};
    const char *alias = NULL;
    char canon[KITH_CODE_MAX + 1], norm[KITH_CODE_NORM_MAX + 1];
    json_t *row = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "code", true, 1, 64, &alias, err)) != KITH_OK)
        return st;
    if (!kith_code_alias_canonical(alias, canon) || !kith_code_normalize(canon, norm))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "code",
                            "'code' must be 3 to 9 letters, digits or dashes");
    if ((st = kith_eng_load_row(tx, "participants", call->params[0], "participant", &row, err)) !=
        KITH_OK)
        return st;
    if (kith_eng_row_int(row, "erased") != 0) {
        json_decref(row);
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL, "this participant was erased");
    }
    json_t *args =
        json_pack("[ssssI]", norm, canon, call->params[0], "alias", (json_int_t)call->now_ms);
    st = kith_store_exec(tx, KITH_Q_CODES_INSERT, args, NULL);
    json_decref(args);
    if (st == KITH_E_CONSTRAINT) {
        json_decref(row);
        return kith_err_set(err, KITH_E_CODE_TAKEN, "code", "this code is taken");
    }
    if (st != KITH_OK) {
        json_decref(row);
        return kith_err_set(err, st, NULL, "the database could not store the code");
    }
    *out = kith_eng_render_participant(tx, call->eng, row);
    json_decref(row);
    call->invalidates_links = true;
    return KITH_CREATED;
}
