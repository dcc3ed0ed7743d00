/*
 * advocacy.h: the rules of tracks and levels (CONTRACT section 15), as pure functions. A track
 * recognises one style of advocacy (qualified referrals, signups, an activity type...) with up
 * to ten levels, each reached at a count; this module says which level a participant holds,
 * which one waits for the owner's approval, and when a level falls away once the count drops
 * below it and the grace period has run out. Inputs in (the track, the count, what the
 * participant held, the times), a verdict out: no I/O, no clock, no store, no JSON, no
 * allocation. Counting, the grants a level gives (rewards, roles), webhooks and notifications
 * belong to the engine (src/engine/tracks.c, levels.c).
 *
 * Thread-safety: every function is reentrant; none keeps a pointer to what it is given.
 */
#ifndef KITH_ADVOCACY_H
#define KITH_ADVOCACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kith/core.h"

#define KITH_ADV_TRACKS_MAX 8  /* tracks per program */
#define KITH_ADV_LEVELS_MAX 10 /* levels per track */
#define KITH_ADV_ID_MAX 40     /* track, level, role and activity type ids, in bytes */
#define KITH_ADV_AT_MAX 1000000
#define KITH_ADV_DAYS_MAX 3650

/* What a track counts. */
enum kith_adv_counts {
    KITH_ADV_QUALIFIED_REFERRALS, /* the participant's referrals now rewarded */
    KITH_ADV_SIGNUPS,             /* their referrals not rejected */
    KITH_ADV_RESOURCE_SIGNUPS,    /* their referrals (not rejected) carrying a resource */
    KITH_ADV_ACTIVITY,            /* their activities of one type, not voided */
};

struct kith_adv_level {
    char id[KITH_ADV_ID_MAX + 1];
    int64_t at;          /* the count that reaches it, >= 1 */
    bool owner_approval; /* "approval": "owner" */
};

struct kith_adv_track {
    char id[KITH_ADV_ID_MAX + 1];
    enum kith_adv_counts counts;
    char activity[KITH_ADV_ID_MAX + 1]; /* the type, for KITH_ADV_ACTIVITY; "" otherwise */
    int64_t window_days;                /* 0: all time */
    int64_t grace_days;                 /* downgrade_grace_days, 0 allowed */
    struct kith_adv_level levels[KITH_ADV_LEVELS_MAX];
    size_t nlevels;
};

/* Track and level ids: [a-z0-9_-]{1,40}. */
bool kith_adv_id_valid(const char *s);
/* Role names and activity types: [a-z0-9_]{1,40}. */
bool kith_adv_role_valid(const char *s);
/*
 * Parses a track's `counts` ("qualified_referrals", "signups", "resource_signups",
 * "activity:<type>"); activity (KITH_ADV_ID_MAX + 1 bytes) receives the type, or "".
 */
bool kith_adv_counts_parse(const char *s, enum kith_adv_counts *kind, char *activity);
/*
 * Writes the counts name back ("activity:testimonial") into out (at least 64 bytes). A track's
 * basis is this name plus its window ("activity:testimonial/30d"): a counter kept under one basis
 * is not carried over to another (changing what a track counts starts it afresh).
 */
void kith_adv_counts_name(const struct kith_adv_track *t, char *out, size_t outsize);
void kith_adv_basis(const struct kith_adv_track *t, char *out, size_t outsize);

/*
 * Checks a program's tracks: at most KITH_ADV_TRACKS_MAX, each with 1..KITH_ADV_LEVELS_MAX
 * levels; valid and unique track ids in the program, level ids in the track; every `at` in
 * 1..KITH_ADV_AT_MAX and strictly increasing; window_days 0 or 1..KITH_ADV_DAYS_MAX,
 * grace_days 0..KITH_ADV_DAYS_MAX. On failure KITH_E_INVALID_PARAM with err->param naming the
 * field ("tracks[1].levels[2].at").
 */
enum kith_status kith_adv_tracks_validate(const struct kith_adv_track *tracks, size_t n,
                                          struct kith_err *err);

/* Index of the level called id in t, or -1. */
int kith_adv_level_index(const struct kith_adv_track *t, const char *id);
/* Index of the highest level whose `at` count reaches, or -1. */
int kith_adv_reach(const struct kith_adv_track *t, int64_t count);

