/*
 * track_settings.c: the program setting `tracks` (CONTRACT section 15): each track's id, name,
 * what it counts, its window and grace period, and its levels with their `at`, approval and
 * grants. Types and fields are checked here, the rules between them (limits, unique ids,
 * strictly increasing `at`) by src/advocacy; the result is the normalised list stored in the
 * program's settings, every default filled in, so what a client reads back is what applies. It
 * is not for what a level does once reached (tracks.c, levels.c).
 */
#include <string.h>

#include "engine/tracks.h"
#include "kith/rewards.h"

#define GRANTS_MAX 10
#define NAME_MAX_BYTES 200

static const char *const track_fields[] = {
    "id", "name", "counts", "window_days", "downgrade_grace_days", "levels", NULL};
static const char *const level_fields[] = {"id", "name", "at", "approval", "grants", NULL};
static const char *const grant_fields[] = {"kind",         "amount", "currency", "description",
                                           "expires_days", "role",   NULL};

static bool currency_valid(const char *s)
{
    return s && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
           s[2] >= 'A' && s[2] <= 'Z';
}

/* "path.name" into buf; a path too long for err->param is cut (the message names it whole). */
static const char *field(char *buf, size_t size, const char *path, const char *name)
{
    if (snprintf(buf, size, "%s.%s", path, name) >= (int)size)
        buf[size - 1] = '\0';
    return buf;
}

/* Names the field inside its track, level or grant: "tracks[0].levels[2].grants[1].kind". */
static enum kith_status inside(enum kith_status st, struct kith_err *err, const char *path)
{
    if (st != KITH_OK && err) {
        char full[sizeof(err->param) + 64];
        kith_strlcpy(err->param, field(full, sizeof(full), path, err->param), sizeof(err->param));
    }
    return st;
}

static enum kith_status parse_grant(json_t *in, const char *path, json_t **norm,
                                    struct kith_err *err)
{
    const char *kind = NULL, *cur = NULL, *desc = NULL, *role = NULL;
    int64_t amount = 0, exp = 0;
    bool has_amount = false, has_exp = false;
    enum kith_status st;
    char param[96];
    if (!json_is_object(in))
        return kith_err_set(err, KITH_E_INVALID_PARAM, path, "each grant is an object");
    if ((st = kith_eng_in_allowed(in, grant_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "kind", true, 1, 32, &kind, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "currency", false, 3, 3, &cur, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "description", false, 1, KITH_REWARD_DESCRIPTION_MAX, &desc,
                                 err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "role", false, 1, KITH_ADV_ID_MAX, &role, err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "amount", 1, INT64_C(1000000000000), &amount, &has_amount,
                              err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "expires_days", 1, 36500, &exp, &has_exp, err)) != KITH_OK)
        return inside(st, err, path);
#define GRANT_PARAM(name) field(param, sizeof(param), path, name)
    *norm = json_object();
    if (strcmp(kind, "role") == 0) {
        if (role == NULL || !kith_adv_role_valid(role)) {
            json_decref(*norm);
            return kith_err_set(err, KITH_E_INVALID_PARAM, GRANT_PARAM("role"),
                                "%s: a role grant names its 'role', matching [a-z0-9_]{1,40}",
                                path);
        }
        if (has_amount || cur || has_exp) {
            json_decref(*norm);
            return kith_err_set(err, KITH_E_INVALID_PARAM,
                                has_amount ? GRANT_PARAM("amount")
                                : cur      ? GRANT_PARAM("currency")
                                           : GRANT_PARAM("expires_days"),
                                "%s: a role grant carries no amount, currency or expiry", path);
        }
        json_object_set_new(*norm, "kind", json_string("role"));
        json_object_set_new(*norm, "role", json_string(role));
        json_object_set_new(*norm, "description", desc ? json_string(desc) : json_null());
        return KITH_OK;
    }
    enum kith_reward_kind k;
    const char *bad = NULL, *why = NULL;
    if (!kith_reward_kind_parse(kind, &k)) {
        bad = GRANT_PARAM("kind");
        why = "is not a reward kind or 'role'";
    } else if (role) {
        bad = GRANT_PARAM("role");
        why = "names a role, but only a 'role' grant may";
    } else if (cur && !currency_valid(cur)) {
        bad = GRANT_PARAM("currency");
        why = "needs an ISO 4217 currency such as USD";
    } else if (kith_reward_kind_monetary(k) && !has_amount) {
        bad = GRANT_PARAM("amount");
        why = "needs an amount in minor units";
    } else if (kith_reward_kind_monetary(k) && !cur) {
        bad = GRANT_PARAM("currency");
        why = "needs a currency";
    } else if (!kith_reward_kind_monetary(k) && !desc) {
        bad = GRANT_PARAM("description");
        why = "needs a description";
    }
#undef GRANT_PARAM
    if (bad) {
        json_decref(*norm);
        return kith_err_set(err, KITH_E_INVALID_PARAM, bad, "%s: a '%s' grant %s", path, kind, why);
    }
    json_object_set_new(*norm, "kind", json_string(kind));
    json_object_set_new(*norm, "amount", has_amount ? json_integer(amount) : json_null());
    json_object_set_new(*norm, "currency", cur ? json_string(cur) : json_null());
    json_object_set_new(*norm, "description", desc ? json_string(desc) : json_null());
    json_object_set_new(*norm, "expires_days", has_exp ? json_integer(exp) : json_null());
    return KITH_OK;
}

