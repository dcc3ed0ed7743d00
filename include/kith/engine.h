/*
 * engine.h: kith's use cases. Each operation runs inside one store transaction (a job on the
 * store thread): it reads what it needs, asks the pure rule modules (codes, attribution,
 * rewards), writes the outcome and renders the answer, all or nothing. Operations never name an
 * HTTP status: they return KITH_OK or KITH_CREATED and a JSON document, or an error status with
 * err filled. The running server (src/app) submits them as store jobs through
 * kith_engine_call() and decides nothing but how to carry the answer.
 *
 * Threading: everything taking a struct kith_tx runs on a store thread, inside that
 * transaction; struct kith_engine is written once at start-up and only read afterwards, so every
 * store thread may read it at once. kith_engine_is_... predicates are pure and thread-safe.
 */
#ifndef KITH_ENGINE_H
#define KITH_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "kith/core.h"
#include "kith/crypto.h"
#include "kith/fraud.h"
#include "kith/rewards.h"

struct kith_tx; /* a store transaction (kith/store.h); the engine's callers only pass it on */

#define KITH_REFERRAL_STATUS_COUNT (KITH_REFERRAL_EXPIRED + 1)
#define KITH_ENGINE_IDEM_KEY_MAX 255 /* Idempotency-Key: 1-255 printable ASCII */

/* Process-wide engine settings, fixed after start-up and read by every job. */
struct kith_engine {
    char public_url[512]; /* no trailing slash */
    bool secure_cookies;  /* public URL is https */
    bool test_clock;
    uint8_t hash_key[KITH_CRYPTO_KEY_BYTES]; /* keys the IP and user-agent hashes */
    char env_key_hash[KITH_CRYPTO_HASH_HEX]; /* digest of KITH_SECRET_KEY, "" when unset */
    bool smtp_enabled; /* KITH_SMTP_URL is set: notifications are also e-mailed */
    bool fraud_off;    /* KITH_FRAUD_SCORING=off: benchmarks measure scoring's cost */
    const struct kith_domain_set *disposable; /* shipped lists, built at start */
    const struct kith_domain_set *coupon_sites;
};

enum kith_key_kind {
    KITH_KEY_NONE,
    KITH_KEY_SECRET,
    KITH_KEY_PUBLISHABLE,
};

/* One API call as the engine sees it. */
struct kith_call {
    const struct kith_engine *eng;
    const char *const *params; /* route captures */
    const char *query;         /* raw query string */
    json_t *body;              /* parsed object for POST/PATCH, NULL otherwise */
    const char *key_id;        /* the API key that called */
    int64_t now_ms;
    /* The raw request, for routes authenticated by a signature over the bytes. */
    const char *raw_body;
    size_t raw_len;
    const char *(*header)(const void *ctx, const char *name);
    const void *header_ctx;
    /* Out: set by operations whose effect the redirect cache must see (status, erasure...). */
    bool invalidates_links;
    /* Out: set by an operation that refuses with KITH_E_INVALID_STATE after making moves that
     * time had already made due (an expiry or a hold's end the sweeper had not reached yet):
     * those moves commit with the refusal instead of being rolled back. */
    bool keeps_due_moves;
    /* Out, with an error status: members added to the error body beside "error" (owned; the
     * import's per-line "errors", CONTRACT 19). */
    json_t *error_detail;
    /* KITH_SCOPE_HUB: the participant the hub token belongs to (kith/hub.h). */
    const char *hub_participant;
    /* Out, for browser routes: the program whose allowed_origins decide CORS ("" for any). */
    char cors_program[48];
    /* An admin session's call (section 21): the session's digest ("" for an API key) and
     * whether its role is reviewer. */
    const char *admin_session;
    bool admin_reviewer;
    /* Out: a Set-Cookie value for the answer (sign-in and sign-out), "" for none. */
    char set_cookie[256];
    /* Out, with an error status: the operation's writes commit with the refusal (a failed
     * sign-in is counted). */
    bool commit_refusal;
    /* Out: an answer that is not JSON (CSV exports): the text (malloc'd; kith_engine_call takes
     * it and ignores *out), its Content-Type (static) and a file name to offer ("" for none). */
    char *text_out;
    const char *text_type;
    char text_filename[128];
    /* Out: every value in *out belongs to it alone (nothing shared with a cache), so the JSON
     * text may be made after the commit, on another thread (kith_engine_answer_text). */
    bool answer_owned;
};

