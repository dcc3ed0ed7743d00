/*
 * referrals.c: reading referrals and rewards, the review decisions (approve, reject) and the
 * reward moves a business makes by hand (redeem, void). Each decision is recorded with the API
 * key that made it, when and why, in the same transaction as its effect.
 */
#include <string.h>

#include "engine/internal.h"
#include "kith/crypto.h"

static json_t *render_referral_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    (void)ctx;
    return kith_eng_render_referral(tx, row);
}

static json_t *render_reward_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    (void)ctx;
    return kith_eng_render_reward(tx, row);
}

/* Optional filter from the query string as a JSON string or null (a new reference). */
static enum kith_status filter(const char *query, const char *name, json_t **out,
                               struct kith_err *err)
{
    char buf[256];
    bool present;
    enum kith_status st = kith_eng_q_string(query, name, buf, sizeof(buf), &present, err);
    *out = st == KITH_OK && present ? json_string(buf) : json_null();
    if (*out == NULL) /* not UTF-8 */
        return kith_err_set(err, KITH_E_INVALID_PARAM, name, "'%s' is not valid UTF-8", name);
    return st;
}

static enum kith_status list(struct kith_tx *tx, struct kith_call *call, enum kith_query query_name,
                             const char *const filters[3], kith_render_fn render, json_t **out,
                             struct kith_err *err)
{
    const char *allowed[] = {filters[0], filters[1], filters[2], "limit", "cursor", NULL};
    int64_t limit, after;
    json_t *f[3] = {NULL, NULL, NULL}, *rows = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_page(call->query, &limit, &after, err)) != KITH_OK)
        return st;
    for (int i = 0; i < 3; i++) {
        if ((st = filter(call->query, filters[i], &f[i], err)) != KITH_OK)
            goto out;
    }
    json_t *args =
        json_pack("[IOOOI]", (json_int_t)after, f[0], f[1], f[2], (json_int_t)(limit + 1));
    st = kith_store_query(tx, query_name, args, &rows);
    json_decref(args);
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not list");
        goto out;
    }
    *out = kith_eng_list_page(rows, limit, render, tx, NULL);
out:
    for (int i = 0; i < 3; i++)
        json_decref(f[i]);
    json_decref(rows);
    return st;
}

/* A status filter must name a status, so a typo is an error rather than an empty list. */
static enum kith_status status_filter(struct kith_call *call, bool reward, struct kith_err *err)
{
    char buf[32];
    bool present;
    enum kith_status st = kith_eng_q_string(call->query, "status", buf, sizeof(buf), &present, err);
    if (st != KITH_OK || !present)
        return st;
    enum kith_referral_status rs;
    enum kith_reward_status ws;
    if (reward ? kith_reward_status_parse(buf, &ws) : kith_referral_status_parse(buf, &rs))
        return KITH_OK;
    return kith_err_set(err, KITH_E_INVALID_PARAM, "status", "'%s' is not a %s status", buf,
                        reward ? "reward" : "referral");
}

enum kith_status kith_op_referral_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                       struct kith_err *err)
{
    static const char *const filters[3] = {"program", "status", "referrer"};
    enum kith_status st = status_filter(call, false, err);
    if (st != KITH_OK)
        return st;
    return list(tx, call, KITH_Q_REFERRALS_LIST, filters, render_referral_row, out, err);
}

enum kith_status kith_op_reward_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                     struct kith_err *err)
{
    static const char *const filters[3] = {"program", "participant", "status"};
    enum kith_status st = status_filter(call, true, err);
    if (st != KITH_OK)
        return st;
    return list(tx, call, KITH_Q_REWARDS_LIST, filters, render_reward_row, out, err);
}

static enum kith_status get(struct kith_tx *tx, struct kith_call *call, const char *table,
                            const char *what, json_t **row, struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st != KITH_OK)
        return st;
    return kith_eng_load_row(tx, table, call->params[0], what, row, err);
}

enum kith_status kith_op_referral_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                      struct kith_err *err)
{
    json_t *row = NULL;
    enum kith_status st = get(tx, call, "referrals", "referral", &row, err);
    if (st != KITH_OK)
        return st;
    *out = kith_eng_render_referral(tx, row);
    json_decref(row);
    return KITH_OK;
}

enum kith_status kith_op_reward_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                    struct kith_err *err)
{
    json_t *row = NULL;
    enum kith_status st = get(tx, call, "rewards", "reward", &row, err);
    if (st != KITH_OK)
        return st;
    *out = kith_eng_render_reward(tx, row);
    json_decref(row);
    return KITH_OK;
}

