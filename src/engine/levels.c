/*
 * levels.c: what a level does once the rules (src/advocacy) say it is reached, held, pending or
 * dropped (CONTRACT section 15). A level reached gives its grants once per participant and level,
 * ever (the unique key of levels_reached): rewards "to": "participant" issued at once, and roles;
 * a level that falls away takes back the roles it granted, never the rewards. Webhooks tell of
 * every change, a level_reached note thanks the person. Also the owner's decisions (approve,
 * decline, roles by hand) and the participant's `progress` and `roles`. It is not for counting
 * (tracks.c) nor for the rules.
 */
#include <string.h>

#include "engine/templates.h"
#include "engine/tracks.h"
#include "kith/crypto.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static bool same(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static json_t *level_json(const struct kith_eng_tracks *tr, size_t ti, int li)
{
    return json_array_get(json_object_get(tr->json[ti], "levels"), (size_t)li);
}

/* ---- roles ---- */

static json_t *role_event(const char *participant, json_t *role_row)
{
    return json_pack(
        "{s:s,s:O,s:O,s:O,s:O,s:o}", "participant", participant, "role",
        json_object_get(role_row, "role"), "source", json_object_get(role_row, "source"), "track",
        json_object_get(role_row, "track"), "level", json_object_get(role_row, "level"),
        "granted_at", kith_eng_time_or_null(role_row, "granted_at"));
}

static enum kith_status role_row(struct kith_tx *tx, const char *participant, const char *role,
                                 json_t **out)
{
    json_t *args = json_pack("[ss]", participant, role);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_ADV_ROLE_GET, args, out);
    json_decref(args);
    return st;
}

/*
 * Grants role to person: from a level (track and level set) or by the owner. A role already
 * held stays as it is, except that the owner's grant makes it the owner's (kept when a level
 * falls away). *granted tells whether the role is new.
 */
static enum kith_status grant_role(struct kith_tx *tx, json_t *person, const char *role,
                                   const char *track, const char *level, int64_t now_ms,
                                   bool *granted)
{
    const char *participant = kith_eng_row_str(person, "id");
    const char *source = track ? "level" : "owner";
    json_t *row = NULL, *args;
    int64_t changed = 0;
    *granted = false;
    enum kith_status st = role_row(tx, participant, role, &row);
    if (st == KITH_OK) {
        if (track == NULL && strcmp(kith_eng_row_str(row, "source"), "owner") != 0) {
            args = json_pack("[sssnn]", participant, role, "owner");
            st = kith_store_exec(tx, KITH_Q_ADV_ROLE_SET_SOURCE, args, NULL);
            json_decref(args);
        }
        json_decref(row);
        return st;
    }
    if (st != KITH_E_NOT_FOUND)
        return st;
    args = json_pack("[ssssooI]", participant, kith_eng_row_str(person, "program"), role, source,
                     str_or_null(track), str_or_null(level), (json_int_t)now_ms);
    st = kith_store_exec(tx, KITH_Q_ADV_ROLE_ADD, args, &changed);
    json_decref(args);
    if (st != KITH_OK || changed == 0)
        return st;
    *granted = true;
    if ((st = role_row(tx, participant, role, &row)) != KITH_OK)
        return st;
    st = kith_eng_outbox_emit(tx, "participant.role_granted", role_event(participant, row), now_ms);
    json_decref(row);
    return st;
}

static enum kith_status revoke_role(struct kith_tx *tx, const char *participant, json_t *row,
                                    int64_t now_ms)
{
    json_t *args = json_pack("[sO]", participant, json_object_get(row, "role"));
    int64_t changed = 0;
    enum kith_status st = kith_store_exec(tx, KITH_Q_ADV_ROLE_DELETE, args, &changed);
    json_decref(args);
    if (st == KITH_OK && changed > 0)
        st = kith_eng_outbox_emit(tx, "participant.role_revoked", role_event(participant, row),
                                  now_ms);
    return st;
}

/* Does level li of track ti grant role? */
static bool level_grants_role(const struct kith_eng_tracks *tr, size_t ti, int li, const char *role)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(level_json(tr, ti, li), "grants"), i, g)
    {
        if (same(json_string_value(json_object_get(g, "kind")), "role") &&
            same(json_string_value(json_object_get(g, "role")), role))
            return true;
    }
    return false;
}

