/*
 * template_preview.c: the dashboard's live preview of a message template (CONTRACT 13, 21):
 * POST /v1/programs/{id}/templates/preview renders a template (the program's own, the shipped
 * default, or the draft text the request carries) with the same single-pass renderer and the
 * same variables notifications use, filled with an example person, friend and reward drawn
 * from the program's settings. It stores nothing and sends nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/templates.h"

/* The reward an example message names: the first rule for the side the template speaks to. */
static void example_reward(json_t *cfg, const char *name, char *out, size_t outsize)
{
    const char *side = strstr(name, "_referred") ? "referred" : "referrer";
    json_t *rules = json_object_get(cfg, "rewards"), *rule;
    size_t i;
    out[0] = '\0';
    json_array_foreach(rules, i, rule)
    {
        const char *to = json_string_value(json_object_get(rule, "to"));
        if (to && strcmp(to, side) == 0) {
            kith_template_reward_text(rule, out, outsize);
            return;
        }
    }
    kith_strlcpy(out, "a thank-you", outsize);
}

/* The first track's and its first level's names, for level_reached. */
static void example_level(json_t *cfg, const char **track, const char **level)
{
    json_t *t = json_array_get(json_object_get(cfg, "tracks"), 0);
    json_t *l = json_array_get(json_object_get(t, "levels"), 0);
    *track = json_string_value(json_object_get(t, "name"));
    *level = json_string_value(json_object_get(l, "name"));
    if (*track == NULL)
        *track = "Connector";
    if (*level == NULL)
        *level = "Friend of the Circle";
}

enum kith_status kith_op_template_preview(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                          struct kith_err *err)
{
    static const char *const fields[] = {"name", "subject", "body", NULL};
    const char *name = NULL, *subject = NULL, *body = NULL;
    json_t *row = NULL, *cfg = NULL;
    char *rs = NULL, *rb = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "name", true, 1, 80, &name, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "subject", false, 0, 300, &subject, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "body", false, 0, 4000, &body, err)) != KITH_OK)
        return st;
    const struct kith_template *d = kith_template_default(name);
    if (d == NULL)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "name", "no template is called '%s'", name);
    if (subject && !d->subject)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "subject", "'%s' has no subject", name);
    char bad[48];
    if (subject && !kith_template_check(subject, bad, sizeof(bad)))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "subject", "unknown placeholder {{%s}}",
                            bad);
    if (body && !kith_template_check(body, bad, sizeof(bad)))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "body", "unknown placeholder {{%s}}", bad);
    if ((st = kith_eng_load_row(tx, "programs", call->params[0], "program", &row, err)) != KITH_OK)
        return st;
    if ((st = kith_eng_prog_config(tx, call->params[0], &cfg)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the program");
        goto out;
    }
    json_t *own = json_object_get(json_object_get(cfg, "templates"), name);
    const char *own_s = json_string_value(json_object_get(own, "subject"));
    const char *own_b = json_string_value(json_object_get(own, "body"));
    const char *ts = subject ? subject : (own_s ? own_s : d->subject);
    const char *tb = body ? body : (own_b ? own_b : d->body);
    char reward[256], link[1100], resource_url[1200];
    example_reward(cfg, name, reward, sizeof(reward));
    snprintf(link, sizeof(link), "%s/r/JANE-2847", call->eng->public_url);
    snprintf(resource_url, sizeof(resource_url), "%s/starter-guide", link);
    const char *track, *level;
    example_level(cfg, &track, &level);
    struct kith_template_vars v = {
        .first_name = "Jane",
        .code = "JANE-2847",
        .share_url = link,
        .friend_first_name = "Sam",
        .reward = reward,
        .program_name = json_string_value(json_object_get(cfg, "name")),
        .track_name = track,
        .level_name = level,
        .resource_title = "The starter guide",
        .resource_url = resource_url,
        .summary = "Two friends joined through your link last month, and one of them has "
                   "settled in. Thank you.",
    };
    rs = ts ? kith_template_render(ts, &v, true) : NULL;
    rb = kith_template_render(tb, &v, false);
    json_t *vars =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?,s:s,s:s,s:s,s:s,s:s}", "first_name", v.first_name,
                  "code", v.code, "share_url", v.share_url, "friend_first_name",
                  v.friend_first_name, "reward", v.reward, "program_name", v.program_name,
                  "track_name", v.track_name, "level_name", v.level_name, "resource_title",
                  v.resource_title, "resource_url", v.resource_url, "summary", v.summary);
    *out = json_pack("{s:s,s:s?,s:s,s:{s:s?,s:s},s:b,s:o}", "name", name, "subject", rs, "body", rb,
                     "template", "subject", ts, "body", tb, "customised",
                     (int)(own_s != NULL || own_b != NULL), "variables", vars);
out:
    free(rs);
    free(rb);
    json_decref(row);
    json_decref(cfg);
    return st;
}
