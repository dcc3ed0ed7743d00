/*
 * outbox.c: the transactional outbox for outgoing webhooks. An event is written in the same
 * transaction as the change it reports, with one pending delivery per enabled endpoint that
 * wants it, so a crash can neither lose a committed event nor invent one that was rolled back.
 * Delivery happens later, outside the transaction (see deliveries.c and the sender).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "kith/clock.h"

static bool wants(const char *filter_text, const char *type)
{
    json_t *filter = filter_text ? json_loads(filter_text, 0, NULL) : NULL;
    bool yes = filter == NULL || json_array_size(filter) == 0;
    size_t i;
    json_t *v;
    json_array_foreach(filter, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), type) == 0)
            yes = true;
    }
    json_decref(filter);
    return yes;
}

/*
 * Every change asks which endpoints are enabled; endpoints change rarely, so the store thread
 * keeps the answer for up to a second, and this process's own endpoint changes drop it at once.
 */
static json_t *endpoints_cached;
static uint64_t endpoints_loaded_ns;
/* Store jobs may run on several threads (a PostgreSQL pool). */
static pthread_mutex_t endpoints_mu = PTHREAD_MUTEX_INITIALIZER;

void kith_eng_outbox_endpoints_changed(void)
{
    pthread_mutex_lock(&endpoints_mu);
    json_decref(endpoints_cached);
    endpoints_cached = NULL;
    pthread_mutex_unlock(&endpoints_mu);
}

static enum kith_status enabled_endpoints(struct kith_tx *tx, json_t **out)
{
    enum kith_status st = KITH_OK;
    uint64_t now = kith_clock_mono_ns();
    pthread_mutex_lock(&endpoints_mu);
    if (endpoints_cached == NULL || now - endpoints_loaded_ns >= 1000000000u) {
        json_t *rows = NULL, *args = json_array();
        st = kith_store_query(tx, KITH_Q_WEBHOOKS_ENABLED, args, &rows);
        json_decref(args);
        if (st == KITH_OK) {
            json_decref(endpoints_cached);
            endpoints_cached = rows;
            endpoints_loaded_ns = now;
        }
    }
    if (st == KITH_OK)
        *out = json_incref(endpoints_cached);
    pthread_mutex_unlock(&endpoints_mu);
    return st;
}

bool kith_eng_outbox_wanted(struct kith_tx *tx)
{
    json_t *e = NULL;
    bool yes = enabled_endpoints(tx, &e) != KITH_OK || json_array_size(e) > 0;
    json_decref(e);
    return yes;
}

enum kith_status kith_eng_outbox_emit(struct kith_tx *tx, const char *type, json_t *data,
                                      int64_t now_ms)
{
    json_t *endpoints = NULL, *args = NULL;
    enum kith_status st = enabled_endpoints(tx, &endpoints);
    if (st != KITH_OK || json_array_size(endpoints) == 0) {
        /* No receiver: nothing to keep. A later endpoint gets later events only. */
        json_decref(data);
        json_decref(endpoints);
        return st;
    }
    char id[KITH_ID_MAX];
    kith_crypto_random_id("msg_", id);
    json_t *payload = json_pack("{s:s,s:s,s:o,s:o}", "id", id, "type", type, "created_at",
                                kith_eng_time_json(now_ms), "data", data);
    char *text = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    json_t *row = json_pack("{s:s,s:s,s:s,s:I}", "id", id, "type", type, "payload", text,
                            "created_at", (json_int_t)now_ms);
    free(text);
    st = kith_store_insert(tx, "webhook_messages", row);
    json_decref(row);
    size_t i;
    json_t *e;
    json_array_foreach(endpoints, i, e)
    {
        if (st != KITH_OK)
            break;
        if (!wants(kith_eng_row_str(e, "events"), type))
            continue;
        char did[KITH_ID_MAX];
        kith_crypto_random_id("dlv_", did);
        args = json_pack("[sssIII]", did, kith_eng_row_str(e, "id"), id, (json_int_t)now_ms,
                         (json_int_t)now_ms, (json_int_t)now_ms);
        st = kith_store_exec(tx, KITH_Q_DELIVERIES_INSERT, args, NULL);
        json_decref(args);
    }
    json_decref(endpoints);
    return st;
}

enum kith_status kith_eng_outbox_referral(struct kith_tx *tx, const char *id, const char *type,
                                          int64_t now_ms)
{
    if (!kith_eng_outbox_wanted(tx))
        return KITH_OK;
    json_t *row = NULL;
    enum kith_status st = kith_store_get(tx, "referrals", id, &row);
    if (st != KITH_OK)
        return st;
    st = kith_eng_outbox_emit(tx, type, kith_eng_render_referral(tx, row), now_ms);
    json_decref(row);
    return st;
}

enum kith_status kith_eng_outbox_reward(struct kith_tx *tx, const char *id, const char *type,
                                        int64_t now_ms)
{
    if (!kith_eng_outbox_wanted(tx))
        return KITH_OK;
    json_t *row = NULL;
    enum kith_status st = kith_store_get(tx, "rewards", id, &row);
    if (st != KITH_OK)
        return st;
    st = kith_eng_outbox_emit(tx, type, kith_eng_render_reward(tx, row), now_ms);
    json_decref(row);
    return st;
}
