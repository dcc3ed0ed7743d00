/*
 * stats.c: the statistics of program health, the forecast and experiments (include/kith/stats.h).
 * Pure numerics: every function computes from its arguments alone, deterministically, and
 * allocates only scratch memory it frees before returning. The formulas and why each was
 * chosen are in docs/internals/stats.md; the unit tests check them against published values and
 * against closed forms computed another way.
 */
#include "kith/stats.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- intervals ---- */

bool kith_stats_wilson(int64_t k, int64_t n, double z, struct kith_stats_interval *out)
{
    if (n <= 0 || k < 0 || k > n)
        return false;
    double nn = (double)n, p = (double)k / nn, z2 = z * z;
    double den = 1.0 + z2 / nn;
    double centre = (p + z2 / (2.0 * nn)) / den;
    double half = z / den * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn));
    out->value = p;
    /* At k = 0 and k = n the bound is exactly 0 (1); rounding must not move it. */
    out->low = k == 0 ? 0.0 : fmax(0.0, centre - half);
    out->high = k == n ? 1.0 : fmin(1.0, centre + half);
    return true;
}

bool kith_stats_poisson_score(int64_t k, int64_t n, double z, struct kith_stats_interval *out)
{
    if (n <= 0 || k < 0)
        return false;
    double kk = (double)k, nn = (double)n, z2 = z * z;
    double root = z * sqrt(4.0 * kk + z2);
    out->value = kk / nn;
    out->low = k == 0 ? 0.0 : (2.0 * kk + z2 - root) / (2.0 * nn);
    out->high = (2.0 * kk + z2 + root) / (2.0 * nn);
    return true;
}

/* ---- order statistics ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bool kith_stats_median(double *v, size_t n, double *out)
{
    if (n == 0)
        return false;
    qsort(v, n, sizeof(*v), cmp_double);
    *out = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    return true;
}

double kith_stats_quantile_sorted(const double *sorted, size_t n, double q)
{
    if (n == 1 || q <= 0.0)
        return sorted[0];
    if (q >= 1.0)
        return sorted[n - 1];
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    double frac = h - (double)lo;
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

/* ---- concentration ---- */

static int cmp_bin(const void *a, const void *b)
{
    const struct kith_stats_bin *x = a, *y = b;
    return (x->value > y->value) - (x->value < y->value);
}

bool kith_stats_gini_bins(struct kith_stats_bin *bins, size_t nbins, double *out)
{
    if (nbins > 1) /* bins may be NULL when empty */
        qsort(bins, nbins, sizeof(*bins), cmp_bin);
    /* Sorted ascending, ranks r = 1..n: G = 2 sum(r x_r) / (n sum x) - (n + 1) / n. A bin of c
     * members of value v at ranks s+1..s+c adds v (c s + c (c + 1) / 2); long double keeps
     * every integer of a million-member population exact. */
    long double n = 0, total = 0, ranked = 0;
    for (size_t i = 0; i < nbins; i++) {
        long double c = (long double)bins[i].count, v = (long double)bins[i].value;
        if (bins[i].count <= 0)
            continue;
        ranked += v * (c * n + c * (c + 1) / 2);
        total += v * c;
        n += c;
    }
    if (n == 0 || total == 0)
        return false;
    double g = (double)(2 * ranked / (n * total) - (n + 1) / n);
    *out = g < 0 ? 0.0 : g; /* -0 and rounding below zero for an equal population */
    return true;
}

bool kith_stats_gini(int64_t *x, size_t n, double *out)
{
    if (n == 0)
        return false;
    struct kith_stats_bin *bins = calloc(n, sizeof(*bins));
    if (bins == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        bins[i] = (struct kith_stats_bin){x[i], 1};
    bool ok = kith_stats_gini_bins(bins, n, out);
    free(bins);
    return ok;
}

bool kith_stats_top_share_bins(struct kith_stats_bin *bins, size_t nbins, double fraction,
                               double *out)
{
    if (nbins > 1) /* bins may be NULL when empty */
        qsort(bins, nbins, sizeof(*bins), cmp_bin);
    int64_t n = 0, total = 0;
    for (size_t i = 0; i < nbins; i++) {
        if (bins[i].count > 0) {
            n += bins[i].count;
            total += bins[i].value * bins[i].count;
        }
    }
    if (n == 0 || total == 0)
        return false;
    int64_t top = (int64_t)ceil((double)n * fraction);
    if (top < 1)
        top = 1;
    int64_t sum = 0;
    for (size_t i = nbins; i-- > 0 && top > 0;) {
        if (bins[i].count <= 0)
            continue;
        int64_t take = bins[i].count < top ? bins[i].count : top;
        sum += take * bins[i].value;
        top -= take;
    }
    *out = (double)sum / (double)total;
    return true;
}

/* ---- special functions (Numerical Recipes' continued fractions, 3rd ed., 6.2 and 6.4) ---- */

static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0, c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m, aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = fabs(d) < tiny ? 1.0 / tiny : 1.0 / d;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = fabs(d) < tiny ? 1.0 / tiny : 1.0 / d;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-15)
            break;
    }
    return h;
}

