/*
 * resource_sync.c: resources that arrive in bulk or by themselves (CONTRACT section 19): a CSV
 * import that is all or nothing (every line is checked before anything is written, and any bad
 * line answers with every fault found, by line and column), Shopify collections kept as one
 * resource each (create, update, delete), and the per-resource numbers of /v1/metrics. The
 * checks of a resource's fields are resources.c's, shared with the API.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"
#include "kith/csv.h"
#include "kith/text.h"

#define IMPORT_MAX (1024 * 1024)
#define IMPORT_ROWS_MAX 20000
#define IMPORT_ERRORS_MAX 100

static const char *const columns[] = {"slug",       "title",       "kind", "url",
                                      "collection", "description", "gated"};
enum { COL_SLUG, COL_TITLE, COL_KIND, COL_URL, COL_COLLECTION, COL_DESCRIPTION, COL_GATED, NCOLS };

static void add_error(json_t *errors, size_t line, const char *param, const char *message)
{
    if (json_array_size(errors) >= IMPORT_ERRORS_MAX)
        return;
    json_array_append_new(errors, json_pack("{s:I,s:o,s:s}", "line", (json_int_t)line, "param",
                                            param && *param ? json_string(param) : json_null(),
                                            "message", message));
}

/* The header: which column of the file each known column is (-1: absent). */
static bool read_header(const struct kith_csv_record *rec, int where[NCOLS], json_t *errors)
{
    bool ok = true;
    for (int c = 0; c < NCOLS; c++)
        where[c] = -1;
    for (size_t i = 0; i < rec->count; i++) {
        int c = 0;
        while (c < NCOLS && strcmp(rec->fields[i], columns[c]) != 0)
            c++;
        char msg[160];
        if (c == NCOLS) {
            snprintf(msg, sizeof(msg),
                     "unknown column '%.60s' (the header is "
                     "slug,title,kind,url,collection,description,gated)",
                     rec->fields[i]);
            add_error(errors, rec->line, rec->lens[i] < 60 ? rec->fields[i] : NULL, msg);
            ok = false;
        } else if (where[c] >= 0) {
            snprintf(msg, sizeof(msg), "the column '%s' appears twice", columns[c]);
            add_error(errors, rec->line, columns[c], msg);
            ok = false;
        } else {
            where[c] = (int)i;
        }
    }
    static const int required[] = {COL_SLUG, COL_TITLE, COL_URL};
    for (size_t k = 0; k < KITH_ARRAY_LEN(required); k++) {
        if (where[required[k]] < 0) {
            char msg[80];
            snprintf(msg, sizeof(msg), "the header has no '%s' column", columns[required[k]]);
            add_error(errors, rec->line, columns[required[k]], msg);
            ok = false;
        }
    }
    return ok;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, true;
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

/* One data line into a resource body, or an error in errors. */
static json_t *read_row(const struct kith_csv_record *rec, const int where[NCOLS], json_t *errors)
{
    json_t *body = json_object();
    for (int c = 0; c < NCOLS; c++) {
        if (where[c] < 0)
            continue;
        const char *v = rec->fields[where[c]];
        if (c == COL_GATED) {
            bool g = false;
            if (*v && !parse_bool(v, &g)) {
                add_error(errors, rec->line, "gated", "'gated' must be true or false");
                json_decref(body);
                return NULL;
            }
            json_object_set_new(body, "gated", json_boolean(g));
        } else if (c == COL_KIND) {
            json_object_set_new(body, "kind", json_string(*v ? v : "other"));
        } else {
            json_object_set_new(body, columns[c], json_string(v));
        }
    }
    const char *slug = json_string_value(json_object_get(body, "slug"));
    if (!kith_valid_slug(slug, 60)) {
        add_error(errors, rec->line, "slug",
                  "'slug' must be 1 to 60 characters of a-z, 0-9 and '-'");
        json_decref(body);
        return NULL;
    }
    return body;
}

enum kith_status kith_op_resource_import(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                         struct kith_err *err)
{
    static const char *const allowed[] = {"program", NULL};
    char program[64];
    bool has_program = false;
    struct prog p;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK)
        return st;
    const char *ctype = call->header(call->header_ctx, "Content-Type");
    if (ctype == NULL || strncasecmp(ctype, "text/csv", 8) != 0 ||
        (ctype[8] != '\0' && ctype[8] != ';' && ctype[8] != ' '))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "Content-Type",
                            "send the file as Content-Type: text/csv");
    if (call->raw_len > IMPORT_MAX)
        return kith_err_set(err, KITH_E_TOO_LARGE, NULL, "an import is at most 1 MiB");
    if ((st = kith_eng_prog_resolve(tx, has_program ? program : NULL, &p, err)) != KITH_OK)
        return st;

    json_t *errors = json_array(), *rows = json_array(), *seen = json_object();
    if (!kith_valid_utf8(call->raw_body, call->raw_len)) {
        size_t line = 1;
        for (size_t i = 0; i < call->raw_len; i++) {
            uint32_t cp;
            size_t n =
                kith_utf8_decode((const unsigned char *)call->raw_body + i, call->raw_len - i, &cp);
            if (cp == UINT32_MAX)
                break;
            line += call->raw_body[i] == '\n';
            i += n - 1;
        }
        add_error(errors, line, NULL, "the file is not UTF-8 text");
    } else {
        struct kith_csv_reader r;
        struct kith_csv_record rec = {0};
        struct kith_err cerr = {{0}, {0}};
        int where[NCOLS];
        kith_csv_reader_init(&r, call->raw_body, call->raw_len);
        enum kith_status cst = kith_csv_next(&r, &rec, &cerr);
        if (cst != KITH_OK && cst != KITH_E_NOT_FOUND)
            add_error(errors, rec.line, NULL, cerr.message);
        else if (cst == KITH_E_NOT_FOUND || rec.count == 0)
            add_error(errors, 1, NULL, "the file is empty: it needs a header row");
        else if (read_header(&rec, where, errors)) {
            size_t header_count = rec.count;
            for (;;) {
                cst = kith_csv_next(&r, &rec, &cerr);
                if (cst == KITH_E_NOT_FOUND)
                    break; /* the end (blank lines are skipped by the reader) */
                if (cst != KITH_OK) {
                    add_error(errors, rec.line, NULL, cerr.message);
                    break;
                }
                char msg[160];
                if (rec.count != header_count) {
                    snprintf(msg, sizeof(msg), "%zu fields where the header has %zu", rec.count,
                             header_count);
                    add_error(errors, rec.line, NULL, msg);
                    continue;
                }
                if (json_array_size(rows) >= IMPORT_ROWS_MAX) {
                    add_error(errors, rec.line, NULL, "an import holds at most 20000 resources");
                    break;
                }
                json_t *body = read_row(&rec, where, errors);
                if (body == NULL)
                    continue;
                const char *slug = json_string_value(json_object_get(body, "slug"));
                json_t *first = json_object_get(seen, slug);
                if (first) {
                    snprintf(msg, sizeof(msg), "the slug '%s' is on line %lld already", slug,
                             (long long)json_integer_value(first));
                    add_error(errors, rec.line, "slug", msg);
                    json_decref(body);
                    continue;
                }
                json_object_set_new(seen, slug, json_integer((json_int_t)rec.line));
                json_t *set = json_object();
                struct kith_err ferr = {{0}, {0}};
                if (kith_eng_resource_fields(body, true, false, set, &ferr) != KITH_OK) {
                    add_error(errors, rec.line, ferr.param, ferr.message);
                    json_decref(set);
                } else {
                    json_array_append_new(rows, json_pack("{s:s,s:o}", "slug", slug, "set", set));
                }
                json_decref(body);
            }
        }
        kith_csv_record_dispose(&rec);
    }
    int64_t created = 0, updated = 0;
    if (json_array_size(errors) > 0) {
        json_t *e0 = json_array_get(errors, 0);
        st = kith_err_set(
            err, KITH_E_INVALID_PARAM, json_string_value(json_object_get(e0, "param")),
            "%zu%s line%s of the file %s not valid; nothing was imported", json_array_size(errors),
            json_array_size(errors) >= IMPORT_ERRORS_MAX ? " or more" : "",
            json_array_size(errors) == 1 ? "" : "s", json_array_size(errors) == 1 ? "is" : "are");
        call->error_detail = json_pack("{s:O}", "errors", errors);
        goto out;
    }
    /* Everything is valid: write it all (the operation's savepoint makes it all or nothing). */
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        bool was_created = false;
        if ((st = kith_eng_resource_put(tx, p.id, json_string_value(json_object_get(row, "slug")),
                                        json_object_get(row, "set"), "import", call->now_ms,
                                        &was_created, NULL, err)) != KITH_OK)
            goto out;
        was_created ? created++ : updated++;
    }
    call->invalidates_links = true; /* the redirect path may hold these slugs as unknown */
    *out = json_pack("{s:s,s:I,s:I}", "program", p.id, "created", (json_int_t)created, "updated",
                     (json_int_t)updated);
    st = KITH_OK;
