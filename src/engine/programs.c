/*
 * programs.c: creating, reading and changing programs (CONTRACT section 2). A program's settings
 * are stored as one normalised JSON document with every default filled in, so what a client
 * reads back is exactly what the engine applies; a PATCH merges into it and the whole result is
 * validated again, so a program can never hold an invalid combination. One default is kept
 * unfilled: attribution_window_days is stored as null until it is given, because it follows
 * cookie_days (whatever cookie_days becomes) until then; answers show the window in force.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/health.h"
#include "engine/internal.h"
#include "engine/pages.h"
#include "engine/templates.h"
#include "engine/tracks.h"
#include "kith/clock.h"
#include "kith/rewards.h"
#include "kith/text.h"

static const char *const program_fields[] = {"id",
                                             "name",
                                             "destination_url",
                                             "cookie_days",
                                             "attribution_window_days",
                                             "qualification",
                                             "rewards",
                                             "max_rewards_per_referrer",
                                             "fraud",
                                             "average_customer_value",
                                             "currency",
                                             "templates",
                                             "stripe_webhook_secret",
                                             "shopify_webhook_secret",
                                             "tracks",
                                             "landing",
                                             "cookie_domain",
                                             "allowed_origins",
                                             "asks",
                                             "rituals",
                                             "public_page",
                                             "fulfilment",
                                             "stripe_api_key",
                                             "claim_form",
                                             NULL};
static const char *const qual_fields[] = {"event", "min_amount", "hold_days", "within_days", NULL};
static const char *const rule_fields[] = {"to",          "kind",        "amount",   "currency",
                                          "description", "from_count",  "to_count", "expires_days",
                                          "months",      "percent_off", NULL};
static const char *const fraud_fields[] = {"review_at",
                                           "reject_at",
                                           "velocity_per_day",
                                           "new_account_hours",
                                           "blocked_email_domains",
                                           "blocked_referrer_domains",
                                           NULL};

/* Sub-field errors name the path, e.g. "qualification.hold_days". */
static enum kith_status prefix_param(enum kith_status st, struct kith_err *err, const char *path)
{
    if (st != KITH_OK && err) {
        char full[160];
        snprintf(full, sizeof(full), "%s.%s", path, err->param);
        kith_strlcpy(err->param, full, sizeof(err->param));
    }
    return st;
}

