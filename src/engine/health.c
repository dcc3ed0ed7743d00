/*
 * health.c: GET /v1/metrics/health (CONTRACT section 22): whether a program's relationships are
 * healthy, not how big it looks. Every figure over [from, to) comes from the rollups kept by
 * health_rollups.c: whole ISO weeks inside the window from the weekly rows, the partial weeks
 * at its edges from the per-person rows through their indexes, so the cost grows with the
 * number of weeks, never with the number of people or clicks. Medians are exact: the
 * histograms say which bucket holds the middle, and only that bucket's values are read.
 * Rates, medians and the Gini are null when they have nothing to count. Not here: the
 * statistics themselves (src/stats) and the forecast (forecast.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/health.h"
#include "kith/clock.h"
#include "kith/stats.h"

#define OPEN_FROM (INT64_MIN / 4)
#define OPEN_TO (INT64_MAX / 4)
#define SERIES_WEEKS_MAX 5300 /* about a hundred years */

/* The window and how it splits into whole weeks [wlo, whi) and up to two edge ranges. */
struct span {
    int64_t from, to;
    bool open_from, open_to;
    int64_t wlo, whi;
    int64_t edge[2][2];
    size_t nedges;
};

static void split(struct span *s)
{
    s->nedges = 0;
    s->wlo = s->open_from ? OPEN_FROM / KITH_STATS_MS_PER_WEEK : kith_stats_week_of(s->from);
    if (!s->open_from && kith_stats_week_start(s->wlo) < s->from)
        s->wlo++;
    s->whi = s->open_to ? OPEN_TO / KITH_STATS_MS_PER_WEEK : kith_stats_week_of(s->to);
    if (s->wlo >= s->whi) {
        /* No whole week inside: the window is all edge. */
        s->wlo = s->whi = 0;
        s->edge[0][0] = s->from;
        s->edge[0][1] = s->to;
        s->nedges = s->from < s->to;
        return;
    }
    if (!s->open_from && s->from < kith_stats_week_start(s->wlo)) {
        s->edge[s->nedges][0] = s->from;
        s->edge[s->nedges][1] = kith_stats_week_start(s->wlo);
        s->nedges++;
    }
    if (!s->open_to && kith_stats_week_start(s->whi) < s->to) {
        s->edge[s->nedges][0] = kith_stats_week_start(s->whi);
        s->edge[s->nedges][1] = s->to;
        s->nedges++;
    }
}

static enum kith_status parse_window(struct kith_call *call, struct span *s, struct kith_err *err)
{
    static const char *const names[] = {"from", "to"};
    int64_t *outs[] = {&s->from, &s->to};
    bool *open[] = {&s->open_from, &s->open_to};
    s->from = OPEN_FROM;
    s->to = OPEN_TO;
    for (int i = 0; i < 2; i++) {
        char buf[48];
        bool present;
        enum kith_status st =
            kith_eng_q_string(call->query, names[i], buf, sizeof(buf), &present, err);
        if (st != KITH_OK)
            return st;
        *open[i] = !present;
        if (present && !kith_time_parse(buf, outs[i]))
            return kith_err_set(err, KITH_E_INVALID_PARAM, names[i],
                                "'%s' must be an RFC 3339 time", names[i]);
    }
    if (s->from > s->to)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "from", "'from' must not be after 'to'");
    split(s);
    return KITH_OK;
}

static enum kith_status rows_of(struct kith_tx *tx, enum kith_query q, json_t *args, json_t **out)
{
    enum kith_status st = kith_store_query(tx, q, args, out);
    json_decref(args);
    return st;
}

static json_t *ratio(int64_t num, int64_t den)
{
    return den == 0 ? json_null() : json_real((double)num / (double)den);
}

/* ---- sums over the window ---- */

struct side_sums {
    int64_t customers, purchasers, refunded, revenue;
};

struct sums {
    int64_t activated, signups, reviewed, rejected, qualified, cost;
    struct side_sums side[2]; /* [0] organic, [1] referred */
};

