/*
 * leads.c: the people who left an e-mail on a gated resource (CONTRACT section 19). A lead is
 * made from a click on someone's resource link (the click names program, resource and sharer),
 * only with consent, once per e-mail and resource (a constraint, on the normalised e-mail). A
 * later signup with the same e-mail is credited through the `lead` candidate of the waterfall
 * (signups.c asks kith_eng_lead_candidate) and the lead becomes `converted`. The e-mail is the
 * lead's own data: it is shown to the business, erasable, never logged, and kept out of the
 * sharer's export. Also the one-click unsubscribe of follow-ups. Follow-ups themselves are
 * followups.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "kith/attribution.h"
#include "kith/crypto.h"

#define EMAIL_MAX 254

/* A lead row (with referrer_first_name and referrer_code when joined) as the contract's lead. */
static json_t *render_lead(json_t *row)
{
    json_t *out = json_object();
    json_object_set_new(out, "id", kith_eng_str_or_null(row, "id"));
    json_object_set_new(out, "program", kith_eng_str_or_null(row, "program"));
    json_object_set_new(out, "resource", kith_eng_str_or_null(row, "resource"));
    json_object_set_new(out, "email", kith_eng_str_or_null(row, "email"));
    json_object_set_new(out, "referrer",
                        json_pack("{s:o,s:o,s:o}", "id", kith_eng_str_or_null(row, "referrer"),
                                  "first_name", kith_eng_str_or_null(row, "referrer_first_name"),
                                  "code", kith_eng_str_or_null(row, "referrer_code")));
    json_object_set_new(out, "click", kith_eng_str_or_null(row, "click"));
    json_object_set_new(out, "consented_at", kith_eng_time_or_null(row, "consented_at"));
    json_object_set_new(out, "status", kith_eng_str_or_null(row, "status"));
    json_object_set_new(out, "participant", kith_eng_str_or_null(row, "participant"));
    json_object_set_new(out, "follow_ups_sent", json_integer(kith_eng_row_int(row, "next_step")));
    json_object_set_new(out, "created_at", kith_eng_time_or_null(row, "created_at"));
    return out;
}

static json_t *created_answer(json_t *lead, const char *url)
{
    return json_pack("{s:{s:s,s:s,s:o},s:s}", "lead", "id", kith_eng_row_str(lead, "id"),
                     "resource", kith_eng_row_str(lead, "resource"), "created_at",
                     kith_eng_time_or_null(lead, "created_at"), "url", url);
}

/* When the first follow-up of a resource is due for a lead made at at_ms (-1: none). */
static int64_t first_due(json_t *resource, int64_t at_ms)
{
    json_t *fu = json_loads(kith_eng_row_str(resource, "follow_ups"), 0, NULL);
    json_t *days = json_object_get(json_array_get(fu, 0), "after_days");
    int64_t due = json_is_integer(days) ? at_ms + json_integer_value(days) * KITH_MS_PER_DAY : -1;
    json_decref(fu);
    return due;
}

