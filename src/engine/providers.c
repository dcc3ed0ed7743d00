/*
 * providers.c: purchases and refunds told by the payment provider itself (CONTRACT section
 * 12). Each request is authenticated by its signature over the raw bytes, checked before the
 * body is even parsed; the provider's event id dedupes, so a webhook the provider retries (or
 * sends twice at once) has one effect. Events become kith events through the same path as
 * POST /v1/events. A purchase remembers the provider objects it was paid through (a Stripe
 * payment intent and invoice, a Shopify order), and a refund or cancellation of one of them
 * goes to that purchase's person before any e-mail or metadata is believed. A Shopify order
 * carrying a kith code signs its customer up as if they had typed the code. Not for deciding
 * what a refund undoes: lifecycle.c does, for provider and API events alike.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "kith/attribution.h"
#include "kith/codes.h"
#include "kith/webhooks.h"

#define STRIPE_TOLERANCE_S 300
#define STRIPE_ID_MAX 255
#define STRIPE_REF_MAX (STRIPE_ID_MAX + 8) /* "stripe:" + id */
#define STRIPE_LOOKUPS 3                   /* payment intent, invoice, charge */
#define AMOUNT_MAX INT64_C(1000000000000)  /* as POST /v1/events accepts */

static json_t *received(const char *why)
{
    return json_pack("{s:b,s:s}", "received", 1, "ignored", why);
}

