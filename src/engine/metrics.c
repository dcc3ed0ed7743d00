/*
 * metrics.c: the numbers a referral program lives by (CONTRACT section 14) over any window,
 * and the opt-in leaderboard. Health, not vanity: rates are null when their denominator is
 * zero rather than a flattering 0 or 100%, bots never count (their clicks are never stored),
 * and nobody appears on a leaderboard who did not say yes. Every count is an indexed range
 * query over (program, time).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "kith/clock.h"

static json_t *rate(int64_t num, int64_t den)
{
    return den == 0 ? json_null() : json_real((double)num / (double)den);
}

static enum kith_status window(struct kith_call *call, int64_t *from, int64_t *to,
                               struct kith_err *err)
{
    char buf[48];
    bool present;
    enum kith_status st;
    *from = INT64_MIN / 2;
    *to = INT64_MAX / 2;
    static const char *const names[] = {"from", "to"};
    int64_t *outs[] = {from, to};
    for (int i = 0; i < 2; i++) {
        if ((st = kith_eng_q_string(call->query, names[i], buf, sizeof(buf), &present, err)) !=
            KITH_OK)
            return st;
        if (present && !kith_time_parse(buf, outs[i]))
            return kith_err_set(err, KITH_E_INVALID_PARAM, names[i],
                                "'%s' must be an RFC 3339 time", names[i]);
    }
    if (*from > *to)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "from", "'from' must not be after 'to'");
    return KITH_OK;
}

static enum kith_status run(struct kith_tx *tx, enum kith_query q, json_t *args, json_t **rows)
{
    enum kith_status st = kith_store_query(tx, q, args, rows);
    json_decref(args);
    return st;
}

static void add_rows(json_t *into, json_t *rows)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *ch = kith_eng_row_str(r, "channel");
        json_int_t n =
            json_integer_value(json_object_get(into, ch)) + kith_eng_row_int(r, "clicks");
        json_object_set_new(into, ch, json_integer(n));
    }
}

/*
 * Clicks per channel in [from, to): whole hours from the click_hours rollup, the partial hours
 * at either edge from the clicks themselves (an indexed range of at most an hour each).
 */
static enum kith_status click_counts(struct kith_tx *tx, const char *program, int64_t from,
                                     int64_t to, json_t **out)
{
    int64_t h1 =
        from >= 0 ? (from + KITH_MS_PER_HOUR - 1) / KITH_MS_PER_HOUR : from / KITH_MS_PER_HOUR;
    int64_t h2 = to >= 0 ? to / KITH_MS_PER_HOUR : (to - KITH_MS_PER_HOUR + 1) / KITH_MS_PER_HOUR;
    json_t *rows = NULL;
    enum kith_status st;
    *out = json_object();
    if (h1 >= h2) {
        st = run(tx, KITH_Q_METRICS_CLICKS,
                 json_pack("[sII]", program, (json_int_t)from, (json_int_t)to), &rows);
        add_rows(*out, rows);
        json_decref(rows);
        return st;
    }
    json_int_t edges[2][2] = {{(json_int_t)from, (json_int_t)(h1 * KITH_MS_PER_HOUR)},
                              {(json_int_t)(h2 * KITH_MS_PER_HOUR), (json_int_t)to}};
    if ((st = run(tx, KITH_Q_METRICS_CLICK_HOURS,
                  json_pack("[sII]", program, (json_int_t)h1, (json_int_t)h2), &rows)) != KITH_OK)
        return st;
    add_rows(*out, rows);
    json_decref(rows);
    for (int e = 0; e < 2; e++) {
        if (edges[e][0] >= edges[e][1])
            continue;
        rows = NULL;
        if ((st = run(tx, KITH_Q_METRICS_CLICKS,
                      json_pack("[sII]", program, edges[e][0], edges[e][1]), &rows)) != KITH_OK)
            return st;
        add_rows(*out, rows);
        json_decref(rows);
    }
    return KITH_OK;
}