static enum kith_status parse_rule(json_t *in, size_t idx, struct kith_reward_rule *r,
                                   json_t **norm, struct kith_err *err)
{
    enum kith_status st;
    const char *to = NULL, *kind = NULL, *cur = NULL, *desc = NULL;
    int64_t amount = 0, from = 1, upto = 0, exp = 0;
    bool has_amount = false, has_to = false, has_exp = false;
    char path[32];
    snprintf(path, sizeof(path), "rewards[%zu]", idx);
    if (!json_is_object(in))
        return kith_err_set(err, KITH_E_INVALID_PARAM, path, "each reward rule is an object");
    if ((st = kith_eng_in_allowed(in, rule_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "to", true, 1, 16, &to, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "kind", true, 1, 32, &kind, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "currency", false, 3, 3, &cur, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "description", false, 1, KITH_REWARD_DESCRIPTION_MAX, &desc,
                                 err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "amount", 1, INT64_C(1000000000000), &amount, &has_amount,
                              err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "from_count", 1, 1000000, &from, NULL, err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "to_count", 1, 1000000, &upto, &has_to, err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "expires_days", 1, 36500, &exp, &has_exp, err)) != KITH_OK)
        return prefix_param(st, err, path);
    memset(r, 0, sizeof(*r));
    char param[64];
#define RULE_PARAM(field) (snprintf(param, sizeof(param), "%s." field, path), param)
    if (strcmp(to, "referrer") == 0)
        r->to = KITH_SIDE_REFERRER;
    else if (strcmp(to, "referred") == 0)
        r->to = KITH_SIDE_REFERRED;
    else
        return kith_err_set(err, KITH_E_INVALID_PARAM, RULE_PARAM("to"),
                            "%s.to must be 'referrer' or 'referred'", path);
    if (!kith_reward_kind_parse(kind, &r->kind))
        return kith_err_set(err, KITH_E_INVALID_PARAM, RULE_PARAM("kind"),
                            "%s.kind '%s' is not a reward kind", path, kind);
    if (cur && !kith_valid_currency(cur))
        return kith_err_set(err, KITH_E_INVALID_PARAM, RULE_PARAM("currency"),
                            "%s.currency must be an ISO 4217 code such as USD", path);
    if (kith_reward_kind_monetary(r->kind)) {
        if (!has_amount)
            return kith_err_set(err, KITH_E_INVALID_PARAM, RULE_PARAM("amount"),
                                "%s: a %s reward needs an amount in minor units", path, kind);
        if (!cur)
            return kith_err_set(err, KITH_E_INVALID_PARAM, RULE_PARAM("currency"),
                                "%s: a %s reward needs a currency", path, kind);
    } else if (!desc) {
        return kith_err_set(err, KITH_E_INVALID_PARAM, RULE_PARAM("description"),
                            "%s: a %s reward needs a description", path, kind);
    }
    if (has_to && upto < from)
        return kith_err_set(err, KITH_E_INVALID_PARAM, RULE_PARAM("to_count"),
                            "%s: to_count must not be below from_count", path);
#undef RULE_PARAM
    r->has_amount = has_amount;
    r->amount_minor = amount;
    kith_strlcpy(r->currency, cur ? cur : "", sizeof(r->currency));
    kith_strlcpy(r->description, desc ? desc : "", sizeof(r->description));
    r->from_count = (uint32_t)from;
    r->to_count = has_to ? (uint32_t)upto : 0;
    r->expires_days = has_exp ? (uint32_t)exp : 0;
    *norm = json_object();
    json_object_set_new(*norm, "to", json_string(to));
    json_object_set_new(*norm, "kind", json_string(kind));
    json_object_set_new(*norm, "amount", has_amount ? json_integer(amount) : json_null());
    json_object_set_new(*norm, "currency", cur ? json_string(cur) : json_null());
    json_object_set_new(*norm, "description", desc ? json_string(desc) : json_null());
    json_object_set_new(*norm, "from_count", json_integer(from));
    json_object_set_new(*norm, "to_count", has_to ? json_integer(upto) : json_null());
    json_object_set_new(*norm, "expires_days", has_exp ? json_integer(exp) : json_null());
    /* A trial's months and a coupon's percentage (section 25, fulfil_settings.c). */
    if ((st = kith_eng_fulfil_rule_terms(in, path, r, *norm, err)) != KITH_OK) {
        json_decref(*norm);
        *norm = NULL;
    }
    return st;
}

static enum kith_status parse_domains(json_t *fraud, const char *name, json_t **norm,
                                      struct kith_err *err)
{
    json_t *v = json_object_get(fraud, name);
    *norm = json_array();
    if (v == NULL || json_is_null(v))
        return KITH_OK;
    if (!json_is_array(v) || json_array_size(v) > 1000)
        return kith_err_set(err, KITH_E_INVALID_PARAM, name,
                            "'fraud.%s' must be an array of at most 1000 domains", name);
    size_t i;
    json_t *d;
    json_array_foreach(v, i, d)
    {
        if (!json_is_string(d) || json_string_length(d) < 1 || json_string_length(d) > 253)
            return kith_err_set(err, KITH_E_INVALID_PARAM, name,
                                "'fraud.%s' must hold domain names", name);
        char lower[256];
        kith_strlcpy(lower, json_string_value(d), sizeof(lower));
        for (char *c = lower; *c; c++) {
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        }
        if (strlen(lower) != json_string_length(d) || !kith_valid_word(lower, 253, "-."))
            return kith_err_set(err, KITH_E_INVALID_PARAM, name,
                                "'fraud.%s' must hold domain names", name);
        json_array_append_new(*norm, json_string(lower));
    }
    return KITH_OK;
}

