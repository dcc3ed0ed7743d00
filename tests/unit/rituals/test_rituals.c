/*
 * test_rituals.c: periods (parsing, bounds, month and year boundaries, leap days, the first day
 * of a month) and the picking of spotlight candidates (order, ties, the cap of five, rotation).
 */
#include "kith/rituals.h"
#include "test.h"

#define DAY INT64_C(86400000)
#define JAN2035 INT64_C(2051222400000)
#define FEB2035 INT64_C(2053900800000)
#define MAR2035 INT64_C(2056320000000)
#define FEB29_2036 INT64_C(2087856000000)
#define MAR2036 INT64_C(2087942400000)
#define DEC2034 INT64_C(2048544000000)

static void test_parse_format(void)
{
    struct kith_period p;
    char buf[KITH_PERIOD_TEXT];
    CHECK(kith_period_parse("2035-01", &p) && p.year == 2035 && p.month == 1);
    kith_period_format(p, buf);
    CHECK_STR(buf, "2035-01");
    CHECK(kith_period_parse("1970-12", &p) && p.month == 12);
    static const char *const bad[] = {"2035-13", "2035-00",    "2035-1", "2035/01", "1969-12",
                                      "35-01",   "2035-01-01", "",       "2035-0a", " 2035-01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!kith_period_parse(bad[i], &p));
    CHECK(!kith_period_parse(NULL, &p));
}

static void test_bounds(void)
{
    struct kith_period jan = {2035, 1}, dec = {2034, 12}, feb36 = {2036, 2};
    CHECK_INT(kith_period_start_ms(jan), JAN2035);
    CHECK_INT(kith_period_end_ms(jan), FEB2035);
    CHECK_INT(kith_period_end_ms(dec), JAN2035);
    CHECK_INT(kith_period_start_ms(dec), DEC2034);
    /* February 2036 has 29 days. */
    CHECK_INT(kith_period_end_ms(feb36) - kith_period_start_ms(feb36), 29 * DAY);
    CHECK_INT(kith_period_end_ms(feb36), MAR2036);
    struct kith_period feb35 = {2035, 2};
    CHECK_INT(kith_period_end_ms(feb35) - kith_period_start_ms(feb35), 28 * DAY);
    struct kith_period epoch = {1970, 1};
    CHECK_INT(kith_period_start_ms(epoch), 0);
}

static void test_of_at_boundaries(void)
{
    struct kith_period p = kith_period_of(FEB2035 - 1);
    CHECK(p.year == 2035 && p.month == 1);
    p = kith_period_of(FEB2035);
    CHECK(p.year == 2035 && p.month == 2);
    p = kith_period_of(JAN2035 - 1);
    CHECK(p.year == 2034 && p.month == 12);
    p = kith_period_of(FEB29_2036 + DAY - 1);
    CHECK(p.year == 2036 && p.month == 2);
    p = kith_period_of(0);
    CHECK(p.year == 1970 && p.month == 1);
}

static void test_add_cmp(void)
{
    struct kith_period jan = {2035, 1};
    struct kith_period p = kith_period_add(jan, -1);
    CHECK(p.year == 2034 && p.month == 12);
    p = kith_period_add(jan, -13);
    CHECK(p.year == 2033 && p.month == 12);
    p = kith_period_add(jan, 11);
    CHECK(p.year == 2035 && p.month == 12);
    p = kith_period_add(jan, 12);
    CHECK(p.year == 2036 && p.month == 1);
    CHECK(kith_period_cmp(jan, p) < 0);
    CHECK(kith_period_cmp(p, jan) > 0);
    CHECK_INT(kith_period_cmp(jan, kith_period_add(p, -12)), 0);
}

static void test_first_day(void)
{
    CHECK(kith_period_first_day(MAR2035));
    CHECK(kith_period_first_day(MAR2035 + DAY - 1));
    CHECK(!kith_period_first_day(MAR2035 + DAY));
    CHECK(!kith_period_first_day(MAR2035 - 1));
    CHECK(!kith_period_first_day(FEB29_2036));
    CHECK(kith_period_first_day(MAR2036));
    CHECK(kith_period_first_day(JAN2035 + 12 * 3600 * 1000));
}

static void test_categories(void)
{
    enum kith_spotlight_category c;
    CHECK(kith_spotlight_category_parse("rising", &c) && c == KITH_SPOTLIGHT_RISING);
    CHECK(kith_spotlight_category_parse("storyteller", &c) && c == KITH_SPOTLIGHT_STORYTELLER);
    CHECK(kith_spotlight_category_parse("most_qualified", &c) &&
          c == KITH_SPOTLIGHT_MOST_QUALIFIED);
    CHECK(!kith_spotlight_category_parse("best", &c));
    CHECK_STR(kith_spotlight_category_name(KITH_SPOTLIGHT_RISING), "rising");
}

static void test_pick_order_and_cap(void)
{
    struct kith_spotlight_row rows[] = {
        {"par_a", 2, 50}, {"par_b", 5, 90}, {"par_c", 2, 40}, {"par_d", 0, 10},
        {"par_e", 1, 10}, {"par_f", 2, 40}, {"par_g", 3, 99}, {"par_h", 1, 5},
    };
    size_t out[KITH_SPOTLIGHT_CANDIDATES_MAX];
    size_t n = kith_spotlight_pick(rows, 8, NULL, 0, KITH_SPOTLIGHT_CANDIDATES_MAX, out);
    CHECK_INT(n, 5);
    /* b (5), g (3), then the 2s by first time (c and f tie at 40: by id), then a. */
    const char *want[] = {"par_b", "par_g", "par_c", "par_f", "par_a"};
    for (size_t i = 0; i < n && i < 5; i++)
        CHECK_STR(rows[out[i]].participant, want[i]);
    /* The same rows in another order give the same draft. */
    struct kith_spotlight_row rev[8];
    for (size_t i = 0; i < 8; i++)
        rev[i] = rows[7 - i];
    n = kith_spotlight_pick(rev, 8, NULL, 0, KITH_SPOTLIGHT_CANDIDATES_MAX, out);
    CHECK_INT(n, 5);
    for (size_t i = 0; i < n && i < 5; i++)
        CHECK_STR(rev[out[i]].participant, want[i]);
    /* A smaller cap keeps the best. */
    n = kith_spotlight_pick(rows, 8, NULL, 0, 2, out);
    CHECK_INT(n, 2);
    CHECK_STR(rows[out[0]].participant, "par_b");
    CHECK_STR(rows[out[1]].participant, "par_g");
    CHECK_INT(kith_spotlight_pick(rows, 8, NULL, 0, 0, out), 0);
    /* Nobody with a count: no candidates. */
    CHECK_INT(kith_spotlight_pick(rows + 3, 1, NULL, 0, 5, out), 0);
}

static void test_pick_rotation(void)
{
    struct kith_spotlight_row rows[] = {
        {"par_a", 9, 1}, {"par_b", 8, 1}, {"par_c", 7, 1}, {"par_d", 6, 1},
        {"par_e", 5, 1}, {"par_f", 4, 1}, {"par_g", 3, 1},
    };
    const char *excluded[] = {"par_a", "par_c", "par_z"};
    size_t out[KITH_SPOTLIGHT_CANDIDATES_MAX];
    size_t n = kith_spotlight_pick(rows, 7, excluded, 3, KITH_SPOTLIGHT_CANDIDATES_MAX, out);
    CHECK_INT(n, 5);
    const char *want[] = {"par_b", "par_d", "par_e", "par_f", "par_g"};
    for (size_t i = 0; i < n && i < 5; i++)
        CHECK_STR(rows[out[i]].participant, want[i]);
    /* The rotated periods: the rotation_periods months before, not the draft's own. */
    struct kith_period mar = {2035, 3};
    struct kith_period from = kith_spotlight_rotation_start(mar, 3);
    CHECK(from.year == 2034 && from.month == 12);
    from = kith_spotlight_rotation_start(mar, 0);
    CHECK_INT(kith_period_cmp(from, mar), 0);
}

static void test_pick_duplicates(void)
{
    struct kith_spotlight_row rows[] = {{"par_a", 2, 1}, {"par_a", 3, 1}, {"par_b", 1, 1}};
    size_t out[KITH_SPOTLIGHT_CANDIDATES_MAX];
    size_t n = kith_spotlight_pick(rows, 3, NULL, 0, KITH_SPOTLIGHT_CANDIDATES_MAX, out);
    CHECK_INT(n, 2);
    CHECK_STR(rows[out[0]].participant, "par_a");
    CHECK_STR(rows[out[1]].participant, "par_b");
}

int main(void)
{
    RUN(test_parse_format);
    RUN(test_bounds);
    RUN(test_of_at_boundaries);
    RUN(test_add_cmp);
    RUN(test_first_day);
    RUN(test_categories);
    RUN(test_pick_order_and_cap);
    RUN(test_pick_rotation);
    RUN(test_pick_duplicates);
    TEST_DONE();
}
