/*
 * csv.c: the strict RFC 4180 reader of include/kith/csv.h. One pass over the bytes, one record
 * at a time, fields unquoted into the caller's scratch space (unquoting only ever shrinks a
 * field, so the input's size plus a terminator per field always suffices). It is not for what
 * the columns mean: the resource import (src/engine) checks those.
 */
#include <string.h>

#include "kith/csv.h"

static enum kith_status fault(struct kith_csv_reader *r, struct kith_csv_record *rec,
                              struct kith_err *err, const char *what)
{
    r->failed = true;
    rec->line = r->line;
    rec->count = 0;
    return kith_err_set(err, KITH_E_INVALID_PARAM, NULL, "%s", what);
}

void kith_csv_init(struct kith_csv_reader *r, const char *in, size_t len, char *scratch,
                   size_t scratch_size)
{
    memset(r, 0, sizeof(*r));
    r->in = in;
    r->len = len;
    r->line = 1;
    r->scratch = scratch;
    r->scratch_size = scratch_size;
    if (len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
}

/* True at a record end (LF or CRLF), consuming it; a bare CR is the caller's fault to report. */
static bool at_record_end(struct kith_csv_reader *r)
{
    if (r->pos < r->len && r->in[r->pos] == '\n') {
        r->pos++;
        r->line++;
        return true;
    }
    if (r->pos + 1 < r->len && r->in[r->pos] == '\r' && r->in[r->pos + 1] == '\n') {
        r->pos += 2;
        r->line++;
        return true;
    }
    return false;
}

enum kith_status kith_csv_next(struct kith_csv_reader *r, struct kith_csv_record *rec,
                               struct kith_err *err)
{
    size_t out = 0;
    rec->count = 0;
    rec->line = r->line;
    if (r->failed)
        return kith_err_set(err, KITH_E_INVALID_PARAM, NULL, "the file could not be read");
    if (r->pos >= r->len)
        return KITH_OK;
    for (;;) {
        if (rec->count == KITH_CSV_FIELDS_MAX)
            return fault(r, rec, err, "too many fields in one record");
        if (out + 1 > r->scratch_size)
            return fault(r, rec, err, "the record is larger than the space given to read it");
        char *field = r->scratch + out;
        size_t n = 0;
        bool quoted = r->pos < r->len && r->in[r->pos] == '"';
        if (quoted) {
            size_t opened = r->line;
            r->pos++;
            for (;;) {
                if (r->pos >= r->len) {
                    r->line = opened; /* where the quote opened, not the end of the file */
                    return fault(r, rec, err, "a quoted field is not closed");
                }
                char c = r->in[r->pos];
                if (c == '"') {
                    if (r->pos + 1 < r->len && r->in[r->pos + 1] == '"') {
                        r->pos += 2;
                    } else {
                        r->pos++;
                        break;
                    }
                } else {
                    if (c == '\0')
                        return fault(r, rec, err, "a NUL byte in a field");
                    if (c == '\n')
                        r->line++;
                    r->pos++;
                }
                if (out + n + 1 >= r->scratch_size)
                    return fault(r, rec, err,
                                 "the record is larger than the space given to read it");
                field[n++] = c;
            }
        } else {
            while (r->pos < r->len) {
                char c = r->in[r->pos];
                if (c == ',' || c == '\n' ||
                    (c == '\r' && r->pos + 1 < r->len && r->in[r->pos + 1] == '\n'))
                    break;
                if (c == '"')
                    return fault(r, rec, err,
                                 "a quote inside an unquoted field (quote the field "
                                 "and double the quote)");
                if (c == '\r')
                    return fault(r, rec, err, "a carriage return without a line feed");
                if (c == '\0')
                    return fault(r, rec, err, "a NUL byte in a field");
                if (out + n + 1 >= r->scratch_size)
                    return fault(r, rec, err,
                                 "the record is larger than the space given to read it");
                field[n++] = c;
                r->pos++;
            }
        }
        field[n] = '\0';
        rec->field[rec->count] = field;
        rec->len[rec->count] = n;
        rec->count++;
        out += n + 1;
        if (r->pos >= r->len)
            return KITH_OK;
        if (r->in[r->pos] == ',') {
            r->pos++;
            continue;
        }
        if (at_record_end(r))
            return KITH_OK;
        return fault(r, rec, err,
                     r->in[r->pos] == '\r' ? "a carriage return without a line feed"
                                           : "text after a closing quote (a field is either all "
                                             "quoted or not quoted)");
    }
}