typedef enum kith_status (*kith_op_fn)(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                       struct kith_err *err);

/* Programs (CONTRACT section 2). */
enum kith_status kith_op_program_create(struct kith_tx *, struct kith_call *, json_t **,
                                        struct kith_err *);
enum kith_status kith_op_program_list(struct kith_tx *, struct kith_call *, json_t **,
                                      struct kith_err *);
enum kith_status kith_op_program_get(struct kith_tx *, struct kith_call *, json_t **,
                                     struct kith_err *);
enum kith_status kith_op_program_update(struct kith_tx *, struct kith_call *, json_t **,
                                        struct kith_err *);
/* Participants and codes (section 3). */
enum kith_status kith_op_participant_create(struct kith_tx *, struct kith_call *, json_t **,
                                            struct kith_err *);
enum kith_status kith_op_participant_list(struct kith_tx *, struct kith_call *, json_t **,
                                          struct kith_err *);
enum kith_status kith_op_participant_get(struct kith_tx *, struct kith_call *, json_t **,
                                         struct kith_err *);
enum kith_status kith_op_participant_update(struct kith_tx *, struct kith_call *, json_t **,
                                            struct kith_err *);
enum kith_status kith_op_participant_add_code(struct kith_tx *, struct kith_call *, json_t **,
                                              struct kith_err *);
/* Privacy (section 6b). */
enum kith_status kith_op_participant_export(struct kith_tx *, struct kith_call *, json_t **,
                                            struct kith_err *);
enum kith_status kith_op_participant_erase(struct kith_tx *, struct kith_call *, json_t **,
                                           struct kith_err *);
/* Signups (section 5). */
enum kith_status kith_op_signup(struct kith_tx *, struct kith_call *, json_t **, struct kith_err *);
/* Referrals (section 6). */
enum kith_status kith_op_referral_list(struct kith_tx *, struct kith_call *, json_t **,
                                       struct kith_err *);
enum kith_status kith_op_referral_get(struct kith_tx *, struct kith_call *, json_t **,
                                      struct kith_err *);
enum kith_status kith_op_referral_approve(struct kith_tx *, struct kith_call *, json_t **,
                                          struct kith_err *);
enum kith_status kith_op_referral_reject(struct kith_tx *, struct kith_call *, json_t **,
                                         struct kith_err *);
/* Events (section 7). */
enum kith_status kith_op_event_create(struct kith_tx *, struct kith_call *, json_t **,
                                      struct kith_err *);
/* The dashboard's live preview of a message template (sections 13, 21; template_preview.c):
 * POST /v1/programs/{id}/templates/preview {"name", "subject"?, "body"?}. Reads only. */
enum kith_status kith_op_template_preview(struct kith_tx *, struct kith_call *, json_t **,
                                          struct kith_err *);
/* CSV exports (section 21): GET /v1/exports/{participants|referrals|rewards}.csv?program=
 * (src/engine/exports.c). Answers text through call->text_out. */
enum kith_status kith_op_export(struct kith_tx *, struct kith_call *, json_t **, struct kith_err *);
/* Rewards (section 8). */
enum kith_status kith_op_reward_list(struct kith_tx *, struct kith_call *, json_t **,
                                     struct kith_err *);
enum kith_status kith_op_reward_get(struct kith_tx *, struct kith_call *, json_t **,
                                    struct kith_err *);
enum kith_status kith_op_reward_redeem(struct kith_tx *, struct kith_call *, json_t **,
                                       struct kith_err *);
enum kith_status kith_op_reward_void(struct kith_tx *, struct kith_call *, json_t **,
                                     struct kith_err *);
/* Program health and the forecast (section 22), experiments (section 23). */
enum kith_status kith_op_metrics_health(struct kith_tx *, struct kith_call *, json_t **,
                                        struct kith_err *);
