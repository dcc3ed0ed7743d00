/*
 * app.c: boot and shutdown of the running server. Start-up checks the settings it is given,
 * opens (creating and migrating) the store, loads the engine's secrets and shipped lists, puts
 * interrupted deliveries back, starts each part (Prometheus, the redirect cache, the click
 * batcher, delivery, fulfilment's Stripe calls, the sweeper) and then the HTTP server with the
 * route table. SIGTERM or
 * SIGINT stops in the one order that loses nothing: stop accepting and let every request in
 * flight be answered, then hand the last clicks to the store, stop the timers and the sender,
 * and let the store finish every queued job before it closes. Under systemd (Type=notify) it
 * reports READY=1 once the database is migrated and the socket listens, and STOPPING=1 when a
 * signal starts the stop (sd_notify does nothing without NOTIFY_SOCKET). It is not for handling
 * requests: the parts are.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "app/app.h"
#include "kith/clock.h"
#include "kith/crypto.h"
#include "kith/data.h"
#include "kith/fraud.h"
#include "kith/log.h"

void kith_app_on_closed(uv_handle_t *h)
{
    (void)h;
}

void kith_app_submit(struct kith_app *a, kith_store_job_fn fn, kith_store_done_fn done, void *arg)
{
    kith_app_clicks_flush(a);
    kith_store_submit(a->store, fn, done, arg);
}

/* ---- shutdown ---- */

/*
 * Every request has its answer: finish queued writes (clicks, sweeps) and close. This often runs
 * inside a store done callback (the last answer went to a client that had already left, so its
 * connection is freed right there); kith_store_close allows that. While the store drains, done
 * callbacks still see a->store and may submit: those jobs run too. Each handle closed here keeps
 * its memory (in struct kith_app) until uv_run returns; none of their callbacks runs after this.
 */
static void on_drained(void *ctx)
{
    struct kith_app *a = ctx;
    kith_app_clicks_stop(a);
    kith_app_sweeper_stop(a);
    kith_app_deliver_stop(a);
    kith_app_fulfil_stop(a);
    uv_close((uv_handle_t *)&a->sigterm, kith_app_on_closed);
    uv_close((uv_handle_t *)&a->sigint, kith_app_on_closed);
    kith_store_close(a->store);
    a->store = NULL;
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct kith_app *a = s->data;
    if (a->stopping)
        return;
    a->stopping = true;
    kith_log_info("server", "msg=\"stopping\" signal=%d", signum);
    sd_notify(0, "STOPPING=1\nSTATUS=stopping: answering the requests in flight");
    kith_http_server_shutdown(a->srv, on_drained, a);
}

/* ---- boot ---- */

struct boot {
    struct kith_engine *eng;
    int64_t keys;
    bool make_key;
    char key[64];
    bool file_key; /* the hashing key comes from KITH_HASH_KEY_FILE */
    uint8_t hash_key[KITH_CRYPTO_KEY_BYTES];
    bool db_has_key;
};

static enum kith_status peek_job(struct kith_tx *tx, void *arg)
{
    struct boot *b = arg;
    return kith_engine_hash_key_peek(tx, b->hash_key, &b->db_has_key);
}

static enum kith_status boot_job(struct kith_tx *tx, void *arg)
{
    struct boot *b = arg;
    enum kith_status st = b->file_key
                              ? kith_engine_bootstrap_file_key(tx, b->eng, b->hash_key, &b->keys)
                              : kith_engine_bootstrap(tx, b->eng, &b->keys);
    if (st == KITH_OK && b->keys == 0 && b->make_key)
        st = kith_engine_key_create(tx, false, b->key, kith_clock_now_ms());
    return st;
}

static enum kith_status health_job(struct kith_tx *tx, void *arg)
{
    (void)arg;
    return kith_engine_health_prepare(tx);
}

static enum kith_status recover_job(struct kith_tx *tx, void *arg)
{
    (void)arg;
    return kith_engine_deliveries_recover(tx);
}

