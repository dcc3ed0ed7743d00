/*
 * resources.c: shareable resources (CONTRACT section 19): a guide, a lead magnet, a collection
 * page, each its own small acquisition channel with a permanent slug, its own share messages and
 * up to five follow-up e-mails. Create, list, read, update and archive; the checks every way in
 * (API, CSV import, Shopify) shares; the redirect path's view of a resource; and the resources a
 * participant's share answer lists. It is not for leads (leads.c), follow-ups (followups.c) or
 * bulk and automatic sources (resource_sync.c).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/templates.h"
#include "kith/crypto.h"
#include "kith/text.h"

#define SLUG_MAX 60
#define TITLE_MAX 200
#define COLLECTION_MAX 200
#define DESCRIPTION_MAX 1000
#define URL_MAX 2000
#define MESSAGE_MAX 2000
#define FOLLOW_UPS_MAX 5
#define FOLLOW_UP_DAYS_MAX 365
#define SUBJECT_MAX 200
#define BODY_MAX 10000
#define SHARE_LIST_MAX 500

static const char *const kinds[] = {"guide",   "lead_magnet", "collection",
                                    "product", "event",       "other"};

json_t *kith_eng_render_resource(json_t *row)
{
    json_t *fu = json_loads(
        kith_eng_row_str(row, "follow_ups") ? kith_eng_row_str(row, "follow_ups") : "[]", 0, NULL);
    json_t *out = json_object();
    static const char *const cols[] = {"program", "slug",       "title",       "kind",
                                       "url",     "collection", "description", "share_message"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(cols); i++)
        json_object_set_new(out, cols[i], kith_eng_str_or_null(row, cols[i]));
    json_object_set_new(out, "gated", json_boolean(kith_eng_row_int(row, "gated") != 0));
    json_object_set_new(out, "follow_ups", fu ? fu : json_array());
    json_object_set_new(out, "status", kith_eng_str_or_null(row, "status"));
    json_object_set_new(out, "source", kith_eng_str_or_null(row, "source"));
    json_object_set_new(out, "created_at", kith_eng_time_or_null(row, "created_at"));
    json_object_set_new(out, "updated_at", kith_eng_time_or_null(row, "updated_at"));
    return out;
}

enum kith_status kith_eng_resource_load(struct kith_tx *tx, const char *program, const char *slug,
                                        json_t **out, struct kith_err *err)
{
    json_t *args = json_pack("[ss]", program, slug);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_RESOURCES_BY_SLUG, args, out);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND)
        return kith_err_set(err, st, "slug", "no such resource in program '%s'", program);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the resource");
    return KITH_OK;
}

/* A template field: text whose {{placeholders}} are all known. */
static enum kith_status template_field(json_t *obj, const char *name, const char *param, size_t max,
                                       bool required, const char **out, struct kith_err *err)
{
    enum kith_status st = kith_eng_in_string(obj, name, required, 1, max, out, err);
    if (st != KITH_OK) {
        kith_strlcpy(err->param, param, sizeof(err->param));
        return st;
    }
    char bad[64];
    if (*out && !kith_template_check(*out, bad, sizeof(bad)))
        return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                            "'%s' uses an unknown variable {{%s}}", param, bad);
    return KITH_OK;
}

/* follow_ups: up to five {after_days, subject, body}, sent in list order, so after_days may
 * not go down. Stored as compact JSON text. */
