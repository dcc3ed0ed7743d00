/*
 * fuzz_csv.c: the RFC 4180 reader (src/csv) behind POST /v1/resources/import, which reads files
 * people upload. The bytes are the file.
 *
 * Checked: reading always ends (records only move forward); every field fits in the input, is
 * NUL-terminated at its length and holds no NUL; record lines never decrease; a failure leaves
 * the reader failed; and what was read, written back the documented way (every field quoted,
 * quotes doubled, CRLF), reads back to the same records.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "kith/csv.h"

#define INPUT_MAX (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return 0;
    const char *in = (const char *)data;
    char *scratch = malloc(KITH_CSV_SCRATCH(size));
    /* Written back: at most 2 bytes per input byte, plus 2 quotes and a separator per field. */
    size_t cap = 2 * size + 4 * (size + 1) + 16;
    char *again = malloc(cap);
    FUZZ_CHECK(scratch && again, "out of memory");
    struct kith_csv_reader r;
    struct kith_csv_record rec;
    kith_csv_init(&r, in, size, scratch, KITH_CSV_SCRATCH(size));
    size_t records = 0, last_line = 0, n = 0;
    enum kith_status st;
    for (;;) {
        st = kith_csv_next(&r, &rec, NULL);
        if (st != KITH_OK || rec.count == 0)
            break;
        FUZZ_CHECK(rec.line >= last_line, "line went back: %zu < %zu", rec.line, last_line);
        FUZZ_CHECK(records <= size, "more records (%zu) than bytes (%zu)", records, size);
        last_line = rec.line;
        records++;
        for (size_t i = 0; i < rec.count; i++) {
            FUZZ_CHECK(rec.len[i] <= size, "field %zu longer than the input", i);
            FUZZ_CHECK(strlen(rec.field[i]) == rec.len[i], "field %zu holds a NUL", i);
            again[n++] = '"';
            for (size_t k = 0; k < rec.len[i]; k++) {
                if (rec.field[i][k] == '"')
                    again[n++] = '"';
                again[n++] = rec.field[i][k];
            }
            again[n++] = '"';
            again[n++] = i + 1 < rec.count ? ',' : '\r';
        }
        again[n++] = '\n';
        FUZZ_CHECK(n <= cap, "written back past its bound");
    }
    if (st != KITH_OK) {
        FUZZ_CHECK(kith_csv_next(&r, &rec, NULL) != KITH_OK, "a failed reader read on");
    } else {
        /* The same records again, from the canonical form. */
        char *scratch2 = malloc(KITH_CSV_SCRATCH(n));
        FUZZ_CHECK(scratch2, "out of memory");
        struct kith_csv_reader r1, r2;
        struct kith_csv_record a, b;
        kith_csv_init(&r1, in, size, scratch, KITH_CSV_SCRATCH(size));
        kith_csv_init(&r2, again, n, scratch2, KITH_CSV_SCRATCH(n));
        for (size_t k = 0; k <= records; k++) {
            FUZZ_CHECK(kith_csv_next(&r1, &a, NULL) == KITH_OK, "first read changed");
            FUZZ_CHECK(kith_csv_next(&r2, &b, NULL) == KITH_OK, "canonical form refused");
            FUZZ_CHECK(a.count == b.count, "record %zu: %zu fields, then %zu", k, a.count, b.count);
            for (size_t i = 0; i < a.count; i++)
                FUZZ_CHECK(a.len[i] == b.len[i] && memcmp(a.field[i], b.field[i], a.len[i]) == 0,
                           "record %zu field %zu differs", k, i);
        }
        free(scratch2);
    }
    free(scratch);
    free(again);
    return 0;
}
