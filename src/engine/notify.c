/*
 * notify.c: telling the people concerned what happened, at each stage, in the program's own
 * words (or kith's warm defaults). A notification is kept in the person's feed, announced as a
 * notification.created webhook, and queued for e-mail when SMTP is configured, all in the
 * transaction of the change it reports. Each person hears once per stage: when a referral is
 * rewarded the moment it qualifies, the referrer gets the thank-you, not a "qualified" note too.
 * Nobody is told about a referral held for review or rejected.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/templates.h"

static json_t *render_notification(json_t *row)
{
    json_t *out = json_object();
    static const char *const cols[] = {"id",     "program", "participant", "stage", "referral",
                                       "reward", "subject", "body",        "status"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(cols); i++) {
        const char *v = kith_eng_row_str(row, cols[i]);
        json_object_set_new(out, cols[i], v ? json_string(v) : json_null());
    }
    json_object_set_new(out, "created_at", kith_eng_time_or_null(row, "created_at"));
    json_object_set_new(out, "sent_at", kith_eng_time_or_null(row, "sent_at"));
    return out;
}

json_t *kith_eng_notification_json(json_t *row);
json_t *kith_eng_notification_json(json_t *row)
{
    return render_notification(row);
}

/* The template text for name: the program's override, else the default. */
static void pick(json_t *cfg, const char *name, const char **subject, const char **body)
{
    const struct kith_template *d = kith_template_default(name);
    json_t *o = json_object_get(json_object_get(cfg, "templates"), name);
    const char *s = json_string_value(json_object_get(o, "subject"));
    const char *b = json_string_value(json_object_get(o, "body"));
    *subject = s ? s : (d ? d->subject : NULL);
    *body = b ? b : (d ? d->body : "");
}

/* Keeps a notification rendered from template tpl for person; `more` (may be NULL) carries the
 * variables beyond the person's and the program's (a level's names). */
static enum kith_status keep_with(struct kith_tx *tx, const struct kith_engine *eng, json_t *cfg,
                                  const char *tpl, const char *stage, json_t *person,
                                  json_t *friend, const char *reward_text,
                                  const struct kith_template_vars *more, const char *referral_id,
                                  const char *reward_id, int64_t now_ms)
{
    if (person == NULL || kith_eng_row_int(person, "erased") != 0)
        return KITH_OK;
    const char *subject_t, *body_t;
    pick(cfg, tpl, &subject_t, &body_t);
    char share[1024];
    snprintf(share, sizeof(share), "%s/r/%s", eng->public_url, kith_eng_row_str(person, "code"));
    struct kith_template_vars v = {
        .first_name = kith_eng_row_str(person, "first_name")
                          ? kith_eng_row_str(person, "first_name")
                          : "there",
        .code = kith_eng_row_str(person, "code"),
        .share_url = share,
        .friend_first_name = friend && kith_eng_row_str(friend, "first_name")
                                 ? kith_eng_row_str(friend, "first_name")
                                 : "your friend",
        .reward = reward_text,
        .program_name = json_string_value(json_object_get(cfg, "name")),
        .track_name = more ? more->track_name : NULL,
        .level_name = more ? more->level_name : NULL,
    };
    char *subject = subject_t ? kith_template_render(subject_t, &v, true) : NULL;
    char *body = kith_template_render(body_t, &v, false);
    char id[KITH_ID_MAX];
    kith_crypto_random_id("ntf_", id);
    bool mail = eng->smtp_enabled && kith_eng_row_str(person, "email") != NULL;
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "id", id, "program",
                            kith_eng_row_str(person, "program"), "participant",
                            kith_eng_row_str(person, "id"), "stage", stage, "status",
                            mail ? "queued" : "kept", "created_at", (json_int_t)now_ms);
    json_object_set_new(row, "subject", subject ? json_string(subject) : json_null());
    json_object_set_new(row, "body", json_string(body));
    json_object_set_new(row, "referral", referral_id ? json_string(referral_id) : json_null());
    json_object_set_new(row, "reward", reward_id ? json_string(reward_id) : json_null());
    free(subject);
    free(body);
    enum kith_status st = kith_store_insert(tx, "notifications", row);
    if (st == KITH_OK && kith_eng_outbox_wanted(tx)) {
        json_object_set_new(row, "sent_at", json_null());
        st = kith_eng_outbox_emit(tx, "notification.created", render_notification(row), now_ms);
    }
    json_decref(row);
    return st;
}

static enum kith_status keep(struct kith_tx *tx, const struct kith_engine *eng, json_t *cfg,
                             const char *tpl, const char *stage, json_t *person, json_t *friend,
                             const char *reward_text, const char *referral_id,
                             const char *reward_id, int64_t now_ms)
{
    return keep_with(tx, eng, cfg, tpl, stage, person, friend, reward_text, NULL, referral_id,
                     reward_id, now_ms);
}

