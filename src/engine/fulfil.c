/*
 * fulfil.c: reward fulfilment as the rest of the engine sees it (CONTRACT section 25): a reward
 * joins its program's fulfilment when the reward writer issues it (kith_eng_fulfil_moved, called
 * from moves.c), every reward renders its `fulfilment`, and the owner's and the person's routes:
 * retry a failed Stripe fulfilment, mark a claim delivered, read and send a claim. One row per
 * reward in `fulfilments` (its id is the reward's), so a reward is never fulfilled twice. The
 * Stripe calls themselves are fulfil_stripe.c's, the payout queue payouts.c's; every change of a
 * reward's status still goes through moves.c.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/fulfil.h"

static bool method_is(json_t *f, const char *name)
{
    const char *m = kith_eng_row_str(f, "method");
    return m && strcmp(m, name) == 0;
}

static bool status_is(json_t *row, const char *name)
{
    const char *s = kith_eng_row_str(row, "status");
    return s && strcmp(s, name) == 0;
}

static enum kith_status emit(struct kith_tx *tx, const char *reward_id, const char *type,
                             int64_t now_ms)
{
    if (!kith_eng_outbox_wanted(tx))
        return KITH_OK;
    json_t *reward = NULL;
    enum kith_status st = kith_store_get(tx, "rewards", reward_id, &reward);
    if (st == KITH_OK)
        st = kith_eng_outbox_emit(tx, type, kith_eng_render_reward(tx, reward), now_ms);
    json_decref(reward);
    return st;
}

enum kith_status kith_eng_fulfil_finish(struct kith_tx *tx, json_t *row, bool done,
                                        const char *external_id, const char *code,
                                        const char *error, int64_t now_ms)
{
    json_t *set = json_pack("{s:s,s:n,s:I}", "status", done ? "done" : "failed", "next_attempt_at",
                            "updated_at", (json_int_t)now_ms);
    if (external_id)
        json_object_set_new(set, "external_id", json_string(external_id));
    if (code)
        json_object_set_new(set, "code", json_string(code));
    json_object_set_new(set, "error", done || !error ? json_null() : json_string(error));
    if (done) {
        json_object_set_new(set, "done_at", json_integer(now_ms));
        json_object_set_new(set, "request", json_null());
        json_object_set_new(set, "cursor", json_null());
    }
    enum kith_status st = kith_store_update(tx, "fulfilments", kith_eng_row_str(row, "id"), set);
    if (st == KITH_OK)
        json_object_update(row, set);
    json_decref(set);
    if (st != KITH_OK)
        return st;
    return emit(tx, kith_eng_row_str(row, "id"),
                done ? "reward.fulfilled" : "reward.fulfilment_failed", now_ms);
}

static enum kith_status enqueue(struct kith_tx *tx, json_t *reward, int64_t now_ms)
{
    json_t *cfg = NULL;
    enum kith_status st = kith_eng_prog_config(tx, kith_eng_row_str(reward, "program"), &cfg);
    if (st != KITH_OK)
        return st;
    enum kith_fulfil_method m = kith_eng_fulfil_method_of(cfg, kith_eng_row_str(reward, "kind"));
    json_decref(cfg);
    if (m == KITH_FULFIL_NONE)
        return KITH_OK;
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "id", kith_eng_row_str(reward, "id"),
                            "program", kith_eng_row_str(reward, "program"), "participant",
                            kith_eng_row_str(reward, "participant"), "method",
                            kith_fulfil_method_name(m), "status", "pending", "created_at",
                            (json_int_t)now_ms, "updated_at", (json_int_t)now_ms);
    /* Stripe calls are due at once; a payout waits for its batch, a claim for the person. */
    json_object_set_new(row, "next_attempt_at",
                        kith_fulfil_method_is_stripe(m) ? json_integer(now_ms) : json_null());
    st = kith_store_insert(tx, "fulfilments", row);
    json_decref(row);
    return st == KITH_E_CONSTRAINT ? KITH_OK : st; /* queued once, whatever happens later */
}

