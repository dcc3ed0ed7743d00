/*
 * internal.h: what the engine's operation files share: input checking against the contract's
 * rules (unknown fields, types, bounds), query-string parameters, the program settings as a
 * struct, loading rows, and rendering rows into the contract's JSON shapes.
 */
#ifndef KITH_ENGINE_INTERNAL_H
#define KITH_ENGINE_INTERNAL_H

#include <jansson.h>

#include "kith/asks.h"
#include "kith/attribution.h"
#include "kith/engine.h"
#include "kith/rewards.h"
#include "kith/rituals.h"
#include "kith/store.h"

/* ---- input (input.c) ---- */
/* An event type name, built-in or custom (CONTRACT section 7): [a-z0-9_.]{1,40}. */
bool kith_eng_event_type_valid(const char *s);
/* An http:// or https:// URL with a host (kith_valid_url): destinations, webhook endpoints. */
bool kith_eng_url_valid(const char *s);
/* Refuses any key of body not in allowed (NULL-terminated). */
enum kith_status kith_eng_in_allowed(json_t *body, const char *const *allowed,
                                     struct kith_err *err);
/* A string field: absent or null gives *out = NULL (an error when required). Lengths in bytes. */
enum kith_status kith_eng_in_string(json_t *body, const char *name, bool required, size_t min_len,
                                    size_t max_len, const char **out, struct kith_err *err);
/* An integer field in [min, max]; *present tells whether it was given (null counts as absent). */
enum kith_status kith_eng_in_int(json_t *body, const char *name, int64_t min, int64_t max,
                                 int64_t *out, bool *present, struct kith_err *err);
enum kith_status kith_eng_in_bool(json_t *body, const char *name, bool *out, bool *present,
                                  struct kith_err *err);
/* An RFC 3339 time field. */
enum kith_status kith_eng_in_time(json_t *body, const char *name, int64_t *out, bool *present,
                                  struct kith_err *err);
/* Refuses query parameters not in allowed. */
enum kith_status kith_eng_q_allowed(const char *query, const char *const *allowed,
                                    struct kith_err *err);
/* A decoded query parameter into out; *present false when absent. Malformed or too long: 400. */
enum kith_status kith_eng_q_string(const char *query, const char *name, char *out, size_t outsize,
                                   bool *present, struct kith_err *err);
/* limit (1..500, default 50) and cursor ("c_<n>") for lists. */
enum kith_status kith_eng_q_page(const char *query, int64_t *limit, int64_t *after,
                                 struct kith_err *err);
/* Wraps rows (each with a "cur" column, removed here) into the list shape, rendering each. */
typedef json_t *(*kith_render_fn)(struct kith_tx *tx, void *ctx, json_t *row);
json_t *kith_eng_list_page(json_t *rows, int64_t limit, kith_render_fn render, struct kith_tx *tx,
                           void *ctx);
/* A page of the rows under one parent (call->params[0], which must exist in parent_table):
 * `query` takes (after, parent id, limit + 1). */
enum kith_status kith_eng_list_children(struct kith_tx *tx, struct kith_call *call,
                                        const char *parent_table, const char *parent_what,
                                        enum kith_query query, kith_render_fn render, json_t **out,
                                        struct kith_err *err);

/* ---- programs (programs.c) ---- */
struct prog {
    char id[48];
    char name[256];
    char destination[2048];
    int64_t cookie_days;
    int64_t window_days;
    char qual_event[48];
    int64_t min_amount;
    int64_t hold_days;
    int64_t within_days;
    struct kith_reward_rule rules[KITH_REWARD_RULES_MAX];
    size_t nrules;
    int64_t max_rewards; /* -1: no cap */
    uint32_t review_at;
    uint32_t reject_at;
    uint32_t velocity_per_day;
    uint32_t new_account_hours;
    int64_t average_value;
    char currency[4];
};
/* Loads a program by id (KITH_E_NOT_FOUND with param "program"). */
enum kith_status kith_eng_prog_load(struct kith_tx *tx, const char *id, struct prog *out,
                                    struct kith_err *err);
/*
 * Resolves the `program` a request names, or the only program when it names none and exactly
 * one exists. id_in may be NULL.
 */
