/*
 * share.c: what a participant sees and sends: their notification feed, and ready-to-send share
 * messages per channel, each with its own tracked link (share_url?ch=<channel>) so the program
 * can tell which ways of sharing feel natural to its people.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/templates.h"

json_t *kith_eng_notification_json(json_t *row);

static json_t *render_notification_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    (void)tx;
    (void)ctx;
    return kith_eng_notification_json(row);
}

enum kith_status kith_op_participant_notifications(struct kith_tx *tx, struct kith_call *call,
                                                   json_t **out, struct kith_err *err)
{
    return kith_eng_list_children(tx, call, "participants", "participant",
                                  KITH_Q_NOTIFICATIONS_LIST, render_notification_row, out, err);
}

static char *message(json_t *cfg, const char *name, bool subject,
                     const struct kith_template_vars *v)
{
    const struct kith_template *d = kith_template_default(name);
    json_t *o = json_object_get(json_object_get(cfg, "templates"), name);
    const char *t = json_string_value(json_object_get(o, subject ? "subject" : "body"));
    if (t == NULL)
        t = subject ? d->subject : d->body;
    return kith_template_render(t, v, subject);
}

enum kith_status kith_op_participant_share(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                           struct kith_err *err)
{
    static const char *const allowed[] = {"resource", NULL};
    static const char *const channels[] = {"email", "sms", "whatsapp", "social"};
    json_t *row = NULL, *cfg = NULL;
    char only[64]; /* ?resource=<slug>: that resource only (CONTRACT 19) */
    bool has_only = false;
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st == KITH_OK)
        st = kith_eng_q_string(call->query, "resource", only, sizeof(only), &has_only, err);
    if (st != KITH_OK || (st = kith_eng_load_row(tx, "participants", call->params[0], "participant",
                                                 &row, err)) != KITH_OK)
        return st;
    if (kith_eng_row_int(row, "erased") != 0 ||
        strcmp(kith_eng_row_str(row, "status"), "active") != 0) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                          "this participant's link does not attribute (blocked or erased)");
        goto out;
    }
    if ((st = kith_eng_prog_config(tx, kith_eng_row_str(row, "program"), &cfg)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the program");
        goto out;
    }
    char base[1024];
    snprintf(base, sizeof(base), "%s/r/%s", call->eng->public_url, kith_eng_row_str(row, "code"));
    json_t *messages = json_object(), *links = json_object();
    for (size_t i = 0; i < KITH_ARRAY_LEN(channels); i++) {
        char link[1100], name[32];
        snprintf(link, sizeof(link), "%s?ch=%s", base, channels[i]);
        snprintf(name, sizeof(name), "share_%s", channels[i]);
        struct kith_template_vars v = {
            .first_name =
                kith_eng_row_str(row, "first_name") ? kith_eng_row_str(row, "first_name") : "",
            .code = kith_eng_row_str(row, "code"),
            .share_url = link,
            .friend_first_name = "",
            .reward = "",
            .program_name = json_string_value(json_object_get(cfg, "name")),
        };
        char *body = message(cfg, name, false, &v);
        if (strcmp(channels[i], "email") == 0) {
            char *subject = message(cfg, name, true, &v);
            json_object_set_new(messages, "email",
                                json_pack("{s:s,s:s}", "subject", subject, "body", body));
            free(subject);
        } else {
            json_object_set_new(messages, channels[i], json_string(body));
        }
        free(body);
        json_object_set_new(links, channels[i], json_string(link));
    }
    *out = json_pack("{s:s,s:s,s:o,s:o}", "code", kith_eng_row_str(row, "code"), "share_url", base,
                     "messages", messages, "links", links);
    json_object_set_new(*out, "resources",
                        kith_eng_resources_share(tx, call->eng, row, cfg, has_only ? only : NULL));
out:
    json_decref(row);
    json_decref(cfg);
    return st;
}
