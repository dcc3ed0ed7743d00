/*
 * rewards.c: the rules about rewards that hold whatever the store or the transport: which rule
 * lists are valid, which referrer tier applies to the N-th rewarded referral, when a program's
 * rewards look too costly, and which status transitions the referral and reward lifecycles
 * allow. It is not for creating, issuing or storing rewards: the engine does that, asking here
 * first.
 */
#include <stdio.h>
#include <string.h>

#include "kith/rewards.h"
#include "kith/text.h"

static const char *const kind_names[] = {
    [KITH_REWARD_KIND_CREDIT] = "credit",
    [KITH_REWARD_KIND_CASH] = "cash",
    [KITH_REWARD_KIND_DISCOUNT] = "discount",
    [KITH_REWARD_KIND_FREE_MONTH] = "free_month",
    [KITH_REWARD_KIND_SUBSCRIPTION_EXTENSION] = "subscription_extension",
    [KITH_REWARD_KIND_GIFT] = "gift",
    [KITH_REWARD_KIND_RECOGNITION] = "recognition",
    [KITH_REWARD_KIND_ACCESS] = "access",
    [KITH_REWARD_KIND_EXPERIENCE] = "experience",
    [KITH_REWARD_KIND_DONATION] = "donation",
};

static const char *const referral_names[] = {
    [KITH_REFERRAL_PENDING] = "pending",     [KITH_REFERRAL_REVIEW] = "review",
    [KITH_REFERRAL_QUALIFIED] = "qualified", [KITH_REFERRAL_REWARDED] = "rewarded",
    [KITH_REFERRAL_REJECTED] = "rejected",   [KITH_REFERRAL_EXPIRED] = "expired",
};

static const char *const reward_names[] = {
    [KITH_REWARD_PENDING] = "pending",   [KITH_REWARD_ISSUED] = "issued",
    [KITH_REWARD_REDEEMED] = "redeemed", [KITH_REWARD_EXPIRED] = "expired",
    [KITH_REWARD_VOIDED] = "voided",
};

/* Looks s up in a name table; the index is the enum value. */
static bool parse_name(const char *const *names, size_t count, const char *s, int *out)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = (int)i;
            return true;
        }
    }
    return false;
}

const char *kith_reward_kind_name(enum kith_reward_kind k)
{
    return (size_t)k < KITH_ARRAY_LEN(kind_names) ? kind_names[k] : "unknown";
}

bool kith_reward_kind_parse(const char *s, enum kith_reward_kind *out)
{
    int v;
    if (!parse_name(kind_names, KITH_ARRAY_LEN(kind_names), s, &v))
        return false;
    *out = (enum kith_reward_kind)v;
    return true;
}

bool kith_reward_kind_monetary(enum kith_reward_kind k)
{
    return k == KITH_REWARD_KIND_CREDIT || k == KITH_REWARD_KIND_CASH ||
           k == KITH_REWARD_KIND_DISCOUNT || k == KITH_REWARD_KIND_DONATION;
}

const char *kith_reward_side_name(enum kith_reward_side s)
{
    switch (s) {
    case KITH_SIDE_REFERRER:
        return "referrer";
    case KITH_SIDE_REFERRED:
        return "referred";
    }
    return "unknown";
}

/* A tier's upper bound with "unbounded" (0) made explicit, so comparisons need no special case. */
static uint32_t tier_top(const struct kith_reward_rule *r)
{
    return r->to_count == 0 ? UINT32_MAX : r->to_count;
}

/* Writes "1-3" or "4 and up" for messages. */
static void tier_text(const struct kith_reward_rule *r, char *buf, size_t size)
{
    if (r->to_count == 0)
        snprintf(buf, size, "%u and up", (unsigned)r->from_count);
    else
        snprintf(buf, size, "%u-%u", (unsigned)r->from_count, (unsigned)r->to_count);
}

