/*
 * api.c: the routes that run an engine operation. Each call becomes one store job that runs
 * kith_engine_call() (authentication, the Idempotency-Key rule, the operation and its stored
 * answer, in the transaction that commits the effect); the answer leaves only after that commit.
 * What lives here is the transport's side: which header carries the key and the
 * Idempotency-Key, a key already in flight in this process (answered 409 without a job), and the
 * answer's headers. No business rule lives here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uthash.h>

#include "app/app.h"
#include "kith/crypto.h"
#include "kith/log.h"

struct kith_app_idem {
    char key[KITH_CRYPTO_HASH_HEX + KITH_ENGINE_IDEM_KEY_MAX + 2];
    UT_hash_handle hh;
};

struct call {
    struct kith_app *a;
    struct kith_http_request *req;
    const struct kith_app_route *route;
    struct kith_engine_request rq;
    struct kith_engine_answer ans;
    json_t *body; /* parsed here, taken by the job (rq.parsed) */
    char token[256];
    char session[128];
    char hub_token[KITH_HUB_TOKEN_MAX + 1];
    char idem[KITH_ENGINE_IDEM_KEY_MAX + 1];
    char idem_slot[sizeof(((struct kith_app_idem *)0)->key)];
};

static const char *request_header(const void *ctx, const char *name)
{
    return kith_http_header(ctx, name);
}

static enum kith_status call_job(struct kith_tx *tx, void *arg)
{
    struct call *c = arg;
    return kith_engine_call(tx, &c->a->eng, &c->rq, &c->ans);
}

static void respond(struct call *c)
{
    struct kith_http_header h[9];
    char disposition[192];
    size_t n = 0;
    h[n++] = (struct kith_http_header){"Content-Type", c->ans.content_type ? c->ans.content_type
                                                                           : "application/json"};
    if (c->ans.filename[0]) {
        snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", c->ans.filename);
        h[n++] = (struct kith_http_header){"Content-Disposition", disposition};
    }
    if (c->ans.set_cookie[0]) {
        h[n++] = (struct kith_http_header){"Set-Cookie", c->ans.set_cookie};
        h[n++] = (struct kith_http_header){"Cache-Control", "no-store"};
    }
    if (c->ans.allow_origin[0]) {
        h[n++] = (struct kith_http_header){"Access-Control-Allow-Origin", c->ans.allow_origin};
        h[n++] = (struct kith_http_header){"Vary", "Origin"};
    } else if (c->rq.cors) {
        h[n++] = (struct kith_http_header){"Vary", "Origin"}; /* the answer depends on it */
    }
    if (c->ans.replayed)
        h[n++] = (struct kith_http_header){"Idempotent-Replayed", "true"};
    if (c->ans.code == 503 || c->ans.code == 429)
        h[n++] = (struct kith_http_header){"Retry-After", "1"};
    kith_http_respond(c->req, c->ans.code, h, n, c->ans.body, strlen(c->ans.body));
}

static void call_done(void *arg, enum kith_status st)
{
    struct call *c = arg;
    struct kith_app *a = c->a;
    if (c->idem_slot[0]) {
        struct kith_app_idem *e = NULL;
        HASH_FIND_STR(a->api.inflight, c->idem_slot, e);
        if (e) {
            HASH_DEL(a->api.inflight, e);
            free(e);
        }
    }
    if (st == KITH_OK)
        kith_engine_answer_text(&c->ans); /* on the loop thread, off the store's */
    if (st != KITH_OK || c->ans.body == NULL) {
        struct kith_err err;
        a->store_errors++;
        kith_err_set(&err, KITH_E_UNAVAILABLE, NULL, "the database is not available; retry");
        kith_engine_answer_dispose(&c->ans);
        c->ans.code = kith_http_status_for(KITH_E_UNAVAILABLE);
        c->ans.body = kith_engine_error_json(KITH_E_UNAVAILABLE, &err);
        c->ans.replayed = false;
        c->ans.content_type = NULL;
        c->ans.filename[0] = '\0';
    } else {
        if (c->ans.invalidates_links) {
            kith_app_links_clear(a);
            kith_app_cors_clear(a);
            kith_engine_settings_changed(); /* committed now: no job can cache old settings */
        }
        if (c->route->flags & KITH_APP_ROUTE_NEW_CODES)
            kith_app_links_clear_unknown(a);
    }
    if (c->route->flags & KITH_APP_ROUTE_KICKS) {
        kith_app_deliver_kick(a); /* retries that came due on the test clock start now */
        kith_app_fulfil_kick(a);
    }
    kith_app_observe(a, c->route->name, c->ans.code, c->req->started_ns);
    respond(c);
    kith_engine_answer_dispose(&c->ans);
    json_decref(c->body); /* NULL unless the job never ran */
    free(c);
}

/* The key a client presents: `Authorization: Bearer <key>`, or a share-hub link's token:
 * `Authorization: Hub <token>` (section 20; *hub set, token in hub_out). */