enum kith_status kith_eng_prog_resolve(struct kith_tx *tx, const char *id_in, struct prog *out,
                                       struct kith_err *err);

/* Validates reward rules (section 2; absent or null: none) into rules (KITH_REWARD_RULES_MAX) and
 * *norm (new), the normalised list; err's param names "rewards[i].field". */
enum kith_status kith_eng_prog_rules(json_t *in, struct kith_reward_rule *rules, size_t *nrules,
                                     json_t **norm, struct kith_err *err);

/* The stored settings document of a program (templates, provider secrets): a new reference to a
 * shared object that callers must only read. */
enum kith_status kith_eng_prog_config(struct kith_tx *tx, const char *id, json_t **out);

/* ---- helpers (common.c) ---- */
json_t *kith_eng_time_or_null(json_t *row, const char *col);
/* The row's text column as a JSON string, or null when it is NULL. */
json_t *kith_eng_str_or_null(json_t *row, const char *col);
json_t *kith_eng_time_json(int64_t ms);
int64_t kith_eng_row_int(json_t *row, const char *col);
const char *kith_eng_row_str(json_t *row, const char *col); /* NULL when null or absent */
bool kith_eng_row_is_null(json_t *row, const char *col);
json_t *kith_eng_render_participant(struct kith_tx *tx, const struct kith_engine *eng, json_t *row);
json_t *kith_eng_render_referral(struct kith_tx *tx, json_t *row);
/* The same from rows the caller already holds (referrer, referred may be NULL). */
json_t *kith_eng_render_referral_rows(json_t *row, json_t *referrer, json_t *referred);
/* A participant created in this transaction: one code, zero stats and progress, no queries but
 * the program's settings (cached). */
json_t *kith_eng_render_new_participant(struct kith_tx *tx, const struct kith_engine *eng,
                                        json_t *row);
/* A reward as the contract shows it, with its `fulfilment` (section 25, read in tx). */
json_t *kith_eng_render_reward(struct kith_tx *tx, json_t *row);
/* Loads one row of table by id; KITH_E_NOT_FOUND names what was not found. */
enum kith_status kith_eng_load_row(struct kith_tx *tx, const char *table, const char *id,
                                   const char *what, json_t **out, struct kith_err *err);
/* Moves a program's running counts (active participants, sharers) by the deltas. */
enum kith_status kith_eng_program_count(struct kith_tx *tx, const char *program,
                                        int64_t active_delta, int64_t sharers_delta);
/* The same, locking the row until commit: for moves another instance could race. */
enum kith_status kith_eng_load_locked(struct kith_tx *tx, const char *table, const char *id,
                                      const char *what, json_t **out, struct kith_err *err);
/* Loads the participant with external_id in program; KITH_E_NOT_FOUND when absent. */
enum kith_status kith_eng_participant_by_external(struct kith_tx *tx, const char *program,
                                                  const char *external_id, json_t **out);
/*
 * Creates a participant row with a new permanent code. fields holds the columns the caller sets
 * (external_id, email, first_name, ...); id, code, status and times are filled here, except that
 * a "code" in fields (canonical, as an import brings it) is kept as the primary code instead of
 * a new one (KITH_E_CODE_TAKEN when it is taken). *out is the stored row. KITH_E_CONSTRAINT when
 * (program, external_id) exists.
 */
enum kith_status kith_eng_participant_insert(struct kith_tx *tx, const struct kith_engine *eng,
                                             const struct prog *p, json_t *fields, int64_t now_ms,
                                             json_t **out, struct kith_err *err);

/* ---- imports (imports.c) ---- */
/* Claims code (canonical, checked by kith_code_alias_canonical) as participant's primary code and
 * copies it into out; KITH_E_CODE_TAKEN (param "code") when its normal form has an owner. */
enum kith_status kith_eng_code_keep(struct kith_tx *tx, const char *participant, const char *code,
                                    int64_t now_ms, char out[16], struct kith_err *err);

/* ---- reward fulfilment (fulfil*.c, payouts.c; section 25) ---- */
/* Validates the program settings `fulfilment`, `stripe_api_key` and `claim_form` of in (a whole
 * program document) into cfg, normalised. */
