/*
 * fulfil.h: what the engine's reward-fulfilment files share (fulfil_settings.c, fulfil.c,
 * fulfil_stripe.c, payouts.c): the settings readers, the claim form's checks, and the parts of a
 * fulfilment row every file writes. The hooks other engine files call (settings, rule terms,
 * enqueue, render, erase) are declared in internal.h.
 *
 * A fulfilment row (table `fulfilments`, id = the reward's id) has status pending, sending (a
 * Stripe call in flight; next_attempt_at is then its lease's end), done or failed; answers show
 * sending as pending. Threads: store threads, inside the caller's transaction.
 */
#ifndef KITH_ENGINE_FULFIL_H
#define KITH_ENGINE_FULFIL_H

#include "engine/internal.h"
#include "kith/fulfilment.h"

/* How long a Stripe call may hold its row (longer than the 30 s a call may take). */
#define KITH_FULFIL_LEASE_MS 60000
/* Stripe forgets an Idempotency-Key after 24 hours: older keys are not resent blindly. */
#define KITH_FULFIL_KEY_TTL_MS (23 * INT64_C(3600000))

/* The method the program's settings (cfg, its config document) give reward kind `kind`. */
enum kith_fulfil_method kith_eng_fulfil_method_of(json_t *cfg, const char *kind);
/* The claim form for kind (a new reference): the program's, or one optional note field. */
json_t *kith_eng_fulfil_claim_form(json_t *cfg, const char *kind);
/* Checks answers (an object) against form; *out (new) holds every field of the form, null for
 * those left out. KITH_E_INVALID_PARAM names the field ("answers.address.country"). */
enum kith_status kith_eng_fulfil_claim_check(json_t *form, json_t *answers, json_t **out,
                                             struct kith_err *err);

/*
 * Ends a fulfilment as done (external_id and code may be NULL) or failed (error), writes the
 * row (borrowed, updated in place) and the webhook message reward.fulfilled or
 * reward.fulfilment_failed with the reward as it now renders.
 */
enum kith_status kith_eng_fulfil_finish(struct kith_tx *tx, json_t *row, bool done,
                                        const char *external_id, const char *code,
                                        const char *error, int64_t now_ms);

/*
 * A claim (section 25) as the owner or the person sees it: {"reward", "kind", "description",
 * "form", "answers", "claimed_at", "status": "open"|"claimed"|"delivered"}. call->params[0] is
 * the reward; only_participant (NULL for a secret key) must own it, else KITH_E_NOT_FOUND.
 * send takes {"answers": {...}} checked against the form, while the claim is open or claimed
 * and the reward issued, and writes reward.claimed.
 */
enum kith_status kith_eng_claim_get(struct kith_tx *tx, struct kith_call *call,
                                    const char *only_participant, json_t **out,
                                    struct kith_err *err);
enum kith_status kith_eng_claim_send(struct kith_tx *tx, struct kith_call *call,
                                     const char *only_participant, json_t **out,
                                     struct kith_err *err);

#endif
