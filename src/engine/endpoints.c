/*
 * endpoints.c: webhook endpoints as a business manages them (CONTRACT section 11): create
 * (the signing secret is shown once, on creation), read, change, delete, the delivery log and
 * manual retry. Deliveries themselves are scheduled in deliveries.c.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "kith/webhooks.h"

/* clang-format off */
static const char *const event_types[] = {
    "participant.created", "referral.created",  "referral.review",  "referral.qualified",
    "referral.rewarded",   "referral.rejected", "referral.expired", "reward.created",
    "reward.issued",       "reward.redeemed",   "reward.voided",    "reward.expired",
    "notification.created",
    /* tracks, levels and roles (section 15) */
    "participant.level_changed", "participant.level_pending", "participant.role_granted",
    "participant.role_revoked",
    /* moments, asks and rituals (sections 17, 18) */
    "ask.created", "spotlight.drafted", "spotlight.published",
    /* reward fulfilment (section 25) */
    "reward.fulfilled", "reward.fulfilment_failed", "reward.claimed"};
/* clang-format on */

static enum kith_status parse_events(json_t *body, json_t **out, struct kith_err *err)
{
    json_t *v = json_object_get(body, "events");
    *out = json_array();
    if (v == NULL || json_is_null(v))
        return KITH_OK;
    if (!json_is_array(v) || json_array_size(v) > KITH_ARRAY_LEN(event_types))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "events",
                            "'events' must be an array of event types");
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        bool known = false;
        for (size_t k = 0; json_is_string(e) && k < KITH_ARRAY_LEN(event_types); k++)
            known = known || strcmp(json_string_value(e), event_types[k]) == 0;
        if (!known)
            return kith_err_set(err, KITH_E_INVALID_PARAM, "events",
                                "'events' holds an unknown event type");
        json_array_append(*out, e);
    }
    return KITH_OK;
}

static json_t *render_endpoint(json_t *row)
{
    json_t *events = json_loads(kith_eng_row_str(row, "events"), 0, NULL);
    json_t *out = json_pack("{s:s,s:s,s:o,s:s}", "id", kith_eng_row_str(row, "id"), "url",
                            kith_eng_row_str(row, "url"), "events", events ? events : json_array(),
                            "status", kith_eng_row_str(row, "status"));
    const char *d = kith_eng_row_str(row, "description");
    json_object_set_new(out, "description", d ? json_string(d) : json_null());
    const char *why = kith_eng_row_str(row, "disabled_reason");
    json_object_set_new(out, "disabled_reason", why ? json_string(why) : json_null());
    json_object_set_new(out, "created_at", kith_eng_time_or_null(row, "created_at"));
    json_object_set_new(out, "updated_at", kith_eng_time_or_null(row, "updated_at"));
    return out;
}

enum kith_status kith_op_endpoint_create(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                         struct kith_err *err)
{
    static const char *const allowed[] = {"url", "events", "description", NULL};
    const char *url = NULL, *desc = NULL;
    json_t *events = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "url", true, 8, 2000, &url, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "description", false, 0, 500, &desc, err)) !=
            KITH_OK ||
        (st = parse_events(call->body, &events, err)) != KITH_OK)
        goto out;
    if (!kith_eng_url_valid(url)) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "url", "'url' must be an http or https URL");
        goto out;
    }
    char id[KITH_ID_MAX], secret[KITH_WEBHOOK_SECRET_MAX];
    kith_crypto_random_id("whe_", id);
    kith_webhook_secret_new(secret);
    json_t *row = json_pack("{s:s,s:s,s:O,s:s,s:s,s:I,s:I}", "id", id, "url", url, "events", events,
                            "status", "enabled", "secret", secret, "created_at",
                            (json_int_t)call->now_ms, "updated_at", (json_int_t)call->now_ms);
    json_object_set_new(row, "description", desc ? json_string(desc) : json_null());
    st = kith_store_insert(tx, "webhook_endpoints", row);
    kith_eng_outbox_endpoints_changed();
    if (st == KITH_OK) {
        char *text = json_dumps(events, JSON_COMPACT);
        json_object_set_new(row, "events", json_string(text));
        free(text);
        *out = render_endpoint(row);
        json_object_set_new(*out, "secret", json_string(secret));
        st = KITH_CREATED;
    } else {
        st = kith_err_set(err, st, NULL, "the database could not store the endpoint");
    }
    kith_crypto_wipe(secret, sizeof(secret));
    json_decref(row);
