/*
 * asks_settings.c: the program settings of sections 17 and 18: `asks` (the ask policy),
 * `rituals` (spotlight rotation and reward, auto-drafts, the monthly digest) and `public_page`.
 * programs.c hands every program document here to be checked and normalised with each default
 * filled in, so a program always holds a complete, valid setting; the readers below give the
 * settings of a stored document (older documents without them read as the defaults). It is not
 * for applying them: moments.c, spotlights.c and rituals.c do.
 */
#include <string.h>

#include "engine/internal.h"

static const char *const asks_fields[] = {"enabled",
                                          "not_before_days",
                                          "min_days_between",
                                          "max_per_30_days",
                                          "stop_after_ignored",
                                          "nps_min_score",
                                          "answered_within_days",
                                          NULL};
static const char *const rituals_fields[] = {"rotation_periods", "auto_draft", "digest",
                                             "spotlight_reward", NULL};
static const char *const reward_fields[] = {"kind",        "amount",       "currency",
                                            "description", "expires_days", NULL};

/* Bounds of the integer settings of `asks`, in asks_fields order (after `enabled`). */
static const struct {
    int64_t min, max;
} asks_bounds[] = {{0, 3650}, {0, 3650}, {1, 100}, {1, 100}, {0, 10}, {1, 365}};

/* Sub-field errors name the path: "asks.min_days_between". */
static enum kith_status under(enum kith_status st, struct kith_err *err, const char *path)
{
    if (st != KITH_OK && err) {
        char full[160];
        snprintf(full, sizeof(full), "%s.%s", path, err->param);
        kith_strlcpy(err->param, full, sizeof(err->param));
    }
    return st;
}

static enum kith_status parse_asks(json_t *in, json_t **out, struct kith_err *err)
{
    struct kith_ask_policy d;
    kith_ask_policy_defaults(&d);
    int64_t values[] = {d.not_before_days,    d.min_days_between, d.max_per_30_days,
                        d.stop_after_ignored, d.nps_min_score,    d.answered_within_days};
    bool enabled = d.enabled;
    enum kith_status st;
    if (in != NULL && !json_is_null(in)) {
        if (!json_is_object(in))
            return kith_err_set(err, KITH_E_INVALID_PARAM, "asks", "'asks' must be an object");
        if ((st = kith_eng_in_allowed(in, asks_fields, err)) != KITH_OK ||
            (st = kith_eng_in_bool(in, "enabled", &enabled, NULL, err)) != KITH_OK)
            return under(st, err, "asks");
        for (size_t i = 0; i < KITH_ARRAY_LEN(values); i++) {
            if ((st = kith_eng_in_int(in, asks_fields[i + 1], asks_bounds[i].min,
                                      asks_bounds[i].max, &values[i], NULL, err)) != KITH_OK)
                return under(st, err, "asks");
        }
    }
    *out = json_object();
    json_object_set_new(*out, "enabled", json_boolean(enabled));
    for (size_t i = 0; i < KITH_ARRAY_LEN(values); i++)
        json_object_set_new(*out, asks_fields[i + 1], json_integer(values[i]));
    return KITH_OK;
}

static bool currency_ok(const char *s)
{
    return s && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
           s[2] >= 'A' && s[2] <= 'Z';
}

/* A reward rule without `to` (who gets it is the spotlight's winner). */
static enum kith_status parse_reward(json_t *in, json_t **out, struct kith_err *err)
{
    static const char path[] = "rituals.spotlight_reward";
    const char *kind = NULL, *cur = NULL, *desc = NULL;
    int64_t amount = 0, exp = 0;
    bool has_amount = false, has_exp = false;
    enum kith_reward_kind k;
    enum kith_status st;
    *out = NULL;
    if (in == NULL || json_is_null(in))
        return KITH_OK;
    if (!json_is_object(in))
        return kith_err_set(err, KITH_E_INVALID_PARAM, path,
                            "'%s' is a reward rule (kind, amount, currency, description, "
                            "expires_days) or null",
                            path);
    if (json_object_get(in, "to"))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rituals.spotlight_reward.to",
                            "a spotlight reward goes to the winner: leave 'to' out");
    if ((st = kith_eng_in_allowed(in, reward_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "kind", true, 1, 32, &kind, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "currency", false, 3, 3, &cur, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "description", false, 1, KITH_REWARD_DESCRIPTION_MAX, &desc,
                                 err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "amount", 1, INT64_C(1000000000000), &amount, &has_amount,
                              err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "expires_days", 1, 36500, &exp, &has_exp, err)) != KITH_OK)
        return under(st, err, path);
    if (!kith_reward_kind_parse(kind, &k))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rituals.spotlight_reward.kind",
                            "'%s' is not a reward kind", kind);
    if (cur && !currency_ok(cur))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rituals.spotlight_reward.currency",
                            "'currency' must be an ISO 4217 code such as USD");
    if (kith_reward_kind_monetary(k) && (!has_amount || !cur))
        return kith_err_set(err, KITH_E_INVALID_PARAM,
                            has_amount ? "rituals.spotlight_reward.currency"
                                       : "rituals.spotlight_reward.amount",
                            "a %s reward needs an amount in minor units and a currency", kind);
    if (!kith_reward_kind_monetary(k) && !desc)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rituals.spotlight_reward.description",
                            "a %s reward needs a description", kind);
    *out = json_object();
    json_object_set_new(*out, "kind", json_string(kind));
    json_object_set_new(*out, "amount", has_amount ? json_integer(amount) : json_null());
    json_object_set_new(*out, "currency", cur ? json_string(cur) : json_null());
    json_object_set_new(*out, "description", desc ? json_string(desc) : json_null());
    json_object_set_new(*out, "expires_days", has_exp ? json_integer(exp) : json_null());
    return KITH_OK;
}