enum kith_status kith_eng_notify_level(struct kith_tx *tx, const struct kith_engine *eng,
                                       json_t *person, const char *track_name,
                                       const char *level_name, const char *words, int64_t now_ms)
{
    json_t *cfg = NULL;
    enum kith_status st = kith_eng_prog_config(tx, kith_eng_row_str(person, "program"), &cfg);
    if (st != KITH_OK)
        return st;
    struct kith_template_vars more = {.track_name = track_name, .level_name = level_name};
    st = keep_with(tx, eng, cfg, "level_reached", "level_reached", person, NULL, words, &more, NULL,
                   NULL, now_ms);
    json_decref(cfg);
    return st;
}

/* The reward of one side of a referral, as words ("a 25.00 USD credit"). */
static void reward_words(struct kith_tx *tx, const char *referral_id, const char *side, char *out,
                         size_t outsize)
{
    json_t *rows = NULL, *args = json_pack("[s]", referral_id);
    out[0] = '\0';
    if (kith_store_query(tx, KITH_Q_REWARDS_OF_REFERRAL, args, &rows) == KITH_OK) {
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            if (strcmp(kith_eng_row_str(r, "side"), side) == 0 &&
                strcmp(kith_eng_row_str(r, "status"), "voided") != 0)
                kith_template_reward_text(r, out, outsize);
        }
    }
    json_decref(args);
    json_decref(rows);
    if (out[0] == '\0')
        kith_strlcpy(out, "our thanks", outsize);
}

enum kith_status kith_eng_notify_created(struct kith_tx *tx, const struct kith_engine *eng,
                                         json_t *referral, json_t *referrer, json_t *referred,
                                         int64_t now_ms)
{
    json_t *cfg = NULL;
    char words[300];
    const char *referral_id = kith_eng_row_str(referral, "id");
    enum kith_status st = kith_eng_prog_config(tx, kith_eng_row_str(referral, "program"), &cfg);
    if (st != KITH_OK)
        return st;
    /* Nothing is rewarded at signup yet. */
    kith_strlcpy(words, "our thanks", sizeof(words));
    if ((st = keep(tx, eng, cfg, "referral_created_referrer", "referral_created", referrer,
                   referred, words, referral_id, NULL, now_ms)) == KITH_OK)
        st = keep(tx, eng, cfg, "referral_created_referred", "referral_created", referred, referrer,
                  words, referral_id, NULL, now_ms);
    json_decref(cfg);
    return st;
}

enum kith_status kith_eng_notify(struct kith_tx *tx, const struct kith_engine *eng,
                                 enum kith_notify_stage stage, const char *referral_id,
                                 const char *reward_id, int64_t now_ms)
{
    json_t *ref = NULL, *referrer = NULL, *referred = NULL, *cfg = NULL, *reward = NULL;
    char words[300];
    enum kith_status st = kith_store_get(tx, "referrals", referral_id, &ref);
    if (st != KITH_OK)
        return st;
    if ((st = kith_store_get(tx, "participants", kith_eng_row_str(ref, "referrer"), &referrer)) !=
            KITH_OK ||
        (st = kith_store_get(tx, "participants", kith_eng_row_str(ref, "referred"), &referred)) !=
            KITH_OK ||
        (st = kith_eng_prog_config(tx, kith_eng_row_str(ref, "program"), &cfg)) != KITH_OK)
        goto out;
    switch (stage) {
    case KITH_NOTIFY_REFERRAL_CREATED:
        reward_words(tx, referral_id, "referred", words, sizeof(words));
        if ((st = keep(tx, eng, cfg, "referral_created_referrer", "referral_created", referrer,
                       referred, words, referral_id, NULL, now_ms)) == KITH_OK)
            st = keep(tx, eng, cfg, "referral_created_referred", "referral_created", referred,
                      referrer, words, referral_id, NULL, now_ms);
        break;
    case KITH_NOTIFY_REFERRAL_QUALIFIED:
        reward_words(tx, referral_id, "referrer", words, sizeof(words));
        st = keep(tx, eng, cfg, "referral_qualified_referrer", "referral_qualified", referrer,
                  referred, words, referral_id, NULL, now_ms);
        break;
    case KITH_NOTIFY_REFERRAL_REWARDED:
        reward_words(tx, referral_id, "referrer", words, sizeof(words));
        st = keep(tx, eng, cfg, "referral_rewarded_referrer", "referral_rewarded", referrer,
                  referred, words, referral_id, NULL, now_ms);
        break;
    case KITH_NOTIFY_REWARD_ISSUED:
        if ((st = kith_store_get(tx, "rewards", reward_id, &reward)) != KITH_OK)
            break;
        /* The referrer hears through the rewarded note; this one is the friend's gift. */
        if (strcmp(kith_eng_row_str(reward, "side"), "referred") == 0) {
            kith_template_reward_text(reward, words, sizeof(words));
            st = keep(tx, eng, cfg, "reward_issued_referred", "reward_issued", referred, referrer,
                      words, referral_id, reward_id, now_ms);
        }
        break;
    }
out:
    json_decref(ref);
    json_decref(referrer);
    json_decref(referred);
    json_decref(cfg);
    json_decref(reward);
    return st;
}
