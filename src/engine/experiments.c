/*
 * experiments.c: reward experiments (CONTRACT section 23): "$20 vs $30 vs $50", tested rather
 * than guessed. An experiment is created as a draft, runs (one at a time per program: a unique
 * index decides), and ends stopped or promoted. While it runs each participant of its program
 * belongs to one variant, picked by a keyed hash of the experiment's and the participant's ids
 * in proportion to the weights, so the same person always lands in the same variant and nobody
 * can pick theirs. A referral made while it runs is filed under its referrer's variant
 * (health_referrals) and its rewards, both sides, follow that variant's rules whenever it
 * qualifies; the friend's own later referrals follow the friend's own variant. Promotion writes
 * the variant's rules into the program. The results and their statistics are rendered by
 * experiment_results.c; the statistics themselves are src/stats.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/health.h"
#include "kith/clock.h"
#include "kith/crypto.h"
#include "kith/text.h"

static const char *const create_fields[] = {"program", "id",         "name",     "variants",
                                            "metric",  "guardrails", "max_days", NULL};
static const char *const variant_fields[] = {"id", "weight", "rewards", NULL};
static const char *const guardrail_fields[] = {"max_cost_per_qualified", "max_review_rate", NULL};
static const char *const metrics[] = {"qualified_per_referrer", "signups_per_referrer",
                                      "qualification_rate", NULL};

/* Experiment and variant ids: [a-z0-9_-]{1,40}. */
static bool id_valid(const char *s)
{
    return kith_valid_word(s, 40, "_-");
}

/* Prefixes err's param with path ("variants[1]."). */
static enum kith_status at_path(enum kith_status st, struct kith_err *err, const char *path)
{
    if (st != KITH_OK && err) {
        char full[160];
        snprintf(full, sizeof(full), "%s.%s", path, err->param);
        kith_strlcpy(err->param, full, sizeof(err->param));
    }
    return st;
}

static enum kith_status parse_variants(json_t *in, json_t **norm, struct kith_err *err)
{
    if (!json_is_array(in) || json_array_size(in) < 2 ||
        json_array_size(in) > KITH_EXP_VARIANTS_MAX)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "variants",
                            "'variants' must be an array of 2 to %d variants",
                            KITH_EXP_VARIANTS_MAX);
    *norm = json_array();
    size_t i;
    json_t *v;
    enum kith_status st = KITH_OK;
    json_array_foreach(in, i, v)
    {
        char path[32];
        snprintf(path, sizeof(path), "variants[%zu]", i);
        const char *id = NULL;
        int64_t weight = 0;
        bool has_weight = false;
        if (!json_is_object(v)) {
            st = kith_err_set(err, KITH_E_INVALID_PARAM, path, "each variant is an object");
            break;
        }
        /* Weights are positive integers: 50, not 50.0, "50" or true. */
        if ((st = kith_eng_in_allowed(v, variant_fields, err)) != KITH_OK ||
            (st = kith_eng_in_string(v, "id", true, 1, 40, &id, err)) != KITH_OK ||
            (st = kith_eng_in_int(v, "weight", 1, 1000000, &weight, &has_weight, err)) != KITH_OK) {
            at_path(st, err, path);
            break;
        }
        if (!has_weight)
            st = kith_err_set(err, KITH_E_INVALID_PARAM, "weight", "every variant has a weight");
        else if (!id_valid(id))
            st = kith_err_set(err, KITH_E_INVALID_PARAM, "id", "'id' must match [a-z0-9_-]{1,40}");
        for (size_t j = 0; st == KITH_OK && j < json_array_size(*norm); j++) {
            if (strcmp(json_string_value(json_object_get(json_array_get(*norm, j), "id")), id) == 0)
                st = kith_err_set(err, KITH_E_INVALID_PARAM, "id", "variant id '%s' is used twice",
                                  id);
        }
        if (st != KITH_OK) {
            at_path(st, err, path);
            break;
        }
        json_t *rules = json_null();
        json_t *rin = json_object_get(v, "rewards");
        if (rin && !json_is_null(rin)) {
            struct kith_reward_rule parsed[KITH_REWARD_RULES_MAX];
            size_t nparsed = 0;
            if ((st = kith_eng_prog_rules(rin, parsed, &nparsed, &rules, err)) != KITH_OK) {
                at_path(st, err, path);
                break;
            }
        }
        json_array_append_new(*norm, json_pack("{s:s,s:I,s:o}", "id", id, "weight",
                                               (json_int_t)weight, "rewards", rules));
    }
    if (st != KITH_OK) {
        json_decref(*norm);
        *norm = NULL;
    }
    return st;
}