enum kith_status kith_eng_fulfil_moved(struct kith_tx *tx, json_t *reward,
                                       enum kith_reward_status to, int64_t now_ms)
{
    if (to == KITH_REWARD_ISSUED)
        return enqueue(tx, reward, now_ms);
    if (to == KITH_REWARD_PENDING)
        return KITH_OK;
    json_t *f = NULL;
    enum kith_status st =
        kith_store_get_locked(tx, "fulfilments", kith_eng_row_str(reward, "id"), &f);
    if (st != KITH_OK)
        return st == KITH_E_NOT_FOUND ? KITH_OK : st;
    bool by_hand = method_is(f, "payout") || method_is(f, "claim");
    if (status_is(f, "pending") && to == KITH_REWARD_REDEEMED && by_hand) {
        /* Paid or delivered: the owner's word is the fulfilment. */
        st = kith_eng_fulfil_finish(tx, f, true, NULL, NULL, NULL, now_ms);
    } else if (status_is(f, "pending") && to != KITH_REWARD_REDEEMED &&
               (by_hand || kith_eng_row_int(f, "posted") == 0)) {
        /* Voided or expired before anything reached Stripe (or before it was paid): stopped.
         * A call that may have had its effect is left to finish under its own key. */
        json_t *set =
            json_pack("{s:s,s:s,s:n,s:I}", "status", "failed", "error",
                      to == KITH_REWARD_VOIDED ? "the reward was voided" : "the reward expired",
                      "next_attempt_at", "updated_at", (json_int_t)now_ms);
        st = kith_store_update(tx, "fulfilments", kith_eng_row_str(f, "id"), set);
        json_decref(set);
    }
    json_decref(f);
    return st;
}

/* cfg: the reward's program settings when the caller has them, else NULL (read if needed). */
static json_t *render(struct kith_tx *tx, json_t *reward, json_t *cfg)
{
    json_t *f = NULL, *out = json_object();
    if (kith_store_get(tx, "fulfilments", kith_eng_row_str(reward, "id"), &f) == KITH_OK) {
        bool sending = status_is(f, "sending");
        json_object_set_new(out, "method", json_string(kith_eng_row_str(f, "method")));
        json_object_set_new(out, "status",
                            json_string(sending ? "pending" : kith_eng_row_str(f, "status")));
        json_object_set_new(out, "attempts", json_integer(kith_eng_row_int(f, "attempts")));
        const char *ext = kith_eng_row_str(f, "external_id"), *err = kith_eng_row_str(f, "error"),
                   *code = kith_eng_row_str(f, "code");
        json_object_set_new(out, "external_id", ext ? json_string(ext) : json_null());
        json_object_set_new(out, "error", err ? json_string(err) : json_null());
        json_object_set_new(out, "code", code ? json_string(code) : json_null());
        json_object_set_new(out, "next_attempt_at",
                            sending ? json_null() : kith_eng_time_or_null(f, "next_attempt_at"));
        json_object_set_new(out, "completed_at", kith_eng_time_or_null(f, "done_at"));
        if (method_is(f, "claim")) {
            const char *text = kith_eng_row_str(f, "claim");
            json_t *answers = text ? json_loads(text, 0, NULL) : NULL;
            json_object_set_new(out, "claim",
                                json_pack("{s:o,s:o}", "answers", answers ? answers : json_null(),
                                          "claimed_at", kith_eng_time_or_null(f, "claimed_at")));
        }
        json_decref(f);
        return out;
    }
    /* No row: `none` when issued (status then follows the reward), else what the program says
     * now for the reward's kind, applied when it is issued. */
    const char *method = "none";
    json_t *own = NULL;
    if (status_is(reward, "pending") &&
        (cfg || kith_eng_prog_config(tx, kith_eng_row_str(reward, "program"), &own) == KITH_OK))
        method = kith_fulfil_method_name(
            kith_eng_fulfil_method_of(cfg ? cfg : own, kith_eng_row_str(reward, "kind")));
    json_decref(own);
    json_object_set_new(out, "method", json_string(method));
    json_object_set_new(out, "status",
                        json_string(status_is(reward, "redeemed") ? "done" : "pending"));
    json_object_set_new(out, "attempts", json_integer(0));
    json_object_set_new(out, "external_id", json_null());
    json_object_set_new(out, "error", json_null());
    json_object_set_new(out, "code", json_null());
    json_object_set_new(out, "next_attempt_at", json_null());
    json_object_set_new(out, "completed_at", json_null());
    return out;
}

/* The reward of the route (locked) and its fulfilment row (locked; KITH_E_NOT_FOUND when the
 * reward has none, with err saying what that means for `what`). */
static enum kith_status load_both(struct kith_tx *tx, struct kith_call *call, const char *what,
                                  json_t **reward, json_t **f, struct kith_err *err)
{
    enum kith_status st =
        kith_eng_load_locked(tx, "rewards", call->params[0], "reward", reward, err);
    if (st != KITH_OK)
        return st;
    st = kith_store_get_locked(tx, "fulfilments", call->params[0], f);
    if (st == KITH_E_NOT_FOUND)
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                            "this reward's fulfilment is none: there is nothing to %s", what);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the fulfilment");
    return KITH_OK;
}

