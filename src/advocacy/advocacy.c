/*
 * advocacy.c: the level rules of tracks (include/kith/advocacy.h). A participant's level on a
 * track follows their count upwards at once and downwards only after a grace period, so a quiet
 * month never takes away recognition someone earned; a level the owner wants to confer by hand
 * waits, pending, and nothing above it is reached past it. Pure: the engine brings the count
 * and the times and applies the verdict (grants, roles, webhooks) in its transaction.
 */
#include <stdio.h>
#include <string.h>

#include "kith/advocacy.h"

#define DAY_MS INT64_C(86400000)

static bool charset_ok(const char *s, bool dash)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > KITH_ADV_ID_MAX)
        return false;
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              (dash && *s == '-')))
            return false;
    }
    return true;
}

bool kith_adv_id_valid(const char *s)
{
    return charset_ok(s, true);
}

bool kith_adv_role_valid(const char *s)
{
    return charset_ok(s, false);
}

static const char *const counts_names[] = {"qualified_referrals", "signups", "resource_signups"};

bool kith_adv_counts_parse(const char *s, enum kith_adv_counts *kind, char *activity)
{
    activity[0] = '\0';
    if (s == NULL)
        return false;
    for (size_t i = 0; i < KITH_ARRAY_LEN(counts_names); i++) {
        if (strcmp(s, counts_names[i]) == 0) {
            *kind = (enum kith_adv_counts)i;
            return true;
        }
    }
    if (strncmp(s, "activity:", 9) != 0 || !kith_adv_role_valid(s + 9))
        return false;
    *kind = KITH_ADV_ACTIVITY;
    kith_strlcpy(activity, s + 9, KITH_ADV_ID_MAX + 1);
    return true;
}

void kith_adv_counts_name(const struct kith_adv_track *t, char *out, size_t outsize)
{
    if (t->counts == KITH_ADV_ACTIVITY)
        snprintf(out, outsize, "activity:%s", t->activity);
    else if ((size_t)t->counts < KITH_ARRAY_LEN(counts_names))
        kith_strlcpy(out, counts_names[t->counts], outsize);
    else
        kith_strlcpy(out, "unknown", outsize);
}

void kith_adv_basis(const struct kith_adv_track *t, char *out, size_t outsize)
{
    char name[64];
    kith_adv_counts_name(t, name, sizeof(name));
    if (t->window_days > 0)
        snprintf(out, outsize, "%s/%lldd", name, (long long)t->window_days);
    else
        kith_strlcpy(out, name, outsize);
}

enum kith_status kith_adv_tracks_validate(const struct kith_adv_track *tracks, size_t n,
                                          struct kith_err *err)
{
    char param[64];
    if (n > KITH_ADV_TRACKS_MAX)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "tracks", "'tracks' holds at most %d tracks",
                            KITH_ADV_TRACKS_MAX);
    for (size_t i = 0; i < n; i++) {
        const struct kith_adv_track *t = &tracks[i];
#define TRACK_PARAM(field) (snprintf(param, sizeof(param), "tracks[%zu]" field, i), param)
        if (!kith_adv_id_valid(t->id))
            return kith_err_set(err, KITH_E_INVALID_PARAM, TRACK_PARAM(".id"),
                                "tracks[%zu].id must match [a-z0-9_-]{1,40}", i);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(tracks[j].id, t->id) == 0)
                return kith_err_set(err, KITH_E_INVALID_PARAM, TRACK_PARAM(".id"),
                                    "two tracks are called '%s'", t->id);
        }
        if (t->counts == KITH_ADV_ACTIVITY && !kith_adv_role_valid(t->activity))
            return kith_err_set(err, KITH_E_INVALID_PARAM, TRACK_PARAM(".counts"),
                                "tracks[%zu].counts: an activity type must match [a-z0-9_]{1,40}",
                                i);
        if (t->window_days < 0 || t->window_days > KITH_ADV_DAYS_MAX)
            return kith_err_set(err, KITH_E_INVALID_PARAM, TRACK_PARAM(".window_days"),
                                "tracks[%zu].window_days must be null or 1 to %d", i,
                                KITH_ADV_DAYS_MAX);
        if (t->grace_days < 0 || t->grace_days > KITH_ADV_DAYS_MAX)
            return kith_err_set(err, KITH_E_INVALID_PARAM, TRACK_PARAM(".downgrade_grace_days"),
                                "tracks[%zu].downgrade_grace_days must be 0 to %d", i,
                                KITH_ADV_DAYS_MAX);
        if (t->nlevels < 1 || t->nlevels > KITH_ADV_LEVELS_MAX)
            return kith_err_set(err, KITH_E_INVALID_PARAM, TRACK_PARAM(".levels"),
                                "tracks[%zu].levels must hold 1 to %d levels", i,
                                KITH_ADV_LEVELS_MAX);