enum kith_status kith_op_lead_create(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                     struct kith_err *err)
{
    static const char *const allowed[] = {"click_id", "email", "consent", NULL};
    const char *click_id = NULL, *email = NULL;
    bool consent = false, has_consent = false;
    char norm[EMAIL_MAX + 1];
    json_t *body = call->body ? json_incref(call->body) : NULL, *click = NULL, *res = NULL,
           *lead = NULL;
    enum kith_status st;
    if (body == NULL) {
        /* A public route: no API key, so the engine left the raw body to the operation. */
        json_error_t jerr;
        body = call->raw_len
                   ? json_loadb(call->raw_body, call->raw_len, JSON_REJECT_DUPLICATES, &jerr)
                   : NULL;
        if (!json_is_object(body)) {
            json_decref(body);
            return kith_err_set(err, KITH_E_INVALID_JSON, NULL, "the body must be a JSON object");
        }
    }
    if ((st = kith_eng_in_allowed(body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "click_id", true, 1, 64, &click_id, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "email", true, 3, EMAIL_MAX, &email, err)) != KITH_OK ||
        (st = kith_eng_in_bool(body, "consent", &consent, &has_consent, err)) != KITH_OK)
        goto out;
    if (!kith_email_normalize(email, norm, sizeof(norm)) || strchr(norm, '@')[1] == '.' ||
        strchr(strchr(norm, '@'), '.') == NULL) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "email", "'email' is not an e-mail address");
        goto out;
    }
    if (!consent) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "consent",
                          "'consent' must be true: a lead is kept only when the person agrees");
        goto out;
    }
    json_t *args = json_pack("[s]", click_id);
    st = kith_store_query_one(tx, KITH_Q_CLICKS_FIND, args, &click);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND) {
        st = kith_err_set(err, st, "click_id", "no such click");
        goto out;
    }
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the click");
        goto out;
    }
    const char *program = kith_eng_row_str(click, "program");
    const char *slug = kith_eng_row_str(click, "click_resource");
    if (slug == NULL) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "click_id",
                          "this click was not on a resource link");
        goto out;
    }
    if ((st = kith_eng_resource_load(tx, program, slug, &res, err)) != KITH_OK)
        goto out;
    if (strcmp(kith_eng_row_str(res, "status"), "active") != 0) {
        st = kith_err_set(err, KITH_E_NOT_FOUND, "click_id", "this resource is no longer shared");
        goto out;
    }
    const char *url = kith_eng_row_str(res, "url");
    args = json_pack("[sss]", program, slug, norm);
    st = kith_store_query_one(tx, KITH_Q_LEADS_BY_EMAIL_RESOURCE, args, &lead);
    json_decref(args);
    if (st == KITH_OK) {
        *out = created_answer(lead, url); /* the same e-mail and resource: the first lead */
        goto out;
    }
    if (st != KITH_E_NOT_FOUND) {
        st = kith_err_set(err, st, NULL, "the database could not read leads");
        goto out;
    }
    char id[KITH_ID_MAX];
    kith_crypto_random_id("led_", id);
    /* The address as given, trimmed; the normalised form is what matches and dedupes. */
    size_t a = 0, b = strlen(email);
    while (a < b && (email[a] == ' ' || email[a] == '\t'))
        a++;
    while (b > a && (email[b - 1] == ' ' || email[b - 1] == '\t' || email[b - 1] == '\n' ||
                     email[b - 1] == '\r'))
        b--;
    int64_t due = first_due(res, call->now_ms);
    char *given = strndup(email + a, b - a);
    if (given == NULL)
        abort();
    int64_t added = 0;
    args = json_pack("[sssssssIo]", id, program, slug, given, norm,
                     kith_eng_row_str(click, "participant"), click_id, (json_int_t)call->now_ms,
                     due >= 0 ? json_integer(due) : json_null());
    kith_crypto_wipe(given, b - a);
    free(given);
    st = kith_store_exec(tx, KITH_Q_LEADS_INSERT, args, &added);
    json_decref(args);
    if (st == KITH_OK) {
        /* Ours, or the same person's at the same moment on another connection: theirs counts. */
        args = json_pack("[sss]", program, slug, norm);
        st = kith_store_query_one(tx, KITH_Q_LEADS_BY_EMAIL_RESOURCE, args, &lead);
        json_decref(args);
    }
    if (st != KITH_OK) {
        st = kith_err_set(err, st == KITH_E_NOT_FOUND ? KITH_E_UNAVAILABLE : st, NULL,
                          "the database could not store the lead");
        goto out;
    }
    if (added == 0) {
        *out = created_answer(lead, url);
        goto out;
    }
    *out = created_answer(lead, url);
    st = KITH_CREATED;
out:
    kith_crypto_wipe(norm, sizeof(norm));
    json_decref(body);
    json_decref(click);
    json_decref(res);
    json_decref(lead);
    return st;
}

static json_t *render_lead_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    (void)tx;
    (void)ctx;
    return render_lead(row);
}

enum kith_status kith_op_lead_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                   struct kith_err *err)
{
    static const char *const allowed[] = {"program", "resource", "status", "limit", "cursor", NULL};
    char program[64], resource[64], status[16];
    bool has_program = false, has_resource = false, has_status = false;
    int64_t limit, after;
    struct prog p;
    json_t *rows = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_page(call->query, &limit, &after, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "resource", resource, sizeof(resource), &has_resource,
                                err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "status", status, sizeof(status), &has_status, err)) !=
            KITH_OK ||
        (st = kith_eng_prog_resolve(tx, has_program ? program : NULL, &p, err)) != KITH_OK)
        return st;
    json_t *args = json_pack("[Isooi]", (json_int_t)after, p.id,
                             has_resource ? json_string(resource) : json_null(),
                             has_status ? json_string(status) : json_null(), (int)(limit + 1));
    st = kith_store_query(tx, KITH_Q_LEADS_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not list leads");
    *out = kith_eng_list_page(rows, limit, render_lead_row, tx, NULL);
    json_decref(rows);
    return KITH_OK;
}

