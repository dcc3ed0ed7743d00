/*
 * exports.c: a program's participants, referrals and rewards as CSV files
 * (GET /v1/exports/{participants|referrals|rewards}.csv?program=, CONTRACT section 21), for a
 * spreadsheet, an accountant or the next tool. RFC 4180 with a header row and CRLF line ends;
 * every cell goes through kith_csv_cell, so one that starts with `=`, `+`, `-` or `@` is
 * prefixed with `'` and a spreadsheet shows it instead of running it. Columns follow the JSON
 * objects' fields (nested ones flattened: stats.clicks is `clicks`, referrer.code is
 * `referrer_code`); times are RFC 3339, empty when null. The rows are read in pages inside the
 * call's one transaction, so the file is one consistent snapshot. It is not for the CSV syntax
 * (src/core/csv.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "kith/clock.h"
#include "kith/csv.h"

#define EXPORT_PAGE 1000
#define CELLS_MAX 20

/* Where a row's cells that are not columns as stored (numbers, times, links) are written. */
struct scratch {
    char num[8][40];
    char url[1100];
};

/* One CSV file: its name and columns, and how a row of its query becomes cells (extra: the
 * participant's codes, or the referral's flags, joined by spaces). */
struct export_kind {
    const char *name; /* "participants.csv" */
    enum kith_query query;
    const char *const *columns;
    size_t ncolumns;
    void (*cells)(const struct kith_engine *eng, json_t *row, const char *extra, struct scratch *sc,
                  const char *cells[]);
};