enum kith_status kith_op_forecast(struct kith_tx *, struct kith_call *, json_t **,
                                  struct kith_err *);
enum kith_status kith_op_experiment_create(struct kith_tx *, struct kith_call *, json_t **,
                                           struct kith_err *);
enum kith_status kith_op_experiment_list(struct kith_tx *, struct kith_call *, json_t **,
                                         struct kith_err *);
enum kith_status kith_op_experiment_get(struct kith_tx *, struct kith_call *, json_t **,
                                        struct kith_err *);
enum kith_status kith_op_experiment_start(struct kith_tx *, struct kith_call *, json_t **,
                                          struct kith_err *);
enum kith_status kith_op_experiment_stop(struct kith_tx *, struct kith_call *, json_t **,
                                         struct kith_err *);
enum kith_status kith_op_experiment_promote(struct kith_tx *, struct kith_call *, json_t **,
                                            struct kith_err *);
/* Reward fulfilment (section 25): retry a failed Stripe fulfilment, mark a claim delivered, a
 * claim as the owner reads and sends it (POST /v1/rewards/{id}/claim), the payout queue as
 * PayPal's CSV (answers text through call->text_out) and marking payouts paid. */
enum kith_status kith_op_fulfilment_retry(struct kith_tx *, struct kith_call *, json_t **,
                                          struct kith_err *);
enum kith_status kith_op_fulfilment_delivered(struct kith_tx *, struct kith_call *, json_t **,
                                              struct kith_err *);
enum kith_status kith_op_reward_claim_get(struct kith_tx *, struct kith_call *, json_t **,
                                          struct kith_err *);
enum kith_status kith_op_reward_claim(struct kith_tx *, struct kith_call *, json_t **,
                                      struct kith_err *);
enum kith_status kith_op_payouts_csv(struct kith_tx *, struct kith_call *, json_t **,
                                     struct kith_err *);
enum kith_status kith_op_payouts_mark_paid(struct kith_tx *, struct kith_call *, json_t **,
                                           struct kith_err *);
/* The same claim for the person, in the share hub's scope (KITH_SCOPE_HUB): their own rewards. */
enum kith_status kith_op_hub_reward_claim_get(struct kith_tx *, struct kith_call *, json_t **,
                                              struct kith_err *);
enum kith_status kith_op_hub_reward_claim(struct kith_tx *, struct kith_call *, json_t **,
                                          struct kith_err *);
/* Webhook endpoints (section 11). */
enum kith_status kith_op_endpoint_create(struct kith_tx *, struct kith_call *, json_t **,
                                         struct kith_err *);
enum kith_status kith_op_endpoint_list(struct kith_tx *, struct kith_call *, json_t **,
                                       struct kith_err *);
enum kith_status kith_op_endpoint_get(struct kith_tx *, struct kith_call *, json_t **,
                                      struct kith_err *);
enum kith_status kith_op_endpoint_update(struct kith_tx *, struct kith_call *, json_t **,
                                         struct kith_err *);
enum kith_status kith_op_endpoint_delete(struct kith_tx *, struct kith_call *, json_t **,
                                         struct kith_err *);
enum kith_status kith_op_endpoint_deliveries(struct kith_tx *, struct kith_call *, json_t **,
                                             struct kith_err *);
enum kith_status kith_op_endpoint_retry(struct kith_tx *, struct kith_call *, json_t **,
                                        struct kith_err *);
/* Notifications and share messages (section 13). */
enum kith_status kith_op_participant_notifications(struct kith_tx *, struct kith_call *, json_t **,
                                                   struct kith_err *);
enum kith_status kith_op_participant_share(struct kith_tx *, struct kith_call *, json_t **,
                                           struct kith_err *);
/* Inbound provider events (section 12): public, authenticated by signature. */
enum kith_status kith_op_stripe(struct kith_tx *, struct kith_call *, json_t **, struct kith_err *);
enum kith_status kith_op_shopify(struct kith_tx *, struct kith_call *, json_t **,
                                 struct kith_err *);
/* Metrics and leaderboard (section 14). */
enum kith_status kith_op_metrics(struct kith_tx *, struct kith_call *, json_t **,
                                 struct kith_err *);