out:
    json_decref(errors);
    json_decref(rows);
    json_decref(seen);
    return st;
}

/* ---- Shopify collections ---- */

bool kith_eng_shopify_collection_topic(const char *topic)
{
    return topic && strncmp(topic, "collections/", 12) == 0;
}

static const char *header2(struct kith_call *call, const char *a, const char *b)
{
    const char *v = call->header(call->header_ctx, a);
    return v ? v : call->header(call->header_ctx, b);
}

/* body_html (or a title) as plain text: tags dropped, runs of white space made one space, at
 * most max - 1 bytes, cut between characters (the payload is UTF-8: jansson checked it). */
static void plain_text(const char *html, char *out, size_t max)
{
    size_t n = 0, len = html ? strlen(html) : 0;
    bool in_tag = false, space = true;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = kith_utf8_decode((const unsigned char *)html + i, len - i, &cp);
        char c = html[i];
        if (c == '<' || in_tag) {
            in_tag = c != '>';
            c = in_tag ? '\0' : ' ';
        }
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            if (!space && n + 1 < max)
                out[n++] = ' ';
            space = true;
        } else if (c != '\0' && cp != UINT32_MAX && (unsigned char)c >= 0x20) {
            if (n + k >= max)
                break;
            memcpy(out + n, html + i, k);
            n += k;
            space = false;
        }
        i += k;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