static enum kith_status record_decision(struct kith_tx *tx, struct kith_call *call,
                                        const char *referral, const char *decision,
                                        const char *reason)
{
    char id[KITH_ID_MAX];
    kith_crypto_random_id("dec_", id);
    json_t *row =
        json_pack("{s:s,s:s,s:s,s:s,s:I}", "id", id, "referral", referral, "decision", decision,
                  "api_key", call->key_id, "created_at", (json_int_t)call->now_ms);
    json_object_set_new(row, "reason", reason ? json_string(reason) : json_null());
    enum kith_status st = kith_store_insert(tx, "decisions", row);
    json_decref(row);
    return st;
}

static enum kith_status reload(struct kith_tx *tx, const char *id, json_t **out,
                               struct kith_err *err)
{
    json_t *row = NULL;
    enum kith_status st = kith_eng_load_row(tx, "referrals", id, "referral", &row, err);
    if (st != KITH_OK)
        return st;
    *out = kith_eng_render_referral(tx, row);
    json_decref(row);
    return KITH_OK;
}

enum kith_status kith_op_referral_approve(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                          struct kith_err *err)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *reason = NULL;
    json_t *row = NULL, *ev = NULL;
    struct prog p;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "reason", false, 0, 500, &reason, err)) != KITH_OK ||
        (st = kith_eng_load_locked(tx, "referrals", call->params[0], "referral", &row, err)) !=
            KITH_OK)
        return st;
    if (strcmp(kith_eng_row_str(row, "status"), "review") != 0) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                          "only a referral in review can be approved (it is %s)",
                          kith_eng_row_str(row, "status"));
        goto out;
    }
    if ((st = kith_eng_prog_load(tx, kith_eng_row_str(row, "program"), &p, err)) != KITH_OK)
        goto out;
    /* Checked above: approval is review -> pending only, though qualified -> pending is a move
     * too (a refund in the hold), so the machine alone cannot answer for it. */
    if ((st = kith_eng_referral_move(tx, row, KITH_REFERRAL_PENDING, NULL, call->now_ms,
                                     call->now_ms, err)) != KITH_OK) {
        st = kith_eng_move_checked(st, "approve", err);
        goto out;
    }
    if ((st = record_decision(tx, call, call->params[0], "approve", reason)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the decision");
        goto out;
    }
    /* A qualifying event that arrived during review applies now. */
    json_t *args =
        json_pack("[ssII]", kith_eng_row_str(row, "referred"), p.qual_event,
                  (json_int_t)p.min_amount, (json_int_t)kith_eng_row_int(row, "created_at"));
    st = kith_store_query_one(tx, KITH_Q_EVENTS_QUALIFYING, args, &ev);
    json_decref(args);
    if (st == KITH_OK) {
        st =
            kith_eng_referral_qualify(tx, call->eng, &p, row, kith_eng_row_str(ev, "id"),
                                      kith_eng_row_int(ev, "occurred_at"), call->now_ms, NULL, err);
        if (st != KITH_OK)
            goto out;
    } else if (st != KITH_E_NOT_FOUND) {
        st = kith_err_set(err, st, NULL, "the database could not read events");
        goto out;
    }
    /* Pending again but past expires_at (review outlasted the window, and no qualifying event
     * came within it): expired now, as the sweeper's next pass would make it. */
    if ((st = kith_eng_referral_expire_due(tx, row, call->now_ms, err)) != KITH_OK)
        goto out;
    st = reload(tx, call->params[0], out, err);
out:
    json_decref(row);
    json_decref(ev);
    return st;
}