static enum kith_status load_lead(struct kith_tx *tx, const char *id, json_t **out,
                                  struct kith_err *err)
{
    json_t *args = json_pack("[s]", id);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_LEADS_GET, args, out);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND)
        return kith_err_set(err, st, NULL, "no such lead");
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the lead");
    return KITH_OK;
}

enum kith_status kith_op_lead_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                  struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *row = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = load_lead(tx, call->params[0], &row, err)) != KITH_OK)
        return st;
    *out = render_lead(row);
    json_decref(row);
    return KITH_OK;
}

static json_t *render_message(struct kith_tx *tx, void *ctx, json_t *row)
{
    (void)tx;
    (void)ctx;
    return json_pack(
        "{s:o,s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o}", "id", kith_eng_str_or_null(row, "id"), "lead",
        kith_eng_str_or_null(row, "lead"), "resource", kith_eng_str_or_null(row, "resource"),
        "step", (json_int_t)kith_eng_row_int(row, "step"), "subject",
        kith_eng_str_or_null(row, "subject"), "body", kith_eng_str_or_null(row, "body"), "status",
        kith_eng_str_or_null(row, "status"), "created_at", kith_eng_time_or_null(row, "created_at"),
        "sent_at", kith_eng_time_or_null(row, "sent_at"));
}

enum kith_status kith_op_lead_messages(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                       struct kith_err *err)
{
    return kith_eng_list_children(tx, call, "leads", "lead", KITH_Q_LEAD_MESSAGES_LIST,
                                  render_message, out, err);
}

/* The e-mail of a lead goes, with the texts sent to it and its unsubscribe tokens. */
static enum kith_status erase_one(struct kith_tx *tx, const char *id, int64_t now_ms)
{
    json_t *args = json_pack("[sI]", id, (json_int_t)now_ms);
    enum kith_status st = kith_store_exec(tx, KITH_Q_LEADS_ERASE, args, NULL);
    json_decref(args);
    static const enum kith_query steps[] = {KITH_Q_LEAD_MESSAGES_ERASE, KITH_Q_LEAD_TOKENS_ERASE};
    for (size_t i = 0; st == KITH_OK && i < KITH_ARRAY_LEN(steps); i++) {
        args = json_pack("[s]", id);
        st = kith_store_exec(tx, steps[i], args, NULL);
        json_decref(args);
    }
    if (st == KITH_OK)
        kith_tx_purge_log_after_commit(tx);
    return st;
}

enum kith_status kith_op_lead_erase(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                    struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *row = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = load_lead(tx, call->params[0], &row, err)) != KITH_OK)
        return st;
    json_decref(row);
    row = NULL;
    if ((st = erase_one(tx, call->params[0], call->now_ms)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not erase the lead");
    if ((st = load_lead(tx, call->params[0], &row, err)) != KITH_OK)
        return st;
    *out = render_lead(row);
    json_decref(row);
    return KITH_OK;
}

/* ---- hooks: signups, privacy ---- */

enum kith_status kith_eng_lead_candidate(struct kith_tx *tx, const struct prog *p,
                                         const char *email_norm, struct kith_attr_facts *f,
                                         json_t **row, char code[16])
{
    json_t *args = json_pack("[ss]", p->id, email_norm);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_LEADS_CANDIDATE, args, row);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND) {
        *row = NULL;
        return KITH_OK; /* no lead: the candidate is absent, not rejected */
    }
    if (st != KITH_OK)
        return st;
    f->present = true;
    f->found = true;
    f->same_program = strcmp(kith_eng_row_str(*row, "program"), p->id) == 0;
    f->referrer_blocked = strcmp(kith_eng_row_str(*row, "status"), "active") != 0 ||
                          kith_eng_row_int(*row, "erased") != 0;
    f->referrer_external_id = kith_eng_row_str(*row, "external_id");
    f->referrer_email_norm = kith_eng_row_str(*row, "email_norm");
    f->at_ms = kith_eng_row_int(*row, "lead_at");
    kith_strlcpy(code, kith_eng_row_str(*row, "matched"), 16);
    return KITH_OK;
}

