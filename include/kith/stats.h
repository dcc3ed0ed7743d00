/*
 * stats.h: the statistics behind program health, the forecast and experiments (CONTRACT
 * sections 22, 23), as pure functions: Wilson and Poisson score intervals, medians, quantiles,
 * the Gini coefficient and the top share of a distribution, the probability that each variant
 * of an experiment is best under a Beta-Binomial (or Gamma-Poisson) model with a uniform prior,
 * a small seeded pseudo-random generator and the bootstrap forecast built on it, the ISO week
 * calendar the weekly series is cut by, and the logarithmic buckets the medians' histograms use.
 * Numbers in, numbers out: no I/O, no clock, no store, no JSON. Every result is deterministic:
 * the same inputs give the same bits on the same platform (docs/internals/stats.md).
 *
 * Thread-safety: every function is reentrant; a struct kith_stats_rng belongs to its caller.
 * Functions that take arrays never keep pointers to them.
 */
#ifndef KITH_STATS_H
#define KITH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The two-sided 95% normal quantile (Phi^-1(0.975)). */
#define KITH_STATS_Z95 1.959963984540054

/* A point estimate and its interval. */
struct kith_stats_interval {
    double value;
    double low;
    double high;
};

/*
 * Wilson's score interval for k successes in n trials at normal quantile z (KITH_STATS_Z95 for
 * 95%). value is k/n. false (and *out untouched) when n <= 0 or k is outside [0, n].
 */
bool kith_stats_wilson(int64_t k, int64_t n, double z, struct kith_stats_interval *out);
/*
 * The score interval of a Poisson rate: k events over n units of exposure (k may exceed n):
 * the lambdas with (k - lambda n)^2 <= z^2 lambda n. value is k/n. false when n <= 0 or k < 0.
 */
bool kith_stats_poisson_score(int64_t k, int64_t n, double z, struct kith_stats_interval *out);

/* Median of v[0..n) (sorted in place): the middle value, or the mean of the two middle ones.
 * false when n == 0. */
bool kith_stats_median(double *v, size_t n, double *out);
/* Quantile q in [0, 1] of sorted[0..n), linear between order statistics (Hyndman-Fan type 7:
 * h = (n - 1) q). n must be at least 1. */
double kith_stats_quantile_sorted(const double *sorted, size_t n, double q);

/* A distribution of non-negative counts as (value, how many hold it) pairs, in any order. */
struct kith_stats_bin {
    int64_t value;
    int64_t count;
};
/*
 * Gini coefficient of the population the bins describe, without a small-sample correction:
 * G = sum_i sum_j |x_i - x_j| / (2 n^2 mean). Sorts bins in place by value. false when the
 * population is empty or its total is 0.
 */
bool kith_stats_gini_bins(struct kith_stats_bin *bins, size_t nbins, double *out);
/* The same for a plain vector x[0..n) of non-negative values (sorted in place). */
bool kith_stats_gini(int64_t *x, size_t n, double *out);
/*
 * Share of the total held by the top ceil(fraction * population) members (at least one), the
 * largest first. Sorts bins in place. false when the population is empty or its total is 0.
 */
bool kith_stats_top_share_bins(struct kith_stats_bin *bins, size_t nbins, double fraction,
                               double *out);

/* Posterior families for kith_stats_prob_best. */
enum kith_stats_model {
    /* k successes in n trials, uniform prior: Beta(k + 1, n - k + 1). Needs 0 <= k <= n. */
    KITH_STATS_BETA_BINOMIAL,
    /* k events over n units of exposure, uniform prior on the rate: Gamma(k + 1, rate n).
     * Needs k >= 0, n > 0. */
    KITH_STATS_GAMMA_POISSON,
};
#define KITH_STATS_ARMS_MAX 16
/*
 * For each of m arms (2 <= m <= KITH_STATS_ARMS_MAX), the posterior probability that its rate
 * is the largest, by numerical integration of f_i(x) prod_{j != i} F_j(x) over a grid that
 * resolves every arm's posterior (deterministic; sums to 1 within 1e-9). An arm the model
 * cannot take (n <= 0 for Gamma-Poisson, k outside [0, n] for Beta-Binomial) gets 0 and is left
 * out. false when fewer than two arms or an m out of range.
 */