static const char *str_at(json_t *obj, const char *a, const char *b)
{
    json_t *v = json_object_get(obj, a);
    if (b)
        v = json_object_get(v, b);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

/* Finds the person by external id first, then by normalised e-mail. */
static enum kith_status find_person(struct kith_tx *tx, const struct prog *p, const char *ext,
                                    const char *email, json_t **out)
{
    enum kith_status st = KITH_E_NOT_FOUND;
    if (ext)
        st = kith_eng_participant_by_external(tx, p->id, ext, out);
    if (st == KITH_E_NOT_FOUND && email) {
        char norm[320];
        if (kith_email_normalize(email, norm, sizeof(norm))) {
            json_t *args = json_pack("[ss]", p->id, norm);
            st = kith_store_query_one(tx, KITH_Q_PARTICIPANTS_BY_EMAIL, args, out);
            json_decref(args);
        }
    }
    return st;
}

static void upper3(const char *in, char out[4])
{
    out[0] = '\0';
    if (in == NULL || strlen(in) != 3)
        return;
    for (int i = 0; i < 3; i++)
        out[i] = (in[i] >= 'a' && in[i] <= 'z') ? (char)(in[i] - 'a' + 'A') : in[i];
    out[3] = '\0';
}

static enum kith_status apply(struct kith_tx *tx, struct kith_call *call, const struct prog *p,
                              json_t *person, struct event_in *in, json_t **out,
                              struct kith_err *err)
{
    enum kith_status st = kith_eng_event_record(tx, call, p, person, in, out, err);
    if (st == KITH_OK || st == KITH_CREATED) {
        json_object_set_new(*out, "received", json_true());
        st = KITH_OK; /* providers want a 2xx; 200 either way */
    }
    return st;
}

/* The program a provider posts to, and its secret for that provider (NULL when none is set). */
static enum kith_status provider_setup(struct kith_tx *tx, struct kith_call *call,
                                       const char *secret_name, struct prog *p, json_t **cfg,
                                       const char **secret, struct kith_err *err)
{
    enum kith_status st = kith_eng_prog_load(tx, call->params[0], p, err);
    if (st != KITH_OK)
        return st;
    if ((st = kith_eng_prog_config(tx, p->id, cfg)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the program");
    *secret = json_string_value(json_object_get(*cfg, secret_name));
    return KITH_OK;
}

/* A Stripe id field: the id string, or the id of an object Stripe expanded in its place. */
static const char *stripe_id(json_t *v)
{
    if (json_is_object(v))
        v = json_object_get(v, "id");
    return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= STRIPE_ID_MAX
               ? json_string_value(v)
               : NULL;
}

/* The Stripe objects an event names, as the refs kith keeps ("stripe:pi_..."). */
struct stripe_ids {
    /* a purchase: what it was paid through */
    char paid[KITH_EVENT_REFS_MAX][STRIPE_REF_MAX];
    size_t npaid;
    /* a refund: the refs its purchase may have been kept under, in the order to try them */
    char undoes[STRIPE_LOOKUPS][STRIPE_REF_MAX];
    size_t nundoes;
    /* a refund: the charge whose running refund total it carries */
    char charge[STRIPE_REF_MAX];
};

static void ref_add(char (*list)[STRIPE_REF_MAX], size_t *n, size_t max, json_t *field)
{
    const char *id = stripe_id(field);
    if (id != NULL && *n < max)
        snprintf(list[(*n)++], STRIPE_REF_MAX, "stripe:%s", id);
}

/* The purchase was paid through the object id in field. */
static void paid_through(struct stripe_ids *ids, json_t *field)
{
    ref_add(ids->paid, &ids->npaid, KITH_EVENT_REFS_MAX, field);
}

/* The refund's purchase may be kept under the object id in field. */
static void refund_of(struct stripe_ids *ids, json_t *field)
{
    ref_add(ids->undoes, &ids->nundoes, STRIPE_LOOKUPS, field);
}

/* The person of the purchase an earlier event recorded under ref (query q looks it up). */
static enum kith_status person_by_ref(struct kith_tx *tx, const struct prog *p, enum kith_query q,
                                      const char *ref, json_t **out)
{
    json_t *ev = NULL, *args = json_pack("[ss]", p->id, ref);
    enum kith_status st = kith_store_query_one(tx, q, args, &ev);
    json_decref(args);
    if (st == KITH_OK)
        st = kith_store_get(tx, "participants", kith_eng_row_str(ev, "participant"), out);
    json_decref(ev);
    return st;
}

/* An amount as the provider sent it, within what POST /v1/events accepts. */
static bool amount_of(json_t *v, int64_t *out)
{
    bool ok =
        json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= AMOUNT_MAX;
    *out = ok ? json_integer_value(v) : 0;
    return ok;
}

/*
 * Reads a Stripe event's object into in (its refs and external_ref pointing into ids), the
 * person's external id and e-mail. Returns the reason to ignore the event, or NULL.
 */
static const char *stripe_read(const char *type, json_t *obj, struct event_in *in, const char **ext,
                               const char **email, struct stripe_ids *ids)
{
    const char *amount_key = NULL;
    bool async = strcmp(type, "checkout.session.async_payment_succeeded") == 0;
    if (async || strcmp(type, "checkout.session.completed") == 0) {
        /* A delayed payment method completes the session unpaid; its success comes later as a
         * checkout.session.async_payment_succeeded, which is the payment itself. */
        const char *paid = str_at(obj, "payment_status", NULL);
        if (!async && (paid == NULL || strcmp(paid, "paid") != 0))
            return "unpaid_session";
        in->type = "purchase";
        amount_key = "amount_total";
        *ext = str_at(obj, "client_reference_id", NULL);
        *email = str_at(obj, "customer_details", "email");
        if (*email == NULL)
            *email = str_at(obj, "customer_email", NULL);
        paid_through(ids, json_object_get(obj, "payment_intent"));
        paid_through(ids, json_object_get(obj, "invoice"));
    } else if (strcmp(type, "invoice.paid") == 0) {
        in->type = "purchase";
        amount_key = "amount_paid";
        *email = str_at(obj, "customer_email", NULL);
        /* Current API versions keep the subscription's metadata under parent; older ones had
         * subscription_details at the top. */
        *ext = str_at(json_object_get(json_object_get(obj, "parent"), "subscription_details"),
                      "metadata", "kith_external_id");
        if (*ext == NULL)
            *ext = str_at(json_object_get(obj, "subscription_details"), "metadata",
                          "kith_external_id");
        paid_through(ids, json_object_get(obj, "id"));
        /* The payment intent: a field in older versions, the invoice's payments today. */
        paid_through(ids, json_object_get(obj, "payment_intent"));
        size_t i;
        json_t *pay;
        json_array_foreach(json_object_get(json_object_get(obj, "payments"), "data"), i, pay)
        {
            json_t *what = json_object_get(pay, "payment");
            paid_through(ids, json_object_get(what, "payment_intent"));
            paid_through(ids, json_object_get(what, "charge"));
        }
    } else if (strcmp(type, "charge.refunded") == 0) {
        in->type = "refund";
        amount_key = "amount_refunded";
        *email = str_at(obj, "billing_details", "email");
        if (*email == NULL)
            *email = str_at(obj, "receipt_email", NULL);
        const char *charge = stripe_id(json_object_get(obj, "id"));
        refund_of(ids, json_object_get(obj, "payment_intent"));
        refund_of(ids, json_object_get(obj, "invoice"));
        refund_of(ids, json_object_get(obj, "id"));
        /* amount_refunded is the charge's running total: refunds of one charge count once. */
        if (charge != NULL) {
            snprintf(ids->charge, sizeof(ids->charge), "stripe:%s", charge);
            in->external_ref = ids->charge;
        }
    } else {
        return "event_type";
    }
    if (*ext == NULL)
        *ext = str_at(obj, "metadata", "kith_external_id");
    in->has_amount = amount_of(json_object_get(obj, amount_key), &in->amount);
    for (size_t i = 0; i < ids->npaid; i++)
        in->refs[i] = ids->paid[i];
    return NULL;
}

enum kith_status kith_op_stripe(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                struct kith_err *err)
{
    struct prog p;
    json_t *cfg = NULL, *ev = NULL, *person = NULL;
    const char *secret = NULL;
    enum kith_status st = provider_setup(tx, call, "stripe_webhook_secret", &p, &cfg, &secret, err);
    if (st != KITH_OK)
        return st;
    const char *sig = call->header(call->header_ctx, "Stripe-Signature");
    if (secret == NULL || sig == NULL ||
        !kith_stripe_verify(secret, sig, call->raw_body, call->raw_len, call->now_ms / 1000,
                            STRIPE_TOLERANCE_S)) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "Stripe-Signature",
                          secret ? "the Stripe signature does not match"
                                 : "this program has no stripe_webhook_secret");
        goto out;
    }
    ev = json_loadb(call->raw_body, call->raw_len, JSON_REJECT_DUPLICATES, NULL);
    const char *id = str_at(ev, "id", NULL), *type = str_at(ev, "type", NULL);
    json_t *obj = json_object_get(json_object_get(ev, "data"), "object");
    if (!json_is_object(ev) || id == NULL || type == NULL || !json_is_object(obj)) {
        st = kith_err_set(err, KITH_E_INVALID_JSON, NULL, "not a Stripe event");
        goto out;
    }
    struct event_in in = {.provider_id = id};
    struct stripe_ids ids = {.npaid = 0};
    const char *ext = NULL, *email = NULL;
    const char *ignored = stripe_read(type, obj, &in, &ext, &email, &ids);
    if (ignored) {
        *out = received(ignored);
        goto out;
    }
    char cur[4];
    upper3(str_at(obj, "currency", NULL), cur);
    in.currency = cur[0] ? cur : NULL;
    json_t *created = json_object_get(ev, "created");
    /* Only plausible times (1970..9999) are taken from the provider; anything else is now. */
    in.at_ms = json_is_integer(created) && json_integer_value(created) > 0 &&
                       json_integer_value(created) < INT64_C(253402300800)
                   ? json_integer_value(created) * 1000
                   : call->now_ms;
    /* A refund belongs to whoever made the purchase it undoes, whatever e-mail the buyer typed
     * or the charge's metadata says; only a charge no purchase knows falls back to those. */
    st = KITH_E_NOT_FOUND;
    for (size_t i = 0; st == KITH_E_NOT_FOUND && i < ids.nundoes; i++)
        st = person_by_ref(tx, &p, KITH_Q_EVENTS_BY_REF, ids.undoes[i], &person);
    if (st == KITH_E_NOT_FOUND)
        st = find_person(tx, &p, ext, email, &person);
    if (st == KITH_E_NOT_FOUND) {
        *out = received("unknown_person");
        st = KITH_OK;
        goto out;
    }
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the participant");
        goto out;
    }
    st = apply(tx, call, &p, person, &in, out, err);
out:
    json_decref(cfg);
    json_decref(ev);
    json_decref(person);
    return st;
}