enum kith_status kith_op_metrics(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                 struct kith_err *err)
{
    static const char *const allowed[] = {"program", "from", "to", NULL};
    char program[64];
    bool has_program;
    int64_t from, to;
    struct prog p;
    json_t *r_part = NULL, *r_clicks = NULL, *r_sharers = NULL, *r_signups = NULL, *r_qual = NULL,
           *r_cost = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK ||
        (st = window(call, &from, &to, err)) != KITH_OK ||
        (st = kith_eng_prog_resolve(tx, has_program ? program : NULL, &p, err)) != KITH_OK)
        return st;
    json_int_t f = (json_int_t)from, t = (json_int_t)to;
    bool all_time = from == INT64_MIN / 2 && to == INT64_MAX / 2;
    if ((st = run(tx, KITH_Q_METRICS_SIGNUPS, json_pack("[sII]", p.id, f, t), &r_signups)) !=
            KITH_OK ||
        (st = run(tx, KITH_Q_METRICS_QUALIFIED, json_pack("[sII]", p.id, f, t), &r_qual)) !=
            KITH_OK ||
        (st = run(tx, KITH_Q_METRICS_COST, json_pack("[sII]", p.id, f, t), &r_cost)) != KITH_OK ||
        (st = click_counts(tx, p.id, from, to, &r_clicks)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not compute the metrics");
        goto out;
    }
    int64_t participants = 0, sharers = 0;
    if (all_time) {
        /* Running counts: O(1) however large the program. */
        json_t *row = NULL, *args = json_pack("[s]", p.id);
        st = kith_store_query_one(tx, KITH_Q_COUNTS_GET, args, &row);
        json_decref(args);
        if (st == KITH_OK) {
            participants = kith_eng_row_int(row, "participants_active");
            sharers = kith_eng_row_int(row, "sharers");
        }
        json_decref(row);
        if (st != KITH_OK && st != KITH_E_NOT_FOUND) {
            st = kith_err_set(err, st, NULL, "the database could not compute the metrics");
            goto out;
        }
    } else {
        if ((st = run(tx, KITH_Q_METRICS_PARTICIPANTS, json_pack("[sI]", p.id, t), &r_part)) !=
                KITH_OK ||
            (st = run(tx, KITH_Q_METRICS_SHARERS, json_pack("[sII]", p.id, f, t), &r_sharers)) !=
                KITH_OK) {
            st = kith_err_set(err, st, NULL, "the database could not compute the metrics");
            goto out;
        }
        participants = kith_eng_row_int(json_array_get(r_part, 0), "n");
        sharers = kith_eng_row_int(json_array_get(r_sharers, 0), "n");
    }
    int64_t clicks = 0, signups = 0, qualified = 0;
    json_t *by_channel = json_object();
    size_t i;
    json_t *r;
    const char *chname;
    json_t *cv;
    json_object_foreach(r_clicks, chname, cv)
    {
        clicks += json_integer_value(cv);
        json_object_set_new(
            by_channel, chname,
            json_pack("{s:I,s:i}", "clicks", (json_int_t)json_integer_value(cv), "signups", 0));
    }
    json_array_foreach(r_signups, i, r)
    {
        signups += kith_eng_row_int(r, "signups");
        json_t *ch = json_object_get(by_channel, kith_eng_row_str(r, "channel"));
        if (ch == NULL) {
            ch = json_pack("{s:i,s:i}", "clicks", 0, "signups", 0);
            json_object_set_new(by_channel, kith_eng_row_str(r, "channel"), ch);
        }
        json_object_set_new(ch, "signups", json_integer(kith_eng_row_int(r, "signups")));
    }
    /* Qualified per referrer, busiest first: the top 5% (rounded up, at least one). */
    size_t qualifiers = json_array_size(r_qual);
    json_array_foreach(r_qual, i, r) qualified += kith_eng_row_int(r, "n");
    size_t top = (size_t)ceil((double)qualifiers * 0.05);
    if (top < 1)
        top = 1;
    int64_t top_sum = 0;
    for (i = 0; i < top && i < qualifiers; i++)
        top_sum += kith_eng_row_int(json_array_get(r_qual, i), "n");
    json_t *cost = json_object(), *per = json_object();
    json_array_foreach(r_cost, i, r)
    {
        int64_t total = kith_eng_row_int(r, "total");
        json_object_set_new(cost, kith_eng_row_str(r, "currency"), json_integer(total));
        json_object_set_new(per, kith_eng_row_str(r, "currency"),
                            qualified ? json_integer((total + qualified / 2) / qualified)
                                      : json_null());
    }
    if (json_object_size(cost) == 0) {
        json_object_set_new(cost, p.currency, json_integer(0));
        json_object_set_new(per, p.currency, qualified ? json_integer(0) : json_null());
    }
    *out = json_object();
    json_object_set_new(*out, "program", json_string(p.id));
    json_object_set_new(*out, "from",
                        from == INT64_MIN / 2 ? json_null() : kith_eng_time_json(from));
    json_object_set_new(*out, "to", to == INT64_MAX / 2 ? json_null() : kith_eng_time_json(to));
    json_object_set_new(*out, "participants", json_integer(participants));
    json_object_set_new(*out, "sharers", json_integer(sharers));
    json_object_set_new(*out, "participation_rate", rate(sharers, participants));
    json_object_set_new(*out, "clicks", json_integer(clicks));
    json_object_set_new(*out, "signups", json_integer(signups));
    json_object_set_new(*out, "share_to_signup_conversion", rate(signups, clicks));
    json_object_set_new(*out, "qualified", json_integer(qualified));
    json_object_set_new(*out, "qualification_rate", rate(qualified, signups));
    json_object_set_new(*out, "k_factor", rate(qualified, participants));
    json_object_set_new(*out, "rewards_cost", cost);
    json_object_set_new(*out, "cost_per_qualified_referral", per);
    json_object_set_new(*out, "top_5pct_share", rate(top_sum, qualified));
    json_object_set_new(*out, "by_channel", by_channel);
    json_t *by_resource = NULL; /* CONTRACT 19 (resource_sync.c) */
    if ((st = kith_eng_resources_metrics(tx, p.id, from, to, &by_resource)) != KITH_OK) {
        json_decref(*out);
        *out = NULL;
        st = kith_err_set(err, st, NULL, "the database could not compute the metrics");
        goto out;
    }
    json_object_set_new(*out, "by_resource", by_resource);
    st = KITH_OK;
out:
    json_decref(r_part);
    json_decref(r_clicks);
    json_decref(r_sharers);
    json_decref(r_signups);
    json_decref(r_qual);
    json_decref(r_cost);
    return st;
}

