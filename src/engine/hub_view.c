/*
 * hub_view.c: what the share hub shows, and its JSON API (CONTRACT section 20). The hub document
 * is one person's own view: their code and link, the ready-to-send messages (the section 13
 * share answer, resources included when the program has any), what both sides get, their
 * referrals with the friend's first name and a status in words, their rewards, the opt-in
 * leaderboard with their own rank, and, when the program and the person have them, tracks,
 * progress, roles and preferences. It never shows anyone's e-mail or anyone else's id. The
 * operations reuse the participant operations (update, export, erase) for the one person the
 * token names, so the hub can do exactly what the business could do for them, and no more.
 */
#include <string.h>

#include "engine/pages.h"
#include "engine/templates.h"
#include "kith/hub.h"

/* A call of another operation on the person's behalf: the same transaction, clock and engine. */
static struct kith_call sub_call(const struct kith_call *call, const char *const *params,
                                 const char *query, json_t *body)
{
    return (struct kith_call){
        .eng = call->eng,
        .params = params,
        .query = query,
        .body = body,
        .key_id = call->key_id,
        .now_ms = call->now_ms,
    };
}

static const char *referral_words(const struct prog *p, json_t *r, int64_t now_ms, char *buf,
                                  size_t bufsize)
{
    const char *s = kith_eng_row_str(r, "status");
    char date[48], wait[80];
    if (strcmp(s, "pending") == 0) {
        kith_eng_wait_words(p, wait, sizeof(wait));
        snprintf(buf, bufsize, "waiting for %s", wait);
        return buf;
    }
    if (strcmp(s, "review") == 0)
        return "being checked by the team; this can take a few days";
    if (strcmp(s, "qualified") == 0) {
        if (kith_eng_row_is_null(r, "hold_until"))
            return "qualified: your reward is on its way";
        kith_eng_date_words(kith_eng_row_int(r, "hold_until"), now_ms, date, sizeof(date));
        snprintf(buf, bufsize, "reward on hold until %s", date);
        return buf;
    }
    if (strcmp(s, "rewarded") == 0)
        return "rewarded: thank you";
    if (strcmp(s, "rejected") == 0)
        return "not counted for a reward";
    return "ended without a first purchase in time";
}

static const char *reward_status_words(json_t *r, int64_t now_ms, char *buf, size_t bufsize)
{
    const char *s = kith_eng_row_str(r, "status");
    char date[48];
    if (strcmp(s, "pending") == 0)
        return "on its way";
    if (strcmp(s, "issued") == 0) {
        if (kith_eng_row_is_null(r, "expires_at"))
            return "ready to use";
        kith_eng_date_words(kith_eng_row_int(r, "expires_at"), now_ms, date, sizeof(date));
        snprintf(buf, bufsize, "ready to use until %s", date);
        return buf;
    }
    if (strcmp(s, "redeemed") == 0)
        return "used";
    if (strcmp(s, "expired") == 0)
        return "expired";
    return "cancelled";
}

static json_t *program_part(const struct prog *p, json_t *cfg)
{
    char words[320];
    json_t *mine = json_array();
    for (size_t i = 0; i < p->nrules; i++) {
        const struct kith_reward_rule *r = &p->rules[i];
        if (r->to != KITH_SIDE_REFERRER)
            continue;
        kith_eng_rule_words(r, words, sizeof(words));
        json_t *o = json_pack("{s:s,s:I}", "words", words, "from_count", (json_int_t)r->from_count);
        json_object_set_new(o, "to_count", r->to_count ? json_integer(r->to_count) : json_null());
        json_array_append_new(mine, o);
    }
    kith_eng_friend_reward_words(p, words, sizeof(words));
    json_t *out = json_pack("{s:s,s:s,s:o,s:o}", "id", p->id, "name", p->name, "friend_reward",
                            words[0] ? json_string(words) : json_null(), "referrer_rewards", mine);
    kith_eng_earn_words(p, words, sizeof(words));
    json_object_set_new(out, "earn", json_string(words));
    kith_eng_wait_words(p, words, sizeof(words));
    json_object_set_new(out, "wait", json_string(words));
    /* Tracks and levels (section 15), when the program has them: names for the progress. */
    json_t *tracks = json_object_get(cfg, "tracks");
    if (json_is_array(tracks) && json_array_size(tracks) > 0)
        json_object_set(out, "tracks", tracks);
    return out;
}