enum kith_status kith_op_fulfilment_retry(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                          struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *reward = NULL, *f = NULL;
    enum kith_status st = kith_eng_in_allowed(call->body, allowed, err);
    if (st != KITH_OK || (st = load_both(tx, call, "retry", &reward, &f, err)) != KITH_OK)
        goto out;
    enum kith_fulfil_method m = KITH_FULFIL_NONE;
    kith_fulfil_method_parse(kith_eng_row_str(f, "method"), &m);
    if (!kith_fulfil_method_is_stripe(m)) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                          "a %s fulfilment is not retried: it waits for you",
                          kith_eng_row_str(f, "method"));
        goto out;
    }
    if (!status_is(f, "failed")) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                          "only a failed fulfilment is retried; this one is %s",
                          status_is(f, "done") ? "done" : "still being tried");
        goto out;
    }
    if (!status_is(reward, "issued") && !status_is(reward, "redeemed")) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL, "a %s reward is not fulfilled",
                          kith_eng_row_str(reward, "status"));
        goto out;
    }
    /* Something may have reached Stripe: look for it before any new key (fulfil_stripe.c).
     * Nothing did: start over, finding the customer again (the person's id may be fixed). */
    bool posted = kith_eng_row_int(f, "posted") != 0;
    json_t *set =
        json_pack("{s:s,s:i,s:n,s:I,s:i,s:n,s:n,s:I}", "status", "pending", "failures", 0, "error",
                  "next_attempt_at", (json_int_t)call->now_ms, "verify", posted ? 1 : 0, "step",
                  "cursor", "updated_at", (json_int_t)call->now_ms);
    if (!posted)
        json_object_set_new(set, "customer", json_null());
    st = kith_store_update(tx, "fulfilments", call->params[0], set);
    json_decref(set);
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the fulfilment");
        goto out;
    }
    *out = kith_eng_render_reward(tx, reward);
out:
    json_decref(reward);
    json_decref(f);
    return st;
}

enum kith_status kith_op_fulfilment_delivered(struct kith_tx *tx, struct kith_call *call,
                                              json_t **out, struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *reward = NULL, *f = NULL;
    enum kith_status st = kith_eng_in_allowed(call->body, allowed, err);
    if (st != KITH_OK || (st = load_both(tx, call, "deliver", &reward, &f, err)) != KITH_OK)
        goto out;
    if (!method_is(f, "claim") || !status_is(f, "pending")) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                          method_is(f, "claim") ? "this claim is no longer open (%s)"
                                                : "only a claim is marked delivered (this is %s)",
                          method_is(f, "claim") ? kith_eng_row_str(f, "status")
                                                : kith_eng_row_str(f, "method"));
        goto out;
    }
    /* Expired first if its time has come (then refused, keeping the expiry). */
    const char *was = kith_eng_row_str(reward, "status");
    bool issued = was && strcmp(was, "issued") == 0;
    if ((st = kith_eng_reward_expire_due(tx, call->eng, reward, call->now_ms, err)) != KITH_OK)
        goto out;
    bool expired = issued && !status_is(reward, "issued");
    /* Delivered is redeemed: the writer's hook marks the claim done (reward.fulfilled). */
    st = kith_eng_reward_move(tx, call->eng, reward, KITH_REWARD_REDEEMED, call->now_ms, err);
    if (st == KITH_OK)
        *out = kith_eng_render_reward(tx, reward);
    else if (st == KITH_E_INVALID_STATE && expired)
        call->keeps_due_moves = true;
out:
    json_decref(reward);
    json_decref(f);
    return st;
}

/* What a claim shows: the reward, the form, the answers so far and the state. */
static json_t *claim_json(struct kith_tx *tx, json_t *reward, json_t *f)
{
    json_t *cfg = NULL, *form = NULL;
    if (kith_eng_prog_config(tx, kith_eng_row_str(reward, "program"), &cfg) == KITH_OK) {
        form = kith_eng_fulfil_claim_form(cfg, kith_eng_row_str(reward, "kind"));
        json_decref(cfg);
    }
    const char *text = kith_eng_row_str(f, "claim");
    json_t *answers = text ? json_loads(text, 0, NULL) : NULL;
    const char *desc = kith_eng_row_str(reward, "description");
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:s}", "reward", kith_eng_row_str(reward, "id"),
                     "kind", kith_eng_row_str(reward, "kind"), "description",
                     desc ? json_string(desc) : json_null(), "form", form ? form : json_array(),
                     "answers", answers ? answers : json_null(), "claimed_at",
                     kith_eng_time_or_null(f, "claimed_at"), "status",
                     status_is(f, "pending") ? (text ? "claimed" : "open") : "delivered");
}