static enum kith_status follow_ups_field(json_t *v, json_t *set, struct kith_err *err)
{
    static const char *const allowed[] = {"after_days", "subject", "body", NULL};
    if (json_is_null(v))
        v = NULL;
    if (v != NULL && !json_is_array(v))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "follow_ups", "'follow_ups' must be a list");
    if (json_array_size(v) > FOLLOW_UPS_MAX)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "follow_ups",
                            "a resource has at most %d follow-ups", FOLLOW_UPS_MAX);
    json_t *clean = json_array();
    int64_t prev = 0;
    size_t i;
    json_t *f;
    enum kith_status st = KITH_OK;
    json_array_foreach(v, i, f)
    {
        char param[24];
        int64_t days = 0;
        bool has_days = false;
        const char *subject = NULL, *body = NULL;
        snprintf(param, sizeof(param), "follow_ups[%u]", (unsigned)i);
        if (!json_is_object(f)) {
            st = kith_err_set(err, KITH_E_INVALID_PARAM, param, "'%s' must be an object", param);
            break;
        }
        if ((st = kith_eng_in_allowed(f, allowed, err)) != KITH_OK) {
            char field[32];
            kith_strlcpy(field, err->param, sizeof(field));
            snprintf(err->param, sizeof(err->param), "%s.%s", param, field);
            break;
        }
        char p_days[80], p_subject[80], p_body[80];
        snprintf(p_days, sizeof(p_days), "%s.after_days", param);
        snprintf(p_subject, sizeof(p_subject), "%s.subject", param);
        snprintf(p_body, sizeof(p_body), "%s.body", param);
        if ((st = kith_eng_in_int(f, "after_days", 0, FOLLOW_UP_DAYS_MAX, &days, &has_days, err)) !=
                KITH_OK ||
            (!has_days && (st = kith_err_set(err, KITH_E_INVALID_PARAM, p_days, "'%s' is required",
                                             p_days)) != KITH_OK)) {
            kith_strlcpy(err->param, p_days, sizeof(err->param));
            break;
        }
        if (days < prev) {
            st = kith_err_set(err, KITH_E_INVALID_PARAM, p_days,
                              "follow-ups are sent in order: after_days may not go down");
            break;
        }
        prev = days;
        if ((st = template_field(f, "subject", p_subject, SUBJECT_MAX, true, &subject, err)) !=
                KITH_OK ||
            (st = template_field(f, "body", p_body, BODY_MAX, true, &body, err)) != KITH_OK)
            break;
        json_array_append_new(clean, json_pack("{s:I,s:s,s:s}", "after_days", (json_int_t)days,
                                               "subject", subject, "body", body));
    }
    if (st == KITH_OK) {
        char *text = json_dumps(clean, JSON_COMPACT);
        json_object_set_new(set, "follow_ups", json_string(text));
        free(text);
    }
    json_decref(clean);
    return st;
}

enum kith_status kith_eng_resource_fields(json_t *body, bool create, bool with_status, json_t *set,
                                          struct kith_err *err)
{
    const char *title = NULL, *kind = NULL, *url = NULL, *collection = NULL, *description = NULL,
               *message = NULL, *status = NULL;
    bool gated = false, has_gated = false;
    enum kith_status st;
    if ((st = kith_eng_in_string(body, "title", create, 1, TITLE_MAX, &title, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "kind", false, 1, 20, &kind, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "url", create, 1, URL_MAX, &url, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "collection", false, 0, COLLECTION_MAX, &collection, err)) !=
            KITH_OK ||
        (st = kith_eng_in_string(body, "description", false, 0, DESCRIPTION_MAX, &description,
                                 err)) != KITH_OK ||
        (st = kith_eng_in_bool(body, "gated", &gated, &has_gated, err)) != KITH_OK ||
        (st = template_field(body, "share_message", "share_message", MESSAGE_MAX, false, &message,
                             err)) != KITH_OK)
        return st;
    if (kind) {
        bool known = false;
        for (size_t i = 0; i < KITH_ARRAY_LEN(kinds); i++)
            known = known || strcmp(kind, kinds[i]) == 0;
        if (!known)
            return kith_err_set(err, KITH_E_INVALID_PARAM, "kind",
                                "'kind' must be guide, lead_magnet, collection, product, event "
                                "or other");
    }
    if (url && !kith_eng_url_valid(url))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "url", "'url' must be an http(s) URL");
    if (with_status) {
        if ((st = kith_eng_in_string(body, "status", false, 1, 20, &status, err)) != KITH_OK)
            return st;
        if (status && strcmp(status, "active") != 0 && strcmp(status, "archived") != 0)
            return kith_err_set(err, KITH_E_INVALID_PARAM, "status",
                                "'status' must be active or archived");
    }
    if (title)
        json_object_set_new(set, "title", json_string(title));
    if (kind)
        json_object_set_new(set, "kind", json_string(kind));
    if (url)
        json_object_set_new(set, "url", json_string(url));
    /* "" and null both clear an optional text. */
    if (json_object_get(body, "collection"))
        json_object_set_new(set, "collection",
                            collection && *collection ? json_string(collection) : json_null());
    if (json_object_get(body, "description"))
        json_object_set_new(set, "description",
                            description && *description ? json_string(description) : json_null());
    if (json_object_get(body, "share_message"))
        json_object_set_new(set, "share_message", message ? json_string(message) : json_null());
    if (has_gated)
        json_object_set_new(set, "gated", json_integer(gated));
    if (status)
        json_object_set_new(set, "status", json_string(status));
    if (json_object_get(body, "follow_ups") &&
        (st = follow_ups_field(json_object_get(body, "follow_ups"), set, err)) != KITH_OK)
        return st;
    return KITH_OK;
}