static enum kith_status parse_guardrails(json_t *in, json_t **norm, struct kith_err *err)
{
    enum kith_status st;
    json_t *cost = json_null(), *review = json_null();
    if (in && !json_is_null(in)) {
        if (!json_is_object(in))
            return kith_err_set(err, KITH_E_INVALID_PARAM, "guardrails",
                                "'guardrails' must be an object");
        if ((st = kith_eng_in_allowed(in, guardrail_fields, err)) != KITH_OK)
            return at_path(st, err, "guardrails");
        json_t *c = json_object_get(in, "max_cost_per_qualified");
        if (c && !json_is_null(c)) {
            if (!json_is_object(c) || json_object_size(c) == 0 || json_object_size(c) > 16)
                return kith_err_set(err, KITH_E_INVALID_PARAM, "guardrails.max_cost_per_qualified",
                                    "'max_cost_per_qualified' maps currencies to amounts in minor "
                                    "units, e.g. {\"USD\": 3000}");
            const char *cur;
            json_t *v;
            cost = json_object();
            json_object_foreach(c, cur, v)
            {
                if (!kith_valid_currency(cur) || !json_is_integer(v) || json_integer_value(v) < 0) {
                    json_decref(cost);
                    return kith_err_set(
                        err, KITH_E_INVALID_PARAM, "guardrails.max_cost_per_qualified",
                        "'max_cost_per_qualified' maps ISO 4217 codes to non-negative integers");
                }
                json_object_set(cost, cur, v);
            }
        }
        json_t *r = json_object_get(in, "max_review_rate");
        if (r && !json_is_null(r)) {
            if (!json_is_number(r) || json_number_value(r) < 0 || json_number_value(r) > 1) {
                json_decref(cost);
                return kith_err_set(err, KITH_E_INVALID_PARAM, "guardrails.max_review_rate",
                                    "'max_review_rate' must be a number from 0 to 1");
            }
            review = json_real(json_number_value(r));
        }
    }
    *norm = json_pack("{s:o,s:o}", "max_cost_per_qualified", cost, "max_review_rate", review);
    return KITH_OK;
}

enum kith_status kith_op_experiment_create(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                           struct kith_err *err)
{
    json_t *body = call->body, *variants = NULL, *guards = NULL, *row = NULL;
    const char *program = NULL, *id = NULL, *name = NULL, *metric = "qualified_per_referrer";
    int64_t max_days = 0;
    bool has_max = false;
    struct prog p;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(body, create_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "program", false, 1, 40, &program, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "id", true, 1, 40, &id, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "name", true, 1, 200, &name, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "metric", false, 1, 40, &metric, err)) != KITH_OK ||
        (st = kith_eng_in_int(body, "max_days", 1, 3650, &max_days, &has_max, err)) != KITH_OK)
        return st;
    if (!id_valid(id))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "id", "'id' must match [a-z0-9_-]{1,40}");
    if (metric == NULL)
        metric = "qualified_per_referrer";
    bool known = false;
    for (size_t i = 0; metrics[i]; i++)
        known = known || strcmp(metrics[i], metric) == 0;
    if (!known)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "metric",
                            "'metric' must be qualified_per_referrer, signups_per_referrer or "
                            "qualification_rate");
    json_t *vin = json_object_get(body, "variants");
    if (vin == NULL || json_is_null(vin))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "variants", "'variants' is required");
    if ((st = parse_variants(vin, &variants, err)) != KITH_OK)
        return st;
    if ((st = parse_guardrails(json_object_get(body, "guardrails"), &guards, err)) != KITH_OK ||
        (st = kith_eng_prog_resolve(tx, program, &p, err)) != KITH_OK)
        goto out;
    /* The assignment key: random, kept with the experiment, never shown. */
    uint8_t key[32];
    char hex[65];
    kith_crypto_random(key, sizeof(key));
    kith_crypto_bin2hex(hex, sizeof(hex), key, sizeof(key));
    json_t *cfg =
        json_pack("{s:O,s:s,s:O,s:o,s:s}", "variants", variants, "metric", metric, "guardrails",
                  guards, "max_days", has_max ? json_integer(max_days) : json_null(), "key", hex);
    kith_crypto_wipe(hex, sizeof(hex));
    char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(cfg);
    row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "id", id, "program", p.id, "name", name,
                    "status", "draft", "config", text, "created_at", (json_int_t)call->now_ms,
                    "updated_at", (json_int_t)call->now_ms);
    free(text);
    st = kith_store_insert(tx, "experiments", row);
    if (st == KITH_E_CONSTRAINT) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "id", "an experiment with this id exists");
        goto out;
    }
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the experiment");
        goto out;
    }
    json_decref(row);
    row = NULL;
    if ((st = kith_eng_load_row(tx, "experiments", id, "experiment", &row, err)) != KITH_OK ||
        (st = kith_eng_exp_json(tx, row, out)) != KITH_OK)
        goto out;
    st = KITH_CREATED;