out:
    json_decref(events);
    return st;
}

static json_t *render_endpoint_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    (void)tx;
    (void)ctx;
    return render_endpoint(row);
}

enum kith_status kith_op_endpoint_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                       struct kith_err *err)
{
    static const char *const allowed[] = {"limit", "cursor", NULL};
    int64_t limit, after;
    json_t *rows = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_page(call->query, &limit, &after, err)) != KITH_OK)
        return st;
    json_t *args = json_pack("[II]", (json_int_t)after, (json_int_t)(limit + 1));
    st = kith_store_query(tx, KITH_Q_WEBHOOKS_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not list endpoints");
    *out = kith_eng_list_page(rows, limit, render_endpoint_row, tx, NULL);
    json_decref(rows);
    return KITH_OK;
}

enum kith_status kith_op_endpoint_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                      struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *row = NULL;
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st != KITH_OK || (st = kith_eng_load_row(tx, "webhook_endpoints", call->params[0],
                                                 "webhook endpoint", &row, err)) != KITH_OK)
        return st;
    *out = render_endpoint(row);
    json_decref(row);
    return KITH_OK;
}

enum kith_status kith_op_endpoint_update(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                         struct kith_err *err)
{
    static const char *const allowed[] = {"url", "events", "status", "description", NULL};
    const char *url = NULL, *status = NULL, *desc = NULL;
    json_t *events = NULL, *row = NULL, *set = json_object();
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "url", false, 8, 2000, &url, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "status", false, 1, 16, &status, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "description", false, 0, 500, &desc, err)) != KITH_OK)
        goto out;
    if (url && !kith_eng_url_valid(url)) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "url", "'url' must be an http or https URL");
        goto out;
    }
    if (status && strcmp(status, "enabled") != 0 && strcmp(status, "disabled") != 0) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "status",
                          "'status' must be 'enabled' or 'disabled'");
        goto out;
    }
    if (json_object_get(call->body, "events")) {
        if ((st = parse_events(call->body, &events, err)) != KITH_OK)
            goto out;
        json_object_set(set, "events", events);
    }
    if ((st = kith_eng_load_row(tx, "webhook_endpoints", call->params[0], "webhook endpoint", &row,
                                err)) != KITH_OK)
        goto out;
    if (url)
        json_object_set_new(set, "url", json_string(url));
    if (desc)
        json_object_set_new(set, "description", json_string(desc));
    if (status) {
        json_object_set_new(set, "status", json_string(status));
        json_object_set_new(set, "disabled_reason",
                            strcmp(status, "disabled") == 0 ? json_string("by_request")
                                                            : json_null());
        if (strcmp(status, "enabled") == 0)
            json_object_set_new(set, "failing_since", json_null());
    }
    json_object_set_new(set, "updated_at", json_integer(call->now_ms));
    kith_eng_outbox_endpoints_changed();
    if ((st = kith_store_update(tx, "webhook_endpoints", call->params[0], set)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the endpoint");
        goto out;
    }
    json_decref(row);
    row = NULL;
    if ((st = kith_eng_load_row(tx, "webhook_endpoints", call->params[0], "webhook endpoint", &row,
                                err)) == KITH_OK)
        *out = render_endpoint(row);
out:
    json_decref(events);
    json_decref(row);
    json_decref(set);
    return st;
}

