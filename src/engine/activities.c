/*
 * activities.c: advocacy that is not a referral, reported by the business (CONTRACT section 16):
 * a testimonial, a review, an answer in the community, an event hosted. Each activity is counted
 * once by the tracks that count its type (tracks.c) in the transaction that records it, and a
 * void takes exactly that back. The business's own id is unique in the program (a constraint),
 * so the same activity sent twice, or twice at once, has one effect and the repeat answers with
 * the first result. Notes and links are the person's: erasure clears them (progress.c).
 */
#include <string.h>

#include "engine/tracks.h"
#include "kith/crypto.h"

#define NOTE_MAX 4000
#define URL_MAX 2000
#define BUSINESS_ID_MAX 255

static const char *const activity_fields[] = {"program",     "external_id", "type", "id",
                                              "occurred_at", "note",        "url",  NULL};

static bool url_valid(const char *s)
{
    const char *rest;
    if (strncmp(s, "https://", 8) == 0)
        rest = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        rest = s + 7;
    else
        return false;
    if (*rest == '\0' || *rest == '/' || *rest == '?' || *rest == '#')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return false;
    }
    return true;
}

static json_t *col(json_t *row, const char *name)
{
    const char *s = kith_eng_row_str(row, name);
    return s ? json_string(s) : json_null();
}

json_t *kith_eng_render_activity(json_t *row)
{
    json_t *out = json_object();
    static const char *const cols[] = {"id",   "program", "participant", "type",
                                       "note", "url",     "status"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(cols); i++)
        json_object_set_new(out, cols[i], col(row, cols[i]));
    json_object_set_new(out, "occurred_at", kith_eng_time_or_null(row, "occurred_at"));
    json_object_set_new(out, "created_at", kith_eng_time_or_null(row, "created_at"));
    /* Beyond the contract's shape: the business's own id, and a void's time and reason. */
    json_object_set_new(out, "business_id", col(row, "business_id"));
    json_object_set_new(out, "voided_at", kith_eng_time_or_null(row, "voided_at"));
    json_object_set_new(out, "reason", col(row, "reason"));
    return out;
}

static json_t *render_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    (void)tx;
    (void)ctx;
    return kith_eng_render_activity(row);
}

/* {"activity", "progress"}: the activity and the person's progress as they now are. */
static json_t *answer(struct kith_tx *tx, json_t *row)
{
    return json_pack("{s:o,s:o}", "activity", kith_eng_render_activity(row), "progress",
                     kith_eng_adv_progress(tx, kith_eng_row_str(row, "program"),
                                           kith_eng_row_str(row, "participant")));
}

static enum kith_status count(struct kith_tx *tx, struct kith_call *call, json_t *row, int delta,
                              struct kith_err *err)
{
    struct kith_eng_adv_change c = {KITH_ADV_ACTIVITY, kith_eng_row_str(row, "type"),
                                    kith_eng_row_str(row, "id"),
                                    kith_eng_row_int(row, "occurred_at"), delta};
    return kith_eng_adv_count(tx, call->eng, kith_eng_row_str(row, "program"),
                              kith_eng_row_str(row, "participant"), &c, 1, call->now_ms, err);
}

static enum kith_status by_business_id(struct kith_tx *tx, const char *program, const char *id,
                                       json_t **out)
{
    json_t *args = json_pack("[ss]", program, id);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_ACT_BY_BUSINESS_ID, args, out);
    json_decref(args);
    return st;
}