static void add_week_row(struct sums *s, json_t *r)
{
    s->activated += kith_eng_row_int(r, "activated");
    s->signups += kith_eng_row_int(r, "signups");
    s->reviewed += kith_eng_row_int(r, "reviewed");
    s->rejected += kith_eng_row_int(r, "rejected");
    s->qualified += kith_eng_row_int(r, "qualified");
    static const char *const pre[2] = {"o_", "r_"};
    for (int k = 0; k < 2; k++) {
        char col[32];
        snprintf(col, sizeof(col), "%scustomers", pre[k]);
        s->side[k].customers += kith_eng_row_int(r, col);
        snprintf(col, sizeof(col), "%spurchasers", pre[k]);
        s->side[k].purchasers += kith_eng_row_int(r, col);
        snprintf(col, sizeof(col), "%srefunded", pre[k]);
        s->side[k].refunded += kith_eng_row_int(r, col);
        snprintf(col, sizeof(col), "%srevenue", pre[k]);
        s->side[k].revenue += kith_eng_row_int(r, col);
    }
}

static enum kith_status edge_sums(struct kith_tx *tx, const struct prog *p, int64_t a, int64_t b,
                                  struct sums *s)
{
    json_t *rows = NULL;
    json_int_t ja = (json_int_t)a, jb = (json_int_t)b;
    enum kith_status st =
        rows_of(tx, KITH_Q_HEALTH_EDGE_JOINED, json_pack("[sII]", p->id, ja, jb), &rows);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        int k = kith_eng_row_int(r, "side") ? 1 : 0;
        s->side[k].customers += kith_eng_row_int(r, "customers");
        s->side[k].purchasers += kith_eng_row_int(r, "purchasers");
        s->side[k].refunded += kith_eng_row_int(r, "refunded");
        s->side[k].revenue += kith_eng_row_int(r, "revenue");
        s->activated += kith_eng_row_int(r, "activated");
    }
    json_decref(rows);
    rows = NULL;
    if (st == KITH_OK && (st = rows_of(tx, KITH_Q_HEALTH_EDGE_REFERRALS,
                                       json_pack("[sII]", p->id, ja, jb), &rows)) == KITH_OK) {
        r = json_array_get(rows, 0);
        s->signups += kith_eng_row_int(r, "signups");
        s->reviewed += kith_eng_row_int(r, "reviewed");
        s->rejected += kith_eng_row_int(r, "rejected");
    }
    json_decref(rows);
    rows = NULL;
    if (st == KITH_OK && (st = rows_of(tx, KITH_Q_HEALTH_EDGE_QUALIFIED,
                                       json_pack("[sII]", p->id, ja, jb), &rows)) == KITH_OK)
        s->qualified += kith_eng_row_int(json_array_get(rows, 0), "n");
    json_decref(rows);
    rows = NULL;
    if (st == KITH_OK && (st = rows_of(tx, KITH_Q_METRICS_COST, json_pack("[sII]", p->id, ja, jb),
                                       &rows)) == KITH_OK) {
        json_array_foreach(rows, i, r)
        {
            if (strcmp(kith_eng_row_str(r, "currency"), p->currency) == 0)
                s->cost += kith_eng_row_int(r, "total");
        }
    }
    json_decref(rows);
    return st;
}

static enum kith_status window_sums(struct kith_tx *tx, const struct prog *p, const struct span *w,
                                    struct sums *s)
{
    json_t *rows = NULL;
    memset(s, 0, sizeof(*s));
    enum kith_status st = KITH_OK;
    if (w->wlo < w->whi) {
        json_int_t a = (json_int_t)w->wlo, b = (json_int_t)w->whi;
        if ((st = rows_of(tx, KITH_Q_HEALTH_WEEKS_RANGE, json_pack("[sII]", p->id, a, b), &rows)) !=
            KITH_OK)
            return st;
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) add_week_row(s, r);
        json_decref(rows);
        rows = NULL;
        if ((st = rows_of(tx, KITH_Q_HEALTH_COSTS_RANGE, json_pack("[sII]", p->id, a, b), &rows)) !=
            KITH_OK)
            return st;
        json_array_foreach(rows, i, r)
        {
            if (strcmp(kith_eng_row_str(r, "currency"), p->currency) == 0)
                s->cost += kith_eng_row_int(r, "amount");
        }
        json_decref(rows);
    }
    for (size_t e = 0; st == KITH_OK && e < w->nedges; e++)
        st = edge_sums(tx, p, w->edge[e][0], w->edge[e][1], s);
    return st;
}