/* Template overrides: known names, {subject?, body?} strings with known placeholders. */
static enum kith_status parse_templates(json_t *in, json_t **norm, struct kith_err *err)
{
    *norm = json_object();
    if (in == NULL || json_is_null(in))
        return KITH_OK;
    if (!json_is_object(in))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "templates",
                            "'templates' must be an object");
    const char *name;
    json_t *t;
    json_object_foreach(in, name, t)
    {
        char param[96], bad[48];
        snprintf(param, sizeof(param), "templates.%s", name);
        if (kith_template_default(name) == NULL)
            return kith_err_set(err, KITH_E_INVALID_PARAM, param, "no template is called '%s'",
                                name);
        if (!json_is_object(t))
            return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                "a template is an object with 'subject' and 'body'");
        static const char *const fields[] = {"subject", "body", NULL};
        const char *subject = NULL, *body = NULL;
        enum kith_status st;
        if ((st = kith_eng_in_allowed(t, fields, err)) != KITH_OK ||
            (st = kith_eng_in_string(t, "subject", false, 1, 300, &subject, err)) != KITH_OK ||
            (st = kith_eng_in_string(t, "body", false, 1, 4000, &body, err)) != KITH_OK) {
            char full[160];
            snprintf(full, sizeof(full), "%s.%s", param, err ? err->param : "");
            if (err)
                kith_strlcpy(err->param, full, sizeof(err->param));
            return st;
        }
        if (subject && !kith_template_has_subject(name))
            return kith_err_set(err, KITH_E_INVALID_PARAM, param, "'%s' has no subject", name);
        const char *texts[] = {subject, body};
        for (int i = 0; i < 2; i++) {
            if (texts[i] && !kith_template_check(texts[i], bad, sizeof(bad)))
                return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                    "unknown placeholder {{%s}}; use first_name, code, share_url, "
                                    "friend_first_name, reward, program_name, track_name, "
                                    "level_name, resource_title, resource_url or summary",
                                    bad);
        }
        json_t *o = json_object();
        if (subject)
            json_object_set_new(o, "subject", json_string(subject));
        if (body)
            json_object_set_new(o, "body", json_string(body));
        json_object_set_new(*norm, name, o);
    }
    return KITH_OK;
}

static enum kith_status parse_secret(json_t *in, const char *name, json_t *cfg,
                                     struct kith_err *err)
{
    const char *v = NULL;
    enum kith_status st = kith_eng_in_string(in, name, false, 8, 200, &v, err);
    if (st == KITH_OK && v)
        json_object_set_new(cfg, name, json_string(v));
    return st;
}

/*
 * Validates a whole program document (create body, or stored settings merged with a PATCH) and
 * produces the normalised settings and the struct the engine uses.
 */
enum kith_status kith_eng_prog_rules(json_t *rules_in, struct kith_reward_rule *rules,
                                     size_t *nrules, json_t **norm, struct kith_err *err)
{
    enum kith_status st;
    json_t *rules_norm = json_array();
    *nrules = 0;
    *norm = NULL;
    if (rules_in && !json_is_null(rules_in)) {
        if (!json_is_array(rules_in) || json_array_size(rules_in) > KITH_REWARD_RULES_MAX) {
            json_decref(rules_norm);
            return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                                "'rewards' must be an array of at most %d rules",
                                KITH_REWARD_RULES_MAX);
        }
        size_t i;
        json_t *r;
        json_array_foreach(rules_in, i, r)
        {
            json_t *rn = NULL;
            if ((st = parse_rule(r, i, &rules[i], &rn, err)) != KITH_OK) {
                json_decref(rules_norm);
                return st;
            }
            json_array_append_new(rules_norm, rn);
        }
        *nrules = json_array_size(rules_in);
    }
    if ((st = kith_rewards_validate(rules, *nrules, err)) != KITH_OK) {
        json_decref(rules_norm);
        return st;
    }
    *norm = rules_norm;
    return KITH_OK;
}

