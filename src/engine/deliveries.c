/*
 * deliveries.c: the store side of webhook delivery and e-mail. Due deliveries are claimed
 * (pending -> sending) in one transaction, sent outside any transaction by the sender, and each
 * result is recorded in another: the attempt log, the next try on the retry schedule (or
 * Retry-After), 410 disabling the endpoint, five days of failures disabling it too. A crash
 * between claim and record leaves rows in `sending`; start-up puts them back to pending, so
 * every committed event is delivered at least once, always under its original message id.
 */
#include <string.h>

#include "engine/internal.h"
#include "engine/pages.h"
#include "kith/webhooks.h"

#define FAILING_DISABLE_MS (5 * KITH_MS_PER_DAY)
#define MAIL_ATTEMPTS_MAX 3
/* How long a claim holds: longer than a transfer may take (15 s), so only a dead instance's
 * claims run out. */
#define LEASE_MS 30000

enum kith_status kith_engine_deliveries_recover(struct kith_tx *tx)
{
    json_t *args = json_array();
    enum kith_status st = kith_store_exec(tx, KITH_Q_DELIVERIES_RECOVER, args, NULL);
    if (st == KITH_OK)
        st = kith_store_exec(tx, KITH_Q_NOTIFICATIONS_RECOVER, args, NULL);
    json_decref(args);
    if (st == KITH_OK)
        st = kith_eng_lead_mail_recover(tx); /* follow-ups to leads (followups.c) */
    return st;
}

/*
 * Lists due rows with `due`, then takes each with `take` (id, now, lease end): only rows this
 * transaction really moved are ours, since another instance may have claimed the rest.
 */
static enum kith_status claim(struct kith_tx *tx, enum kith_query due, json_t *due_args,
                              enum kith_query take, int64_t now_ms, json_t **out)
{
    json_t *rows = NULL, *mine = json_array();
    enum kith_status st = kith_store_query(tx, due, due_args, &rows);
    json_decref(due_args);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        int64_t changed = 0;
        json_t *args = json_pack("[sII]", kith_eng_row_str(r, "id"), (json_int_t)now_ms,
                                 (json_int_t)(now_ms + LEASE_MS));
        st = kith_store_exec(tx, take, args, &changed);
        json_decref(args);
        if (st != KITH_OK)
            break;
        if (changed == 1)
            json_array_append(mine, r);
    }
    json_decref(rows);
    if (st != KITH_OK) {
        json_decref(mine);
        return st;
    }
    *out = mine;
    return KITH_OK;
}

enum kith_status kith_engine_deliveries_claim(struct kith_tx *tx, int64_t now_ms, size_t max,
                                              json_t **out)
{
    return claim(tx, KITH_Q_DELIVERIES_DUE, json_pack("[II]", (json_int_t)now_ms, (json_int_t)max),
                 KITH_Q_DELIVERIES_CLAIM, now_ms, out);
}

