/*
 * csv.c: RFC 4180 records in (one at a time, with the line each starts on) and cells out (with
 * the formula-injection guard). Strict where a lenient reader would guess: a quote inside an
 * unquoted field or text after a closing quote is an error naming the line, because an import is
 * all or nothing and a guessed field is a silently wrong row. It is not for what columns mean.
 */
#include <string.h>

#include "kith/csv.h"

void kith_csv_reader_init(struct kith_csv_reader *r, const char *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->line = 1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
}

void kith_csv_record_dispose(struct kith_csv_record *rec)
{
    kith_buf_dispose(&rec->store);
    rec->count = 0;
}

/* Consumes a line break at r->pos (CRLF, LF or CR); false when there is none. */
static bool eat_newline(struct kith_csv_reader *r)
{
    if (r->pos >= r->len)
        return false;
    if (r->data[r->pos] == '\r') {
        r->pos++;
        if (r->pos < r->len && r->data[r->pos] == '\n')
            r->pos++;
    } else if (r->data[r->pos] == '\n') {
        r->pos++;
    } else {
        return false;
    }
    r->line++;
    return true;
}

static enum kith_status fail_at(struct kith_csv_reader *r, struct kith_csv_record *rec, size_t line,
                                struct kith_err *err, const char *message)
{
    rec->line = line;
    rec->count = 0;
    r->pos = r->len + 1; /* stopped: later calls answer the same */
    return kith_err_set(err, KITH_E_INVALID_PARAM, NULL, "%s", message);
}

static enum kith_status fail(struct kith_csv_reader *r, struct kith_csv_record *rec,
                             struct kith_err *err, const char *message)
{
    return fail_at(r, rec, r->line, err, message);
}

enum kith_status kith_csv_next(struct kith_csv_reader *r, struct kith_csv_record *rec,
                               struct kith_err *err)
{
    size_t offsets[KITH_CSV_FIELDS_MAX];
    if (r->pos > r->len)
        return fail(r, rec, err, "the file could not be read past an earlier error");
    rec->count = 0;
    rec->store.len = 0;
    /* Blank lines are skipped (and counted). */
    while (r->pos < r->len && (r->data[r->pos] == '\n' || r->data[r->pos] == '\r'))
        eat_newline(r);
    if (r->pos >= r->len)
        return KITH_E_NOT_FOUND;
    rec->line = r->line;
    for (;;) {
        if (rec->count == KITH_CSV_FIELDS_MAX)
            return fail(r, rec, err, "more fields than any kith file has");
        offsets[rec->count] = rec->store.len;
        if (r->pos < r->len && r->data[r->pos] == '"') {
            size_t opened = r->line;
            r->pos++;
            for (;;) {
                if (r->pos >= r->len)
                    return fail_at(r, rec, opened, err,
                                   "a quoted field opened on this line is not closed");
                char c = r->data[r->pos];
                if (c == '"') {
                    if (r->pos + 1 < r->len && r->data[r->pos + 1] == '"') {
                        kith_buf_append(&rec->store, "\"", 1);
                        r->pos += 2;
                        continue;
                    }
                    r->pos++;
                    break;
                }
                if (c == '\0')
                    return fail(r, rec, err, "a NUL byte");
                if (c == '\r' || c == '\n') {
                    /* A line break inside quotes is data; keep it as it was written. */
                    size_t start = r->pos;
                    eat_newline(r);
                    kith_buf_append(&rec->store, r->data + start, r->pos - start);
                    continue;
                }
                kith_buf_append(&rec->store, &c, 1);
                r->pos++;
            }
            if (r->pos < r->len && r->data[r->pos] != ',' && r->data[r->pos] != '\r' &&
                r->data[r->pos] != '\n')
                return fail(r, rec, err, "text after a closing quote (quote the whole field)");
        } else {
            size_t start = r->pos;
            while (r->pos < r->len && r->data[r->pos] != ',' && r->data[r->pos] != '\r' &&
                   r->data[r->pos] != '\n') {
                if (r->data[r->pos] == '"')
                    return fail(r, rec, err,
                                "a quote inside an unquoted field (quote the whole field and "
                                "double the quotes in it)");
                if (r->data[r->pos] == '\0')
                    return fail(r, rec, err, "a NUL byte");
                r->pos++;
            }
            kith_buf_append(&rec->store, r->data + start, r->pos - start);
        }
        kith_buf_append(&rec->store, "", 1); /* each field NUL-terminated in the store */
        rec->lens[rec->count] = rec->store.len - 1 - offsets[rec->count];
        rec->count++;
        if (r->pos < r->len && r->data[r->pos] == ',') {
            r->pos++;
            continue;
        }
        eat_newline(r);
        break;
    }
    /* The store no longer moves: point into it. */
    for (size_t i = 0; i < rec->count; i++)
        rec->fields[i] = rec->store.data + offsets[i];
    return KITH_OK;
}

bool kith_csv_needs_guard(const char *text)
{
    return text && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@');
}

void kith_csv_cell(struct kith_buf *b, const char *text)
{
    if (text == NULL || text[0] == '\0')
        return;
    bool guard = kith_csv_needs_guard(text);
    bool quote = strpbrk(text, ",\"\r\n") != NULL;
    if (!quote) {
        if (guard)
            kith_buf_append(b, "'", 1);
        kith_buf_str(b, text);
        return;
    }
    kith_buf_append(b, guard ? "\"'" : "\"", guard ? 2 : 1);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            kith_buf_append(b, "\"\"", 2);
        else
            kith_buf_append(b, p, 1);
    }
    kith_buf_append(b, "\"", 1);
}

void kith_csv_row(struct kith_buf *b, const char *const *cells, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            kith_buf_append(b, ",", 1);
        kith_csv_cell(b, cells[i]);
    }
    kith_buf_append(b, "\r\n", 2);
}
