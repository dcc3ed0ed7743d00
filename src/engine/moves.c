/*
 * moves.c: the only code that writes a referral's or a reward's status (STYLE.md: "every status
 * change goes through one engine writer that asks the rule module"). Each writer reads the
 * current status from the row it is given, asks src/rewards whether the move is allowed, stamps
 * the times that belong to the new state, writes the row, keeps the caller's copy in step and
 * writes the webhook message about the move, all in the caller's transaction. It is not for
 * deciding when a move happens (lifecycle.c, referrals.c, events.c and sweep.c do), nor for
 * creating rows: a row is born in its first state by whoever inserts it. scripts/lint.sh fails
 * when any other file updates a referral or reward row.
 */
#include <string.h>

#include "engine/health.h"
#include "engine/internal.h"
#include "engine/tracks.h"
#include "kith/log.h"

/* Columns a move owns: an extra or amended column may never name them. */
static const char *const referral_owned[] = {"status",     "qualified_at", "rewarded_at",
                                             "hold_until", "updated_at",   NULL};

static bool owned(const char *const *cols, const char *key)
{
    for (size_t i = 0; cols[i]; i++) {
        if (strcmp(cols[i], key) == 0)
            return true;
    }
    return false;
}

/* Writes set on the row and, once stored, into the caller's copy. set is borrowed. */
static enum kith_status write_row(struct kith_tx *tx, const char *table, json_t *row, json_t *set,
                                  struct kith_err *err)
{
    enum kith_status st = kith_store_update(tx, table, kith_eng_row_str(row, "id"), set);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the %s",
                            strcmp(table, "rewards") == 0 ? "reward" : "referral");
    json_object_update(row, set);
    return KITH_OK;
}