enum kith_status kith_eng_resource_put(struct kith_tx *tx, const char *program, const char *slug,
                                       json_t *set, const char *source, int64_t now_ms,
                                       bool *created, json_t **out, struct kith_err *err)
{
    json_t *row = NULL;
    enum kith_status st = kith_eng_resource_load(tx, program, slug, &row, err);
    *created = false;
    if (st == KITH_OK) {
        json_t *upd = json_deep_copy(set);
        json_object_set_new(upd, "updated_at", json_integer(now_ms));
        st = kith_store_update(tx, "resources", kith_eng_row_str(row, "id"), upd);
        json_decref(upd);
        /* The sweep alone decides what is due; it looks at these leads again now. */
        if (st == KITH_OK &&
            (json_object_get(set, "follow_ups") || json_object_get(set, "status"))) {
            json_t *args = json_pack("[ssI]", program, slug, (json_int_t)now_ms);
            st = kith_store_exec(tx, KITH_Q_LEADS_RESCHEDULE, args, NULL);
            json_decref(args);
        }
        json_object_update(row, set);
        json_object_set_new(row, "updated_at", json_integer(now_ms));
    } else if (st == KITH_E_NOT_FOUND) {
        char id[KITH_ID_MAX];
        kith_crypto_random_id("res_", id);
        row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:I,s:I}", "id", id, "program", program,
                        "slug", slug, "kind", "other", "status", "active", "gated", 0, "follow_ups",
                        "[]", "source", source, "created_at", (json_int_t)now_ms, "updated_at",
                        (json_int_t)now_ms);
        json_object_update(row, set);
        st = kith_store_insert(tx, "resources", row);
        *created = st == KITH_OK;
    } else {
        return st;
    }
    if (st != KITH_OK) {
        json_decref(row);
        if (st == KITH_E_CONSTRAINT)
            return kith_err_set(err, KITH_E_INVALID_PARAM, "slug",
                                "the slug '%s' is taken in this program", slug);
        return kith_err_set(err, st, NULL, "the database could not store the resource");
    }
    if (out)
        *out = row;
    else
        json_decref(row);
    return KITH_OK;
}

/* The program a query names (or the only one). */
static enum kith_status query_program(struct kith_call *call, struct kith_tx *tx, struct prog *p,
                                      struct kith_err *err)
{
    char program[64];
    bool has = false;
    enum kith_status st =
        kith_eng_q_string(call->query, "program", program, sizeof(program), &has, err);
    if (st != KITH_OK)
        return st;
    return kith_eng_prog_resolve(tx, has ? program : NULL, p, err);
}

enum kith_status kith_op_resource_create(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                         struct kith_err *err)
{
    static const char *const allowed[] = {"program",       "slug",       "title",       "kind",
                                          "url",           "collection", "description", "gated",
                                          "share_message", "follow_ups", NULL};
    const char *program = NULL, *slug = NULL;
    struct prog p;
    json_t *set = json_object(), *row = NULL, *existing = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "program", false, 1, 40, &program, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "slug", true, 1, SLUG_MAX, &slug, err)) != KITH_OK)
        goto out;
    if (!kith_valid_slug(slug, SLUG_MAX)) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "slug",
                          "'slug' must be 1 to 60 characters of a-z, 0-9 and '-'");
        goto out;
    }
    if ((st = kith_eng_resource_fields(call->body, true, false, set, err)) != KITH_OK ||
        (st = kith_eng_prog_resolve(tx, program, &p, err)) != KITH_OK)
        goto out;
    st = kith_eng_resource_load(tx, p.id, slug, &existing, NULL);
    if (st == KITH_OK) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "slug",
                          "the slug '%s' is taken in this program (slugs are permanent)", slug);
        goto out;
    }
    if (st != KITH_E_NOT_FOUND) {
        st = kith_err_set(err, st, NULL, "the database could not read resources");
        goto out;
    }
    bool created = false;
    if ((st = kith_eng_resource_put(tx, p.id, slug, set, "api", call->now_ms, &created, &row,
                                    err)) != KITH_OK)
        goto out;
    if (!created) { /* raced with another create of the same slug */
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "slug", "the slug '%s' is taken", slug);
        goto out;
    }
    call->invalidates_links = true; /* the redirect path may hold this slug as unknown */
    *out = kith_eng_render_resource(row);
    st = KITH_CREATED;
