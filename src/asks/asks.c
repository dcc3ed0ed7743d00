/*
 * asks.c: the decision table for asks at natural moments (include/kith/asks.h). The rules are
 * tried in one fixed order and the first that holds names the reason, so a person who opted out
 * hears "opted_out" even during a cooldown: the reason a business sees is the most fundamental
 * one. It is not for reading facts or recording asks: the engine does that.
 */
#include <string.h>

#include "kith/asks.h"

static const char *const pref_names[] = {"normal", "fewer", "never"};

const char *kith_ask_pref_name(enum kith_ask_pref p)
{
    return (unsigned)p < sizeof(pref_names) / sizeof(pref_names[0]) ? pref_names[p] : "normal";
}

bool kith_ask_pref_parse(const char *s, enum kith_ask_pref *out)
{
    for (size_t i = 0; s && i < sizeof(pref_names) / sizeof(pref_names[0]); i++) {
        if (strcmp(s, pref_names[i]) == 0) {
            *out = (enum kith_ask_pref)i;
            return true;
        }
    }
    return false;
}

static const char *const reason_names[] = {
    NULL,       "disabled", "blocked",     "opted_out", "low_score",
    "too_soon", "cooldown", "cap_reached", "ignored",
};

const char *kith_ask_reason_name(enum kith_ask_reason r)
{
    return (unsigned)r < sizeof(reason_names) / sizeof(reason_names[0]) ? reason_names[r] : NULL;
}

void kith_ask_policy_defaults(struct kith_ask_policy *out)
{
    *out = (struct kith_ask_policy){
        .enabled = true,
        .not_before_days = 3,
        .min_days_between = 14,
        .max_per_30_days = 2,
        .stop_after_ignored = 3,
        .nps_min_score = 9,
        .answered_within_days = 7,
    };
}

int64_t kith_ask_answer_by(const struct kith_ask_policy *p, int64_t at_ms)
{
    return at_ms + (int64_t)p->answered_within_days * KITH_ASKS_DAY_MS;
}

enum kith_ask_state kith_ask_state_at(const struct kith_ask_past *a, int64_t at_ms)
{
    /* A click recorded for a later instant (a moment reported late) does not answer yet. */
    if (a->answered_at_ms >= 0 && a->answered_at_ms <= at_ms)
        return KITH_ASK_ANSWERED;
    if (at_ms >= a->answer_by_ms)
        return KITH_ASK_IGNORED;
    return KITH_ASK_OPEN;
}

static bool all_ignored(const struct kith_ask_policy *p, const struct kith_ask_facts *f)
{
    size_t n = p->stop_after_ignored;
    if (n == 0 || f->nrecent < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (kith_ask_state_at(&f->recent[i], f->moment_ms) != KITH_ASK_IGNORED)
            return false;
    }
    /* A counted click since the last ask shows the person shares again. */
    return !(f->last_click_ms >= 0 && f->last_click_ms >= f->recent[0].at_ms);
}

enum kith_ask_reason kith_ask_decide(const struct kith_ask_policy *p,
                                     const struct kith_ask_facts *f)
{
    if (!p->enabled)
        return KITH_ASK_REASON_DISABLED;
    if (f->blocked || f->erased)
        return KITH_ASK_REASON_BLOCKED;
    if (f->pref == KITH_ASK_PREF_NEVER)
        return KITH_ASK_REASON_OPTED_OUT;
    if (f->nps && f->score < (int)p->nps_min_score)
        return KITH_ASK_REASON_LOW_SCORE;
    if (f->moment_ms - f->joined_ms < (int64_t)p->not_before_days * KITH_ASKS_DAY_MS)
        return KITH_ASK_REASON_TOO_SOON;
    if (f->nrecent > 0) {
        int64_t gap = (int64_t)p->min_days_between * KITH_ASKS_DAY_MS;
        if (f->pref == KITH_ASK_PREF_FEWER)
            gap *= 2;
        if (f->moment_ms - f->recent[0].at_ms < gap)
            return KITH_ASK_REASON_COOLDOWN;
    }
    if (f->asks_in_cap_window >= p->max_per_30_days)
        return KITH_ASK_REASON_CAP_REACHED;
    if (all_ignored(p, f))
        return KITH_ASK_REASON_IGNORED;
    return KITH_ASK_REASON_NONE;
}

bool kith_ask_moment_type_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 40)
        return false;
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '.'))
            return false;
    }
    return true;
}