/* ---- exact medians from the histograms ---- */

struct cell {
    int64_t bucket, n;
};

static int cmp_cell(const void *a, const void *b)
{
    const struct cell *x = a, *y = b;
    return (x->bucket > y->bucket) - (x->bucket < y->bucket);
}

static void merge_cells(json_t *rows, struct cell **cells, size_t *n, size_t *cap)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            *cells = realloc(*cells, *cap * sizeof(**cells));
            if (*cells == NULL)
                abort();
        }
        (*cells)[(*n)++] = (struct cell){kith_eng_row_int(r, "bucket"), kith_eng_row_int(r, "n")};
    }
}

/* The values of ranks r .. r + n - 1 (0-based, n 1 or 2) in the window, given the bucket that
 * holds them all and the count of values in buckets below it. */
static enum kith_status values_at(struct kith_tx *tx, const struct prog *p, enum kith_query values,
                                  const struct span *w, int64_t bucket, int64_t below, int64_t r,
                                  int n, double *out)
{
    json_t *rows = NULL;
    int64_t k = r - below < 0 ? 0 : r - below;
    json_t *args = json_pack("[sIIIIi]", p->id, (json_int_t)bucket, (json_int_t)w->from,
                             (json_int_t)w->to, (json_int_t)k, n);
    enum kith_status st = kith_store_query(tx, values, args, &rows);
    json_decref(args);
    if (st == KITH_OK && json_array_size(rows) < (size_t)n)
        st = KITH_E_INTERNAL; /* the histogram and the people disagree: a bug */
    for (int i = 0; st == KITH_OK && i < n; i++)
        out[i] = (double)kith_eng_row_int(json_array_get(rows, (size_t)i), "d");
    json_decref(rows);
    return st;
}

/* The bucket holding rank r, and how many values lie in buckets below it. */
static bool bucket_of(const struct cell *cells, size_t n, int64_t r, int64_t *bucket,
                      int64_t *below, int64_t *in_bucket)
{
    int64_t under = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int64_t here = 0;
        while (j < n && cells[j].bucket == cells[i].bucket)
            here += cells[j++].n;
        if (r < under + here) {
            *bucket = cells[i].bucket;
            *below = under;
            *in_bucket = here;
            return true;
        }
        under += here;
        i = j;
    }
    return false;
}

