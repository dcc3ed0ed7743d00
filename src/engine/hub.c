/*
 * hub.c: share-hub links (CONTRACT section 20). A hub link is a bearer secret that opens one
 * person's own page, so it is treated like an API key: 200 random bits, shown once, stored only
 * as a digest, checked against the person's current state on every use (an expired link, a
 * blocked or erased person: no hub). A link asked for by e-mail (hub_login) travels through the
 * notification mail queue and is removed from the database once the mail is sent or given up
 * on. It is not for what the hub shows (hub_view.c) or how it looks (src/app/pages.c).
 */
#include <stdio.h>
#include <string.h>

#include "engine/pages.h"
#include "kith/attribution.h"
#include "kith/clock.h"
#include "kith/hub.h"
#include "kith/text.h"

#define DAY_MS INT64_C(86400000)
/* A link e-mailed on request lives a week; one made by the business what it asks (1-365). */
#define LOGIN_LINK_DAYS 7
/* At most this many sign-in mails per person in LOGIN_WINDOW_MS: no mailbox flooding. */
#define LOGIN_MAILS_MAX 3
#define LOGIN_WINDOW_MS (15 * INT64_C(60000))

static const char redacted_body[] =
    "This message held a sign-in link to your share page. The link was removed from our records "
    "once the message was sent.";

enum kith_status kith_eng_hub_token_create(struct kith_tx *tx, const struct kith_engine *eng,
                                           json_t *person, int64_t days, int64_t now_ms,
                                           char url[1024], int64_t *expires_ms)
{
    char token[64], digest[KITH_CRYPTO_HASH_HEX];
    kith_crypto_random_token("hub_", token);
    kith_crypto_hash(token, strlen(token), digest);
    *expires_ms = now_ms + days * DAY_MS;
    json_t *args =
        json_pack("[sssII]", digest, kith_eng_row_str(person, "id"),
                  kith_eng_row_str(person, "program"), (json_int_t)now_ms, (json_int_t)*expires_ms);
    enum kith_status st = kith_store_exec(tx, KITH_Q_HUB_TOKEN_INSERT, args, NULL);
    json_decref(args);
    snprintf(url, 1024, "%s/p/%s", eng->public_url, token);
    kith_crypto_wipe(token, sizeof(token));
    return st;
}

static bool person_usable(json_t *row)
{
    return strcmp(kith_eng_row_str(row, "status"), "active") == 0 &&
           kith_eng_row_int(row, "erased") == 0;
}

enum kith_status kith_op_participant_hub_link(struct kith_tx *tx, struct kith_call *call,
                                              json_t **out, struct kith_err *err)
{
    static const char *const allowed[] = {"expires_in_days", NULL};
    int64_t days = 30, expires = 0;
    json_t *person = NULL;
    char url[1024];
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_int(call->body, "expires_in_days", 1, 365, &days, NULL, err)) !=
            KITH_OK ||
        (st = kith_eng_load_row(tx, "participants", call->params[0], "participant", &person,
                                err)) != KITH_OK)
        return st;
    if (!person_usable(person)) {
        json_decref(person);
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                            "this participant is blocked or erased and has no share hub");
    }
    st = kith_eng_hub_token_create(tx, call->eng, person, days, call->now_ms, url, &expires);
    json_decref(person);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the hub link");
    *out = json_pack("{s:s,s:o}", "url", url, "expires_at", kith_eng_time_json(expires));
    kith_crypto_wipe(url, sizeof(url));
    return KITH_CREATED;
}

enum kith_status kith_engine_hub_authorise(struct kith_tx *tx, const char *token, int64_t now_ms,
                                           char participant[KITH_ID_MAX], char program[48])
{
    char digest[KITH_CRYPTO_HASH_HEX];
    size_t n = strlen(token);
    if (n < 8 || n >= KITH_HUB_TOKEN_MAX || strncmp(token, "hub_", 4) != 0)
        return KITH_E_UNAUTHORIZED;
    kith_crypto_hash(token, n, digest);
    json_t *row = NULL, *args = json_pack("[s]", digest);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_HUB_TOKEN_FIND, args, &row);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND)
        return KITH_E_UNAUTHORIZED;
    if (st != KITH_OK)
        return st;
    if (kith_eng_row_int(row, "expires_at") <= now_ms || !person_usable(row)) {
        json_decref(row);
        return KITH_E_UNAUTHORIZED;
    }
    kith_strlcpy(participant, kith_eng_row_str(row, "participant"), KITH_ID_MAX);
    kith_strlcpy(program, kith_eng_row_str(row, "program"), 48);
    json_decref(row);
    return KITH_OK;
}