enum kith_status kith_eng_fulfil_settings(json_t *in, json_t *cfg, struct kith_err *err);
/* A reward rule's `months` (free_month, subscription_extension: 1..36) and `percent_off`
 * (discount: 1..100) from in into r and, when given, into norm. path names the rule. */
enum kith_status kith_eng_fulfil_rule_terms(json_t *in, const char *path,
                                            struct kith_reward_rule *r, json_t *norm,
                                            struct kith_err *err);
/*
 * After the reward writer moved reward (the row as now written) to `to`: on issue the reward
 * joins its program's fulfilment for its kind (a Stripe call due now, the payout queue or a
 * claim; nothing for `none`), once per reward (the table's key); on redeem a pending payout or
 * claim is done (reward.fulfilled); on void or expiry a fulfilment that has not reached Stripe
 * yet is stopped (failed, its error saying why; no webhook beyond the reward's own).
 */
enum kith_status kith_eng_fulfil_moved(struct kith_tx *tx, json_t *reward,
                                       enum kith_reward_status to, int64_t now_ms);
/* The reward's `fulfilment` object (a new reference). */
json_t *kith_eng_fulfil_render(struct kith_tx *tx, json_t *reward);
/* What the person sees of it in the share hub: {"method", "status", "code", "status_text"} (the
 * state in words, or null when the reward's own status says it) and, for a claim, "claim":
 * "open"|"claimed"|"delivered", the program's "form" for the reward's kind (cfg: the program's
 * config), the person's "answers" and "claimed_at", and "can_send" (the claim may be sent or
 * changed now). Never Stripe's error text or ids. A new reference. */
json_t *kith_eng_fulfil_for_person(struct kith_tx *tx, json_t *reward, json_t *cfg, int64_t now_ms);
/* Erasure: the person's claim answers and Stripe ids. */
enum kith_status kith_eng_fulfil_erase(struct kith_tx *tx, const char *participant);

/* ---- person fields (participants.c), shared by participant creation and signups ---- */
/* Validates the person fields of body (external_id, email, first_name, ip, device, payment
 * fingerprint, leaderboard opt-in) into row. */
enum kith_status kith_eng_participant_fields(json_t *body, const struct kith_engine *eng,
                                             json_t *row, struct kith_err *err);
/* Validates `metadata` (an object of at most 16 KiB as compact JSON) into row. */
enum kith_status kith_eng_metadata_field(json_t *body, json_t *row, struct kith_err *err);

/* ---- fraud scoring (scoring.c) ---- */
/* Scores a new referral created at at_ms (its created_at: the signup's occurred_at or now_ms).
 * person is the referred person's row (ip_hash, device_id, payment_fingerprint, email_norm);
 * the e-mail's domain and stem are set on referral (the row about to be written) for later
 * sequential checks. Velocity and sequential e-mails count only the referrer's referrals
 * created before at_ms. Returns the flag mask in *flags. */
enum kith_status kith_eng_score_referral(struct kith_tx *tx, const struct kith_engine *eng,
                                         const struct prog *p, json_t *referrer, json_t *person,
                                         const char *click_host, int64_t at_ms, int64_t now_ms,
                                         json_t *referral, unsigned *flags, struct kith_err *err);
/* JSON array of flag names, in the contract's order. */
json_t *kith_eng_flags_json(unsigned flags);
unsigned kith_eng_flags_from_json(const char *text);
/* Status a referral gets for a flag mask under p's thresholds. */
const char *kith_eng_verdict_status(const struct prog *p, unsigned flags);
/* True when fingerprint is known for the referrer (their own row or events). */
enum kith_status kith_eng_payment_known(struct kith_tx *tx, json_t *referrer,
                                        const char *fingerprint, bool *known);

/* ---- events (events.c) ---- */
#define KITH_EVENT_REFS_MAX 4
struct event_in {
    const char *type;
    bool has_amount;
    int64_t amount;
    const char *currency;
    const char *payment;
    const char *provider_id; /* dedupes per program */
    /* The provider object the event is about. On a purchase, a shop's order id, to find the
     * person of a later refund ("order:<id>"). On a refund, the object whose running refund
     * total `amount` is ("stripe:ch_..."): refunds sharing one count once, at their largest. */
    const char *external_ref;
    /* A purchase's provider objects it was paid through (NULL-padded, "stripe:pi_...",
     * "stripe:in_..."), kept in event_refs so that a later refund of any of them finds it. */
    const char *refs[KITH_EVENT_REFS_MAX];
    int64_t at_ms;
};
/* Records an event for person and applies it (qualification, refund, re-scoring). A provider id
 * seen before answers with the first result (KITH_OK); a new event gives KITH_CREATED. */