/* The median in days of kind ("share" or "cycle") over the window; *has false with nothing. */
static enum kith_status median_days(struct kith_tx *tx, const struct prog *p, const struct span *w,
                                    const char *kind, double *out, bool *has)
{
    bool share = strcmp(kind, "share") == 0;
    enum kith_query edges =
        share ? KITH_Q_HEALTH_EDGE_SHARE_BUCKETS : KITH_Q_HEALTH_EDGE_CYCLE_BUCKETS;
    enum kith_query values = share ? KITH_Q_HEALTH_SHARE_VALUES : KITH_Q_HEALTH_CYCLE_VALUES;
    struct cell *cells = NULL;
    size_t n = 0, cap = 0;
    json_t *rows = NULL;
    enum kith_status st = KITH_OK;
    *has = false;
    if (w->wlo < w->whi) {
        if ((st = rows_of(tx, KITH_Q_HEALTH_HIST_RANGE,
                          json_pack("[ssII]", p->id, kind, (json_int_t)w->wlo, (json_int_t)w->whi),
                          &rows)) != KITH_OK)
            goto out;
        merge_cells(rows, &cells, &n, &cap);
        json_decref(rows);
        rows = NULL;
    }
    for (size_t e = 0; e < w->nedges; e++) {
        if ((st = rows_of(
                 tx, edges,
                 json_pack("[sII]", p->id, (json_int_t)w->edge[e][0], (json_int_t)w->edge[e][1]),
                 &rows)) != KITH_OK)
            goto out;
        merge_cells(rows, &cells, &n, &cap);
        json_decref(rows);
        rows = NULL;
    }
    /* Cells of one bucket from several sources, summed in order. */
    if (n > 1) /* cells is NULL when no source had any */
        qsort(cells, n, sizeof(*cells), cmp_cell);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += cells[i].n;
    if (total <= 0)
        goto out;
    /* The middle rank, or the two middle ones: read together when one bucket holds both. */
    int64_t lo = (total - 1) / 2, hi = total / 2, bucket, below, here;
    double v[2] = {0, 0};
    if (!bucket_of(cells, n, lo, &bucket, &below, &here)) {
        st = KITH_E_INTERNAL;
        goto out;
    }
    if (hi == lo || hi < below + here) {
        if ((st = values_at(tx, p, values, w, bucket, below, lo, hi == lo ? 1 : 2, v)) != KITH_OK)
            goto out;
        if (hi == lo)
            v[1] = v[0];
    } else {
        if ((st = values_at(tx, p, values, w, bucket, below, lo, 1, &v[0])) != KITH_OK ||
            !bucket_of(cells, n, hi, &bucket, &below, &here) ||
            (st = values_at(tx, p, values, w, bucket, below, hi, 1, &v[1])) != KITH_OK) {
            if (st == KITH_OK)
                st = KITH_E_INTERNAL;
            goto out;
        }
    }
    *out = (v[0] + v[1]) / 2.0 / (double)KITH_MS_PER_DAY;
    *has = true;
out:
    json_decref(rows);
    free(cells);
    return st;
}

/* ---- concentration ---- */

static enum kith_status concentration(struct kith_tx *tx, const struct prog *p,
                                      const struct span *w, json_t **out)
{
    json_t *rows = NULL;
    bool all_time = w->open_from && w->open_to;
    enum kith_status st =
        all_time
            ? rows_of(tx, KITH_Q_HEALTH_QUAL_ALL, json_pack("[s]", p->id), &rows)
            : rows_of(tx, KITH_Q_METRICS_QUALIFIED,
                      json_pack("[sII]", p->id, (json_int_t)w->from, (json_int_t)w->to), &rows);
    if (st != KITH_OK)
        return st;
    size_t n = json_array_size(rows), i;
    struct kith_stats_bin *bins = calloc(n ? n : 1, sizeof(*bins));
    if (bins == NULL)
        abort();
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        bins[i] = all_time ? (struct kith_stats_bin){kith_eng_row_int(r, "k"),
                                                     kith_eng_row_int(r, "referrers")}
                           : (struct kith_stats_bin){kith_eng_row_int(r, "n"), 1};
    }
    json_decref(rows);
    double top = 0, gini = 0;
    bool has_top = kith_stats_top_share_bins(bins, n, 0.05, &top);
    bool has_gini = kith_stats_gini_bins(bins, n, &gini);
    free(bins);
    *out = json_pack("{s:o,s:o}", "top_5pct_share", has_top ? json_real(top) : json_null(), "gini",
                     has_gini ? json_real(gini) : json_null());
    return KITH_OK;
}

/* ---- the weekly series ---- */

static json_t *cost_map(json_t *costs, int64_t week, const struct prog *p)
{
    json_t *m = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(costs, i, r)
    {
        if (kith_eng_row_int(r, "week") == week)
            json_object_set_new(m, kith_eng_row_str(r, "currency"),
                                json_integer(kith_eng_row_int(r, "amount")));
    }
    if (json_object_size(m) == 0) /* as section 14: the program's currency at 0 */
        json_object_set_new(m, p->currency, json_integer(0));
    return m;
}

