/*
 * forecast.c: GET /v1/forecast (CONTRACT section 22): the next months' referred signups,
 * qualified referrals and reward cost, as p10/p50/p90 bands from a seeded bootstrap over the
 * trailing twelve complete weeks of the funnel (kith_stats_forecast). The seed is a hash of the
 * program's id and of those weeks' numbers, so the same data gives the same answer, and the
 * answer spells out what it assumed. With fewer than four complete weeks of history there is
 * nothing honest to say: 409 invalid_state. Not here: the simulation (src/stats).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/health.h"
#include "kith/clock.h"
#include "kith/stats.h"

#define HISTORY_WEEKS 12
#define HISTORY_WEEKS_MIN 4

/* Midnight UTC of the first day of month m months after the month holding ms; label gets
 * "YYYY-MM" (8 bytes, may be NULL). */
static int64_t month_start(int64_t ms, int m, char label[16])
{
    char buf[32];
    kith_time_format(ms, buf);
    int y = (buf[0] - '0') * 1000 + (buf[1] - '0') * 100 + (buf[2] - '0') * 10 + (buf[3] - '0');
    int mo = (buf[5] - '0') * 10 + (buf[6] - '0') - 1 + m;
    y += mo / 12;
    mo %= 12;
    char text[32];
    unsigned yy = (unsigned)y % 10000u, mm = (unsigned)mo % 12u + 1u;
    snprintf(text, sizeof(text), "%04u-%02u-01T00:00:00Z", yy, mm);
    if (label)
        snprintf(label, 16, "%04u-%02u", yy, mm);
    int64_t out = 0;
    kith_time_parse(text, &out);
    return out;
}

static json_t *band_json(const struct kith_stats_band *b)
{
    return json_pack("{s:I,s:I,s:I}", "p10", (json_int_t)b->p10, "p50", (json_int_t)b->p50, "p90",
                     (json_int_t)b->p90);
}