/* The claim of the route's reward; only_participant (may be NULL) must own it. */
static enum kith_status claim_load(struct kith_tx *tx, struct kith_call *call,
                                   const char *only_participant, bool lock, json_t **reward,
                                   json_t **f, struct kith_err *err)
{
    enum kith_status st =
        lock ? kith_eng_load_locked(tx, "rewards", call->params[0], "reward", reward, err)
             : kith_eng_load_row(tx, "rewards", call->params[0], "reward", reward, err);
    if (st != KITH_OK)
        return st;
    if (only_participant && strcmp(only_participant, kith_eng_row_str(*reward, "participant")) != 0)
        return kith_err_set(err, KITH_E_NOT_FOUND, NULL, "no such reward");
    st = lock ? kith_store_get_locked(tx, "fulfilments", call->params[0], f)
              : kith_store_get(tx, "fulfilments", call->params[0], f);
    if (st == KITH_OK && !method_is(*f, "claim"))
        st = KITH_E_NOT_FOUND;
    if (st == KITH_E_NOT_FOUND)
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                            "this reward is not claimed: its fulfilment is not claim");
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the claim");
    return KITH_OK;
}

enum kith_status kith_eng_claim_get(struct kith_tx *tx, struct kith_call *call,
                                    const char *only_participant, json_t **out,
                                    struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *reward = NULL, *f = NULL;
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st == KITH_OK &&
        (st = claim_load(tx, call, only_participant, false, &reward, &f, err)) == KITH_OK)
        *out = claim_json(tx, reward, f);
    json_decref(reward);
    json_decref(f);
    return st;
}

enum kith_status kith_eng_claim_send(struct kith_tx *tx, struct kith_call *call,
                                     const char *only_participant, json_t **out,
                                     struct kith_err *err)
{
    static const char *const allowed[] = {"answers", NULL};
    json_t *reward = NULL, *f = NULL, *cfg = NULL, *form = NULL, *answers = NULL;
    enum kith_status st = kith_eng_in_allowed(call->body, allowed, err);
    if (st != KITH_OK)
        return st;
    json_t *empty = json_object(), *given = json_object_get(call->body, "answers");
    if (given == NULL || json_is_null(given))
        given = empty;
    if ((st = claim_load(tx, call, only_participant, true, &reward, &f, err)) != KITH_OK)
        goto out;
    if ((st = kith_eng_prog_config(tx, kith_eng_row_str(reward, "program"), &cfg)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the program");
        goto out;
    }
    form = kith_eng_fulfil_claim_form(cfg, kith_eng_row_str(reward, "kind"));
    if ((st = kith_eng_fulfil_claim_check(form, given, &answers, err)) != KITH_OK)
        goto out;
    if (!status_is(f, "pending") || !status_is(reward, "issued") ||
        (!kith_eng_row_is_null(reward, "expires_at") &&
         kith_eng_row_int(reward, "expires_at") <= call->now_ms)) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                          status_is(f, "pending") ? "a %s reward cannot be claimed"
                                                  : "this claim was already delivered (%s)",
                          kith_eng_row_str(reward, "status"));
        goto out;
    }
    char *text = json_dumps(answers, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *set = json_pack("{s:s,s:I,s:I}", "claim", text, "claimed_at", (json_int_t)call->now_ms,
                            "updated_at", (json_int_t)call->now_ms);
    free(text);
    st = kith_store_update(tx, "fulfilments", call->params[0], set);
    if (st == KITH_OK)
        json_object_update(f, set);
    json_decref(set);
    if (st == KITH_OK)
        st = emit(tx, call->params[0], "reward.claimed", call->now_ms);
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the claim");
        goto out;
    }
    *out = claim_json(tx, reward, f);
out:
    json_decref(reward);
    json_decref(f);
    json_decref(cfg);
    json_decref(form);
    json_decref(answers);
    json_decref(empty);
    return st;
}

enum kith_status kith_op_reward_claim_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                          struct kith_err *err)
{
    return kith_eng_claim_get(tx, call, NULL, out, err);
}

