/*
 * tracks.h: what the engine's advocacy files (track_settings.c, tracks.c, levels.c,
 * activities.c) share with each other and with the few places elsewhere in the engine that call
 * into them: the program setting `tracks`, the counting hooks of referral and activity changes,
 * the participant's `progress` and `roles`, the sweep of windows and grace periods, and the
 * participant export and erasure. The level rules themselves are the pure module src/advocacy.
 *
 * Threading: everything here runs on a store thread inside the caller's transaction.
 */
#ifndef KITH_ENGINE_TRACKS_H
#define KITH_ENGINE_TRACKS_H

#include <jansson.h>

#include "engine/internal.h"
#include "kith/advocacy.h"

/* ---- the setting (track_settings.c) ---- */
/*
 * Validates the program setting `tracks` (absent or null: []) into *norm (new), the normalised
 * list with every default filled in. err may be NULL (settings read back from the store).
 */
enum kith_status kith_eng_tracks_parse(json_t *in, json_t **norm, struct kith_err *err);

/* A program's tracks, parsed from its stored settings. */
struct kith_eng_tracks {
    struct kith_adv_track t[KITH_ADV_TRACKS_MAX];
    json_t *json[KITH_ADV_TRACKS_MAX]; /* each track's normalised settings (borrowed from cfg) */
    size_t n;
    json_t *cfg; /* the program's settings (a reference; kith_eng_tracks_dispose drops it) */
};
/* Loads program's tracks; a program that does not exist has none (n = 0, KITH_OK). */
enum kith_status kith_eng_tracks_load(struct kith_tx *tx, const char *program,
                                      struct kith_eng_tracks *out);
void kith_eng_tracks_dispose(struct kith_eng_tracks *tr);
/* The index of the track called id, or -1. */
int kith_eng_tracks_find(const struct kith_eng_tracks *tr, const char *id);

/* ---- counting (tracks.c) ---- */
/* What changed for a participant: one thing of one kind was counted (+1) or taken back (-1). */
struct kith_eng_adv_change {
    enum kith_adv_counts kind;
    const char *activity; /* the type, for KITH_ADV_ACTIVITY */
    const char *source;   /* the referral or activity id: counted once per track */
    int64_t at_ms;        /* when it happened (windows count from here) */
    int delta;            /* +1 or -1 */
};
/*
 * Applies changes (n of them) to every track of program counting their kind, for participant
 * (an id), then re-evaluates those tracks' levels: grants of levels reached (once ever),
 * pending approvals, roles, webhooks. eng may be NULL (the referral writer has none): the
 * level_reached notifications are then owed and written by kith_eng_adv_notify_owed.
 */
enum kith_status kith_eng_adv_count(struct kith_tx *tx, const struct kith_engine *eng,
                                    const char *program, const char *participant,
                                    const struct kith_eng_adv_change *changes, size_t n,
                                    int64_t now_ms, struct kith_err *err);
/* The id of a participant's row for a track ("<participant>/<track>"). */
void kith_eng_adv_row_id(const char *participant, const char *track, char *out, size_t outsize);
/*
 * Moves the running count of track t by delta in one statement (0: only makes sure the row
 * exists; a count kept under another basis starts afresh) and returns the row as it now is.
 */
enum kith_status kith_eng_adv_bump(struct kith_tx *tx, const struct kith_adv_track *t,
                                   const char *program, const char *participant, int delta,
                                   int64_t now_ms, json_t **row);
/* The hook of the referral writer (moves.c): a referral moved from `from` to its new status. */
enum kith_status kith_eng_adv_referral_moved(struct kith_tx *tx, json_t *referral,
                                             enum kith_referral_status from, int64_t now_ms,
                                             struct kith_err *err);
/* The hook of signups: a referral was created (as stored). */
enum kith_status kith_eng_adv_referral_created(struct kith_tx *tx, const struct kith_engine *eng,
                                               json_t *referral, int64_t now_ms);
/* Writes the level_reached notifications owed to participant (NULL: to anyone, up to 500). */
enum kith_status kith_eng_adv_notify_owed(struct kith_tx *tx, const struct kith_engine *eng,
                                          const char *participant, int64_t now_ms);
/* Sweeps windows that let entries go and grace periods that ended (sweep.c). */
enum kith_status kith_eng_adv_sweep(struct kith_tx *tx, const struct kith_engine *eng,
                                    int64_t now_ms, bool *more);

/* ---- levels and roles (levels.c) ---- */
/*
 * Settles track ti of tr for person (their participant row, locked) from row, their
 * track_levels row as it now is: evaluates the level rules (op 0; at_ms is when the count fell,
 * -1 when it did not), or applies the owner's approval (op 'a', by API key key_id) or decline
 * ('d'; KITH_E_INVALID_STATE when nothing waits). Writes the row, gives the grants of levels
 * reached, takes back the roles of levels dropped, and writes the webhooks. The level_reached
 * notes are owed: kith_eng_adv_notify_owed writes them, where the engine settings are at hand.
 */
enum kith_status kith_eng_adv_settle(struct kith_tx *tx, const struct kith_eng_tracks *tr,
                                     size_t track, json_t *person, json_t *row, int64_t at_ms,
                                     int64_t now_ms, char op, const char *key_id,
                                     struct kith_err *err);
/* Sets the participant's `progress` and `roles` on out (the rendered participant row). fresh:
 * created in this transaction, so nothing is counted yet and only the settings are read. */
void kith_eng_adv_render(struct kith_tx *tx, json_t *row, bool fresh, json_t *out);
/* `progress` alone, for answers that show it (activities). */
json_t *kith_eng_adv_progress(struct kith_tx *tx, const char *program, const char *participant);
/* An activity row in the contract's shape (activities.c). */
json_t *kith_eng_render_activity(json_t *row);
/* Adds the person's activities, tracks, levels reached and roles to an export document. */
enum kith_status kith_eng_adv_export(struct kith_tx *tx, const char *participant, json_t *doc);
/* Erases what of it is personal (activity notes, urls and reasons). */
enum kith_status kith_eng_adv_erase(struct kith_tx *tx, const char *participant);

#endif