static void bearer_token(const struct kith_http_request *req, char *out, size_t outsize,
                         char *hub_out, size_t hub_size, bool *hub)
{
    const char *auth = kith_http_header(req, "Authorization");
    out[0] = '\0';
    *hub = false;
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *t = auth + 7;
        while (*t == ' ')
            t++;
        kith_strlcpy(out, t, outsize);
    } else if (auth && strncasecmp(auth, "Hub ", 4) == 0) {
        const char *t = auth + 4;
        while (*t == ' ')
            t++;
        *hub = true;
        if (strlen(t) < hub_size) /* a longer one is no token of ours: "" never matches */
            kith_strlcpy(hub_out, t, hub_size);
    }
}

/* The dashboard's session (section 21): the kith_session cookie, "" when absent. */
static void session_cookie(const struct kith_http_request *req, char *out, size_t outsize)
{
    const char *cookie = kith_http_header(req, "Cookie");
    out[0] = '\0';
    for (const char *p = cookie; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, "kith_session=", 13) == 0) {
            p += 13;
            size_t n = strcspn(p, "; ");
            if (n < outsize) {
                memcpy(out, p, n);
                out[n] = '\0';
            }
            return;
        }
        p = strchr(p, ';');
    }
}

/* Registers the call's Idempotency-Key as in flight here; false when it already is (or the key
 * is malformed), after answering. */
static bool idem_claim(struct kith_app *a, struct call *c)
{
    const char *idem = kith_http_header(c->req, "Idempotency-Key");
    if (idem == NULL || c->req->method != KITH_HTTP_POST || c->route->scope == KITH_SCOPE_SIGNED ||
        c->route->scope == KITH_SCOPE_PUBLIC)
        return true;
    if (!kith_engine_idem_key_valid(idem)) {
        kith_http_respond_error(c->req, KITH_E_INVALID_PARAM, "Idempotency-Key",
                                "Idempotency-Key must be 1-255 printable ASCII characters");
        return false;
    }
    kith_strlcpy(c->idem, idem, sizeof(c->idem));
    c->rq.idem_key = c->idem;
    /* In flight is scoped by the credential presented; the stored record by the key's id. */
    char digest[KITH_CRYPTO_HASH_HEX];
    const char *who = c->rq.hub_token ? c->rq.hub_token : c->token[0] ? c->token : c->session;
    kith_crypto_hash(who, strlen(who), digest);
    char slot[sizeof(c->idem_slot)];
    snprintf(slot, sizeof(slot), "%s:%s", digest, c->idem);
    struct kith_app_idem *e = NULL;
    HASH_FIND_STR(a->api.inflight, slot, e);
    if (e) {
        kith_http_respond_error(c->req, KITH_E_IDEM_IN_USE, "Idempotency-Key",
                                "a request with this Idempotency-Key is still running");
        return false;
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        abort();
    kith_strlcpy(e->key, slot, sizeof(e->key));
    HASH_ADD_STR(a->api.inflight, key, e);
    kith_strlcpy(c->idem_slot, slot, sizeof(c->idem_slot));
    return true;
}

void kith_app_api_handle(struct kith_http_request *req, void *ctx)
{
    struct kith_app *a = ctx;
    const struct kith_app_route *route = req->route_data;
    struct call *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->a = a;
    c->req = req;
    c->route = route;
    bool hub = false;
    if (route->scope != KITH_SCOPE_SIGNED)
        bearer_token(req, c->token, sizeof(c->token), c->hub_token, sizeof(c->hub_token), &hub);
    session_cookie(req, c->session, sizeof(c->session));
    c->rq = (struct kith_engine_request){
        .op = route->op,
        .scope = route->scope,
        .json_body = (route->flags & KITH_APP_ROUTE_BODY) != 0,
        .token = c->token,
        .hub_token = hub ? c->hub_token : NULL,
        .cors = kith_app_cors_route(route),
        .path = req->path,
        .query = req->query,
        .params = req->params,
        .body = req->body,
        .body_len = req->body_len,
        .header = request_header,
        .header_ctx = req,
        .code_of = kith_http_status_for,
        .session = c->session,
        .csrf = kith_http_header(req, "X-Kith-CSRF"),
        .safe_method = req->method == KITH_HTTP_GET || req->method == KITH_HTTP_HEAD ||
                       req->method == KITH_HTTP_OPTIONS,
        .reviewer_ok = (route->flags & KITH_APP_ROUTE_REVIEWER) != 0,
        .text_later = true,
    };
    if (!idem_claim(a, c)) {
        free(c);
        return;
    }
    /* Parsed on the loop thread: the store's thread is the bottleneck. */
    if (c->rq.json_body) {
        c->body = kith_engine_parse_body(req->body, req->body_len);
        c->rq.parsed = &c->body;
    }
    kith_app_submit(a, call_job, call_done, c);
}

void kith_app_api_dispose(struct kith_app *a)
{
    struct kith_app_idem *e, *t;
    HASH_ITER(hh, a->api.inflight, e, t)
    {
        HASH_DEL(a->api.inflight, e);
        free(e);
    }
}