enum kith_status kith_op_forecast(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                  struct kith_err *err)
{
    static const char *const allowed[] = {"program", "months", NULL};
    char program[64], mtext[16];
    bool has_program, has_months;
    int64_t months = 6;
    struct prog p;
    json_t *prow = NULL, *span = NULL, *rows = NULL, *costs = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "months", mtext, sizeof(mtext), &has_months, err)) !=
            KITH_OK)
        return st;
    if (has_months) {
        char *end = NULL;
        long long n = strtoll(mtext, &end, 10);
        if (mtext[0] == '\0' || *end != '\0' || n < 1 || n > KITH_STATS_FORECAST_MONTHS_MAX)
            return kith_err_set(err, KITH_E_INVALID_PARAM, "months",
                                "'months' must be an integer from 1 to %d",
                                KITH_STATS_FORECAST_MONTHS_MAX);
        months = n;
    }
    if ((st = kith_eng_prog_resolve(tx, has_program ? program : NULL, &p, err)) != KITH_OK ||
        (st = kith_eng_load_row(tx, "programs", p.id, "program", &prow, err)) != KITH_OK)
        return st;
    /* History starts when the program does, or with its earliest data (backdated signups). */
    int64_t start = kith_eng_row_int(prow, "created_at");
    json_decref(prow);
    json_t *args = json_pack("[s]", p.id);
    st = kith_store_query(tx, KITH_Q_HEALTH_WEEKS_SPAN, args, &span);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the program's weeks");
    json_t *sr = json_array_get(span, 0);
    if (sr && !kith_eng_row_is_null(sr, "lo") &&
        kith_stats_week_start(kith_eng_row_int(sr, "lo")) < start)
        start = kith_stats_week_start(kith_eng_row_int(sr, "lo"));
    json_decref(span);
    int64_t cur = kith_stats_week_of(call->now_ms);
    int64_t first_full = kith_stats_week_of(start);
    if (kith_stats_week_start(first_full) < start)
        first_full++;
    int64_t have = cur - first_full;
    if (have < HISTORY_WEEKS_MIN)
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                            "a forecast needs at least %d complete weeks of history; this program "
                            "has %lld",
                            HISTORY_WEEKS_MIN, (long long)(have < 0 ? 0 : have));
    int64_t k = have < HISTORY_WEEKS ? have : HISTORY_WEEKS;
    int64_t w0 = cur - k;
    args = json_pack("[sII]", p.id, (json_int_t)w0, (json_int_t)cur);
    st = kith_store_query(tx, KITH_Q_HEALTH_WEEKS_RANGE, args, &rows);
    if (st == KITH_OK)
        st = kith_store_query(tx, KITH_Q_HEALTH_COSTS_RANGE, args, &costs);
    json_decref(args);
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the program's weeks");
        goto out;
    }
    struct kith_stats_week weeks[HISTORY_WEEKS];
    memset(weeks, 0, sizeof(weeks));
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        int64_t at = kith_eng_row_int(r, "week") - w0;
        weeks[at].signups = kith_eng_row_int(r, "signups");
        weeks[at].qualified = kith_eng_row_int(r, "qualified");
    }
    json_array_foreach(costs, i, r)
    {
        if (strcmp(kith_eng_row_str(r, "currency"), p.currency) == 0)
            weeks[kith_eng_row_int(r, "week") - w0].cost_minor += kith_eng_row_int(r, "amount");
    }
    /* The seed: the program and its data, nothing else (not the time of asking). */
    uint64_t seed = kith_stats_fnv1a(KITH_STATS_FNV_OFFSET, p.id, strlen(p.id));
    int64_t tot_s = 0, tot_q = 0, tot_c = 0;
    for (int64_t w = 0; w < k; w++) {
        int64_t cells[4] = {w0 + w, weeks[w].signups, weeks[w].qualified, weeks[w].cost_minor};
        seed = kith_stats_fnv1a(seed, cells, sizeof(cells));
        tot_s += weeks[w].signups;
        tot_q += weeks[w].qualified;
        tot_c += weeks[w].cost_minor;
    }
    int days[KITH_STATS_FORECAST_MONTHS_MAX];
    char labels[KITH_STATS_FORECAST_MONTHS_MAX][16];
    for (int m = 0; m < months; m++) {
        int64_t a = month_start(call->now_ms, m + 1, labels[m]);
        int64_t b = month_start(call->now_ms, m + 2, NULL);
        days[m] = (int)((b - a) / KITH_MS_PER_DAY);
    }
    struct kith_stats_month_forecast f[KITH_STATS_FORECAST_MONTHS_MAX];
    if (!kith_stats_forecast(weeks, (size_t)k, days, (size_t)months, seed, f)) {
        st = kith_err_set(err, KITH_E_INTERNAL, NULL, "the forecast could not be computed");
        goto out;
    }
    json_t *list = json_array();
    for (int m = 0; m < months; m++)
        json_array_append_new(list, json_pack("{s:s,s:o,s:o,s:o}", "month", labels[m],
                                              "referred_signups", band_json(&f[m].signups),
                                              "qualified", band_json(&f[m].qualified),
                                              "reward_cost", band_json(&f[m].cost_minor)));
    char first[16], last[16], seedhex[24];
    kith_stats_week_label(w0, first);
    kith_stats_week_label(cur - 1, last);
    snprintf(seedhex, sizeof(seedhex), "%016llx", (unsigned long long)seed);
    json_t *weekly = json_pack(
        "{s:f,s:o,s:o}", "referred_signups", (double)tot_s / (double)k, "qualification_rate",
        tot_s ? json_real((double)tot_q / (double)tot_s) : json_null(), "cost_per_qualified",
        tot_q ? json_real((double)tot_c / (double)tot_q) : json_null());
    json_t *assumptions = json_pack(
        "{s:I,s:s,s:s,s:o,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s}", "history_weeks", (json_int_t)k,
        "history_from", first, "history_to", last, "weekly_means", weekly, "currency", p.currency,
        "method",
        "bootstrap: every week of a forecast month is drawn with replacement from the history "
        "weeks: its referred signups from one week, its qualification rate (qualified / "
        "signups) from one week with signups, its reward cost per qualified referral from one "
        "week with qualified referrals; a month is its whole weeks plus its remaining days as "
        "a fraction of a week",
        "months_start", "the calendar month after the current one", "simulations",
        KITH_STATS_FORECAST_SIMULATIONS, "quantiles",
        "p10, p50 and p90 of the simulated monthly totals (linear between order statistics), "
        "rounded half up",
        "reward_cost", "monetary rewards issued, in minor units of the program's currency",
        "not_modelled",
        "growth, seasonality, trends, program changes and experiments: the history weeks are "
        "taken to repeat",
        "seed", seedhex);
    *out = json_pack("{s:s,s:o,s:o}", "program", p.id, "months", list, "assumptions", assumptions);
    st = KITH_OK;
out:
    json_decref(rows);
    json_decref(costs);
    return st;
}
