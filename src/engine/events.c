/*
 * events.c: what the business tells kith happened to a person (CONTRACT section 7): purchases,
 * refunds, cancellations and custom events. A provider's event id is unique per program in the
 * database, so the same event sent twice, or twice at once, has one effect; the repeat answers
 * with the first result.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/health.h"
#include "engine/internal.h"
#include "kith/crypto.h"
#include "kith/text.h"

static const char *const event_fields[] = {"program", "type",        "external_id",
                                           "amount",  "currency",    "payment_fingerprint",
                                           "id",      "occurred_at", NULL};

static json_t *render_event(json_t *ev, const char *external_id)
{
    json_t *out = json_object();
    json_object_set_new(out, "id", json_string(kith_eng_row_str(ev, "id")));
    json_object_set_new(out, "program", json_string(kith_eng_row_str(ev, "program")));
    json_object_set_new(out, "type", json_string(kith_eng_row_str(ev, "type")));
    json_object_set_new(out, "participant", json_string(kith_eng_row_str(ev, "participant")));
    json_object_set_new(out, "external_id", json_string(external_id));
    json_object_set_new(out, "amount",
                        kith_eng_row_is_null(ev, "amount")
                            ? json_null()
                            : json_integer(kith_eng_row_int(ev, "amount")));
    json_object_set_new(out, "currency",
                        kith_eng_row_str(ev, "currency")
                            ? json_string(kith_eng_row_str(ev, "currency"))
                            : json_null());
    json_object_set_new(out, "provider_id",
                        kith_eng_row_str(ev, "provider_id")
                            ? json_string(kith_eng_row_str(ev, "provider_id"))
                            : json_null());
    json_object_set_new(out, "referral",
                        kith_eng_row_str(ev, "referral")
                            ? json_string(kith_eng_row_str(ev, "referral"))
                            : json_null());
    json_object_set_new(out, "occurred_at", kith_eng_time_or_null(ev, "occurred_at"));
    json_object_set_new(out, "created_at", kith_eng_time_or_null(ev, "created_at"));
    return out;
}

/* The answer for an event: the event, its person's referral as it is now, the rewards it made. */
static enum kith_status answer(struct kith_tx *tx, json_t *ev, const char *external_id,
                               json_t **out, struct kith_err *err)
{
    json_t *ref = NULL, *rewards = NULL,
           *args = json_pack("[s]", kith_eng_row_str(ev, "participant"));
    enum kith_status st = kith_store_query_one(tx, KITH_Q_REFERRALS_OF_REFERRED, args, &ref);
    json_decref(args);
    if (st != KITH_OK && st != KITH_E_NOT_FOUND)
        return kith_err_set(err, st, NULL, "the database could not read the referral");
    args = json_pack("[s]", kith_eng_row_str(ev, "id"));
    st = kith_store_query(tx, KITH_Q_REWARDS_OF_EVENT, args, &rewards);
    json_decref(args);
    if (st != KITH_OK) {
        json_decref(ref);
        return kith_err_set(err, st, NULL, "the database could not read rewards");
    }
    json_t *list = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rewards, i, r) json_array_append_new(list, kith_eng_render_reward(tx, r));
    json_decref(rewards);
    *out = json_object();
    json_object_set_new(*out, "event", render_event(ev, external_id));
    json_object_set_new(*out, "referral", ref ? kith_eng_render_referral(tx, ref) : json_null());
    json_object_set_new(*out, "rewards", list);
    json_decref(ref);
    return KITH_OK;
}

/*
 * A qualifying payment made with the referrer's own card adds same_payment and re-scores the
 * referral before it can qualify (CONTRACT section 6).
 */
