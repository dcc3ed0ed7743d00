/*
 * rituals.c: months as periods and the choosing of spotlight candidates
 * (include/kith/rituals.h). Calendar arithmetic is done on day numbers (days since 1970-01-01,
 * Howard Hinnant's civil-date algorithms), so month lengths and leap years need no tables. It is
 * not for reading counts or writing spotlights: src/engine/spotlights.c does that.
 */
#include <string.h>

#include "kith/rituals.h"

#define DAY_MS INT64_C(86400000)

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *year, int *month, int *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp + (mp < 10 ? 3 : -9);
    *year = (int)(y + (m <= 2));
    *month = (int)m;
    *day = (int)d;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

bool kith_period_parse(const char *s, struct kith_period *out)
{
    if (s == NULL || strlen(s) != 7 || s[4] != '-' || !digits(s, 4) || !digits(s + 5, 2))
        return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    if (y < 1970 || m < 1 || m > 12)
        return false;
    out->year = y;
    out->month = m;
    return true;
}

void kith_period_format(struct kith_period p, char out[KITH_PERIOD_TEXT])
{
    int y = p.year < 0 ? 0 : p.year > 9999 ? 9999 : p.year;
    int m = p.month < 1 ? 1 : p.month > 12 ? 12 : p.month;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '\0';
}

struct kith_period kith_period_of(int64_t ms)
{
    int64_t days = ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS);
    struct kith_period p;
    int day;
    civil_from_days(days, &p.year, &p.month, &day);
    return p;
}

struct kith_period kith_period_add(struct kith_period p, int months)
{
    int64_t index = (int64_t)p.year * 12 + (p.month - 1) + months;
    struct kith_period out = {(int)(index / 12), (int)(index % 12) + 1};
    return out;
}

int64_t kith_period_start_ms(struct kith_period p)
{
    return days_from_civil(p.year, p.month, 1) * DAY_MS;
}

int64_t kith_period_end_ms(struct kith_period p)
{
    return kith_period_start_ms(kith_period_add(p, 1));
}

int kith_period_cmp(struct kith_period a, struct kith_period b)
{
    if (a.year != b.year)
        return a.year < b.year ? -1 : 1;
    if (a.month != b.month)
        return a.month < b.month ? -1 : 1;
    return 0;
}

bool kith_period_first_day(int64_t ms)
{
    return ms >= kith_period_start_ms(kith_period_of(ms)) &&
           ms < kith_period_start_ms(kith_period_of(ms)) + DAY_MS;
}

static const char *const category_names[] = {"most_qualified", "rising", "storyteller"};

const char *kith_spotlight_category_name(enum kith_spotlight_category c)
{
    return (unsigned)c < KITH_SPOTLIGHT_CATEGORY_COUNT ? category_names[c] : NULL;
}

bool kith_spotlight_category_parse(const char *s, enum kith_spotlight_category *out)
{
    for (size_t i = 0; s && i < KITH_SPOTLIGHT_CATEGORY_COUNT; i++) {
        if (strcmp(s, category_names[i]) == 0) {
            *out = (enum kith_spotlight_category)i;
            return true;
        }
    }
    return false;
}

/* Is a better than b? */
static bool better(const struct kith_spotlight_row *a, const struct kith_spotlight_row *b)
{
    if (a->count != b->count)
        return a->count > b->count;
    if (a->first_at_ms != b->first_at_ms)
        return a->first_at_ms < b->first_at_ms;
    return strcmp(a->participant ? a->participant : "", b->participant ? b->participant : "") < 0;
}

static bool is_excluded(const char *participant, const char *const *excluded, size_t n)
{
    for (size_t i = 0; participant && i < n; i++) {
        if (excluded[i] && strcmp(excluded[i], participant) == 0)
            return true;
    }
    return false;
}

size_t kith_spotlight_pick(const struct kith_spotlight_row *rows, size_t n,
                           const char *const *excluded, size_t nexcluded, size_t max, size_t *out)
{
    size_t kept = 0;
    if (max == 0)
        return 0;
    /* Insertion into a list of at most max: n is small (a bounded query), max is 5. */
    for (size_t i = 0; i < n; i++) {
        const struct kith_spotlight_row *r = &rows[i];
        if (r->count < 1 || r->participant == NULL ||
            is_excluded(r->participant, excluded, nexcluded))
            continue;
        bool dup = false;
        for (size_t k = 0; k < kept; k++)
            dup = dup || strcmp(rows[out[k]].participant, r->participant) == 0;
        if (dup)
            continue;
        size_t pos = kept;
        while (pos > 0 && better(r, &rows[out[pos - 1]]))
            pos--;
        if (pos >= max)
            continue;
        size_t last = kept < max ? kept : max - 1;
        for (size_t k = last; k > pos; k--)
            out[k] = out[k - 1];
        out[pos] = i;
        if (kept < max)
            kept++;
    }
    return kept;
}

struct kith_period kith_spotlight_rotation_start(struct kith_period p, int rotation)
{
    return kith_period_add(p, rotation > 0 ? -rotation : 0);
}
