/*
 * lifecycle.c: the moves of a referral and its rewards after signup: qualification with tiered
 * double-sided rewards, the hold and its undoing by a refund or cancel (partial refunds add up
 * against the qualifying purchase), release when the hold ends. Every status change is written
 * by moves.c, which asks the state machines in src/rewards first; the partial unique index on
 * rewards (one live reward per referral and side) backs the rule that a referral is rewarded
 * once, whatever order events arrive in.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/health.h"
#include "engine/internal.h"
#include "engine/tracks.h"
#include "kith/crypto.h"

static bool referral_status(json_t *referral, enum kith_referral_status *out)
{
    return kith_referral_status_parse(kith_eng_row_str(referral, "status"), out);
}

static enum kith_status create_reward(struct kith_tx *tx, const struct prog *p, json_t *referral,
                                      const struct kith_reward_rule *r, const char *participant,
                                      const char *event_id, int64_t now_ms, json_t *created)
{
    char id[KITH_ID_MAX];
    kith_crypto_random_id("rwd_", id);
    json_t *row = json_object();
    json_object_set_new(row, "id", json_string(id));
    json_object_set_new(row, "program", json_string(p->id));
    json_object_set_new(row, "participant", json_string(participant));
    json_object_set_new(row, "referral", json_string(kith_eng_row_str(referral, "id")));
    json_object_set_new(row, "side", json_string(kith_reward_side_name(r->to)));
    json_object_set_new(row, "kind", json_string(kith_reward_kind_name(r->kind)));
    json_object_set_new(row, "amount", r->has_amount ? json_integer(r->amount_minor) : json_null());
    json_object_set_new(row, "currency", r->currency[0] ? json_string(r->currency) : json_null());
    json_object_set_new(row, "description",
                        r->description[0] ? json_string(r->description) : json_null());
    json_object_set_new(row, "status", json_string("pending"));
    json_object_set_new(row, "expires_days",
                        r->expires_days ? json_integer(r->expires_days) : json_null());
    json_object_set_new(row, "event", event_id ? json_string(event_id) : json_null());
    if (r->months) /* section 25: a trial's months, a coupon's percentage */
        json_object_set_new(row, "months", json_integer(r->months));
    if (r->percent_off)
        json_object_set_new(row, "percent_off", json_integer(r->percent_off));
    json_object_set_new(row, "created_at", json_integer(now_ms));
    json_object_set_new(row, "updated_at", json_integer(now_ms));
    enum kith_status st = kith_store_insert(tx, "rewards", row);
    json_decref(row);
    if (st == KITH_E_CONSTRAINT)
        return KITH_OK; /* this side already holds a live reward: never a second one */
    if (st != KITH_OK)
        return st;
    if ((st = kith_eng_outbox_reward(tx, id, "reward.created", now_ms)) != KITH_OK)
        return st;
    if (created) {
        json_t *stored = NULL;
        if ((st = kith_store_get(tx, "rewards", id, &stored)) != KITH_OK)
            return st;
        json_array_append_new(created, stored);
    }
    return KITH_OK;
}

/*
 * Whether the refunds and cancels of person dated in [from_ms, until_ms) undo a qualifying
 * purchase of bought_minor: any cancel or refund without an amount does; refunds with amounts
 * do once what is left of the purchase no longer qualifies (src/rewards decides).
 */
static enum kith_status purchase_undone(struct kith_tx *tx, const struct prog *p,
                                        const char *person, int64_t bought_minor, int64_t from_ms,
                                        int64_t until_ms, bool *out)
{
    json_t *row = NULL,
           *args = json_pack("[sII]", person, (json_int_t)from_ms, (json_int_t)until_ms);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_EVENTS_UNDO_AFTER, args, &row);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    *out =
        kith_eng_row_int(row, "whole") > 0 ||
        (kith_eng_row_int(row, "partial") > 0 &&
         kith_rewards_refunds_undo(bought_minor, kith_eng_row_int(row, "refunded"), p->min_amount));
    json_decref(row);
    return KITH_OK;
}