static enum kith_status rescore_payment(struct kith_tx *tx, const struct prog *p, json_t *referral,
                                        const char *payment, int64_t now_ms, struct kith_err *err)
{
    char status[16];
    kith_strlcpy(status, kith_eng_row_str(referral, "status"), sizeof(status));
    unsigned flags = kith_eng_flags_from_json(kith_eng_row_str(referral, "fraud_flags"));
    bool known = false;
    if ((strcmp(status, "pending") != 0 && strcmp(status, "review") != 0) ||
        (flags & KITH_FRAUD_SAME_PAYMENT))
        return KITH_OK;
    json_t *referrer = NULL;
    enum kith_status st =
        kith_store_get(tx, "participants", kith_eng_row_str(referral, "referrer"), &referrer);
    if (st == KITH_OK)
        st = kith_eng_payment_known(tx, referrer, payment, &known);
    json_decref(referrer);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not score the referral");
    if (!known)
        return KITH_OK;
    flags |= KITH_FRAUD_SAME_PAYMENT;
    const char *verdict = kith_eng_verdict_status(p, flags);
    /* Scores only rise: a referral already in review stays there unless now rejected. */
    if (strcmp(status, "review") == 0 && strcmp(verdict, "pending") == 0)
        verdict = "review";
    /* Flags as the text the store keeps, so the caller's copy reads like a stored row. */
    json_t *names = kith_eng_flags_json(flags);
    char *text = json_dumps(names, JSON_COMPACT);
    json_decref(names);
    json_t *set = json_pack("{s:I,s:s}", "fraud_score", (json_int_t)kith_fraud_score(flags),
                            "fraud_flags", text ? text : "[]");
    free(text);
    enum kith_referral_status to;
    if (strcmp(verdict, status) == 0)
        st = kith_eng_referral_amend(tx, referral, set, now_ms, err);
    else if (kith_referral_status_parse(verdict, &to))
        st = kith_eng_move_checked(
            kith_eng_referral_move(tx, referral, to, set, now_ms, now_ms, err), "rescore", err);
    else
        st = kith_err_set(err, KITH_E_INTERNAL, NULL, "unknown verdict '%s'", verdict);
    json_decref(set);
    return st;
}

/* Keeps the provider objects a purchase was paid through, each once, for its later refunds. */
static enum kith_status store_refs(struct kith_tx *tx, const char *program, const char *event,
                                   const char *const *refs)
{
    enum kith_status st = KITH_OK;
    for (size_t i = 0; st == KITH_OK && i < KITH_EVENT_REFS_MAX && refs[i]; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen = seen || strcmp(refs[i], refs[j]) == 0;
        if (seen)
            continue;
        json_t *row =
            json_pack("{s:s,s:s,s:s}", "program", program, "ref", refs[i], "event", event);
        st = kith_store_insert(tx, "event_refs", row);
        json_decref(row);
    }
    return st;
}

enum kith_status kith_op_event_create(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                      struct kith_err *err)
{
    const char *program = NULL, *type = NULL, *ext = NULL, *currency = NULL, *payment = NULL,
               *provider = NULL;
    int64_t amount = 0, at_ms = call->now_ms;
    bool has_amount = false;
    struct prog p;
    json_t *person = NULL;
    enum kith_status st;
    json_t *body = call->body;
    if ((st = kith_eng_in_allowed(body, event_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "program", false, 1, 40, &program, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "type", true, 1, 40, &type, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "external_id", true, 1, 255, &ext, err)) != KITH_OK ||
        (st = kith_eng_in_int(body, "amount", 0, INT64_C(1000000000000), &amount, &has_amount,
                              err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "currency", false, 3, 3, &currency, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "payment_fingerprint", false, 1, 200, &payment, err)) !=
            KITH_OK ||
        (st = kith_eng_in_string(body, "id", false, 1, 255, &provider, err)) != KITH_OK ||
        (st = kith_eng_in_time(body, "occurred_at", &at_ms, NULL, err)) != KITH_OK)
        return st;
    if (!kith_eng_event_type_valid(type))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "type",
                            "'type' must be purchase, refund, cancel or match [a-z0-9_.]{1,40}");
    if (currency && !kith_valid_currency(currency))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "currency",
                            "'currency' must be an ISO 4217 code such as USD");
    if ((st = kith_eng_prog_resolve(tx, program, &p, err)) != KITH_OK)
        return st;
    if ((st = kith_eng_participant_by_external(tx, p.id, ext, &person)) != KITH_OK) {
        if (st == KITH_E_NOT_FOUND)
            return kith_err_set(err, st, "external_id", "no participant with this external_id");
        return kith_err_set(err, st, NULL, "the database could not read the participant");
    }
    struct event_in in = {.type = type,
                          .has_amount = has_amount,
                          .amount = amount,
                          .currency = currency,
                          .payment = payment,
                          .provider_id = provider,
                          .external_ref = NULL,
                          .at_ms = at_ms};
    st = kith_eng_event_record(tx, call, &p, person, &in, out, err);
    json_decref(person);
    return st;
}

enum kith_status kith_eng_event_record(struct kith_tx *tx, struct kith_call *call,
                                       const struct prog *pp, json_t *person,
                                       const struct event_in *in, json_t **out,
                                       struct kith_err *err)
{
    const char *type = in->type, *currency = in->currency, *payment = in->payment,
               *provider = in->provider_id;
    const char *ext = kith_eng_row_str(person, "external_id");
    int64_t amount = in->amount, at_ms = in->at_ms;
    bool has_amount = in->has_amount;
    struct prog p = *pp;
    json_t *ev = NULL, *referral = NULL, *args = NULL;
    enum kith_status st;
    if (provider) {
        args = json_pack("[ss]", p.id, provider);
        st = kith_store_query_one(tx, KITH_Q_EVENTS_BY_PROVIDER, args, &ev);
        json_decref(args);
        if (st == KITH_OK) {
            st = answer(tx, ev, ext, out, err);
            goto out;
        }
        if (st != KITH_E_NOT_FOUND) {
            st = kith_err_set(err, st, NULL, "the database could not read events");
            goto out;
        }
    }