/* Bit k set when level k of track ti grants role. */
static uint32_t role_mask(const struct kith_eng_tracks *tr, size_t ti, const char *role)
{
    uint32_t mask = 0;
    for (size_t k = 0; k < tr->t[ti].nlevels; k++) {
        if (level_grants_role(tr, ti, (int)k, role))
            mask |= (uint32_t)1 << k;
    }
    return mask;
}

/*
 * Level li of track ti, which granted role, fell away (ti now holds `holding`). The rules decide
 * (kith_adv_role_after_drop): the role stays when the owner gave it or another level is its
 * source, moves to a level still held that grants it too, or goes.
 */
static enum kith_status drop_level_role(struct kith_tx *tx, const struct kith_eng_tracks *tr,
                                        size_t ti, int li, int holding, json_t *person,
                                        const char *role, int64_t now_ms)
{
    const char *participant = kith_eng_row_str(person, "id");
    json_t *row = NULL, *held_rows = NULL, *args;
    struct kith_adv_role_source src, next;
    int held[KITH_ADV_TRACKS_MAX] = {0};
    uint32_t grants[KITH_ADV_TRACKS_MAX] = {0};
    enum kith_status st = role_row(tx, participant, role, &row);
    if (st == KITH_E_NOT_FOUND)
        return KITH_OK;
    if (st != KITH_OK)
        return st;
    src.owner = !same(kith_eng_row_str(row, "source"), "level");
    src.track = kith_eng_tracks_find(
        tr, kith_eng_row_str(row, "track") ? kith_eng_row_str(row, "track") : "");
    src.level = src.track >= 0
                    ? kith_adv_level_index(&tr->t[src.track], kith_eng_row_str(row, "level"))
                    : -1;
    /* Without any level held, does this drop concern the role at all? */
    if (kith_adv_role_after_drop(&src, (int)ti, li, held, grants, 0, &next) == KITH_ADV_ROLE_KEEP)
        goto out;
    args = json_pack("[s]", participant);
    st = kith_store_query(tx, KITH_Q_ADV_LEVELS_OF, args, &held_rows);
    json_decref(args);
    if (st != KITH_OK)
        goto out;
    for (size_t j = 0; j < tr->n; j++) {
        held[j] = -1;
        if (j == ti) {
            held[j] = holding;
        } else {
            size_t k;
            json_t *r;
            json_array_foreach(held_rows, k, r)
            {
                if (same(kith_eng_row_str(r, "track"), tr->t[j].id))
                    held[j] = kith_adv_level_index(&tr->t[j], kith_eng_row_str(r, "level"));
            }
        }
        grants[j] = role_mask(tr, j, role);
    }
    switch (kith_adv_role_after_drop(&src, (int)ti, li, held, grants, tr->n, &next)) {
    case KITH_ADV_ROLE_KEEP:
        break;
    case KITH_ADV_ROLE_MOVE:
        args = json_pack("[ssssO]", participant, role, "level", tr->t[next.track].id,
                         json_object_get(level_json(tr, (size_t)next.track, next.level), "id"));
        st = kith_store_exec(tx, KITH_Q_ADV_ROLE_SET_SOURCE, args, NULL);
        json_decref(args);
        break;
    case KITH_ADV_ROLE_REVOKE:
        st = revoke_role(tx, participant, row, now_ms);
        break;
    }
out:
    json_decref(row);
    json_decref(held_rows);
    return st;
}

/* ---- settling a track ---- */

