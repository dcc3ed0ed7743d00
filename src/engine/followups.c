/*
 * followups.c: the e-mails a resource sends its leads afterwards (CONTRACT section 19), up to
 * five, `after_days` after the lead. The sweep finds leads whose next follow-up is due and writes
 * one message per (lead, step) under a unique constraint, in the transaction that moves the
 * lead's schedule on: a sweep that runs twice, on two instances or after a crash, queues nothing
 * twice and skips nothing (what was due while the server was down is written on its next
 * sweep). A message is `queued` for the e-mail loop when SMTP is configured, `kept` otherwise.
 * Claiming a queued one for sending makes its one-click unsubscribe link: a random token of
 * which only a digest is stored. The hand-off to the SMTP server is at least once, as for
 * notifications: a crash between the server's acceptance and the record sends it again after
 * the lease (30 s). It is not for what the messages say: the resource's templates do.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/templates.h"
#include "kith/crypto.h"

#define DUE_BATCH 200
#define LEASE_MS 30000
#define MAIL_ATTEMPTS_MAX 3

/* Writes message `step` of follow-up f for lead. */
static enum kith_status write_message(struct kith_tx *tx, const struct kith_engine *eng,
                                      json_t *lead, json_t *resource, json_t *sharer,
                                      const char *program_name, json_t *f, int64_t step,
                                      int64_t now_ms)
{
    const char *code = sharer ? kith_eng_row_str(sharer, "code") : NULL;
    const char *name = sharer && kith_eng_row_int(sharer, "erased") == 0
                           ? kith_eng_row_str(sharer, "first_name")
                           : NULL;
    char link[1200];
    snprintf(link, sizeof(link), "%s/r/%s/%s", eng->public_url, code ? code : "",
             kith_eng_row_str(resource, "slug"));
    struct kith_template_vars v = {
        .first_name = "there",
        .code = code ? code : "",
        .share_url = link, /* forwarding it credits the person who shared it first */
        .friend_first_name = name ? name : "a friend",
        .reward = "",
        .program_name = program_name,
        .resource_title = kith_eng_row_str(resource, "title"),
        .resource_url = kith_eng_row_str(resource, "url"),
    };
    char *subject =
        kith_template_render(json_string_value(json_object_get(f, "subject")), &v, true);
    char *body = kith_template_render(json_string_value(json_object_get(f, "body")), &v, false);
    char id[KITH_ID_MAX];
    kith_crypto_random_id("lms_", id);
    json_t *args = json_pack("[ssssIssssI]", id, kith_eng_row_str(lead, "id"),
                             kith_eng_row_str(lead, "program"), kith_eng_row_str(lead, "resource"),
                             (json_int_t)step, subject, body, eng->public_url,
                             eng->smtp_enabled ? "queued" : "kept", (json_int_t)now_ms);
    free(subject);
    free(body);
    /* INSERT OR IGNORE on (lead, step): a step written before is never written again. */
    enum kith_status st = kith_store_exec(tx, KITH_Q_LEAD_MESSAGES_INSERT, args, NULL);
    json_decref(args);
    return st;
}

static enum kith_status schedule(struct kith_tx *tx, json_t *lead, int64_t step, int64_t next,
                                 int64_t now_ms)
{
    json_t *args = json_pack("[sIoI]", kith_eng_row_str(lead, "id"), (json_int_t)step,
                             next >= 0 ? json_integer(next) : json_null(), (json_int_t)now_ms);
    enum kith_status st = kith_store_exec(tx, KITH_Q_LEADS_SCHEDULE, args, NULL);
    json_decref(args);
    return st;
}

/* One lead whose next follow-up time came: every step due by now, in order, then the next. */
static enum kith_status sweep_lead(struct kith_tx *tx, const struct kith_engine *eng, json_t *lead,
                                   int64_t now_ms)
{
    json_t *res = NULL, *fu = NULL, *sharer = NULL, *cfg = NULL;
    int64_t step = kith_eng_row_int(lead, "next_step"), next = -1;
    int64_t at = kith_eng_row_int(lead, "created_at");
    enum kith_status st = kith_eng_resource_load(tx, kith_eng_row_str(lead, "program"),
                                                 kith_eng_row_str(lead, "resource"), &res, NULL);
    if (st == KITH_E_NOT_FOUND ||
        (st == KITH_OK && strcmp(kith_eng_row_str(res, "status"), "active") != 0)) {
        st = schedule(tx, lead, step, -1, now_ms); /* archived: no more follow-ups */
        goto out;
    }
    if (st != KITH_OK)
        goto out;
    fu = json_loads(kith_eng_row_str(res, "follow_ups"), 0, NULL);
    size_t n = json_array_size(fu);
    if (kith_store_get(tx, "participants", kith_eng_row_str(lead, "referrer"), &sharer) != KITH_OK)
        sharer = NULL;
    if ((st = kith_eng_prog_config(tx, kith_eng_row_str(lead, "program"), &cfg)) != KITH_OK)
        goto out;
    const char *program_name = json_string_value(json_object_get(cfg, "name"));
    for (; step >= 0 && (size_t)step < n; step++) {
        json_t *f = json_array_get(fu, (size_t)step);
        int64_t due = at + json_integer_value(json_object_get(f, "after_days")) * KITH_MS_PER_DAY;
        if (due > now_ms) {
            next = due;
            break;
        }
        if ((st = write_message(tx, eng, lead, res, sharer, program_name, f, step, now_ms)) !=
            KITH_OK)
            goto out;
    }
    st = schedule(tx, lead, step, next, now_ms);
out:
    json_decref(res);
    json_decref(fu);
    json_decref(sharer);
    json_decref(cfg);
    return st;
}

