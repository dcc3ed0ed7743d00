/*
 * input.c: checks what a request carries against the contract before any use case sees it:
 * unknown fields, wrong types, missing fields and out-of-range values all become
 * KITH_E_INVALID_PARAM naming the field. Query strings are percent-decoded here, strictly. The
 * engine's own text rules (event type names, http URLs) live here too, on top of kith/text.h.
 */
#include <string.h>

#include "engine/internal.h"
#include "kith/clock.h"
#include "kith/text.h"

bool kith_eng_event_type_valid(const char *s)
{
    return kith_valid_word(s, 40, "_.");
}

bool kith_eng_url_valid(const char *s)
{
    static const char *const schemes[] = {"https", "http", NULL};
    return kith_valid_url(s, schemes);
}

enum kith_status kith_eng_in_allowed(json_t *body, const char *const *allowed, struct kith_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++) {
            if (strcmp(*a, key) == 0) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            char shown[64];
            kith_strlcpy(shown, key, sizeof(shown));
            return kith_err_set(err, KITH_E_INVALID_PARAM, shown, "unknown field '%s'", shown);
        }
    }
    return KITH_OK;
}

enum kith_status kith_eng_in_string(json_t *body, const char *name, bool required, size_t min_len,
                                    size_t max_len, const char **out, struct kith_err *err)
{
    json_t *v = json_object_get(body, name);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return kith_err_set(err, KITH_E_INVALID_PARAM, name, "'%s' is required", name);
        return KITH_OK;
    }
    if (!json_is_string(v))
        return kith_err_set(err, KITH_E_INVALID_PARAM, name, "'%s' must be a string", name);
    size_t len = json_string_length(v);
    if (len < min_len || len > max_len)
        return kith_err_set(err, KITH_E_INVALID_PARAM, name, "'%s' must be %zu to %zu bytes long",
                            name, min_len, max_len);
    if (memchr(json_string_value(v), '\0', len) != NULL)
        return kith_err_set(err, KITH_E_INVALID_PARAM, name, "'%s' must not contain NUL", name);
    *out = json_string_value(v);
    return KITH_OK;
}

enum kith_status kith_eng_in_int(json_t *body, const char *name, int64_t min, int64_t max,
                                 int64_t *out, bool *present, struct kith_err *err)
{
    json_t *v = json_object_get(body, name);
    if (present)
        *present = false;
    if (v == NULL || json_is_null(v))
        return KITH_OK;
    if (!json_is_integer(v))
        return kith_err_set(err, KITH_E_INVALID_PARAM, name, "'%s' must be an integer", name);
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return kith_err_set(err, KITH_E_INVALID_PARAM, name, "'%s' must be between %lld and %lld",
                            name, (long long)min, (long long)max);
    *out = n;
    if (present)
        *present = true;
    return KITH_OK;
}

enum kith_status kith_eng_in_bool(json_t *body, const char *name, bool *out, bool *present,
                                  struct kith_err *err)
{
    json_t *v = json_object_get(body, name);
    if (present)
        *present = false;
    if (v == NULL || json_is_null(v))
        return KITH_OK;
    if (!json_is_boolean(v))
        return kith_err_set(err, KITH_E_INVALID_PARAM, name, "'%s' must be true or false", name);
    *out = json_is_true(v);
    if (present)
        *present = true;
    return KITH_OK;
}

enum kith_status kith_eng_in_time(json_t *body, const char *name, int64_t *out, bool *present,
                                  struct kith_err *err)
{
    const char *s = NULL;
    enum kith_status st = kith_eng_in_string(body, name, false, 1, 40, &s, err);
    if (present)
        *present = false;
    if (st != KITH_OK || s == NULL)
        return st;
    if (!kith_time_parse(s, out))
        return kith_err_set(err, KITH_E_INVALID_PARAM, name,
                            "'%s' must be an RFC 3339 time such as 2026-11-22T10:00:00Z", name);
    if (present)
        *present = true;
    return KITH_OK;
}

/*
 * Query strings. Names and values decode the same way (kith_pct_decode: strict escapes, '+' is
 * a space, no NUL, UTF-8), so the unknown-parameter check and the lookup agree on what a name
 * is: "li%6Dit=5" is limit=5 for both. A name that does not decode is refused by the check.
 */
#define Q_NAME_MAX 64

/* Walks "a=1&b=2": calls fn with each decoded name and its raw value until it returns non-OK. */
static enum kith_status q_walk(const char *query,
                               enum kith_status (*fn)(const char *name, const char *v, size_t vn,
                                                      void *ctx),
                               void *ctx, struct kith_err *err)
{
    const char *p = query ? query : "";
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t kn = eq ? (size_t)(eq - p) : len;
            const char *v = eq ? eq + 1 : p + len;
            size_t vn = eq ? len - kn - 1 : 0;
            char name[Q_NAME_MAX];
            if (kith_pct_decode(p, kn, true, name, sizeof(name), NULL) != KITH_OK)
                return kith_err_set(err, KITH_E_INVALID_PARAM, NULL,
                                    "malformed query parameter name");
            enum kith_status st = fn(name, v, vn, ctx);
            if (st != KITH_OK)
                return st;
        }
        p += len + (amp ? 1 : 0);
    }
    return KITH_OK;
}