enum kith_status kith_eng_event_record(struct kith_tx *tx, struct kith_call *call,
                                       const struct prog *p, json_t *person,
                                       const struct event_in *in, json_t **out,
                                       struct kith_err *err);

/* ---- outbox (outbox.c) ---- */
/* Writes webhook message `type` with data (stolen) and a delivery per interested endpoint. */
enum kith_status kith_eng_outbox_emit(struct kith_tx *tx, const char *type, json_t *data,
                                      int64_t now_ms);
/* True when some endpoint is enabled (an event is worth rendering). */
bool kith_eng_outbox_wanted(struct kith_tx *tx);
/* Forgets the cached list of enabled endpoints (after this process changed one). */
void kith_eng_outbox_endpoints_changed(void);
/* The same for a referral or reward, rendered as it is now. */
enum kith_status kith_eng_outbox_referral(struct kith_tx *tx, const char *id, const char *type,
                                          int64_t now_ms);
enum kith_status kith_eng_outbox_reward(struct kith_tx *tx, const char *id, const char *type,
                                        int64_t now_ms);

/* ---- notifications (notify.c) ---- */
enum kith_notify_stage {
    KITH_NOTIFY_REFERRAL_CREATED,
    KITH_NOTIFY_REFERRAL_QUALIFIED,
    KITH_NOTIFY_REFERRAL_REWARDED,
    KITH_NOTIFY_REWARD_ISSUED,
};
/* Notifies the people concerned by a stage of a referral (or reward, for REWARD_ISSUED):
 * keeps the notification, emits notification.created, queues the e-mail when SMTP is on. */
/* The referral-created stage from rows the caller holds (a signup). */
enum kith_status kith_eng_notify_created(struct kith_tx *tx, const struct kith_engine *eng,
                                         json_t *referral, json_t *referrer, json_t *referred,
                                         int64_t now_ms);
enum kith_status kith_eng_notify(struct kith_tx *tx, const struct kith_engine *eng,
                                 enum kith_notify_stage stage, const char *referral_id,
                                 const char *reward_id, int64_t now_ms);
/* The level_reached note (section 15) for person: words are what the level gives. */
enum kith_status kith_eng_notify_level(struct kith_tx *tx, const struct kith_engine *eng,
                                       json_t *person, const char *track_name,
                                       const char *level_name, const char *words, int64_t now_ms);

/* ---- referral lifecycle (lifecycle.c) ---- */
/* Applies a qualifying event dated event_ms to a pending referral: qualifies, creates rewards,
 * may issue them. An event at or after the referral's expires_at does not qualify it (and it
 * expires, kith_eng_referral_expire_due). created (may be NULL) receives the new rewards. */
enum kith_status kith_eng_referral_qualify(struct kith_tx *tx, const struct kith_engine *eng,
                                           const struct prog *p, json_t *referral,
                                           const char *event_id, int64_t event_ms, int64_t now_ms,
                                           json_t *created, struct kith_err *err);
/* Refund or cancel for the referred person (already stored), dated event_ms: during the hold,
 * when the refunds and cancels of the hold undo the qualifying purchase (a cancel or a refund
 * without an amount undoes it whole; refund amounts add up, kith_rewards_refunds_undo), voids
 * pending rewards and returns the referral to pending. Nothing once the hold has ended by
 * now_ms (the sweeper releases it, or has). */
enum kith_status kith_eng_referral_undo(struct kith_tx *tx, const struct kith_engine *eng,
                                        const struct prog *p, json_t *referral, int64_t event_ms,
                                        int64_t now_ms, struct kith_err *err);
