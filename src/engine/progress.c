/*
 * progress.c: what a participant sees of their advocacy, and what kith tells them it holds: the
 * participant object's `progress` (per track: count, level, pending level, next level) and
 * `roles` (CONTRACT section 15), read from the running counts and never recounted; and the
 * advocacy part of the participant export and erasure (section 6b). It is not for changing
 * any of it (tracks.c, levels.c).
 */
#include <string.h>

#include "engine/tracks.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *track_row(json_t *rows, const char *track)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *t = kith_eng_row_str(r, "track");
        if (t && strcmp(t, track) == 0)
            return r;
    }
    return NULL;
}

static json_t *progress_json(const struct kith_eng_tracks *tr, json_t *rows)
{
    json_t *out = json_object();
    for (size_t i = 0; i < tr->n; i++) {
        const struct kith_adv_track *t = &tr->t[i];
        json_t *r = track_row(rows, t->id);
        char basis[96];
        kith_adv_basis(t, basis, sizeof(basis));
        const char *rb = r ? kith_eng_row_str(r, "basis") : NULL;
        int64_t count = rb && strcmp(rb, basis) == 0 ? kith_eng_row_int(r, "n") : 0;
        const char *level = r ? kith_eng_row_str(r, "level") : NULL;
        const char *pending = r ? kith_eng_row_str(r, "pending") : NULL;
        struct kith_adv_state s;
        kith_adv_state_init(&s);
        s.level = kith_adv_level_index(t, level);
        s.pending = kith_adv_level_index(t, pending);
        int next = kith_adv_next(t, &s);
        json_t *nj = json_null();
        if (next >= 0) {
            int64_t left = t->levels[next].at - count;
            nj = json_pack("{s:s,s:I,s:I}", "level", t->levels[next].id, "at",
                           (json_int_t)t->levels[next].at, "remaining",
                           (json_int_t)(left > 0 ? left : 0));
        }
        json_object_set_new(out, t->id,
                            json_pack("{s:I,s:o,s:o,s:o}", "count", (json_int_t)count, "level",
                                      str_or_null(level), "pending_level", str_or_null(pending),
                                      "next", nj));
    }
    return out;
}

static json_t *rows_of(struct kith_tx *tx, enum kith_query q, const char *participant)
{
    json_t *rows = NULL, *args = json_pack("[s]", participant);
    if (kith_store_query(tx, q, args, &rows) != KITH_OK)
        rows = NULL;
    json_decref(args);
    return rows ? rows : json_array();
}

static json_t *roles_json(json_t *rows, bool full)
{
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_t *o = json_pack("{s:o,s:o,s:o}", "role", str_or_null(kith_eng_row_str(r, "role")),
                              "granted_at", kith_eng_time_or_null(r, "granted_at"), "source",
                              str_or_null(kith_eng_row_str(r, "source")));
        if (full) {
            json_object_set_new(o, "track", str_or_null(kith_eng_row_str(r, "track")));
            json_object_set_new(o, "level", str_or_null(kith_eng_row_str(r, "level")));
        }
        json_array_append_new(out, o);
    }
    return out;
}

void kith_eng_adv_render(struct kith_tx *tx, json_t *row, bool fresh, json_t *out)
{
    struct kith_eng_tracks tr;
    const char *id = kith_eng_row_str(row, "id");
    json_t *levels = NULL, *roles = NULL;
    if (kith_eng_tracks_load(tx, kith_eng_row_str(row, "program"), &tr) != KITH_OK)
        tr.n = 0;
    if (!fresh && id) {
        if (tr.n > 0)
            levels = rows_of(tx, KITH_Q_ADV_LEVELS_OF, id);
        roles = rows_of(tx, KITH_Q_ADV_ROLES_OF, id);
    }
    json_object_set_new(out, "progress", progress_json(&tr, levels));
    json_object_set_new(out, "roles", roles ? roles_json(roles, false) : json_array());
    json_decref(levels);
    json_decref(roles);
    kith_eng_tracks_dispose(&tr);
}

json_t *kith_eng_adv_progress(struct kith_tx *tx, const char *program, const char *participant)
{
    struct kith_eng_tracks tr;
    if (kith_eng_tracks_load(tx, program, &tr) != KITH_OK)
        tr.n = 0;
    json_t *levels = tr.n > 0 ? rows_of(tx, KITH_Q_ADV_LEVELS_OF, participant) : NULL;
    json_t *out = progress_json(&tr, levels);
    json_decref(levels);
    kith_eng_tracks_dispose(&tr);
    return out;
}

/* Times as RFC 3339 and the count under its contract name, like the rest of the export. */
static json_t *export_rows(json_t *rows)
{
    static const char *const times[] = {"at",          "expires_at", "below_since",
                                        "grace_until", "updated_at", "created_at"};
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        for (size_t k = 0; k < KITH_ARRAY_LEN(times); k++) {
            if (json_object_get(r, times[k]))
                json_object_set_new(r, times[k], kith_eng_time_or_null(r, times[k]));
        }
        if (json_object_get(r, "n")) {
            json_object_set(r, "count", json_object_get(r, "n"));
            json_object_del(r, "n");
        }
        if (json_object_get(r, "live"))
            json_object_set_new(r, "live", json_boolean(kith_eng_row_int(r, "live") != 0));
        if (json_object_get(r, "notified"))
            json_object_set_new(r, "notified", json_boolean(kith_eng_row_int(r, "notified") != 0));
        json_object_del(r, "id");
        json_object_del(r, "participant");
    }
    return rows;
}

enum kith_status kith_eng_adv_export(struct kith_tx *tx, const char *participant, json_t *doc)
{
    static const struct {
        const char *key;
        enum kith_query q;
    } parts[] = {{"activities", KITH_Q_ADV_EXPORT_ACTIVITIES},
                 {"tracks", KITH_Q_ADV_EXPORT_LEVELS},
                 {"levels_reached", KITH_Q_ADV_EXPORT_REACHED},
                 {"track_entries", KITH_Q_ADV_EXPORT_ENTRIES},
                 {"roles", KITH_Q_ADV_ROLES_OF}};
    for (size_t p = 0; p < KITH_ARRAY_LEN(parts); p++) {
        json_t *rows = NULL, *args = json_pack("[s]", participant);
        enum kith_status st = kith_store_query(tx, parts[p].q, args, &rows);
        json_decref(args);
        if (st != KITH_OK)
            return st;
        json_t *shown;
        if (parts[p].q == KITH_Q_ADV_EXPORT_ACTIVITIES) {
            shown = json_array();
            size_t i;
            json_t *r;
            json_array_foreach(rows, i, r)
                json_array_append_new(shown, kith_eng_render_activity(r));
        } else if (parts[p].q == KITH_Q_ADV_ROLES_OF) {
            shown = roles_json(rows, true);
        } else {
            shown = json_incref(export_rows(rows));
        }
        json_decref(rows);
        json_object_set_new(doc, parts[p].key, shown);
    }
    return KITH_OK;
}

enum kith_status kith_eng_adv_erase(struct kith_tx *tx, const char *participant)
{
    json_t *args = json_pack("[s]", participant);
    enum kith_status st = kith_store_exec(tx, KITH_Q_ADV_ERASE_ACTIVITIES, args, NULL);
    json_decref(args);
    return st;
}