enum kith_status kith_op_leaderboard(struct kith_tx *, struct kith_call *, json_t **,
                                     struct kith_err *);
/* Tracks, levels and roles (section 15), activities (section 16). */
enum kith_status kith_op_participant_level_approve(struct kith_tx *, struct kith_call *, json_t **,
                                                   struct kith_err *);
enum kith_status kith_op_participant_level_decline(struct kith_tx *, struct kith_call *, json_t **,
                                                   struct kith_err *);
enum kith_status kith_op_participant_role_grant(struct kith_tx *, struct kith_call *, json_t **,
                                                struct kith_err *);
enum kith_status kith_op_participant_role_revoke(struct kith_tx *, struct kith_call *, json_t **,
                                                 struct kith_err *);
enum kith_status kith_op_activity_create(struct kith_tx *, struct kith_call *, json_t **,
                                         struct kith_err *);
enum kith_status kith_op_activity_list(struct kith_tx *, struct kith_call *, json_t **,
                                       struct kith_err *);
enum kith_status kith_op_activity_get(struct kith_tx *, struct kith_call *, json_t **,
                                      struct kith_err *);
enum kith_status kith_op_activity_void(struct kith_tx *, struct kith_call *, json_t **,
                                       struct kith_err *);
/* Shareable resources and leads (section 19). */
enum kith_status kith_op_resource_create(struct kith_tx *, struct kith_call *, json_t **,
                                         struct kith_err *);
enum kith_status kith_op_resource_list(struct kith_tx *, struct kith_call *, json_t **,
                                       struct kith_err *);
enum kith_status kith_op_resource_get(struct kith_tx *, struct kith_call *, json_t **,
                                      struct kith_err *);
enum kith_status kith_op_resource_update(struct kith_tx *, struct kith_call *, json_t **,
                                         struct kith_err *);
enum kith_status kith_op_resource_archive(struct kith_tx *, struct kith_call *, json_t **,
                                          struct kith_err *);
/* text/csv body (up to 1 MiB), all or nothing. */
enum kith_status kith_op_resource_import(struct kith_tx *, struct kith_call *, json_t **,
                                         struct kith_err *);
/* Public (no key: the click names program, resource and sharer); reads the raw JSON body. */
enum kith_status kith_op_lead_create(struct kith_tx *, struct kith_call *, json_t **,
                                     struct kith_err *);
enum kith_status kith_op_lead_list(struct kith_tx *, struct kith_call *, json_t **,
                                   struct kith_err *);
enum kith_status kith_op_lead_get(struct kith_tx *, struct kith_call *, json_t **,
                                  struct kith_err *);
enum kith_status kith_op_lead_messages(struct kith_tx *, struct kith_call *, json_t **,
                                       struct kith_err *);
enum kith_status kith_op_lead_erase(struct kith_tx *, struct kith_call *, json_t **,
                                    struct kith_err *);

/* The redirect path's view of a resource (GET /r/{code}/{slug}), resolved once and cached. */
struct kith_resource_link {
    char slug[64];
    char url[2048];
    char title[256];
    char description[1024];
    char program_name[256];
    bool gated;
    bool active; /* false: archived (a 404 page, as for an unknown slug) */
};
/* Looks up the resource slug of program. KITH_E_NOT_FOUND when it does not exist. */
enum kith_status kith_engine_resource_resolve(struct kith_tx *tx, const char *program,
                                              const char *slug, struct kith_resource_link *out);
/* GET /u/{token}: the lead whose follow-up carried token stops getting them (no effect for a
 * HEAD: write false). KITH_E_NOT_FOUND for an unknown (or erased) token; title[] is the
 * resource's title for the page. */
enum kith_status kith_engine_lead_unsubscribe(struct kith_tx *tx, const char *token, bool write,
                                              int64_t now_ms, char title[256]);

/* Moments, asks and preferences (section 17). */
enum kith_status kith_op_moment_create(struct kith_tx *, struct kith_call *, json_t **,
                                       struct kith_err *);