bool kith_stats_prob_best(enum kith_stats_model model, const int64_t *k, const int64_t *n, size_t m,
                          double *out);
/* The regularised incomplete beta function I_x(a, b) and lower incomplete gamma P(a, x), the
 * CDFs the integration uses (exposed for tests). */
double kith_stats_beta_cdf(double x, double a, double b);
double kith_stats_gamma_cdf(double x, double shape, double rate);

/*
 * A small deterministic generator of kith's own (libsodium's randomness cannot be seeded):
 * xoshiro256** (Blackman and Vigna, 2018) with its state expanded from one 64-bit seed by
 * splitmix64, as its authors recommend. Not for secrets.
 */
struct kith_stats_rng {
    uint64_t s[4];
};
void kith_stats_rng_seed(struct kith_stats_rng *r, uint64_t seed);
uint64_t kith_stats_rng_next(struct kith_stats_rng *r);
/* Uniform in [0, n) without modulo bias (Lemire's multiply-and-reject); n >= 1. */
uint64_t kith_stats_rng_below(struct kith_stats_rng *r, uint64_t n);
/* FNV-1a 64 over len bytes, continuing from h (start with KITH_STATS_FNV_OFFSET): seeds are
 * hashes of their inputs, so the same data gives the same draws. */
#define KITH_STATS_FNV_OFFSET UINT64_C(0xcbf29ce484222325)
uint64_t kith_stats_fnv1a(uint64_t h, const void *data, size_t len);

/* ---- the bootstrap forecast (section 22) ---- */
/* One observed week of the funnel. */
struct kith_stats_week {
    int64_t signups;
    int64_t qualified;
    int64_t cost_minor; /* monetary rewards issued, in one currency */
};
/* p10, p50 and p90 of one forecast figure, rounded half up to integers. */
struct kith_stats_band {
    int64_t p10;
    int64_t p50;
    int64_t p90;
};
struct kith_stats_month_forecast {
    struct kith_stats_band signups;
    struct kith_stats_band qualified;
    struct kith_stats_band cost_minor;
};
#define KITH_STATS_FORECAST_SIMULATIONS 10000
#define KITH_STATS_FORECAST_MONTHS_MAX 24
/*
 * Simulates the next months from the observed weeks (nweeks >= 1), each month being days[m]
 * days long (28..31). A month is its days cut into whole weeks and a remainder; every week (and
 * the remainder, scaled by days/7) draws independently, with replacement from the observed
 * weeks: its signups from one week, its qualification rate (qualified / signups) from one week
 * with signups, its cost per qualified referral from one week with qualified referrals. The
 * month's totals over KITH_STATS_FORECAST_SIMULATIONS simulations give the bands. seed picks
 * the draws; each month has its own stream, so a longer horizon keeps the first months' bands.
 * false when nweeks == 0 or nmonths is out of [1, KITH_STATS_FORECAST_MONTHS_MAX].
 */
bool kith_stats_forecast(const struct kith_stats_week *weeks, size_t nweeks, const int *days,
                         size_t nmonths, uint64_t seed, struct kith_stats_month_forecast *out);

/* ---- the ISO 8601 week calendar (UTC) ---- */
#define KITH_STATS_MS_PER_WEEK INT64_C(604800000)
/* Weeks are numbered from the one that starts on Monday 1969-12-29: the week holding ms. */
int64_t kith_stats_week_of(int64_t ms);
/* The first millisecond (Monday 00:00:00Z) of week w. */
int64_t kith_stats_week_start(int64_t w);
/* "2026-W48": the ISO year (that of the week's Thursday) and week number. out holds 16 bytes. */
void kith_stats_week_label(int64_t w, char out[16]);

/* ---- logarithmic buckets (the medians' histograms) ---- */
/*
 * A monotonic bucket of a duration in milliseconds: -1 for negative ones; otherwise 16 buckets
 * per doubling of ms + 1 (each about 4.4% wide), so a histogram of any durations has at most
 * about a thousand buckets while its median bucket holds few values.
 */
int32_t kith_stats_bucket(int64_t ms);
/* The smallest duration in bucket b (b >= 0); kith_stats_bucket(low(b)) == b. INT64_MIN when
 * no duration can be in b: b < 0, or b past kith_stats_bucket(INT64_MAX) (whose low is
 * INT64_MAX). */
int64_t kith_stats_bucket_low(int32_t b);

#endif