static enum kith_status check_rule(const struct kith_reward_rule *r, size_t i, struct kith_err *err)
{
    if ((unsigned)r->to > KITH_SIDE_REFERRED)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                            "rewards[%zu]: \"to\" must be \"referrer\" or \"referred\"", i);
    if ((size_t)r->kind >= KITH_ARRAY_LEN(kind_names))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                            "rewards[%zu]: unknown reward kind", i);
    const char *kind = kind_names[r->kind];
    if (memchr(r->currency, '\0', sizeof(r->currency)) == NULL ||
        memchr(r->description, '\0', sizeof(r->description)) == NULL)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                            "rewards[%zu]: currency or description is not terminated", i);
    if (kith_reward_kind_monetary(r->kind)) {
        if (!r->has_amount || r->amount_minor <= 0)
            return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                                "rewards[%zu]: a %s reward needs an amount greater than 0 "
                                "(in minor units, e.g. 2500 for 25.00)",
                                i, kind);
        if (!kith_valid_currency(r->currency))
            return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                                "rewards[%zu]: a %s reward needs a currency as 3 uppercase "
                                "letters (ISO 4217, e.g. \"USD\")",
                                i, kind);
    } else if (r->description[0] == '\0') {
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                            "rewards[%zu]: a %s reward needs a description saying what the "
                            "person gets",
                            i, kind);
    }
    if (r->from_count < 1)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                            "rewards[%zu]: from_count must be 1 or more", i);
    if (r->to_count != 0 && r->to_count < r->from_count)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                            "rewards[%zu]: to_count (%u) must not be less than from_count (%u)", i,
                            (unsigned)r->to_count, (unsigned)r->from_count);
    return KITH_OK;
}

enum kith_status kith_rewards_validate(const struct kith_reward_rule *rules, size_t n,
                                       struct kith_err *err)
{
    enum kith_status st;
    if (n > KITH_REWARD_RULES_MAX)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                            "at most %d reward rules are allowed, got %zu", KITH_REWARD_RULES_MAX,
                            n);
    if (n > 0 && rules == NULL)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards", "reward rules are missing");

    size_t referred_at = n;
    for (size_t i = 0; i < n; i++) {
        if ((st = check_rule(&rules[i], i, err)) != KITH_OK)
            return st;
        if (rules[i].to != KITH_SIDE_REFERRED)
            continue;
        if (referred_at != n)
            return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                                "rewards[%zu]: only one rule may reward the referred person, and "
                                "rewards[%zu] already does",
                                i, referred_at);
        referred_at = i;
    }

    for (size_t i = 0; i < n; i++) {
        if (rules[i].to != KITH_SIDE_REFERRER)
            continue;
        for (size_t j = i + 1; j < n; j++) {
            if (rules[j].to != KITH_SIDE_REFERRER)
                continue;
            if (rules[i].from_count <= tier_top(&rules[j]) &&
                rules[j].from_count <= tier_top(&rules[i])) {
                char a[32], b[32];
                tier_text(&rules[i], a, sizeof(a));
                tier_text(&rules[j], b, sizeof(b));
                return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                                    "rewards[%zu] (referrals %s) and rewards[%zu] (referrals %s) "
                                    "overlap: each referral count may match one referrer rule",
                                    i, a, j, b);
            }
        }
    }
    return KITH_OK;
}

int kith_rewards_pick_tier(const struct kith_reward_rule *rules, size_t n, uint32_t nth)
{
    if (rules == NULL || nth < 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (rules[i].to == KITH_SIDE_REFERRER && rules[i].from_count <= nth &&
            nth <= tier_top(&rules[i]))
            return (int)i;
    }
    return -1;
}

int kith_rewards_referred_rule(const struct kith_reward_rule *rules, size_t n)
{
    if (rules == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (rules[i].to == KITH_SIDE_REFERRED)
            return (int)i;
    }
    return -1;
}

/* The rule's amount when it is money in `currency`, else 0. */
static int64_t money_in(const struct kith_reward_rule *r, const char *currency)
{
    if (!kith_reward_kind_monetary(r->kind) || !r->has_amount || r->amount_minor <= 0)
        return 0;
    if (strncmp(r->currency, currency, sizeof(r->currency)) != 0)
        return 0;
    return r->amount_minor;
}

