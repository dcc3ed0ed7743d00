/*
 * routes.c: the route table, as data. One row per route of the contract: method, pattern, name
 * (for logs and metrics), what handles it, the engine operation, who may call it, and its flags.
 * Adding a route is adding a row; nothing else in the server names routes. It is not for what a
 * route does: that is the engine operation's (src/engine) or the app part's the row names.
 */
#include "app/app.h"

#define SECRET KITH_SCOPE_SECRET
#define PUBLISHABLE KITH_SCOPE_PUBLISHABLE
#define SIGNED KITH_SCOPE_SIGNED
#define BODY KITH_APP_ROUTE_BODY
#define API KITH_APP_ROUTE_API
#define PUBLIC KITH_SCOPE_PUBLIC
#define HUB KITH_SCOPE_HUB
#define LIMIT_PUBLIC KITH_APP_ROUTE_LIMIT_PUBLIC
#define PREFLIGHT KITH_APP_ROUTE_PREFLIGHT
#define REVIEWER KITH_APP_ROUTE_REVIEWER

const struct kith_app_route kith_app_routes[] = {
    /* public: links, health, metrics */
    {KITH_HTTP_GET, "/r/{code}", "links.redirect", KITH_APP_ROUTE_REDIRECT, NULL, SECRET,
     KITH_APP_ROUTE_LIMIT_LINKS},
    {KITH_HTTP_GET, "/healthz", "healthz", KITH_APP_ROUTE_HEALTH, NULL, SECRET, 0},
    {KITH_HTTP_GET, "/metrics", "metrics", KITH_APP_ROUTE_PROMETHEUS, NULL, SECRET, 0},
    /* programs (CONTRACT section 2) */
    {KITH_HTTP_POST, "/v1/programs", "programs.create", API, kith_op_program_create, SECRET, BODY},
    {KITH_HTTP_GET, "/v1/programs", "programs.list", API, kith_op_program_list, SECRET, 0},
    {KITH_HTTP_GET, "/v1/programs/{id}", "programs.get", API, kith_op_program_get, SECRET, 0},
    {KITH_HTTP_PATCH, "/v1/programs/{id}", "programs.update", API, kith_op_program_update, SECRET,
     BODY},
    /* participants and codes (3), privacy (6b) */
    {KITH_HTTP_POST, "/v1/participants", "participants.create", API, kith_op_participant_create,
     SECRET, BODY | KITH_APP_ROUTE_NEW_CODES},
    {KITH_HTTP_GET, "/v1/participants", "participants.list", API, kith_op_participant_list, SECRET,
     0},
    {KITH_HTTP_GET, "/v1/participants/{id}", "participants.get", API, kith_op_participant_get,
     SECRET, 0},
    {KITH_HTTP_PATCH, "/v1/participants/{id}", "participants.update", API,
     kith_op_participant_update, SECRET, BODY},
    {KITH_HTTP_POST, "/v1/participants/{id}/codes", "participants.codes", API,
     kith_op_participant_add_code, SECRET, BODY | KITH_APP_ROUTE_NEW_CODES},
    {KITH_HTTP_GET, "/v1/participants/{id}/export", "participants.export", API,
     kith_op_participant_export, SECRET, 0},
    {KITH_HTTP_POST, "/v1/participants/{id}/erase", "participants.erase", API,
     kith_op_participant_erase, SECRET, BODY},
    /* signups (5), referrals and review (6) */
    {KITH_HTTP_POST, "/v1/signups", "signups.create", API, kith_op_signup, SECRET,
     BODY | KITH_APP_ROUTE_NEW_CODES},
    {KITH_HTTP_GET, "/v1/referrals", "referrals.list", API, kith_op_referral_list, SECRET, 0},
    {KITH_HTTP_GET, "/v1/referrals/{id}", "referrals.get", API, kith_op_referral_get, SECRET, 0},
    {KITH_HTTP_POST, "/v1/referrals/{id}/approve", "referrals.approve", API,
     kith_op_referral_approve, SECRET, BODY | REVIEWER},
    {KITH_HTTP_POST, "/v1/referrals/{id}/reject", "referrals.reject", API, kith_op_referral_reject,
     SECRET, BODY | REVIEWER},
    /* events (7), rewards (8) */
    {KITH_HTTP_POST, "/v1/events", "events.create", API, kith_op_event_create, SECRET, BODY},
    {KITH_HTTP_GET, "/v1/rewards", "rewards.list", API, kith_op_reward_list, SECRET, 0},
    {KITH_HTTP_GET, "/v1/rewards/{id}", "rewards.get", API, kith_op_reward_get, SECRET, 0},
    {KITH_HTTP_POST, "/v1/rewards/{id}/redeem", "rewards.redeem", API, kith_op_reward_redeem,
     SECRET, BODY},
    {KITH_HTTP_POST, "/v1/rewards/{id}/void", "rewards.void", API, kith_op_reward_void, SECRET,
     BODY},
    /* notifications and share messages (13) */
    {KITH_HTTP_GET, "/v1/participants/{id}/notifications", "participants.notifications", API,
     kith_op_participant_notifications, SECRET, 0},
    {KITH_HTTP_GET, "/v1/participants/{id}/share", "participants.share", API,
     kith_op_participant_share, SECRET, 0},
    /* webhook endpoints (11) */
    {KITH_HTTP_POST, "/v1/webhook_endpoints", "webhooks.create", API, kith_op_endpoint_create,
     SECRET, BODY},
    {KITH_HTTP_GET, "/v1/webhook_endpoints", "webhooks.list", API, kith_op_endpoint_list, SECRET,
     0},
    {KITH_HTTP_GET, "/v1/webhook_endpoints/{id}", "webhooks.get", API, kith_op_endpoint_get, SECRET,
     0},
    {KITH_HTTP_PATCH, "/v1/webhook_endpoints/{id}", "webhooks.update", API, kith_op_endpoint_update,
     SECRET, BODY},
    {KITH_HTTP_DELETE, "/v1/webhook_endpoints/{id}", "webhooks.delete", API,
     kith_op_endpoint_delete, SECRET, 0},
    {KITH_HTTP_GET, "/v1/webhook_endpoints/{id}/deliveries", "webhooks.deliveries", API,
     kith_op_endpoint_deliveries, SECRET, 0},
    {KITH_HTTP_POST, "/v1/webhook_endpoints/{id}/deliveries/{msg}/retry", "webhooks.retry", API,
     kith_op_endpoint_retry, SECRET, BODY},
    /* providers (12): authenticated by their signature over the raw body */
    {KITH_HTTP_POST, "/v1/integrations/stripe/{program}", "integrations.stripe", API,
     kith_op_stripe, SIGNED, 0},
    {KITH_HTTP_POST, "/v1/integrations/shopify/{program}", "integrations.shopify", API,
     kith_op_shopify, SIGNED, 0},
    /* metrics and leaderboard (14) */
    {KITH_HTTP_GET, "/v1/metrics", "metrics.get", API, kith_op_metrics, SECRET, 0},
    {KITH_HTTP_GET, "/v1/leaderboard", "leaderboard.get", API, kith_op_leaderboard, PUBLISHABLE,
     KITH_APP_ROUTE_CORS},
    /* tracks, levels, roles and activities (15, 16) */
    {KITH_HTTP_POST, "/v1/participants/{id}/levels/{track}/approve", "participants.levels.approve",
     API, kith_op_participant_level_approve, SECRET, BODY},
    {KITH_HTTP_POST, "/v1/participants/{id}/levels/{track}/decline", "participants.levels.decline",
     API, kith_op_participant_level_decline, SECRET, BODY},
    {KITH_HTTP_POST, "/v1/participants/{id}/roles", "participants.roles.grant", API,
     kith_op_participant_role_grant, SECRET, BODY},
    {KITH_HTTP_DELETE, "/v1/participants/{id}/roles/{role}", "participants.roles.revoke", API,
     kith_op_participant_role_revoke, SECRET, 0},
    {KITH_HTTP_POST, "/v1/activities", "activities.create", API, kith_op_activity_create, SECRET,
     BODY},
    {KITH_HTTP_GET, "/v1/activities", "activities.list", API, kith_op_activity_list, SECRET, 0},
    {KITH_HTTP_GET, "/v1/activities/{id}", "activities.get", API, kith_op_activity_get, SECRET, 0},
    {KITH_HTTP_POST, "/v1/activities/{id}/void", "activities.void", API, kith_op_activity_void,
     SECRET, BODY},

    /* moments, asks, rituals and the public page (17, 18) */
    {KITH_HTTP_GET, "/programs/{id}", "programs.page", KITH_APP_ROUTE_PROGRAM_PAGE, NULL, SECRET,
     KITH_APP_ROUTE_LIMIT_PUBLIC},
    {KITH_HTTP_POST, "/v1/moments", "moments.create", API, kith_op_moment_create, SECRET, BODY},
    {KITH_HTTP_GET, "/v1/asks", "asks.list", API, kith_op_ask_list, SECRET, 0},
    {KITH_HTTP_POST, "/v1/spotlights", "spotlights.create", API, kith_op_spotlight_create, SECRET,
     BODY},
    {KITH_HTTP_GET, "/v1/spotlights", "spotlights.list", API, kith_op_spotlight_list, SECRET, 0},
    {KITH_HTTP_GET, "/v1/spotlights/{id}", "spotlights.get", API, kith_op_spotlight_get, SECRET, 0},
    {KITH_HTTP_POST, "/v1/spotlights/{id}/publish", "spotlights.publish", API,
     kith_op_spotlight_publish, SECRET, BODY},
    /* public: no key is asked (SIGNED scope without a signature); 404 unless public_page */
    {KITH_HTTP_GET, "/v1/public/programs/{id}", "public.program", API, kith_op_public_program,
     SIGNED, 0},

    /* resources and leads (19) */
    {KITH_HTTP_GET, "/r/{code}/{slug}", "links.resource", KITH_APP_ROUTE_REDIRECT, NULL, SECRET,
     KITH_APP_ROUTE_LIMIT_LINKS},
    {KITH_HTTP_POST, "/v1/resources", "resources.create", API, kith_op_resource_create, SECRET,
     BODY},
    {KITH_HTTP_GET, "/v1/resources", "resources.list", API, kith_op_resource_list, SECRET, 0},
    {KITH_HTTP_POST, "/v1/resources/import", "resources.import", API, kith_op_resource_import,
     SECRET, KITH_APP_ROUTE_FILE},
    {KITH_HTTP_GET, "/v1/resources/{slug}", "resources.get", API, kith_op_resource_get, SECRET, 0},
    {KITH_HTTP_PATCH, "/v1/resources/{slug}", "resources.update", API, kith_op_resource_update,
     SECRET, BODY},
    {KITH_HTTP_POST, "/v1/resources/{slug}/archive", "resources.archive", API,
     kith_op_resource_archive, SECRET, BODY},
    /* public: JSON, or the lead page's form (answered with a 303 to the resource) */
    {KITH_HTTP_POST, "/v1/public/leads", "leads.create", KITH_APP_ROUTE_LEADS, kith_op_lead_create,
     SIGNED, KITH_APP_ROUTE_LIMIT_PUBLIC},
    {KITH_HTTP_GET, "/v1/leads", "leads.list", API, kith_op_lead_list, SECRET, 0},
    {KITH_HTTP_GET, "/v1/leads/{id}", "leads.get", API, kith_op_lead_get, SECRET, 0},
    {KITH_HTTP_GET, "/v1/leads/{id}/messages", "leads.messages", API, kith_op_lead_messages, SECRET,
     0},
    {KITH_HTTP_POST, "/v1/leads/{id}/erase", "leads.erase", API, kith_op_lead_erase, SECRET, BODY},
    {KITH_HTTP_GET, "/u/{token}", "leads.unsubscribe", KITH_APP_ROUTE_UNSUBSCRIBE, NULL, SECRET,
     KITH_APP_ROUTE_LIMIT_PUBLIC},

    /* the share hub, kith.js and CORS (20) */
    {KITH_HTTP_POST, "/v1/participants/{id}/hub_link", "participants.hub_link", API,
     kith_op_participant_hub_link, SECRET, BODY},
    {KITH_HTTP_POST, "/v1/public/hub_login", "hub.login", API, kith_op_hub_login, PUBLIC,
     BODY | LIMIT_PUBLIC},
    {KITH_HTTP_GET, "/v1/hub/me", "hub.me", API, kith_op_hub_me, HUB, LIMIT_PUBLIC},
    {KITH_HTTP_PATCH, "/v1/hub/me", "hub.me.update", API, kith_op_hub_me_update, HUB,
     BODY | LIMIT_PUBLIC},
    {KITH_HTTP_GET, "/v1/hub/export", "hub.export", API, kith_op_hub_export, HUB, LIMIT_PUBLIC},
    {KITH_HTTP_POST, "/v1/hub/erase", "hub.erase", API, kith_op_hub_erase, HUB,
     BODY | LIMIT_PUBLIC},
    {KITH_HTTP_GET, "/p/{token}", "hub.page", KITH_APP_ROUTE_HUB, NULL, SECRET, LIMIT_PUBLIC},
    {KITH_HTTP_GET, "/kith.js", "assets.kith_js", KITH_APP_ROUTE_ASSET, NULL, SECRET, 0},
    {KITH_HTTP_GET, "/assets/{name}", "assets.file", KITH_APP_ROUTE_ASSET, NULL, SECRET, 0},
    /* the pages' icon (src/web/favicon.svg); /favicon.ico for what asks without reading a page */
    {KITH_HTTP_GET, "/favicon.svg", "assets.favicon", KITH_APP_ROUTE_ASSET, NULL, SECRET, 0},
    {KITH_HTTP_GET, "/favicon.ico", "assets.favicon_ico", KITH_APP_ROUTE_ASSET, NULL, SECRET, 0},
    {KITH_HTTP_OPTIONS, "/v1/public/{a}", "cors.preflight", PREFLIGHT, NULL, SECRET, LIMIT_PUBLIC},
    {KITH_HTTP_OPTIONS, "/v1/public/{a}/{b}", "cors.preflight", PREFLIGHT, NULL, SECRET,
     LIMIT_PUBLIC},
    {KITH_HTTP_OPTIONS, "/v1/public/{a}/{b}/{c}", "cors.preflight", PREFLIGHT, NULL, SECRET,
     LIMIT_PUBLIC},
    {KITH_HTTP_OPTIONS, "/v1/hub/{a}", "cors.preflight", PREFLIGHT, NULL, SECRET, LIMIT_PUBLIC},
    {KITH_HTTP_OPTIONS, "/v1/leaderboard", "cors.preflight", PREFLIGHT, NULL, SECRET, LIMIT_PUBLIC},

    /* admin accounts, sessions, API keys, CSV exports (21) */
    {KITH_HTTP_POST, "/admin/login", "admin.login", API, kith_op_admin_login, PUBLIC,
     BODY | KITH_APP_ROUTE_LIMIT_LOGIN},
    {KITH_HTTP_POST, "/admin/logout", "admin.logout", API, kith_op_admin_logout, SECRET, REVIEWER},
    {KITH_HTTP_GET, "/v1/admin/session", "admin.session", API, kith_op_session_get, SECRET, 0},
    {KITH_HTTP_GET, "/admin", "admin.page", KITH_APP_ROUTE_ADMIN, NULL, SECRET, 0},
    {KITH_HTTP_GET, "/admin/{page}", "admin.page", KITH_APP_ROUTE_ADMIN, NULL, SECRET, 0},
    {KITH_HTTP_GET, "/admin/{page}/{id}", "admin.page", KITH_APP_ROUTE_ADMIN, NULL, SECRET, 0},
    {KITH_HTTP_GET, "/v1/api_keys", "api_keys.list", API, kith_op_api_key_list, SECRET, 0},
    {KITH_HTTP_POST, "/v1/api_keys", "api_keys.create", API, kith_op_api_key_create, SECRET, BODY},
    {KITH_HTTP_DELETE, "/v1/api_keys/{id}", "api_keys.delete", API, kith_op_api_key_delete, SECRET,
     0},
    {KITH_HTTP_POST, "/v1/programs/{id}/templates/preview", "programs.templates.preview", API,
     kith_op_template_preview, SECRET, BODY | REVIEWER},

    /* health, forecast (22) and experiments (23) */
    {KITH_HTTP_GET, "/v1/metrics/health", "metrics.health", API, kith_op_metrics_health, SECRET, 0},
    {KITH_HTTP_GET, "/v1/forecast", "forecast.get", API, kith_op_forecast, SECRET, 0},
    {KITH_HTTP_POST, "/v1/experiments", "experiments.create", API, kith_op_experiment_create,
     SECRET, BODY},
    {KITH_HTTP_GET, "/v1/experiments", "experiments.list", API, kith_op_experiment_list, SECRET, 0},
    {KITH_HTTP_GET, "/v1/experiments/{id}", "experiments.get", API, kith_op_experiment_get, SECRET,
     0},
    {KITH_HTTP_POST, "/v1/experiments/{id}/start", "experiments.start", API,
     kith_op_experiment_start, SECRET, BODY},
    {KITH_HTTP_POST, "/v1/experiments/{id}/stop", "experiments.stop", API, kith_op_experiment_stop,
     SECRET, BODY},
    {KITH_HTTP_POST, "/v1/experiments/{id}/promote", "experiments.promote", API,
     kith_op_experiment_promote, SECRET, BODY},

    /* operations (24) */
    {KITH_HTTP_GET, "/v1/exports/{file}", "exports.get", API, kith_op_export, SECRET, 0},
    {KITH_HTTP_GET, "/openapi.json", "docs.openapi", KITH_APP_ROUTE_ASSET, NULL, SECRET, 0},

    /* fulfilment (25) */
    {KITH_HTTP_POST, "/v1/rewards/{id}/fulfilment/retry", "rewards.fulfilment.retry", API,
     kith_op_fulfilment_retry, SECRET, BODY},
    {KITH_HTTP_POST, "/v1/rewards/{id}/fulfilment/delivered", "rewards.fulfilment.delivered", API,
     kith_op_fulfilment_delivered, SECRET, BODY},
    {KITH_HTTP_GET, "/v1/rewards/{id}/claim", "rewards.claim.get", API, kith_op_reward_claim_get,
     SECRET, 0},
    {KITH_HTTP_POST, "/v1/rewards/{id}/claim", "rewards.claim", API, kith_op_reward_claim, SECRET,
     BODY},
    {KITH_HTTP_GET, "/v1/payouts.csv", "payouts.csv", API, kith_op_payouts_csv, SECRET, 0},
    {KITH_HTTP_POST, "/v1/payouts/mark_paid", "payouts.mark_paid", API, kith_op_payouts_mark_paid,
     SECRET, BODY},
    /* the person's own claim, in the share hub's scope */
    {KITH_HTTP_GET, "/v1/hub/rewards/{id}/claim", "hub.rewards.claim.get", API,
     kith_op_hub_reward_claim_get, HUB, LIMIT_PUBLIC},
    {KITH_HTTP_POST, "/v1/hub/rewards/{id}/claim", "hub.rewards.claim", API,
     kith_op_hub_reward_claim, HUB, BODY | LIMIT_PUBLIC},
    {KITH_HTTP_OPTIONS, "/v1/hub/{a}/{b}/{c}", "cors.preflight", PREFLIGHT, NULL, SECRET,
     LIMIT_PUBLIC},

    /* the test clock (10), only with --test-clock */
    {KITH_HTTP_GET, "/v1/test/clock", "test.clock.get", API, kith_op_clock_get, SECRET,
     KITH_APP_ROUTE_TEST_CLOCK},
    {KITH_HTTP_POST, "/v1/test/clock", "test.clock.set", API, kith_op_clock_set, SECRET,
     BODY | KITH_APP_ROUTE_TEST_CLOCK | KITH_APP_ROUTE_KICKS},
};

const size_t kith_app_route_count = sizeof(kith_app_routes) / sizeof(kith_app_routes[0]);