static enum kith_status normalize(json_t *in, json_t **cfg_out, struct prog *p,
                                  struct kith_err *err)
{
    enum kith_status st;
    const char *id, *name, *dest, *cur = NULL;
    int64_t cookie_days = 30, window = 0, max_rewards = 0, avg = 120000;
    bool has_window = false, has_max = false, has_avg = false;
    json_t *cfg = NULL;
    memset(p, 0, sizeof(*p));
    if ((st = kith_eng_in_allowed(in, program_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "id", true, 1, 40, &id, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "name", true, 1, 200, &name, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "destination_url", true, 8, 2000, &dest, err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "cookie_days", 1, 3650, &cookie_days, NULL, err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "attribution_window_days", 1, 3650, &window, &has_window, err)) !=
            KITH_OK ||
        (st = kith_eng_in_int(in, "max_rewards_per_referrer", 0, 1000000, &max_rewards, &has_max,
                              err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "average_customer_value", 0, INT64_C(1000000000000), &avg,
                              &has_avg, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "currency", false, 3, 3, &cur, err)) != KITH_OK)
        return st;
    if (!kith_valid_slug(id, 40))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "id", "'id' must match [a-z0-9-]{1,40}");
    if (!kith_eng_url_valid(dest))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "destination_url",
                            "'destination_url' must be an http or https URL");
    if (cur && !kith_valid_currency(cur))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "currency",
                            "'currency' must be an ISO 4217 code such as USD");

    /* qualification */
    json_t *q = json_object_get(in, "qualification");
    const char *event = "purchase";
    int64_t min_amount = 0, hold = 0, within = 90;
    if (q && !json_is_null(q)) {
        if (!json_is_object(q))
            return kith_err_set(err, KITH_E_INVALID_PARAM, "qualification",
                                "'qualification' must be an object");
        const char *ev = NULL;
        if ((st = kith_eng_in_allowed(q, qual_fields, err)) != KITH_OK ||
            (st = kith_eng_in_string(q, "event", false, 1, 40, &ev, err)) != KITH_OK ||
            (st = kith_eng_in_int(q, "min_amount", 0, INT64_C(1000000000000), &min_amount, NULL,
                                  err)) != KITH_OK ||
            (st = kith_eng_in_int(q, "hold_days", 0, 365, &hold, NULL, err)) != KITH_OK ||
            (st = kith_eng_in_int(q, "within_days", 1, 3650, &within, NULL, err)) != KITH_OK)
            return prefix_param(st, err, "qualification");
        if (ev) {
            if (!kith_eng_event_type_valid(ev) || strcmp(ev, "refund") == 0 ||
                strcmp(ev, "cancel") == 0)
                return kith_err_set(err, KITH_E_INVALID_PARAM, "qualification.event",
                                    "'qualification.event' must match [a-z0-9_.]{1,40} and "
                                    "cannot be refund or cancel");
            event = ev;
        }
    }

    /* rewards */
    json_t *rules_norm = NULL;
    if ((st = kith_eng_prog_rules(json_object_get(in, "rewards"), p->rules, &p->nrules, &rules_norm,
                                  err)) != KITH_OK)
        return st;

    /* fraud settings (applied by the scoring pipeline) */
    json_t *f = json_object_get(in, "fraud");
    int64_t review_at = 3, reject_at = 4, velocity = 10, new_hours = 24;
    json_t *emails = NULL, *referrers = NULL;
    if (f && !json_is_null(f)) {
        if (!json_is_object(f)) {
            json_decref(rules_norm);
            return kith_err_set(err, KITH_E_INVALID_PARAM, "fraud", "'fraud' must be an object");
        }
        if ((st = kith_eng_in_allowed(f, fraud_fields, err)) != KITH_OK ||
            (st = kith_eng_in_int(f, "review_at", 1, 8, &review_at, NULL, err)) != KITH_OK ||
            (st = kith_eng_in_int(f, "reject_at", 1, 9, &reject_at, NULL, err)) != KITH_OK ||
            (st = kith_eng_in_int(f, "velocity_per_day", 1, 1000000, &velocity, NULL, err)) !=
                KITH_OK ||
            (st = kith_eng_in_int(f, "new_account_hours", 0, 87600, &new_hours, NULL, err)) !=
                KITH_OK) {
            json_decref(rules_norm);
            return prefix_param(st, err, "fraud");
        }
    }
    if ((st = parse_domains(f, "blocked_email_domains", &emails, err)) != KITH_OK ||
        (st = parse_domains(f, "blocked_referrer_domains", &referrers, err)) != KITH_OK) {
        json_decref(rules_norm);
        json_decref(emails);
        json_decref(referrers);
        return prefix_param(st, err, "fraud");
    }
    if (reject_at < review_at) {
        json_decref(rules_norm);
        json_decref(emails);
        json_decref(referrers);
        return kith_err_set(err, KITH_E_INVALID_PARAM, "fraud.reject_at",
                            "'fraud.reject_at' must not be below 'fraud.review_at'");
    }

    kith_strlcpy(p->id, id, sizeof(p->id));
    kith_strlcpy(p->name, name, sizeof(p->name));
    kith_strlcpy(p->destination, dest, sizeof(p->destination));
    p->cookie_days = cookie_days;
    p->window_days = has_window ? window : cookie_days;
    kith_strlcpy(p->qual_event, event, sizeof(p->qual_event));
    p->min_amount = min_amount;
    p->hold_days = hold;
    p->within_days = within;
    p->max_rewards = has_max ? max_rewards : -1;
    p->review_at = (uint32_t)review_at;
    p->reject_at = (uint32_t)reject_at;
    p->velocity_per_day = (uint32_t)velocity;
    p->new_account_hours = (uint32_t)new_hours;
    p->average_value = avg;
    kith_strlcpy(p->currency, cur ? cur : "USD", sizeof(p->currency));

    cfg = json_object();
    json_object_set_new(cfg, "id", json_string(p->id));
    json_object_set_new(cfg, "name", json_string(p->name));
    json_object_set_new(cfg, "destination_url", json_string(p->destination));
    json_object_set_new(cfg, "cookie_days", json_integer(p->cookie_days));
    /* null while not given: the window follows cookie_days through every later change */
    json_object_set_new(cfg, "attribution_window_days",
                        has_window ? json_integer(window) : json_null());
    json_object_set_new(cfg, "qualification",
                        json_pack("{s:s,s:I,s:I,s:I}", "event", p->qual_event, "min_amount",
                                  (json_int_t)min_amount, "hold_days", (json_int_t)hold,
                                  "within_days", (json_int_t)within));
    json_object_set_new(cfg, "rewards", rules_norm);
    json_object_set_new(cfg, "max_rewards_per_referrer",
                        has_max ? json_integer(max_rewards) : json_null());
    json_object_set_new(cfg, "fraud",
                        json_pack("{s:I,s:I,s:I,s:I,s:o,s:o}", "review_at", (json_int_t)review_at,
                                  "reject_at", (json_int_t)reject_at, "velocity_per_day",
                                  (json_int_t)velocity, "new_account_hours", (json_int_t)new_hours,
                                  "blocked_email_domains", emails, "blocked_referrer_domains",
                                  referrers));
    json_object_set_new(cfg, "average_customer_value", json_integer(avg));
    json_object_set_new(cfg, "currency", json_string(p->currency));
    json_t *templates = NULL;
    if ((st = parse_templates(json_object_get(in, "templates"), &templates, err)) != KITH_OK ||
        (st = parse_secret(in, "stripe_webhook_secret", cfg, err)) != KITH_OK ||
        (st = parse_secret(in, "shopify_webhook_secret", cfg, err)) != KITH_OK ||
        (st = kith_eng_pages_settings(in, cfg, err)) != KITH_OK ||
        (st = kith_eng_asks_settings(in, cfg, err)) != KITH_OK ||
        (st = kith_eng_fulfil_settings(in, cfg, err)) != KITH_OK) { /* section 25 */
        json_decref(templates);
        json_decref(cfg);
        return st;
    }
    json_object_set_new(cfg, "templates", templates);
    json_t *tracks = NULL; /* section 15, parsed in track_settings.c */
    if ((st = kith_eng_tracks_parse(json_object_get(in, "tracks"), &tracks, err)) != KITH_OK) {
        json_decref(cfg);
        return st;
    }
    json_object_set_new(cfg, "tracks", tracks);
    *cfg_out = cfg;
    return KITH_OK;
}