bool kith_rewards_cost_high(const struct kith_reward_rule *rules, size_t n,
                            int64_t average_customer_value_minor, const char *currency)
{
    if (rules == NULL || currency == NULL || average_customer_value_minor <= 0)
        return false;
    int64_t total = 0;
    int tier = kith_rewards_pick_tier(rules, n, 1);
    int referred = kith_rewards_referred_rule(rules, n);
    int64_t parts[2] = {tier >= 0 ? money_in(&rules[tier], currency) : 0,
                        referred >= 0 ? money_in(&rules[referred], currency) : 0};
    /* Integer math only: total > avg / 5 exactly when total * 5 > avg. Saturate, never wrap. */
    for (size_t i = 0; i < 2; i++) {
        if (parts[i] > INT64_MAX / 5 - total)
            return true;
        total += parts[i];
    }
    return total * 5 > average_customer_value_minor;
}

bool kith_rewards_refunds_undo(int64_t purchase_minor, int64_t refunded_minor,
                               int64_t min_amount_minor)
{
    int64_t bought = purchase_minor > 0 ? purchase_minor : 0;
    int64_t back = refunded_minor > 0 ? refunded_minor : 0;
    if (min_amount_minor <= 0)
        return back >= bought;
    /* left = bought - back < min, without forming a difference that could overflow */
    return bought < min_amount_minor || back > bought - min_amount_minor;
}

/* Allowed transitions, [from][to]. Staying put is never a transition. */
static const bool referral_moves[KITH_REFERRAL_EXPIRED + 1][KITH_REFERRAL_EXPIRED + 1] = {
    [KITH_REFERRAL_PENDING] = {[KITH_REFERRAL_QUALIFIED] = true,
                               [KITH_REFERRAL_REVIEW] = true,
                               [KITH_REFERRAL_REJECTED] = true,
                               [KITH_REFERRAL_EXPIRED] = true},
    [KITH_REFERRAL_REVIEW] = {[KITH_REFERRAL_PENDING] = true, [KITH_REFERRAL_REJECTED] = true},
    [KITH_REFERRAL_QUALIFIED] = {[KITH_REFERRAL_REWARDED] = true,
                                 [KITH_REFERRAL_PENDING] = true,
                                 [KITH_REFERRAL_REJECTED] = true},
};

static const bool reward_moves[KITH_REWARD_VOIDED + 1][KITH_REWARD_VOIDED + 1] = {
    [KITH_REWARD_PENDING] = {[KITH_REWARD_ISSUED] = true, [KITH_REWARD_VOIDED] = true},
    [KITH_REWARD_ISSUED] =
        {[KITH_REWARD_REDEEMED] = true, [KITH_REWARD_VOIDED] = true, [KITH_REWARD_EXPIRED] = true},
};

bool kith_referral_can(enum kith_referral_status from, enum kith_referral_status to)
{
    if ((size_t)from >= KITH_ARRAY_LEN(referral_moves) ||
        (size_t)to >= KITH_ARRAY_LEN(referral_moves[0]))
        return false;
    return referral_moves[from][to];
}

bool kith_reward_can(enum kith_reward_status from, enum kith_reward_status to)
{
    if ((size_t)from >= KITH_ARRAY_LEN(reward_moves) ||
        (size_t)to >= KITH_ARRAY_LEN(reward_moves[0]))
        return false;
    return reward_moves[from][to];
}

const char *kith_referral_status_name(enum kith_referral_status s)
{
    return (size_t)s < KITH_ARRAY_LEN(referral_names) ? referral_names[s] : "unknown";
}

bool kith_referral_status_parse(const char *s, enum kith_referral_status *out)
{
    int v;
    if (!parse_name(referral_names, KITH_ARRAY_LEN(referral_names), s, &v))
        return false;
    *out = (enum kith_referral_status)v;
    return true;
}

const char *kith_reward_status_name(enum kith_reward_status s)
{
    return (size_t)s < KITH_ARRAY_LEN(reward_names) ? reward_names[s] : "unknown";
}

bool kith_reward_status_parse(const char *s, enum kith_reward_status *out)
{
    int v;
    if (!parse_name(reward_names, KITH_ARRAY_LEN(reward_names), s, &v))
        return false;
    *out = (enum kith_reward_status)v;
    return true;
}