    char id[KITH_ID_MAX];
    kith_crypto_random_id("evt_", id);
    ev = json_object();
    json_object_set_new(ev, "id", json_string(id));
    json_object_set_new(ev, "program", json_string(p.id));
    json_object_set_new(ev, "participant", json_string(kith_eng_row_str(person, "id")));
    json_object_set_new(ev, "type", json_string(type));
    json_object_set_new(ev, "amount", has_amount ? json_integer(amount) : json_null());
    json_object_set_new(ev, "currency", currency ? json_string(currency) : json_null());
    json_object_set_new(ev, "provider_id", provider ? json_string(provider) : json_null());
    json_object_set_new(ev, "payment_fingerprint", payment ? json_string(payment) : json_null());
    json_object_set_new(ev, "occurred_at", json_integer(at_ms));
    json_object_set_new(ev, "created_at", json_integer(call->now_ms));
    json_object_set_new(ev, "external_ref",
                        in->external_ref ? json_string(in->external_ref) : json_null());
    args = json_pack("[s]", kith_eng_row_str(person, "id"));
    st = kith_store_query_one(tx, KITH_Q_REFERRALS_OF_REFERRED, args, &referral);
    json_decref(args);
    if (st != KITH_OK && st != KITH_E_NOT_FOUND) {
        st = kith_err_set(err, st, NULL, "the database could not read the referral");
        goto out;
    }
    json_object_set_new(ev, "referral",
                        referral ? json_string(kith_eng_row_str(referral, "id")) : json_null());
    if ((st = kith_store_insert(tx, "events", ev)) != KITH_OK) {
        if (st == KITH_E_CONSTRAINT && provider) {
            /* The same provider event committed meanwhile (another instance): its answer. */
            json_decref(ev);
            ev = NULL;
            args = json_pack("[ss]", p.id, provider);
            st = kith_store_query_one(tx, KITH_Q_EVENTS_BY_PROVIDER, args, &ev);
            json_decref(args);
            if (st == KITH_OK) {
                st = answer(tx, ev, ext, out, err);
                goto out;
            }
        }
        st = kith_err_set(err, st == KITH_E_CONSTRAINT ? KITH_E_UNAVAILABLE : st, NULL,
                          "the database could not store the event");
        goto out;
    }
    if ((st = store_refs(tx, p.id, id, in->refs)) != KITH_OK ||
        (st = kith_eng_health_event(tx, &p, ev)) != KITH_OK) { /* purchases, revenue (22) */
        st = kith_err_set(err, st, NULL, "the database could not store the event");
        goto out;
    }

    if (referral) {
        bool qualifying =
            strcmp(type, p.qual_event) == 0 && (has_amount ? amount : 0) >= p.min_amount;
        /* A purchase made before expires_at qualifies even when reported after it; otherwise a
         * pending referral whose expires_at has passed is expired first, as the sweeper would
         * have made it, whether or not it has run (CONTRACT section 5). */
        bool in_time = kith_eng_row_is_null(referral, "expires_at") ||
                       at_ms < kith_eng_row_int(referral, "expires_at");
        if (!(qualifying && in_time) &&
            (st = kith_eng_referral_expire_due(tx, referral, call->now_ms, err)) != KITH_OK)
            goto out;
        if (qualifying && in_time && payment &&
            (st = rescore_payment(tx, &p, referral, payment, call->now_ms, err)) != KITH_OK)
            goto out;
        if (qualifying) {
            st = kith_eng_referral_qualify(tx, call->eng, &p, referral, id, at_ms, call->now_ms,
                                           NULL, err);
        } else if (strcmp(type, "refund") == 0 || strcmp(type, "cancel") == 0) {
            /* Back to pending after its expiry: expired, as the sweeper would make it. */
            st = kith_eng_referral_undo(tx, call->eng, &p, referral, at_ms, call->now_ms, err);
            if (st == KITH_OK)
                st = kith_eng_referral_expire_due(tx, referral, call->now_ms, err);
        } else {
            st = KITH_OK;
        }
        if (st != KITH_OK)
            goto out;
    }
    json_decref(ev);
    ev = NULL;
    if ((st = kith_eng_load_row(tx, "events", id, "event", &ev, err)) != KITH_OK)
        goto out;
    if ((st = answer(tx, ev, ext, out, err)) == KITH_OK)
        st = KITH_CREATED;
out:
    json_decref(ev);
    json_decref(referral);
    return st;
}