enum kith_status kith_op_referral_reject(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                         struct kith_err *err)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *reason = NULL;
    json_t *row = NULL, *rewards = NULL;
    enum kith_referral_status rs;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "reason", false, 0, 500, &reason, err)) != KITH_OK ||
        (st = kith_eng_load_locked(tx, "referrals", call->params[0], "referral", &row, err)) !=
            KITH_OK)
        return st;
    /* The referral as time has made it by now, whether or not the sweeper has looked: a hold
     * that has ended is released (rewarded), a pending one past expires_at expired; neither can
     * be rejected, and those moves stay with the refusal. */
    bool moved = false;
    if (kith_eng_referral_release_due(row, call->now_ms)) {
        if ((st = kith_eng_referral_release(tx, call->eng, row, call->now_ms)) != KITH_OK) {
            st = kith_err_set(err, st, NULL, "the database could not issue the rewards");
            goto out;
        }
        moved = true;
    } else if (strcmp(kith_eng_row_str(row, "status"), "pending") == 0) {
        if ((st = kith_eng_referral_expire_due(tx, row, call->now_ms, err)) != KITH_OK)
            goto out;
        moved = strcmp(kith_eng_row_str(row, "status"), "pending") != 0;
    }
    if (!kith_referral_status_parse(kith_eng_row_str(row, "status"), &rs) ||
        !kith_referral_can(rs, KITH_REFERRAL_REJECTED)) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL, "a %s referral cannot be rejected",
                          kith_eng_row_str(row, "status"));
        call->keeps_due_moves = moved;
        goto out;
    }
    json_t *args = json_pack("[s]", call->params[0]);
    st = kith_store_query(tx, KITH_Q_REWARDS_OF_REFERRAL, args, &rewards);
    json_decref(args);
    if (st != KITH_OK)
        goto fail;
    size_t i;
    json_t *r;
    /* Rewards first, so webhooks tell of the voids before the rejection; both moves were
     * checked above, so a refusal is the engine's bug. */
    json_array_foreach(rewards, i, r)
    {
        if (strcmp(kith_eng_row_str(r, "status"), "pending") == 0 &&
            (st = kith_eng_reward_move(tx, call->eng, r, KITH_REWARD_VOIDED, call->now_ms, err)) !=
                KITH_OK)
            goto moved;
    }
    if ((st = kith_eng_referral_move(tx, row, KITH_REFERRAL_REJECTED, NULL, call->now_ms,
                                     call->now_ms, err)) != KITH_OK)
        goto moved;
    if ((st = record_decision(tx, call, call->params[0], "reject", reason)) != KITH_OK)
        goto fail;
    st = reload(tx, call->params[0], out, err);
    goto out;
moved:
    st = kith_eng_move_checked(st, "reject", err);
    goto out;
fail:
    st = kith_err_set(err, st, NULL, "the database could not store the decision");
out:
    json_decref(row);
    json_decref(rewards);
    return st;
}

/*
 * The reward as time has made it by now, whether or not the sweeper has looked: a pending
 * reward whose referral's hold has ended is issued by that referral's release, and an issued
 * reward past its expires_at expires (CONTRACT sections 7 and 8). *row is the reward, locked
 * (its referral first, the order every writer takes); *moved says whether anything changed.
 */
static enum kith_status reward_as_of_now(struct kith_tx *tx, struct kith_call *call, json_t **row,
                                         bool *moved, struct kith_err *err)
{
    json_t *referral = NULL;
    enum kith_status st;
    *moved = false;
    if ((st = kith_eng_load_row(tx, "rewards", call->params[0], "reward", row, err)) != KITH_OK)
        return st;
    const char *ref_id = kith_eng_row_str(*row, "referral");
    if (ref_id && strcmp(kith_eng_row_str(*row, "status"), "pending") == 0) {
        if ((st = kith_eng_load_locked(tx, "referrals", ref_id, "referral", &referral, err)) !=
            KITH_OK)
            return st;
        if (kith_eng_referral_release_due(referral, call->now_ms)) {
            st = kith_eng_referral_release(tx, call->eng, referral, call->now_ms);
            *moved = true;
        }
        json_decref(referral);
        if (st != KITH_OK)
            return kith_err_set(err, st, NULL, "the database could not issue the rewards");
    }
    json_decref(*row);
    *row = NULL;
    if ((st = kith_eng_load_locked(tx, "rewards", call->params[0], "reward", row, err)) != KITH_OK)
        return st;
    const char *was = kith_eng_row_str(*row, "status");
    bool issued = was && strcmp(was, "issued") == 0;
    if ((st = kith_eng_reward_expire_due(tx, call->eng, *row, call->now_ms, err)) != KITH_OK)
        return st;
    *moved = *moved || (issued && strcmp(kith_eng_row_str(*row, "status"), "issued") != 0);
    return KITH_OK;
}

static enum kith_status reward_move(struct kith_tx *tx, struct kith_call *call,
                                    enum kith_reward_status to, json_t **out, struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *row = NULL;
    bool moved = false;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = reward_as_of_now(tx, call, &row, &moved, err)) != KITH_OK) {
        json_decref(row);
        return st;
    }
    /* The request asks for the move: a refusal is the contract's 409 invalid_state (an expired
     * reward is neither redeemed nor voided), and the moves time had made due stay. */
    if ((st = kith_eng_reward_move(tx, call->eng, row, to, call->now_ms, err)) == KITH_OK)
        *out = kith_eng_render_reward(tx, row); /* the writer kept row in step */
    else if (st == KITH_E_INVALID_STATE && moved)
        call->keeps_due_moves = true;
    json_decref(row);
    return st;
}

enum kith_status kith_op_reward_redeem(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                       struct kith_err *err)
{
    return reward_move(tx, call, KITH_REWARD_REDEEMED, out, err);
}

enum kith_status kith_op_reward_void(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                     struct kith_err *err)
{
    return reward_move(tx, call, KITH_REWARD_VOIDED, out, err);
}
