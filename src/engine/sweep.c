/*
 * sweep.c: work that falls due with time rather than with a request: held rewards are issued,
 * issued rewards and unqualified referrals expire, click hashes that can no longer attribute are
 * dropped (each click once: the sweep remembers how far it got), idempotency records older than 24
 * hours go. The server runs it every second; the test clock runs it to completion before answering.
 * Also the test clock's own operations.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/health.h"
#include "engine/internal.h"
#include "engine/tracks.h"
#include "kith/clock.h"

#define IDEMPOTENCY_MS (24 * KITH_MS_PER_HOUR)

static enum kith_status
each(struct kith_tx *tx, const struct kith_engine *eng, enum kith_query query, int64_t now_ms,
     enum kith_status (*fn)(struct kith_tx *, const struct kith_engine *, json_t *, int64_t),
     bool *more)
{
    json_t *rows = NULL, *args = json_pack("[I]", (json_int_t)now_ms);
    enum kith_status st = kith_store_query(tx, query, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    if (json_array_size(rows) >= 500)
        *more = true;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if ((st = fn(tx, eng, r, now_ms)) != KITH_OK)
            break;
    }
    json_decref(rows);
    return st;
}

/* The due queries pick exactly the rows the machines let expire (issued rewards, pending
 * referrals), locked where instances share the work, so a refusal here is the engine's bug.
 * The same moves serve the requests that meet such a row before the sweeper does. */
static enum kith_status expire_reward(struct kith_tx *tx, const struct kith_engine *eng,
                                      json_t *row, int64_t now_ms)
{
    struct kith_err err = {"", ""};
    return kith_eng_reward_expire_due(tx, eng, row, now_ms, &err);
}

static enum kith_status expire_referral(struct kith_tx *tx, const struct kith_engine *eng,
                                        json_t *row, int64_t now_ms)
{
    struct kith_err err = {"", ""};
    (void)eng;
    return kith_eng_referral_expire_due(tx, row, now_ms, &err);
}

static enum kith_status drop_hashes(struct kith_tx *tx, int64_t now_ms, bool *more)
{
    json_t *rows = NULL, *args = json_pack("[II]", (json_int_t)0, (json_int_t)100000);
    enum kith_status st = kith_store_query(tx, KITH_Q_PROGRAMS_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        struct prog p;
        if (kith_eng_prog_load(tx, kith_eng_row_str(r, "id"), &p, NULL) != KITH_OK)
            continue;
        int64_t days = (p.cookie_days > p.window_days ? p.cookie_days : p.window_days) + 30;
        int64_t cutoff = now_ms - days * KITH_MS_PER_DAY;
        /* From where the last sweep stopped (meta), or from the cutoff when the clock or the
         * settings moved it back, so every click is looked at once, whatever the clock did. */
        char key[96], text[32];
        snprintf(key, sizeof(key), "clicks.hashes_dropped_to.%s", p.id);
        json_t *row = NULL;
        args = json_pack("[s]", key);
        st = kith_store_query_one(tx, KITH_Q_META_GET, args, &row);
        json_decref(args);
        int64_t from = INT64_MIN / 2;
        if (st == KITH_OK && kith_eng_row_str(row, "value"))
            from = strtoll(kith_eng_row_str(row, "value"), NULL, 10);
        json_decref(row);
        row = NULL;
        if (st != KITH_OK && st != KITH_E_NOT_FOUND)
            break;
        if (from > cutoff)
            from = cutoff;
        int64_t upto = cutoff;
        args = json_pack("[sII]", p.id, (json_int_t)from, (json_int_t)cutoff);
        st = kith_store_query_one(tx, KITH_Q_CLICKS_DROP_UPTO, args, &row);
        json_decref(args);
        if (st == KITH_OK) {
            upto = kith_eng_row_int(row, "created_at");
            *more = true;
        }
        json_decref(row);
        row = NULL;
        if (st != KITH_OK && st != KITH_E_NOT_FOUND)
            break;
        args = json_pack("[IsI]", (json_int_t)upto, p.id, (json_int_t)from);
        st = kith_store_exec(tx, KITH_Q_CLICKS_DROP_HASHES, args, NULL);
        json_decref(args);
        snprintf(text, sizeof(text), "%lld", (long long)upto);
        if (st == KITH_OK && (args = json_pack("[ss]", key, text)) != NULL) {
            st = kith_store_exec(tx, KITH_Q_CLICKS_DROP_MARK, args, NULL);
            json_decref(args);
        }
        if (st != KITH_OK)
            break;
    }
    json_decref(rows);
    return st;
}