double kith_stats_beta_cdf(double x, double a, double b)
{
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(lbt) * beta_cf(a, b, x) / a;
    return 1.0 - exp(lbt) * beta_cf(b, a, 1.0 - x) / b;
}

static double gamma_p(double a, double x)
{
    if (x <= 0.0)
        return 0.0;
    double gln = lgamma(a);
    if (x < a + 1.0) {
        double ap = a, sum = 1.0 / a, del = sum;
        for (int n = 0; n < 100000; n++) {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-16)
                break;
        }
        return sum * exp(-x + a * log(x) - gln);
    }
    const double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 100000; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-16)
            break;
    }
    return 1.0 - exp(-x + a * log(x) - gln) * h;
}

double kith_stats_gamma_cdf(double x, double shape, double rate)
{
    return gamma_p(shape, x * rate);
}

/* ---- probability of being best ---- */

struct arm {
    bool used;
    double a, b;            /* Beta(a, b), or Gamma(shape a, rate b) */
    double mean, sd, lnorm; /* log of the density's normalising constant */
};

static double arm_logpdf(enum kith_stats_model model, const struct arm *r, double x)
{
    if (model == KITH_STATS_BETA_BINOMIAL) {
        if (x <= 0.0 || x >= 1.0) {
            /* The boundary carries density only for a = 1 (at 0) or b = 1 (at 1). */
            if ((x <= 0.0 && r->a == 1.0) || (x >= 1.0 && r->b == 1.0))
                return r->lnorm;
            return -INFINITY;
        }
        return r->lnorm + (r->a - 1.0) * log(x) + (r->b - 1.0) * log1p(-x);
    }
    if (x <= 0.0)
        return r->a == 1.0 ? r->lnorm : -INFINITY;
    return r->lnorm + (r->a - 1.0) * log(x) - r->b * x;
}

static double arm_cdf(enum kith_stats_model model, const struct arm *r, double x)
{
    return model == KITH_STATS_BETA_BINOMIAL ? kith_stats_beta_cdf(x, r->a, r->b)
                                             : kith_stats_gamma_cdf(x, r->a, r->b);
}

static int cmp_grid(const void *a, const void *b)
{
    return cmp_double(a, b);
}

#define GRID_PER_ARM 2048
#define GRID_SPAN_SD 14.0

