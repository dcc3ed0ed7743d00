/*
 * app.h: what the parts of the running server share. struct kith_app is the one process-wide
 * object: the loop, the store, the engine settings, the HTTP server, and one member per part
 * (API calls, the redirect path and its code cache, the click batcher, webhook and e-mail
 * delivery, reward fulfilment's Stripe calls, the sweeper, Prometheus). Each part lives in its own
 * file with an init, a stop (on the way down, while the loop still runs) and a dispose (after the
 * loop ended).
 *
 * Threading: everything here runs on the loop thread. Store jobs a part submits run on a store
 * thread and touch only their own job record; their done callbacks come back to the loop.
 */
#ifndef KITH_APP_INTERNAL_H
#define KITH_APP_INTERNAL_H

#include <stdio.h>
#include <uv.h>

#include "kith/app.h"
#include "kith/crypto.h"
#include "kith/engine.h"
#include "kith/http.h"
#include "kith/hub.h"
#include "kith/net.h"
#include "kith/sketch.h"
#include "kith/store.h"

struct kith_app;

/* ---- routes (routes.c) ---- */
/* What a route is handled by. */
enum kith_app_route_kind {
    KITH_APP_ROUTE_API,          /* an engine operation, through kith_engine_call() */
    KITH_APP_ROUTE_REDIRECT,     /* GET|HEAD /r/{code}: the redirect path */
    KITH_APP_ROUTE_HEALTH,       /* GET /healthz */
    KITH_APP_ROUTE_PROMETHEUS,   /* GET /metrics */
    KITH_APP_ROUTE_LEADS,        /* POST /v1/public/leads: JSON (API), or the lead page's form */
    KITH_APP_ROUTE_UNSUBSCRIBE,  /* GET /u/{token}: a follow-up's one-click unsubscribe page */
    KITH_APP_ROUTE_HUB,          /* GET /p/{token}: the share hub page (pages.c) */
    KITH_APP_ROUTE_ASSET,        /* GET /kith.js, /assets/{name}, /favicon.*: embedded (pages.c) */
    KITH_APP_ROUTE_PREFLIGHT,    /* OPTIONS on a browser route: the CORS preflight (cors.c) */
    KITH_APP_ROUTE_PROGRAM_PAGE, /* GET /programs/{id}: the public program page (program_page.c) */
    KITH_APP_ROUTE_ADMIN,        /* GET /admin, /admin/...: the dashboard's shell (admin_page.c) */
    KITH_APP_ROUTE_KIND_COUNT,
};
enum kith_app_route_flags {
    KITH_APP_ROUTE_BODY = 1,       /* takes a JSON object body */
    KITH_APP_ROUTE_TEST_CLOCK = 2, /* present only with --test-clock */
    KITH_APP_ROUTE_KICKS = 4,      /* due webhooks are claimed right after it (the test clock) */
    /* A public route's per-address budget class (limits.c): */
    KITH_APP_ROUTE_LIMIT_LINKS = 8,   /* links (/r/...): 600 a minute */
    KITH_APP_ROUTE_LIMIT_PUBLIC = 16, /* /v1/public/..., /p/..., /u/...: 300 a minute */
    KITH_APP_ROUTE_LIMIT_LOGIN = 32,  /* /admin/login: 60 a minute */
    KITH_APP_ROUTE_LIMITS = 8 | 16 | 32,
    KITH_APP_ROUTE_NEW_CODES = 64, /* may create a code: the redirect path forgets unknown codes */
    KITH_APP_ROUTE_FILE = 128,     /* takes a file of up to KITH_APP_FILE_MAX (CSV imports) */
    KITH_APP_ROUTE_CORS = 256,     /* a browser route besides /v1/public and /v1/hub (cors.c) */
    KITH_APP_ROUTE_REVIEWER = 512, /* a write an admin session of role reviewer may make (21) */
};
#define KITH_APP_FILE_MAX (1024 * 1024)
/* One row of the route table: everything about a route, in one place. */
struct kith_app_route {
    enum kith_http_method method;
    const char *pattern; /* "/v1/participants/{id}" */
    const char *name;    /* for logs and metrics: "participants.get" */
    enum kith_app_route_kind kind;
    kith_op_fn op; /* KITH_APP_ROUTE_API only */
    enum kith_scope scope;
    unsigned flags;
};
/* The table, in matching order. */
extern const struct kith_app_route kith_app_routes[];
extern const size_t kith_app_route_count;