enum kith_status kith_engine_delivery_record(struct kith_tx *tx, const char *delivery_id,
                                             int http_status, int64_t latency_ms,
                                             int64_t retry_after_s, bool ok, const char *error,
                                             int64_t now_ms)
{
    json_t *d = NULL, *e = NULL;
    enum kith_status st = kith_store_get(tx, "webhook_deliveries", delivery_id, &d);
    if (st != KITH_OK)
        return st == KITH_E_NOT_FOUND ? KITH_OK : st; /* endpoint deleted meanwhile */
    if ((st = kith_store_get(tx, "webhook_endpoints", kith_eng_row_str(d, "endpoint"), &e)) !=
        KITH_OK) {
        json_decref(d);
        return st == KITH_E_NOT_FOUND ? KITH_OK : st;
    }
    int attempt = (int)kith_eng_row_int(d, "attempts") + 1;
    const char *status = "pending";
    int64_t next = -1;
    json_t *endpoint_set = json_object();
    if (ok) {
        status = "delivered";
        json_object_set_new(endpoint_set, "failing_since", json_null());
    } else if (http_status == 410) {
        status = "failed";
        json_object_set_new(endpoint_set, "status", json_string("disabled"));
        json_object_set_new(endpoint_set, "disabled_reason", json_string("gone"));
    } else {
        int64_t delay = kith_webhook_retry_delay_ms(attempt, retry_after_s,
                                                    (uint32_t)kith_crypto_uniform(65536));
        if (delay < 0)
            status = "failed";
        else
            next = now_ms + delay;
        int64_t since = kith_eng_row_is_null(e, "failing_since")
                            ? now_ms
                            : kith_eng_row_int(e, "failing_since");
        json_object_set_new(endpoint_set, "failing_since", json_integer(since));
        if (now_ms - since >= FAILING_DISABLE_MS) {
            json_object_set_new(endpoint_set, "status", json_string("disabled"));
            json_object_set_new(endpoint_set, "disabled_reason", json_string("failing"));
        }
    }
    if (strcmp(kith_eng_row_str(e, "status"), "enabled") != 0 && strcmp(status, "pending") == 0)
        status = "failed"; /* a disabled endpoint keeps no schedule */
    char aid[KITH_ID_MAX];
    kith_crypto_random_id("att_", aid);
    json_t *att = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:I}", "id", aid, "delivery", delivery_id,
                            "endpoint", kith_eng_row_str(d, "endpoint"), "message",
                            kith_eng_row_str(d, "message"), "attempt", attempt, "attempted_at",
                            (json_int_t)now_ms, "latency_ms", (json_int_t)latency_ms);
    json_object_set_new(att, "status_code", http_status ? json_integer(http_status) : json_null());
    json_object_set_new(att, "error", error && error[0] ? json_string(error) : json_null());
    json_object_set_new(att, "next_attempt_at", next >= 0 ? json_integer(next) : json_null());
    st = kith_store_insert(tx, "webhook_attempts", att);
    json_decref(att);
    if (st == KITH_OK) {
        json_t *set =
            json_pack("{s:s,s:i,s:I,s:I}", "status", status, "attempts", attempt, "last_latency_ms",
                      (json_int_t)latency_ms, "updated_at", (json_int_t)now_ms);
        json_object_set_new(set, "next_attempt_at", next >= 0 ? json_integer(next) : json_null());
        json_object_set_new(set, "last_status",
                            http_status ? json_integer(http_status) : json_null());
        json_object_set_new(set, "last_error",
                            error && error[0] ? json_string(error) : json_null());
        st = kith_store_update(tx, "webhook_deliveries", delivery_id, set);
        json_decref(set);
    }
    if (st == KITH_OK && json_object_size(endpoint_set) > 0) {
        json_object_set_new(endpoint_set, "updated_at", json_integer(now_ms));
        st = kith_store_update(tx, "webhook_endpoints", kith_eng_row_str(e, "id"), endpoint_set);
        kith_eng_outbox_endpoints_changed();
    }
    json_decref(endpoint_set);
    json_decref(d);
    json_decref(e);
    return st;
}

enum kith_status kith_engine_mail_claim(struct kith_tx *tx, int64_t now_ms, size_t max,
                                        json_t **out)
{
    enum kith_status st = claim(tx, KITH_Q_NOTIFICATIONS_OUTBOX,
                                json_pack("[II]", (json_int_t)now_ms, (json_int_t)max),
                                KITH_Q_NOTIFICATIONS_SENDING, now_ms, out);
    if (st == KITH_OK) /* and follow-ups to leads (followups.c), in the same shape */
        st = kith_eng_lead_mail_claim(tx, now_ms, max, *out);
    return st;
}

enum kith_status kith_engine_mail_record(struct kith_tx *tx, const char *notification_id, bool ok,
                                         int64_t now_ms)
{
    json_t *n = NULL;
    if (kith_eng_lead_mail_is(notification_id))
        return kith_eng_lead_mail_record(tx, notification_id, ok, now_ms);
    enum kith_status st = kith_store_get(tx, "notifications", notification_id, &n);
    if (st != KITH_OK)
        return st == KITH_E_NOT_FOUND ? KITH_OK : st;
    int attempts = (int)kith_eng_row_int(n, "attempts") + 1;
    json_t *set = json_pack("{s:s,s:i}", "status",
                            ok ? "sent" : (attempts >= MAIL_ATTEMPTS_MAX ? "failed" : "queued"),
                            "attempts", attempts);
    if (ok)
        json_object_set_new(set, "sent_at", json_integer(now_ms));
    st = kith_store_update(tx, "notifications", notification_id, set);
    if (st == KITH_OK && (ok || attempts >= MAIL_ATTEMPTS_MAX))
        st = kith_eng_hub_mail_done(tx, notification_id); /* a sign-in link leaves (hub.c) */
    json_decref(set);
    json_decref(n);
    return st;
}