/* A level reached: its rewards once ever, its roles whenever it is held again. */
static enum kith_status give(struct kith_tx *tx, const struct kith_eng_tracks *tr, size_t ti,
                             int li, json_t *person, int64_t count, const char *approved_by,
                             int64_t now_ms)
{
    const struct kith_adv_track *t = &tr->t[ti];
    const char *participant = kith_eng_row_str(person, "id");
    const char *program = kith_eng_row_str(person, "program");
    const char *level = t->levels[li].id;
    char id[KITH_ID_MAX];
    int64_t first = 0;
    kith_crypto_random_id("lvr_", id);
    json_t *args = json_pack("[sssssIoI]", id, program, participant, t->id, level,
                             (json_int_t)count, str_or_null(approved_by), (json_int_t)now_ms);
    enum kith_status st = kith_store_exec(tx, KITH_Q_ADV_REACHED_ADD, args, &first);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(level_json(tr, ti, li), "grants"), i, g)
    {
        const char *kind = json_string_value(json_object_get(g, "kind"));
        if (same(kind, "role")) {
            bool granted;
            st = grant_role(tx, person, json_string_value(json_object_get(g, "role")), t->id, level,
                            now_ms, &granted);
        } else if (first > 0) {
            json_t *source = json_pack("{s:s,s:s}", "track", t->id, "level", level);
            st = kith_eng_participant_reward(tx, program, participant, g, source, now_ms, NULL);
            json_decref(source);
        }
        if (st != KITH_OK)
            return st;
    }
    return KITH_OK;
}

static enum kith_status given_levels(struct kith_tx *tx, const struct kith_adv_track *t,
                                     const char *participant, uint32_t *given)
{
    json_t *rows = NULL, *args = json_pack("[ss]", participant, t->id);
    enum kith_status st = kith_store_query(tx, KITH_Q_ADV_REACHED_OF, args, &rows);
    json_decref(args);
    *given = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        int li = kith_adv_level_index(t, kith_eng_row_str(r, "level"));
        if (li >= 0)
            *given |= (uint32_t)1 << (unsigned)li;
    }
    json_decref(rows);
    return st;
}

static const char *level_id(const struct kith_adv_track *t, int li)
{
    return li >= 0 ? t->levels[li].id : NULL;
}

enum kith_status kith_eng_adv_settle(struct kith_tx *tx, const struct kith_eng_tracks *tr,
                                     size_t ti, json_t *person, json_t *row, int64_t at_ms,
                                     int64_t now_ms, char op, const char *key_id,
                                     struct kith_err *err)
{
    const struct kith_adv_track *t = &tr->t[ti];
    const char *participant = kith_eng_row_str(person, "id");
    char basis[96];
    kith_adv_basis(t, basis, sizeof(basis));
    int64_t count = same(kith_eng_row_str(row, "basis"), basis) ? kith_eng_row_int(row, "n") : 0;
    const char *was = kith_eng_row_str(row, "level");
    struct kith_adv_state held;
    struct kith_adv_outcome o;
    kith_adv_state_init(&held);
    held.level = kith_adv_level_index(t, was);
    held.pending = kith_adv_level_index(t, kith_eng_row_str(row, "pending"));
    held.declined = kith_adv_level_index(t, kith_eng_row_str(row, "declined"));
    held.below_since_ms =
        kith_eng_row_is_null(row, "below_since") ? -1 : kith_eng_row_int(row, "below_since");
    enum kith_status st = given_levels(tx, t, participant, &held.given);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the levels reached");
    if (op == 'a' && !kith_adv_approve(t, count, &held, now_ms, &o))
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                            "no level of track '%s' is waiting for approval", t->id);
    if (op == 'd' && !kith_adv_decline(t, &held, &o))
        return kith_err_set(err, KITH_E_INVALID_STATE, NULL,
                            "no level of track '%s' is waiting for approval", t->id);
    if (op != 'a' && op != 'd')
        kith_adv_evaluate(t, count, &held, at_ms, now_ms, &o);

    /* A level no longer in the settings stays held until another is reached. */
    const char *now_level = level_id(t, o.next.level);
    if (now_level == NULL && held.level < 0 && was != NULL)
        now_level = was;
    json_t *set = json_pack(
        "{s:o,s:o,s:o,s:o,s:o,s:I}", "level", str_or_null(now_level), "pending",
        str_or_null(level_id(t, o.next.pending)), "declined",
        str_or_null(level_id(t, o.next.declined)), "below_since",
        o.next.below_since_ms >= 0 ? json_integer(o.next.below_since_ms) : json_null(),
        "grace_until", o.grace_until_ms >= 0 ? json_integer(o.grace_until_ms) : json_null(),
        "updated_at", (json_int_t)now_ms);
    st = kith_store_update(tx, "track_levels", kith_eng_row_str(row, "id"), set);
    json_decref(set);
    if (st == KITH_OK && !same(was, now_level))
        st = kith_eng_outbox_emit(tx, "participant.level_changed",
                                  json_pack("{s:s,s:s,s:o,s:o}", "participant", participant,
                                            "track", t->id, "from", str_or_null(was), "to",
                                            str_or_null(now_level)),
                                  now_ms);
    for (int li = 0; st == KITH_OK && li < (int)t->nlevels; li++) {
        if (o.reached & ((uint32_t)1 << (unsigned)li))
            st = give(tx, tr, ti, li, person, count,
                      op == 'a' && t->levels[li].owner_approval ? key_id : NULL, now_ms);
    }
    for (int li = (int)t->nlevels - 1; st == KITH_OK && li >= 0; li--) {
        if (!(o.dropped & ((uint32_t)1 << (unsigned)li)))
            continue;
        size_t i;
        json_t *g;
        json_array_foreach(json_object_get(level_json(tr, ti, li), "grants"), i, g)
        {
            if (st == KITH_OK && same(json_string_value(json_object_get(g, "kind")), "role"))
                st = drop_level_role(tx, tr, ti, li, o.next.level, person,
                                     json_string_value(json_object_get(g, "role")), now_ms);
        }
    }
    if (st == KITH_OK && o.pending_new)
        st = kith_eng_outbox_emit(tx, "participant.level_pending",
                                  json_pack("{s:s,s:s,s:s,s:I}", "participant", participant,
                                            "track", t->id, "level", level_id(t, o.next.pending),
                                            "count", (json_int_t)count),
                                  now_ms);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the level");
    return KITH_OK;
}