struct allowed_ctx {
    const char *const *allowed;
    struct kith_err *err;
};

static enum kith_status check_key(const char *name, const char *v, size_t vn, void *ctx)
{
    struct allowed_ctx *a = ctx;
    for (const char *const *n = a->allowed; *n; n++) {
        if (strcmp(*n, name) == 0)
            return KITH_OK;
    }
    return kith_err_set(a->err, KITH_E_INVALID_PARAM, name, "unknown query parameter '%s'", name);
}

enum kith_status kith_eng_q_allowed(const char *query, const char *const *allowed,
                                    struct kith_err *err)
{
    struct allowed_ctx a = {allowed, err};
    return q_walk(query, check_key, &a, err);
}

struct get_ctx {
    const char *name;
    char *out;
    size_t outsize;
    bool found;
    struct kith_err *err;
};

static enum kith_status get_key(const char *name, const char *v, size_t vn, void *ctx)
{
    struct get_ctx *g = ctx;
    if (strcmp(g->name, name) != 0)
        return KITH_OK;
    if (kith_pct_decode(v, vn, true, g->out, g->outsize, NULL) != KITH_OK)
        return kith_err_set(g->err, KITH_E_INVALID_PARAM, g->name,
                            "query parameter '%s' is malformed, not UTF-8 or too long", g->name);
    g->found = true;
    return KITH_OK;
}

enum kith_status kith_eng_q_string(const char *query, const char *name, char *out, size_t outsize,
                                   bool *present, struct kith_err *err)
{
    struct get_ctx g = {name, out, outsize, false, err};
    enum kith_status st = q_walk(query, get_key, &g, err);
    *present = g.found && st == KITH_OK;
    return st;
}

enum kith_status kith_eng_q_page(const char *query, int64_t *limit, int64_t *after,
                                 struct kith_err *err)
{
    char buf[32];
    bool present;
    enum kith_status st;
    *limit = 50;
    *after = 0;
    if ((st = kith_eng_q_string(query, "limit", buf, sizeof(buf), &present, err)) != KITH_OK)
        return st;
    if (present) {
        char *end = NULL;
        long long n = strtoll(buf, &end, 10);
        if (*buf == '\0' || *end != '\0' || n < 1 || n > 500)
            return kith_err_set(err, KITH_E_INVALID_PARAM, "limit",
                                "'limit' must be an integer from 1 to 500");
        *limit = n;
    }
    if ((st = kith_eng_q_string(query, "cursor", buf, sizeof(buf), &present, err)) != KITH_OK)
        return st;
    if (present) {
        char *end = NULL;
        long long n = strncmp(buf, "c_", 2) == 0 ? strtoll(buf + 2, &end, 10) : -1;
        if (n < 0 || end == NULL || *end != '\0' || buf[2] == '\0')
            return kith_err_set(err, KITH_E_INVALID_PARAM, "cursor", "'cursor' is not valid");
        *after = n;
    }
    return KITH_OK;
}

json_t *kith_eng_list_page(json_t *rows, int64_t limit, kith_render_fn render, struct kith_tx *tx,
                           void *ctx)
{
    json_t *data = json_array();
    size_t n = json_array_size(rows);
    bool more = (int64_t)n > limit;
    int64_t last = 0;
    for (size_t i = 0; i < n && (int64_t)i < limit; i++) {
        json_t *row = json_array_get(rows, i);
        last = json_integer_value(json_object_get(row, "cur"));
        json_object_del(row, "cur");
        json_array_append_new(data, render(tx, ctx, row));
    }
    json_t *out = json_pack("{s:o, s:b}", "data", data, "has_more", more);
    if (more) {
        char cur[32];
        snprintf(cur, sizeof(cur), "c_%lld", (long long)last);
        json_object_set_new(out, "next_cursor", json_string(cur));
    } else {
        json_object_set_new(out, "next_cursor", json_null());
    }
    return out;
}

enum kith_status kith_eng_list_children(struct kith_tx *tx, struct kith_call *call,
                                        const char *parent_table, const char *parent_what,
                                        enum kith_query query, kith_render_fn render, json_t **out,
                                        struct kith_err *err)
{
    static const char *const allowed[] = {"limit", "cursor", NULL};
    int64_t limit, after;
    json_t *rows = NULL, *parent = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_page(call->query, &limit, &after, err)) != KITH_OK ||
        (st = kith_eng_load_row(tx, parent_table, call->params[0], parent_what, &parent, err)) !=
            KITH_OK)
        return st;
    json_decref(parent);
    json_t *args = json_pack("[IsI]", (json_int_t)after, call->params[0], (json_int_t)(limit + 1));
    st = kith_store_query(tx, query, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not list them");
    *out = kith_eng_list_page(rows, limit, render, tx, NULL);
    json_decref(rows);
    return KITH_OK;
}
