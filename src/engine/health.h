/*
 * health.h: what the engine's health and experiment files (health_rollups.c, health_rebuild.c,
 * health.c, forecast.c, experiments.c, experiment_results.c) share with each other and with the
 * few places elsewhere in the engine that call into them: the upkeep of the health rollups in
 * the transactions that change what they count (participants, referrals, rewards, clicks,
 * events), the variant a referral's rewards follow, the participant's `experiments`, the
 * sweep that stops experiments past max_days, and the export. The statistics themselves are
 * the pure module src/stats; the rollups' tables are described in docs/internals/stats.md.
 *
 * Threading: everything here runs on a store thread inside the caller's transaction.
 */
#ifndef KITH_ENGINE_HEALTH_H
#define KITH_ENGINE_HEALTH_H

#include <jansson.h>

#include "engine/internal.h"

/* ---- rollup upkeep (health_rollups.c); each returns store errors as they are ---- */
/* A participant was created (row as stored: id, program, created_at, referred_by, status). One
 * born with referred_by counts once their referral is created, which must follow in the same
 * transaction at the same time (kith_eng_health_referral_created). */
enum kith_status kith_eng_health_joined(struct kith_tx *tx, json_t *person);
/* A participant became active (blocked -> active) or stopped being counted (blocked, erased). */
enum kith_status kith_eng_health_active(struct kith_tx *tx, const char *participant, bool active);
/*
 * A referral was created (row as stored, in its first state). Counts it, sets its referrer's
 * first referral, and, while an experiment runs in its program, files it under the referrer's
 * variant (kith_eng_exp_file).
 */
enum kith_status kith_eng_health_referral_created(struct kith_tx *tx, json_t *referral);
/* A referral (row as read, before the move) is about to become `to`, stamped at_ms. */
enum kith_status kith_eng_health_referral_moving(struct kith_tx *tx, json_t *referral,
                                                 enum kith_referral_status to, int64_t at_ms);
/* A reward (row as read, before the move) is about to become `to` at now_ms. */
enum kith_status kith_eng_health_reward_moving(struct kith_tx *tx, json_t *reward,
                                               enum kith_reward_status to, int64_t now_ms);
/* A batch of counted clicks, sorted by participant (kith_engine_clicks_write). */
enum kith_status kith_eng_health_clicks(struct kith_tx *tx, const struct kith_click *const *sorted,
                                        size_t n);
/* An event was stored for person (its row as stored); p is its program. */
enum kith_status kith_eng_health_event(struct kith_tx *tx, const struct prog *p, json_t *ev);

/* ---- rebuilding (health_rebuild.c) ---- */
/* Rebuilds every program's rollups from the raw tables (start-up, once per database). */
enum kith_status kith_eng_health_rebuild(struct kith_tx *tx);

/* ---- experiments (experiments.c) ---- */
#define KITH_EXP_VARIANTS_MAX 8
struct kith_eng_exp_variant {
    char id[48];
    int64_t weight;
};
/* The running experiment of a program, as far as assignment needs it. */
struct kith_eng_exp {
    char id[48];
    struct kith_eng_exp_variant v[KITH_EXP_VARIANTS_MAX];
    size_t n;
    uint8_t key[32]; /* the assignment key: a keyed hash of (experiment, participant) */
};
/*
 * The running experiment of program into *out; KITH_E_NOT_FOUND when none runs. Asked on every
 * signup, click batch and participant shown, so each process keeps the answer for up to a
 * second (like the program settings); a change made here is seen at once
 * (kith_eng_exp_forget), one made by another instance within the second. Thread-safe.
 */
enum kith_status kith_eng_exp_running(struct kith_tx *tx, const char *program,
                                      struct kith_eng_exp *out);
/* Forgets what kith_eng_exp_running keeps for program (NULL: for every program). */
void kith_eng_exp_forget(const char *program);
/* The variant participant belongs to (sticky: a pure function of the experiment and the id). */
const char *kith_eng_exp_assign(const struct kith_eng_exp *e, const char *participant);
/*
 * The reward rules a referral's rewards follow: those of the variant it was made under when
 * that variant has rules of its own, else the program's. rules holds KITH_REWARD_RULES_MAX.
 */
enum kith_status kith_eng_exp_rules(struct kith_tx *tx, const struct prog *p, json_t *referral,
                                    struct kith_reward_rule *rules, size_t *nrules);
/* The participant's `experiments` ({} when none runs in its program) into out. */
void kith_eng_exp_render(struct kith_tx *tx, json_t *person, json_t *out);
/* Stops running experiments past max_days (the sweeper). */
enum kith_status kith_eng_exp_sweep(struct kith_tx *tx, int64_t now_ms);
/* The participant's experiment memberships, into the export document. */
enum kith_status kith_eng_exp_export(struct kith_tx *tx, const char *participant, json_t *doc);
/* An experiment's row rendered with its per-variant results (experiment_results.c). */
enum kith_status kith_eng_exp_json(struct kith_tx *tx, json_t *row, json_t **out);
/* A participant shared (a counted click) or referred while e ran in their program. */
enum kith_status kith_eng_exp_member(struct kith_tx *tx, const struct kith_eng_exp *e,
                                     const char *participant, bool referred);

#endif
