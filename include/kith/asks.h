/*
 * asks.h: whether a natural moment (a purchase, a milestone, a kind NPS score...) is a good time
 * to invite someone to share, and what became of an invitation. Pure: the caller gathers the
 * facts (the program's ask policy, the person, the moment, their recent asks and clicks) and the
 * rules answer ask or skip with the reason. No I/O, no clock, no allocation; every function is
 * reentrant. The engine (src/engine/moments.c) reads the facts and records the outcome.
 */
#ifndef KITH_ASKS_H
#define KITH_ASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KITH_ASKS_DAY_MS INT64_C(86400000)
#define KITH_ASKS_CAP_WINDOW_DAYS 30

/* The person's preference for asks. */
enum kith_ask_pref {
    KITH_ASK_PREF_NORMAL,
    KITH_ASK_PREF_FEWER, /* the cooldown between asks is twice as long */
    KITH_ASK_PREF_NEVER, /* never asked */
};
/* "normal", "fewer", "never"; parse returns false for anything else. */
const char *kith_ask_pref_name(enum kith_ask_pref p);
bool kith_ask_pref_parse(const char *s, enum kith_ask_pref *out);

/* Why a moment is skipped, in the order the rules are tried. NONE means: ask. */
enum kith_ask_reason {
    KITH_ASK_REASON_NONE,
    KITH_ASK_REASON_DISABLED,    /* the program's asks are off */
    KITH_ASK_REASON_BLOCKED,     /* the person is blocked or erased */
    KITH_ASK_REASON_OPTED_OUT,   /* their preference is "never" */
    KITH_ASK_REASON_LOW_SCORE,   /* an nps moment below nps_min_score */
    KITH_ASK_REASON_TOO_SOON,    /* joined less than not_before_days before the moment */
    KITH_ASK_REASON_COOLDOWN,    /* last ask less than min_days_between before (x2 for fewer) */
    KITH_ASK_REASON_CAP_REACHED, /* max_per_30_days asks in the 30 days before */
    KITH_ASK_REASON_IGNORED,     /* the last stop_after_ignored asks were all ignored */
};
/* The contract's name ("cooldown"), or NULL for KITH_ASK_REASON_NONE. */
const char *kith_ask_reason_name(enum kith_ask_reason r);

/* A program's `asks` setting. Bounds are checked where the setting is parsed. */
struct kith_ask_policy {
    bool enabled;
    uint32_t not_before_days;
    uint32_t min_days_between;
    uint32_t max_per_30_days;
    uint32_t stop_after_ignored;
    uint32_t nps_min_score;
    uint32_t answered_within_days;
};
/* The contract's defaults: enabled, 3, 14, 2, 3, 9, 7. */
void kith_ask_policy_defaults(struct kith_ask_policy *out);

/* One earlier ask, as the store holds it. */
struct kith_ask_past {
    int64_t at_ms;          /* when it was made (its moment's time) */
    int64_t answer_by_ms;   /* at_ms + answered_within_days at the time it was made */
    int64_t answered_at_ms; /* the first counted click in its window; -1 when none (yet) */
};

/* What an ask is at time at_ms: answered (a counted click came in its window), ignored (the
 * window passed without one) or open (the window has not passed yet). */
enum kith_ask_state {
    KITH_ASK_OPEN,
    KITH_ASK_ANSWERED,
    KITH_ASK_IGNORED,
};
enum kith_ask_state kith_ask_state_at(const struct kith_ask_past *a, int64_t at_ms);
/* The end of the answer window of an ask made at at_ms under p. */
int64_t kith_ask_answer_by(const struct kith_ask_policy *p, int64_t at_ms);

/* Everything the decision looks at. Times are milliseconds since the epoch. */
struct kith_ask_facts {
    bool blocked; /* the participant's status is blocked */
    bool erased;
    enum kith_ask_pref pref;
    int64_t joined_ms; /* when they became a participant */
    bool nps;          /* the moment's type is "nps" */
    int score;         /* its score (0-10), read only for nps */
    int64_t moment_ms;
    /* Their asks made at or before the moment, newest first: the first stop_after_ignored of
     * them (fewer when they have fewer). recent[0] is the last ask. */
    const struct kith_ask_past *recent;
    size_t nrecent;
    uint32_t asks_in_cap_window; /* their asks in (moment - 30 days, moment] */
    int64_t last_click_ms;       /* their latest counted click at or before the moment; -1 */
};

/*
 * The decision: the first rule that holds, in the contract's order (disabled, blocked,
 * opted_out, low_score, too_soon, cooldown, cap_reached, ignored), or KITH_ASK_REASON_NONE
 * when none does and the person is asked. The ignored rule is lifted by an answered ask among
 * the last stop_after_ignored (they are then not all ignored) and by a counted click at or
 * after the last ask.
 */
enum kith_ask_reason kith_ask_decide(const struct kith_ask_policy *p,
                                     const struct kith_ask_facts *f);

/* A moment type: [a-z0-9_.]{1,40} (purchase, milestone, nps, review, support_resolved or the
 * business's own). */
bool kith_ask_moment_type_valid(const char *s);

#endif