enum kith_status kith_op_ask_list(struct kith_tx *, struct kith_call *, json_t **,
                                  struct kith_err *);
/* Rituals and the public program page (section 18); the page is public (no key). */
enum kith_status kith_op_spotlight_create(struct kith_tx *, struct kith_call *, json_t **,
                                          struct kith_err *);
enum kith_status kith_op_spotlight_list(struct kith_tx *, struct kith_call *, json_t **,
                                        struct kith_err *);
enum kith_status kith_op_spotlight_get(struct kith_tx *, struct kith_call *, json_t **,
                                       struct kith_err *);
enum kith_status kith_op_spotlight_publish(struct kith_tx *, struct kith_call *, json_t **,
                                           struct kith_err *);
enum kith_status kith_op_public_program(struct kith_tx *, struct kith_call *, json_t **,
                                        struct kith_err *);
/* Test clock (section 10): sets the clock, then runs due work before answering. */
enum kith_status kith_op_clock_get(struct kith_tx *, struct kith_call *, json_t **,
                                   struct kith_err *);
enum kith_status kith_op_clock_set(struct kith_tx *, struct kith_call *, json_t **,
                                   struct kith_err *);

/*
 * The sweeper: issues held rewards that came due, expires rewards and referrals, drops click
 * hashes that can no longer attribute and idempotency records older than 24 h. Processes a
 * bounded amount per call; *more is true when due work remains.
 */
enum kith_status kith_engine_sweep(struct kith_tx *tx, const struct kith_engine *eng,
                                   int64_t now_ms, bool *more);

/* API keys: looks up a presented key. KITH_E_UNAUTHORIZED when unknown. */
enum kith_status kith_engine_authenticate(struct kith_tx *tx, const struct kith_engine *eng,
                                          const char *token, char key_id[KITH_ID_MAX],
                                          enum kith_key_kind *kind);
/* Creates an API key, writes its digest, and returns the key itself (shown once) in out. */
enum kith_status kith_engine_key_create(struct kith_tx *tx, bool publishable, char out[64],
                                        int64_t now_ms);
/* Start-up: loads or makes the hashing secret kept in the database; counts keys (for the
 * first-start key). KITH_E_INVALID_STATE when this database's key lives in a file. */
enum kith_status kith_engine_bootstrap(struct kith_tx *tx, struct kith_engine *eng,
                                       int64_t *key_count);
/* Start-up with KITH_HASH_KEY_FILE: *found tells whether the database still holds a key (to be
 * written to the new file before the database lets go of it). */
enum kith_status kith_engine_hash_key_peek(struct kith_tx *tx, uint8_t key[KITH_CRYPTO_KEY_BYTES],
                                           bool *found);
/* Start-up with the key from the file: the database's own copy, which must be the same, is
 * dropped, and the database remembers that its key lives in a file. KITH_E_INVALID_STATE when
 * the database holds another key. */
enum kith_status kith_engine_bootstrap_file_key(struct kith_tx *tx, struct kith_engine *eng,
                                                const uint8_t key[KITH_CRYPTO_KEY_BYTES],
                                                int64_t *key_count);

/* The redirect path's view of a code: what /r/{code} needs, resolved once and cached. */
struct kith_link {
    char code[16]; /* canonical code as stored ("JANE-2847") */
    char participant[KITH_ID_MAX];
    char program[48];
    bool attributes; /* false: blocked or erased, redirect without ref or cookie */
    char destination[2048];
    int64_t cookie_days;
    char first_name[64]; /* the participant's, "" when none: a resource's lead page names them */
    /* The friend landing page (section 4b) and the cookie's domain (4 v2), src/engine/pages.c */
    bool landing_page;       /* program setting landing = "page" */
    char cookie_domain[254]; /* "" when unset */
    char program_name[256];  /* what the page says */
    char referrer_name[104]; /* the referrer's first name, "" when none */
    char friend_reward[320]; /* the referred reward in words, "" when none */
    char earn_text[320];     /* how the friend earns it, in words */
};
/* Looks up a typed or linked code. KITH_E_NOT_FOUND when it does not exist. */
enum kith_status kith_engine_link_resolve(struct kith_tx *tx, const char *code,
                                          struct kith_link *out);