enum kith_status kith_op_reward_claim(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                      struct kith_err *err)
{
    return kith_eng_claim_send(tx, call, NULL, out, err);
}

enum kith_status kith_op_hub_reward_claim_get(struct kith_tx *tx, struct kith_call *call,
                                              json_t **out, struct kith_err *err)
{
    return kith_eng_claim_get(tx, call, call->hub_participant, out, err);
}

enum kith_status kith_op_hub_reward_claim(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                          struct kith_err *err)
{
    return kith_eng_claim_send(tx, call, call->hub_participant, out, err);
}

/* The fulfilment in the person's words; NULL when the reward's own status says it all (not
 * issued yet, voided, expired, or nothing to deliver). Never Stripe's error text. */
static const char *person_words(const char *method, const char *status, const char *claim,
                                json_t *reward)
{
    bool issued = status_is(reward, "issued"), redeemed = status_is(reward, "redeemed");
    bool done = strcmp(status, "done") == 0, failed = strcmp(status, "failed") == 0;
    if (strcmp(method, "none") == 0 || (!issued && !redeemed))
        return NULL;
    if (strcmp(method, "claim") == 0) {
        if (done || strcmp(claim, "delivered") == 0)
            return "delivered: we hope you enjoy it";
        if (failed)
            return NULL;
        return strcmp(claim, "claimed") == 0 ? "details received: we are getting it ready for you"
                                             : "waiting for your details, so we can send it";
    }
    if (failed)
        return "taking longer than usual: the team knows and will sort it out";
    if (strcmp(method, "payout") == 0)
        return done ? "paid out to you" : "coming in our next payout";
    if (strcmp(method, "stripe_coupon") == 0)
        return done ? "your code is ready: use it at checkout" : "your code is being prepared";
    if (strcmp(method, "stripe_trial") == 0)
        return done ? "added to your subscription" : "being added to your subscription";
    return done ? "added to your account balance" : "being added to your account";
}

json_t *kith_eng_fulfil_render(struct kith_tx *tx, json_t *reward)
{
    return render(tx, reward, NULL);
}

json_t *kith_eng_fulfil_for_person(struct kith_tx *tx, json_t *reward, json_t *cfg, int64_t now_ms)
{
    json_t *full = render(tx, reward, cfg);
    json_t *out = json_pack("{s:O,s:O,s:O}", "method", json_object_get(full, "method"), "status",
                            json_object_get(full, "status"), "code", json_object_get(full, "code"));
    const char *method = json_string_value(json_object_get(full, "method"));
    const char *status = json_string_value(json_object_get(full, "status"));
    const char *state = "";
    json_t *claim = json_object_get(full, "claim");
    if (claim) {
        json_t *answers = json_object_get(claim, "answers");
        bool claimed = !json_is_null(answers);
        bool open = strcmp(status, "pending") == 0;
        state = !open ? "delivered" : claimed ? "claimed" : "open";
        json_object_set_new(out, "claim", json_string(state));
        /* What the program asks (the Claim object's form) and what the person said so far,
         * so the hub can show the claim step without another request. */
        json_object_set_new(out, "form",
                            kith_eng_fulfil_claim_form(cfg, kith_eng_row_str(reward, "kind")));
        json_object_set(out, "answers", answers);
        json_object_set(out, "claimed_at", json_object_get(claim, "claimed_at"));
        bool live = kith_eng_row_is_null(reward, "expires_at") ||
                    kith_eng_row_int(reward, "expires_at") > now_ms;
        json_object_set_new(out, "can_send",
                            json_boolean(open && live && status_is(reward, "issued")));
    }
    const char *words = person_words(method, status, state, reward);
    /* Past its expiry but not swept yet: nothing more to ask for. */
    if (claim && strcmp(state, "delivered") != 0 && !json_is_true(json_object_get(out, "can_send")))
        words = NULL;
    json_object_set_new(out, "status_text", words ? json_string(words) : json_null());
    json_decref(full);
    return out;
}

enum kith_status kith_eng_fulfil_erase(struct kith_tx *tx, const char *participant)
{
    json_t *args = json_pack("[s]", participant);
    enum kith_status st = kith_store_exec(tx, KITH_Q_FUL_ERASE_CLAIMS, args, NULL);
    if (st == KITH_OK)
        st = kith_store_exec(tx, KITH_Q_FUL_ERASE_STRIPE_IDS, args, NULL);
    json_decref(args);
    return st;
}
