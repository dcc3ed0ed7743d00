/*
 * privacy.c: what kith holds about one person, all of it (export), and removing the personal
 * part of it (erase) while the ledger stays whole: referrals and rewards remain, pseudonymous,
 * so totals never change, and the code stays reserved forever but stops attributing. Erasure
 * also clears cached answers that quoted the person and asks the store to purge its log, so no
 * copy is left in the database files (secure_delete zeroes freed content in the main file).
 */
#include <string.h>

#include "engine/health.h"
#include "engine/internal.h"
#include "engine/pages.h"
#include "engine/tracks.h"

static enum kith_status rows(struct kith_tx *tx, enum kith_query query, const char *id,
                             json_t **out)
{
    json_t *args = json_pack("[s]", id);
    enum kith_status st = kith_store_query(tx, query, args, out);
    json_decref(args);
    return st;
}

/* Times in exported rows as RFC 3339, like everywhere else in the API. */
static void times_to_text(json_t *list)
{
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        const char *key;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(r, tmp, key, v)
        {
            size_t n = strlen(key);
            if (n > 3 && strcmp(key + n - 3, "_at") == 0 && json_is_integer(v))
                json_object_set_new(r, key, kith_eng_time_json(json_integer_value(v)));
        }
    }
}

enum kith_status kith_op_participant_export(struct kith_tx *tx, struct kith_call *call,
                                            json_t **out, struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *person = NULL, *codes = NULL, *clicks = NULL, *made = NULL, *rewards = NULL,
           *events = NULL, *decisions = NULL, *received = NULL;
    const char *id = call->params[0];
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st != KITH_OK ||
        (st = kith_eng_load_row(tx, "participants", id, "participant", &person, err)) != KITH_OK)
        return st;
    json_t *args = json_pack("[s]", id);
    st = kith_store_query_one(tx, KITH_Q_REFERRALS_OF_REFERRED, args, &received);
    json_decref(args);
    if ((st != KITH_OK && st != KITH_E_NOT_FOUND) ||
        (st = rows(tx, KITH_Q_EXPORT_CODES, id, &codes)) != KITH_OK ||
        (st = rows(tx, KITH_Q_EXPORT_CLICKS, id, &clicks)) != KITH_OK ||
        (st = rows(tx, KITH_Q_EXPORT_REFERRALS_MADE, id, &made)) != KITH_OK ||
        (st = rows(tx, KITH_Q_EXPORT_REWARDS, id, &rewards)) != KITH_OK ||
        (st = rows(tx, KITH_Q_EXPORT_EVENTS, id, &events)) != KITH_OK ||
        (st = rows(tx, KITH_Q_EXPORT_DECISIONS, id, &decisions)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the person's data");
        goto out;
    }
    times_to_text(codes);
    times_to_text(clicks);
    times_to_text(events);
    times_to_text(decisions);
    size_t i;
    json_t *r;
    json_array_foreach(clicks, i, r) json_object_set_new(
        r, "has_ip_hash", json_boolean(kith_eng_row_int(r, "has_ip_hash") != 0));
    json_t *made_out = json_array(), *rewards_out = json_array();
    json_array_foreach(made, i, r) json_array_append_new(made_out, kith_eng_render_referral(tx, r));
    json_array_foreach(rewards, i, r)
        json_array_append_new(rewards_out, kith_eng_render_reward(tx, r));
    json_t *p = kith_eng_render_participant(tx, call->eng, person);
    /* What kith keeps for fraud checks, shown as what it is. */
    json_object_set_new(p, "ip_hash_held", json_boolean(!kith_eng_row_is_null(person, "ip_hash")));
    json_object_set_new(p, "device_id",
                        kith_eng_row_is_null(person, "device_id")
                            ? json_null()
                            : json_string(kith_eng_row_str(person, "device_id")));
    json_object_set_new(p, "payment_fingerprint",
                        kith_eng_row_is_null(person, "payment_fingerprint")
                            ? json_null()
                            : json_string(kith_eng_row_str(person, "payment_fingerprint")));
    *out = json_object();
    json_object_set_new(*out, "participant", p);
    json_object_set_new(*out, "codes", json_incref(codes));
    json_object_set_new(*out, "clicks", json_incref(clicks));
    json_object_set_new(*out, "referrals_made", made_out);
    json_object_set_new(*out, "referral_received",
                        received ? kith_eng_render_referral(tx, received) : json_null());
    json_object_set_new(*out, "rewards", rewards_out);
    json_object_set_new(*out, "events", json_incref(events));
    json_t *notes = NULL;
    if (rows(tx, KITH_Q_EXPORT_NOTIFICATIONS, id, &notes) == KITH_OK) {
        times_to_text(notes);
        json_object_set_new(*out, "notifications", notes);
    } else {
        json_object_set_new(*out, "notifications", json_array());
    }
    json_object_set_new(*out, "review_decisions", json_incref(decisions));
    if ((st = kith_eng_adv_export(tx, id, *out)) != KITH_OK ||   /* activities, tracks (15, 16) */
        (st = kith_eng_leads_export(tx, id, *out)) != KITH_OK || /* CONTRACT 19 (leads.c) */
        (st = kith_eng_exp_export(tx, id, *out)) != KITH_OK) {   /* experiments (23) */
        json_decref(*out);
        *out = NULL;
        st = kith_err_set(err, st, NULL, "the database could not read the person's data");
        goto out;
    }
    json_object_set_new(*out, "hub_links", kith_eng_hub_export(tx, id)); /* tokens never kept */
    if ((st = kith_eng_asks_export(tx, person, call->now_ms, *out)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the person's data");
        goto out;
    }
    json_object_set_new(*out, "exported_at", kith_eng_time_json(call->now_ms));
    st = KITH_OK;
out:
    json_decref(person);
    json_decref(codes);
    json_decref(clicks);
    json_decref(made);
    json_decref(rewards);
    json_decref(events);
    json_decref(decisions);
    json_decref(received);
    return st;
}

enum kith_status kith_op_participant_erase(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                           struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    const char *id = call->params[0];
    json_t *person = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_load_row(tx, "participants", id, "participant", &person, err)) != KITH_OK)
        return st;
    bool counted = strcmp(kith_eng_row_str(person, "status"), "active") == 0 &&
                   kith_eng_row_int(person, "erased") == 0;
    if (counted &&
        ((st = kith_eng_program_count(tx, kith_eng_row_str(person, "program"), -1, 0)) != KITH_OK ||
         (st = kith_eng_health_active(tx, id, false)) != KITH_OK)) {
        json_decref(person);
        return kith_err_set(err, st, NULL, "the database could not erase the person");
    }
    json_decref(person);
    person = NULL;
    static const enum kith_query steps[] = {KITH_Q_ERASE_EVENTS,          KITH_Q_ERASE_REFERRALS,
                                            KITH_Q_ERASE_CLICKS,          KITH_Q_ERASE_IDEMPOTENCY,
                                            KITH_Q_ERASE_NOTIFICATIONS,   KITH_Q_ERASE_MESSAGES,
                                            KITH_Q_ERASE_NOTICE_MESSAGES, KITH_Q_HUB_TOKENS_ERASE};
    json_t *args = json_pack("[sI]", id, (json_int_t)call->now_ms);
    st = kith_store_exec(tx, KITH_Q_ERASE_PARTICIPANT, args, NULL);
    json_decref(args);
    for (size_t i = 0; st == KITH_OK && i < KITH_ARRAY_LEN(steps); i++) {
        args = json_pack("[s]", id);
        st = kith_store_exec(tx, steps[i], args, NULL);
        json_decref(args);
    }
    if (st == KITH_OK)
        st = kith_eng_adv_erase(tx, id); /* activity notes and links (16) */
    if (st == KITH_OK)                   /* the leads that were this person (leads.c) */
        st = kith_eng_leads_erase_person(tx, id, call->now_ms);
    st = kith_eng_asks_erase(tx, id);
    if (st == KITH_OK)
        st = kith_eng_fulfil_erase(tx, id); /* claim answers, Stripe ids (25) */
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not erase the person");
    kith_tx_purge_log_after_commit(tx);
    call->invalidates_links = true;
    if ((st = kith_eng_load_row(tx, "participants", id, "participant", &person, err)) != KITH_OK)
        return st;
    *out = kith_eng_render_participant(tx, call->eng, person);
    json_object_set_new(*out, "erased", json_true());
    json_decref(person);
    return KITH_OK;
}