/* A click recorded on the redirect path, written later in a batch. */
struct kith_click {
    char id[KITH_ID_MAX];
    char program[48];
    char participant[KITH_ID_MAX];
    char code[16];
    int64_t at_ms;
    char channel[24];        /* "" when none */
    char referrer_host[256]; /* "" when none */
    char ip_hash[KITH_CRYPTO_HASH_HEX];
    char ua_hash[KITH_CRYPTO_HASH_HEX];
    char resource[64]; /* the slug of /r/{code}/{slug}, "" for /r/{code} */
};
enum kith_status kith_engine_clicks_write(struct kith_tx *tx, const struct kith_click *clicks,
                                          size_t n);

/*
 * Webhook and e-mail delivery, store side. recover puts claimed-but-unrecorded work back to
 * pending (start-up). claim returns due deliveries as rows {id, attempts, message, endpoint,
 * url, secret, payload} (a new array) and marks them sending; record stores one attempt's result
 * and schedules the next. The mail pair does the same for queued notifications {id, subject,
 * body, attempts, email}.
 */
enum kith_status kith_engine_deliveries_recover(struct kith_tx *tx);
enum kith_status kith_engine_deliveries_claim(struct kith_tx *tx, int64_t now_ms, size_t max,
                                              json_t **out);
enum kith_status kith_engine_delivery_record(struct kith_tx *tx, const char *delivery_id,
                                             int http_status, int64_t latency_ms,
                                             int64_t retry_after_s, bool ok, const char *error,
                                             int64_t now_ms);
enum kith_status kith_engine_mail_claim(struct kith_tx *tx, int64_t now_ms, size_t max,
                                        json_t **out);
enum kith_status kith_engine_mail_record(struct kith_tx *tx, const char *notification_id, bool ok,
                                         int64_t now_ms);

/*
 * Reward fulfilment's Stripe calls (section 25), store side, for src/app/fulfil.c. claim takes
 * up to max due fulfilments (a new attempt, a retry that came due, or a call whose lease ran
 * out after its process died), marks each `sending` for a lease, and returns the calls to make
 * as rows {"reward", "attempt", "get" (true: GET), "path" (with query), "body" (form, POST
 * only), "idem_key" (POST only), "api_key"}; the key is the program's secret and must never be
 * logged. A fulfilment that cannot be called (no API key, no customer or subscription to use)
 * fails here instead. record takes one call's answer for (reward, attempt): http_status 0 when
 * none came (error says why), body its text, retry_after_s and should_retry (Stripe-Should-Retry,
 * -1 when absent) what it said about retrying; an answer for an attempt that is no longer the
 * row's is ignored. *outcome (static) is "done", "failed", "retry" (scheduled again), "next"
 * (another call is due now) or "stale".
 */
enum kith_status kith_engine_fulfil_claim(struct kith_tx *tx, int64_t now_ms, size_t max,
                                          json_t **out);
enum kith_status kith_engine_fulfil_record(struct kith_tx *tx, const char *reward, int64_t attempt,
                                           int http_status, const char *body, int64_t retry_after_s,
                                           int should_retry, const char *error, int64_t now_ms,
                                           const char **outcome);

/* Who may call a route (CONTRACT section 1). */
enum kith_scope {
    KITH_SCOPE_SECRET,      /* a secret key */
    KITH_SCOPE_PUBLISHABLE, /* a publishable key is enough */
    KITH_SCOPE_SIGNED,      /* no API key: the operation checks a signature over the raw body */
    KITH_SCOPE_PUBLIC,      /* no key at all: a public route with a JSON body (section 20) */
    KITH_SCOPE_HUB,         /* `Authorization: Hub <token>`: one participant's own data */
};