static json_t *referrals_part(struct kith_tx *tx, const struct prog *p, const char *id,
                              int64_t now_ms)
{
    json_t *rows = NULL, *args = json_pack("[s]", id), *out = json_array(), *r;
    char buf[160];
    if (kith_store_query(tx, KITH_Q_HUB_REFERRALS, args, &rows) == KITH_OK) {
        size_t i;
        json_array_foreach(rows, i, r)
        {
            const char *name =
                kith_eng_row_int(r, "erased") ? NULL : kith_eng_row_str(r, "first_name");
            json_array_append_new(out,
                                  json_pack("{s:o,s:s,s:s,s:o}", "first_name",
                                            name && name[0] ? json_string(name) : json_null(),
                                            "status", kith_eng_row_str(r, "status"), "status_text",
                                            referral_words(p, r, now_ms, buf, sizeof(buf)),
                                            "created_at", kith_eng_time_or_null(r, "created_at")));
        }
    }
    json_decref(args);
    json_decref(rows);
    return out;
}

static json_t *rewards_part(struct kith_tx *tx, json_t *cfg, const char *id, int64_t now_ms)
{
    json_t *rows = NULL, *args = json_pack("[s]", id), *out = json_array(), *r;
    char words[320], buf[96];
    if (kith_store_query(tx, KITH_Q_HUB_REWARDS, args, &rows) == KITH_OK) {
        size_t i;
        json_array_foreach(rows, i, r)
        {
            kith_template_reward_text(r, words, sizeof(words));
            const char *friend = kith_eng_row_str(r, "friend");
            json_array_append_new(
                out, json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o}", "kind", kith_eng_row_str(r, "kind"),
                               "words", words, "status", kith_eng_row_str(r, "status"),
                               "status_text", reward_status_words(r, now_ms, buf, sizeof(buf)),
                               "friend_first_name", friend ? json_string(friend) : json_null(),
                               "expires_at", kith_eng_time_or_null(r, "expires_at"), "created_at",
                               kith_eng_time_or_null(r, "created_at")));
            /* Its id (for /v1/hub/rewards/{id}/claim) and how it reaches them (section 25). */
            json_t *shown = json_array_get(out, json_array_size(out) - 1);
            json_object_set_new(shown, "id", json_string(kith_eng_row_str(r, "id")));
            json_object_set_new(shown, "fulfilment",
                                kith_eng_fulfil_for_person(tx, r, cfg, now_ms));
        }
    }
    json_decref(args);
    json_decref(rows);
    return out;
}

/* The opt-in leaderboard's top ten by first name, and where the person stands. */
static json_t *leaderboard_part(struct kith_tx *tx, const struct kith_call *call,
                                const struct prog *p, const char *id, bool opted_in)
{
    char query[96];
    json_t *board = NULL, *top = json_array(), *me = json_null(), *e;
    struct kith_err err;
    snprintf(query, sizeof(query), "program=%s&limit=100", p->id);
    struct kith_call c = sub_call(call, NULL, query, NULL);
    if (kith_op_leaderboard(tx, &c, &board, &err) == KITH_OK) {
        size_t i;
        json_array_foreach(json_object_get(board, "data"), i, e)
        {
            bool mine = strcmp(json_string_value(json_object_get(e, "participant")), id) == 0;
            json_t *row = json_pack("{s:O,s:O,s:O,s:b}", "rank", json_object_get(e, "rank"),
                                    "display_name", json_object_get(e, "display_name"), "qualified",
                                    json_object_get(e, "qualified"), "me", mine);
            if (mine) {
                json_decref(me);
                me = json_pack("{s:O,s:O}", "rank", json_object_get(e, "rank"), "qualified",
                               json_object_get(e, "qualified"));
            }
            if (i < 10)
                json_array_append_new(top, row);
            else
                json_decref(row);
        }
    }
    json_decref(board);
    return json_pack("{s:b,s:o,s:o}", "opted_in", opted_in, "top", top, "me", me);
}

/* The participant as the person sees themselves: no e-mail, external id or metadata. */
static json_t *me_part(struct kith_tx *tx, const struct kith_engine *eng, json_t *row)
{
    json_t *p = kith_eng_render_participant(tx, eng, row);
    static const char *const hidden[] = {"email", "external_id", "metadata", "referred_by",
                                         "program"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(hidden); i++)
        json_object_del(p, hidden[i]);
    return p;
}

