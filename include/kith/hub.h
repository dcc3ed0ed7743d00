/*
 * hub.h: the people's side of kith (CONTRACT sections 4b and 20), engine part: share-hub links
 * (random tokens kept only as digests), the hub's own JSON API authorised by such a token, the
 * e-mailed sign-in link, the program settings the public pages read (landing, cookie_domain,
 * allowed_origins) and the CORS decision. The HTML itself is rendered by src/app/pages.c from
 * what these functions return; nothing here knows HTML or HTTP.
 *
 * Threading: every function taking a struct kith_tx runs on a store thread inside that
 * transaction, like any engine operation (kith/engine.h).
 */
#ifndef KITH_HUB_H
#define KITH_HUB_H

#include <jansson.h>
#include <stdbool.h>

#include "kith/engine.h"

/* A hub token: "hub_" and 40 random base32 characters (200 bits), as API keys are made. */
#define KITH_HUB_TOKEN_MAX 64
/* Longest origin kept in allowed_origins ("https://" + a host name + ":" + a port). */
#define KITH_HUB_ORIGIN_MAX 300

/* POST /v1/participants/{id}/hub_link {"expires_in_days"} (secret key). */
enum kith_status kith_op_participant_hub_link(struct kith_tx *, struct kith_call *, json_t **,
                                              struct kith_err *);
/* POST /v1/public/hub_login {"program", "email"} (no key): 202 {"sent": true} always. */
enum kith_status kith_op_hub_login(struct kith_tx *, struct kith_call *, json_t **,
                                   struct kith_err *);
/* The hub's JSON API (KITH_SCOPE_HUB): call->hub_participant names the person. */
enum kith_status kith_op_hub_me(struct kith_tx *, struct kith_call *, json_t **, struct kith_err *);
enum kith_status kith_op_hub_me_update(struct kith_tx *, struct kith_call *, json_t **,
                                       struct kith_err *);
enum kith_status kith_op_hub_export(struct kith_tx *, struct kith_call *, json_t **,
                                    struct kith_err *);
enum kith_status kith_op_hub_erase(struct kith_tx *, struct kith_call *, json_t **,
                                   struct kith_err *);

/*
 * The person a hub token belongs to, when the token is known, not expired, and the person is
 * active and not erased: KITH_OK with participant and program filled. KITH_E_UNAUTHORIZED
 * otherwise (the caller answers 401 or a 404 page); store errors pass through.
 */
enum kith_status kith_engine_hub_authorise(struct kith_tx *tx, const char *token, int64_t now_ms,
                                           char participant[KITH_ID_MAX], char program[48]);

/*
 * What GET /p/{token} shows: the same document as GET /v1/hub/me, plus "frame_ancestors" (the
 * program's allowed origins, for the embedded page's Content-Security-Policy). *out is new.
 * KITH_E_NOT_FOUND for an unknown, expired, blocked or erased token.
 */
enum kith_status kith_engine_hub_page(struct kith_tx *tx, const struct kith_engine *eng,
                                      const char *token, int64_t now_ms, json_t **out);

/*
 * CORS (section 20): *listed tells whether origin is one of program's allowed_origins, or of
 * any program's when program is NULL or "". An origin that is not a well-formed
 * scheme://host[:port] is never listed.
 */
enum kith_status kith_engine_origin_listed(struct kith_tx *tx, const char *origin,
                                           const char *program, bool *listed);

#endif
