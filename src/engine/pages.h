/*
 * pages.h: what the engine's files share about the people's pages (CONTRACT 4b and 20): the
 * program settings they read (landing, cookie_domain, allowed_origins), the facts a friend
 * landing page shows, and rules said in words ("after your first purchase", "12 May"). Hooks
 * in programs.c and links.c call these; the rest lives in pages.c, hub.c and hub_view.c.
 */
#ifndef KITH_ENGINE_PAGES_H
#define KITH_ENGINE_PAGES_H

#include <jansson.h>

#include "engine/internal.h"

/* Parses landing, cookie_domain and allowed_origins of a program document (in) into its
 * normalised settings (cfg), with their defaults. */
enum kith_status kith_eng_pages_settings(json_t *in, json_t *cfg, struct kith_err *err);
/* What only a running server can check: cookie_domain is the public URL's host or a parent of
 * it (400 invalid_param "cookie_domain" otherwise). */
enum kith_status kith_eng_pages_check(json_t *cfg, const struct kith_engine *eng,
                                      struct kith_err *err);
/* Fills the landing-page part of a resolved link from the program and the code's owner row. */
void kith_eng_link_page(const struct prog *p, json_t *cfg, json_t *owner, struct kith_link *out);

/* "after your first purchase of 50.00 USD or more, within 90 days" (no leading capital). */
void kith_eng_earn_words(const struct prog *p, char *out, size_t outsize);
/* "a first purchase" for the pending status: what the referral still waits for. */
void kith_eng_wait_words(const struct prog *p, char *out, size_t outsize);
/* "12 May", with the year when it is not now's year. */
void kith_eng_date_words(int64_t ms, int64_t now_ms, char *out, size_t outsize);
/* The rule for the referred side in words, "" when the friend gets nothing. */
void kith_eng_friend_reward_words(const struct prog *p, char *out, size_t outsize);
/* One rule in words ("a 25.00 USD credit"). */
void kith_eng_rule_words(const struct kith_reward_rule *r, char *out, size_t outsize);

/* True for a well-formed origin: http(s)://host[:port], lowercase, no path. */
bool kith_eng_origin_valid(const char *s);
/* True when cfg's allowed_origins holds origin exactly. */
bool kith_eng_origin_in(json_t *cfg, const char *origin);

/* The CORS decision for a browser route's answer (call.c): ans->allow_origin is the request's
 * Origin when program (or, when program is "", any program) lists it. */
enum kith_status kith_eng_cors_answer(struct kith_tx *tx, const struct kith_engine_request *rq,
                                      const char *program, struct kith_engine_answer *ans);

/* Hub internals shared by hub.c and hub_view.c. */
enum kith_status kith_eng_hub_token_create(struct kith_tx *tx, const struct kith_engine *eng,
                                           json_t *person, int64_t days, int64_t now_ms,
                                           char url[1024], int64_t *expires_ms);
json_t *kith_eng_hub_document(struct kith_tx *tx, const struct kith_engine *eng,
                              const char *participant, int64_t now_ms, struct kith_err *err,
                              enum kith_status *st);
/* Export and erasure hooks (privacy.c): the person's hub links, without their tokens. */
json_t *kith_eng_hub_export(struct kith_tx *tx, const char *participant);
/* Mail hooks (deliveries.c): a sent or abandoned sign-in mail loses its link. */
enum kith_status kith_eng_hub_mail_done(struct kith_tx *tx, const char *notification_id);

#endif