static enum kith_status series(struct kith_tx *tx, const struct prog *p, const struct span *w,
                               int64_t now_ms, json_t **out, struct kith_err *err)
{
    json_t *span = NULL, *rows = NULL, *costs = NULL, *before = NULL;
    enum kith_status st = rows_of(tx, KITH_Q_HEALTH_WEEKS_SPAN, json_pack("[s]", p->id), &span);
    if (st != KITH_OK)
        return st;
    json_t *sr = json_array_get(span, 0);
    bool data = sr && !kith_eng_row_is_null(sr, "lo");
    int64_t now_w = kith_stats_week_of(now_ms);
    int64_t lo =
        w->open_from ? (data ? kith_eng_row_int(sr, "lo") : now_w) : kith_stats_week_of(w->from);
    int64_t hi =
        w->open_to
            ? (data && kith_eng_row_int(sr, "hi") > now_w ? kith_eng_row_int(sr, "hi") : now_w)
            : kith_stats_week_of(w->to - 1);
    json_decref(span);
    *out = json_array();
    if (w->from >= w->to || hi < lo)
        return KITH_OK;
    if (hi - lo + 1 > SERIES_WEEKS_MAX) {
        json_decref(*out);
        *out = NULL;
        return kith_err_set(err, KITH_E_INVALID_PARAM, "from",
                            "the period spans more than %d weeks", SERIES_WEEKS_MAX);
    }
    json_int_t a = (json_int_t)lo, b = (json_int_t)(hi + 1);
    if ((st = rows_of(tx, KITH_Q_HEALTH_WEEKS_RANGE, json_pack("[sII]", p->id, a, b), &rows)) !=
            KITH_OK ||
        (st = rows_of(tx, KITH_Q_HEALTH_COSTS_RANGE, json_pack("[sII]", p->id, a, b), &costs)) !=
            KITH_OK ||
        (st = rows_of(tx, KITH_Q_HEALTH_WEEKS_ACTIVE_BEFORE, json_pack("[sI]", p->id, a),
                      &before)) != KITH_OK)
        goto out;
    /* Participants active at each week's end: those who joined before it, still active. */
    int64_t active = kith_eng_row_int(json_array_get(before, 0), "n");
    size_t k = 0, nrows = json_array_size(rows);
    for (int64_t wk = lo; wk <= hi; wk++) {
        json_t *r = NULL;
        while (k < nrows && kith_eng_row_int(json_array_get(rows, k), "week") < wk)
            k++;
        if (k < nrows && kith_eng_row_int(json_array_get(rows, k), "week") == wk)
            r = json_array_get(rows, k);
        active += r ? kith_eng_row_int(r, "active") : 0;
        char label[16];
        kith_stats_week_label(wk, label);
        json_array_append_new(
            *out, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "week", label, "participants",
                            (json_int_t)active, "sharers",
                            (json_int_t)(r ? kith_eng_row_int(r, "sharers") : 0), "clicks",
                            (json_int_t)(r ? kith_eng_row_int(r, "clicks") : 0), "signups",
                            (json_int_t)(r ? kith_eng_row_int(r, "signups") : 0), "qualified",
                            (json_int_t)(r ? kith_eng_row_int(r, "qualified") : 0), "rewards_cost",
                            cost_map(costs, wk, p)));
    }
out:
    json_decref(rows);
    json_decref(costs);
    json_decref(before);
    return st;
}

/* ---- fatigue (asks and preferences, section 17) ---- */

static enum kith_status fatigue(struct kith_tx *tx, const struct prog *p, const struct span *w,
                                int64_t now_ms, json_t **out)
{
    json_t *asks = NULL, *opt = NULL;
    json_int_t a = (json_int_t)w->from, b = (json_int_t)w->to;
    enum kith_status st = rows_of(tx, KITH_Q_HEALTH_FATIGUE_ASKS,
                                  json_pack("[sIII]", p->id, a, b, (json_int_t)now_ms), &asks);
    if (st == KITH_OK)
        st = rows_of(tx, KITH_Q_HEALTH_FATIGUE_OPT_OUTS, json_pack("[sII]", p->id, a, b), &opt);
    if (st == KITH_OK) {
        json_t *r = json_array_get(asks, 0);
        int64_t answered = kith_eng_row_int(r, "answered"),
                ignored = kith_eng_row_int(r, "ignored");
        *out = json_pack("{s:I,s:o,s:I}", "asks", (json_int_t)kith_eng_row_int(r, "asks"),
                         "answered_rate", ratio(answered, answered + ignored), "opt_outs",
                         (json_int_t)kith_eng_row_int(json_array_get(opt, 0), "n"));
    }
    json_decref(asks);
    json_decref(opt);
    return st;
}