static enum kith_status load_lists(struct kith_engine *eng, struct kith_err *err)
{
    struct kith_domain_set *disposable = NULL, *coupons = NULL;
    enum kith_status st =
        kith_domain_set_parse(kith_data_disposable_email_domains,
                              kith_data_disposable_email_domains_len, &disposable, err);
    if (st == KITH_OK)
        st = kith_domain_set_parse(kith_data_coupon_sites, kith_data_coupon_sites_len, &coupons,
                                   err);
    if (st != KITH_OK) {
        kith_domain_set_destroy(disposable);
        return st;
    }
    eng->disposable = disposable;
    eng->coupon_sites = coupons;
    kith_log_info("server", "msg=\"lists loaded\" disposable_domains=%zu coupon_sites=%zu",
                  kith_domain_set_size(disposable), kith_domain_set_size(coupons));
    return KITH_OK;
}

/* Opens the store and readies the engine: secrets, the first key, interrupted deliveries. */
static enum kith_status open_store(struct kith_app *a, const struct kith_app_config *cfg,
                                   struct kith_err *err)
{
    enum kith_status st = kith_store_open(cfg->db_path, &a->store, err);
    if (st != KITH_OK)
        return st;
    struct boot b = {.eng = &a->eng, .make_key = !(cfg->secret_key && cfg->secret_key[0])};
    if (cfg->hash_key_file && cfg->hash_key_file[0]) {
        bool exists = false;
        b.file_key = true;
        if ((st = kith_app_key_file_read(cfg->hash_key_file, b.hash_key, &exists, err)) != KITH_OK)
            return st;
        if (!exists) {
            /* First start with the file: the database's key (or a new one) moves into it. The
             * file is durable before the database lets go of its copy. */
            if ((st = kith_store_run(a->store, peek_job, &b)) != KITH_OK)
                return kith_err_set(err, st, NULL, "cannot read the database");
            if (!b.db_has_key)
                kith_crypto_random(b.hash_key, sizeof(b.hash_key));
            if ((st = kith_app_key_file_create(cfg->hash_key_file, b.hash_key, err)) != KITH_OK)
                return st;
            kith_log_info("server", "msg=\"hash key file created\" moved_from_database=%s",
                          b.db_has_key ? "yes" : "no");
        }
    }
    st = kith_store_run(a->store, boot_job, &b);
    kith_crypto_wipe(b.hash_key, sizeof(b.hash_key));
    if (st == KITH_E_INVALID_STATE)
        return kith_err_set(err, st, "KITH_HASH_KEY_FILE",
                            b.file_key ? "the hash key file holds another key than this database's"
                                       : "this database's hash key lives in a file: set "
                                         "KITH_HASH_KEY_FILE to it");
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "cannot initialise the database");
    if (b.key[0]) {
        fprintf(stderr,
                "kith: created the first secret API key (shown once, keep it safe):\n"
                "  %s\n",
                b.key);
        kith_crypto_wipe(b.key, sizeof(b.key));
        fflush(stderr);
    }
    /* The health rollups of a database that predates them: built once, before serving. */
    if ((st = kith_store_run(a->store, health_job, NULL)) != KITH_OK)
        return kith_err_set(err, st, NULL, "cannot build the health rollups");
    if (kith_store_run(a->store, recover_job, NULL) != KITH_OK)
        kith_log_warn("webhooks", "msg=\"could not recover interrupted deliveries\"");
    kith_store_set_pipelined(a->store, cfg->db_sync == KITH_APP_DB_SYNC_PIPELINED);
    kith_store_start(a->store, a->loop);
    return KITH_OK;
}