/* One API call as the transport decoded it. Every pointer is borrowed for the call. */
struct kith_engine_request {
    kith_op_fn op;
    enum kith_scope scope;
    bool json_body;            /* the operation takes a JSON object body */
    const char *token;         /* the API key presented, "" when none */
    const char *hub_token;     /* a hub token presented (`Authorization: Hub`), NULL when none */
    bool cors;                 /* a browser route: the answer may carry CORS (section 20) */
    const char *idem_key;      /* the Idempotency-Key, already checked valid; NULL when none */
    const char *path;          /* the decoded path: part of the idempotency fingerprint */
    const char *query;         /* raw query string */
    const char *const *params; /* route captures */
    const char *body;
    size_t body_len;
    /* The body already parsed by the caller (kith_engine_parse_body), or NULL (*parsed NULL):
     * the job takes it (*parsed becomes NULL), so a job run again parses the text anew. */
    json_t **parsed;
    const char *(*header)(const void *ctx, const char *name);
    const void *header_ctx;
    /* The transport's number for an answer's status; stored with idempotent answers, so that a
     * replay carries the first answer's number whatever the transport maps later. */
    int (*code_of)(enum kith_status st);
    /* Section 21: the kith_session cookie and X-Kith-CSRF header ("" or NULL when absent), whether
     * the method only reads (GET, HEAD, OPTIONS), and whether a reviewer may write here. */
    const char *session;
    const char *csrf;
    bool safe_method;
    bool reviewer_ok;
    /* The caller makes the answer's text itself, after the job, with kith_engine_answer_text:
     * the store's thread then leaves an operation's own answer (call->answer_owned) as JSON. */
    bool text_later;
};

/* The answer: st is the operation's status (KITH_OK for a replay), code the transport's number
 * (code_of(st), or the stored one of a replay), body the JSON text (owned, free with
 * kith_engine_answer_dispose); an operation that answers text (call->text_out) gives that text,
 * with its content_type and filename, instead. */
struct kith_engine_answer {
    enum kith_status st;
    int code;
    char *body;
    json_t *body_json;        /* with rq->text_later, the answer before its text, or NULL */
    bool replayed;            /* Idempotency-Key replay of an earlier answer */
    bool invalidates_links;   /* the redirect cache must forget what it holds */
    char allow_origin[304];   /* CORS: the Origin to allow (Access-Control-Allow-Origin), or "" */
    const char *content_type; /* static; NULL: application/json */
    char filename[128];       /* a file name to offer (Content-Disposition), "" for none */
    char set_cookie[256];     /* a Set-Cookie header's value, or "" */
};

/*
 * Runs one API call in tx: authenticates (unless KITH_SCOPE_SIGNED), applies the
 * Idempotency-Key rule, parses the body, runs the operation under a savepoint and stores an
 * idempotent answer with its effect. Returns KITH_OK with ans filled (errors are answers too),
 * or KITH_E_UNAVAILABLE when the job must roll back as a whole (the answer could not be
 * stored). ans must start zeroed; a retried job may pass the same ans again.
 */
enum kith_status kith_engine_call(struct kith_tx *tx, const struct kith_engine *eng,
                                  const struct kith_engine_request *rq,
                                  struct kith_engine_answer *ans);
void kith_engine_answer_dispose(struct kith_engine_answer *ans);
/* A request body parsed off the store's thread for rq->parsed: a new JSON object, or NULL when
 * it is empty or not one (the job then parses it and answers the error in its turn). */
json_t *kith_engine_parse_body(const char *body, size_t len);
/*
 * With rq->text_later, after the job: makes ans->body from ans->body_json (taken) when the
 * store's thread left the answer as JSON. Any thread; the answer is the caller's alone by then.
 */
void kith_engine_answer_text(struct kith_engine_answer *ans);
/* True for a well-formed Idempotency-Key (1-255 printable ASCII, no spaces). */
bool kith_engine_idem_key_valid(const char *key);
/* The contract's JSON error body for st and err (a new string; free() it). */
char *kith_engine_error_json(enum kith_status st, const struct kith_err *err);

