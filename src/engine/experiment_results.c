/*
 * experiment_results.c: an experiment as GET /v1/experiments/{id} shows it (CONTRACT section
 * 23): its settings, and per variant the referrers, sharers, signups, qualified referrals and
 * reward cost of the referrals made under it while it ran, the chosen metric's rate with its 95%
 * interval, the probability that the variant is best, and the guardrails it breaches. Counting
 * is three grouped queries over the experiment's own rows; the statistics are src/stats.
 *
 * The metric as successes k over trials n: qualification_rate is qualified of signups (a
 * proportion: Wilson's interval, Beta-Binomial posterior); qualified_per_referrer and
 * signups_per_referrer are qualified referrals (signups) per referrer, proportions too while
 * no variant has more than one per referrer, and rates above that, where no binomial fits:
 * then every variant of the experiment is compared as a Poisson rate (the score interval of
 * the same family as Wilson's, Gamma-Poisson posterior), and the answer says which model it
 * used. Uniform priors throughout; the probabilities are deterministic (numerical integration).
 */
#include <string.h>

#include "engine/health.h"
#include "kith/stats.h"

struct variant_counts {
    const char *id;
    int64_t weight;
    int64_t referrers, sharers, signups, qualified, reviewed;
    json_t *cost; /* currency -> minor units */
};

static struct variant_counts *find(struct variant_counts *v, size_t n, const char *id)
{
    for (size_t i = 0; id && i < n; i++) {
        if (strcmp(v[i].id, id) == 0)
            return &v[i];
    }
    return NULL;
}

static enum kith_status count(struct kith_tx *tx, const char *id, struct variant_counts *v,
                              size_t n)
{
    json_t *rows = NULL, *args = json_pack("[s]", id);
    size_t i;
    json_t *r;
    enum kith_status st = kith_store_query(tx, KITH_Q_EXP_MEMBER_COUNTS, args, &rows);
    json_array_foreach(rows, i, r)
    {
        struct variant_counts *c = find(v, n, kith_eng_row_str(r, "variant"));
        if (c) {
            c->referrers = kith_eng_row_int(r, "referrers");
            c->sharers = kith_eng_row_int(r, "sharers");
        }
    }
    json_decref(rows);
    rows = NULL;
    if (st == KITH_OK)
        st = kith_store_query(tx, KITH_Q_EXP_REFERRAL_COUNTS, args, &rows);
    json_array_foreach(rows, i, r)
    {
        struct variant_counts *c = find(v, n, kith_eng_row_str(r, "variant"));
        if (c) {
            c->signups = kith_eng_row_int(r, "signups");
            c->qualified = kith_eng_row_int(r, "qualified");
            c->reviewed = kith_eng_row_int(r, "reviewed");
        }
    }
    json_decref(rows);
    rows = NULL;
    if (st == KITH_OK)
        st = kith_store_query(tx, KITH_Q_EXP_COSTS, args, &rows);
    json_array_foreach(rows, i, r)
    {
        struct variant_counts *c = find(v, n, kith_eng_row_str(r, "variant"));
        if (c)
            json_object_set_new(c->cost, kith_eng_row_str(r, "currency"),
                                json_integer(kith_eng_row_int(r, "total")));
    }
    json_decref(rows);
    json_decref(args);
    return st;
}

/* The metric's successes and trials for a variant. */
static void metric_kn(const char *metric, const struct variant_counts *c, int64_t *k, int64_t *n)
{
    if (strcmp(metric, "qualification_rate") == 0) {
        *k = c->qualified;
        *n = c->signups;
    } else if (strcmp(metric, "signups_per_referrer") == 0) {
        *k = c->signups;
        *n = c->referrers;
    } else {
        *k = c->qualified;
        *n = c->referrers;
    }
}

static json_t *num_or_null(bool has, double v)
{
    return has ? json_real(v) : json_null();
}

static void breaches(json_t *guards, const struct variant_counts *c, json_t *out)
{
    json_t *cost = json_object_get(guards, "max_cost_per_qualified");
    const char *cur;
    json_t *lim;
    json_object_foreach(cost, cur, lim)
    {
        json_t *spent = json_object_get(c->cost, cur);
        if (c->qualified == 0 || spent == NULL)
            continue;
        double per = (double)json_integer_value(spent) / (double)c->qualified;
        if (per > (double)json_integer_value(lim))
            json_array_append_new(out,
                                  json_pack("{s:s,s:s,s:s,s:f,s:I}", "variant", c->id, "guardrail",
                                            "max_cost_per_qualified", "currency", cur, "value", per,
                                            "limit", (json_int_t)json_integer_value(lim)));
    }
    json_t *rr = json_object_get(guards, "max_review_rate");
    if (json_is_number(rr) && c->signups > 0) {
        double rate = (double)c->reviewed / (double)c->signups;
        if (rate > json_number_value(rr))
            json_array_append_new(out, json_pack("{s:s,s:s,s:f,s:f}", "variant", c->id, "guardrail",
                                                 "max_review_rate", "value", rate, "limit",
                                                 json_number_value(rr)));
    }
}

