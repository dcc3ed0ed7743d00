/*
 * fulfil_settings.c: the program settings of reward fulfilment (CONTRACT section 25) and what a
 * claim may say. `fulfilment` maps every reward kind to a method (stored with all ten kinds,
 * `none` by default), `stripe_api_key` is a secret like the webhook secrets (stored as given,
 * shown as its last four characters), and `claim_form` says per kind what a person is asked when
 * they claim a gift or an experience. A reward rule may add `months` (a trial's length) and
 * `percent_off` (a coupon's form). It is not for carrying fulfilment out: fulfil.c and
 * fulfil_stripe.c do.
 */
#include <string.h>

#include "engine/fulfil.h"
#include "kith/text.h"

#define CLAIM_FIELDS_MAX 10
#define CLAIM_CHOICES_MAX 50
#define CLAIM_TEXT_MAX 2000
#define ADDRESS_PART_MAX 200

static const char *const kinds[] = {
    "credit", "cash",        "discount", "free_month", "subscription_extension",
    "gift",   "recognition", "access",   "experience", "donation"};

/* Sub-field errors name the path, e.g. "claim_form.gift[0].choices". */
static enum kith_status at_path(enum kith_status st, struct kith_err *err, const char *path)
{
    if (st != KITH_OK && err) {
        char full[256];
        snprintf(full, sizeof(full), "%s.%s", path, err->param);
        kith_strlcpy(err->param, full, sizeof(err->param));
    }
    return st;
}

enum kith_fulfil_method kith_eng_fulfil_method_of(json_t *cfg, const char *kind)
{
    enum kith_fulfil_method m = KITH_FULFIL_NONE;
    const char *name = json_string_value(json_object_get(json_object_get(cfg, "fulfilment"), kind));
    if (name == NULL || !kith_fulfil_method_parse(name, &m))
        return KITH_FULFIL_NONE;
    return m;
}

static enum kith_status parse_methods(json_t *in, bool *uses_stripe, json_t **norm,
                                      struct kith_err *err)
{
    *uses_stripe = false;
    *norm = json_object();
    if (in != NULL && !json_is_null(in) && !json_is_object(in))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "fulfilment",
                            "'fulfilment' must be an object of reward kind -> method");
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v)
    {
        enum kith_reward_kind k;
        char param[96];
        snprintf(param, sizeof(param), "fulfilment.%s", key);
        if (!kith_reward_kind_parse(key, &k))
            return kith_err_set(err, KITH_E_INVALID_PARAM, param, "'%s' is not a reward kind", key);
        enum kith_fulfil_method m;
        if (!json_is_null(v) &&
            (!json_is_string(v) || !kith_fulfil_method_parse(json_string_value(v), &m)))
            return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                "'%s' must be stripe_balance, stripe_coupon, stripe_trial, "
                                "payout, claim or none",
                                param);
    }
    for (size_t i = 0; i < KITH_ARRAY_LEN(kinds); i++) {
        enum kith_reward_kind k;
        enum kith_fulfil_method m = KITH_FULFIL_NONE;
        json_t *given = json_object_get(in, kinds[i]);
        if (given && json_is_string(given))
            kith_fulfil_method_parse(json_string_value(given), &m);
        kith_reward_kind_parse(kinds[i], &k);
        if (!kith_fulfil_method_fits(m, k)) {
            char param[96];
            snprintf(param, sizeof(param), "fulfilment.%s", kinds[i]);
            return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                "a %s reward cannot be fulfilled by %s: %s", kinds[i],
                                kith_fulfil_method_name(m),
                                m == KITH_FULFIL_STRIPE_TRIAL
                                    ? "a trial gives time (free_month, subscription_extension)"
                                    : "it needs an amount (credit, cash, discount, donation)");
        }
        *uses_stripe = *uses_stripe || kith_fulfil_method_is_stripe(m);
        json_object_set_new(*norm, kinds[i], json_string(kith_fulfil_method_name(m)));
    }
    return KITH_OK;
}

