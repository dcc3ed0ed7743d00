/*
 * sketch.c: the count-min sketch of kith/sketch.h. Conservative update: a take raises only the
 * rows at the key's current minimum, by one, which keeps every row of every key at or above its
 * true count (each take of the key raises its minimum by one) while adding less to the other keys
 * sharing its cells than a plain count-min would.
 */
#include <stdlib.h>

#include "kith/sketch.h"

bool kith_sketch_init(struct kith_sketch *s, unsigned bits)
{
    s->cells = NULL;
    s->mask = 0;
    if (bits < 1 || bits > 28)
        return false;
    s->cells = calloc((size_t)KITH_SKETCH_ROWS << bits, sizeof(*s->cells));
    if (s->cells == NULL)
        return false;
    s->mask = (UINT32_C(1) << bits) - 1;
    return true;
}

void kith_sketch_free(struct kith_sketch *s)
{
    free(s->cells);
    s->cells = NULL;
    s->mask = 0;
}

size_t kith_sketch_bytes(const struct kith_sketch *s)
{
    return s->cells ? ((size_t)s->mask + 1) * KITH_SKETCH_ROWS * sizeof(*s->cells) : 0;
}

static uint32_t *cell(const struct kith_sketch *s, int row, uint32_t idx)
{
    return s->cells + ((size_t)row * ((size_t)s->mask + 1) + (idx & s->mask));
}

/* A cell's count in minute: 0 when it was last written in another minute. */
static uint32_t value(uint32_t c, uint32_t tag)
{
    return (c >> 16) == tag ? (c & 0xffffu) : 0;
}

uint32_t kith_sketch_count(const struct kith_sketch *s, const uint32_t idx[KITH_SKETCH_ROWS],
                           int64_t minute)
{
    uint32_t tag = (uint32_t)((uint64_t)minute & 0xffffu), min = KITH_SKETCH_COUNT_MAX;
    for (int r = 0; r < KITH_SKETCH_ROWS; r++) {
        uint32_t v = value(*cell(s, r, idx[r]), tag);
        if (v < min)
            min = v;
    }
    return min;
}

bool kith_sketch_take(struct kith_sketch *s, const uint32_t idx[KITH_SKETCH_ROWS], int64_t minute,
                      uint32_t limit)
{
    uint32_t tag = (uint32_t)((uint64_t)minute & 0xffffu), min = KITH_SKETCH_COUNT_MAX;
    uint32_t *c[KITH_SKETCH_ROWS], v[KITH_SKETCH_ROWS];
    if (limit > KITH_SKETCH_COUNT_MAX)
        limit = KITH_SKETCH_COUNT_MAX;
    for (int r = 0; r < KITH_SKETCH_ROWS; r++) {
        c[r] = cell(s, r, idx[r]);
        v[r] = value(*c[r], tag);
        if (v[r] < min)
            min = v[r];
    }
    if (min >= limit)
        return false;
    for (int r = 0; r < KITH_SKETCH_ROWS; r++)
        if (v[r] == min)
            *c[r] = tag << 16 | (min + 1);
    return true;
}