static enum kith_status parse_level(json_t *in, const char *path, struct kith_adv_level *l,
                                    json_t **norm, struct kith_err *err)
{
    const char *id = NULL, *name = NULL, *approval = NULL;
    int64_t at = 0;
    enum kith_status st;
    char param[96];
    if (!json_is_object(in))
        return kith_err_set(err, KITH_E_INVALID_PARAM, path, "each level is an object");
    if ((st = kith_eng_in_allowed(in, level_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "id", true, 1, KITH_ADV_ID_MAX, &id, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "name", false, 1, NAME_MAX_BYTES, &name, err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "at", 1, KITH_ADV_AT_MAX, &at, NULL, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "approval", false, 1, 16, &approval, err)) != KITH_OK)
        return inside(st, err, path);
    if (json_object_get(in, "at") == NULL || json_is_null(json_object_get(in, "at")))
        return kith_err_set(err, KITH_E_INVALID_PARAM, field(param, sizeof(param), path, "at"),
                            "%s.at is required: the count that reaches the level", path);
    if (approval && strcmp(approval, "auto") != 0 && strcmp(approval, "owner") != 0)
        return kith_err_set(err, KITH_E_INVALID_PARAM,
                            field(param, sizeof(param), path, "approval"),
                            "%s.approval must be 'auto' or 'owner'", path);
    memset(l, 0, sizeof(*l));
    kith_strlcpy(l->id, id, sizeof(l->id));
    l->at = at;
    l->owner_approval = approval && strcmp(approval, "owner") == 0;
    json_t *grants_in = json_object_get(in, "grants"), *grants = json_array();
    if (grants_in && !json_is_null(grants_in)) {
        if (!json_is_array(grants_in) || json_array_size(grants_in) > GRANTS_MAX) {
            json_decref(grants);
            return kith_err_set(
                err, KITH_E_INVALID_PARAM, field(param, sizeof(param), path, "grants"),
                "%s.grants must be an array of at most %d grants", path, GRANTS_MAX);
        }
        size_t i;
        json_t *g;
        json_array_foreach(grants_in, i, g)
        {
            json_t *gn = NULL;
            char sub[32];
            snprintf(sub, sizeof(sub), "grants[%zu]", i);
            field(param, sizeof(param), path, sub);
            if ((st = parse_grant(g, param, &gn, err)) != KITH_OK) {
                json_decref(grants);
                return st;
            }
            json_array_append_new(grants, gn);
        }
    }
    *norm = json_object();
    json_object_set_new(*norm, "id", json_string(id));
    json_object_set_new(*norm, "name", json_string(name ? name : id));
    json_object_set_new(*norm, "at", json_integer(at));
    json_object_set_new(*norm, "approval", json_string(l->owner_approval ? "owner" : "auto"));
    json_object_set_new(*norm, "grants", grants);
    return KITH_OK;
}