static json_t *received(const char *why)
{
    return json_pack("{s:b,s:s}", "received", 1, "ignored", why);
}

enum kith_status kith_eng_shopify_collection(struct kith_tx *tx, struct kith_call *call,
                                             const struct prog *p, const char *topic,
                                             json_t *payload, json_t **out, struct kith_err *err)
{
    json_t *id = json_object_get(payload, "id"), *row = NULL;
    char ext[48];
    enum kith_status st;
    if (!json_is_integer(id)) {
        *out = received("collection_id");
        return KITH_OK;
    }
    snprintf(ext, sizeof(ext), "shopify:%lld", (long long)json_integer_value(id));
    json_t *args = json_pack("[ss]", p->id, ext);
    st = kith_store_query_one(tx, KITH_Q_RESOURCES_BY_EXTERNAL, args, &row);
    json_decref(args);
    if (st != KITH_OK && st != KITH_E_NOT_FOUND)
        return kith_err_set(err, st, NULL, "the database could not read resources");
    st = KITH_OK; /* row is NULL for a collection kith has no resource of yet */
    bool created = false;
    json_t *set = json_object(), *res = NULL;
    if (strcmp(topic, "collections/delete") == 0) {
        if (row == NULL) {
            *out = received("unknown_collection");
            goto out;
        }
        json_object_set_new(set, "status", json_string("archived"));
    } else if (strcmp(topic, "collections/create") == 0 ||
               strcmp(topic, "collections/update") == 0) {
        const char *handle = json_string_value(json_object_get(payload, "handle"));
        const char *title = json_string_value(json_object_get(payload, "title"));
        char shop[256], url[2048], text[1001], cut[201];
        const char *domain = header2(call, "X-Shopify-Shop-Domain", "Shopify-Shop-Domain");
        kith_strlcpy(shop, domain ? domain : "", sizeof(shop));
        for (char *c = shop; *c; c++)
            *c = (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : *c;
        if (handle == NULL || !kith_valid_slug(handle, 60)) {
            *out = received("handle");
            goto out;
        }
        if (!kith_valid_word(shop, 253, "-.")) {
            *out = received("shop_domain");
            goto out;
        }
        snprintf(url, sizeof(url), "https://%s/collections/%s", shop, handle);
        plain_text(title && *title ? title : handle, cut, sizeof(cut));
        plain_text(json_string_value(json_object_get(payload, "body_html")), text, sizeof(text));
        json_object_set_new(set, "title", json_string(*cut ? cut : handle));
        json_object_set_new(set, "kind", json_string("collection"));
        json_object_set_new(set, "url", json_string(url));
        json_object_set_new(set, "collection", json_string(*cut ? cut : handle));
        json_object_set_new(set, "description", *text ? json_string(text) : json_null());
        json_object_set_new(set, "external_id", json_string(ext));
        if (row == NULL) {
            /* A new collection, or one imported before under its handle: that resource. */
            json_object_set_new(set, "status", json_string("active"));
            if ((st = kith_eng_resource_put(tx, p->id, handle, set, "shopify", call->now_ms,
                                            &created, &res, err)) != KITH_OK)
                goto out;
            goto answer;
        }
        /* A renamed handle keeps the resource's permanent slug; its url follows the shop. */
    } else {
        *out = received("topic");
        goto out;
    }
    if ((st = kith_eng_resource_put(tx, p->id, kith_eng_row_str(row, "slug"), set, "shopify",
                                    call->now_ms, &created, &res, err)) != KITH_OK)
        goto out;
answer:
    call->invalidates_links = true;
    *out = json_pack("{s:b,s:o}", "received", 1, "resource", kith_eng_render_resource(res));
    st = KITH_OK;
out:
    json_decref(set);
    json_decref(row);
    json_decref(res);
    return st;
}

/* ---- /v1/metrics: by_resource ---- */

enum kith_status kith_eng_resources_metrics(struct kith_tx *tx, const char *program, int64_t from,
                                            int64_t to, json_t **out)
{
    static const enum kith_query counts[] = {KITH_Q_METRICS_RES_CLICKS, KITH_Q_METRICS_RES_LEADS,
                                             KITH_Q_METRICS_RES_SIGNUPS,
                                             KITH_Q_METRICS_RES_QUALIFIED};
    static const char *const names[] = {"clicks", "leads", "signups", "qualified"};
    json_t *rows = NULL, *by = json_object(), *args = json_pack("[s]", program);
    enum kith_status st = kith_store_query(tx, KITH_Q_RESOURCES_SLUGS, args, &rows);
    json_decref(args);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) json_object_set_new(
        by, kith_eng_row_str(r, "slug"),
        json_pack("{s:i,s:i,s:i,s:i}", "clicks", 0, "leads", 0, "signups", 0, "qualified", 0));
    json_decref(rows);
    for (size_t q = 0; q < KITH_ARRAY_LEN(counts) && st == KITH_OK; q++) {
        rows = NULL;
        args = json_pack("[sII]", program, (json_int_t)from, (json_int_t)to);
        st = kith_store_query(tx, counts[q], args, &rows);
        json_decref(args);
        json_array_foreach(rows, i, r)
        {
            const char *slug = kith_eng_row_str(r, "resource");
            json_t *entry = json_object_get(by, slug);
            if (entry == NULL) {
                entry = json_pack("{s:i,s:i,s:i,s:i}", "clicks", 0, "leads", 0, "signups", 0,
                                  "qualified", 0);
                json_object_set_new(by, slug, entry);
            }
            json_object_set_new(entry, names[q], json_integer(kith_eng_row_int(r, "n")));
        }
        json_decref(rows);
    }
    if (st != KITH_OK) {
        json_decref(by);
        return st;
    }
    *out = by;
    return KITH_OK;
}