/* What a participant holds on one track. Level indexes are -1 for none. */
struct kith_adv_state {
    int level;              /* the level held */
    int pending;            /* a level reached that waits for the owner's approval */
    int declined;           /* a level the owner declined: not proposed again on its own */
    int64_t below_since_ms; /* when the count fell below the held level; -1 when it has not */
    uint32_t given;         /* bit i: level i was given once (approved or reached) */
};

/* The empty state: no level, nothing pending or declined, never below, nothing given. */
void kith_adv_state_init(struct kith_adv_state *s);

struct kith_adv_outcome {
    struct kith_adv_state next;
    uint32_t reached;       /* bit i: level i is held from now on (it was not before) */
    uint32_t dropped;       /* bit i: level i was held and is not any more */
    bool pending_new;       /* next.pending is a level that became pending now */
    bool pending_withdrawn; /* the pending level was withdrawn: the count no longer reaches it */
    int64_t grace_until_ms; /* when the held level falls away unless the count recovers; -1 */
};

/*
 * Evaluates held against count. at_ms is when the count fell (the start of a grace period), or
 * -1 when it did not fall (it rose, or nothing but the settings changed): then no grace period
 * starts, and a level the count no longer reaches under changed settings stays held. now_ms is
 * now (a grace period that ended by now is applied). The rules, in order:
 * 1. A pending level the count no longer reaches is withdrawn.
 * 2. A count below the held level starts the grace period at at_ms (kept when it had started);
 *    once now_ms >= start + grace_days the participant drops to the highest level the count
 *    reaches. A count back at or above the held level ends the grace period.
 * 3. Outside a grace period the participant climbs level by level up to what the count
 *    reaches. A level with owner approval that was never given stops the climb and becomes
 *    pending; a pending or declined level stops it as well. Levels given before (held once,
 *    then dropped) are reached again without approval.
 */
void kith_adv_evaluate(const struct kith_adv_track *t, int64_t count,
                       const struct kith_adv_state *held, int64_t at_ms, int64_t now_ms,
                       struct kith_adv_outcome *out);
/*
 * The owner approves: the pending level (or, when none is pending, a declined level the count
 * still reaches) is held and given, and the climb goes on as in kith_adv_evaluate. False, with
 * out untouched, when there is nothing to approve.
 */
bool kith_adv_approve(const struct kith_adv_track *t, int64_t count,
                      const struct kith_adv_state *held, int64_t now_ms,
                      struct kith_adv_outcome *out);
/* The owner declines the pending level: it is remembered as declined. False when none. */
bool kith_adv_decline(const struct kith_adv_track *t, const struct kith_adv_state *held,
                      struct kith_adv_outcome *out);
/*
 * The level to show as `next`: the first level above the pending one when a level is pending,
 * else the first above the held level; -1 at the top.
 */
int kith_adv_next(const struct kith_adv_track *t, const struct kith_adv_state *s);

/* Where a participant's role came from: the owner, or level `level` of track `track`. */
struct kith_adv_role_source {
    bool owner;
    int track;
    int level;
};

enum kith_adv_role_fate {
    KITH_ADV_ROLE_KEEP,   /* the owner gave it, or another level is its source */
    KITH_ADV_ROLE_MOVE,   /* a level still held grants it too: that level is its source now */
    KITH_ADV_ROLE_REVOKE, /* nothing holds it up any more: it goes */
};

/*
 * A drop in level revokes the roles it granted (CONTRACT section 15), and only those: what
 * happens to a role whose source is src when level `level` of track `track` is no longer held.
 * held[j] is the level now held on track j (-1 none; after the drop), grants[j] has bit k set
 * when level k of track j grants the role; ntracks entries each. On KITH_ADV_ROLE_MOVE, *next is
 * the first (by track, then level) level still held that grants it.
 */
enum kith_adv_role_fate kith_adv_role_after_drop(const struct kith_adv_role_source *src, int track,
                                                 int level, const int *held, const uint32_t *grants,
                                                 size_t ntracks, struct kith_adv_role_source *next);

#endif
