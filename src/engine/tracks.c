/*
 * tracks.c: counting advocacy as it happens (CONTRACT section 15). Each change that moves a
 * count (a referral rewarded, created or rejected, an activity counted or voided) is applied in
 * the transaction of the change: one entry per thing counted per track (a unique key, so nothing
 * counts twice and a void takes back exactly what was counted), one atomic step of the running
 * count, then the track's level is settled (levels.c). No count is ever recomputed from history
 * on a request. Windowed tracks date their entries; the sweeper lets them go when they leave
 * the window and applies grace periods that ended. It is not for the level rules (src/advocacy)
 * nor for what a level gives (levels.c).
 *
 * Concurrency: every change for a person first locks their participant row (PostgreSQL: until
 * commit; SQLite has one writer), so counts, levels and roles of one person move one
 * transaction at a time and stay exact on a connection pool or with several instances.
 */
#include <string.h>

#include "engine/tracks.h"

#define DAY_MS INT64_C(86400000)

void kith_eng_adv_row_id(const char *participant, const char *track, char *out, size_t outsize)
{
    snprintf(out, outsize, "%s/%s", participant, track);
}

static bool counts_it(const struct kith_adv_track *t, const struct kith_eng_adv_change *c)
{
    if (t->counts != c->kind)
        return false;
    return t->counts != KITH_ADV_ACTIVITY || (c->activity && strcmp(t->activity, c->activity) == 0);
}

enum kith_status kith_eng_adv_bump(struct kith_tx *tx, const struct kith_adv_track *t,
                                   const char *program, const char *participant, int delta,
                                   int64_t now_ms, json_t **row)
{
    char id[KITH_ID_MAX + KITH_ADV_ID_MAX + 2], basis[96];
    kith_eng_adv_row_id(participant, t->id, id, sizeof(id));
    kith_adv_basis(t, basis, sizeof(basis));
    json_t *rows = NULL, *args = json_pack("[sssssiI]", id, program, participant, t->id, basis,
                                           delta, (json_int_t)now_ms);
    enum kith_status st = kith_store_query(tx, KITH_Q_ADV_LEVEL_BUMP, args, &rows);
    json_decref(args);
    if (st == KITH_OK && json_array_size(rows) != 1)
        st = KITH_E_INTERNAL;
    if (st == KITH_OK)
        *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return st;
}

/* One entry in or out; *moved tells whether the count moves (a repeat changes nothing). */
static enum kith_status entry(struct kith_tx *tx, const struct kith_adv_track *t,
                              const char *program, const char *participant,
                              const struct kith_eng_adv_change *c, int64_t now_ms, bool *moved)
{
    char basis[96];
    int64_t changed = 0;
    enum kith_status st;
    json_t *args;
    *moved = false;
    kith_adv_basis(t, basis, sizeof(basis));
    if (c->delta > 0) {
        int64_t window_ms = t->window_days * DAY_MS;
        /* Reported after its window already closed: nothing to count. */
        if (window_ms > 0 && c->at_ms + window_ms <= now_ms)
            return KITH_OK;
        args = json_pack("[sssssIo]", program, t->id, basis, c->source, participant,
                         (json_int_t)c->at_ms,
                         window_ms > 0 ? json_integer(c->at_ms + window_ms) : json_null());
        st = kith_store_exec(tx, KITH_Q_ADV_ENTRY_ADD, args, &changed);
    } else {
        args = json_pack("[ssss]", program, t->id, basis, c->source);
        st = kith_store_exec(tx, KITH_Q_ADV_ENTRY_DROP, args, &changed);
    }
    json_decref(args);
    *moved = st == KITH_OK && changed > 0;
    return st;
}

