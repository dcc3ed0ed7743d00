/*
 * sketch.h: per-minute counting in fixed memory (a count-min sketch with conservative update).
 * KITH_SKETCH_ROWS x 2^bits cells, allocated once, laid out as 64-byte lines of 16 cells: a key
 * has one cell in each quarter of one line (sketch.c), so counting it touches one cache line. A
 * cell is a 16-bit minute tag and a 16-bit count, so a cell last written in another minute reads
 * as 0 and is reset by the next write to it: no clearing pass, no timer, no allocation after
 * init. A key is given as KITH_SKETCH_ROWS 32-bit words of a keyed hash (kith/crypto.h): the
 * first picks the line, the second the cells in it.
 *
 * What it promises: an estimate is never below the true count of the key this minute (so a limit
 * is never missed), and it is above it only when each of the key's four cells is shared with
 * another key of the same minute, which needs other keys in the same line. With n distinct keys
 * in a minute and L = 2^bits / 4 lines, the number of other keys in a key's line is about
 * Poisson(n / L), and k of them share all four of its cells with probability (1 - (3/4)^k)^4
 * (1/256 for k = 1). Tags repeat after 65,536 minutes (45.5 days): a cell untouched for exactly
 * a multiple of that reads its old count, which can only over-count too.
 */
#ifndef KITH_SKETCH_H
#define KITH_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KITH_SKETCH_ROWS 4
#define KITH_SKETCH_COUNT_MAX 0xffffu

struct kith_sketch {
    uint32_t *cells; /* lines of 16 cells; tag << 16 | count */
    uint32_t mask;   /* lines - 1 */
    size_t bytes;    /* the mapping's size */
};

/* Maps 4 x 2^bits x 4 bytes (one 64-byte line at least), zeroed and resident from the start
 * (huge pages where the kernel can: faulted in here, not on the first requests, since a huge
 * page's first fault may wait for the kernel to compact memory). False when memory runs short or
 * bits is not in 1..28. */
bool kith_sketch_init(struct kith_sketch *s, unsigned bits);
void kith_sketch_free(struct kith_sketch *s);
size_t kith_sketch_bytes(const struct kith_sketch *s);

/* The key's count in minute (an over-estimate, never under). */
uint32_t kith_sketch_count(const struct kith_sketch *s, const uint32_t idx[KITH_SKETCH_ROWS],
                           int64_t minute);
/* Counts one for the key in minute unless its count has reached limit (at most
 * KITH_SKETCH_COUNT_MAX): true when counted, false (nothing changed) when at the limit. */
bool kith_sketch_take(struct kith_sketch *s, const uint32_t idx[KITH_SKETCH_ROWS], int64_t minute,
                      uint32_t limit);

#endif