enum kith_status kith_op_activity_create(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                         struct kith_err *err)
{
    const char *program = NULL, *ext = NULL, *type = NULL, *bid = NULL, *note = NULL, *url = NULL;
    int64_t at_ms = call->now_ms;
    struct prog p;
    json_t *row = NULL, *person = NULL;
    enum kith_status st;
    json_t *body = call->body;
    if ((st = kith_eng_in_allowed(body, activity_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "program", false, 1, 40, &program, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "external_id", true, 1, 255, &ext, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "type", true, 1, KITH_ADV_ID_MAX, &type, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "id", true, 1, BUSINESS_ID_MAX, &bid, err)) != KITH_OK ||
        (st = kith_eng_in_time(body, "occurred_at", &at_ms, NULL, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "note", false, 0, NOTE_MAX, &note, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "url", false, 1, URL_MAX, &url, err)) != KITH_OK)
        return st;
    if (!kith_adv_role_valid(type))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "type", "'type' must match [a-z0-9_]{1,40}");
    if (url && !url_valid(url))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "url", "'url' must be an http or https URL");
    if ((st = kith_eng_prog_resolve(tx, program, &p, err)) != KITH_OK)
        return st;
    /* The same activity again: the first result, and nothing new. */
    st = by_business_id(tx, p.id, bid, &row);
    if (st == KITH_OK)
        goto replay;
    if (st != KITH_E_NOT_FOUND)
        goto fail;
    st = kith_eng_participant_by_external(tx, p.id, ext, &person);
    if (st == KITH_E_NOT_FOUND) {
        st = kith_err_set(err, st, "external_id", "no participant has this external_id in '%s'",
                          p.id);
        goto out;
    }
    if (st != KITH_OK)
        goto fail;
    if (kith_eng_row_int(person, "erased") != 0) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL, "this participant was erased");
        goto out;
    }
    char id[KITH_ID_MAX];
    kith_crypto_random_id("act_", id);
    row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:n,s:I,s:I,s:n,s:I}", "id", id, "program", p.id,
                    "participant", kith_eng_row_str(person, "id"), "type", type, "business_id", bid,
                    "status", "counted", "reason", "occurred_at", (json_int_t)at_ms, "created_at",
                    (json_int_t)call->now_ms, "voided_at", "updated_at", (json_int_t)call->now_ms);
    json_object_set_new(row, "note", note ? json_string(note) : json_null());
    json_object_set_new(row, "url", url ? json_string(url) : json_null());
    st = kith_store_insert(tx, "activities", row);
    if (st == KITH_E_CONSTRAINT) {
        /* Sent twice at once: the other one counted it. */
        json_decref(row);
        row = NULL;
        if ((st = by_business_id(tx, p.id, bid, &row)) == KITH_OK)
            goto replay;
        goto fail;
    }
    if (st != KITH_OK)
        goto fail;
    if ((st = count(tx, call, row, 1, err)) != KITH_OK)
        goto out;
    *out = answer(tx, row);
    st = KITH_CREATED;
    goto out;
replay:
    *out = answer(tx, row);
    st = KITH_OK;
    goto out;
fail:
    st = kith_err_set(err, st, NULL, "the database could not store the activity");
out:
    json_decref(row);
    json_decref(person);
    return st;
}

enum kith_status kith_op_activity_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                      struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *row = NULL;
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st != KITH_OK || (st = kith_eng_load_row(tx, "activities", call->params[0], "activity",
                                                 &row, err)) != KITH_OK)
        return st;
    *out = kith_eng_render_activity(row);
    json_decref(row);
    return KITH_OK;
}

enum kith_status kith_op_activity_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                       struct kith_err *err)
{
    static const char *const allowed[] = {"program", "participant", "type",
                                          "limit",   "cursor",      NULL};
    static const char *const filters[] = {"program", "participant", "type"};
    int64_t limit, after;
    json_t *args = NULL, *rows = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_page(call->query, &limit, &after, err)) != KITH_OK)
        return st;
    args = json_pack("[I]", (json_int_t)after);
    for (size_t i = 0; i < KITH_ARRAY_LEN(filters); i++) {
        char buf[256];
        bool present;
        if ((st = kith_eng_q_string(call->query, filters[i], buf, sizeof(buf), &present, err)) !=
            KITH_OK)
            goto out;
        json_t *v = present ? json_string(buf) : json_null();
        if (v == NULL) {
            st = kith_err_set(err, KITH_E_INVALID_PARAM, filters[i], "'%s' is not valid UTF-8",
                              filters[i]);
            goto out;
        }
        json_array_append_new(args, v);
    }
    json_array_append_new(args, json_integer(limit + 1));
    if ((st = kith_store_query(tx, KITH_Q_ACT_LIST, args, &rows)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not list activities");
        goto out;
    }
    *out = kith_eng_list_page(rows, limit, render_row, tx, NULL);
out:
    json_decref(args);
    json_decref(rows);
    return st;
}

enum kith_status kith_op_activity_void(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                       struct kith_err *err)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *reason = NULL;
    json_t *row = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "reason", false, 0, 500, &reason, err)) != KITH_OK ||
        (st = kith_eng_load_locked(tx, "activities", call->params[0], "activity", &row, err)) !=
            KITH_OK)
        return st;
    if (strcmp(kith_eng_row_str(row, "status"), "counted") != 0) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                          "a %s activity cannot be voided (only a counted one)",
                          kith_eng_row_str(row, "status"));
        goto out;
    }
    json_t *set = json_pack("{s:s,s:o,s:I,s:I}", "status", "voided", "reason",
                            reason ? json_string(reason) : json_null(), "voided_at",
                            (json_int_t)call->now_ms, "updated_at", (json_int_t)call->now_ms);
    st = kith_store_update(tx, "activities", call->params[0], set);
    if (st == KITH_OK)
        json_object_update(row, set);
    json_decref(set);
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not void the activity");
        goto out;
    }
    if ((st = count(tx, call, row, -1, err)) != KITH_OK)
        goto out;
    *out = answer(tx, row);
out:
    json_decref(row);
    return st;
}