/* "12.34" in a currency with `exp` decimals -> 1234; false on anything else. */
static bool decimal_minor(const char *s, int exp, int64_t *out)
{
    int64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0;
    const char *p = s;
    if (p == NULL || *p == '\0')
        return false;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (whole > INT64_C(100000000000))
            return false;
        whole = whole * 10 + (*p - '0');
    }
    if (digits == 0)
        return false;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
            if (fdigits >= exp) {
                if (*p != '0')
                    return false; /* sub-minor-unit precision */
                continue;
            }
            frac = frac * 10 + (*p - '0');
        }
    }
    if (*p != '\0')
        return false;
    for (int i = fdigits < exp ? fdigits : exp; i < exp; i++)
        frac *= 10;
    int64_t scale = 1;
    for (int i = 0; i < exp; i++)
        scale *= 10;
    *out = whole * scale + frac;
    return true;
}

static int currency_exponent(const char *cur)
{
    static const char *const zero[] = {"JPY", "KRW", "VND", "CLP", "ISK",
                                       "HUF", "TWD", "UGX", "XAF", "XOF"};
    for (size_t i = 0; cur && i < KITH_ARRAY_LEN(zero); i++) {
        if (strcmp(cur, zero[i]) == 0)
            return 0;
    }
    return 2;
}