/* A Stripe secret or restricted key: sk_... or rk_..., printable, no spaces. */
static bool api_key_valid(const char *s)
{
    if (strncmp(s, "sk_", 3) != 0 && strncmp(s, "rk_", 3) != 0)
        return false;
    for (const char *c = s; *c; c++) {
        if (*c <= 0x20 || *c >= 0x7f)
            return false;
    }
    return true;
}

static enum kith_status parse_field(json_t *in, const char *path, json_t **norm,
                                    struct kith_err *err)
{
    static const char *const allowed[] = {"name", "type", "label", "required", "choices", NULL};
    const char *name = NULL, *type = NULL, *label = NULL;
    bool required = false;
    enum kith_status st;
    if (!json_is_object(in))
        return kith_err_set(err, KITH_E_INVALID_PARAM, path,
                            "a claim field is an object {name, type, label, required}");
    if ((st = kith_eng_in_allowed(in, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "name", true, 1, 40, &name, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "type", true, 1, 16, &type, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "label", false, 1, 200, &label, err)) != KITH_OK ||
        (st = kith_eng_in_bool(in, "required", &required, NULL, err)) != KITH_OK)
        return at_path(st, err, path);
    char param[160];
    if (!kith_valid_word(name, 40, "_")) {
        snprintf(param, sizeof(param), "%s.name", path);
        return kith_err_set(err, KITH_E_INVALID_PARAM, param, "a field's name is [a-z0-9_]{1,40}");
    }
    bool choice = strcmp(type, "choice") == 0;
    if (!choice && strcmp(type, "text") != 0 && strcmp(type, "address") != 0) {
        snprintf(param, sizeof(param), "%s.type", path);
        return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                            "a field's type is text, address or choice");
    }
    json_t *choices = json_object_get(in, "choices");
    snprintf(param, sizeof(param), "%s.choices", path);
    if (choice != (choices != NULL && !json_is_null(choices)))
        return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                            choice ? "a choice field lists its choices"
                                   : "only a choice field has choices");
    *norm = json_pack("{s:s,s:s,s:s,s:b}", "name", name, "type", type, "label",
                      label ? label : name, "required", required);
    if (choice) {
        if (!json_is_array(choices) || json_array_size(choices) < 1 ||
            json_array_size(choices) > CLAIM_CHOICES_MAX) {
            json_decref(*norm);
            return kith_err_set(err, KITH_E_INVALID_PARAM, param, "'choices' holds 1 to %d texts",
                                CLAIM_CHOICES_MAX);
        }
        size_t i;
        json_t *c;
        json_array_foreach(choices, i, c)
        {
            if (!json_is_string(c) || json_string_length(c) < 1 || json_string_length(c) > 200) {
                json_decref(*norm);
                return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                    "each choice is a text of 1 to 200 bytes");
            }
        }
        json_object_set(*norm, "choices", choices);
    }
    return KITH_OK;
}

static enum kith_status parse_claim_form(json_t *in, json_t **norm, struct kith_err *err)
{
    *norm = json_object();
    if (in == NULL || json_is_null(in))
        return KITH_OK;
    if (!json_is_object(in))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "claim_form",
                            "'claim_form' must be an object of reward kind -> fields");
    const char *kind;
    json_t *fields;
    json_object_foreach(in, kind, fields)
    {
        enum kith_reward_kind k;
        char path[96];
        snprintf(path, sizeof(path), "claim_form.%s", kind);
        if (!kith_reward_kind_parse(kind, &k))
            return kith_err_set(err, KITH_E_INVALID_PARAM, path, "'%s' is not a reward kind", kind);
        if (json_is_null(fields))
            continue;
        if (!json_is_array(fields) || json_array_size(fields) > CLAIM_FIELDS_MAX)
            return kith_err_set(err, KITH_E_INVALID_PARAM, path,
                                "a claim form is an array of at most %d fields", CLAIM_FIELDS_MAX);
        json_t *list = json_array();
        size_t i;
        json_t *f;
        json_array_foreach(fields, i, f)
        {
            char fpath[128];
            json_t *fn = NULL;
            snprintf(fpath, sizeof(fpath), "%s[%zu]", path, i);
            enum kith_status st = parse_field(f, fpath, &fn, err);
            if (st == KITH_OK) {
                size_t j;
                json_t *prev;
                json_array_foreach(list, j, prev)
                {
                    if (strcmp(kith_eng_row_str(prev, "name"), kith_eng_row_str(fn, "name")) == 0)
                        st = kith_err_set(err, KITH_E_INVALID_PARAM, fpath,
                                          "two fields are called '%s'",
                                          kith_eng_row_str(fn, "name"));
                }
            }
            if (st != KITH_OK) {
                json_decref(fn);
                json_decref(list);
                return st;
            }
            json_array_append_new(list, fn);
        }
        json_object_set_new(*norm, kind, list);
    }
    return KITH_OK;
}

