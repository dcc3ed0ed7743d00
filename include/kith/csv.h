/*
 * csv.h: comma-separated values as RFC 4180 has them, both ways. The reader takes untrusted bytes
 * (a file someone exported from another tool) one record at a time, with the line each record
 * starts on, so an importer can name the line of every mistake; the writer appends cells with
 * the quoting RFC 4180 asks for and the formula-injection guard of CONTRACT section 21 (a cell
 * that starts with `=`, `+`, `-` or `@` gets a leading `'`, so a spreadsheet shows it as text
 * instead of running it). Pure: no I/O, no clock. Not for what the columns mean: that is the
 * importer's (src/engine/imports.c) and the exporter's (src/engine/exports.c).
 *
 * Thread-safety: a reader or record has one owner; the writer functions only touch the buffer
 * they are given.
 */
#ifndef KITH_CSV_H
#define KITH_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "kith/buf.h"
#include "kith/core.h"

#define KITH_CSV_FIELDS_MAX 64 /* fields in one record; more is an error */

struct kith_csv_reader {
    const char *data; /* borrowed: the whole input */
    size_t len;
    size_t pos;
    size_t line; /* the physical line (1-based) the next record starts on */
};

/* One record. fields[i] are NUL-terminated and unescaped; they live in the record's own storage
 * until the next kith_csv_next() or kith_csv_record_dispose(). */
struct kith_csv_record {
    const char *fields[KITH_CSV_FIELDS_MAX];
    size_t lens[KITH_CSV_FIELDS_MAX]; /* bytes of each field, without the NUL */
    size_t count;
    size_t line; /* the line the record starts on (a quoted field may span several) */
    struct kith_buf store;
};

/* Starts reading data[0..len) (borrowed for the reader's life). A UTF-8 byte order mark at the
 * start is skipped, as spreadsheets write one. */
void kith_csv_reader_init(struct kith_csv_reader *r, const char *data, size_t len);

/*
 * Reads the next record into rec (zeroed before the first call; reused after). Records end at
 * CRLF, LF or a lone CR outside quotes; the last one may end at the end of the input. A blank
 * line (nothing on it) is skipped, but counted. A field that starts with `"` is quoted: `""`
 * inside it is one quote, and it may hold commas and line breaks; after its closing quote only a
 * comma or the end of the record may follow.
 *
 * Returns KITH_OK with rec filled; KITH_E_NOT_FOUND at the end of the input; or
 * KITH_E_INVALID_PARAM, with rec->line set to the line of the mistake and err saying what it is
 * (a quote left open, a quote inside an unquoted field, text after a closing quote, a NUL byte,
 * more than KITH_CSV_FIELDS_MAX fields). After an error the reader stops: every later call
 * returns the same error.
 */
enum kith_status kith_csv_next(struct kith_csv_reader *r, struct kith_csv_record *rec,
                               struct kith_err *err);

/* Frees the record's storage. */
void kith_csv_record_dispose(struct kith_csv_record *rec);

/* True when a cell with this text needs the guard (starts with '=', '+', '-' or '@'). */
bool kith_csv_needs_guard(const char *text);

/* Appends one cell: the guard where it needs one, then quotes where RFC 4180 needs them (a comma,
 * a quote, CR or LF in it; quotes doubled). NULL is an empty cell. */
void kith_csv_cell(struct kith_buf *b, const char *text);

/* Appends a record: cells[0..n) separated by commas, then CRLF. */
void kith_csv_row(struct kith_buf *b, const char *const *cells, size_t n);

#endif