static const char *note_attribute(json_t *order, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(order, "note_attributes"), i, a)
    {
        const char *n = str_at(a, "name", NULL);
        if (n && strcmp(n, name) == 0)
            return str_at(a, "value", NULL);
    }
    return NULL;
}

/* A new customer whose order carries a kith code: a signup with that code typed. */
static enum kith_status signup_from_order(struct kith_tx *tx, struct kith_call *call,
                                          const struct prog *p, json_t *order, const char *ext,
                                          json_t **person, struct kith_err *err)
{
    /* An order may combine several discounts: the first that is a kith code counts. Only a
     * kith code makes a customer a participant; the shop's own codes mean nothing here. */
    const char *code = NULL;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(order, "discount_codes"), i, d)
    {
        const char *c = str_at(d, "code", NULL);
        char norm[KITH_CODE_NORM_MAX + 1];
        if (code != NULL || c == NULL || !kith_code_normalize(c, norm))
            continue;
        json_t *row = NULL, *args = json_pack("[s]", norm);
        if (kith_store_query_one(tx, KITH_Q_CODES_FIND, args, &row) == KITH_OK)
            code = c;
        json_decref(args);
        json_decref(row);
    }
    if (code == NULL || ext == NULL)
        return KITH_E_NOT_FOUND;
    json_t *body = json_pack("{s:s,s:s,s:s}", "program", p->id, "external_id", ext, "code", code);
    const char *email = str_at(order, "email", NULL);
    const char *name = str_at(order, "customer", "first_name");
    if (email)
        json_object_set_new(body, "email", json_string(email));
    if (name)
        json_object_set_new(body, "first_name", json_string(name));
    struct kith_call sub = *call;
    sub.body = body;
    json_t *res = NULL;
    enum kith_status st = kith_op_signup(tx, &sub, &res, err);
    json_decref(body);
    if (st == KITH_OK || st == KITH_CREATED) {
        st = kith_eng_participant_by_external(tx, p->id, ext, person);
        if (st != KITH_OK)
            st = kith_err_set(err, st, NULL, "the database could not read the participant");
    } else if (st == KITH_E_INVALID_PARAM) {
        st = KITH_E_NOT_FOUND; /* an order that cannot become a person is simply not ours */
    }
    json_decref(res);
    return st;
}

/* A Shopify header by its name after "Shopify-": Shopify's own libraries send it with the X-
 * prefix or without. call->header compares names case-insensitively (HTTP says they are). */
static const char *shopify_header(const struct kith_call *call, const char *name)
{
    char full[64];
    snprintf(full, sizeof(full), "X-Shopify-%s", name);
    const char *v = call->header(call->header_ctx, full);
    return v ? v : call->header(call->header_ctx, full + 2);
}

/* "order:<id>" for an order id, false when the id is not an integer. */
static bool order_ref(json_t *id, char out[64])
{
    if (!json_is_integer(id))
        return false;
    snprintf(out, 64, "order:%lld", (long long)json_integer_value(id));
    return true;
}

/* The external id an order names: its note attribute kith_external_id, else its customer's id
 * (into cust). A guest checkout has `customer: null`, and then only its e-mail to go by. */
static const char *order_external_id(json_t *order, char cust[32])
{
    const char *ext = note_attribute(order, "kith_external_id");
    json_t *cid = json_object_get(json_object_get(order, "customer"), "id");
    if (ext == NULL && json_is_integer(cid)) {
        snprintf(cust, 32, "%lld", (long long)json_integer_value(cid));
        ext = cust;
    }
    return ext;
}

static const char *order_email(json_t *order)
{
    const char *email = str_at(order, "email", NULL);
    return email ? email : str_at(order, "contact_email", NULL);
}

