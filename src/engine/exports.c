/*
 * exports.c: CSV exports of a program's participants, referrals and rewards (CONTRACT section
 * 21): RFC 4180 (CRLF line ends, a header row, quoted cells where needed) with a guard against
 * formula injection: a cell that starts with '=', '+', '-' or '@' gets a leading "'" so that a
 * spreadsheet shows it as text. Times are RFC 3339 like everywhere in the API.
 */
#include <string.h>

#include "engine/internal.h"
#include "kith/buf.h"
#include "kith/clock.h"

static void cell(struct kith_buf *b, const char *s)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    bool guard = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
    if (quote)
        kith_buf_str(b, "\"");
    if (guard)
        kith_buf_str(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            kith_buf_str(b, "\"\"");
        else
            kith_buf_append(b, p, 1);
    }
    if (quote)
        kith_buf_str(b, "\"");
}

static bool is_time_col(const char *col)
{
    size_t n = strlen(col);
    return n > 3 && strcmp(col + n - 3, "_at") == 0;
}

/* One CSV document from rows whose columns come in cols order. */
static char *csv_of(json_t *rows, const char *const *cols)
{
    struct kith_buf b = {0};
    json_t *r;
    size_t i;
    for (size_t c = 0; cols[c]; c++) {
        if (c)
            kith_buf_str(&b, ",");
        cell(&b, cols[c]);
    }
    kith_buf_str(&b, "\r\n");
    json_array_foreach(rows, i, r)
    {
        for (size_t c = 0; cols[c]; c++) {
            json_t *v = json_object_get(r, cols[c]);
            char tmp[64];
            if (c)
                kith_buf_str(&b, ",");
            if (v == NULL || json_is_null(v))
                continue;
            if (json_is_integer(v) && is_time_col(cols[c])) {
                kith_time_format((int64_t)json_integer_value(v), tmp);
                cell(&b, tmp);
            } else if (json_is_integer(v)) {
                snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
                cell(&b, tmp);
            } else if (json_is_string(v)) {
                cell(&b, json_string_value(v));
            }
        }
        kith_buf_str(&b, "\r\n");
    }
    return kith_buf_take(&b);
}

static const char *const participant_cols[] = {"id",         "program",    "external_id", "email",
                                               "first_name", "code",       "referred_by", "status",
                                               "clicks",     "created_at", NULL};
static const char *const referral_cols[] = {
    "id",     "program",     "referrer",   "referred",     "code",        "source", "channel",
    "status", "fraud_score", "created_at", "qualified_at", "rewarded_at", NULL};
static const char *const reward_cols[] = {"id",          "program",   "participant", "referral",
                                          "side",        "kind",      "amount",      "currency",
                                          "description", "status",    "created_at",  "issued_at",
                                          "redeemed_at", "voided_at", NULL};

enum kith_status kith_op_export(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                struct kith_err *err)
{
    static const char *const allowed[] = {"program", NULL};
    const char *what = call->params[0];
    const char *const *cols;
    enum kith_query q;
    if (strcmp(what, "participants.csv") == 0) {
        cols = participant_cols;
        q = KITH_Q_ADMIN_EXPORT_PARTICIPANTS;
    } else if (strcmp(what, "referrals.csv") == 0) {
        cols = referral_cols;
        q = KITH_Q_ADMIN_EXPORT_REFERRALS;
    } else if (strcmp(what, "rewards.csv") == 0) {
        cols = reward_cols;
        q = KITH_Q_ADMIN_EXPORT_REWARDS;
    } else {
        return kith_err_set(err, KITH_E_NOT_FOUND, NULL,
                            "exports are participants.csv, referrals.csv and rewards.csv");
    }
    char pid[128] = "";
    bool present = false;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", pid, sizeof(pid), &present, err)) !=
            KITH_OK)
        return st;
    struct prog p;
    if ((st = kith_eng_prog_resolve(tx, present ? pid : NULL, &p, err)) != KITH_OK)
        return st;
    json_t *rows = NULL, *args = json_pack("[s]", p.id);
    st = kith_store_query(tx, q, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    char *text = csv_of(rows, cols);
    json_decref(rows);
    *out = json_string(text);
    free(text);
    kith_strlcpy(call->content_type, "text/csv; charset=utf-8", sizeof(call->content_type));
    return KITH_OK;
}