static json_t *render_program(json_t *cfg, const struct prog *p, int64_t created_ms,
                              int64_t updated_ms)
{
    json_t *out = json_deep_copy(cfg);
    json_object_set_new(out, "attribution_window_days", json_integer(p->window_days));
    /* Provider secrets are shown only as a hint of which one is set. */
    static const char *const secrets[] = {"stripe_webhook_secret", "shopify_webhook_secret",
                                          "stripe_api_key"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(secrets); i++) {
        const char *v = json_string_value(json_object_get(out, secrets[i]));
        if (v) {
            char hint[32];
            size_t n = strlen(v);
            snprintf(hint, sizeof(hint), "...%s", n > 4 ? v + n - 4 : "");
            json_object_set_new(out, secrets[i], json_string(hint));
        }
    }
    json_t *warnings = json_array();
    if (kith_rewards_cost_high(p->rules, p->nrules, p->average_value, p->currency))
        json_array_append_new(warnings, json_string("reward_cost_high"));
    json_object_set_new(out, "warnings", warnings);
    json_object_set_new(out, "created_at", kith_eng_time_json(created_ms));
    json_object_set_new(out, "updated_at", kith_eng_time_json(updated_ms));
    return out;
}

/*
 * Programs are read by nearly every request and change rarely, so the store thread keeps the
 * parsed settings of recent programs for up to a second (a change made by this process is seen
 * at once: updates drop the entry). Store jobs may run on several threads (a PostgreSQL pool), so
 * the cache is used under a mutex and hands out copies and references, never its entries.
 */