enum kith_status kith_eng_adv_count(struct kith_tx *tx, const struct kith_engine *eng,
                                    const char *program, const char *participant,
                                    const struct kith_eng_adv_change *changes, size_t n,
                                    int64_t now_ms, struct kith_err *err)
{
    struct kith_eng_tracks tr;
    json_t *person = NULL;
    enum kith_status st = kith_eng_tracks_load(tx, program, &tr);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the program's tracks");
    bool any = false;
    for (size_t i = 0; i < tr.n; i++) {
        for (size_t c = 0; c < n; c++)
            any = any || counts_it(&tr.t[i], &changes[c]);
    }
    if (!any)
        goto out;
    st = kith_store_get_locked(tx, "participants", participant, &person);
    if (st == KITH_E_NOT_FOUND) {
        st = KITH_OK;
        goto out;
    }
    if (st != KITH_OK)
        goto fail;
    for (size_t i = 0; i < tr.n; i++) {
        int delta = 0;
        for (size_t c = 0; c < n; c++) {
            bool moved = false;
            if (!counts_it(&tr.t[i], &changes[c]))
                continue;
            if ((st = entry(tx, &tr.t[i], program, participant, &changes[c], now_ms, &moved)) !=
                KITH_OK)
                goto fail;
            if (moved)
                delta += changes[c].delta;
        }
        if (delta == 0)
            continue;
        json_t *row = NULL;
        if ((st = kith_eng_adv_bump(tx, &tr.t[i], program, participant, delta, now_ms, &row)) !=
            KITH_OK)
            goto fail;
        /* A count that fell starts a grace period now; one that rose starts none. */
        st = kith_eng_adv_settle(tx, &tr, i, person, row, delta < 0 ? now_ms : -1, now_ms, 0, NULL,
                                 err);
        json_decref(row);
        if (st != KITH_OK)
            goto out;
    }
    if (eng && (st = kith_eng_adv_notify_owed(tx, eng, participant, now_ms)) != KITH_OK)
        goto fail;
    goto out;
fail:
    st = kith_err_set(err, st, NULL, "the database could not count the advocacy");
out:
    json_decref(person);
    kith_eng_tracks_dispose(&tr);
    return st;
}

enum kith_status kith_eng_adv_referral_moved(struct kith_tx *tx, json_t *referral,
                                             enum kith_referral_status from, int64_t now_ms,
                                             struct kith_err *err)
{
    enum kith_referral_status to;
    struct kith_eng_adv_change c[2];
    size_t n = 0;
    const char *id = kith_eng_row_str(referral, "id");
    if (!kith_referral_status_parse(kith_eng_row_str(referral, "status"), &to) || id == NULL)
        return KITH_OK;
    if (to == KITH_REFERRAL_REWARDED) {
        c[n++] = (struct kith_eng_adv_change){KITH_ADV_QUALIFIED_REFERRALS, NULL, id,
                                              kith_eng_row_int(referral, "rewarded_at"), 1};
    } else if (to == KITH_REFERRAL_REJECTED && from != KITH_REFERRAL_REJECTED) {
        int64_t at = kith_eng_row_int(referral, "created_at");
        c[n++] = (struct kith_eng_adv_change){KITH_ADV_SIGNUPS, NULL, id, at, -1};
        if (kith_eng_row_str(referral, "resource"))
            c[n++] = (struct kith_eng_adv_change){KITH_ADV_RESOURCE_SIGNUPS, NULL, id, at, -1};
    }
    if (n == 0)
        return KITH_OK;
    /* The writer has no engine settings: level_reached notes are owed, and written by the
     * caller that has them (release) or the sweeper. */
    return kith_eng_adv_count(tx, NULL, kith_eng_row_str(referral, "program"),
                              kith_eng_row_str(referral, "referrer"), c, n, now_ms, err);
}

enum kith_status kith_eng_adv_referral_created(struct kith_tx *tx, const struct kith_engine *eng,
                                               json_t *referral, int64_t now_ms)
{
    struct kith_eng_adv_change c[2];
    size_t n = 0;
    const char *id = kith_eng_row_str(referral, "id");
    const char *status = kith_eng_row_str(referral, "status");
    if (id == NULL || status == NULL || strcmp(status, "rejected") == 0)
        return KITH_OK;
    int64_t at = kith_eng_row_int(referral, "created_at");
    c[n++] = (struct kith_eng_adv_change){KITH_ADV_SIGNUPS, NULL, id, at, 1};
    if (kith_eng_row_str(referral, "resource"))
        c[n++] = (struct kith_eng_adv_change){KITH_ADV_RESOURCE_SIGNUPS, NULL, id, at, 1};
    return kith_eng_adv_count(tx, eng, kith_eng_row_str(referral, "program"),
                              kith_eng_row_str(referral, "referrer"), c, n, now_ms, NULL);
}

/* ---- the sweep ---- */

/* An entry left its window at its expires_at: it stops counting, and the grace period of a
 * level it held up starts then, whenever the sweeper gets to it. */