/* ---- level_reached notes ---- */

/* What a level gives, as words: "a founding-friend badge; a 25.00 USD credit". */
static void grant_words(json_t *level, char *out, size_t outsize)
{
    out[0] = '\0';
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(level, "grants"), i, g)
    {
        char one[300];
        const char *kind = json_string_value(json_object_get(g, "kind"));
        const char *desc = json_string_value(json_object_get(g, "description"));
        if (same(kind, "role"))
            snprintf(one, sizeof(one), "%s",
                     desc ? desc : json_string_value(json_object_get(g, "role")));
        else
            kith_template_reward_text(g, one, sizeof(one));
        if (one[0] == '\0')
            continue;
        size_t n = strlen(out);
        if (n + strlen(one) + 3 >= outsize)
            break;
        snprintf(out + n, outsize - n, "%s%s", n ? "; " : "", one);
    }
    if (out[0] == '\0')
        kith_strlcpy(out, "our thanks", outsize);
}

enum kith_status kith_eng_adv_notify_owed(struct kith_tx *tx, const struct kith_engine *eng,
                                          const char *participant, int64_t now_ms)
{
    if (eng == NULL)
        return KITH_OK;
    json_t *rows = NULL, *args = json_pack("[o]", str_or_null(participant));
    enum kith_status st = kith_store_query(tx, KITH_Q_ADV_REACHED_UNNOTIFIED, args, &rows);
    json_decref(args);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        int64_t claimed = 0;
        json_t *person = NULL;
        struct kith_eng_tracks tr;
        if (st != KITH_OK)
            break;
        args = json_pack("[O]", json_object_get(r, "id"));
        st = kith_store_exec(tx, KITH_Q_ADV_REACHED_NOTIFIED, args, &claimed);
        json_decref(args);
        if (st != KITH_OK || claimed == 0)
            continue;
        st = kith_store_get(tx, "participants", kith_eng_row_str(r, "participant"), &person);
        if (st == KITH_E_NOT_FOUND) {
            st = KITH_OK;
            continue;
        }
        if (st != KITH_OK ||
            (st = kith_eng_tracks_load(tx, kith_eng_row_str(r, "program"), &tr)) != KITH_OK) {
            json_decref(person);
            break;
        }
        const char *track = kith_eng_row_str(r, "track"), *level = kith_eng_row_str(r, "level");
        int ti = kith_eng_tracks_find(&tr, track);
        int li = ti >= 0 ? kith_adv_level_index(&tr.t[ti], level) : -1;
        json_t *lj = li >= 0 ? level_json(&tr, (size_t)ti, li) : NULL;
        const char *track_name =
            ti >= 0 ? json_string_value(json_object_get(tr.json[ti], "name")) : track;
        const char *level_name = lj ? json_string_value(json_object_get(lj, "name")) : level;
        char words[600];
        grant_words(lj, words, sizeof(words));
        st = kith_eng_notify_level(tx, eng, person, track_name, level_name, words, now_ms);
        kith_eng_tracks_dispose(&tr);
        json_decref(person);
    }
    json_decref(rows);
    return st;
}