/*
 * Moving in from another tool (`kith import participants`, src/engine/imports.c): csv[0..len) is
 * a CSV file (RFC 4180) whose header names some of external_id, email, first_name, code and
 * referred_by (external_id required), one person per row, into program (NULL: the only one). A
 * row's code is kept as the person's primary code; referred_by names the code of who referred
 * them, which creates a pending referral with source "code". All or nothing, in tx: returns
 * KITH_OK with *out = {"program", "participants", "kept_codes", "referrals", "written":
 * [{"external_id", "id", "code"}]}; or KITH_E_INVALID_PARAM with *out = {"errors": [{"line",
 * "param", "message"}]} (lines of the file, the header being line 1) when any row is wrong,
 * having written nothing (the caller rolls the job back; *out is NULL for an unknown program);
 * or a store error. *out is a new reference. Sends no webhook and no notification.
 */
enum kith_status kith_engine_import_participants(struct kith_tx *tx, const struct kith_engine *eng,
                                                 const char *program, const char *csv, size_t len,
                                                 int64_t now_ms, json_t **out,
                                                 struct kith_err *err);

/*
 * After an answer with invalidates_links was committed: forgets the cached program settings.
 * An update drops its program's entry inside its transaction, but on a connection pool another
 * job may read the old settings before the commit and cache them again; dropping once more
 * after the commit (loads run under the cache's lock) makes every later request see the change.
 * Thread-safe.
 */
void kith_engine_settings_changed(void);
/* The public program page (section 18) as the page shows it: the JSON of
 * GET /v1/public/programs/{id} plus "words" (the rewards and how they are earned, in words).
 * KITH_E_NOT_FOUND when the program has no public page. *out is a new reference. */
enum kith_status kith_engine_public_program_page(struct kith_tx *tx, const struct kith_engine *eng,
                                                 const char *program, int64_t now_ms, json_t **out);

/* Start-up: builds the health rollups (section 22) from the raw tables when this database has
 * never had them (one that predates them, or one filled by a bulk load); otherwise nothing. */
enum kith_status kith_engine_health_prepare(struct kith_tx *tx);

/* Health: KITH_OK when the database answers a trivial query. */
enum kith_status kith_engine_health(struct kith_tx *tx);
/* Referrals by status now, indexed by enum kith_referral_status (for Prometheus). */
enum kith_status kith_engine_referral_counts(struct kith_tx *tx,
                                             int64_t counts[KITH_REFERRAL_STATUS_COUNT]);

/* Admin accounts, sessions and API keys (section 21, admin.c). */
struct kith_engine_session {
    char admin[KITH_ID_MAX];
    char digest[KITH_CRYPTO_HASH_HEX];
    char csrf_digest[KITH_CRYPTO_HASH_HEX];
    bool reviewer;
};
bool kith_engine_admin_role_valid(const char *role);
/* password_hash: kith_crypto_pwhash's. KITH_E_CONSTRAINT when the e-mail has an account. */
enum kith_status kith_engine_admin_create(struct kith_tx *tx, const char *email, const char *role,
                                          const char *password_hash, int64_t now_ms);
enum kith_status kith_engine_admin_list(struct kith_tx *tx, json_t **out);
/* KITH_E_NOT_FOUND when there is no such account; its sessions end with it. */
enum kith_status kith_engine_admin_remove(struct kith_tx *tx, const char *email);
/* A session cookie's account: KITH_E_UNAUTHORIZED when unknown or idle 12 hours. */
enum kith_status kith_engine_session_authenticate(struct kith_tx *tx, const char *session,
                                                  int64_t now_ms, struct kith_engine_session *out);
bool kith_engine_session_csrf_ok(const struct kith_engine_session *s, const char *csrf);
enum kith_status kith_op_admin_login(struct kith_tx *, struct kith_call *, json_t **,
                                     struct kith_err *);
enum kith_status kith_op_admin_logout(struct kith_tx *, struct kith_call *, json_t **,
                                      struct kith_err *);
enum kith_status kith_op_session_get(struct kith_tx *, struct kith_call *, json_t **,
                                     struct kith_err *);
enum kith_status kith_op_api_key_list(struct kith_tx *, struct kith_call *, json_t **,
                                      struct kith_err *);
enum kith_status kith_op_api_key_create(struct kith_tx *, struct kith_call *, json_t **,
                                        struct kith_err *);
enum kith_status kith_op_api_key_delete(struct kith_tx *, struct kith_call *, json_t **,
                                        struct kith_err *);

#endif
