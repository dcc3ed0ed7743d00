/*
 * csv.h: a strict RFC 4180 reader for files people upload (the resource import, CONTRACT
 * section 19). Records end at CRLF or LF; fields are separated by commas; a field may be quoted
 * with '"', and inside quotes '""' is one quote and commas and line breaks are data. A quote in
 * an unquoted field, text after a closing quote, a bare CR, a NUL byte and an unterminated quote
 * are errors, not guesses: an import is all or nothing, so a file is either read exactly or
 * refused with the line to fix. A UTF-8 byte order mark at the very start is skipped. Lines are
 * the file's physical lines, counted from 1, so a record whose quoted field spans lines is
 * reported at the line where it starts.
 *
 * Pure: no I/O, no allocation (the caller lends the scratch space), no global state. Safe to use
 * from any thread on distinct readers.
 */
#ifndef KITH_CSV_H
#define KITH_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "kith/core.h"

#define KITH_CSV_FIELDS_MAX 32 /* more fields in one record: an error */

struct kith_csv_reader {
    const char *in;
    size_t len;
    size_t pos;
    size_t line; /* physical line of the next byte */
    char *scratch;
    size_t scratch_size;
    bool failed;
};

/* One record. field[i] is NUL-terminated, points into the reader's scratch space and stays
 * valid until the next call; len[i] is its length. count == 0 means the input is over. */
struct kith_csv_record {
    size_t line; /* where the record starts */
    size_t count;
    const char *field[KITH_CSV_FIELDS_MAX];
    size_t len[KITH_CSV_FIELDS_MAX];
};

/* The scratch size that always suffices for an input of len bytes. */
#define KITH_CSV_SCRATCH(len) ((len) + KITH_CSV_FIELDS_MAX + 1)

/* Starts reading in[0..len). scratch (scratch_size bytes, at least KITH_CSV_SCRATCH(len)) is
 * borrowed for the reader's life; both buffers must outlive it. */
void kith_csv_init(struct kith_csv_reader *r, const char *in, size_t len, char *scratch,
                   size_t scratch_size);

/*
 * Reads the next record into rec. KITH_OK with rec->count > 0 for a record (an empty line is a
 * record of one empty field), KITH_OK with rec->count == 0 at the end of input (a final line
 * break does not start another record). KITH_E_INVALID_PARAM for malformed input, with
 * rec->line set to the line where the fault is (for a quote never closed, the line where it
 * opened) and err->message saying what it is; the reader
 * then stays failed. err may be NULL.
 */
enum kith_status kith_csv_next(struct kith_csv_reader *r, struct kith_csv_record *rec,
                               struct kith_err *err);

#endif
