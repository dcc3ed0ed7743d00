/*
 * sketch.c: the count-min sketch of kith/sketch.h, blocked: a key's KITH_SKETCH_ROWS cells lie in
 * one 64-byte cache line (one cell in each quarter of it), so a take costs one cache miss instead
 * of one per row. The cells are one anonymous mapping, offered to the kernel as huge pages so that
 * the random lines of a large sketch do not each cost a TLB miss as well, and faulted in at init:
 * left to the first requests, those faults (a huge page's may wait for memory compaction) were a
 * 30 ms p99 in a redirect benchmark's first seconds.
 *
 * Conservative update: a take raises only the cells at the key's current minimum, by one, which
 * keeps every cell of every key at or above its true count (each take of the key raises its
 * minimum by one) while adding less to the other keys sharing its cells than a plain count-min
 * would.
 */
#include <string.h>
#include <sys/mman.h>

#include "kith/sketch.h"

#define LINE_CELLS 16 /* 64 bytes of uint32_t */
#define QUARTER (LINE_CELLS / KITH_SKETCH_ROWS)
_Static_assert(QUARTER == 4, "two bits of idx[1] pick a row's cell in its quarter line");

bool kith_sketch_init(struct kith_sketch *s, unsigned bits)
{
    s->cells = NULL;
    s->mask = 0;
    s->bytes = 0;
    if (bits < 1 || bits > 28)
        return false;
    /* KITH_SKETCH_ROWS x 2^bits cells, as 2^bits / QUARTER lines (at least one) */
    size_t lines = bits >= 2 ? (size_t)1 << (bits - 2) : 1;
    size_t bytes = lines * LINE_CELLS * sizeof(uint32_t);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without it the sketch works the same */
#endif
    memset(p, 0, bytes); /* fault the pages in now: a huge page's first fault may compact memory */
    s->cells = p;
    s->mask = (uint32_t)(lines - 1);
    s->bytes = bytes;
    return true;
}

void kith_sketch_free(struct kith_sketch *s)
{
    if (s->cells)
        munmap(s->cells, s->bytes);
    s->cells = NULL;
    s->mask = 0;
    s->bytes = 0;
}

size_t kith_sketch_bytes(const struct kith_sketch *s)
{
    return s->bytes;
}

/* Row r's cell of the key: in the line idx[0] picks, the quarter r, the cell two bits of idx[1]
 * pick. */
static uint32_t *cell(const struct kith_sketch *s, int r, const uint32_t idx[KITH_SKETCH_ROWS])
{
    uint32_t *line = s->cells + (size_t)(idx[0] & s->mask) * LINE_CELLS;
    return line + r * QUARTER + ((idx[1] >> (2 * r)) & (QUARTER - 1));
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
        uint32_t v = value(*cell(s, r, idx), tag);
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
        c[r] = cell(s, r, idx);
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
