/*
 * test_sketch.c: the count-min sketch of kith/sketch.h: exact counts for a few keys, a new
 * minute reads as zero, and never an under-count with far more keys than cells.
 */
#include "kith/sketch.h"
#include "test.h"

/* A deterministic stand-in for the keyed hash: splitmix64 of the key number. */
static uint64_t mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static void key_of(uint32_t k, uint32_t idx[KITH_SKETCH_ROWS])
{
    uint64_t a = mix(k), b = mix(a);
    idx[0] = (uint32_t)a;
    idx[1] = (uint32_t)(a >> 32);
    idx[2] = (uint32_t)b;
    idx[3] = (uint32_t)(b >> 32);
}

static void test_exact_for_few_keys(void)
{
    struct kith_sketch s;
    CHECK(kith_sketch_init(&s, 16));
    CHECK_INT(kith_sketch_bytes(&s), 4 * 65536 * 4);
    uint32_t idx[KITH_SKETCH_ROWS];
    for (uint32_t k = 0; k < 10; k++) {
        key_of(k, idx);
        for (uint32_t i = 0; i <= k; i++)
            CHECK(kith_sketch_take(&s, idx, 1000, 100));
    }
    for (uint32_t k = 0; k < 10; k++) {
        key_of(k, idx);
        CHECK_INT(kith_sketch_count(&s, idx, 1000), k + 1);
    }
    key_of(99, idx);
    CHECK_INT(kith_sketch_count(&s, idx, 1000), 0);
    kith_sketch_free(&s);
    CHECK_INT(kith_sketch_bytes(&s), 0);
}

static void test_limit_stops_counting(void)
{
    struct kith_sketch s;
    CHECK(kith_sketch_init(&s, 10));
    uint32_t idx[KITH_SKETCH_ROWS];
    key_of(7, idx);
    int taken = 0;
    for (int i = 0; i < 31; i++)
        taken += kith_sketch_take(&s, idx, 5, 30);
    CHECK_INT(taken, 30);
    CHECK_INT(kith_sketch_count(&s, idx, 5), 30);
    CHECK(!kith_sketch_take(&s, idx, 5, 30));
    CHECK_INT(kith_sketch_count(&s, idx, 5), 30);
    /* limits beyond what a cell holds are held at its maximum */
    key_of(8, idx);
    CHECK(kith_sketch_take(&s, idx, 5, UINT32_MAX));
    kith_sketch_free(&s);
    CHECK(!kith_sketch_init(&s, 0));
    CHECK(!kith_sketch_init(&s, 29));
}

static void test_new_minute_reads_zero(void)
{
    struct kith_sketch s;
    CHECK(kith_sketch_init(&s, 12));
    uint32_t idx[KITH_SKETCH_ROWS];
    key_of(1, idx);
    for (int i = 0; i < 30; i++)
        CHECK(kith_sketch_take(&s, idx, 29000000, 30));
    CHECK(!kith_sketch_take(&s, idx, 29000000, 30));
    CHECK_INT(kith_sketch_count(&s, idx, 29000001), 0);
    CHECK(kith_sketch_take(&s, idx, 29000001, 30));
    CHECK_INT(kith_sketch_count(&s, idx, 29000001), 1);
    /* the old minute's cells were reset, not added to */
    CHECK_INT(kith_sketch_count(&s, idx, 29000000), 0);
    /* a minute far away (the tag is the minute's low 16 bits) also reads as a new one */
    CHECK_INT(kith_sketch_count(&s, idx, 29000001 + 12345), 0);
    kith_sketch_free(&s);
}

/* 1,000,000 keys, 1 to 4 takes each, into 4 x 2^12 cells: every estimate at or above the truth,
 * and a key taken up to a limit never passes it. */
static void test_never_under_counts(void)
{
    struct kith_sketch s;
    CHECK(kith_sketch_init(&s, 12));
    enum { KEYS = 1000000 };
    uint32_t idx[KITH_SKETCH_ROWS];
    for (uint32_t k = 0; k < KEYS; k++) {
        key_of(k, idx);
        for (uint32_t i = 0; i < 1 + k % 4; i++)
            kith_sketch_take(&s, idx, 42, KITH_SKETCH_COUNT_MAX);
    }
    int under = 0;
    for (uint32_t k = 0; k < KEYS; k++) {
        key_of(k, idx);
        if (kith_sketch_count(&s, idx, 42) < 1 + k % 4)
            under++;
    }
    CHECK_INT(under, 0);
    kith_sketch_free(&s);

    /* a small sketch at a small limit: the limit is reached early, never passed */
    CHECK(kith_sketch_init(&s, 8));
    int passed = 0;
    for (uint32_t k = 0; k < 100000; k++) {
        key_of(k, idx);
        int taken = 0;
        for (int i = 0; i < 3; i++)
            taken += kith_sketch_take(&s, idx, 7, 2);
        if (taken > 2)
            passed++;
    }
    CHECK_INT(passed, 0);
    kith_sketch_free(&s);
}

/* Few keys in a large sketch, as the click cap sees them: exact, as in test_limits.py. */
static void test_exact_in_a_large_sketch(void)
{
    struct kith_sketch s;
    CHECK(kith_sketch_init(&s, 20));
    uint32_t idx[KITH_SKETCH_ROWS];
    int counted = 0;
    for (uint32_t k = 0; k < 1000; k++) {
        key_of(k + 5000000, idx);
        for (int i = 0; i < 31; i++)
            counted += kith_sketch_take(&s, idx, 3, 30);
    }
    CHECK_INT(counted, 30 * 1000);
    kith_sketch_free(&s);
}

int main(void)
{
    RUN(test_exact_for_few_keys);
    RUN(test_limit_stops_counting);
    RUN(test_new_minute_reads_zero);
    RUN(test_never_under_counts);
    RUN(test_exact_in_a_large_sketch);
    TEST_DONE();
}
