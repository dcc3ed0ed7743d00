/*
 * fuzz_csv.c: CSV files from other tools (src/core/csv.c, read by `kith import participants`).
 * The input is the bytes of a file. Beyond "no crash": every field is NUL-free and its length is
 * right, records start on non-decreasing lines within the file's line count, an error stops the
 * reader for good, and a record written back with kith_csv_row reads back as the same fields
 * (a guarded cell with its leading quote), one record again.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz_check.h"
#include "kith/csv.h"

static size_t lines_in(const uint8_t *data, size_t size)
{
    size_t n = 1;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n')))
            n++;
    }
    return n;
}

static void check_round_trip(const struct kith_csv_record *rec)
{
    if (rec->count == 1 && rec->lens[0] == 0)
        return; /* a lone empty field writes as a blank line, which readers skip */
    struct kith_buf b = {0};
    kith_csv_row(&b, rec->fields, rec->count);
    struct kith_csv_reader r;
    struct kith_csv_record back = {0};
    struct kith_err err;
    kith_csv_reader_init(&r, b.data, b.len);
    FUZZ_CHECK(kith_csv_next(&r, &back, &err) == KITH_OK, "written record does not read: %s",
               err.message);
    FUZZ_CHECK(back.count == rec->count, "%zu fields written, %zu read", rec->count, back.count);
    for (size_t i = 0; i < rec->count; i++) {
        const char *want = rec->fields[i];
        const char *got = back.fields[i];
        if (kith_csv_needs_guard(want)) {
            FUZZ_CHECK(got[0] == '\'', "field %zu \"%s\" lost its guard: \"%s\"", i, want, got);
            got++;
        }
        FUZZ_CHECK(strcmp(got, want) == 0, "field %zu \"%s\" came back as \"%s\"", i, want, got);
    }
    FUZZ_CHECK(kith_csv_next(&r, &back, &err) == KITH_E_NOT_FOUND, "one record wrote as several");
    kith_csv_record_dispose(&back);
    kith_buf_dispose(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kith_csv_reader r;
    struct kith_csv_record rec = {0};
    struct kith_err err;
    size_t last_line = 0, lines = lines_in(data, size);
    kith_csv_reader_init(&r, (const char *)data, size);
    for (;;) {
        enum kith_status st = kith_csv_next(&r, &rec, &err);
        if (st == KITH_E_NOT_FOUND)
            break;
        FUZZ_CHECK(rec.line >= last_line && rec.line >= 1 && rec.line <= lines,
                   "record on line %zu after line %zu (file of %zu lines)", rec.line, last_line,
                   lines);
        last_line = rec.line;
        if (st != KITH_OK) {
            FUZZ_CHECK(st == KITH_E_INVALID_PARAM, "status %d", (int)st);
            FUZZ_CHECK(kith_csv_next(&r, &rec, &err) == KITH_E_INVALID_PARAM,
                       "the reader went on after an error");
            break;
        }
        FUZZ_CHECK(rec.count >= 1 && rec.count <= KITH_CSV_FIELDS_MAX, "%zu fields", rec.count);
        for (size_t i = 0; i < rec.count; i++)
            FUZZ_CHECK(strlen(rec.fields[i]) == rec.lens[i], "field %zu: length %zu, strlen %zu", i,
                       rec.lens[i], strlen(rec.fields[i]));
        check_round_trip(&rec);
    }
    kith_csv_record_dispose(&rec);
    return 0;
}