/*
 * Creates a reward that no referral earned (section 8 v2: "to": "participant", "referral":
 * null) from grant (a reward rule without `to`: kind, amount, currency, description,
 * expires_days) for participant, naming what earned it in source (borrowed; stored as JSON),
 * and issues it at once. *out (may be NULL) receives the stored row.
 */
enum kith_status kith_eng_participant_reward(struct kith_tx *tx, const char *program,
                                             const char *participant, json_t *grant, json_t *source,
                                             int64_t now_ms, json_t **out);
/* Issues a held referral's pending rewards and marks it rewarded; a reward whose expiry has
 * come by now_ms (issued at a hold's end long past) then expires at once. */
enum kith_status kith_eng_referral_release(struct kith_tx *tx, const struct kith_engine *eng,
                                           json_t *referral, int64_t now_ms);
/*
 * The sweeper's time-based moves for one row read before the sweeper got to it, so that no
 * outcome depends on when the sweeper last ran. Each does nothing unless the move is due at
 * now_ms, and otherwise makes it exactly as sweep.c does (same writer, same webhook):
 * - expire_due: a pending referral with expires_at <= now_ms becomes expired; an issued reward
 *   with expires_at <= now_ms becomes expired. A refusal is the engine's bug (KITH_E_INTERNAL).
 * - release_due: whether a qualified referral's hold has ended by now_ms (then
 *   kith_eng_referral_release it).
 * The row is borrowed and updated in place.
 */
enum kith_status kith_eng_referral_expire_due(struct kith_tx *tx, json_t *referral, int64_t now_ms,
                                              struct kith_err *err);
enum kith_status kith_eng_reward_expire_due(struct kith_tx *tx, const struct kith_engine *eng,
                                            json_t *reward, int64_t now_ms, struct kith_err *err);
bool kith_eng_referral_release_due(json_t *referral, int64_t now_ms);

/* ---- resources and leads (resources.c, resource_sync.c, leads.c, followups.c) ----
 * CONTRACT section 19. The hooks other use cases call, each a line or two where it is called. */
/* The resource (program, slug) as stored; KITH_E_NOT_FOUND (param "slug") when none. */
enum kith_status kith_eng_resource_load(struct kith_tx *tx, const char *program, const char *slug,
                                        json_t **out, struct kith_err *err);
/* Checks the resource fields of body (everything but the slug; `status` when with_status) and
 * writes the columns they set into set. create: fills the defaults of a new resource. */
enum kith_status kith_eng_resource_fields(json_t *body, bool create, bool with_status, json_t *set,
                                          struct kith_err *err);
/* Creates (when absent) or updates the resource `slug` of program with the columns in set;
 * *created tells which. source and external_id (may be NULL) say where a new one came from. */
enum kith_status kith_eng_resource_put(struct kith_tx *tx, const char *program, const char *slug,
                                       json_t *set, const char *source, int64_t now_ms,
                                       bool *created, json_t **out, struct kith_err *err);
json_t *kith_eng_render_resource(json_t *row);
/* The share answer's "resources" (participant row and program settings as share.c holds them);
 * only the resource `only` when it is not NULL. */
json_t *kith_eng_resources_share(struct kith_tx *tx, const struct kith_engine *eng,
                                 json_t *participant, json_t *cfg, const char *only);
/* /v1/metrics' "by_resource" for [from, to). */
enum kith_status kith_eng_resources_metrics(struct kith_tx *tx, const char *program, int64_t from,
                                            int64_t to, json_t **out);
/* True for the Shopify topics resource_sync.c handles (collections/...). */
bool kith_eng_shopify_collection_topic(const char *topic);
/* A verified collections/create|update|delete payload: keeps the collection's resource. */
enum kith_status kith_eng_shopify_collection(struct kith_tx *tx, struct kith_call *call,
                                             const struct prog *p, const char *topic,
                                             json_t *payload, json_t **out, struct kith_err *err);
/* The signup's lead candidate (CONTRACT 5): the newest lead of the program with email_norm,
 * with the sharer's row (*row, NULL when none) and the code of the click it came through. */
enum kith_status kith_eng_lead_candidate(struct kith_tx *tx, const struct prog *p,
                                         const char *email_norm, struct kith_attr_facts *facts,
                                         json_t **row, char code[16]);