/* Every request: who the client is, whether its budget allows it, then its kind's handler. */
static void dispatch(struct kith_http_request *req, void *ctx)
{
    static const kith_http_handler_fn handlers[KITH_APP_ROUTE_KIND_COUNT] = {
        [KITH_APP_ROUTE_API] = kith_app_api_handle,
        [KITH_APP_ROUTE_REDIRECT] = kith_app_redirect,
        [KITH_APP_ROUTE_HEALTH] = kith_app_health,
        [KITH_APP_ROUTE_PROMETHEUS] = kith_app_prometheus,
        [KITH_APP_ROUTE_LEADS] = kith_app_leads_handle,
        [KITH_APP_ROUTE_UNSUBSCRIBE] = kith_app_unsubscribe,
        [KITH_APP_ROUTE_HUB] = kith_app_hub_page,
        [KITH_APP_ROUTE_ASSET] = kith_app_asset,
        [KITH_APP_ROUTE_PREFLIGHT] = kith_app_preflight,
        [KITH_APP_ROUTE_PROGRAM_PAGE] = kith_app_program_page,
        [KITH_APP_ROUTE_ADMIN] = kith_app_admin_page,
    };
    struct kith_app *a = ctx;
    const struct kith_app_route *route = req->route_data;
    int retry_after_s = 0;
    kith_app_client(a, req);
    if (!kith_app_budget_take(a, req, route->flags, &retry_after_s)) {
        char retry[16], *body;
        struct kith_err err;
        snprintf(retry, sizeof(retry), "%d", retry_after_s);
        kith_err_set(&err, KITH_E_RATE_LIMITED, NULL,
                     "too many requests from this address; retry in %d s", retry_after_s);
        body = kith_engine_error_json(KITH_E_RATE_LIMITED, &err);
        struct kith_http_header h[] = {{"Content-Type", "application/json"},
                                       {"Retry-After", retry}};
        kith_app_observe(a, route->name, 429, req->started_ns);
        kith_http_respond(req, 429, h, 2, body, strlen(body));
        free(body);
        return;
    }
    handlers[route->kind](req, ctx);
}

/* A route's body limit: 64 KiB, files (CSV imports) 1 MiB. */
static size_t body_max(const void *route_data)
{
    const struct kith_app_route *r = route_data;
    return (r->flags & KITH_APP_ROUTE_FILE) ? KITH_APP_FILE_MAX : 0;
}

/* The transport's view of the route table: every row, handled through dispatch(). */
static struct kith_http_route *http_routes(bool test_clock, size_t *count)
{
    struct kith_http_route *out = calloc(kith_app_route_count, sizeof(*out));
    if (out == NULL)
        abort();
    size_t n = 0;
    for (size_t i = 0; i < kith_app_route_count; i++) {
        const struct kith_app_route *r = &kith_app_routes[i];
        if ((r->flags & KITH_APP_ROUTE_TEST_CLOCK) && !test_clock)
            continue;
        out[n++] = (struct kith_http_route){r->method, r->pattern, dispatch, r->name, r};
    }
    *count = n;
    return out;
}

static void public_url(struct kith_app *a, const struct kith_app_config *cfg)
{
    if (cfg->public_url && cfg->public_url[0]) {
        kith_strlcpy(a->eng.public_url, cfg->public_url, sizeof(a->eng.public_url));
    } else {
        bool v6 = strchr(cfg->listen_host, ':') != NULL;
        snprintf(a->eng.public_url, sizeof(a->eng.public_url),
                 v6 ? "http://[%s]:%d" : "http://%s:%d", cfg->listen_host,
                 kith_http_server_port(a->srv));
    }
    size_t ulen = strlen(a->eng.public_url);
    while (ulen > 0 && a->eng.public_url[ulen - 1] == '/')
        a->eng.public_url[--ulen] = '\0';
    a->eng.secure_cookies = strncmp(a->eng.public_url, "https://", 8) == 0;
}