enum kith_status kith_eng_fulfil_settings(json_t *in, json_t *cfg, struct kith_err *err)
{
    bool uses_stripe = false;
    json_t *methods = NULL, *form = NULL;
    const char *key = NULL;
    enum kith_status st =
        parse_methods(json_object_get(in, "fulfilment"), &uses_stripe, &methods, err);
    if (st == KITH_OK)
        st = kith_eng_in_string(in, "stripe_api_key", false, 8, 255, &key, err);
    if (st == KITH_OK && key && !api_key_valid(key))
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "stripe_api_key",
                          "'stripe_api_key' is a Stripe secret key (sk_...) or restricted key "
                          "(rk_...)");
    if (st == KITH_OK && uses_stripe && key == NULL)
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "stripe_api_key",
                          "the fulfilment setting calls Stripe: 'stripe_api_key' is required");
    if (st == KITH_OK)
        st = parse_claim_form(json_object_get(in, "claim_form"), &form, err);
    if (st != KITH_OK) {
        json_decref(methods);
        json_decref(form);
        return st;
    }
    json_object_set_new(cfg, "fulfilment", methods);
    json_object_set_new(cfg, "claim_form", form);
    if (key)
        json_object_set_new(cfg, "stripe_api_key", json_string(key));
    return KITH_OK;
}

enum kith_status kith_eng_fulfil_rule_terms(json_t *in, const char *path,
                                            struct kith_reward_rule *r, json_t *norm,
                                            struct kith_err *err)
{
    int64_t months = 0, percent = 0;
    bool has_months = false, has_percent = false;
    enum kith_status st;
    char param[64];
    if ((st = kith_eng_in_int(in, "months", 1, 36, &months, &has_months, err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "percent_off", 1, 100, &percent, &has_percent, err)) != KITH_OK)
        return at_path(st, err, path);
    if (has_months && r->kind != KITH_REWARD_KIND_FREE_MONTH &&
        r->kind != KITH_REWARD_KIND_SUBSCRIPTION_EXTENSION) {
        snprintf(param, sizeof(param), "%s.months", path);
        return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                            "'months' belongs to free_month and subscription_extension rewards");
    }
    if (has_percent && r->kind != KITH_REWARD_KIND_DISCOUNT) {
        snprintf(param, sizeof(param), "%s.percent_off", path);
        return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                            "'percent_off' belongs to discount rewards");
    }
    r->months = has_months ? (uint32_t)months : 0;
    r->percent_off = has_percent ? (uint32_t)percent : 0;
    if (has_months)
        json_object_set_new(norm, "months", json_integer(months));
    if (has_percent)
        json_object_set_new(norm, "percent_off", json_integer(percent));
    return KITH_OK;
}

json_t *kith_eng_fulfil_claim_form(json_t *cfg, const char *kind)
{
    json_t *form = json_object_get(json_object_get(cfg, "claim_form"), kind);
    if (json_is_array(form))
        return json_incref(form);
    return json_pack("[{s:s,s:s,s:s,s:b}]", "name", "note", "type", "text", "label",
                     "Anything we should know?", "required", 0);
}