#undef TRACK_PARAM
        for (size_t k = 0; k < t->nlevels; k++) {
            const struct kith_adv_level *l = &t->levels[k];
#define LEVEL_PARAM(field)                                                                         \
    (snprintf(param, sizeof(param), "tracks[%zu].levels[%zu]" field, i, k), param)
            if (!kith_adv_id_valid(l->id))
                return kith_err_set(err, KITH_E_INVALID_PARAM, LEVEL_PARAM(".id"),
                                    "tracks[%zu].levels[%zu].id must match [a-z0-9_-]{1,40}", i, k);
            for (size_t j = 0; j < k; j++) {
                if (strcmp(t->levels[j].id, l->id) == 0)
                    return kith_err_set(err, KITH_E_INVALID_PARAM, LEVEL_PARAM(".id"),
                                        "track '%s' has two levels called '%s'", t->id, l->id);
            }
            if (l->at < 1 || l->at > KITH_ADV_AT_MAX)
                return kith_err_set(err, KITH_E_INVALID_PARAM, LEVEL_PARAM(".at"),
                                    "tracks[%zu].levels[%zu].at must be 1 to %d", i, k,
                                    KITH_ADV_AT_MAX);
            if (k > 0 && l->at <= t->levels[k - 1].at)
                return kith_err_set(err, KITH_E_INVALID_PARAM, LEVEL_PARAM(".at"),
                                    "levels are listed in strictly increasing 'at': "
                                    "tracks[%zu].levels[%zu].at must be above %lld",
                                    i, k, (long long)t->levels[k - 1].at);
#undef LEVEL_PARAM
        }
    }
    return KITH_OK;
}

int kith_adv_level_index(const struct kith_adv_track *t, const char *id)
{
    if (id == NULL)
        return -1;
    for (size_t i = 0; i < t->nlevels && i < KITH_ADV_LEVELS_MAX; i++) {
        if (strcmp(t->levels[i].id, id) == 0)
            return (int)i;
    }
    return -1;
}

int kith_adv_reach(const struct kith_adv_track *t, int64_t count)
{
    int reach = -1;
    for (size_t i = 0; i < t->nlevels && i < KITH_ADV_LEVELS_MAX; i++) {
        if (t->levels[i].at <= count)
            reach = (int)i;
    }
    return reach;
}

void kith_adv_state_init(struct kith_adv_state *s)
{
    s->level = -1;
    s->pending = -1;
    s->declined = -1;
    s->below_since_ms = -1;
    s->given = 0;
}

/* Out-of-range indexes (a level removed from the settings) count as nothing held. */
static int clamp(const struct kith_adv_track *t, int i)
{
    return i >= 0 && (size_t)i < t->nlevels && i < KITH_ADV_LEVELS_MAX ? i : -1;
}

static uint32_t bit(int i)
{
    return (uint32_t)1 << (unsigned)i;
}

/* Climbs from s->level towards reach (rule 3), recording levels reached in out. */
static void climb(const struct kith_adv_track *t, int reach, struct kith_adv_state *s,
                  struct kith_adv_outcome *out)
{
    for (int i = s->level + 1; i <= reach; i++) {
        if (s->pending >= 0 || (s->declined >= 0 && i >= s->declined))
            return;
        if (t->levels[i].owner_approval && !(s->given & bit(i))) {
            s->pending = i;
            out->pending_new = true;
            return;
        }
        s->level = i;
        s->given |= bit(i);
        out->reached |= bit(i);
    }
}