out:
    json_decref(variants);
    json_decref(guards);
    json_decref(row);
    return st;
}

static json_t *render_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    json_t *out = NULL;
    (void)ctx;
    return kith_eng_exp_json(tx, row, &out) == KITH_OK ? out : json_null();
}

enum kith_status kith_op_experiment_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                         struct kith_err *err)
{
    static const char *const allowed[] = {"program", "status", "limit", "cursor", NULL};
    char program[64], status[16];
    bool has_program, has_status;
    int64_t limit, after;
    json_t *rows = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "status", status, sizeof(status), &has_status, err)) !=
            KITH_OK ||
        (st = kith_eng_q_page(call->query, &limit, &after, err)) != KITH_OK)
        return st;
    json_t *args =
        json_pack("[IooI]", (json_int_t)after, has_program ? json_string(program) : json_null(),
                  has_status ? json_string(status) : json_null(), (json_int_t)(limit + 1));
    st = kith_store_query(tx, KITH_Q_EXP_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not list experiments");
    *out = kith_eng_list_page(rows, limit, render_row, tx, NULL);
    json_decref(rows);
    return KITH_OK;
}

enum kith_status kith_op_experiment_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                        struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *row = NULL;
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st != KITH_OK || (st = kith_eng_load_row(tx, "experiments", call->params[0], "experiment",
                                                 &row, err)) != KITH_OK)
        return st;
    st = kith_eng_exp_json(tx, row, out);
    json_decref(row);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the experiment");
    return KITH_OK;
}

/* Loads the experiment of the call, locked, and checks it is in one of the states allowed. */
static enum kith_status load_for_move(struct kith_tx *tx, struct kith_call *call,
                                      const char *const *from, const char *verb, json_t **row,
                                      struct kith_err *err)
{
    enum kith_status st =
        kith_eng_load_locked(tx, "experiments", call->params[0], "experiment", row, err);
    if (st != KITH_OK)
        return st;
    const char *status = kith_eng_row_str(*row, "status");
    for (size_t i = 0; from[i]; i++) {
        if (strcmp(status, from[i]) == 0)
            return KITH_OK;
    }
    st =
        kith_err_set(err, KITH_E_INVALID_STATE, NULL, "a %s experiment cannot be %s", status, verb);
    json_decref(*row);
    *row = NULL;
    return st;
}

static enum kith_status answer(struct kith_tx *tx, const char *id, json_t **out,
                               struct kith_err *err)
{
    json_t *row = NULL;
    enum kith_status st = kith_eng_load_row(tx, "experiments", id, "experiment", &row, err);
    if (st == KITH_OK && (st = kith_eng_exp_json(tx, row, out)) != KITH_OK)
        st = kith_err_set(err, st, NULL, "the database could not read the experiment");
    json_decref(row);
    return st;
}

enum kith_status kith_op_experiment_start(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                          struct kith_err *err)
{
    static const char *const allowed[] = {NULL}, *const from[] = {"draft", NULL};
    json_t *row = NULL;
    enum kith_status st = kith_eng_in_allowed(call->body, allowed, err);
    if (st != KITH_OK || (st = load_for_move(tx, call, from, "started", &row, err)) != KITH_OK)
        return st;
    json_t *set = json_pack("{s:s,s:I,s:I}", "status", "running", "started_at",
                            (json_int_t)call->now_ms, "updated_at", (json_int_t)call->now_ms);
    /* Under a savepoint: the unique index refuses a second running experiment. */
    if ((st = kith_tx_savepoint(tx)) == KITH_OK) {
        st = kith_store_update(tx, "experiments", call->params[0], set);
        if (st == KITH_OK)
            st = kith_tx_release(tx);
        else
            kith_tx_rollback(tx);
    }
    json_decref(set);
    json_decref(row);
    if (st == KITH_E_CONSTRAINT)
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                            "another experiment is running in this program; stop it first");
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not start the experiment");
    call->invalidates_links = true;
    kith_eng_exp_forget(NULL);
    return answer(tx, call->params[0], out, err);
}

