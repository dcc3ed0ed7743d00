/*
 * rituals.h: the calendar and the choosing behind kith's rituals: months as periods
 * ("2035-01", UTC), their bounds and first days (the monthly spotlight and digest fall due on a
 * month's first day), and how spotlight candidates are picked from counts (best first, at most
 * five, the winners of recent periods rotated out). Pure: no I/O, no clock, no allocation.
 */
#ifndef KITH_RITUALS_H
#define KITH_RITUALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A calendar month in UTC. */
struct kith_period {
    int year;  /* 1970..9999 */
    int month; /* 1..12 */
};
#define KITH_PERIOD_TEXT 8 /* "YYYY-MM" and its NUL */

/* "YYYY-MM" exactly (month 01..12, year 1970..9999); false for anything else. */
bool kith_period_parse(const char *s, struct kith_period *out);
void kith_period_format(struct kith_period p, char out[KITH_PERIOD_TEXT]);
/* The month that holds ms (ms >= 0). */
struct kith_period kith_period_of(int64_t ms);
/* p moved by months (negative: earlier). */
struct kith_period kith_period_add(struct kith_period p, int months);
/* The half-open bounds of p: its first instant, and the first instant of the next month. */
int64_t kith_period_start_ms(struct kith_period p);
int64_t kith_period_end_ms(struct kith_period p);
/* <0, 0, >0 as a is before, equal to or after b. */
int kith_period_cmp(struct kith_period a, struct kith_period b);
/* True when ms falls on the first day of its month (UTC). */
bool kith_period_first_day(int64_t ms);

/* Spotlight categories, in the order they are shown. */
enum kith_spotlight_category {
    KITH_SPOTLIGHT_MOST_QUALIFIED, /* most referrals qualified in the period */
    KITH_SPOTLIGHT_RISING,         /* first qualified referral ever in the period */
    KITH_SPOTLIGHT_STORYTELLER,    /* most counted activities in the period */
    KITH_SPOTLIGHT_CATEGORY_COUNT,
};
#define KITH_SPOTLIGHT_CANDIDATES_MAX 5
const char *kith_spotlight_category_name(enum kith_spotlight_category c);
bool kith_spotlight_category_parse(const char *s, enum kith_spotlight_category *out);

/* One person's count in a category. */
struct kith_spotlight_row {
    const char *participant;
    int64_t count;
    int64_t first_at_ms; /* when the first counted thing of the period happened */
};

/*
 * Picks a category's candidates: rows with count >= 1 whose participant is not in excluded
 * (the published winners of the rotated periods), best first: the higher count, then the one
 * who got there first (first_at_ms), then the participant id, so a draft is the same however
 * often it is made. At most max are kept; their indexes into rows go to out (room for max).
 * Returns how many were kept.
 */
size_t kith_spotlight_pick(const struct kith_spotlight_row *rows, size_t n,
                           const char *const *excluded, size_t nexcluded, size_t max, size_t *out);

/* The first period whose published winners are rotated out of a draft for p: p - rotation
 * (the excluded periods are [that, p), none when rotation is 0). */
struct kith_period kith_spotlight_rotation_start(struct kith_period p, int rotation);

#endif