static enum kith_status parse_rituals(json_t *in, json_t **out, struct kith_err *err)
{
    int64_t rotation = 3;
    bool auto_draft = false, digest = false;
    json_t *reward = NULL;
    enum kith_status st;
    if (in != NULL && !json_is_null(in)) {
        if (!json_is_object(in))
            return kith_err_set(err, KITH_E_INVALID_PARAM, "rituals",
                                "'rituals' must be an object");
        if ((st = kith_eng_in_allowed(in, rituals_fields, err)) != KITH_OK ||
            (st = kith_eng_in_int(in, "rotation_periods", 0, 24, &rotation, NULL, err)) !=
                KITH_OK ||
            (st = kith_eng_in_bool(in, "auto_draft", &auto_draft, NULL, err)) != KITH_OK ||
            (st = kith_eng_in_bool(in, "digest", &digest, NULL, err)) != KITH_OK)
            return under(st, err, "rituals");
        if ((st = parse_reward(json_object_get(in, "spotlight_reward"), &reward, err)) != KITH_OK)
            return st;
    }
    *out =
        json_pack("{s:I,s:b,s:b,s:o}", "rotation_periods", (json_int_t)rotation, "auto_draft",
                  auto_draft, "digest", digest, "spotlight_reward", reward ? reward : json_null());
    return KITH_OK;
}

enum kith_status kith_eng_asks_settings(json_t *in, json_t *cfg, struct kith_err *err)
{
    json_t *asks = NULL, *rituals = NULL;
    bool public_page = false;
    enum kith_status st;
    if ((st = parse_asks(json_object_get(in, "asks"), &asks, err)) != KITH_OK ||
        (st = parse_rituals(json_object_get(in, "rituals"), &rituals, err)) != KITH_OK ||
        (st = kith_eng_in_bool(in, "public_page", &public_page, NULL, err)) != KITH_OK) {
        json_decref(asks);
        json_decref(rituals);
        return st;
    }
    json_object_set_new(cfg, "asks", asks);
    json_object_set_new(cfg, "rituals", rituals);
    json_object_set_new(cfg, "public_page", json_boolean(public_page));
    return KITH_OK;
}

static uint32_t get_u32(json_t *o, const char *name, uint32_t dflt)
{
    json_t *v = json_object_get(o, name);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint32_t)json_integer_value(v)
                                                            : dflt;
}

void kith_eng_asks_policy(json_t *cfg, struct kith_ask_policy *out)
{
    json_t *a = json_object_get(cfg, "asks");
    kith_ask_policy_defaults(out);
    if (!json_is_object(a))
        return;
    json_t *e = json_object_get(a, "enabled");
    if (json_is_boolean(e))
        out->enabled = json_is_true(e);
    out->not_before_days = get_u32(a, "not_before_days", out->not_before_days);
    out->min_days_between = get_u32(a, "min_days_between", out->min_days_between);
    out->max_per_30_days = get_u32(a, "max_per_30_days", out->max_per_30_days);
    out->stop_after_ignored = get_u32(a, "stop_after_ignored", out->stop_after_ignored);
    out->nps_min_score = get_u32(a, "nps_min_score", out->nps_min_score);
    out->answered_within_days = get_u32(a, "answered_within_days", out->answered_within_days);
}

void kith_eng_rituals_of(json_t *cfg, struct kith_eng_rituals *out)
{
    json_t *r = json_object_get(cfg, "rituals");
    memset(out, 0, sizeof(*out));
    out->rotation_periods = 3;
    if (!json_is_object(r))
        return;
    out->rotation_periods = (int)get_u32(r, "rotation_periods", 3);
    out->auto_draft = json_is_true(json_object_get(r, "auto_draft"));
    out->digest = json_is_true(json_object_get(r, "digest"));
    json_t *w = json_object_get(r, "spotlight_reward");
    out->reward = json_is_object(w) ? w : NULL;
}

bool kith_eng_public_page(json_t *cfg)
{
    return json_is_true(json_object_get(cfg, "public_page"));
}