json_t *kith_eng_hub_document(struct kith_tx *tx, const struct kith_engine *eng,
                              const char *participant, int64_t now_ms, struct kith_err *err,
                              enum kith_status *st)
{
    json_t *row = NULL, *cfg = NULL, *share = NULL, *out = NULL;
    struct prog p;
    const char *params[] = {participant, NULL};
    if ((*st = kith_eng_load_row(tx, "participants", participant, "participant", &row, err)) !=
            KITH_OK ||
        (*st = kith_eng_prog_load(tx, kith_eng_row_str(row, "program"), &p, err)) != KITH_OK)
        goto out;
    if ((*st = kith_eng_prog_config(tx, p.id, &cfg)) != KITH_OK) {
        kith_err_set(err, *st, NULL, "the database could not read the program");
        goto out;
    }
    struct kith_call c = {.eng = eng, .params = params, .query = "", .now_ms = now_ms};
    if ((*st = kith_op_participant_share(tx, &c, &share, err)) != KITH_OK)
        goto out;
    out = json_object();
    json_object_set_new(out, "participant", me_part(tx, eng, row));
    json_object_set_new(out, "program", program_part(&p, cfg));
    json_object_set_new(out, "share", share);
    share = NULL;
    json_object_set_new(out, "referrals", referrals_part(tx, &p, participant, now_ms));
    json_object_set_new(out, "rewards", rewards_part(tx, cfg, participant, now_ms));
    json_object_set_new(out, "leaderboard",
                        leaderboard_part(tx, &c, &p, participant,
                                         kith_eng_row_int(row, "leaderboard_opt_in") != 0));
out:
    json_decref(row);
    json_decref(cfg);
    json_decref(share);
    return out;
}

enum kith_status kith_op_hub_me(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st == KITH_OK)
        *out = kith_eng_hub_document(tx, call->eng, call->hub_participant, call->now_ms, err, &st);
    return st;
}

enum kith_status kith_op_hub_me_update(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                       struct kith_err *err)
{
    /* Only what a person decides for themselves; the rest is the business's (PATCH
     * /v1/participants/{id}). Preferences are checked by the participant operation. */
    static const char *const allowed[] = {"preferences", "leaderboard_opt_in", NULL};
    const char *params[] = {call->hub_participant, NULL};
    json_t *updated = NULL;
    enum kith_status st = kith_eng_in_allowed(call->body, allowed, err);
    if (st != KITH_OK)
        return st;
    struct kith_call c = sub_call(call, params, "", call->body);
    if ((st = kith_op_participant_update(tx, &c, &updated, err)) != KITH_OK)
        return st;
    json_decref(updated);
    *out = kith_eng_hub_document(tx, call->eng, call->hub_participant, call->now_ms, err, &st);
    return st;
}

enum kith_status kith_op_hub_export(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                    struct kith_err *err)
{
    const char *params[] = {call->hub_participant, NULL};
    struct kith_call c = sub_call(call, params, call->query, NULL);
    return kith_op_participant_export(tx, &c, out, err);
}

enum kith_status kith_op_hub_erase(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                   struct kith_err *err)
{
    static const char *const allowed[] = {"confirm", NULL};
    const char *params[] = {call->hub_participant, NULL};
    bool confirm = false, present = false;
    json_t *erased = NULL, *empty = json_object();
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_bool(call->body, "confirm", &confirm, &present, err)) != KITH_OK)
        goto out;
    if (!confirm) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "confirm",
                          "erasure cannot be undone: send {\"confirm\": true} to go ahead");
        goto out;
    }
    struct kith_call c = sub_call(call, params, "", empty);
    if ((st = kith_op_participant_erase(tx, &c, &erased, err)) != KITH_OK)
        goto out;
    call->invalidates_links = c.invalidates_links;
    *out = json_pack("{s:b}", "erased", 1);
out:
    json_decref(erased);
    json_decref(empty);
    return st;
}

enum kith_status kith_engine_hub_page(struct kith_tx *tx, const struct kith_engine *eng,
                                      const char *token, int64_t now_ms, json_t **out)
{
    char participant[KITH_ID_MAX], program[48];
    struct kith_err err;
    json_t *cfg = NULL;
    enum kith_status st = kith_engine_hub_authorise(tx, token, now_ms, participant, program);
    if (st == KITH_E_UNAUTHORIZED)
        return KITH_E_NOT_FOUND;
    if (st != KITH_OK)
        return st;
    if ((*out = kith_eng_hub_document(tx, eng, participant, now_ms, &err, &st)) == NULL)
        return st == KITH_OK ? KITH_E_INTERNAL : st;
    if (kith_eng_prog_config(tx, program, &cfg) == KITH_OK) {
        json_t *o = json_object_get(cfg, "allowed_origins");
        json_object_set_new(*out, "frame_ancestors", o ? json_deep_copy(o) : json_array());
    }
    json_decref(cfg);
    return KITH_OK;
}