int kith_app_run(const struct kith_app_config *cfg)
{
    struct kith_app a;
    struct kith_err err = {{0}, {0}};
    int rc = 1;
    memset(&a, 0, sizeof(a));
    a.loop = uv_default_loop();
    if (cfg->test_clock)
        kith_clock_enable_test(kith_clock_now_ms() / 1000 *
                               1000); /* a whole second (CONTRACT 10) */
    a.eng.test_clock = cfg->test_clock;
    a.eng.fraud_off = !cfg->fraud_scoring;
    if (!cfg->fraud_scoring)
        kith_log_warn("server", "msg=\"fraud scoring is OFF (KITH_FRAUD_SCORING=off)\"");
    if (cfg->secret_key && cfg->secret_key[0])
        kith_crypto_hash(cfg->secret_key, strlen(cfg->secret_key), a.eng.env_key_hash);
    a.eng.smtp_enabled = cfg->smtp_url && cfg->smtp_url[0];

    kith_app_prom_init(&a);
    kith_app_links_init(&a);
    kith_app_pages_init(&a);
    if (kith_crypto_init(&err) != KITH_OK || load_lists(&a.eng, &err) != KITH_OK) {
        kith_log_error("server", "msg=\"cannot start\" error=\"%s\"", err.message);
        goto out;
    }
    /* Settings first, so that a bad one is refused before the database is created. */
    if (kith_app_limits_init(&a, cfg, &err) != KITH_OK) {
        kith_log_error("server", "msg=\"bad setting\" error=\"%s\"", err.message);
        goto out;
    }
    if (kith_app_deliver_init(&a, cfg, &err) != KITH_OK) {
        kith_log_error("server", "msg=\"cannot start the webhook sender\" error=\"%s\"",
                       err.message);
        goto out;
    }
    if (kith_app_fulfil_init(&a, cfg, &err) != KITH_OK) {
        kith_log_error("server", "msg=\"cannot start the Stripe sender\" error=\"%s\"",
                       err.message);
        goto out;
    }
    if (open_store(&a, cfg, &err) != KITH_OK) {
        kith_log_error("server", "msg=\"cannot start\" error=\"%s\"", err.message);
        goto out;
    }
    size_t nroutes = 0;
    a.http_routes = http_routes(cfg->test_clock, &nroutes);
    struct kith_http_config hc = {
        .host = cfg->listen_host,
        .port = cfg->listen_port,
        .routes = a.http_routes,
        .route_count = nroutes,
        .ctx = &a,
        .access_log = true,
        .body_max = body_max,
    };
    if (kith_http_server_create(a.loop, &hc, &a.srv, &err) != KITH_OK) {
        kith_log_error("server", "msg=\"cannot listen\" error=\"%s\"", err.message);
        goto out;
    }
    public_url(&a, cfg);
    kith_app_clicks_init(&a);
    kith_app_sweeper_init(&a);
    uv_signal_init(a.loop, &a.sigterm);
    uv_signal_init(a.loop, &a.sigint);
    a.sigterm.data = a.sigint.data = &a;
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);

    fprintf(stderr, "kith: listening on %s:%d\n", cfg->listen_host, kith_http_server_port(a.srv));
    fflush(stderr);
    /* Migrated, listening, every part started: a service manager may send traffic now. */
    char ready[160];
    snprintf(ready, sizeof(ready), "READY=1\nSTATUS=listening on %s:%d", cfg->listen_host,
             kith_http_server_port(a.srv));
    sd_notify(0, ready);
    uv_run(a.loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    /* After a clean stop these are no-ops; on failure paths they undo what was started. */
    kith_app_fulfil_stop(&a);
    kith_app_deliver_dispose(&a);
    kith_store_close(a.store);
    a.store = NULL;
    kith_http_server_destroy(a.srv);
    uv_run(a.loop, UV_RUN_DEFAULT); /* let closing handles finish */
    kith_app_links_dispose(&a);
    kith_app_resources_dispose(&a);
    kith_app_pages_dispose(&a);
    kith_app_clicks_dispose(&a);
    kith_app_api_dispose(&a);
    kith_app_limits_dispose(&a);
    kith_app_prom_dispose(&a);
    free(a.http_routes);
    kith_domain_set_destroy((struct kith_domain_set *)a.eng.disposable);
    kith_domain_set_destroy((struct kith_domain_set *)a.eng.coupon_sites);
    uv_loop_close(a.loop);
    kith_crypto_wipe(&a.eng, sizeof(a.eng));
    fflush(stderr);
    kith_log_info("server", "msg=stopped");
    return rc;
}