enum kith_status kith_eng_referral_move(struct kith_tx *tx, json_t *referral,
                                        enum kith_referral_status to, json_t *extra, int64_t at_ms,
                                        int64_t now_ms, struct kith_err *err)
{
    const char *id = kith_eng_row_str(referral, "id");
    const char *was = kith_eng_row_str(referral, "status");
    enum kith_referral_status from;
    if (!kith_referral_status_parse(was, &from) || !kith_referral_can(from, to))
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL, "a %s referral cannot become %s",
                            was ? was : "(unknown)", kith_referral_status_name(to));
    json_t *set = json_pack("{s:s,s:I}", "status", kith_referral_status_name(to), "updated_at",
                            (json_int_t)now_ms);
    switch (to) {
    case KITH_REFERRAL_QUALIFIED:
        json_object_set_new(set, "qualified_at", json_integer(at_ms));
        break;
    case KITH_REFERRAL_REWARDED:
        json_object_set_new(set, "rewarded_at", json_integer(at_ms));
        json_object_set_new(set, "hold_until", json_null());
        break;
    case KITH_REFERRAL_PENDING:
        /* Back from a hold (refund, cancel) or out of review: not qualified, nothing held. */
        json_object_set_new(set, "qualified_at", json_null());
        json_object_set_new(set, "hold_until", json_null());
        break;
    case KITH_REFERRAL_REJECTED:
        json_object_set_new(set, "hold_until", json_null());
        break;
    case KITH_REFERRAL_REVIEW:
    case KITH_REFERRAL_EXPIRED:
        break;
    }
    const char *key;
    json_t *v;
    if (extra) {
        json_object_foreach(extra, key, v)
        {
            /* hold_until is the caller's for a qualification only: the program sets the hold. */
            if (owned(referral_owned, key) &&
                !(to == KITH_REFERRAL_QUALIFIED && strcmp(key, "hold_until") == 0)) {
                json_decref(set);
                kith_log_error("engine",
                               "msg=\"a referral move was given a column it owns\" referral=%s "
                               "column=%s",
                               id, key);
                return kith_err_set(err, KITH_E_INTERNAL, NULL,
                                    "a referral move may not be given '%s'", key);
            }
            json_object_set(set, key, v);
        }
    }
    /* Health rollups (section 22) count from the row as it was. */
    enum kith_status st = kith_eng_health_referral_moving(tx, referral, to, at_ms);
    if (st != KITH_OK)
        st = kith_err_set(err, st, NULL, "the database could not count the referral");
    else
        st = write_row(tx, "referrals", referral, set, err);
    json_decref(set);
    if (st != KITH_OK || to == KITH_REFERRAL_PENDING) /* the contract has no referral.pending */
        return st;
    char type[32];
    snprintf(type, sizeof(type), "referral.%s", kith_referral_status_name(to));
    if ((st = kith_eng_outbox_referral(tx, id, type, now_ms)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the event");
    return kith_eng_adv_referral_moved(tx, referral, from, now_ms, err); /* tracks (section 15) */
}

enum kith_status kith_eng_referral_amend(struct kith_tx *tx, json_t *referral, json_t *set,
                                         int64_t now_ms, struct kith_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(set, key, v)
    {
        if (owned(referral_owned, key)) {
            kith_log_error("engine",
                           "msg=\"a referral amendment named a lifecycle column\" "
                           "referral=%s column=%s",
                           kith_eng_row_str(referral, "id"), key);
            return kith_err_set(err, KITH_E_INTERNAL, NULL,
                                "'%s' changes only through a referral move", key);
        }
    }
    json_t *all = json_deep_copy(set);
    json_object_set_new(all, "updated_at", json_integer(now_ms));
    enum kith_status st = write_row(tx, "referrals", referral, all, err);
    json_decref(all);
    return st;
}

enum kith_status kith_eng_reward_move(struct kith_tx *tx, const struct kith_engine *eng,
                                      json_t *reward, enum kith_reward_status to, int64_t now_ms,
                                      struct kith_err *err)
{
    const char *id = kith_eng_row_str(reward, "id");
    const char *was = kith_eng_row_str(reward, "status");
    enum kith_reward_status from;
    if (!kith_reward_status_parse(was, &from) || !kith_reward_can(from, to))
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL, "a %s reward cannot become %s",
                            was ? was : "(unknown)", kith_reward_status_name(to));
    json_t *set = json_pack("{s:s,s:I}", "status", kith_reward_status_name(to), "updated_at",
                            (json_int_t)now_ms);
    switch (to) {
    case KITH_REWARD_ISSUED:
        json_object_set_new(set, "issued_at", json_integer(now_ms));
        if (!kith_eng_row_is_null(reward, "expires_days"))
            json_object_set_new(
                set, "expires_at",
                json_integer(now_ms + kith_eng_row_int(reward, "expires_days") * KITH_MS_PER_DAY));
        break;
    case KITH_REWARD_REDEEMED:
        json_object_set_new(set, "redeemed_at", json_integer(now_ms));
        break;
    case KITH_REWARD_VOIDED:
        json_object_set_new(set, "voided_at", json_integer(now_ms));
        break;
    case KITH_REWARD_PENDING:
    case KITH_REWARD_EXPIRED: /* expires_at, set at issue, already says when */
        break;
    }
    enum kith_status st = kith_eng_health_reward_moving(tx, reward, to, now_ms); /* section 22 */
    if (st != KITH_OK)
        st = kith_err_set(err, st, NULL, "the database could not count the reward");
    else
        st = write_row(tx, "rewards", reward, set, err);
    json_decref(set);
    if (st != KITH_OK)
        return st;
    /* Fulfilment follows (section 25): an issued reward is delivered as its program says, a
     * redeemed payout or claim is done. Before the event, so that it shows the fulfilment. */
    if ((st = kith_eng_fulfil_moved(tx, reward, to, now_ms)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the fulfilment");
    char type[32];
    snprintf(type, sizeof(type), "reward.%s", kith_reward_status_name(to));
    if ((st = kith_eng_outbox_reward(tx, id, type, now_ms)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the event");
    /* Every issue tells the friend (notify.c picks the side); referral notes depend on the flow
     * (a hold or not), so the callers of the referral writer send those. */
    if (to == KITH_REWARD_ISSUED && kith_eng_row_str(reward, "referral") != NULL &&
        (st = kith_eng_notify(tx, eng, KITH_NOTIFY_REWARD_ISSUED,
                              kith_eng_row_str(reward, "referral"), id, now_ms)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the notification");
    return KITH_OK;
}

enum kith_status kith_eng_move_checked(enum kith_status st, const char *where, struct kith_err *err)
{
    if (st != KITH_E_INVALID_STATE)
        return st;
    char why[sizeof(err->message)] = "";
    if (err)
        kith_strlcpy(why, err->message, sizeof(why));
    kith_log_error("engine", "msg=\"a checked transition was refused\" where=%s error=\"%s\"",
                   where, why);
    return kith_err_set(err, KITH_E_INTERNAL, NULL, "%s: %s, although the engine had checked it",
                        where, why);
}