/* ---- the answer ---- */

/* Minor units per customer, rounded half up (towards +infinity at exactly one half). */
static json_t *per_customer(int64_t revenue, int64_t customers)
{
    if (customers <= 0)
        return json_null();
    /* Exact in integers: floor((2 r + c) / (2 c)), flooring for negative revenue too. */
    int64_t num = 2 * revenue + customers, den = 2 * customers;
    int64_t f = num / den;
    if (num % den != 0 && num < 0)
        f--;
    return json_integer(f);
}

static json_t *side_json(const struct side_sums *s)
{
    return json_pack("{s:I,s:I,s:o,s:o,s:o}", "customers", (json_int_t)s->customers, "purchasers",
                     (json_int_t)s->purchasers, "purchase_rate", ratio(s->purchasers, s->customers),
                     "refund_rate", ratio(s->refunded, s->purchasers), "revenue_per_customer",
                     per_customer(s->revenue, s->customers));
}

enum kith_status kith_op_metrics_health(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                        struct kith_err *err)
{
    static const char *const allowed[] = {"program", "from", "to", NULL};
    char program[64];
    bool has_program;
    struct span w;
    struct prog p;
    struct sums s;
    json_t *conc = NULL, *fat = NULL, *ser = NULL;
    double ttfs = 0, cycle = 0;
    bool has_ttfs, has_cycle;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK ||
        (st = parse_window(call, &w, err)) != KITH_OK ||
        (st = kith_eng_prog_resolve(tx, has_program ? program : NULL, &p, err)) != KITH_OK)
        return st;
    if ((st = window_sums(tx, &p, &w, &s)) != KITH_OK ||
        (st = median_days(tx, &p, &w, "share", &ttfs, &has_ttfs)) != KITH_OK ||
        (st = median_days(tx, &p, &w, "cycle", &cycle, &has_cycle)) != KITH_OK ||
        (st = concentration(tx, &p, &w, &conc)) != KITH_OK ||
        (st = fatigue(tx, &p, &w, call->now_ms, &fat)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not compute program health");
        goto fail;
    }
    if ((st = series(tx, &p, &w, call->now_ms, &ser, err)) != KITH_OK) {
        if (st != KITH_E_INVALID_PARAM)
            st = kith_err_set(err, st, NULL, "the database could not compute program health");
        goto fail;
    }
    int64_t joined = s.side[0].customers + s.side[1].customers;
    json_t *cost_value = json_null();
    if (s.qualified > 0 && p.average_value > 0)
        cost_value = json_real((double)s.cost / (double)s.qualified / (double)p.average_value);
    *out = json_object();
    json_object_set_new(*out, "program", json_string(p.id));
    json_object_set_new(*out, "from", w.open_from ? json_null() : kith_eng_time_json(w.from));
    json_object_set_new(*out, "to", w.open_to ? json_null() : kith_eng_time_json(w.to));
    json_object_set_new(*out, "activation", ratio(s.activated, joined));
    json_object_set_new(*out, "time_to_first_share_days", has_ttfs ? json_real(ttfs) : json_null());
    json_object_set_new(*out, "cycle_time_days", has_cycle ? json_real(cycle) : json_null());
    json_object_set_new(*out, "referred_vs_organic",
                        json_pack("{s:o,s:o}", "referred", side_json(&s.side[1]), "organic",
                                  side_json(&s.side[0])));
    json_object_set_new(*out, "concentration", conc);
    json_object_set_new(*out, "fatigue", fat);
    json_object_set_new(*out, "fraud_pressure",
                        json_pack("{s:o,s:o}", "review_rate", ratio(s.reviewed, s.signups),
                                  "reject_rate", ratio(s.rejected, s.signups)));
    json_object_set_new(*out, "reward_cost_to_value", cost_value);
    json_object_set_new(*out, "series", ser);
    return KITH_OK;
fail:
    json_decref(conc);
    json_decref(fat);
    json_decref(ser);
    return st;
}