static enum kith_status stop_row(struct kith_tx *tx, const char *id, int64_t at_ms, int64_t now_ms)
{
    json_t *set = json_pack("{s:s,s:I,s:I}", "status", "stopped", "stopped_at", (json_int_t)at_ms,
                            "updated_at", (json_int_t)now_ms);
    enum kith_status st = kith_store_update(tx, "experiments", id, set);
    json_decref(set);
    kith_eng_exp_forget(NULL);
    return st;
}

enum kith_status kith_op_experiment_stop(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                         struct kith_err *err)
{
    static const char *const allowed[] = {NULL}, *const from[] = {"running", NULL};
    json_t *row = NULL;
    enum kith_status st = kith_eng_in_allowed(call->body, allowed, err);
    if (st != KITH_OK || (st = load_for_move(tx, call, from, "stopped", &row, err)) != KITH_OK)
        return st;
    json_decref(row);
    if ((st = stop_row(tx, call->params[0], call->now_ms, call->now_ms)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not stop the experiment");
    call->invalidates_links = true; /* the cache of running experiments, after the commit */
    return answer(tx, call->params[0], out, err);
}

enum kith_status kith_op_experiment_promote(struct kith_tx *tx, struct kith_call *call,
                                            json_t **out, struct kith_err *err)
{
    static const char *const allowed[] = {"variant", NULL}, *const from[] = {"running", "stopped",
                                                                             NULL};
    const char *variant = NULL;
    json_t *row = NULL, *cfg = NULL, *chosen = NULL, *updated = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "variant", true, 1, 40, &variant, err)) != KITH_OK ||
        (st = load_for_move(tx, call, from, "promoted", &row, err)) != KITH_OK)
        return st;
    cfg = json_loads(kith_eng_row_str(row, "config"), 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cfg, "variants"), i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "id")), variant) == 0)
            chosen = v;
    }
    if (chosen == NULL) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "variant",
                          "this experiment has no variant '%s'", variant);
        goto out;
    }
    /* The variant's rules become the program's, through the program's own update (the same
     * validation, cache and warnings as a PATCH); a variant without rules changes nothing. */
    json_t *rules = json_object_get(chosen, "rewards");
    if (rules && !json_is_null(rules)) {
        struct kith_call pc = *call;
        const char *params[] = {kith_eng_row_str(row, "program"), NULL};
        pc.params = params;
        pc.query = "";
        pc.body = json_pack("{s:O}", "rewards", rules);
        st = kith_op_program_update(tx, &pc, &updated, err);
        json_decref(pc.body);
        json_decref(updated);
        if (st != KITH_OK)
            goto out;
    }
    bool was_running = strcmp(kith_eng_row_str(row, "status"), "running") == 0;
    json_t *set = json_pack("{s:s,s:s,s:I}", "status", "promoted", "promoted_variant", variant,
                            "updated_at", (json_int_t)call->now_ms);
    if (was_running)
        json_object_set_new(set, "stopped_at", json_integer(call->now_ms));
    st = kith_store_update(tx, "experiments", call->params[0], set);
    json_decref(set);
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not promote the variant");
        goto out;
    }
    call->invalidates_links = true;
    kith_eng_exp_forget(NULL);
    st = answer(tx, call->params[0], out, err);
out:
    json_decref(row);
    json_decref(cfg);
    return st;
}

/* ---- what the rest of the engine asks ---- */

static bool exp_from_row(json_t *row, struct kith_eng_exp *e)
{
    memset(e, 0, sizeof(*e));
    json_t *cfg = json_loads(kith_eng_row_str(row, "config"), 0, NULL);
    const char *hex = json_string_value(json_object_get(cfg, "key"));
    bool ok = hex && kith_crypto_hex2bin(e->key, sizeof(e->key), hex);
    kith_strlcpy(e->id, kith_eng_row_str(row, "id"), sizeof(e->id));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cfg, "variants"), i, v)
    {
        if (e->n == KITH_EXP_VARIANTS_MAX)
            break;
        kith_strlcpy(e->v[e->n].id, json_string_value(json_object_get(v, "id")),
                     sizeof(e->v[e->n].id));
        e->v[e->n].weight = json_integer_value(json_object_get(v, "weight"));
        e->n++;
    }
    json_decref(cfg);
    return ok && e->n > 0;
}