/* The person with email_norm signed up as participant: their leads become `converted`. */
enum kith_status kith_eng_leads_converted(struct kith_tx *tx, const char *program,
                                          const char *email_norm, const char *participant,
                                          int64_t now_ms);
/* Privacy: what kith holds about participant id as a sharer (leads without their e-mails) and
 * as a former lead, into export; and erasing the leads that were this person. */
enum kith_status kith_eng_leads_export(struct kith_tx *tx, const char *id, json_t *export_out);
enum kith_status kith_eng_leads_erase_person(struct kith_tx *tx, const char *id, int64_t now_ms);
/* Follow-ups that came due: one message per (lead, step), queued or kept (sweep.c). */
enum kith_status kith_eng_followups_sweep(struct kith_tx *tx, const struct kith_engine *eng,
                                          int64_t now_ms, bool *more);
/* The e-mail side of follow-ups (deliveries.c): claim appends rows of the mail shape to out. */
enum kith_status kith_eng_lead_mail_claim(struct kith_tx *tx, int64_t now_ms, size_t max,
                                          json_t *out);
bool kith_eng_lead_mail_is(const char *id);
enum kith_status kith_eng_lead_mail_record(struct kith_tx *tx, const char *id, bool ok,
                                           int64_t now_ms);
enum kith_status kith_eng_lead_mail_recover(struct kith_tx *tx);

/* ---- status writers (moves.c): the only code that updates referral and reward rows ----
 * Rows are born in their first state by whoever inserts them (signups.c, create_reward in
 * lifecycle.c); every later change of status goes through these, and scripts/lint.sh fails on
 * an update of either table anywhere else. */
/*
 * Moves referral (a row as read; borrowed, and updated in place so the caller can render it) to
 * `to` when kith_referral_can(its status, to) allows it; otherwise KITH_E_INVALID_STATE with err
 * saying so, and nothing is written. The times that belong to the new state are stamped here:
 * qualified sets qualified_at = at_ms (the qualifying event's time); rewarded sets rewarded_at =
 * at_ms (the hold's end) and clears hold_until; pending clears qualified_at and hold_until;
 * rejected clears hold_until. updated_at and the webhook message take now_ms. extra (borrowed,
 * may be NULL) holds other columns written in the same update: the fraud score and flags of a
 * re-score, hold_until for a qualification; naming status or a time stamped here is a bug
 * (KITH_E_INTERNAL). Writes `referral.<to>` to the outbox for every state but pending (the
 * contract has no such event); notifications are the caller's. Store errors pass through.
 * Runs on the job's thread inside its transaction; the caller read the row in that transaction
 * (locked where another instance could race), so the status it checks is the stored one.
 */
enum kith_status kith_eng_referral_move(struct kith_tx *tx, json_t *referral,
                                        enum kith_referral_status to, json_t *extra, int64_t at_ms,
                                        int64_t now_ms, struct kith_err *err);
/* Writes columns of a referral that are no part of its lifecycle (a re-score that leaves the
 * status as it is), with updated_at = now_ms, into the row and the caller's copy. set is
 * borrowed; naming status or a lifecycle time is a bug (KITH_E_INTERNAL). */
enum kith_status kith_eng_referral_amend(struct kith_tx *tx, json_t *referral, json_t *set,
                                         int64_t now_ms, struct kith_err *err);
/*
 * Moves reward (borrowed, updated in place) to `to` when kith_reward_can allows it; otherwise
 * KITH_E_INVALID_STATE with err saying so ("a redeemed reward cannot become voided"), nothing
 * written. Stamps at now_ms, the move's time (a release that catches up passes the hold's end):
 * issued sets issued_at and, with expires_days, expires_at; redeemed sets redeemed_at; voided
 * sets voided_at; expired keeps the expires_at it had; updated_at always. Writes `reward.<to>`
 * to the outbox and, on issue, the friend's notification (every issue has one).
 */
enum kith_status kith_eng_reward_move(struct kith_tx *tx, const struct kith_engine *eng,
                                      json_t *reward, enum kith_reward_status to, int64_t now_ms,
                                      struct kith_err *err);
/* For a move its caller had already found allowed: KITH_E_INVALID_STATE then means the engine
 * contradicts itself, so it is logged (with where) and becomes KITH_E_INTERNAL. Any other status
 * is returned as it is. */