out:
    json_decref(set);
    json_decref(row);
    json_decref(existing);
    return st;
}

static json_t *render_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    (void)tx;
    (void)ctx;
    return kith_eng_render_resource(row);
}

enum kith_status kith_op_resource_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                       struct kith_err *err)
{
    static const char *const allowed[] = {"program", "status", "limit", "cursor", NULL};
    char status[16];
    bool has_status = false;
    int64_t limit, after;
    struct prog p;
    json_t *rows = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_page(call->query, &limit, &after, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "status", status, sizeof(status), &has_status, err)) !=
            KITH_OK)
        return st;
    if (has_status && strcmp(status, "active") != 0 && strcmp(status, "archived") != 0)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "status",
                            "'status' must be active or archived");
    if ((st = query_program(call, tx, &p, err)) != KITH_OK)
        return st;
    json_t *args =
        json_pack("[IsoI]", (json_int_t)after, p.id, has_status ? json_string(status) : json_null(),
                  (json_int_t)(limit + 1));
    st = kith_store_query(tx, KITH_Q_RESOURCES_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not list resources");
    *out = kith_eng_list_page(rows, limit, render_row, tx, NULL);
    json_decref(rows);
    return KITH_OK;
}

enum kith_status kith_op_resource_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                      struct kith_err *err)
{
    static const char *const allowed[] = {"program", NULL};
    struct prog p;
    json_t *row = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = query_program(call, tx, &p, err)) != KITH_OK ||
        (st = kith_eng_resource_load(tx, p.id, call->params[0], &row, err)) != KITH_OK)
        return st;
    *out = kith_eng_render_resource(row);
    json_decref(row);
    return KITH_OK;
}

/* PATCH and archive: the fields in set on an existing resource. */
static enum kith_status change(struct kith_tx *tx, struct kith_call *call, json_t *set,
                               json_t **out, struct kith_err *err)
{
    static const char *const allowed[] = {"program", NULL};
    struct prog p;
    json_t *row = NULL;
    bool created = false;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = query_program(call, tx, &p, err)) != KITH_OK ||
        (st = kith_eng_resource_load(tx, p.id, call->params[0], &row, err)) != KITH_OK)
        return st;
    json_decref(row);
    row = NULL;
    if ((st = kith_eng_resource_put(tx, p.id, call->params[0], set, "api", call->now_ms, &created,
                                    &row, err)) != KITH_OK)
        return st;
    call->invalidates_links = true; /* the redirect path forgets what it cached */
    *out = kith_eng_render_resource(row);
    json_decref(row);
    return KITH_OK;
}

enum kith_status kith_op_resource_update(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                         struct kith_err *err)
{
    static const char *const allowed[] = {"title",       "kind",  "url",           "collection",
                                          "description", "gated", "share_message", "follow_ups",
                                          "status",      "slug",  "program",       NULL};
    json_t *set = json_object();
    enum kith_status st = kith_eng_in_allowed(call->body, allowed, err);
    if (st == KITH_OK &&
        (json_object_get(call->body, "slug") || json_object_get(call->body, "program")))
        st = kith_err_set(err, KITH_E_IMMUTABLE,
                          json_object_get(call->body, "slug") ? "slug" : "program",
                          "a resource's slug and program never change");
    if (st == KITH_OK)
        st = kith_eng_resource_fields(call->body, false, true, set, err);
    if (st == KITH_OK)
        st = change(tx, call, set, out, err);
    json_decref(set);
    return st;
}

enum kith_status kith_op_resource_archive(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                          struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    enum kith_status st = kith_eng_in_allowed(call->body, allowed, err);
    if (st != KITH_OK)
        return st;
    json_t *set = json_pack("{s:s}", "status", "archived");
    st = change(tx, call, set, out, err);
    json_decref(set);
    return st;
}