bool kith_stats_prob_best(enum kith_stats_model model, const int64_t *k, const int64_t *n, size_t m,
                          double *out)
{
    if (m < 2 || m > KITH_STATS_ARMS_MAX)
        return false;
    struct arm arms[KITH_STATS_ARMS_MAX];
    size_t used = 0;
    for (size_t i = 0; i < m; i++) {
        struct arm *r = &arms[i];
        memset(r, 0, sizeof(*r));
        out[i] = 0.0;
        if (model == KITH_STATS_BETA_BINOMIAL) {
            if (n[i] < 0 || k[i] < 0 || k[i] > n[i])
                continue;
            r->a = (double)k[i] + 1.0;
            r->b = (double)(n[i] - k[i]) + 1.0;
            double s = r->a + r->b;
            r->mean = r->a / s;
            r->sd = sqrt(r->a * r->b / (s * s * (s + 1.0)));
            r->lnorm = lgamma(s) - lgamma(r->a) - lgamma(r->b);
        } else {
            if (n[i] <= 0 || k[i] < 0)
                continue;
            r->a = (double)k[i] + 1.0;
            r->b = (double)n[i];
            r->mean = r->a / r->b;
            r->sd = sqrt(r->a) / r->b;
            r->lnorm = r->a * log(r->b) - lgamma(r->a);
        }
        r->used = true;
        used++;
    }
    if (used == 0)
        return true;
    if (used == 1) {
        for (size_t i = 0; i < m; i++)
            out[i] = arms[i].used ? 1.0 : 0.0;
        return true;
    }
    /* The grid: a dense stretch over each arm's mass (mean +- 14 sd, where every density here
     * is below 1e-40 of its peak), clipped to the support, merged and sorted. */
    size_t cap = used * GRID_PER_ARM + 2, g = 0;
    double *x = calloc(cap, sizeof(*x));
    double *integrand = calloc(cap * m, sizeof(*integrand));
    if (x == NULL || integrand == NULL)
        abort();
    double lo_all = INFINITY, hi_all = -INFINITY;
    for (size_t i = 0; i < m; i++) {
        if (!arms[i].used)
            continue;
        double lo = arms[i].mean - GRID_SPAN_SD * arms[i].sd;
        double hi = arms[i].mean + GRID_SPAN_SD * arms[i].sd;
        if (lo < 0.0)
            lo = 0.0;
        if (model == KITH_STATS_BETA_BINOMIAL && hi > 1.0)
            hi = 1.0;
        lo_all = fmin(lo_all, lo);
        hi_all = fmax(hi_all, hi);
        for (size_t j = 0; j < GRID_PER_ARM; j++)
            x[g++] = lo + (hi - lo) * (double)j / (double)(GRID_PER_ARM - 1);
    }
    x[g++] = lo_all;
    x[g++] = hi_all;
    qsort(x, g, sizeof(*x), cmp_grid);
    /* f_i(x) prod_{j != i} F_j(x) at every grid point, then the trapezoid rule per arm. */
    double cdf[KITH_STATS_ARMS_MAX], pdf[KITH_STATS_ARMS_MAX];
    for (size_t p = 0; p < g; p++) {
        for (size_t i = 0; i < m; i++) {
            if (!arms[i].used)
                continue;
            cdf[i] = arm_cdf(model, &arms[i], x[p]);
            double lp = arm_logpdf(model, &arms[i], x[p]);
            pdf[i] = isfinite(lp) ? exp(lp) : 0.0;
        }
        for (size_t i = 0; i < m; i++) {
            if (!arms[i].used)
                continue;
            double v = pdf[i];
            for (size_t j = 0; j < m && v > 0.0; j++) {
                if (j != i && arms[j].used)
                    v *= cdf[j];
            }
            integrand[p * m + i] = v;
        }
    }
    double total = 0.0;
    for (size_t i = 0; i < m; i++) {
        if (!arms[i].used)
            continue;
        double s = 0.0;
        for (size_t p = 1; p < g; p++)
            s += (x[p] - x[p - 1]) * (integrand[p * m + i] + integrand[(p - 1) * m + i]) / 2.0;
        out[i] = s;
        total += s;
    }
    /* The probabilities of m disjoint events that cover everything: what the quadrature lost
     * (parts in 1e-8 at most) is spread in proportion. */
    for (size_t i = 0; i < m; i++)
        out[i] = total > 0.0 ? out[i] / total : (arms[i].used ? 1.0 / (double)used : 0.0);
    free(x);
    free(integrand);
    return true;
}

/* ---- the generator ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void kith_stats_rng_seed(struct kith_stats_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t kith_stats_rng_next(struct kith_stats_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t kith_stats_rng_below(struct kith_stats_rng *r, uint64_t n)
{
    /* Lemire (2019): the high word of a 128-bit product, rejecting the few low words that would
     * favour some results. */
    unsigned __int128 m = (unsigned __int128)kith_stats_rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (unsigned __int128)kith_stats_rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

uint64_t kith_stats_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

/* ---- the bootstrap forecast ---- */

struct draws {
    const struct kith_stats_week *weeks;
    size_t n;
    size_t with_signups[512], nsig; /* indexes of weeks with signups, qualified referrals */
    size_t with_qualified[512], nqual;
};

/* One week drawn: signups, and the qualified referrals and cost they lead to. */
static void draw_week(struct kith_stats_rng *r, const struct draws *d, double *s, double *q,
                      double *c)
{
    const struct kith_stats_week *w = d->weeks;
    double signups = (double)w[kith_stats_rng_below(r, d->n)].signups;
    double rate = 0.0, per = 0.0;
    if (d->nsig) {
        const struct kith_stats_week *x = &w[d->with_signups[kith_stats_rng_below(r, d->nsig)]];
        rate = (double)x->qualified / (double)x->signups;
    }
    if (d->nqual) {
        const struct kith_stats_week *x = &w[d->with_qualified[kith_stats_rng_below(r, d->nqual)]];
        per = (double)x->cost_minor / (double)x->qualified;
    }
    *s = signups;
    *q = signups * rate;
    *c = signups * rate * per;
}

static int64_t round_half_up(double v)
{
    return (int64_t)floor(v + 0.5);
}

static struct kith_stats_band band(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return (struct kith_stats_band){round_half_up(kith_stats_quantile_sorted(v, n, 0.10)),
                                    round_half_up(kith_stats_quantile_sorted(v, n, 0.50)),
                                    round_half_up(kith_stats_quantile_sorted(v, n, 0.90))};
}