#define PROG_CACHE 16
#define PROG_CACHE_NS 1000000000u

struct prog_cached {
    struct prog p;
    json_t *cfg;
    uint64_t loaded_ns;
};

static struct prog_cached prog_cache[PROG_CACHE];
static pthread_mutex_t prog_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static struct prog_cached *cache_find(const char *id)
{
    uint64_t now = kith_clock_mono_ns();
    for (size_t i = 0; i < PROG_CACHE; i++) {
        struct prog_cached *c = &prog_cache[i];
        if (c->cfg && strcmp(c->p.id, id) == 0 && now - c->loaded_ns < PROG_CACHE_NS)
            return c;
    }
    return NULL;
}

static void cache_drop(const char *id)
{
    for (size_t i = 0; i < PROG_CACHE; i++) {
        if (prog_cache[i].cfg && strcmp(prog_cache[i].p.id, id) == 0) {
            json_decref(prog_cache[i].cfg);
            prog_cache[i].cfg = NULL;
        }
    }
}

static struct prog_cached *cache_load(struct kith_tx *tx, const char *id, enum kith_status *st)
{
    struct prog_cached *c = cache_find(id);
    if (c)
        return c;
    json_t *row = NULL, *cfg = NULL, *norm = NULL;
    struct prog p;
    *st = kith_store_get(tx, "programs", id, &row);
    if (*st != KITH_OK)
        return NULL;
    cfg = json_loads(kith_eng_row_str(row, "config"), 0, NULL);
    json_decref(row);
    *st = cfg ? normalize(cfg, &norm, &p, NULL) : KITH_E_INTERNAL;
    json_decref(norm);
    if (*st != KITH_OK) {
        json_decref(cfg);
        *st = KITH_E_INTERNAL;
        return NULL;
    }
    /* Replace a stale entry for this id, else the oldest. */
    cache_drop(id);
    size_t victim = 0;
    for (size_t i = 0; i < PROG_CACHE; i++) {
        if (prog_cache[i].cfg == NULL) {
            victim = i;
            break;
        }
        if (prog_cache[i].loaded_ns < prog_cache[victim].loaded_ns)
            victim = i;
    }
    c = &prog_cache[victim];
    json_decref(c->cfg);
    c->p = p;
    c->cfg = cfg;
    c->loaded_ns = kith_clock_mono_ns();
    return c;
}

