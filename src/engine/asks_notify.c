/*
 * asks_notify.c: the words of the v2 stages (an ask at a natural moment, a spotlight, the
 * monthly digest) and keeping them as notifications. A note is kept in the person's feed,
 * announced as notification.created and queued for e-mail when SMTP is configured, in the
 * transaction of what caused it, exactly as notify.c does for the referral stages; the text is
 * rendered in one pass from the program's template or kith's default. It is not for deciding
 * whether to ask: src/asks decides, moments.c records.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/templates.h"

json_t *kith_eng_notification_json(json_t *row);

void kith_eng_template_text(json_t *cfg, const char *name, const char **subject, const char **body)
{
    const struct kith_template *d = kith_template_default(name);
    json_t *o = json_object_get(json_object_get(cfg, "templates"), name);
    const char *s = json_string_value(json_object_get(o, "subject"));
    const char *b = json_string_value(json_object_get(o, "body"));
    *subject = s ? s : (d ? d->subject : NULL);
    *body = b ? b : (d ? d->body : "");
}

const char *kith_eng_ask_template(json_t *cfg, const char *type, char *buf, size_t bufsize)
{
    snprintf(buf, bufsize, "ask_%s", type);
    const struct kith_template *d = kith_template_default(buf);
    bool shipped = d && strcmp(d->name, buf) == 0;
    if (shipped || json_object_get(json_object_get(cfg, "templates"), buf))
        return buf;
    return "ask";
}

enum kith_status kith_eng_note_keep(struct kith_tx *tx, const struct kith_engine *eng, json_t *cfg,
                                    json_t *person, const struct kith_eng_note *n, int64_t now_ms)
{
    if (n->id_out)
        n->id_out[0] = '\0';
    if (person == NULL || kith_eng_row_int(person, "erased") != 0)
        return KITH_OK;
    const char *subject_t, *body_t;
    kith_eng_template_text(cfg, n->tpl, &subject_t, &body_t);
    char share[1024];
    snprintf(share, sizeof(share), "%s/r/%s", eng->public_url, kith_eng_row_str(person, "code"));
    const char *first = kith_eng_row_str(person, "first_name");
    struct kith_template_vars v = {
        .first_name = first && first[0] ? first : "there",
        .code = kith_eng_row_str(person, "code"),
        .share_url = n->share_url ? n->share_url : share,
        .friend_first_name = "",
        .reward = n->reward ? n->reward : "",
        .program_name = json_string_value(json_object_get(cfg, "name")),
        .summary = n->summary ? n->summary : "",
    };
    char *subject = subject_t ? kith_template_render(subject_t, &v, true) : NULL;
    char *body = kith_template_render(body_t, &v, false);
    char id[KITH_ID_MAX];
    kith_crypto_random_id("ntf_", id);
    bool mail = eng->smtp_enabled && kith_eng_row_str(person, "email") != NULL;
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "id", id, "program",
                            kith_eng_row_str(person, "program"), "participant",
                            kith_eng_row_str(person, "id"), "stage", n->stage, "status",
                            mail ? "queued" : "kept", "created_at", (json_int_t)now_ms);
    json_object_set_new(row, "subject", subject ? json_string(subject) : json_null());
    json_object_set_new(row, "body", json_string(body));
    json_object_set_new(row, "referral", json_null());
    json_object_set_new(row, "reward", n->reward_id ? json_string(n->reward_id) : json_null());
    free(subject);
    free(body);
    enum kith_status st = kith_store_insert(tx, "notifications", row);
    if (st == KITH_OK && n->id_out)
        kith_strlcpy(n->id_out, id, KITH_ID_MAX);
    if (st == KITH_OK && kith_eng_outbox_wanted(tx)) {
        json_object_set_new(row, "sent_at", json_null());
        st = kith_eng_outbox_emit(tx, "notification.created", kith_eng_notification_json(row),
                                  now_ms);
    }
    json_decref(row);
    return st;
}