/* ---- Prometheus (prom.c) ---- */
/* A section of /metrics: writes its families to out. */
typedef void (*kith_app_prom_fn)(struct kith_app *a, FILE *out);
#define KITH_APP_PROM_SECTIONS 16
struct kith_app_prom {
    kith_app_prom_fn sections[KITH_APP_PROM_SECTIONS];
    size_t count;
    struct kith_app_counter *counters;    /* responses by route and status */
    struct kith_app_histogram *latencies; /* latency by route */
    /* the last answer's counter and histogram: the next answer of the same route and status
     * (a run of redirects) finds them without a lookup */
    struct kith_app_counter *last_counter;
    struct kith_app_histogram *last_latency;
    int last_status;
};
/* Each part registers its section once at start-up. */
void kith_app_prom_register(struct kith_app *a, kith_app_prom_fn fn);
/* Counts one answer of route (name) and its latency since started_ns. */
void kith_app_observe(struct kith_app *a, const char *route, int status, uint64_t started_ns);
void kith_app_prom_init(struct kith_app *a);
void kith_app_prom_dispose(struct kith_app *a);
void kith_app_health(struct kith_http_request *req, void *ctx);
void kith_app_prometheus(struct kith_http_request *req, void *ctx);

/* ---- API calls (api.c) ---- */
struct kith_app_api {
    struct kith_app_idem *inflight; /* Idempotency-Keys of calls this process is running */
};
void kith_app_api_handle(struct kith_http_request *req, void *ctx);
void kith_app_api_dispose(struct kith_app *a);

/* ---- the redirect path (redirect.c) ---- */
struct kith_app_links {
    struct kith_app_link *links; /* by normalised code */
    struct kith_app_prog *progs; /* program settings the links share */
    size_t count;
    uint64_t bots_seen;
    struct kith_app_link *unknown; /* codes known not to exist, for a short while */
    size_t unknown_count;
};
void kith_app_links_init(struct kith_app *a);
void kith_app_redirect(struct kith_http_request *req, void *ctx);
/* Forgets every cached code (a participant was blocked or erased, a program changed). */
void kith_app_links_clear(struct kith_app *a);
/* Forgets the codes known not to exist (a code may have been created). */
void kith_app_links_clear_unknown(struct kith_app *a);
void kith_app_links_dispose(struct kith_app *a);

/* ---- resource links, lead pages, unsubscribe (resources.c) ---- */
struct kith_app_resources {
    struct kith_app_res *cache; /* by program and slug, 10 s like codes */
    size_t count;
};
/* For /r/{code}/{slug} (req->params[1]) of program: true with *out when the resource is active
 * and known; otherwise false, the request being answered (404 page) or looked up (the lookup
 * runs kith_app_redirect again for req once it knows). */
bool kith_app_resource_find(struct kith_app *a, struct kith_http_request *req, const char *program,
                            const struct kith_resource_link **out);
/* A gated resource's lead page (200; the click's cookie, when counted, in cookie). */
void kith_app_lead_page(struct kith_app *a, struct kith_http_request *req,
                        const struct kith_resource_link *res, const char *first_name,
                        const char *click_id, const char *cookie);