/* One track into t and its normalised settings; the rules between fields come after. */
static enum kith_status parse_track(json_t *in, size_t idx, struct kith_adv_track *t, json_t **norm,
                                    struct kith_err *err)
{
    const char *id = NULL, *name = NULL, *counts = NULL;
    int64_t window = 0, grace = 30;
    bool has_window = false;
    enum kith_status st;
    char path[32], param[96];
    snprintf(path, sizeof(path), "tracks[%zu]", idx);
    if (!json_is_object(in))
        return kith_err_set(err, KITH_E_INVALID_PARAM, path, "each track is an object");
    if ((st = kith_eng_in_allowed(in, track_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "id", true, 1, KITH_ADV_ID_MAX, &id, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "name", false, 1, NAME_MAX_BYTES, &name, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "counts", true, 1, 64, &counts, err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "window_days", 1, KITH_ADV_DAYS_MAX, &window, &has_window,
                              err)) != KITH_OK ||
        (st = kith_eng_in_int(in, "downgrade_grace_days", 0, KITH_ADV_DAYS_MAX, &grace, NULL,
                              err)) != KITH_OK)
        return inside(st, err, path);
    memset(t, 0, sizeof(*t));
    kith_strlcpy(t->id, id, sizeof(t->id));
    if (!kith_adv_counts_parse(counts, &t->counts, t->activity))
        return kith_err_set(err, KITH_E_INVALID_PARAM, field(param, sizeof(param), path, "counts"),
                            "%s.counts must be qualified_referrals, signups, resource_signups or "
                            "activity:<type> ([a-z0-9_]{1,40})",
                            path);
    t->window_days = has_window ? window : 0;
    t->grace_days = grace;
    json_t *levels_in = json_object_get(in, "levels");
    if (!json_is_array(levels_in) || json_array_size(levels_in) < 1 ||
        json_array_size(levels_in) > KITH_ADV_LEVELS_MAX)
        return kith_err_set(err, KITH_E_INVALID_PARAM, field(param, sizeof(param), path, "levels"),
                            "%s.levels must be an array of 1 to %d levels", path,
                            KITH_ADV_LEVELS_MAX);
    json_t *levels = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(levels_in, i, l)
    {
        json_t *ln = NULL;
        char sub[32];
        snprintf(sub, sizeof(sub), "levels[%zu]", i);
        field(param, sizeof(param), path, sub);
        if ((st = parse_level(l, param, &t->levels[i], &ln, err)) != KITH_OK) {
            json_decref(levels);
            return st;
        }
        json_array_append_new(levels, ln);
    }
    t->nlevels = json_array_size(levels_in);
    char cname[64];
    kith_adv_counts_name(t, cname, sizeof(cname));
    *norm = json_object();
    json_object_set_new(*norm, "id", json_string(id));
    json_object_set_new(*norm, "name", json_string(name ? name : id));
    json_object_set_new(*norm, "counts", json_string(cname));
    json_object_set_new(*norm, "window_days", has_window ? json_integer(window) : json_null());
    json_object_set_new(*norm, "downgrade_grace_days", json_integer(grace));
    json_object_set_new(*norm, "levels", levels);
    return KITH_OK;
}

/* Parses a list of tracks into structs (and, when norm is not NULL, the normalised list). */
static enum kith_status parse_all(json_t *in, struct kith_adv_track *t, size_t *n, json_t **norm,
                                  struct kith_err *err)
{
    *n = 0;
    if (norm)
        *norm = json_array();
    if (in == NULL || json_is_null(in))
        return KITH_OK;
    if (!json_is_array(in) || json_array_size(in) > KITH_ADV_TRACKS_MAX) {
        if (norm) {
            json_decref(*norm);
            *norm = NULL;
        }
        return kith_err_set(err, KITH_E_INVALID_PARAM, "tracks",
                            "'tracks' must be an array of at most %d tracks", KITH_ADV_TRACKS_MAX);
    }
    size_t i;
    json_t *v;
    enum kith_status st = KITH_OK;
    json_array_foreach(in, i, v)
    {
        json_t *tn = NULL;
        if ((st = parse_track(v, i, &t[i], &tn, err)) != KITH_OK)
            break;
        if (norm)
            json_array_append_new(*norm, tn);
        else
            json_decref(tn);
    }
    if (st == KITH_OK) {
        *n = json_array_size(in);
        st = kith_adv_tracks_validate(t, *n, err);
    }
    if (st != KITH_OK && norm) {
        json_decref(*norm);
        *norm = NULL;
    }
    return st;
}

enum kith_status kith_eng_tracks_parse(json_t *in, json_t **norm, struct kith_err *err)
{
    struct kith_adv_track t[KITH_ADV_TRACKS_MAX];
    size_t n;
    return parse_all(in, t, &n, norm, err);
}

enum kith_status kith_eng_tracks_load(struct kith_tx *tx, const char *program,
                                      struct kith_eng_tracks *out)
{
    memset(out, 0, sizeof(*out));
    json_t *cfg = NULL;
    enum kith_status st = kith_eng_prog_config(tx, program, &cfg);
    if (st == KITH_E_NOT_FOUND)
        return KITH_OK;
    if (st != KITH_OK)
        return st;
    json_t *list = json_object_get(cfg, "tracks");
    if (json_array_size(list) == 0) {
        json_decref(cfg);
        return KITH_OK;
    }
    /* Stored settings were validated when written: a failure here is a bug. */
    if (parse_all(list, out->t, &out->n, NULL, NULL) != KITH_OK) {
        json_decref(cfg);
        out->n = 0;
        return KITH_E_INTERNAL;
    }
    for (size_t i = 0; i < out->n; i++)
        out->json[i] = json_array_get(list, i);
    out->cfg = cfg;
    return KITH_OK;
}

void kith_eng_tracks_dispose(struct kith_eng_tracks *tr)
{
    json_decref(tr->cfg);
    tr->cfg = NULL;
    tr->n = 0;
}

int kith_eng_tracks_find(const struct kith_eng_tracks *tr, const char *id)
{
    for (size_t i = 0; i < tr->n; i++) {
        if (strcmp(tr->t[i].id, id) == 0)
            return (int)i;
    }
    return -1;
}