enum kith_status kith_eng_followups_sweep(struct kith_tx *tx, const struct kith_engine *eng,
                                          int64_t now_ms, bool *more)
{
    json_t *rows = NULL, *args = json_pack("[I]", (json_int_t)now_ms);
    enum kith_status st = kith_store_query(tx, KITH_Q_LEADS_DUE, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    if (json_array_size(rows) >= DUE_BATCH)
        *more = true;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if ((st = sweep_lead(tx, eng, r, now_ms)) != KITH_OK)
            break;
    }
    json_decref(rows);
    return st;
}

/* ---- the e-mail loop's side (deliveries.c) ---- */

bool kith_eng_lead_mail_is(const char *id)
{
    return strncmp(id, "lms_", 4) == 0;
}

enum kith_status kith_eng_lead_mail_recover(struct kith_tx *tx)
{
    json_t *args = json_array();
    enum kith_status st = kith_store_exec(tx, KITH_Q_LEAD_MAIL_RECOVER, args, NULL);
    json_decref(args);
    return st;
}

enum kith_status kith_eng_lead_mail_claim(struct kith_tx *tx, int64_t now_ms, size_t max,
                                          json_t *out)
{
    json_t *rows = NULL, *args = json_pack("[II]", (json_int_t)now_ms, (json_int_t)max);
    enum kith_status st = kith_store_query(tx, KITH_Q_LEAD_MAIL_OUTBOX, args, &rows);
    json_decref(args);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (st != KITH_OK)
            break;
        const char *id = kith_eng_row_str(r, "id");
        int64_t changed = 0;
        args = json_pack("[sII]", id, (json_int_t)now_ms, (json_int_t)(now_ms + LEASE_MS));
        st = kith_store_exec(tx, KITH_Q_LEAD_MAIL_SENDING, args, &changed);
        json_decref(args);
        if (st != KITH_OK || changed != 1)
            continue; /* another instance took it */
        /* The link's token exists only in the e-mail; the store keeps its digest. */
        uint8_t raw[20];
        char token[2 * sizeof(raw) + 1], hash[KITH_CRYPTO_HASH_HEX];
        kith_crypto_random(raw, sizeof(raw));
        kith_crypto_bin2hex(token, sizeof(token), raw, sizeof(raw));
        kith_crypto_hash(token, strlen(token), hash);
        args = json_pack("[sssI]", hash, kith_eng_row_str(r, "lead"), id, (json_int_t)now_ms);
        st = kith_store_exec(tx, KITH_Q_LEAD_TOKENS_INSERT, args, NULL);
        json_decref(args);
        if (st != KITH_OK)
            break;
        const char *body = kith_eng_row_str(r, "body");
        size_t blen = strlen(body ? body : "") + strlen(kith_eng_row_str(r, "base_url")) + 160;
        char *text = malloc(blen);
        if (text == NULL)
            abort();
        snprintf(text, blen, "%s\n\n--\nTo stop these e-mails, open this link: %s/u/%s\n",
                 body ? body : "", kith_eng_row_str(r, "base_url"), token);
        kith_crypto_wipe(token, sizeof(token));
        json_array_append_new(out,
                              json_pack("{s:s,s:o,s:s,s:I,s:s}", "id", id, "subject",
                                        json_incref(json_object_get(r, "subject")), "body", text,
                                        "attempts", (json_int_t)kith_eng_row_int(r, "attempts"),
                                        "email", kith_eng_row_str(r, "email")));
        kith_crypto_wipe(text, strlen(text));
        free(text);
    }
    json_decref(rows);
    return st;
}

enum kith_status kith_eng_lead_mail_record(struct kith_tx *tx, const char *id, bool ok,
                                           int64_t now_ms)
{
    json_t *m = NULL;
    enum kith_status st = kith_store_get(tx, "lead_messages", id, &m);
    if (st != KITH_OK)
        return st == KITH_E_NOT_FOUND ? KITH_OK : st;
    int attempts = (int)kith_eng_row_int(m, "attempts") + 1;
    const char *status = ok ? "sent" : attempts >= MAIL_ATTEMPTS_MAX ? "failed" : "queued";
    /* An unsubscribe or erasure while it was on its way stays what it is. */
    if (strcmp(kith_eng_row_str(m, "status"), "sending") != 0)
        status = ok ? "sent" : kith_eng_row_str(m, "status");
    json_t *set = json_pack("{s:s,s:i}", "status", status, "attempts", attempts);
    if (ok)
        json_object_set_new(set, "sent_at", json_integer(now_ms));
    st = kith_store_update(tx, "lead_messages", id, set);
    json_decref(set);
    json_decref(m);
    return st;
}