enum kith_status kith_eng_move_checked(enum kith_status st, const char *where,
                                       struct kith_err *err);

/* ---- admin (admin.c) ---- */
/* Notes an API key's use (at most one write a minute per key). */
enum kith_status kith_eng_key_touch(struct kith_tx *tx, const char *key_id, int64_t now_ms);

/* ---- moments, asks, preferences and rituals (sections 17, 18) ---- */
/* Settings (asks_settings.c): checks `asks`, `rituals` and `public_page` of a program document
 * in and writes them, every default filled in, into cfg (err may be NULL). */
enum kith_status kith_eng_asks_settings(json_t *in, json_t *cfg, struct kith_err *err);
/* The settings of a stored program document (absent: the defaults). */
void kith_eng_asks_policy(json_t *cfg, struct kith_ask_policy *out);
struct kith_eng_rituals {
    int rotation_periods;
    bool auto_draft;
    bool digest;
    json_t *reward; /* rituals.spotlight_reward (borrowed from the settings), or NULL */
};
void kith_eng_rituals_of(json_t *cfg, struct kith_eng_rituals *out);
bool kith_eng_public_page(json_t *cfg);
/* Preferences (preferences.c): the participant's `preferences` object from its row; and a
 * PATCH's `preferences` checked into set (columns) for row, each change recorded with its time. */
json_t *kith_eng_preferences_json(json_t *row);
enum kith_status kith_eng_preferences_patch(struct kith_tx *tx, struct kith_call *call, json_t *row,
                                            json_t *set, struct kith_err *err);
/* Notes of the v2 stages (asks_notify.c): ask, spotlight, digest. */
struct kith_eng_note {
    const char *tpl;       /* template name */
    const char *stage;     /* notification stage */
    const char *share_url; /* NULL: the person's plain share URL */
    const char *summary;   /* {{summary}} */
    const char *reward;    /* {{reward}}, words */
    const char *reward_id; /* the notification's `reward`, or NULL */
    char *id_out;          /* room for KITH_ID_MAX: the notification's id ("" if none); or NULL */
};
/* Keeps the notification for person (nothing for an erased one), emits notification.created,
 * queues the e-mail under SMTP, like notify.c's stages. */
enum kith_status kith_eng_note_keep(struct kith_tx *tx, const struct kith_engine *eng, json_t *cfg,
                                    json_t *person, const struct kith_eng_note *n, int64_t now_ms);
/* The program's text for a template (override field by field, else the shipped default). */
void kith_eng_template_text(json_t *cfg, const char *name, const char **subject, const char **body);
/* The template of an ask for a moment type: ask_<type> when the program or kith defines it,
 * else ask. Returns buf or "ask". */
const char *kith_eng_ask_template(json_t *cfg, const char *type, char *buf, size_t bufsize);
/* Asks (moments.c): a click batch answers the open asks its clicks fall in (one statement; the
 * batch passes only the clicks of participants with an open ask); export and erasure of what
 * sections 17 and 18 keep about a person. */
enum kith_status kith_eng_asks_clicks(struct kith_tx *tx, const struct kith_click *const *clicks,
                                      size_t n);
enum kith_status kith_eng_asks_export(struct kith_tx *tx, json_t *person, int64_t now_ms,
                                      json_t *out);
enum kith_status kith_eng_asks_erase(struct kith_tx *tx, const char *participant);
/* Spotlights (spotlights.c): drafts (or re-drafts) the spotlight of program for period; *row
 * receives the stored row, *created whether it is new (spotlight.drafted is emitted then). A
 * published one is KITH_E_INVALID_STATE. */
enum kith_status kith_eng_spotlight_draft(struct kith_tx *tx, const char *program, json_t *cfg,
                                          struct kith_period period, int64_t now_ms, json_t **row,
                                          bool *created, struct kith_err *err);
/* Rituals (rituals.c): on a month's first day, last month's auto-drafted spotlights and
 * digests, a bounded batch per call (*more set when some remain). */
enum kith_status kith_eng_rituals_sweep(struct kith_tx *tx, const struct kith_engine *eng,
                                        int64_t now_ms, bool *more);
#endif