/* The refund amount of a refunds/create: its refund transactions, in minor units. */
static int64_t refund_total(json_t *refund, char cur[4])
{
    int64_t total = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(refund, "transactions"), i, t)
    {
        int64_t a = 0;
        char tcur[4];
        const char *kind = str_at(t, "kind", NULL);
        if (kind == NULL || strcmp(kind, "refund") != 0)
            continue;
        upper3(str_at(t, "currency", NULL), tcur);
        if (decimal_minor(str_at(t, "amount", NULL), currency_exponent(tcur), &a)) {
            total += a;
            memcpy(cur, tcur, 4);
        }
    }
    return total;
}

enum kith_status kith_op_shopify(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                 struct kith_err *err)
{
    struct prog p;
    json_t *cfg = NULL, *order = NULL, *person = NULL;
    const char *secret = NULL;
    enum kith_status st =
        provider_setup(tx, call, "shopify_webhook_secret", &p, &cfg, &secret, err);
    if (st != KITH_OK)
        return st;
    const char *hmac = shopify_header(call, "Hmac-Sha256");
    if (secret == NULL || hmac == NULL ||
        !kith_shopify_verify(secret, hmac, call->raw_body, call->raw_len)) {
        st = kith_err_set(err, KITH_E_UNAUTHORIZED, "X-Shopify-Hmac-Sha256",
                          secret ? "the Shopify HMAC does not match"
                                 : "this program has no shopify_webhook_secret");
        goto out;
    }
    const char *topic = shopify_header(call, "Topic");
    const char *event_id = shopify_header(call, "Event-Id");
    if (event_id == NULL)
        event_id = shopify_header(call, "Webhook-Id");
    order = json_loadb(call->raw_body, call->raw_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(order)) {
        st = kith_err_set(err, KITH_E_INVALID_JSON, NULL, "not a Shopify payload");
        goto out;
    }
    if (kith_eng_shopify_collection_topic(topic)) { /* CONTRACT 19 (resource_sync.c) */
        st = kith_eng_shopify_collection(tx, call, &p, topic, order, out, err);
        goto out;
    }
    char provider[300], ref[64], cust[32];
    snprintf(provider, sizeof(provider), "shopify:%s", event_id ? event_id : "");
    struct event_in in = {.provider_id = event_id ? provider : NULL, .at_ms = call->now_ms};
    char cur[4] = "";
    if (topic && strcmp(topic, "orders/paid") == 0) {
        in.type = "purchase";
        upper3(str_at(order, "currency", NULL), cur);
        in.currency = cur[0] ? cur : NULL;
        in.has_amount =
            decimal_minor(str_at(order, "total_price", NULL), currency_exponent(cur), &in.amount);
        const char *ext = order_external_id(order, cust);
        st = find_person(tx, &p, ext, order_email(order), &person);
        if (st == KITH_E_NOT_FOUND)
            st = signup_from_order(tx, call, &p, order, ext, &person, err);
        /* The order id finds the person of its later refunds and cancellation. */
        if (order_ref(json_object_get(order, "id"), ref))
            in.external_ref = ref;
    } else if (topic && strcmp(topic, "refunds/create") == 0) {
        in.type = "refund";
        in.has_amount = true;
        in.amount = refund_total(order, cur);
        in.currency = cur[0] ? cur : NULL;
        st = KITH_E_NOT_FOUND;
        if (order_ref(json_object_get(order, "order_id"), ref))
            st = person_by_ref(tx, &p, KITH_Q_EVENTS_BY_EXTERNAL_REF, ref, &person);
    } else if (topic && strcmp(topic, "orders/cancelled") == 0) {
        /* A cancel undoes the purchase whole, whatever was refunded with it. */
        in.type = "cancel";
        st = KITH_E_NOT_FOUND;
        if (order_ref(json_object_get(order, "id"), ref))
            st = person_by_ref(tx, &p, KITH_Q_EVENTS_BY_EXTERNAL_REF, ref, &person);
        if (st == KITH_E_NOT_FOUND)
            st = find_person(tx, &p, order_external_id(order, cust), order_email(order), &person);
    } else {
        *out = received("topic");
        goto out;
    }
    if (st == KITH_E_NOT_FOUND) {
        *out = received("unknown_person");
        st = KITH_OK;
        goto out;
    }
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the participant");
        goto out;
    }
    st = apply(tx, call, &p, person, &in, out, err);
out:
    json_decref(cfg);
    json_decref(order);
    json_decref(person);
    return st;
}