void kith_app_leads_handle(struct kith_http_request *req, void *ctx);
void kith_app_unsubscribe(struct kith_http_request *req, void *ctx);
void kith_app_resources_clear(struct kith_app *a);
void kith_app_resources_dispose(struct kith_app *a);
/* ---- the people's pages (pages.c, hub_page.c) and CORS (cors.c), sections 4b and 20 ---- */
struct kith_app_pages {
    char (*etags)[24];               /* per embedded file (web.h), in its order */
    char openapi_etag[24];           /* of the embedded docs/api/openapi.json */
    struct kith_app_origin *origins; /* preflight answers: is this origin listed, for a while */
    size_t origin_count;
};
/* What a friend landing page shows (redirect.c gathers it from its cache). */
struct kith_app_landing {
    const char *program_name;
    const char *referrer_name; /* "" when none */
    const char *friend_reward; /* "" when none */
    const char *earn_text;
    const char *code;
    const char *href;   /* the destination with ref (and kith_click when counted) */
    const char *cookie; /* the Set-Cookie value, NULL when the visit is not counted */
};
void kith_app_pages_init(struct kith_app *a);
void kith_app_pages_dispose(struct kith_app *a);
/* Answers 200 with the landing page (4b). */
void kith_app_landing(struct kith_app *a, struct kith_http_request *req,
                      const struct kith_app_landing *in);
void kith_app_hub_page(struct kith_http_request *req, void *ctx);
void kith_app_asset(struct kith_http_request *req, void *ctx);
void kith_app_preflight(struct kith_http_request *req, void *ctx);
/* GET /programs/{id}: the public program page, HTML (section 18). */
void kith_app_program_page(struct kith_http_request *req, void *ctx);
void kith_app_admin_page(struct kith_http_request *req, void *ctx);
/* True for a route whose answers may carry CORS headers (/v1/public, /v1/hub, CORS flag). */
bool kith_app_cors_route(const struct kith_app_route *route);
/* Forgets cached preflight answers (a program changed). */
void kith_app_cors_clear(struct kith_app *a);

/* ---- clients and budgets (limits.c) ---- */
#define KITH_APP_CLICK_CAP 30 /* counted clicks a minute from one address on one code */
struct kith_app_limits {
    struct kith_net_cidrs *trusted; /* --trusted-proxies */
    /* Fixed-memory counts of this minute (kith/sketch.h, limits.c): per address and route class,
     * and per address and code; keyed by a random per-process SipHash key. */
    struct kith_sketch budgets, caps;
    uint8_t sketch_key[KITH_CRYPTO_SHORTHASH_KEY_BYTES];
    uint64_t limited, capped;
    /* The last client address hashed and its keyed hash: the budget and the click cap of one
     * request (and the next requests of the same client) hash it once (kith_app_client_hash). */
    char hashed_ip[64];
    char hashed[KITH_CRYPTO_HASH_HEX];
};
enum kith_status kith_app_limits_init(struct kith_app *a, const struct kith_app_config *cfg,
                                      struct kith_err *err);
void kith_app_limits_dispose(struct kith_app *a);
/* Sets req->client_ip and req->client_secure (trusted proxies, canonical form). */
void kith_app_client(struct kith_app *a, struct kith_http_request *req);
/* Takes one request from the client's budget for the route class in flags; false (with the
 * seconds until the next minute) when the budget is spent. Routes without a class: true. */
bool kith_app_budget_take(struct kith_app *a, struct kith_http_request *req, unsigned flags,
                          int *retry_after_s);
/* The keyed hash of req->client_ip (KITH_CRYPTO_HASH_HEX bytes, valid until the next call). */
const char *kith_app_client_hash(struct kith_app *a, const struct kith_http_request *req);
/* Counts a click that would count; true (not counted) past KITH_APP_CLICK_CAP this minute. */
bool kith_app_click_capped(struct kith_app *a, const char *ip_hash, const char *code);

/* ---- the click batcher (clicks.c) ---- */
struct kith_app_clicks {
    struct kith_click *buf; /* clicks not yet handed to the store */
    size_t count;
    struct kith_click *spare[4]; /* written batches' buffers, reused (clicks.c) */
    size_t spares;
    size_t inflight; /* handed to the store, not written yet */
    uint64_t recorded, lost, shed;
    uv_timer_t timer;
};
void kith_app_clicks_init(struct kith_app *a);
/* True when clicks waiting to be written reached the backlog bound: the database is behind. */
bool kith_app_clicks_full(const struct kith_app *a);
/* Counts a click not recorded because the backlog was full (kith_clicks_shed_total). */
void kith_app_clicks_shed(struct kith_app *a);
/* A zeroed slot for a counted click, or NULL when the backlog is full. */
struct kith_click *kith_app_clicks_add(struct kith_app *a);
/* Hands buffered clicks to the store (before any other job, so that order is kept). */
void kith_app_clicks_flush(struct kith_app *a);
void kith_app_clicks_stop(struct kith_app *a);
void kith_app_clicks_dispose(struct kith_app *a);