#define EXP_CACHE 16
#define EXP_CACHE_NS 1000000000u

static struct {
    char program[48];
    bool running;
    struct kith_eng_exp e;
    uint64_t loaded_ns;
} exp_cache[EXP_CACHE];
static pthread_mutex_t exp_cache_mu = PTHREAD_MUTEX_INITIALIZER;

void kith_eng_exp_forget(const char *program)
{
    pthread_mutex_lock(&exp_cache_mu);
    for (size_t i = 0; i < EXP_CACHE; i++) {
        if (program == NULL || strcmp(exp_cache[i].program, program) == 0)
            exp_cache[i].program[0] = '\0';
    }
    pthread_mutex_unlock(&exp_cache_mu);
}

enum kith_status kith_eng_exp_running(struct kith_tx *tx, const char *program,
                                      struct kith_eng_exp *out)
{
    uint64_t now = kith_clock_mono_ns();
    bool hit = false, running = false;
    pthread_mutex_lock(&exp_cache_mu);
    for (size_t i = 0; i < EXP_CACHE && !hit; i++) {
        if (exp_cache[i].program[0] && strcmp(exp_cache[i].program, program) == 0 &&
            now - exp_cache[i].loaded_ns < EXP_CACHE_NS) {
            hit = true;
            running = exp_cache[i].running;
            if (running)
                *out = exp_cache[i].e;
        }
    }
    pthread_mutex_unlock(&exp_cache_mu);
    if (hit)
        return running ? KITH_OK : KITH_E_NOT_FOUND;
    json_t *row = NULL, *args = json_pack("[s]", program);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_EXP_RUNNING_OF, args, &row);
    json_decref(args);
    if (st == KITH_OK && !exp_from_row(row, out))
        st = KITH_E_INTERNAL;
    json_decref(row);
    if (st != KITH_OK && st != KITH_E_NOT_FOUND)
        return st;
    /* Kept in the oldest (or a free) slot. */
    pthread_mutex_lock(&exp_cache_mu);
    size_t victim = 0;
    for (size_t i = 0; i < EXP_CACHE; i++) {
        if (!exp_cache[i].program[0] || strcmp(exp_cache[i].program, program) == 0) {
            victim = i;
            break;
        }
        if (exp_cache[i].loaded_ns < exp_cache[victim].loaded_ns)
            victim = i;
    }
    kith_strlcpy(exp_cache[victim].program, program, sizeof(exp_cache[victim].program));
    exp_cache[victim].running = st == KITH_OK;
    if (st == KITH_OK)
        exp_cache[victim].e = *out;
    exp_cache[victim].loaded_ns = now;
    pthread_mutex_unlock(&exp_cache_mu);
    return st;
}

const char *kith_eng_exp_assign(const struct kith_eng_exp *e, const char *participant)
{
    /* BLAKE2b keyed with the experiment's own key over "<experiment>\0<participant>": the first
     * 64 bits, scaled onto the total weight (multiply-high: no modulo bias worth naming). */
    char data[128], hex[KITH_CRYPTO_HASH_HEX];
    int n = snprintf(data, sizeof(data), "%s%c%s", e->id, '\0', participant);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(data) ? (size_t)n : sizeof(data) - 1;
    kith_crypto_keyed_hash(e->key, data, len, hex);
    char first[17];
    uint8_t bytes[8];
    memcpy(first, hex, 16);
    first[16] = '\0';
    kith_crypto_hex2bin(bytes, sizeof(bytes), first);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | bytes[i];
    uint64_t total = 0;
    for (size_t i = 0; i < e->n; i++)
        total += (uint64_t)e->v[i].weight;
    uint64_t r = (uint64_t)(((unsigned __int128)h * total) >> 64);
    for (size_t i = 0; i < e->n; i++) {
        if (r < (uint64_t)e->v[i].weight)
            return e->v[i].id;
        r -= (uint64_t)e->v[i].weight;
    }
    return e->v[e->n - 1].id;
}