/* Queues the sign-in mail: a notification of stage hub_link, never announced by webhook. */
static enum kith_status mail_link(struct kith_tx *tx, const struct kith_engine *eng,
                                  const struct prog *p, json_t *person, int64_t now_ms)
{
    char url[1024], id[KITH_ID_MAX], subject[320], body[2048];
    int64_t expires = 0;
    json_t *row = NULL, *args = json_pack("[sI]", kith_eng_row_str(person, "id"),
                                          (json_int_t)(now_ms - LOGIN_WINDOW_MS));
    enum kith_status st = kith_store_query_one(tx, KITH_Q_HUB_RECENT_LOGINS, args, &row);
    json_decref(args);
    bool flooded = st == KITH_OK && kith_eng_row_int(row, "n") >= LOGIN_MAILS_MAX;
    json_decref(row);
    if (st != KITH_OK || flooded)
        return st;
    if ((st = kith_eng_hub_token_create(tx, eng, person, LOGIN_LINK_DAYS, now_ms, url, &expires)) !=
        KITH_OK)
        return st;
    const char *name = kith_eng_row_str(person, "first_name");
    snprintf(subject, sizeof(subject), "Your share page for %s", p->name);
    snprintf(body, sizeof(body),
             "Hi %s,\n\nHere is the link to your page for %s: your code, your link and how "
             "your friends are getting on.\n\n%s\n\nThe link works for %d days and only for "
             "you, so please keep it to yourself. If you did not ask for it, you can ignore "
             "this message.\n",
             name ? name : "there", p->name, url, LOGIN_LINK_DAYS);
    kith_crypto_random_id("ntf_", id);
    args = json_pack("[sssssI]", id, p->id, kith_eng_row_str(person, "id"), subject, body,
                     (json_int_t)now_ms);
    st = kith_store_exec(tx, KITH_Q_HUB_LOGIN_MAIL, args, NULL);
    json_decref(args);
    kith_crypto_wipe(url, sizeof(url));
    kith_crypto_wipe(body, sizeof(body));
    return st;
}

enum kith_status kith_op_hub_login(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                   struct kith_err *err)
{
    static const char *const allowed[] = {"program", "email", NULL};
    const char *program = NULL, *email = NULL;
    char norm[300];
    struct prog p;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "program", false, 1, 40, &program, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "email", true, 3, 254, &email, err)) != KITH_OK)
        return st;
    /* Whatever follows answers the same: nobody learns from here who takes part. */
    *out = json_pack("{s:b}", "sent", 1);
    if (!kith_email_normalize(email, norm, sizeof(norm)) ||
        kith_eng_prog_resolve(tx, program, &p, NULL) != KITH_OK || !call->eng->smtp_enabled)
        return KITH_ACCEPTED;
    json_t *person = NULL, *args = json_pack("[ss]", p.id, norm);
    st = kith_store_query_one(tx, KITH_Q_HUB_BY_EMAIL, args, &person);
    json_decref(args);
    if (st == KITH_OK)
        st = mail_link(tx, call->eng, &p, person, call->now_ms);
    json_decref(person);
    if (st != KITH_OK && st != KITH_E_NOT_FOUND) {
        json_decref(*out);
        *out = NULL;
        return kith_err_set(err, st, NULL, "the database could not send the link; retry");
    }
    return KITH_ACCEPTED;
}

enum kith_status kith_eng_hub_mail_done(struct kith_tx *tx, const char *notification_id)
{
    json_t *args = json_pack("[ss]", redacted_body, notification_id);
    int64_t changed = 0;
    enum kith_status st = kith_store_exec(tx, KITH_Q_HUB_MAIL_REDACT, args, &changed);
    json_decref(args);
    /* As after an erasure: no copy of the link stays in the database's log either. */
    if (st == KITH_OK && changed > 0)
        kith_tx_purge_log_after_commit(tx);
    return st;
}

json_t *kith_eng_hub_export(struct kith_tx *tx, const char *participant)
{
    json_t *rows = NULL, *args = json_pack("[s]", participant), *out = json_array(), *r;
    if (kith_store_query(tx, KITH_Q_HUB_TOKENS_OF, args, &rows) == KITH_OK) {
        size_t i;
        json_array_foreach(rows, i, r) json_array_append_new(
            out, json_pack("{s:o,s:o}", "created_at",
                           kith_eng_time_json(kith_eng_row_int(r, "created_at")), "expires_at",
                           kith_eng_time_json(kith_eng_row_int(r, "expires_at"))));
    }
    json_decref(args);
    json_decref(rows);
    return out;
}