/* ---- webhook and e-mail delivery (deliver.c) ---- */
struct kith_app_deliver {
    struct kith_netpolicy *policy;
    struct kith_sender *sender;
    uv_timer_t timer;
    bool timer_live;
    bool claiming;
    char smtp_url[512];
    char smtp_from[256];
    uint64_t deliveries_ok, deliveries_failed, mails_sent, mails_failed;
    struct kith_app_attempt *attempts; /* handed to the sender, result not seen yet */
};
enum kith_status kith_app_deliver_init(struct kith_app *a, const struct kith_app_config *cfg,
                                       struct kith_err *err);
/* Claims due work now instead of at the next poll. */
void kith_app_deliver_kick(struct kith_app *a);
void kith_app_deliver_stop(struct kith_app *a);
void kith_app_deliver_dispose(struct kith_app *a);

/* ---- reward fulfilment's Stripe calls (fulfil.c) ---- */
struct kith_app_fulfil {
    struct kith_sender *sender; /* a sender of its own: API calls, answers kept */
    uv_timer_t timer;
    bool timer_live;
    bool claiming;
    char base[512]; /* KITH_STRIPE_API_BASE, no trailing slash */
    uint64_t calls_ok, calls_failed, done, failed;
    struct kith_app_fulcall *calls; /* handed to the sender, answer not seen yet */
};
/* After kith_app_deliver_init (the sender borrows its policy object, unused for API calls). */
enum kith_status kith_app_fulfil_init(struct kith_app *a, const struct kith_app_config *cfg,
                                      struct kith_err *err);
/* Claims due calls now instead of at the next poll. */
void kith_app_fulfil_kick(struct kith_app *a);
/* Stops the timer and the sender; calls in flight stay `sending` until their lease ends. */
void kith_app_fulfil_stop(struct kith_app *a);

/* ---- the sweeper (sweeper.c) ---- */
struct kith_app_sweeper {
    uv_timer_t timer;
    bool running;
};
void kith_app_sweeper_init(struct kith_app *a);
void kith_app_sweeper_stop(struct kith_app *a);

/* ---- the hashing key kept in a file (keyfile.c) ---- */
/* Reads the key; *exists false (and KITH_OK) when there is no file yet. Refuses a file others
 * may read, or one that does not hold 64 hex characters. */
enum kith_status kith_app_key_file_read(const char *path, uint8_t key[KITH_CRYPTO_KEY_BYTES],
                                        bool *exists, struct kith_err *err);
/* Creates the file with mode 0600 (never over an existing one) and syncs it and its directory. */
enum kith_status kith_app_key_file_create(const char *path,
                                          const uint8_t key[KITH_CRYPTO_KEY_BYTES],
                                          struct kith_err *err);

/* ---- the server (app.c) ---- */
struct kith_app {
    uv_loop_t *loop;
    struct kith_store *store;
    struct kith_engine eng;
    struct kith_http_server *srv;
    struct kith_http_route *http_routes; /* the transport's view of kith_app_routes */
    uv_signal_t sigterm, sigint;
    bool stopping;
    uint64_t store_errors;
    struct kith_app_prom prom;
    struct kith_app_api api;
    struct kith_app_limits limits;
    struct kith_app_links links;
    struct kith_app_resources resources;
    struct kith_app_pages pages;
    struct kith_app_clicks clicks;
    struct kith_app_deliver deliver;
    struct kith_app_fulfil fulfil;
    struct kith_app_sweeper sweeper;
};

/* Submits a store job after handing buffered clicks over, so that a signup sent after a click's
 * redirect sees the click. */
void kith_app_submit(struct kith_app *a, kith_store_job_fn fn, kith_store_done_fn done, void *arg);
/* A closed handle's callback that has nothing to free. */
void kith_app_on_closed(uv_handle_t *h);

#endif