enum kith_status kith_eng_leads_converted(struct kith_tx *tx, const char *program,
                                          const char *email_norm, const char *participant,
                                          int64_t now_ms)
{
    json_t *row = NULL, *args = json_pack("[ss]", program, email_norm);
    /* One indexed read instead of two updates that would change nothing. */
    enum kith_status st = kith_store_query_one(tx, KITH_Q_LEADS_OPEN_OF_EMAIL, args, &row);
    json_decref(row);
    if (st == KITH_E_NOT_FOUND) {
        json_decref(args);
        return KITH_OK;
    }
    if (st == KITH_OK)
        st = kith_store_exec(tx, KITH_Q_LEADS_CONVERT_MESSAGES, args, NULL);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    args = json_pack("[sssI]", program, email_norm, participant, (json_int_t)now_ms);
    st = kith_store_exec(tx, KITH_Q_LEADS_CONVERT, args, NULL);
    json_decref(args);
    return st;
}

enum kith_status kith_eng_leads_export(struct kith_tx *tx, const char *id, json_t *export_out)
{
    json_t *shared = NULL, *own = NULL, *args = json_pack("[s]", id);
    enum kith_status st = kith_store_query(tx, KITH_Q_LEADS_OF_REFERRER, args, &shared);
    if (st == KITH_OK)
        st = kith_store_query(tx, KITH_Q_LEADS_OF_PARTICIPANT, args, &own);
    json_decref(args);
    if (st != KITH_OK) {
        json_decref(shared);
        return st;
    }
    size_t i;
    json_t *r;
    json_array_foreach(shared, i, r)
        json_object_set_new(r, "created_at", kith_eng_time_or_null(r, "created_at"));
    json_t *own_out = json_array();
    json_array_foreach(own, i, r) json_array_append_new(own_out, render_lead(r));
    json_decref(own);
    /* The leads this person's links brought, without their e-mails (each lead's own data). */
    json_object_set_new(export_out, "leads_from_links", shared);
    /* The leads that were this person before they signed up, e-mail included. */
    json_object_set_new(export_out, "leads", own_out);
    return KITH_OK;
}

enum kith_status kith_eng_leads_erase_person(struct kith_tx *tx, const char *id, int64_t now_ms)
{
    json_t *rows = NULL, *args = json_pack("[s]", id);
    enum kith_status st = kith_store_query(tx, KITH_Q_LEADS_OF_PARTICIPANT, args, &rows);
    json_decref(args);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (st == KITH_OK)
            st = erase_one(tx, kith_eng_row_str(r, "id"), now_ms);
    }
    json_decref(rows);
    return st;
}

/* ---- unsubscribe ---- */

static bool token_shape(const char *t)
{
    size_t n = strlen(t);
    if (n < 20 || n > 100)
        return false;
    for (; *t; t++) {
        if (!((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9')))
            return false;
    }
    return true;
}

enum kith_status kith_engine_lead_unsubscribe(struct kith_tx *tx, const char *token, bool write,
                                              int64_t now_ms, char title[256])
{
    char hash[KITH_CRYPTO_HASH_HEX];
    json_t *row = NULL, *res = NULL;
    title[0] = '\0';
    if (!token_shape(token))
        return KITH_E_NOT_FOUND;
    kith_crypto_hash(token, strlen(token), hash);
    json_t *args = json_pack("[s]", hash);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_LEAD_TOKENS_FIND, args, &row);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    const char *id = kith_eng_row_str(row, "id");
    if (write && strcmp(kith_eng_row_str(row, "status"), "active") == 0) {
        args = json_pack("[sI]", id, (json_int_t)now_ms);
        st = kith_store_exec(tx, KITH_Q_LEADS_UNSUBSCRIBE, args, NULL);
        json_decref(args);
        if (st == KITH_OK) {
            args = json_pack("[s]", id);
            st = kith_store_exec(tx, KITH_Q_LEAD_MESSAGES_CANCEL, args, NULL);
            json_decref(args);
        }
    }
    if (st == KITH_OK &&
        kith_eng_resource_load(tx, kith_eng_row_str(row, "program"),
                               kith_eng_row_str(row, "resource"), &res, NULL) == KITH_OK)
        kith_strlcpy(title, kith_eng_row_str(res, "title"), 256);
    json_decref(row);
    json_decref(res);
    return st;
}