/* ---- the owner's decisions ---- */

static enum kith_status load_person(struct kith_tx *tx, struct kith_call *call, json_t **person,
                                    struct kith_err *err)
{
    return kith_eng_load_locked(tx, "participants", call->params[0], "participant", person, err);
}

static enum kith_status decide(struct kith_tx *tx, struct kith_call *call, char op, json_t **out,
                               struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *person = NULL, *row = NULL;
    struct kith_eng_tracks tr = {0};
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = load_person(tx, call, &person, err)) != KITH_OK)
        return st;
    if ((st = kith_eng_tracks_load(tx, kith_eng_row_str(person, "program"), &tr)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the program's tracks");
        goto out;
    }
    int ti = kith_eng_tracks_find(&tr, call->params[1]);
    if (ti < 0) {
        st = kith_err_set(err, KITH_E_NOT_FOUND, "track", "the program has no track '%s'",
                          call->params[1]);
        goto out;
    }
    if ((st = kith_eng_adv_bump(tx, &tr.t[ti], kith_eng_row_str(person, "program"), call->params[0],
                                0, call->now_ms, &row)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the level");
        goto out;
    }
    if ((st = kith_eng_adv_settle(tx, &tr, (size_t)ti, person, row, -1, call->now_ms, op,
                                  call->key_id, err)) != KITH_OK)
        goto out;
    if ((st = kith_eng_adv_notify_owed(tx, call->eng, call->params[0], call->now_ms)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the notification");
        goto out;
    }
    *out = kith_eng_render_participant(tx, call->eng, person);
out:
    json_decref(person);
    json_decref(row);
    kith_eng_tracks_dispose(&tr);
    return st;
}

enum kith_status kith_op_participant_level_approve(struct kith_tx *tx, struct kith_call *call,
                                                   json_t **out, struct kith_err *err)
{
    return decide(tx, call, 'a', out, err);
}

enum kith_status kith_op_participant_level_decline(struct kith_tx *tx, struct kith_call *call,
                                                   json_t **out, struct kith_err *err)
{
    return decide(tx, call, 'd', out, err);
}

enum kith_status kith_op_participant_role_grant(struct kith_tx *tx, struct kith_call *call,
                                                json_t **out, struct kith_err *err)
{
    static const char *const allowed[] = {"role", NULL};
    const char *role = NULL;
    json_t *person = NULL;
    bool granted = false;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "role", true, 1, KITH_ADV_ID_MAX, &role, err)) !=
            KITH_OK)
        return st;
    if (!kith_adv_role_valid(role))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "role", "'role' must match [a-z0-9_]{1,40}");
    if ((st = load_person(tx, call, &person, err)) != KITH_OK)
        return st;
    if (kith_eng_row_int(person, "erased") != 0) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL, "this participant was erased");
    } else if ((st = grant_role(tx, person, role, NULL, NULL, call->now_ms, &granted)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the role");
    } else {
        *out = kith_eng_render_participant(tx, call->eng, person);
        st = granted ? KITH_CREATED : KITH_OK;
    }
    json_decref(person);
    return st;
}

enum kith_status kith_op_participant_role_revoke(struct kith_tx *tx, struct kith_call *call,
                                                 json_t **out, struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *person = NULL, *row = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = load_person(tx, call, &person, err)) != KITH_OK)
        return st;
    st = role_row(tx, call->params[0], call->params[1], &row);
    if (st == KITH_E_NOT_FOUND)
        st = kith_err_set(err, st, "role", "this participant does not hold the role '%s'",
                          call->params[1]);
    else if (st != KITH_OK || (st = revoke_role(tx, call->params[0], row, call->now_ms)) != KITH_OK)
        st = kith_err_set(err, st, NULL, "the database could not remove the role");
    else
        *out = kith_eng_render_participant(tx, call->eng, person);
    json_decref(person);
    json_decref(row);
    return st;
}