bool kith_stats_forecast(const struct kith_stats_week *weeks, size_t nweeks, const int *days,
                         size_t nmonths, uint64_t seed, struct kith_stats_month_forecast *out)
{
    if (nweeks == 0 || nweeks > 512 || nmonths == 0 || nmonths > KITH_STATS_FORECAST_MONTHS_MAX)
        return false;
    struct draws d = {.weeks = weeks, .n = nweeks};
    for (size_t i = 0; i < nweeks; i++) {
        if (weeks[i].signups > 0)
            d.with_signups[d.nsig++] = i;
        if (weeks[i].qualified > 0)
            d.with_qualified[d.nqual++] = i;
    }
    const size_t sims = KITH_STATS_FORECAST_SIMULATIONS;
    double *vals = calloc(sims * nmonths * 3, sizeof(*vals));
    if (vals == NULL)
        abort();
    /* Each month draws from its own stream (the seed and the month's index), so a longer
     * horizon leaves the first months as they were. */
    for (size_t m = 0; m < nmonths; m++) {
        struct kith_stats_rng r;
        kith_stats_rng_seed(&r, seed ^ (UINT64_C(0x9e3779b97f4a7c15) * (uint64_t)(m + 1)));
        int whole = days[m] / 7, rest = days[m] % 7;
        double *v = &vals[(m * 3) * sims];
        for (size_t s = 0; s < sims; s++) {
            double ts = 0, tq = 0, tc = 0, ws, wq, wc;
            for (int w = 0; w < whole; w++) {
                draw_week(&r, &d, &ws, &wq, &wc);
                ts += ws;
                tq += wq;
                tc += wc;
            }
            if (rest) {
                double f = (double)rest / 7.0;
                draw_week(&r, &d, &ws, &wq, &wc);
                ts += f * ws;
                tq += f * wq;
                tc += f * wc;
            }
            v[s] = ts;
            v[sims + s] = tq;
            v[2 * sims + s] = tc;
        }
    }
    for (size_t m = 0; m < nmonths; m++) {
        double *v = &vals[(m * 3) * sims];
        out[m].signups = band(v, sims);
        out[m].qualified = band(v + sims, sims);
        out[m].cost_minor = band(v + 2 * sims, sims);
    }
    free(vals);
    return true;
}

/* ---- weeks ---- */

#define MONDAY0_MS (-3 * INT64_C(86400000)) /* 1969-12-29T00:00:00Z */

int64_t kith_stats_week_of(int64_t ms)
{
    int64_t d = ms - MONDAY0_MS;
    int64_t w = d / KITH_STATS_MS_PER_WEEK;
    if (d % KITH_STATS_MS_PER_WEEK < 0)
        w--;
    return w;
}

int64_t kith_stats_week_start(int64_t w)
{
    return MONDAY0_MS + w * KITH_STATS_MS_PER_WEEK;
}

/* Hinnant's algorithms: days since 1970-01-01 <-> proleptic Gregorian dates. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t year_of_days(int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10);
}

void kith_stats_week_label(int64_t w, char out[16])
{
    int64_t thursday_ms = kith_stats_week_start(w) + 3 * INT64_C(86400000);
    int64_t days = thursday_ms / INT64_C(86400000);
    if (thursday_ms % INT64_C(86400000) < 0)
        days--;
    /* The ISO year is the Thursday's; week 1 holds the year's first Thursday. */
    int64_t year = year_of_days(days);
    int64_t yday = days - days_from_civil(year, 1, 1);
    /* Years are clamped to four digits, weeks are 1..53: the label always fits. */
    int y = year < 0 ? 0 : year > 9999 ? 9999 : (int)year;
    int wk = (int)(yday / 7 + 1);
    snprintf(out, 16, "%04d-W%02d", y, wk < 1 ? 1 : wk > 53 ? 53 : wk);
}

/* ---- buckets ---- */

int32_t kith_stats_bucket(int64_t ms)
{
    if (ms < 0)
        return -1;
    uint64_t x = (uint64_t)ms + 1;
    int e = 63 - __builtin_clzll(x);
    uint64_t m = e >= 4 ? (x >> (e - 4)) & 15 : (x << (4 - e)) & 15;
    return (int32_t)(16 * e + (int)m);
}

int64_t kith_stats_bucket_low(int32_t b)
{
    if (b < 0 || b / 16 > 63)
        return INT64_MIN;
    int e = b / 16;
    uint64_t m = (uint64_t)(b % 16);
    /* In unsigned arithmetic: past kith_stats_bucket(INT64_MAX) the bound is no int64. */
    if (e >= 4 && 16 + m > UINT64_MAX >> (e - 4))
        return INT64_MIN;
    uint64_t x = (e >= 4 ? (16 + m) << (e - 4) : (16 + m) >> (4 - e)) - 1;
    return x > (uint64_t)INT64_MAX ? INT64_MIN : (int64_t)x;
}