enum kith_status kith_eng_prog_load(struct kith_tx *tx, const char *id, struct prog *out,
                                    struct kith_err *err)
{
    enum kith_status st = KITH_OK;
    pthread_mutex_lock(&prog_cache_mu);
    struct prog_cached *c = cache_load(tx, id, &st);
    if (c)
        *out = c->p;
    pthread_mutex_unlock(&prog_cache_mu);
    if (st == KITH_E_NOT_FOUND)
        return kith_err_set(err, st, "program", "no such program");
    if (c == NULL)
        return kith_err_set(err, st, NULL, "the database could not read the program");
    return KITH_OK;
}

enum kith_status kith_eng_prog_resolve(struct kith_tx *tx, const char *id_in, struct prog *out,
                                       struct kith_err *err)
{
    if (id_in)
        return kith_eng_prog_load(tx, id_in, out, err);
    json_t *rows = NULL, *args = json_array();
    enum kith_status st = kith_store_query(tx, KITH_Q_PROGRAMS_FIRST_TWO, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not list programs");
    size_t n = json_array_size(rows);
    char id[48] = "";
    if (n == 1)
        kith_strlcpy(id, kith_eng_row_str(json_array_get(rows, 0), "id"), sizeof(id));
    json_decref(rows);
    if (n != 1)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "program",
                            n == 0 ? "no program exists yet"
                                   : "'program' is required when several programs exist");
    return kith_eng_prog_load(tx, id, out, err);
}

enum kith_status kith_op_program_create(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                        struct kith_err *err)
{
    json_t *cfg = NULL;
    struct prog p;
    enum kith_status st = normalize(call->body, &cfg, &p, err);
    if (st == KITH_OK && (st = kith_eng_pages_check(cfg, call->eng, err)) != KITH_OK)
        json_decref(cfg);
    if (st != KITH_OK)
        return st;
    char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *row = json_pack("{s:s,s:s,s:I,s:I}", "id", p.id, "config", text, "created_at",
                            (json_int_t)call->now_ms, "updated_at", (json_int_t)call->now_ms);
    free(text);
    st = kith_store_insert(tx, "programs", row);
    json_decref(row);
    if (st == KITH_E_CONSTRAINT) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "id", "a program with this id exists");
    } else if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the program");
    } else {
        *out = render_program(cfg, &p, call->now_ms, call->now_ms);
        st = KITH_CREATED;
    }
    json_decref(cfg);
    return st;
}

static json_t *render_program_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    struct prog p;
    json_t *cfg = json_loads(kith_eng_row_str(row, "config"), 0, NULL), *norm = NULL, *out = NULL;
    (void)tx;
    (void)ctx;
    if (cfg && normalize(cfg, &norm, &p, NULL) == KITH_OK)
        out = render_program(norm, &p, kith_eng_row_int(row, "created_at"),
                             kith_eng_row_int(row, "updated_at"));
    json_decref(cfg);
    json_decref(norm);
    return out ? out : json_null();
}

enum kith_status kith_op_program_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                      struct kith_err *err)
{
    static const char *const allowed[] = {"limit", "cursor", NULL};
    int64_t limit, after;
    enum kith_status st;
    json_t *rows = NULL;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_page(call->query, &limit, &after, err)) != KITH_OK)
        return st;
    json_t *args = json_pack("[II]", (json_int_t)after, (json_int_t)(limit + 1));
    st = kith_store_query(tx, KITH_Q_PROGRAMS_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not list programs");
    *out = kith_eng_list_page(rows, limit, render_program_row, tx, NULL);
    json_decref(rows);
    return KITH_OK;
}