static enum kith_status expire_entry(struct kith_tx *tx, json_t *e, int64_t now_ms)
{
    const char *program = kith_eng_row_str(e, "program");
    const char *participant = kith_eng_row_str(e, "participant");
    json_t *person = NULL, *row = NULL;
    struct kith_eng_tracks tr;
    int64_t changed = 0;
    enum kith_status st = kith_store_get_locked(tx, "participants", participant, &person);
    if (st != KITH_OK && st != KITH_E_NOT_FOUND)
        return st;
    json_t *args = json_pack("[ssss]", program, kith_eng_row_str(e, "track"),
                             kith_eng_row_str(e, "basis"), kith_eng_row_str(e, "source"));
    st = kith_store_exec(tx, KITH_Q_ADV_ENTRY_DROP, args, &changed);
    json_decref(args);
    if (st != KITH_OK || changed == 0 || person == NULL) {
        json_decref(person);
        return st;
    }
    if ((st = kith_eng_tracks_load(tx, program, &tr)) != KITH_OK) {
        json_decref(person);
        return st;
    }
    int i = kith_eng_tracks_find(&tr, kith_eng_row_str(e, "track"));
    char basis[96] = "";
    if (i >= 0)
        kith_adv_basis(&tr.t[i], basis, sizeof(basis));
    /* A track that is gone, or counts something else now, has no count to take this from. */
    if (i >= 0 && strcmp(basis, kith_eng_row_str(e, "basis")) == 0 &&
        (st = kith_eng_adv_bump(tx, &tr.t[i], program, participant, -1, now_ms, &row)) == KITH_OK)
        st = kith_eng_adv_settle(tx, &tr, (size_t)i, person, row, kith_eng_row_int(e, "expires_at"),
                                 now_ms, 0, NULL, NULL);
    json_decref(row);
    json_decref(person);
    kith_eng_tracks_dispose(&tr);
    return st;
}

static enum kith_status grace_ended(struct kith_tx *tx, json_t *r, int64_t now_ms)
{
    const char *program = kith_eng_row_str(r, "program");
    const char *participant = kith_eng_row_str(r, "participant");
    json_t *person = NULL, *row = NULL;
    struct kith_eng_tracks tr;
    enum kith_status st = kith_store_get_locked(tx, "participants", participant, &person);
    if (st == KITH_OK)
        st = kith_eng_tracks_load(tx, program, &tr);
    else
        memset(&tr, 0, sizeof(tr));
    int i = st == KITH_OK ? kith_eng_tracks_find(&tr, kith_eng_row_str(r, "track")) : -1;
    if (st == KITH_OK && i >= 0) {
        if ((st = kith_eng_adv_bump(tx, &tr.t[i], program, participant, 0, now_ms, &row)) ==
            KITH_OK)
            st = kith_eng_adv_settle(tx, &tr, (size_t)i, person, row, -1, now_ms, 0, NULL, NULL);
    } else if (st == KITH_OK || st == KITH_E_NOT_FOUND) {
        /* The track (or the person) is gone: nothing falls due any more. */
        json_t *set = json_pack("{s:n,s:I}", "grace_until", "updated_at", (json_int_t)now_ms);
        st = kith_store_update(tx, "track_levels", kith_eng_row_str(r, "id"), set);
        json_decref(set);
    }
    json_decref(row);
    json_decref(person);
    kith_eng_tracks_dispose(&tr);
    return st;
}

enum kith_status kith_eng_adv_sweep(struct kith_tx *tx, const struct kith_engine *eng,
                                    int64_t now_ms, bool *more)
{
    static const enum kith_query due[] = {KITH_Q_ADV_ENTRIES_DUE, KITH_Q_ADV_LEVELS_GRACE_DUE};
    enum kith_status st = KITH_OK;
    for (size_t q = 0; q < KITH_ARRAY_LEN(due) && st == KITH_OK; q++) {
        json_t *rows = NULL, *args = json_pack("[I]", (json_int_t)now_ms);
        st = kith_store_query(tx, due[q], args, &rows);
        json_decref(args);
        if (st != KITH_OK)
            break;
        if (json_array_size(rows) >= 500)
            *more = true;
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            st = q == 0 ? expire_entry(tx, r, now_ms) : grace_ended(tx, r, now_ms);
            if (st != KITH_OK)
                break;
        }
        json_decref(rows);
    }
    /* Notes owed by the referral writer, should a caller not have written them. */
    if (st == KITH_OK)
        st = kith_eng_adv_notify_owed(tx, eng, NULL, now_ms);
    return st;
}
