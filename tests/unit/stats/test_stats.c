/*
 * test_stats.c: src/stats against known values. Wilson intervals against published tables
 * (Newcombe 1998, Table I, method 3; and the textbook 0/10, 5/10, 50/100, 1/1000 cases to four
 * places); Gini coefficients of vectors worked by hand; P(best) against closed forms computed
 * another way (Evan Miller's sum for two Betas with integer parameters, the Beta-Gamma identity
 * with a binomial sum for two Gammas); the generator against the reference outputs of
 * splitmix64 and xoshiro256**; ISO weeks at year boundaries; buckets' monotonicity.
 */
#include <math.h>

#include "kith/stats.h"
#include "test.h"

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        test_checks++;                                                                             \
        if (!(fabs(a_ - b_) <= (tol))) {                                                           \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s ~= %s failed: %.12g != %.12g (tol %g)\n", __FILE__,         \
                    __LINE__, #a, #b, a_, b_, (double)(tol));                                      \
        }                                                                                          \
    } while (0)

static void wilson_case(int64_t k, int64_t n, double low, double high, double tol)
{
    struct kith_stats_interval iv;
    CHECK(kith_stats_wilson(k, n, KITH_STATS_Z95, &iv));
    CHECK_NEAR(iv.value, (double)k / (double)n, 1e-15);
    CHECK_NEAR(iv.low, low, tol);
    CHECK_NEAR(iv.high, high, tol);
}

static void test_wilson(void)
{
    /* The four cases of the issue, to the four places tables print. */
    wilson_case(0, 10, 0.0, 0.2775, 5e-5);
    wilson_case(5, 10, 0.2366, 0.7634, 5e-5);
    wilson_case(50, 100, 0.4038, 0.5962, 5e-5);
    wilson_case(1, 1000, 0.0002, 0.0056, 5e-5);
    /* Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (score, no
     * continuity correction). */
    wilson_case(81, 263, 0.2553, 0.3662, 5e-5);
    wilson_case(15, 148, 0.0624, 0.1605, 5e-5);
    wilson_case(0, 20, 0.0, 0.1611, 5e-5);
    wilson_case(1, 29, 0.0061, 0.1718, 5e-5);
    /* Exact ends and refusals. */
    struct kith_stats_interval iv;
    CHECK(kith_stats_wilson(10, 10, KITH_STATS_Z95, &iv));
    CHECK(iv.high == 1.0);
    CHECK(iv.low > 0.69 && iv.low < 0.73);
    CHECK(!kith_stats_wilson(0, 0, KITH_STATS_Z95, &iv));
    CHECK(!kith_stats_wilson(3, 2, KITH_STATS_Z95, &iv));
    CHECK(!kith_stats_wilson(-1, 2, KITH_STATS_Z95, &iv));
}

static void test_poisson_score(void)
{
    struct kith_stats_interval iv;
    /* 30 events over 20 units: lambda with (30 - 20 l)^2 = z^2 20 l, solved by hand. */
    CHECK(kith_stats_poisson_score(30, 20, KITH_STATS_Z95, &iv));
    double z2 = KITH_STATS_Z95 * KITH_STATS_Z95;
    CHECK_NEAR(iv.value, 1.5, 1e-15);
    CHECK_NEAR(iv.low, (60 + z2 - KITH_STATS_Z95 * sqrt(120 + z2)) / 40, 1e-12);
    CHECK_NEAR(iv.high, (60 + z2 + KITH_STATS_Z95 * sqrt(120 + z2)) / 40, 1e-12);
    /* Both ends satisfy the defining equation. */
    CHECK_NEAR(pow(30 - 20 * iv.low, 2), z2 * 20 * iv.low, 1e-9);
    CHECK_NEAR(pow(30 - 20 * iv.high, 2), z2 * 20 * iv.high, 1e-9);
    CHECK(kith_stats_poisson_score(0, 5, KITH_STATS_Z95, &iv) && iv.low == 0.0);
    CHECK(!kith_stats_poisson_score(1, 0, KITH_STATS_Z95, &iv));
}

static void test_median_quantile(void)
{
    double a[] = {5, 1, 3}, b[] = {4, 1, 3, 2}, c[] = {7}, m = -1;
    CHECK(kith_stats_median(a, 3, &m));
    CHECK_NEAR(m, 3, 0);
    CHECK(kith_stats_median(b, 4, &m));
    CHECK_NEAR(m, 2.5, 0);
    CHECK(kith_stats_median(c, 1, &m));
    CHECK_NEAR(m, 7, 0);
    CHECK(!kith_stats_median(c, 0, &m));
    /* Type 7 (R's default): quantile(1:10, 0.1) = 1.9, 0.9 -> 9.1, 0.5 -> 5.5. */
    double s[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CHECK_NEAR(kith_stats_quantile_sorted(s, 10, 0.1), 1.9, 1e-12);
    CHECK_NEAR(kith_stats_quantile_sorted(s, 10, 0.5), 5.5, 1e-12);
    CHECK_NEAR(kith_stats_quantile_sorted(s, 10, 0.9), 9.1, 1e-12);
    CHECK_NEAR(kith_stats_quantile_sorted(s, 1, 0.9), 1, 0);
}

static void test_gini(void)
{
    double g = -1;
    int64_t equal[] = {3, 3, 3, 3};
    CHECK(kith_stats_gini(equal, 4, &g));
    CHECK_NEAR(g, 0.0, 1e-15);
    /* One of four holds everything: sum|xi - xj| = 6, 2 n^2 mean = 8. */
    int64_t one[] = {0, 0, 1, 0};
    CHECK(kith_stats_gini(one, 4, &g));
    CHECK_NEAR(g, 0.75, 1e-15);
    /* 1..5: sum over ordered pairs of |i - j| = 40, 2 * 25 * 3 = 150. */
    int64_t ramp[] = {5, 1, 4, 2, 3};
    CHECK(kith_stats_gini(ramp, 5, &g));
    CHECK_NEAR(g, 40.0 / 150.0, 1e-15);
    int64_t pair[] = {1, 3};
    CHECK(kith_stats_gini(pair, 2, &g));
    CHECK_NEAR(g, 0.25, 1e-15);
    int64_t single[] = {7};
    CHECK(kith_stats_gini(single, 1, &g));
    CHECK_NEAR(g, 0.0, 1e-15);
    int64_t zeros[] = {0, 0};
    CHECK(!kith_stats_gini(zeros, 2, &g));
    /* The histogram form equals the vector form: 90 people with 1, 9 with 2, 1 with 41. */
    struct kith_stats_bin bins[] = {{41, 1}, {1, 90}, {2, 9}};
    int64_t vec[100];
    for (int i = 0; i < 100; i++)
        vec[i] = i < 90 ? 1 : i < 99 ? 2 : 41;
    double gv = -1, gb = -1;
    CHECK(kith_stats_gini(vec, 100, &gv));
    CHECK(kith_stats_gini_bins(bins, 3, &gb));
    CHECK_NEAR(gb, gv, 1e-12);
    /* By hand: total 149, mean 1.49; pairs |2-1| 90*9*2, |41-1| 90*2, |41-2| 9*2. */
    CHECK_NEAR(gb, (1620.0 + 7200.0 + 702.0) / (2.0 * 10000.0 * 1.49), 1e-12);
}

static void test_top_share(void)
{
    double s = -1;
    /* 100 referrers: the top 5 hold 41 + 2*4 = 49 of 149. */
    struct kith_stats_bin bins[] = {{1, 90}, {2, 9}, {41, 1}};
    CHECK(kith_stats_top_share_bins(bins, 3, 0.05, &s));
    CHECK_NEAR(s, 49.0 / 149.0, 1e-15);
    /* 3 referrers: ceil(0.15) = 1, the top one. */
    struct kith_stats_bin three[] = {{2, 1}, {5, 1}, {1, 1}};
    CHECK(kith_stats_top_share_bins(three, 3, 0.05, &s));
    CHECK_NEAR(s, 5.0 / 8.0, 1e-15);
    struct kith_stats_bin none[] = {{0, 3}};
    CHECK(!kith_stats_top_share_bins(none, 1, 0.05, &s));
}

/* P(p_B > p_A) for p_A ~ Beta(aA, bA), p_B ~ Beta(aB, bB), integer aB (Evan Miller, 2014). */
static double miller(int aA, int bA, int aB, int bB)
{
    double sum = 0;
    for (int i = 0; i < aB; i++)
        sum += exp(lgamma(aA + i) + lgamma(bA + bB) - lgamma(aA + i + bA + bB) - log(bB + i) -
                   (lgamma(1 + i) + lgamma(bB) - lgamma(1 + i + bB)) -
                   (lgamma(aA) + lgamma(bA) - lgamma(aA + bA)));
    return sum;
}

static void test_prob_best_beta(void)
{
    double p[3];
    int64_t k2[] = {5, 5}, n2[] = {10, 10};
    CHECK(kith_stats_prob_best(KITH_STATS_BETA_BINOMIAL, k2, n2, 2, p));
    CHECK_NEAR(p[0], 0.5, 1e-9);
    CHECK_NEAR(p[1], 0.5, 1e-9);
    int64_t k3[] = {30, 30, 30}, n3[] = {100, 100, 100};
    CHECK(kith_stats_prob_best(KITH_STATS_BETA_BINOMIAL, k3, n3, 3, p));
    for (int i = 0; i < 3; i++)
        CHECK_NEAR(p[i], 1.0 / 3.0, 1e-9);
    /* Lopsided: 10/100 against 15/100, and 1/10 against 2/10. */
    int64_t ka[] = {10, 15}, na[] = {100, 100};
    CHECK(kith_stats_prob_best(KITH_STATS_BETA_BINOMIAL, ka, na, 2, p));
    CHECK_NEAR(p[1], miller(11, 91, 16, 86), 1e-6);
    CHECK_NEAR(p[1], 0.8532837899338557, 1e-6);
    CHECK_NEAR(p[0] + p[1], 1.0, 1e-12);
    int64_t kb[] = {1, 2}, nb[] = {10, 10};
    CHECK(kith_stats_prob_best(KITH_STATS_BETA_BINOMIAL, kb, nb, 2, p));
    CHECK_NEAR(p[1], miller(2, 10, 3, 9), 1e-6);
    /* Very different sample sizes: 500/10000 against 3/40. */
    int64_t kc[] = {500, 3}, nc[] = {10000, 40};
    CHECK(kith_stats_prob_best(KITH_STATS_BETA_BINOMIAL, kc, nc, 2, p));
    CHECK_NEAR(p[1], miller(501, 9501, 4, 38), 1e-6);
    /* Nothing observed is the uniform prior: a coin toss. */
    int64_t kz[] = {0, 0}, nz[] = {0, 0};
    CHECK(kith_stats_prob_best(KITH_STATS_BETA_BINOMIAL, kz, nz, 2, p));
    CHECK_NEAR(p[0], 0.5, 1e-9);
    /* Deterministic: the same bits twice. */
    double q[2];
    CHECK(kith_stats_prob_best(KITH_STATS_BETA_BINOMIAL, kc, nc, 2, p));
    CHECK(kith_stats_prob_best(KITH_STATS_BETA_BINOMIAL, kc, nc, 2, q));
    CHECK(memcmp(p, q, sizeof(q)) == 0);
    CHECK(!kith_stats_prob_best(KITH_STATS_BETA_BINOMIAL, kc, nc, 1, p));
}

/* I_x(a, b) for integer a, b: P(Binomial(a + b - 1, x) >= a). */
static double ibeta_int(double x, int a, int b)
{
    int n = a + b - 1;
    double s = 0;
    for (int j = a; j <= n; j++)
        s += exp(lgamma(n + 1) - lgamma(j + 1) - lgamma(n - j + 1) + j * log(x) +
                 (n - j) * log1p(-x));
    return s;
}

static void test_prob_best_gamma(void)
{
    double p[2];
    int64_t k[] = {30, 30}, n[] = {20, 20};
    CHECK(kith_stats_prob_best(KITH_STATS_GAMMA_POISSON, k, n, 2, p));
    CHECK_NEAR(p[0], 0.5, 1e-9);
    /* X_A ~ Gamma(a1, r1), X_B ~ Gamma(a2, r2): P(X_B > X_A) = I_{r1 / (r1 + r2)}(a1, a2)
     * (G1 = r1 X_A, G2 = r2 X_B are standard; G1 / (G1 + G2) ~ Beta(a1, a2)). */
    int64_t k2[] = {12, 30}, n2[] = {10, 20};
    CHECK(kith_stats_prob_best(KITH_STATS_GAMMA_POISSON, k2, n2, 2, p));
    CHECK_NEAR(p[1], ibeta_int(10.0 / 30.0, 13, 31), 1e-6);
    CHECK_NEAR(kith_stats_gamma_cdf(1.0, 1.0, 1.0), 1.0 - exp(-1.0), 1e-14);
    CHECK_NEAR(kith_stats_beta_cdf(0.3, 2, 3), ibeta_int(0.3, 2, 3), 1e-14);
}

static void test_rng(void)
{
    /* splitmix64 seeded with 1234567 gives 6457827717110365317 first (Vigna's reference), so
     * state word 0 equals it; and the generator is a pure function of the seed. */
    struct kith_stats_rng a, b;
    kith_stats_rng_seed(&a, 1234567);
    CHECK(a.s[0] == UINT64_C(6457827717110365317));
    CHECK(a.s[1] == UINT64_C(3203168211198807973));
    kith_stats_rng_seed(&b, 1234567);
    for (int i = 0; i < 1000; i++)
        CHECK(kith_stats_rng_next(&a) == kith_stats_rng_next(&b));
    /* xoshiro256** from state {1, 2, 3, 4}: 11520, 0, 1509978240, 1215971899390074240. */
    struct kith_stats_rng x = {{1, 2, 3, 4}};
    CHECK(kith_stats_rng_next(&x) == UINT64_C(11520));
    CHECK(kith_stats_rng_next(&x) == UINT64_C(0));
    CHECK(kith_stats_rng_next(&x) == UINT64_C(1509978240));
    CHECK(kith_stats_rng_next(&x) == UINT64_C(1215971899390074240));
    /* below(n) covers [0, n) evenly: 60000 draws of 6 faces, each within 5 sd of 10000. */
    int faces[6] = {0};
    kith_stats_rng_seed(&a, 42);
    for (int i = 0; i < 60000; i++)
        faces[kith_stats_rng_below(&a, 6)]++;
    for (int i = 0; i < 6; i++)
        CHECK(abs(faces[i] - 10000) < 5 * 92);
    /* FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector). */
    CHECK(kith_stats_fnv1a(KITH_STATS_FNV_OFFSET, "a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
}

static void test_forecast(void)
{
    struct kith_stats_week same[4] = {
        {10, 5, 15000}, {10, 5, 15000}, {10, 5, 15000}, {10, 5, 15000}};
    int days[3] = {28, 31, 30};
    struct kith_stats_month_forecast f[3], g[3];
    CHECK(kith_stats_forecast(same, 4, days, 3, 7, f));
    /* Every week alike: no spread, and a month is days/7 of a week. */
    CHECK_INT(f[0].signups.p10, 40);
    CHECK_INT(f[0].signups.p90, 40);
    CHECK_INT(f[0].qualified.p50, 20);
    CHECK_INT(f[0].cost_minor.p50, 60000);
    CHECK_INT(f[1].signups.p50, 44); /* 10 * 31 / 7 = 44.29 */
    CHECK_INT(f[1].cost_minor.p50, 66429);
    CHECK_INT(f[2].qualified.p50, 21); /* 5 * 30 / 7 = 21.43 */
    struct kith_stats_week mixed[5] = {
        {0, 0, 0}, {20, 4, 8000}, {5, 5, 10000}, {12, 3, 3000}, {8, 0, 0}};
    CHECK(kith_stats_forecast(mixed, 5, days, 3, 99, f));
    CHECK(kith_stats_forecast(mixed, 5, days, 3, 99, g));
    CHECK(memcmp(f, g, sizeof(f)) == 0);
    for (int m = 0; m < 3; m++) {
        CHECK(f[m].signups.p10 <= f[m].signups.p50 && f[m].signups.p50 <= f[m].signups.p90);
        CHECK(f[m].qualified.p10 <= f[m].qualified.p50);
        CHECK(f[m].qualified.p50 <= f[m].qualified.p90);
        CHECK(f[m].cost_minor.p10 <= f[m].cost_minor.p90);
        CHECK(f[m].signups.p10 >= 0 && f[m].signups.p90 <= 20 * 5);
    }
    /* The mean weekly signups are 9: a 28-day month's median sits near 36. */
    CHECK(f[0].signups.p50 >= 30 && f[0].signups.p50 <= 42);
    CHECK(f[0].signups.p10 < f[0].signups.p90);
    /* Another seed, other draws (the bands move a little). */
    CHECK(kith_stats_forecast(mixed, 5, days, 3, 100, g));
    CHECK(!kith_stats_forecast(mixed, 0, days, 3, 1, g));
    CHECK(!kith_stats_forecast(mixed, 5, days, 0, 1, g));
}

static void test_weeks(void)
{
    char label[16];
    struct {
        const char *when; /* a time inside the week */
        int64_t ms;
        const char *label;
    } cases[] = {
        {"1970-01-01", 0, "1970-W01"},
        {"2026-11-23 (Mon)", INT64_C(1795392000000), "2026-W48"},
        {"2026-11-29 23:59:59.999 (Sun)", INT64_C(1795996799999), "2026-W48"},
        {"2026-11-30 (Mon)", INT64_C(1795996800000), "2026-W49"},
        /* 2026 has 53 ISO weeks: Thu 2026-12-31 and Fri 2027-01-01 are in 2026-W53. */
        {"2026-12-31", INT64_C(1798675200000), "2026-W53"},
        {"2027-01-01", INT64_C(1798761600000), "2026-W53"},
        {"2027-01-04 (Mon)", INT64_C(1799020800000), "2027-W01"},
        /* Mon 2024-12-30 opens 2025-W01. */
        {"2024-12-30", INT64_C(1735516800000), "2025-W01"},
        {"2024-12-29 (Sun)", INT64_C(1735430400000), "2024-W52"},
        {"2021-01-03 (Sun)", INT64_C(1609632000000), "2020-W53"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kith_stats_week_label(kith_stats_week_of(cases[i].ms), label);
        if (strcmp(label, cases[i].label) != 0)
            fprintf(stderr, "week of %s\n", cases[i].when);
        CHECK_STR(label, cases[i].label);
    }
    int64_t w = kith_stats_week_of(INT64_C(1795392000000));
    CHECK_INT(kith_stats_week_start(w), INT64_C(1795392000000));
    CHECK_INT(kith_stats_week_of(kith_stats_week_start(w) - 1), w - 1);
    CHECK_INT(kith_stats_week_of(-1), 0); /* 1969-12-31 is in the week of Monday 12-29 */
    CHECK_INT(kith_stats_week_of(-3 * INT64_C(86400000) - 1), -1);
    CHECK_INT(kith_stats_week_start(0), -3 * INT64_C(86400000));
}

static void test_buckets(void)
{
    CHECK_INT(kith_stats_bucket(-5), -1);
    int32_t prev = kith_stats_bucket(0);
    for (int64_t ms = 1; ms < 100000; ms++) {
        int32_t b = kith_stats_bucket(ms);
        CHECK(b >= prev);
        if (b != prev)
            CHECK_INT(kith_stats_bucket_low(b), ms);
        prev = b;
    }
    /* Wide durations: each bucket spans at most 1/16 of its start, and low() round-trips. */
    for (int64_t ms = 100000; ms < INT64_C(1) << 50; ms = ms * 3 / 2 + 7) {
        int32_t b = kith_stats_bucket(ms);
        int64_t lo = kith_stats_bucket_low(b), next = kith_stats_bucket_low(b + 1);
        CHECK(lo <= ms && ms < next);
        CHECK(next - lo <= (lo + 1) / 16 + 1);
        CHECK_INT(kith_stats_bucket(lo), b);
    }
    CHECK(kith_stats_bucket(INT64_MAX) < 1024);
    /* The last bucket's bound is INT64_MAX itself; buckets past it have none (no overflow). */
    int32_t last = kith_stats_bucket(INT64_MAX);
    CHECK_INT(kith_stats_bucket_low(last), INT64_MAX);
    for (int32_t b = last + 1; b < 1100; b++)
        CHECK_INT(kith_stats_bucket_low(b), INT64_MIN);
    CHECK_INT(kith_stats_bucket_low(-1), INT64_MIN);
}

int main(void)
{
    RUN(test_wilson);
    RUN(test_poisson_score);
    RUN(test_median_quantile);
    RUN(test_gini);
    RUN(test_top_share);
    RUN(test_prob_best_beta);
    RUN(test_prob_best_gamma);
    RUN(test_rng);
    RUN(test_forecast);
    RUN(test_weeks);
    RUN(test_buckets);
    TEST_DONE();
}
