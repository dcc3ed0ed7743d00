/*
 * fulfilment.h: the rules of reward fulfilment (CONTRACT section 25) that need no I/O: the
 * methods and which reward kinds each may serve, how a Stripe request is form-encoded and which
 * Idempotency-Key it carries, which answers are worth retrying, a subscription trial pushed out
 * by calendar months, promotion codes, and payout amounts in major units for PayPal's CSV. What
 * is called when, and what an answer does to a reward, is the engine's (src/engine/fulfil*.c);
 * the calls themselves are the app's (src/app/fulfil.c).
 *
 * Ownership and threads: pure functions over caller-owned buffers; reentrant, safe from any
 * thread. Functions appending to a struct kith_buf follow kith/buf.h (out of memory aborts).
 */
#ifndef KITH_FULFILMENT_H
#define KITH_FULFILMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kith/buf.h"
#include "kith/rewards.h"

enum kith_fulfil_method {
    KITH_FULFIL_NONE,           /* kith records the reward; the business delivers it */
    KITH_FULFIL_STRIPE_BALANCE, /* a credit on the Stripe customer's balance */
    KITH_FULFIL_STRIPE_COUPON,  /* a one-time coupon and a promotion code for the person */
    KITH_FULFIL_STRIPE_TRIAL,   /* the Stripe subscription's trial_end pushed out */
    KITH_FULFIL_PAYOUT,         /* a row of the payout queue, paid in batches (PayPal CSV) */
    KITH_FULFIL_CLAIM,          /* the person claims it (an address, a choice, a note) */
};
#define KITH_FULFIL_METHOD_COUNT (KITH_FULFIL_CLAIM + 1)

/*
 * The Stripe API version kith speaks, sent as Stripe-Version on every call: the requests it
 * builds (a promotion code names its coupon as promotion[coupon]) and the answers it reads (a
 * subscription's period end on its items) are this version's, whatever the account's default.
 */
#define KITH_FULFIL_STRIPE_VERSION "2025-09-30.clover"

/* Contract names ("stripe_balance", ...); parse returns false for anything else. */
const char *kith_fulfil_method_name(enum kith_fulfil_method m);
bool kith_fulfil_method_parse(const char *s, enum kith_fulfil_method *out);
/* The three methods kith carries out by calling Stripe. */
bool kith_fulfil_method_is_stripe(enum kith_fulfil_method m);
/*
 * Whether a program may fulfil rewards of kind k by m: stripe_balance, stripe_coupon and payout
 * need an amount (the monetary kinds: credit, cash, discount, donation); stripe_trial gives time
 * (free_month, subscription_extension); claim and none fit every kind.
 */
bool kith_fulfil_method_fits(enum kith_fulfil_method m, enum kith_reward_kind k);

/*
 * application/x-www-form-urlencoded, as Stripe's API reads it: key=value pairs joined by '&',
 * every byte but A-Z a-z 0-9 - . _ ~ percent-encoded (so `metadata[kith_reward]` travels as
 * `metadata%5Bkith_reward%5D`). kith_form_encode appends s encoded (also for query strings and
 * path segments); kith_form_add appends one pair, with the '&' when b is not empty.
 */
void kith_form_encode(struct kith_buf *b, const char *s);
void kith_form_add(struct kith_buf *b, const char *key, const char *value);
void kith_form_add_int(struct kith_buf *b, const char *key, int64_t value);

/*
 * The Idempotency-Key of a reward's Stripe request: "kith-<reward>-<generation>" for the request
 * that makes the reward's effect, and "kith-<reward>-<generation>-<suffix>" for a second
 * request of the same effect (the promotion code of a coupon: suffix "code"); suffix NULL or ""
 * for none. A generation lasts until a manual retry has proved that Stripe holds nothing for the
 * reward, so every automatic retry resends the same key. Truncated to fit (reward ids are short).
 */
#define KITH_FULFIL_IDEM_MAX 96
void kith_fulfil_idem_key(const char *reward, int64_t generation, const char *suffix,
                          char out[KITH_FULFIL_IDEM_MAX]);

/*
 * Whether a failed call is retried on the schedule with the same key: no answer at all
 * (http_status 0: timeout, refused, reset), 409 (Stripe: a request with this key is still
 * running, or a lock timeout), 429 and every 5xx. Any other answer is final. Stripe's own
 * verdict wins when it gave one (should_retry: its Stripe-Should-Retry header, 1 true, 0 false,
 * -1 absent): a 500 that Stripe saved under the key would only be replayed.
 */
bool kith_fulfil_retryable(int http_status, int should_retry);

/*
 * unix_s pushed out by `months` calendar months (UTC), the day clamped to the target month's
 * length: 31 January + 1 month = 28 or 29 February, at the same time of day.
 */
int64_t kith_fulfil_add_months(int64_t unix_s, uint32_t months);
/*
 * The new trial_end of a subscription given `months` free: counted from the latest of now, the
 * current trial_end and the end of the period already paid for (0 when absent), so a free month
 * never overlaps time the customer has, or has paid for.
 */
int64_t kith_fulfil_trial_end(int64_t now_s, int64_t trial_end_s, int64_t period_end_s,
                              uint32_t months);

/*
 * A promotion code for a person: up to 6 letters and digits of prefix (their referral code,
 * upper-cased, other characters dropped) then 8 characters from rnd in an alphabet without 0, O,
 * 1 or I (Stripe accepts a-z A-Z 0-9). "JANE-2847" -> "JANE28477QX3M9PD"-like; at most 14.
 */
#define KITH_FULFIL_PROMO_CODE_MAX 16
void kith_fulfil_promo_code(const char *prefix, const uint8_t rnd[8],
                            char out[KITH_FULFIL_PROMO_CODE_MAX]);

/* Decimal places of a currency's major unit as kith counts minor units: 0 for JPY, KRW, VND,
 * CLP, ISK, HUF, TWD, UGX, XAF, XOF; 3 for BHD, JOD, KWD, OMR, TND; else 2. */
int kith_fulfil_currency_exponent(const char *currency);
/* amount_minor in major units with the currency's decimals: 2500 USD -> "25.00", 500 JPY ->
 * "500", -150 USD -> "-1.50". */
void kith_fulfil_major_units(int64_t amount_minor, const char *currency, char out[32]);
/* One CSV field (RFC 4180): as is, or quoted with inner quotes doubled when it holds a comma,
 * a quote, CR or LF. NULL is an empty field. */
void kith_fulfil_csv_field(struct kith_buf *b, const char *s);

#endif