/* Midnight UTC on the first day of the month that holds ms. */
static int64_t month_start(int64_t ms)
{
    char buf[32];
    kith_time_format(ms, buf);
    memcpy(buf + 8, "01T00:00:00Z", 13);
    int64_t out = 0;
    kith_time_parse(buf, &out);
    return out;
}

enum kith_status kith_op_leaderboard(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                     struct kith_err *err)
{
    static const char *const allowed[] = {"program", "period", "limit", NULL};
    char program[64], period[16], lim[16];
    bool has_program, has_period, has_limit;
    int64_t limit = 10;
    struct prog p;
    json_t *rows = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "period", period, sizeof(period), &has_period, err)) !=
            KITH_OK ||
        (st = kith_eng_q_string(call->query, "limit", lim, sizeof(lim), &has_limit, err)) !=
            KITH_OK)
        return st;
    if (has_period && strcmp(period, "all") != 0 && strcmp(period, "month") != 0)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "period",
                            "'period' must be 'all' or 'month'");
    if (has_limit) {
        char *end = NULL;
        long long n = strtoll(lim, &end, 10);
        if (lim[0] == '\0' || *end != '\0' || n < 1 || n > 100)
            return kith_err_set(err, KITH_E_INVALID_PARAM, "limit",
                                "'limit' must be an integer from 1 to 100");
        limit = n;
    }
    if ((st = kith_eng_prog_resolve(tx, has_program ? program : NULL, &p, err)) != KITH_OK)
        return st;
    kith_strlcpy(call->cors_program, p.id, sizeof(call->cors_program)); /* section 20 */
    bool month = has_period && strcmp(period, "month") == 0;
    int64_t since = month ? month_start(call->now_ms) : INT64_MIN / 2;
    json_t *args = json_pack("[sII]", p.id, (json_int_t)since, (json_int_t)limit);
    st = kith_store_query(tx, KITH_Q_LEADERBOARD, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the leaderboard");
    json_t *data = json_array();
    size_t i;
    json_t *r;
    int64_t rank = 0, prev = -1;
    json_array_foreach(rows, i, r)
    {
        int64_t q = kith_eng_row_int(r, "qualified");
        if (q != prev)
            rank = (int64_t)i + 1; /* equal counts share a rank: 1, 2, 2, 4 */
        prev = q;
        json_array_append_new(data,
                              json_pack("{s:I,s:s,s:o,s:I}", "rank", (json_int_t)rank,
                                        "participant", kith_eng_row_str(r, "id"), "display_name",
                                        kith_eng_row_str(r, "first_name")
                                            ? json_string(kith_eng_row_str(r, "first_name"))
                                            : json_null(),
                                        "qualified", (json_int_t)q));
    }
    json_decref(rows);
    *out = json_pack("{s:o,s:s,s:s}", "data", data, "program", p.id, "period",
                     month ? "month" : "all");
    return KITH_OK;
}