static void settle(const struct kith_adv_track *t, int64_t count, struct kith_adv_state *s,
                   int64_t at_ms, int64_t now_ms, struct kith_adv_outcome *out)
{
    int reach = kith_adv_reach(t, count);
    /* 1. A pending level is a level reached: when the count no longer reaches it, it goes. */
    if (s->pending >= 0 && reach < s->pending) {
        s->pending = -1;
        out->pending_withdrawn = true;
        out->pending_new = false;
    }
    /* 2. Below the held level: keep it through the grace period, then drop. */
    if (s->level > reach) {
        /* Only a count that fell starts a grace period: a level held under settings that have
         * since asked for more stays held (levels already held stay). */
        if (s->below_since_ms < 0 && at_ms < 0)
            return;
        if (s->below_since_ms < 0)
            s->below_since_ms = at_ms;
        int64_t until = s->below_since_ms + t->grace_days * DAY_MS;
        if (now_ms < until) {
            out->grace_until_ms = until;
            return;
        }
        for (int i = reach + 1; i <= s->level; i++) {
            if (out->reached & bit(i))
                out->reached &= ~bit(i);
            else
                out->dropped |= bit(i);
        }
        s->level = reach;
    }
    s->below_since_ms = -1;
    /* 3. At or above it: climb. */
    climb(t, reach, s, out);
}

static void start(const struct kith_adv_track *t, const struct kith_adv_state *held,
                  struct kith_adv_outcome *out)
{
    memset(out, 0, sizeof(*out));
    out->next = *held;
    out->next.level = clamp(t, held->level);
    out->next.pending = clamp(t, held->pending);
    out->next.declined = clamp(t, held->declined);
    if (out->next.level < 0)
        out->next.below_since_ms = -1;
    if (t->nlevels < 32)
        out->next.given &= bit((int)t->nlevels) - 1;
    out->grace_until_ms = -1;
}

void kith_adv_evaluate(const struct kith_adv_track *t, int64_t count,
                       const struct kith_adv_state *held, int64_t at_ms, int64_t now_ms,
                       struct kith_adv_outcome *out)
{
    start(t, held, out);
    settle(t, count, &out->next, at_ms, now_ms, out);
}

bool kith_adv_approve(const struct kith_adv_track *t, int64_t count,
                      const struct kith_adv_state *held, int64_t now_ms,
                      struct kith_adv_outcome *out)
{
    struct kith_adv_outcome o;
    start(t, held, &o);
    struct kith_adv_state *s = &o.next;
    int which = s->pending;
    if (which < 0 && s->declined >= 0 && kith_adv_reach(t, count) >= s->declined)
        which = s->declined;
    if (which < 0)
        return false;
    /* Approving confers the level itself; the levels below it come with it. */
    for (int i = s->level + 1; i <= which; i++) {
        s->given |= bit(i);
        o.reached |= bit(i);
    }
    s->level = which > s->level ? which : s->level;
    s->pending = -1;
    if (s->declined >= 0 && s->declined <= which)
        s->declined = -1;
    s->below_since_ms = -1;
    settle(t, count, s, now_ms, now_ms, &o);
    *out = o;
    return true;
}

bool kith_adv_decline(const struct kith_adv_track *t, const struct kith_adv_state *held,
                      struct kith_adv_outcome *out)
{
    struct kith_adv_outcome o;
    start(t, held, &o);
    if (o.next.pending < 0)
        return false;
    o.next.declined = o.next.pending;
    o.next.pending = -1;
    *out = o;
    return true;
}

int kith_adv_next(const struct kith_adv_track *t, const struct kith_adv_state *s)
{
    int from = clamp(t, s->pending) >= 0 ? clamp(t, s->pending) : clamp(t, s->level);
    int next = from + 1;
    return (size_t)next < t->nlevels && next < KITH_ADV_LEVELS_MAX ? next : -1;
}

enum kith_adv_role_fate kith_adv_role_after_drop(const struct kith_adv_role_source *src, int track,
                                                 int level, const int *held, const uint32_t *grants,
                                                 size_t ntracks, struct kith_adv_role_source *next)
{
    if (src->owner || src->track != track || src->level != level)
        return KITH_ADV_ROLE_KEEP;
    for (size_t j = 0; j < ntracks; j++) {
        for (int k = 0; k <= held[j] && k < KITH_ADV_LEVELS_MAX; k++) {
            if (grants[j] & bit(k)) {
                next->owner = false;
                next->track = (int)j;
                next->level = k;
                return KITH_ADV_ROLE_MOVE;
            }
        }
    }
    return KITH_ADV_ROLE_REVOKE;
}