enum kith_status kith_engine_sweep(struct kith_tx *tx, const struct kith_engine *eng,
                                   int64_t now_ms, bool *more)
{
    enum kith_status st;
    *more = false;
    if ((st = each(tx, eng, KITH_Q_REFERRALS_DUE_HOLD, now_ms, kith_eng_referral_release, more)) !=
            KITH_OK ||
        (st = each(tx, eng, KITH_Q_REWARDS_DUE_EXPIRY, now_ms, expire_reward, more)) != KITH_OK ||
        (st = each(tx, eng, KITH_Q_REFERRALS_DUE_EXPIRY, now_ms, expire_referral, more)) !=
            KITH_OK ||
        (st = drop_hashes(tx, now_ms, more)) != KITH_OK ||
        (st = kith_eng_adv_sweep(tx, eng, now_ms, more)) != KITH_OK || /* windows, grace (15) */
        (st = kith_eng_followups_sweep(tx, eng, now_ms, more)) != KITH_OK || /* CONTRACT 19 */
        (st = kith_eng_rituals_sweep(tx, eng, now_ms, more)) != KITH_OK ||
        (st = kith_eng_exp_sweep(tx, now_ms)) != KITH_OK) /* experiments past max_days (23) */
        return st;
    json_t *args = json_pack("[I]", (json_int_t)(now_ms - IDEMPOTENCY_MS));
    st = kith_store_exec(tx, KITH_Q_IDEM_EXPIRE, args, NULL);
    json_decref(args);
    return st;
}

static json_t *clock_answer(void)
{
    return json_pack("{s:o}", "now", kith_eng_time_json(kith_clock_now_ms()));
}

enum kith_status kith_op_clock_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                   struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    (void)tx;
    if (st != KITH_OK)
        return st;
    if (!call->eng->test_clock)
        return kith_err_set(err, KITH_E_NOT_FOUND, NULL, "the test clock is not enabled");
    *out = clock_answer();
    return KITH_OK;
}

enum kith_status kith_op_clock_set(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                   struct kith_err *err)
{
    static const char *const allowed[] = {"advance_seconds", "now", NULL};
    int64_t advance = 0, now = 0;
    bool has_advance = false, has_now = false, more = true;
    enum kith_status st;
    if (!call->eng->test_clock)
        return kith_err_set(err, KITH_E_NOT_FOUND, NULL, "the test clock is not enabled");
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_int(call->body, "advance_seconds", 0, 3650 * KITH_S_PER_DAY, &advance,
                              &has_advance, err)) != KITH_OK ||
        (st = kith_eng_in_time(call->body, "now", &now, &has_now, err)) != KITH_OK)
        return st;
    if (has_advance == has_now)
        return kith_err_set(err, KITH_E_INVALID_PARAM, has_now ? "now" : "advance_seconds",
                            "give exactly one of 'advance_seconds' and 'now'");
    kith_clock_set_ms(has_now ? now : kith_clock_now_ms() + advance * 1000);
    for (int round = 0; more && round < 1000; round++) {
        if ((st = kith_engine_sweep(tx, call->eng, kith_clock_now_ms(), &more)) != KITH_OK)
            return kith_err_set(err, st, NULL, "the database could not process due work");
    }
    *out = clock_answer();
    return KITH_OK;
}
