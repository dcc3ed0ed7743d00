/*
 * fulfilment.c: the pure rules of reward fulfilment (kith/fulfilment.h): method names and fits,
 * Stripe's form encoding and Idempotency-Keys, the retry verdict, calendar months for trials,
 * promotion codes and major units for payouts. No I/O, no clock: the engine passes `now` in and
 * decides what happens to a reward; this file only answers questions.
 */
#include <stdio.h>
#include <string.h>

#include "kith/core.h"
#include "kith/fulfilment.h"

static const char *const method_names[KITH_FULFIL_METHOD_COUNT] = {
    "none", "stripe_balance", "stripe_coupon", "stripe_trial", "payout", "claim",
};

const char *kith_fulfil_method_name(enum kith_fulfil_method m)
{
    return (unsigned)m < KITH_FULFIL_METHOD_COUNT ? method_names[m] : "none";
}

bool kith_fulfil_method_parse(const char *s, enum kith_fulfil_method *out)
{
    for (int i = 0; s && i < KITH_FULFIL_METHOD_COUNT; i++) {
        if (strcmp(s, method_names[i]) == 0) {
            *out = (enum kith_fulfil_method)i;
            return true;
        }
    }
    return false;
}

bool kith_fulfil_method_is_stripe(enum kith_fulfil_method m)
{
    return m == KITH_FULFIL_STRIPE_BALANCE || m == KITH_FULFIL_STRIPE_COUPON ||
           m == KITH_FULFIL_STRIPE_TRIAL;
}

bool kith_fulfil_method_fits(enum kith_fulfil_method m, enum kith_reward_kind k)
{
    switch (m) {
    case KITH_FULFIL_STRIPE_BALANCE:
    case KITH_FULFIL_STRIPE_COUPON:
    case KITH_FULFIL_PAYOUT:
        return kith_reward_kind_monetary(k);
    case KITH_FULFIL_STRIPE_TRIAL:
        return k == KITH_REWARD_KIND_FREE_MONTH || k == KITH_REWARD_KIND_SUBSCRIPTION_EXTENSION;
    case KITH_FULFIL_NONE:
    case KITH_FULFIL_CLAIM:
        return true;
    }
    return false;
}

void kith_form_encode(struct kith_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '.' || *c == '_' || *c == '~') {
            kith_buf_append(b, c, 1);
        } else {
            char esc[3] = {'%', hex[*c >> 4], hex[*c & 15]};
            kith_buf_append(b, esc, 3);
        }
    }
}

void kith_form_add(struct kith_buf *b, const char *key, const char *value)
{
    if (b->len > 0)
        kith_buf_str(b, "&");
    kith_form_encode(b, key);
    kith_buf_str(b, "=");
    kith_form_encode(b, value);
}

void kith_form_add_int(struct kith_buf *b, const char *key, int64_t value)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)value);
    kith_form_add(b, key, text);
}

void kith_fulfil_idem_key(const char *reward, int64_t generation, const char *suffix,
                          char out[KITH_FULFIL_IDEM_MAX])
{
    if (suffix && suffix[0])
        snprintf(out, KITH_FULFIL_IDEM_MAX, "kith-%s-%lld-%s", reward ? reward : "",
                 (long long)generation, suffix);
    else
        snprintf(out, KITH_FULFIL_IDEM_MAX, "kith-%s-%lld", reward ? reward : "",
                 (long long)generation);
}

bool kith_fulfil_retryable(int http_status, int should_retry)
{
    if (http_status != 0 && should_retry >= 0)
        return should_retry == 1;
    return http_status == 0 || http_status == 409 || http_status == 429 ||
           (http_status >= 500 && http_status <= 599);
}

/* Days from 1970-01-01 to y-m-d, and back (Howard Hinnant's civil calendar algorithms). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t month_days(int64_t y, int64_t m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int64_t kith_fulfil_add_months(int64_t unix_s, uint32_t months)
{
    int64_t day = unix_s >= 0 ? unix_s / 86400 : (unix_s - 86399) / 86400;
    int64_t secs = unix_s - day * 86400;
    int64_t y, m, d;
    civil_from_days(day, &y, &m, &d);
    int64_t total = y * 12 + (m - 1) + months;
    y = total / 12;
    m = total % 12 + 1;
    int64_t last = month_days(y, m);
    if (d > last)
        d = last;
    return days_from_civil(y, m, d) * 86400 + secs;
}

int64_t kith_fulfil_trial_end(int64_t now_s, int64_t trial_end_s, int64_t period_end_s,
                              uint32_t months)
{
    int64_t from = now_s;
    if (trial_end_s > from)
        from = trial_end_s;
    if (period_end_s > from)
        from = period_end_s;
    return kith_fulfil_add_months(from, months);
}

void kith_fulfil_promo_code(const char *prefix, const uint8_t rnd[8],
                            char out[KITH_FULFIL_PROMO_CODE_MAX])
{
    /* 32 symbols, 5 bits each: no 0, O, 1 or I, so a code read aloud or retyped survives. */
    static const char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    size_t n = 0;
    for (const char *c = prefix ? prefix : ""; *c && n < 6; c++) {
        char ch = *c;
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
            out[n++] = ch;
    }
    for (int i = 0; i < 8; i++)
        out[n++] = alphabet[rnd[i] & 31];
    out[n] = '\0';
}

int kith_fulfil_currency_exponent(const char *currency)
{
    static const char *const zero[] = {"JPY", "KRW", "VND", "CLP", "ISK",
                                       "HUF", "TWD", "UGX", "XAF", "XOF"};
    static const char *const three[] = {"BHD", "JOD", "KWD", "OMR", "TND"};
    for (size_t i = 0; currency && i < KITH_ARRAY_LEN(zero); i++) {
        if (strcmp(currency, zero[i]) == 0)
            return 0;
    }
    for (size_t i = 0; currency && i < KITH_ARRAY_LEN(three); i++) {
        if (strcmp(currency, three[i]) == 0)
            return 3;
    }
    return 2;
}

void kith_fulfil_major_units(int64_t amount_minor, const char *currency, char out[32])
{
    int exp = kith_fulfil_currency_exponent(currency);
    bool negative = amount_minor < 0;
    /* Magnitude as unsigned, so INT64_MIN does not overflow. */
    uint64_t mag = negative ? (uint64_t)0 - (uint64_t)amount_minor : (uint64_t)amount_minor;
    uint64_t scale = 1;
    for (int i = 0; i < exp; i++)
        scale *= 10;
    if (exp == 0)
        snprintf(out, 32, "%s%llu", negative ? "-" : "", (unsigned long long)mag);
    else
        snprintf(out, 32, "%s%llu.%0*llu", negative ? "-" : "", (unsigned long long)(mag / scale),
                 exp, (unsigned long long)(mag % scale));
}

void kith_fulfil_csv_field(struct kith_buf *b, const char *s)
{
    if (s == NULL)
        return;
    if (strpbrk(s, ",\"\r\n") == NULL) {
        kith_buf_str(b, s);
        return;
    }
    kith_buf_str(b, "\"");
    for (const char *c = s; *c; c++) {
        if (*c == '"')
            kith_buf_str(b, "\"\"");
        else
            kith_buf_append(b, c, 1);
    }
    kith_buf_str(b, "\"");
}