enum kith_status kith_op_endpoint_delete(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                         struct kith_err *err)
{
    json_t *row = NULL;
    enum kith_status st =
        kith_eng_load_row(tx, "webhook_endpoints", call->params[0], "webhook endpoint", &row, err);
    if (st != KITH_OK)
        return st;
    json_decref(row);
    json_t *args = json_pack("[sI]", call->params[0], (json_int_t)call->now_ms);
    st = kith_store_exec(tx, KITH_Q_WEBHOOKS_CANCEL, args, NULL);
    json_decref(args);
    args = json_pack("[s]", call->params[0]);
    if (st == KITH_OK)
        st = kith_store_exec(tx, KITH_Q_WEBHOOKS_DELETE, args, NULL);
    kith_eng_outbox_endpoints_changed();
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not delete the endpoint");
    *out = json_pack("{s:s,s:b}", "id", call->params[0], "deleted", 1);
    return KITH_OK;
}

static json_t *render_attempt(struct kith_tx *tx, void *ctx, json_t *row)
{
    (void)tx;
    (void)ctx;
    json_t *out = json_pack("{s:s,s:s,s:s,s:I}", "id", kith_eng_row_str(row, "id"), "message",
                            kith_eng_row_str(row, "message"), "type", kith_eng_row_str(row, "type"),
                            "attempt", (json_int_t)kith_eng_row_int(row, "attempt"));
    json_object_set_new(out, "attempted_at", kith_eng_time_or_null(row, "attempted_at"));
    json_object_set_new(out, "status_code",
                        kith_eng_row_is_null(row, "status_code")
                            ? json_null()
                            : json_integer(kith_eng_row_int(row, "status_code")));
    json_object_set_new(out, "latency_ms",
                        kith_eng_row_is_null(row, "latency_ms")
                            ? json_null()
                            : json_integer(kith_eng_row_int(row, "latency_ms")));
    const char *e = kith_eng_row_str(row, "error");
    json_object_set_new(out, "error", e ? json_string(e) : json_null());
    json_object_set_new(out, "next_attempt_at", kith_eng_time_or_null(row, "next_attempt_at"));
    return out;
}

enum kith_status kith_op_endpoint_deliveries(struct kith_tx *tx, struct kith_call *call,
                                             json_t **out, struct kith_err *err)
{
    return kith_eng_list_children(tx, call, "webhook_endpoints", "webhook endpoint",
                                  KITH_Q_ATTEMPTS_LIST, render_attempt, out, err);
}

enum kith_status kith_op_endpoint_retry(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                        struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *row = NULL, *d = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_load_row(tx, "webhook_endpoints", call->params[0], "webhook endpoint", &row,
                                err)) != KITH_OK)
        return st;
    json_decref(row);
    json_t *args = json_pack("[ss]", call->params[0], call->params[1]);
    st = kith_store_query_one(tx, KITH_Q_DELIVERIES_OF_MESSAGE, args, &d);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND)
        return kith_err_set(err, st, NULL, "no delivery of this message to this endpoint");
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the delivery");
    if (strcmp(kith_eng_row_str(d, "status"), "sending") == 0 ||
        strcmp(kith_eng_row_str(d, "status"), "pending") == 0) {
        json_decref(d);
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL, "this delivery is already scheduled");
    }
    /* Same message id: the receiver can dedupe on webhook-id. */
    json_t *set = json_pack("{s:s,s:I,s:I}", "status", "pending", "next_attempt_at",
                            (json_int_t)call->now_ms, "updated_at", (json_int_t)call->now_ms);
    st = kith_store_update(tx, "webhook_deliveries", kith_eng_row_str(d, "id"), set);
    json_decref(set);
    if (st == KITH_OK)
        *out =
            json_pack("{s:s,s:s,s:s,s:o}", "endpoint", call->params[0], "message", call->params[1],
                      "status", "pending", "next_attempt_at", kith_eng_time_json(call->now_ms));
    json_decref(d);
    return st == KITH_OK ? KITH_OK
                         : kith_err_set(err, st, NULL, "the database could not schedule it");
}