enum kith_status kith_eng_participant_reward(struct kith_tx *tx, const char *program,
                                             const char *participant, json_t *grant, json_t *source,
                                             int64_t now_ms, json_t **out)
{
    char id[KITH_ID_MAX];
    struct kith_err err = {"", ""};
    json_t *stored = NULL;
    kith_crypto_random_id("rwd_", id);
    char *src = json_dumps(source, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *row = json_object();
    json_object_set_new(row, "id", json_string(id));
    json_object_set_new(row, "program", json_string(program));
    json_object_set_new(row, "participant", json_string(participant));
    json_object_set_new(row, "referral", json_null());
    json_object_set_new(row, "side", json_string("participant"));
    static const char *const copied[] = {"kind", "amount", "currency", "description",
                                         "expires_days"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(copied); i++) {
        json_t *v = json_object_get(grant, copied[i]);
        json_object_set(row, copied[i], v ? v : json_null());
    }
    json_object_set_new(row, "status", json_string("pending"));
    json_object_set_new(row, "event", json_null());
    json_object_set_new(row, "source", src ? json_string(src) : json_null());
    json_object_set_new(row, "created_at", json_integer(now_ms));
    json_object_set_new(row, "updated_at", json_integer(now_ms));
    free(src);
    enum kith_status st = kith_store_insert(tx, "rewards", row);
    json_decref(row);
    if (st == KITH_OK)
        st = kith_eng_outbox_reward(tx, id, "reward.created", now_ms);
    if (st == KITH_OK)
        st = kith_store_get(tx, "rewards", id, &stored);
    /* Born pending a moment ago: issuing it is a move the machine allows. No friend to tell,
     * so the writer needs no engine settings. */
    if (st == KITH_OK)
        st = kith_eng_move_checked(
            kith_eng_reward_move(tx, NULL, stored, KITH_REWARD_ISSUED, now_ms, &err),
            "participant reward", &err);
    if (st == KITH_OK && out)
        *out = json_incref(stored);
    json_decref(stored);
    return st;
}

/* Whether row's time column is set and at or before t. */
static bool due(json_t *row, const char *col, int64_t t)
{
    return !kith_eng_row_is_null(row, col) && kith_eng_row_int(row, col) <= t;
}

enum kith_status kith_eng_referral_expire_due(struct kith_tx *tx, json_t *referral, int64_t now_ms,
                                              struct kith_err *err)
{
    enum kith_referral_status rs;
    if (!referral_status(referral, &rs) || rs != KITH_REFERRAL_PENDING ||
        !due(referral, "expires_at", now_ms))
        return KITH_OK;
    return kith_eng_move_checked(
        kith_eng_referral_move(tx, referral, KITH_REFERRAL_EXPIRED, NULL, now_ms, now_ms, err),
        "expire", err);
}

enum kith_status kith_eng_reward_expire_due(struct kith_tx *tx, const struct kith_engine *eng,
                                            json_t *reward, int64_t now_ms, struct kith_err *err)
{
    if (strcmp(kith_eng_row_str(reward, "status"), "issued") != 0 ||
        !due(reward, "expires_at", now_ms))
        return KITH_OK;
    return kith_eng_move_checked(
        kith_eng_reward_move(tx, eng, reward, KITH_REWARD_EXPIRED, now_ms, err), "expire", err);
}

bool kith_eng_referral_release_due(json_t *referral, int64_t now_ms)
{
    enum kith_referral_status rs;
    return referral_status(referral, &rs) && rs == KITH_REFERRAL_QUALIFIED &&
           due(referral, "hold_until", now_ms);
}

/* Issues every pending reward of a referral and marks it rewarded. */
enum kith_status kith_eng_referral_release(struct kith_tx *tx, const struct kith_engine *eng,
                                           json_t *referral, int64_t now_ms)
{
    struct kith_err err = {"", ""};
    enum kith_referral_status rs;
    /* Asked before the rewards move: its callers hold a qualified referral, so a refusal is
     * the engine's bug, and no reward may be issued for it. */
    if (!referral_status(referral, &rs) || !kith_referral_can(rs, KITH_REFERRAL_REWARDED))
        return kith_eng_move_checked(
            kith_err_set(&err, KITH_E_INVALID_STATE, NULL, "referral %s is %s, not qualified",
                         kith_eng_row_str(referral, "id"), kith_eng_row_str(referral, "status")),
            "release", &err);
    /* Issued when the hold ended, even if kith only looks later (a pause, a clock jump):
     * expiry counts from there, so the outcome never depends on when the sweeper ran. */
    int64_t at_ms = now_ms;
    if (!kith_eng_row_is_null(referral, "hold_until") &&
        kith_eng_row_int(referral, "hold_until") < now_ms)
        at_ms = kith_eng_row_int(referral, "hold_until");
    json_t *rows = NULL, *args = json_pack("[s]", kith_eng_row_str(referral, "id"));
    enum kith_status st = kith_store_query(tx, KITH_Q_REWARDS_OF_REFERRAL, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        /* The whole issue is dated at the hold's end, its messages included. */
        if (strcmp(kith_eng_row_str(r, "status"), "pending") == 0 &&
            (st = kith_eng_reward_move(tx, eng, r, KITH_REWARD_ISSUED, at_ms, &err)) != KITH_OK)
            break;
    }
    if (st != KITH_OK || (st = kith_eng_referral_move(tx, referral, KITH_REFERRAL_REWARDED, NULL,
                                                      at_ms, now_ms, &err)) != KITH_OK) {
        json_decref(rows);
        return kith_eng_move_checked(st, "release", &err);
    }
    st = kith_eng_notify(tx, eng, KITH_NOTIFY_REFERRAL_REWARDED, kith_eng_row_str(referral, "id"),
                         NULL, now_ms);
    /* Issued at a hold's end long past, a reward may be due to expire already: it expires now,
     * as the sweeper's next step would make it, so no answer shows it issued past expires_at. */
    json_array_foreach(rows, i, r)
    {
        if (st != KITH_OK)
            break;
        st = kith_eng_reward_expire_due(tx, eng, r, now_ms, &err);
    }
    json_decref(rows);
    /* Levels the referral writer found reached: their notes follow the thank-you. */
    return st == KITH_OK
               ? kith_eng_adv_notify_owed(tx, eng, kith_eng_row_str(referral, "referrer"), now_ms)
               : st;
}

enum kith_status kith_eng_referral_qualify(struct kith_tx *tx, const struct kith_engine *eng,
                                           const struct prog *p, json_t *referral,
                                           const char *event_id, int64_t event_ms, int64_t now_ms,
                                           json_t *created, struct kith_err *err)
{
    enum kith_referral_status rs;
    enum kith_status st;
    json_t *row = NULL, *args;
    if (!referral_status(referral, &rs) || rs != KITH_REFERRAL_PENDING)
        return KITH_OK;
    /* Not qualified within within_days (CONTRACT section 5): an event at or after expires_at
     * cannot qualify it, whether or not the sweeper has marked it expired yet; once expires_at
     * has passed here too, it is expired now, as the sweeper would make it. */
    if (due(referral, "expires_at", event_ms))
        return kith_eng_referral_expire_due(tx, referral, now_ms, err);
    const char *referred = kith_eng_row_str(referral, "referred");
    const char *referrer = kith_eng_row_str(referral, "referrer");
    int64_t hold_ms = p->hold_days * KITH_MS_PER_DAY;
    if (hold_ms > 0) {
        /* Refunds and cancels that arrived before this purchase but happened within its hold:
         * the outcome is the one of the right order. */
        int64_t bought = 0;
        bool undone = false;
        if (event_id) {
            if ((st = kith_store_get(tx, "events", event_id, &row)) != KITH_OK)
                return kith_err_set(err, st, NULL, "the database could not read the event");
            bought = kith_eng_row_int(row, "amount");
            json_decref(row);
            row = NULL;
        }
        if ((st = purchase_undone(tx, p, referred, bought, event_ms, event_ms + hold_ms,
                                  &undone)) != KITH_OK)
            return kith_err_set(err, st, NULL, "the database could not read events");
        if (undone)
            return KITH_OK;
    }
    json_t *hold = json_pack("{s:o}", "hold_until",
                             hold_ms > 0 ? json_integer(event_ms + hold_ms) : json_null());
    st = kith_eng_referral_move(tx, referral, KITH_REFERRAL_QUALIFIED, hold, event_ms, now_ms, err);
    json_decref(hold);
    if (st != KITH_OK)
        return kith_eng_move_checked(st, "qualify", err);

    /* The referrer's reward: by tier of their nth live reward, unless capped. Their row is
     * locked first, so two qualifications at once (on a connection pool, or two instances)
     * count one after the other. */
    json_t *lock = NULL;
    if ((st = kith_store_get_locked(tx, "participants", referrer, &lock)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the referrer");
    json_decref(lock);
    args = json_pack("[ss]", referrer, p->id);
    st = kith_store_query_one(tx, KITH_Q_REWARDS_REFERRER_LIVE, args, &row);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not count rewards");
    int64_t have = kith_eng_row_int(row, "n");
    json_decref(row);
    /* The rules of the experiment variant the referral was made under, else the program's. */
    struct kith_reward_rule rules[KITH_REWARD_RULES_MAX];
    size_t nrules = 0;
    if ((st = kith_eng_exp_rules(tx, p, referral, rules, &nrules)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the experiment");
    if (p->max_rewards < 0 || have < p->max_rewards) {
        int tier = kith_rewards_pick_tier(rules, nrules, (uint32_t)(have + 1));
        if (tier >= 0 && (st = create_reward(tx, p, referral, &rules[tier], referrer, event_id,
                                             now_ms, created)) != KITH_OK)
            return kith_err_set(err, st, NULL, "the database could not store the reward");
    }
    int side = kith_rewards_referred_rule(rules, nrules);
    if (side >= 0 && (st = create_reward(tx, p, referral, &rules[side], referred, event_id, now_ms,
                                         created)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the reward");

    if (hold_ms > 0 && event_ms + hold_ms > now_ms &&
        (st = kith_eng_notify(tx, eng, KITH_NOTIFY_REFERRAL_QUALIFIED,
                              kith_eng_row_str(referral, "id"), NULL, now_ms)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the notification");
    if (hold_ms == 0 || event_ms + hold_ms <= now_ms) {
        if ((st = kith_eng_referral_release(tx, eng, referral, now_ms)) != KITH_OK)
            return kith_err_set(err, st, NULL, "the database could not issue the rewards");
        /* The caller shows the rewards as they now are. */
        if (created) {
            size_t i;
            json_t *r;
            json_array_foreach(created, i, r)
            {
                json_t *fresh = NULL;
                if (kith_store_get(tx, "rewards", kith_eng_row_str(r, "id"), &fresh) == KITH_OK)
                    json_array_set_new(created, i, fresh);
            }
        }
    }
    return KITH_OK;
}

enum kith_status kith_eng_referral_undo(struct kith_tx *tx, const struct kith_engine *eng,
                                        const struct prog *p, json_t *referral, int64_t event_ms,
                                        int64_t now_ms, struct kith_err *err)
{
    enum kith_referral_status rs;
    if (!referral_status(referral, &rs) || rs != KITH_REFERRAL_QUALIFIED ||
        kith_eng_row_is_null(referral, "hold_until"))
        return KITH_OK;
    int64_t from_ms = kith_eng_row_int(referral, "qualified_at");
    int64_t until_ms = kith_eng_row_int(referral, "hold_until");
    /* A hold that has ended is released (the sweeper's work, done or due): a refund reported
     * after its end undoes nothing, whether or not the sweeper has run yet. */
    if (event_ms >= until_ms || event_ms < from_ms || until_ms <= now_ms)
        return KITH_OK;
    /* The purchase that qualified it is the earliest qualifying-type event at qualified_at
     * (min_amount 0: a program changed since still finds it). */
    const char *referred = kith_eng_row_str(referral, "referred");
    json_t *purchase = NULL, *rows = NULL,
           *args = json_pack("[ssII]", referred, p->qual_event, (json_int_t)0, (json_int_t)from_ms);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_EVENTS_QUALIFYING, args, &purchase);
    json_decref(args);
    int64_t bought = st == KITH_OK ? kith_eng_row_int(purchase, "amount") : 0;
    json_decref(purchase);
    if (st != KITH_OK && st != KITH_E_NOT_FOUND)
        return kith_err_set(err, st, NULL, "the database could not read events");
    bool undone = false;
    if ((st = purchase_undone(tx, p, referred, bought, from_ms, until_ms, &undone)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read events");
    if (!undone)
        return KITH_OK;
    args = json_pack("[s]", kith_eng_row_str(referral, "id"));
    st = kith_store_query(tx, KITH_Q_REWARDS_OF_REFERRAL, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read rewards");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (strcmp(kith_eng_row_str(r, "status"), "pending") == 0 &&
            (st = kith_eng_reward_move(tx, eng, r, KITH_REWARD_VOIDED, now_ms, err)) != KITH_OK)
            break;
    }
    json_decref(rows);
    if (st == KITH_OK)
        st = kith_eng_referral_move(tx, referral, KITH_REFERRAL_PENDING, NULL, event_ms, now_ms,
                                    err);
    return kith_eng_move_checked(st, "undo", err);
}