enum kith_status kith_op_program_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                     struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *row = NULL;
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st != KITH_OK)
        return st;
    if ((st = kith_eng_load_row(tx, "programs", call->params[0], "program", &row, err)) != KITH_OK)
        return st;
    *out = render_program_row(tx, NULL, row);
    json_decref(row);
    return KITH_OK;
}

enum kith_status kith_op_program_update(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                        struct kith_err *err)
{
    json_t *row = NULL, *cfg = NULL, *merged = NULL, *norm = NULL;
    struct prog p;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, program_fields, err)) != KITH_OK)
        return st;
    json_t *idv = json_object_get(call->body, "id");
    if (idv && !(json_is_string(idv) && strcmp(json_string_value(idv), call->params[0]) == 0))
        return kith_err_set(err, KITH_E_IMMUTABLE, "id", "a program's id cannot be changed");
    if ((st = kith_eng_load_row(tx, "programs", call->params[0], "program", &row, err)) != KITH_OK)
        return st;
    cfg = json_loads(kith_eng_row_str(row, "config"), 0, NULL);
    if (cfg == NULL) {
        st = kith_err_set(err, KITH_E_INTERNAL, NULL, "stored program settings are invalid");
        goto out;
    }
    merged = json_deep_copy(cfg);
    const char *key;
    json_t *v;
    json_object_foreach(call->body, key, v)
    {
        json_t *old = json_object_get(merged, key);
        /* Nested settings merge field by field, so a PATCH can change one hold_days alone. */
        if ((strcmp(key, "qualification") == 0 || strcmp(key, "fraud") == 0 ||
             strcmp(key, "templates") == 0 || strcmp(key, "asks") == 0 ||
             strcmp(key, "rituals") == 0 || strcmp(key, "fulfilment") == 0 ||
             strcmp(key, "claim_form") == 0) &&
            json_is_object(v) && json_is_object(old))
            json_object_update(old, v);
        else
            json_object_set(merged, key, v);
    }
    /* attribution_window_days follows cookie_days only when it was never set apart from it: the
     * stored null stays null unless this PATCH gives a window (null sets it following again). */
    if ((st = normalize(merged, &norm, &p, err)) != KITH_OK ||
        (st = kith_eng_pages_check(norm, call->eng, err)) != KITH_OK)
        goto out;
    char *text = json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *set = json_pack("{s:s,s:I}", "config", text, "updated_at", (json_int_t)call->now_ms);
    free(text);
    st = kith_store_update(tx, "programs", p.id, set);
    json_decref(set);
    pthread_mutex_lock(&prog_cache_mu);
    cache_drop(p.id);
    pthread_mutex_unlock(&prog_cache_mu);
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the program");
        goto out;
    }
    *out = render_program(norm, &p, kith_eng_row_int(row, "created_at"), call->now_ms);
    call->invalidates_links = true;
out:
    json_decref(row);
    json_decref(cfg);
    json_decref(merged);
    json_decref(norm);
    return st;
}

void kith_engine_settings_changed(void)
{
    pthread_mutex_lock(&prog_cache_mu);
    for (size_t i = 0; i < PROG_CACHE; i++) {
        json_decref(prog_cache[i].cfg);
        prog_cache[i].cfg = NULL;
    }
    pthread_mutex_unlock(&prog_cache_mu);
    kith_eng_exp_forget(NULL); /* the running experiments (section 23) */
}

enum kith_status kith_eng_prog_config(struct kith_tx *tx, const char *id, json_t **out)
{
    enum kith_status st = KITH_OK;
    pthread_mutex_lock(&prog_cache_mu);
    struct prog_cached *c = cache_load(tx, id, &st);
    if (c)
        *out = json_incref(c->cfg); /* shared: callers only read it */
    pthread_mutex_unlock(&prog_cache_mu);
    return c ? KITH_OK : st;
}