enum kith_status kith_engine_resource_resolve(struct kith_tx *tx, const char *program,
                                              const char *slug, struct kith_resource_link *out)
{
    json_t *row = NULL;
    struct prog p;
    memset(out, 0, sizeof(*out));
    enum kith_status st = kith_eng_resource_load(tx, program, slug, &row, NULL);
    if (st != KITH_OK)
        return st;
    if ((st = kith_eng_prog_load(tx, program, &p, NULL)) == KITH_OK) {
        const char *d = kith_eng_row_str(row, "description");
        kith_strlcpy(out->slug, slug, sizeof(out->slug));
        kith_strlcpy(out->url, kith_eng_row_str(row, "url"), sizeof(out->url));
        kith_strlcpy(out->title, kith_eng_row_str(row, "title"), sizeof(out->title));
        kith_strlcpy(out->description, d ? d : "", sizeof(out->description));
        kith_strlcpy(out->program_name, p.name, sizeof(out->program_name));
        out->gated = kith_eng_row_int(row, "gated") != 0;
        out->active = strcmp(kith_eng_row_str(row, "status"), "active") == 0;
    }
    json_decref(row);
    return st;
}

/* ---- the share answer's resources ---- */

/* What a sharer is asked ("Know someone who'd love this guide?"), in the resource's words. */
static const char *prompt_of(const char *kind)
{
    if (strcmp(kind, "guide") == 0)
        return "Know someone who'd love this guide?";
    if (strcmp(kind, "collection") == 0)
        return "Know someone who'd love this collection?";
    if (strcmp(kind, "event") == 0)
        return "Know someone who'd enjoy this event?";
    return "Know someone who'd love this?";
}

static const char default_email_subject[] = "Thought of you: {{resource_title}}";
static const char default_email_body[] =
    "Hi,\n\nI came across {{resource_title}} and thought of you. Here it is, if you'd like it: "
    "{{resource_url}}\n\n{{first_name}}\n";
static const char default_short[] =
    "I came across {{resource_title}} and thought of you: {{resource_url}}";

json_t *kith_eng_resources_share(struct kith_tx *tx, const struct kith_engine *eng,
                                 json_t *participant, json_t *cfg, const char *only)
{
    static const char *const channels[] = {"email", "sms", "whatsapp", "social"};
    json_t *rows = NULL, *list = json_array();
    json_t *args = json_pack("[soi]", kith_eng_row_str(participant, "program"),
                             only ? json_string(only) : json_null(), SHARE_LIST_MAX);
    enum kith_status st = kith_store_query(tx, KITH_Q_RESOURCES_ACTIVE, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return list;
    const char *code = kith_eng_row_str(participant, "code");
    const char *first = kith_eng_row_str(participant, "first_name");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *slug = kith_eng_row_str(r, "slug"), *own = kith_eng_row_str(r, "share_message");
        char base[1200];
        snprintf(base, sizeof(base), "%s/r/%s/%s", eng->public_url, code, slug);
        json_t *messages = json_object(), *links = json_object();
        for (size_t c = 0; c < KITH_ARRAY_LEN(channels); c++) {
            char link[1300];
            snprintf(link, sizeof(link), "%s?ch=%s", base, channels[c]);
            struct kith_template_vars v = {
                .first_name = first ? first : "",
                .code = code,
                .share_url = link,
                .friend_first_name = "",
                .reward = "",
                .program_name = json_string_value(json_object_get(cfg, "name")),
                .resource_title = kith_eng_row_str(r, "title"),
                .resource_url = link,
            };
            bool email = strcmp(channels[c], "email") == 0;
            char *body = kith_template_render(own     ? own
                                              : email ? default_email_body
                                                      : default_short,
                                              &v, false);
            if (email) {
                char *subject = kith_template_render(default_email_subject, &v, true);
                json_object_set_new(messages, "email",
                                    json_pack("{s:s,s:s}", "subject", subject, "body", body));
                free(subject);
            } else {
                json_object_set_new(messages, channels[c], json_string(body));
            }
            free(body);
            json_object_set_new(links, channels[c], json_string(link));
        }
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "slug", slug, "title",
                                              kith_eng_row_str(r, "title"), "prompt",
                                              prompt_of(kith_eng_row_str(r, "kind")), "share_url",
                                              base, "messages", messages, "links", links));
    }
    json_decref(rows);
    return list;
}