enum kith_status kith_eng_exp_json(struct kith_tx *tx, json_t *row, json_t **out)
{
    json_t *cfg = json_loads(kith_eng_row_str(row, "config"), 0, NULL);
    if (cfg == NULL)
        return KITH_E_INTERNAL;
    struct prog p;
    enum kith_status st = kith_eng_prog_load(tx, kith_eng_row_str(row, "program"), &p, NULL);
    if (st != KITH_OK) {
        json_decref(cfg);
        return st;
    }
    const char *metric = json_string_value(json_object_get(cfg, "metric"));
    json_t *vcfg = json_object_get(cfg, "variants");
    struct variant_counts v[KITH_EXP_VARIANTS_MAX];
    size_t n = 0, i;
    json_t *x;
    memset(v, 0, sizeof(v));
    json_array_foreach(vcfg, i, x)
    {
        if (n == KITH_EXP_VARIANTS_MAX)
            break;
        v[n].id = json_string_value(json_object_get(x, "id"));
        v[n].weight = json_integer_value(json_object_get(x, "weight"));
        v[n].cost = json_object();
        n++;
    }
    if ((st = count(tx, kith_eng_row_str(row, "id"), v, n)) != KITH_OK)
        goto out;
    int64_t k[KITH_EXP_VARIANTS_MAX], trials[KITH_EXP_VARIANTS_MAX];
    bool proportion = true;
    for (i = 0; i < n; i++) {
        metric_kn(metric, &v[i], &k[i], &trials[i]);
        proportion = proportion && k[i] <= trials[i];
    }
    double best[KITH_EXP_VARIANTS_MAX];
    bool has_best = kith_stats_prob_best(
        proportion ? KITH_STATS_BETA_BINOMIAL : KITH_STATS_GAMMA_POISSON, k, trials, n, best);
    json_t *list = json_array(), *breached = json_array();
    json_t *guards = json_object_get(cfg, "guardrails");
    for (i = 0; i < n; i++) {
        struct kith_stats_interval iv;
        bool has = proportion ? kith_stats_wilson(k[i], trials[i], KITH_STATS_Z95, &iv)
                              : kith_stats_poisson_score(k[i], trials[i], KITH_STATS_Z95, &iv);
        json_t *cost = json_deep_copy(v[i].cost), *per = json_object();
        if (json_object_size(cost) == 0)
            json_object_set_new(cost, p.currency, json_integer(0));
        const char *cur;
        json_t *amt;
        json_object_foreach(cost, cur, amt)
        {
            json_object_set_new(
                per, cur,
                v[i].qualified ? json_real((double)json_integer_value(amt) / (double)v[i].qualified)
                               : json_null());
        }
        json_t *rules = json_object_get(json_array_get(vcfg, i), "rewards");
        json_array_append_new(
            list,
            json_pack("{s:s,s:I,s:O,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}", "id", v[i].id, "weight",
                      (json_int_t)v[i].weight, "rewards", rules ? rules : json_null(), "referrers",
                      (json_int_t)v[i].referrers, "sharers", (json_int_t)v[i].sharers, "signups",
                      (json_int_t)v[i].signups, "qualified", (json_int_t)v[i].qualified,
                      "rewards_cost", cost, "cost_per_qualified", per, "review_rate",
                      v[i].signups ? json_real((double)v[i].reviewed / (double)v[i].signups)
                                   : json_null(),
                      "rate",
                      json_pack("{s:o,s:o,s:o}", "value", num_or_null(has, iv.value), "low",
                                num_or_null(has, iv.low), "high", num_or_null(has, iv.high)),
                      "probability_best", num_or_null(has_best, best[i])));
        breaches(guards, &v[i], breached);
    }
    json_t *md = json_object_get(cfg, "max_days");
    bool has_start = !kith_eng_row_is_null(row, "started_at");
    json_t *ends = has_start && json_is_integer(md)
                       ? kith_eng_time_json(kith_eng_row_int(row, "started_at") +
                                            json_integer_value(md) * KITH_MS_PER_DAY)
                       : json_null();
    *out = json_object();
    json_object_set_new(*out, "id", json_string(kith_eng_row_str(row, "id")));
    json_object_set_new(*out, "program", json_string(kith_eng_row_str(row, "program")));
    json_object_set_new(*out, "name", json_string(kith_eng_row_str(row, "name")));
    json_object_set_new(*out, "status", json_string(kith_eng_row_str(row, "status")));
    json_object_set_new(*out, "metric", json_string(metric));
    json_object_set_new(*out, "guardrails", json_incref(guards));
    json_object_set_new(*out, "max_days", json_incref(md ? md : json_null()));
    json_object_set_new(*out, "variants", list);
    json_object_set_new(*out, "guardrails_breached", breached);
    json_object_set_new(*out, "statistics",
                        json_pack("{s:s,s:s,s:f,s:s}", "model",
                                  proportion ? "beta_binomial" : "gamma_poisson", "interval",
                                  proportion ? "wilson" : "poisson_score", "confidence", 0.95,
                                  "prior", "uniform"));
    json_object_set_new(*out, "promoted_variant", kith_eng_str_or_null(row, "promoted_variant"));
    json_object_set_new(*out, "created_at", kith_eng_time_or_null(row, "created_at"));
    json_object_set_new(*out, "started_at", kith_eng_time_or_null(row, "started_at"));
    json_object_set_new(*out, "stopped_at", kith_eng_time_or_null(row, "stopped_at"));
    json_object_set_new(*out, "ends_at", ends);
out:
    for (i = 0; i < n; i++)
        json_decref(v[i].cost);
    json_decref(cfg);
    return st;
}