/* An address: name, line1, line2, city, postal_code, state, country (ISO 3166-1 alpha-2). */
static enum kith_status check_address(json_t *v, const char *param, json_t **out,
                                      struct kith_err *err)
{
    static const char *const parts[] = {"name",        "line1", "line2",   "city",
                                        "postal_code", "state", "country", NULL};
    static const bool needed[] = {false, true, false, true, false, false, true};
    if (!json_is_object(v))
        return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                            "an address is an object {name, line1, line2, city, postal_code, "
                            "state, country}");
    enum kith_status st = kith_eng_in_allowed(v, parts, err);
    if (st != KITH_OK)
        return at_path(st, err, param);
    *out = json_object();
    for (size_t i = 0; parts[i]; i++) {
        const char *s = NULL;
        if ((st = kith_eng_in_string(v, parts[i], needed[i], 1, ADDRESS_PART_MAX, &s, err)) !=
            KITH_OK) {
            json_decref(*out);
            return at_path(st, err, param);
        }
        if (strcmp(parts[i], "country") == 0 &&
            (strlen(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')) {
            json_decref(*out);
            char p[128];
            snprintf(p, sizeof(p), "%s.country", param);
            return kith_err_set(err, KITH_E_INVALID_PARAM, p,
                                "'country' is an ISO 3166-1 alpha-2 code such as GB");
        }
        json_object_set_new(*out, parts[i], s ? json_string(s) : json_null());
    }
    return KITH_OK;
}

enum kith_status kith_eng_fulfil_claim_check(json_t *form, json_t *answers, json_t **out,
                                             struct kith_err *err)
{
    if (!json_is_object(answers))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "answers",
                            "'answers' is an object of field name -> answer");
    const char *key;
    json_t *v;
    json_object_foreach(answers, key, v)
    {
        bool known = false;
        size_t i;
        json_t *f;
        json_array_foreach(form, i, f) known =
            known || strcmp(kith_eng_row_str(f, "name"), key) == 0;
        if (!known) {
            char param[96];
            snprintf(param, sizeof(param), "answers.%s", key);
            return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                "the claim form has no field '%s'", key);
        }
    }
    *out = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(form, i, f)
    {
        const char *name = kith_eng_row_str(f, "name"), *type = kith_eng_row_str(f, "type");
        char param[96];
        snprintf(param, sizeof(param), "answers.%s", name);
        v = json_object_get(answers, name);
        enum kith_status st = KITH_OK;
        json_t *norm = NULL;
        if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
            if (json_is_true(json_object_get(f, "required")))
                st = kith_err_set(err, KITH_E_INVALID_PARAM, param, "'%s' is required", name);
            else
                norm = json_null();
        } else if (strcmp(type, "address") == 0) {
            st = check_address(v, param, &norm, err);
        } else if (!json_is_string(v) || json_string_length(v) > CLAIM_TEXT_MAX ||
                   !kith_valid_utf8(json_string_value(v), json_string_length(v)) ||
                   memchr(json_string_value(v), '\0', json_string_length(v))) {
            st = kith_err_set(err, KITH_E_INVALID_PARAM, param,
                              "'%s' is a text of at most %d bytes", name, CLAIM_TEXT_MAX);
        } else if (strcmp(type, "choice") == 0) {
            bool listed = false;
            size_t j;
            json_t *c;
            json_array_foreach(json_object_get(f, "choices"), j, c) listed =
                listed || strcmp(json_string_value(c), json_string_value(v)) == 0;
            if (listed)
                norm = json_incref(v);
            else
                st = kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                  "'%s' must be one of the form's choices", name);
        } else {
            norm = json_incref(v);
        }
        if (st != KITH_OK) {
            json_decref(*out);
            *out = NULL;
            return st;
        }
        json_object_set_new(*out, name, norm);
    }
    return KITH_OK;
}
