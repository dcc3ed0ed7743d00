/*
 * clock.c: wall time, the test clock that replaces it, monotonic time, and RFC 3339 text.
 * The test clock is frozen: it moves only when the test-clock endpoint sets it, so tests are
 * deterministic. Readers on any thread see it through an atomic.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kith/clock.h"
#include "kith/core.h"

static atomic_bool test_mode;
static atomic_llong test_now_ms;

int64_t kith_clock_now_ms(void)
{
    if (atomic_load(&test_mode))
        return atomic_load(&test_now_ms);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kith_clock_enable_test(int64_t now_ms)
{
    atomic_store(&test_now_ms, now_ms);
    atomic_store(&test_mode, true);
}

bool kith_clock_is_test(void)
{
    return atomic_load(&test_mode);
}

void kith_clock_set_ms(int64_t now_ms)
{
    atomic_store(&test_now_ms, now_ms);
}

uint64_t kith_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void kith_time_format(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's method). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool kith_time_parse(const char *s, int64_t *out_ms)
{
    int y, mo, d, h, mi, se;
    if (s == NULL || strlen(s) < 20 || strlen(s) > 40)
        return false;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    const char *p = s + 19;
    int frac_ms = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0 || n > 9)
            return false;
        for (int i = n; i < 3; i++)
            frac_ms *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    if (se == 60)
        se = 59;
    int64_t secs = days_from_civil(y, mo, d) * KITH_S_PER_DAY + h * KITH_S_PER_HOUR + mi * 60 + se;
    secs -= (int64_t)offset_min * 60;
    /* Only instants kith can write back out: 1970-01-01T00:00:00Z up to the end of year 9999. */
    if (secs < 0 || secs >= INT64_C(253402300800))
        return false;
    *out_ms = secs * 1000 + frac_ms;
    return true;
}