static void buf_reset(struct kith_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* A column's text, or NULL (an empty cell) when the column is null. */
static const char *str_col(json_t *row, const char *col)
{
    return kith_eng_row_str(row, col);
}

static const char *int_col(json_t *row, const char *col, char buf[40])
{
    if (kith_eng_row_is_null(row, col))
        return NULL;
    snprintf(buf, 40, "%lld", (long long)kith_eng_row_int(row, col));
    return buf;
}

static const char *time_col(json_t *row, const char *col, char buf[40])
{
    if (kith_eng_row_is_null(row, col))
        return NULL;
    kith_time_format(kith_eng_row_int(row, col), buf);
    return buf;
}

static const char *bool_col(json_t *row, const char *col)
{
    return kith_eng_row_int(row, col) != 0 ? "true" : "false";
}

static const char *const participant_columns[] = {
    "id",     "program",    "external_id", "email",         "first_name", "code",
    "codes",  "share_url",  "referred_by", "referrer_code", "status",     "leaderboard_opt_in",
    "erased", "created_at", "clicks",      "signups",       "qualified",  "rewarded"};

static void participant_cells(const struct kith_engine *eng, json_t *row, const char *codes,
                              struct scratch *sc, const char *cells[])
{
    size_t n = 0;
    char(*store)[40] = sc->num;
    char *share = sc->url;
    snprintf(share, sizeof(sc->url), "%s/r/%s", eng->public_url, kith_eng_row_str(row, "code"));
    cells[n++] = str_col(row, "id");
    cells[n++] = str_col(row, "program");
    cells[n++] = str_col(row, "external_id");
    cells[n++] = str_col(row, "email");
    cells[n++] = str_col(row, "first_name");
    cells[n++] = str_col(row, "code");
    cells[n++] = codes;
    cells[n++] = share;
    cells[n++] = str_col(row, "referred_by");
    cells[n++] = str_col(row, "referrer_code");
    cells[n++] = str_col(row, "status");
    cells[n++] = bool_col(row, "leaderboard_opt_in");
    cells[n++] = bool_col(row, "erased");
    cells[n++] = time_col(row, "created_at", store[0]);
    cells[n++] = int_col(row, "clicks", store[1]);
    cells[n++] = int_col(row, "signups", store[2]);
    cells[n++] = int_col(row, "qualified", store[3]);
    cells[n++] = int_col(row, "rewarded", store[4]);
}

static const char *const referral_columns[] = {"id",
                                               "program",
                                               "referrer_id",
                                               "referrer_first_name",
                                               "referrer_code",
                                               "referred_id",
                                               "referred_first_name",
                                               "code",
                                               "source",
                                               "channel",
                                               "status",
                                               "fraud_score",
                                               "fraud_flags",
                                               "created_at",
                                               "qualified_at",
                                               "rewarded_at",
                                               "expires_at"};

static void referral_cells(const struct kith_engine *eng, json_t *row, const char *flags,
                           struct scratch *sc, const char *cells[])
{
    (void)eng;
    size_t n = 0;
    char(*store)[40] = sc->num;
    cells[n++] = str_col(row, "id");
    cells[n++] = str_col(row, "program");
    cells[n++] = str_col(row, "referrer");
    cells[n++] = str_col(row, "referrer_first_name");
    cells[n++] = str_col(row, "referrer_code");
    cells[n++] = str_col(row, "referred");
    cells[n++] = str_col(row, "referred_first_name");
    cells[n++] = str_col(row, "code");
    cells[n++] = str_col(row, "source");
    cells[n++] = str_col(row, "channel");
    cells[n++] = str_col(row, "status");
    cells[n++] = int_col(row, "fraud_score", store[0]);
    cells[n++] = flags;
    cells[n++] = time_col(row, "created_at", store[1]);
    cells[n++] = time_col(row, "qualified_at", store[2]);
    cells[n++] = time_col(row, "rewarded_at", store[3]);
    cells[n++] = time_col(row, "expires_at", store[4]);
}

static const char *const reward_columns[] = {"id",          "program",   "participant", "referral",
                                             "to",          "kind",      "amount",      "currency",
                                             "description", "status",    "created_at",  "issued_at",
                                             "redeemed_at", "expires_at"};

static void reward_cells(const struct kith_engine *eng, json_t *row, const char *unused,
                         struct scratch *sc, const char *cells[])
{
    (void)eng;
    (void)unused;
    size_t n = 0;
    char(*store)[40] = sc->num;
    cells[n++] = str_col(row, "id");
    cells[n++] = str_col(row, "program");
    cells[n++] = str_col(row, "participant");
    cells[n++] = str_col(row, "referral");
    cells[n++] = str_col(row, "side");
    cells[n++] = str_col(row, "kind");
    cells[n++] = int_col(row, "amount", store[0]);
    cells[n++] = str_col(row, "currency");
    cells[n++] = str_col(row, "description");
    cells[n++] = str_col(row, "status");
    cells[n++] = time_col(row, "created_at", store[1]);
    cells[n++] = time_col(row, "issued_at", store[2]);
    cells[n++] = time_col(row, "redeemed_at", store[3]);
    cells[n++] = time_col(row, "expires_at", store[4]);
}

static const struct export_kind kinds[] = {
    {"participants.csv", KITH_Q_CSV_PARTICIPANTS, participant_columns,
     KITH_ARRAY_LEN(participant_columns), participant_cells},
    {"referrals.csv", KITH_Q_CSV_REFERRALS, referral_columns, KITH_ARRAY_LEN(referral_columns),
     referral_cells},
    {"rewards.csv", KITH_Q_CSV_REWARDS, reward_columns, KITH_ARRAY_LEN(reward_columns),
     reward_cells},
};

/* The codes of one page's participants, as "CODE ALIAS" per participant, in page order. */
static enum kith_status page_codes(struct kith_tx *tx, const char *program, int64_t after,
                                   int64_t last, json_t **out)
{
    json_t *args = json_pack("[sII]", program, (json_int_t)after, (json_int_t)last);
    enum kith_status st = kith_store_query(tx, KITH_Q_CSV_CODES, args, out);
    json_decref(args);
    return st;
}

/* "same_ip velocity" from the stored JSON array of flag names. */
static void flags_text(json_t *row, struct kith_buf *out)
{
    json_t *flags = json_loads(
        kith_eng_row_str(row, "fraud_flags") ? kith_eng_row_str(row, "fraud_flags") : "[]", 0,
        NULL);
    size_t i;
    json_t *f;
    buf_reset(out);
    json_array_foreach(flags, i, f)
    {
        if (json_is_string(f)) {
            if (out->len > 0)
                kith_buf_str(out, " ");
            kith_buf_str(out, json_string_value(f));
        }
    }
    json_decref(flags);
}

/* Appends one page of rows after `after` to csv; *more when a full page came, *last its cursor. */
static enum kith_status write_page(struct kith_tx *tx, const struct kith_engine *eng,
                                   const struct export_kind *k, const char *program, int64_t after,
                                   struct kith_buf *csv, int64_t *last, bool *more)
{
    json_t *rows = NULL, *codes = NULL, *row;
    json_t *args = json_pack("[sII]", program, (json_int_t)after, (json_int_t)EXPORT_PAGE);
    enum kith_status st = kith_store_query(tx, k->query, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    size_t n = json_array_size(rows), ci = 0, i;
    *more = n == EXPORT_PAGE;
    *last = n ? kith_eng_row_int(json_array_get(rows, n - 1), "cur") : after;
    if (k->query == KITH_Q_CSV_PARTICIPANTS && n > 0 &&
        (st = page_codes(tx, program, after, *last, &codes)) != KITH_OK) {
        json_decref(rows);
        return st;
    }
    struct kith_buf extra = {0};
    json_array_foreach(rows, i, row)
    {
        struct scratch sc;
        const char *cells[CELLS_MAX] = {NULL};
        buf_reset(&extra);
        if (codes) {
            /* Both lists are in rowid order: take this participant's codes off the front. */
            int64_t cur = kith_eng_row_int(row, "cur");
            while (ci < json_array_size(codes) &&
                   kith_eng_row_int(json_array_get(codes, ci), "cur") == cur) {
                if (extra.len > 0)
                    kith_buf_str(&extra, " ");
                kith_buf_str(&extra, kith_eng_row_str(json_array_get(codes, ci), "code"));
                ci++;
            }
        } else if (k->query == KITH_Q_CSV_REFERRALS) {
            flags_text(row, &extra);
        }
        k->cells(eng, row, kith_buf_cstr(&extra), &sc, cells);
        kith_csv_row(csv, cells, k->ncolumns);
    }
    kith_buf_dispose(&extra);
    json_decref(codes);
    json_decref(rows);
    return KITH_OK;
}

enum kith_status kith_op_export(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                struct kith_err *err)
{
    static const char *const allowed[] = {"program", NULL};
    char program[64];
    bool has_program = false;
    struct prog p;
    const struct export_kind *k = NULL;
    enum kith_status st;
    (void)out;
    for (size_t i = 0; i < KITH_ARRAY_LEN(kinds); i++)
        if (strcmp(call->params[0], kinds[i].name) == 0)
            k = &kinds[i];
    if (k == NULL)
        return kith_err_set(err, KITH_E_NOT_FOUND, NULL,
                            "no such export: participants.csv, referrals.csv or rewards.csv");
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK ||
        (st = kith_eng_prog_resolve(tx, has_program ? program : NULL, &p, err)) != KITH_OK)
        return st;
    struct kith_buf csv = {0};
    kith_csv_row(&csv, k->columns, k->ncolumns);
    int64_t after = 0;
    bool more = true;
    while (more) {
        if ((st = write_page(tx, call->eng, k, p.id, after, &csv, &after, &more)) != KITH_OK) {
            kith_buf_dispose(&csv);
            return kith_err_set(err, st, NULL, "the database could not read the %s", k->name);
        }
    }
    call->text_out = kith_buf_take(&csv);
    call->text_type = "text/csv; charset=utf-8; header=present";
    snprintf(call->text_filename, sizeof(call->text_filename), "%s-%s", p.id, k->name);
    return KITH_OK;
}