enum kith_status kith_eng_exp_member(struct kith_tx *tx, const struct kith_eng_exp *e,
                                     const char *participant, bool referred)
{
    json_t *args = json_pack("[sssii]", e->id, participant, kith_eng_exp_assign(e, participant),
                             referred ? 0 : 1, referred ? 1 : 0);
    enum kith_status st = kith_store_exec(tx, KITH_Q_EXP_MEMBER_UPSERT, args, NULL);
    json_decref(args);
    return st;
}

enum kith_status kith_eng_exp_rules(struct kith_tx *tx, const struct prog *p, json_t *referral,
                                    struct kith_reward_rule *rules, size_t *nrules)
{
    memcpy(rules, p->rules, sizeof(p->rules[0]) * p->nrules);
    *nrules = p->nrules;
    json_t *h = NULL, *exp = NULL, *args = json_pack("[s]", kith_eng_row_str(referral, "id"));
    enum kith_status st = kith_store_query_one(tx, KITH_Q_HEALTH_REFERRAL_GET, args, &h);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND || (st == KITH_OK && kith_eng_row_str(h, "experiment") == NULL)) {
        json_decref(h);
        return KITH_OK; /* made outside any experiment: the program's rules */
    }
    if (st != KITH_OK)
        return st;
    st = kith_store_get(tx, "experiments", kith_eng_row_str(h, "experiment"), &exp);
    if (st == KITH_OK) {
        json_t *cfg = json_loads(kith_eng_row_str(exp, "config"), 0, NULL);
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(cfg, "variants"), i, v)
        {
            json_t *rin = json_object_get(v, "rewards");
            if (strcmp(json_string_value(json_object_get(v, "id")),
                       kith_eng_row_str(h, "variant")) != 0 ||
                rin == NULL || json_is_null(rin))
                continue;
            json_t *norm = NULL;
            size_t n = 0;
            struct kith_reward_rule parsed[KITH_REWARD_RULES_MAX];
            /* Validated when the experiment was made; parsed again as the program's are. */
            if (kith_eng_prog_rules(rin, parsed, &n, &norm, NULL) == KITH_OK) {
                memcpy(rules, parsed, sizeof(parsed[0]) * n);
                *nrules = n;
            }
            json_decref(norm);
        }
        json_decref(cfg);
    }
    json_decref(exp);
    json_decref(h);
    return st == KITH_E_NOT_FOUND ? KITH_OK : st;
}

void kith_eng_exp_render(struct kith_tx *tx, json_t *person, json_t *out)
{
    struct kith_eng_exp e;
    json_t *map = json_object();
    if (kith_eng_exp_running(tx, kith_eng_row_str(person, "program"), &e) == KITH_OK)
        json_object_set_new(map, e.id,
                            json_string(kith_eng_exp_assign(&e, kith_eng_row_str(person, "id"))));
    json_object_set_new(out, "experiments", map);
}

enum kith_status kith_eng_exp_sweep(struct kith_tx *tx, int64_t now_ms)
{
    json_t *rows = NULL, *args = json_array();
    enum kith_status st = kith_store_query(tx, KITH_Q_EXP_RUNNING_ALL, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_t *cfg = json_loads(kith_eng_row_str(r, "config"), 0, NULL);
        json_t *md = json_object_get(cfg, "max_days");
        if (json_is_integer(md) && !kith_eng_row_is_null(r, "started_at")) {
            /* Stopped as of when its time ran out, however late the sweeper looks. */
            int64_t due =
                kith_eng_row_int(r, "started_at") + json_integer_value(md) * KITH_MS_PER_DAY;
            if (due <= now_ms)
                st = stop_row(tx, kith_eng_row_str(r, "id"), due, now_ms);
        }
        json_decref(cfg);
        if (st != KITH_OK)
            break;
    }
    json_decref(rows);
    return st;
}

enum kith_status kith_eng_exp_export(struct kith_tx *tx, const char *participant, json_t *doc)
{
    json_t *rows = NULL, *args = json_pack("[s]", participant);
    enum kith_status st = kith_store_query(tx, KITH_Q_EXP_OF_PARTICIPANT, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    json_t *list = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "experiment",
                                              kith_eng_row_str(r, "experiment"), "program",
                                              kith_eng_row_str(r, "program"), "status",
                                              kith_eng_row_str(r, "status"), "variant",
                                              kith_eng_row_str(r, "variant"), "shared",
                                              kith_eng_row_int(r, "shared") != 0, "referred",
                                              kith_eng_row_int(r, "referred") != 0));
    }
    json_decref(rows);
    json_object_set_new(doc, "experiments", list);
    return KITH_OK;
}
