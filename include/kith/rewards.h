/*
 * rewards.h: reward rules, tier selection, the cost warning, and the two state machines
 * (referral and reward). Pure: no I/O, no clock. The engine asks here before every transition.
 *
 * Ownership and threads: pure functions over caller-owned rules and states; reentrant, safe
 * from any thread.
 */
#ifndef KITH_REWARDS_H
#define KITH_REWARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kith/core.h"

enum kith_reward_kind {
    KITH_REWARD_KIND_CREDIT,
    KITH_REWARD_KIND_CASH,
    KITH_REWARD_KIND_DISCOUNT,
    KITH_REWARD_KIND_FREE_MONTH,
    KITH_REWARD_KIND_SUBSCRIPTION_EXTENSION,
    KITH_REWARD_KIND_GIFT,
    KITH_REWARD_KIND_RECOGNITION,
    KITH_REWARD_KIND_ACCESS,
    KITH_REWARD_KIND_EXPERIENCE,
    KITH_REWARD_KIND_DONATION,
};

enum kith_reward_side {
    KITH_SIDE_REFERRER,
    KITH_SIDE_REFERRED,
};

#define KITH_REWARD_RULES_MAX 16
#define KITH_REWARD_DESCRIPTION_MAX 200

struct kith_reward_rule {
    enum kith_reward_side to;
    enum kith_reward_kind kind;
    bool has_amount;
    int64_t amount_minor;                              /* meaningful when has_amount */
    char currency[4];                                  /* ISO 4217, "" when absent */
    char description[KITH_REWARD_DESCRIPTION_MAX + 1]; /* "" when absent */
    uint32_t from_count;                               /* >= 1 */
    uint32_t to_count;                                 /* 0 = unbounded */
    uint32_t expires_days;                             /* 0 = never */
    uint32_t months;      /* a trial's months (free_month, subscription_extension); 0 = unset */
    uint32_t percent_off; /* a discount's coupon as a percentage (1..100); 0 = amount off */
};

/* Names as in the contract ("credit", "free_month", ...); parse returns false when unknown. */
const char *kith_reward_kind_name(enum kith_reward_kind k);
bool kith_reward_kind_parse(const char *s, enum kith_reward_kind *out);
/* credit, cash, discount and donation carry an amount and a currency. */
bool kith_reward_kind_monetary(enum kith_reward_kind k);
const char *kith_reward_side_name(enum kith_reward_side s); /* "referrer", "referred" */

/*
 * Checks a whole rule list: monetary kinds have amount > 0 and a 3-letter uppercase currency;
 * the others a non-empty description; from_count >= 1 and to_count (when set) >= from_count; at
 * most one rule for the referred side; referrer rules do not overlap. On failure returns
 * KITH_E_INVALID_PARAM with err->param set to "rewards".
 */
enum kith_status kith_rewards_validate(const struct kith_reward_rule *rules, size_t n,
                                       struct kith_err *err);

/* Index of the referrer rule for the referrer's nth rewarded referral (n >= 1), or -1. */
int kith_rewards_pick_tier(const struct kith_reward_rule *rules, size_t n, uint32_t nth);
/* Index of the rule for the referred side, or -1. */
int kith_rewards_referred_rule(const struct kith_reward_rule *rules, size_t n);

/*
 * True when one referral's monetary rewards in `currency` (the referrer's first tier plus the
 * referred side's) exceed 20% of average_customer_value_minor. False when the average is <= 0.
 */
bool kith_rewards_cost_high(const struct kith_reward_rule *rules, size_t n,
                            int64_t average_customer_value_minor, const char *currency);

/*
 * Partial refunds (CONTRACT sections 7 and 12): true when a qualifying purchase of purchase_minor,
 * less refunds totalling refunded_minor, no longer qualifies: what is left is below
 * min_amount_minor, or at 0 or less when min_amount_minor is 0. Ask only when at least one refund
 * with an amount is there; a cancel or a refund without an amount undoes a purchase whole
 * without asking. Negative inputs count as 0.
 */
bool kith_rewards_refunds_undo(int64_t purchase_minor, int64_t refunded_minor,
                               int64_t min_amount_minor);

enum kith_referral_status {
    KITH_REFERRAL_PENDING,
    KITH_REFERRAL_REVIEW,
    KITH_REFERRAL_QUALIFIED,
    KITH_REFERRAL_REWARDED,
    KITH_REFERRAL_REJECTED,
    KITH_REFERRAL_EXPIRED,
};

enum kith_reward_status {
    KITH_REWARD_PENDING,
    KITH_REWARD_ISSUED,
    KITH_REWARD_REDEEMED,
    KITH_REWARD_EXPIRED,
    KITH_REWARD_VOIDED,
};

/*
 * Referral transitions: pending->qualified, pending->review (re-scored at an event),
 * pending->rejected, pending->expired, review->pending (approval), review->rejected,
 * qualified->rewarded, qualified->pending (refund or cancel in the hold), qualified->rejected.
 * Everything else, including staying put, is refused.
 */
bool kith_referral_can(enum kith_referral_status from, enum kith_referral_status to);
/* Reward transitions: pending->issued, pending->voided, issued->redeemed, issued->voided,
 * issued->expired. */
bool kith_reward_can(enum kith_reward_status from, enum kith_reward_status to);

const char *kith_referral_status_name(enum kith_referral_status s);
bool kith_referral_status_parse(const char *s, enum kith_referral_status *out);
const char *kith_reward_status_name(enum kith_reward_status s);
bool kith_reward_status_parse(const char *s, enum kith_reward_status *out);

#endif
