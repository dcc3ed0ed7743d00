/*
 * api.c: the contract's routes. An API call becomes one store job: authenticate, check the
 * Idempotency-Key, parse the body, run the engine operation under a savepoint, render the answer
 * and (for idempotent calls) store it, all in the transaction that commits the effect. The answer
 * leaves only after that commit. The redirect path never waits on the database for a known code:
 * codes are cached on the loop thread and clicks are written in batches (durable within 200 ms).
 * No business rule lives here: statuses come from the engine, HTTP codes from one table.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uthash.h>

#include "kith/app.h"
#include "kith/clock.h"
#include "kith/codes.h"
#include "kith/crypto.h"
#include "kith/data.h"
#include "kith/engine.h"
#include "kith/fraud.h"
#include "kith/http.h"
#include "kith/log.h"
#include "kith/store.h"
#include "kith/webhooks.h"

#define CLICK_FLUSH_MS 200
#define CLICK_BATCH_MAX 4096
/* Clicks handed to the store and not yet written. Past this the database is not keeping up:
 * redirects go on (with `ref`, which attributes by itself) but without a cookie or a click
 * record, counted in kith_clicks_shed_total, instead of growing memory without bound. */
#define CLICK_BACKLOG_MAX 250000
#define LINK_CACHE_MAX 1000000
#define IDEM_KEY_MAX 255

enum route_flags {
    R_SECRET = 1,      /* needs a secret key */
    R_PUBLISHABLE = 2, /* a publishable key is enough */
    R_BODY = 4,        /* takes a JSON body */
    R_PUBLIC = 8,      /* no API key: authenticated by a signature over the raw body */
};

struct prog_entry {
    char id[48];
    char destination[2048];
    int64_t cookie_days;
    UT_hash_handle hh;
};

/* Another instance may block a participant: cached answers live 10 s (attribution itself always
 * checks the referrer's status in the database, so a stale entry never credits a blocked one). */
#define LINK_TTL_NS (10 * UINT64_C(1000000000))

struct link_entry {
    uint64_t loaded_ns;
    char norm[KITH_CODE_NORM_MAX + 1];
    char code[16];
    char participant[KITH_ID_MAX];
    bool attributes;
    struct prog_entry *prog;
    UT_hash_handle hh;
};

struct idem_entry {
    char key[KITH_CRYPTO_HASH_HEX + IDEM_KEY_MAX + 2];
    UT_hash_handle hh;
};

struct counter {
    char name[96];
    uint64_t count;
    UT_hash_handle hh;
};

/* Request latency per route, as a Prometheus histogram. */
static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define LATENCY_BUCKETS (sizeof(latency_bounds) / sizeof(latency_bounds[0]))

struct histogram {
    char route[64];
    uint64_t buckets[LATENCY_BUCKETS]; /* non-cumulative; summed when printed */
    uint64_t count;
    double sum;
    UT_hash_handle hh;
};

struct app {
    uv_loop_t *loop;
    struct kith_store *store;
    struct kith_engine eng;
    struct kith_http_server *srv;
    struct link_entry *links;
    struct prog_entry *progs;
    size_t link_count;
    struct idem_entry *inflight;
    struct kith_click *clicks;
    size_t click_count;
    uv_timer_t click_timer;
    uv_timer_t sweep_timer;
    bool sweeping;
    uv_signal_t sigterm, sigint;
    bool stopping;
    struct counter *counters;
    struct histogram *latencies;
    uint64_t clicks_recorded, clicks_lost, clicks_shed, bots_seen, store_errors;
    size_t clicks_inflight;
    /* outgoing webhooks and e-mail */
    struct kith_netpolicy *policy;
    struct kith_sender *sender;
    uv_timer_t deliver_timer;
    bool claiming;
    char smtp_url[512];
    char smtp_from[256];
    uint64_t deliveries_ok, deliveries_failed, mails_sent, mails_failed;
    struct attempt *attempts;
};

/* ---- counters for /metrics ---- */

static void observe(struct app *a, const char *route, uint64_t started_ns)
{
    struct histogram *h = NULL;
    HASH_FIND_STR(a->latencies, route, h);
    if (h == NULL) {
        h = calloc(1, sizeof(*h));
        if (h == NULL)
            abort();
        kith_strlcpy(h->route, route, sizeof(h->route));
        HASH_ADD_STR(a->latencies, route, h);
    }
    double s = (double)(kith_clock_mono_ns() - started_ns) / 1e9;
    size_t i = 0;
    while (i < LATENCY_BUCKETS && s > latency_bounds[i])
        i++;
    if (i < LATENCY_BUCKETS)
        h->buckets[i]++;
    h->count++;
    h->sum += s;
}

static void count(struct app *a, const char *route, int status)
{
    char name[96];
    snprintf(name, sizeof(name), "route=\"%s\",status=\"%d\"", route, status);
    struct counter *c = NULL;
    HASH_FIND_STR(a->counters, name, c);
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL)
            abort();
        kith_strlcpy(c->name, name, sizeof(c->name));
        HASH_ADD_STR(a->counters, name, c);
    }
    c->count++;
}

/* ---- clicks ---- */

struct click_batch {
    struct app *a;
    struct kith_click *clicks;
    size_t n;
};

static enum kith_status click_job(struct kith_tx *tx, void *arg)
{
    struct click_batch *b = arg;
    return kith_engine_clicks_write(tx, b->clicks, b->n);
}

static void click_done(void *arg, enum kith_status st)
{
    struct click_batch *b = arg;
    b->a->clicks_inflight -= b->n;
    if (st != KITH_OK) {
        b->a->clicks_lost += b->n;
        b->a->store_errors++;
        kith_log_error("clicks", "msg=\"click batch not stored\" clicks=%zu", b->n);
    } else {
        b->a->clicks_recorded += b->n;
    }
    free(b->clicks);
    free(b);
}

/* Hands buffered clicks to the store; called before every other job so order is kept. */
static void clicks_flush(struct app *a)
{
    if (a->click_count == 0)
        return;
    struct click_batch *b = calloc(1, sizeof(*b));
    if (b == NULL)
        abort();
    b->a = a;
    b->clicks = a->clicks;
    b->n = a->click_count;
    a->clicks_inflight += b->n;
    a->clicks = NULL;
    a->click_count = 0;
    kith_store_submit_barrier(a->store, click_job, click_done, b);
}

static void on_click_timer(uv_timer_t *t)
{
    clicks_flush(t->data);
    fflush(stderr); /* the access log is written in blocks, not a write(2) per request */
}

static void submit(struct app *a, kith_store_job_fn fn, kith_store_done_fn done, void *arg)
{
    clicks_flush(a);
    kith_store_submit(a->store, fn, done, arg);
}

/* ---- API calls ---- */

struct api_call {
    struct app *a;
    struct kith_http_request *req;
    kith_op_fn op;
    unsigned flags;
    char token[256];
    char idem[IDEM_KEY_MAX + 1];
    char idem_slot[sizeof(((struct idem_entry *)0)->key)];
    bool has_idem;
    /* results, written on the store thread, read on the loop after completion */
    int status;
    char *body;
    bool replayed;
    bool invalidates_links;
};

static char *error_body(enum kith_status st, const struct kith_err *err)
{
    json_t *e = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", kith_status_code(st), "message",
                          err->message[0] ? err->message : kith_status_code(st), "param",
                          err->param[0] ? json_string(err->param) : json_null());
    char *text = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    return text;
}

static void set_error(struct api_call *c, enum kith_status st, const char *param,
                      const char *message)
{
    struct kith_err err;
    kith_err_set(&err, st, param, "%s", message);
    c->status = kith_http_status_for(st);
    free(c->body);
    c->body = error_body(st, &err);
}

static bool validation_error(enum kith_status st)
{
    return st == KITH_E_INVALID_JSON || st == KITH_E_INVALID_PARAM || st == KITH_E_IMMUTABLE;
}

static const char *request_header(const void *ctx, const char *name)
{
    return kith_http_header(ctx, name);
}

static void deliver_kick(struct app *a);

static enum kith_status api_job(struct kith_tx *tx, void *arg)
{
    struct api_call *c = arg;
    struct kith_http_request *req = c->req;
    char key_id[KITH_ID_MAX] = "", req_hash[KITH_CRYPTO_HASH_HEX];
    enum kith_key_kind kind;
    struct kith_err err = {{0}, {0}};
    json_t *body = NULL, *out = NULL;
    enum kith_status st;

    /* A job may run again (a PostgreSQL serialization retry): start from a clean answer. */
    free(c->body);
    c->body = NULL;
    c->replayed = false;
    if (c->flags & R_PUBLIC) {
        kith_strlcpy(key_id, "public", sizeof(key_id));
        goto run;
    }
    st = kith_engine_authenticate(tx, &c->a->eng, c->token, key_id, &kind);
    if (st == KITH_E_UNAUTHORIZED) {
        set_error(c, st, NULL, "a valid API key is required: Authorization: Bearer <key>");
        return KITH_OK;
    }
    if (st != KITH_OK) {
        set_error(c, KITH_E_UNAVAILABLE, NULL, "the database is not available; retry");
        return KITH_OK;
    }
    if (kind == KITH_KEY_PUBLISHABLE && !(c->flags & R_PUBLISHABLE)) {
        set_error(c, KITH_E_FORBIDDEN, NULL, "this route needs a secret key (sk_...)");
        return KITH_OK;
    }

    if (c->has_idem) {
        /* The request's fingerprint: what it asks, not who relays it. */
        size_t plen = strlen(req->path), n = plen + 2 + req->body_len;
        char *buf = malloc(n);
        if (buf == NULL)
            abort();
        memcpy(buf, req->path, plen);
        buf[plen] = '\n';
        memcpy(buf + plen + 1, req->body, req->body_len);
        kith_crypto_hash(buf, plen + 1 + req->body_len, req_hash);
        free(buf);
        /* In flight on another instance: the database holds the lock until that commit. */
        char lock_key[KITH_ID_MAX + IDEM_KEY_MAX + 2];
        json_t *row = NULL, *args;
        snprintf(lock_key, sizeof(lock_key), "%s:%s", key_id, c->idem);
        args = json_pack("[s]", lock_key);
        st = kith_store_query_one(tx, KITH_Q_IDEM_LOCK, args, &row);
        json_decref(args);
        bool locked = st == KITH_OK && json_integer_value(json_object_get(row, "locked")) != 0;
        json_decref(row);
        row = NULL;
        if (!locked) {
            if (st == KITH_OK)
                set_error(c, KITH_E_IDEM_IN_USE, "Idempotency-Key",
                          "a request with this Idempotency-Key is still running");
            else
                set_error(c, KITH_E_UNAVAILABLE, NULL, "the database is not available; retry");
            return KITH_OK;
        }
        args = json_pack("[ss]", key_id, c->idem);
        st = kith_store_query_one(tx, KITH_Q_IDEM_GET, args, &row);
        json_decref(args);
        if (st == KITH_OK && json_integer_value(json_object_get(row, "created_at")) >=
                                 kith_clock_now_ms() - 86400000) {
            if (strcmp(json_string_value(json_object_get(row, "request_hash")), req_hash) == 0) {
                c->status = (int)json_integer_value(json_object_get(row, "status"));
                c->body = strdup(json_string_value(json_object_get(row, "body")));
                c->replayed = true;
            } else {
                set_error(c, KITH_E_IDEM_REUSED, "Idempotency-Key",
                          "this Idempotency-Key was used with a different request");
            }
            json_decref(row);
            return KITH_OK;
        }
        json_decref(row);
        if (st != KITH_OK && st != KITH_E_NOT_FOUND) {
            set_error(c, KITH_E_UNAVAILABLE, NULL, "the database is not available; retry");
            return KITH_OK;
        }
    }

    if (c->flags & R_BODY) {
        json_error_t jerr;
        if (req->body_len == 0) {
            body = json_object();
        } else {
            body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
            if (body == NULL) {
                char msg[200];
                snprintf(msg, sizeof(msg), "the body is not valid JSON: %s", jerr.text);
                set_error(c, KITH_E_INVALID_JSON, NULL, msg);
                return KITH_OK;
            }
            if (!json_is_object(body)) {
                json_decref(body);
                set_error(c, KITH_E_INVALID_JSON, NULL, "the body must be a JSON object");
                return KITH_OK;
            }
        }
    }

run:;
    struct kith_call call = {
        .eng = &c->a->eng,
        .params = req->params,
        .query = req->query,
        .body = body,
        .key_id = key_id,
        .now_ms = kith_clock_now_ms(),
        .raw_body = req->body,
        .raw_len = req->body_len,
        .header = request_header,
        .header_ctx = req,
    };
    if ((st = kith_tx_savepoint(tx)) != KITH_OK) {
        json_decref(body);
        set_error(c, KITH_E_UNAVAILABLE, NULL, "the database is not available; retry");
        return KITH_OK;
    }
    st = c->op(tx, &call, &out, &err);
    if (st == KITH_OK || st == KITH_CREATED) {
        kith_tx_release(tx);
        c->status = kith_http_status_for(st);
        c->body = json_dumps(out ? out : json_null(), JSON_COMPACT);
        c->invalidates_links = call.invalidates_links;
    } else {
        kith_tx_rollback(tx);
        if (st == KITH_E_CONSTRAINT)
            st = KITH_E_UNAVAILABLE;
        c->status = kith_http_status_for(st);
        c->body = error_body(st, &err);
    }
    json_decref(out);
    json_decref(body);

    /* Store the answer in the same transaction, except validation failures and outages. */
    if (c->has_idem && !validation_error(st) && c->status < 500) {
        json_t *args = json_pack("[sssisI]", key_id, c->idem, req_hash, c->status, c->body,
                                 (json_int_t)call.now_ms);
        enum kith_status ist = kith_store_exec(tx, KITH_Q_IDEM_PUT, args, NULL);
        json_decref(args);
        if (ist != KITH_OK)
            return KITH_E_UNAVAILABLE; /* the whole job rolls back: nothing half-done */
    }
    return KITH_OK;
}

static void api_respond(struct api_call *c)
{
    struct kith_http_header h[3];
    size_t n = 0;
    h[n++] = (struct kith_http_header){"Content-Type", "application/json"};
    if (c->replayed)
        h[n++] = (struct kith_http_header){"Idempotent-Replayed", "true"};
    if (c->status == 503 || c->status == 429)
        h[n++] = (struct kith_http_header){"Retry-After", "1"};
    kith_http_respond(c->req, c->status, h, n, c->body, strlen(c->body));
}

static void link_cache_clear(struct app *a)
{
    struct link_entry *l, *lt;
    HASH_ITER(hh, a->links, l, lt)
    {
        HASH_DEL(a->links, l);
        free(l);
    }
    struct prog_entry *p, *pt;
    HASH_ITER(hh, a->progs, p, pt)
    {
        HASH_DEL(a->progs, p);
        free(p);
    }
    a->link_count = 0;
}

static void api_done(void *arg, enum kith_status st)
{
    struct api_call *c = arg;
    struct app *a = c->a;
    if (c->has_idem) {
        struct idem_entry *e = NULL;
        HASH_FIND_STR(a->inflight, c->idem_slot, e);
        if (e) {
            HASH_DEL(a->inflight, e);
            free(e);
        }
    }
    if (st != KITH_OK || c->body == NULL) {
        a->store_errors++;
        set_error(c, KITH_E_UNAVAILABLE, NULL, "the database is not available; retry");
    }
    if (c->invalidates_links && st == KITH_OK)
        link_cache_clear(a);
    if (c->op == kith_op_clock_set)
        deliver_kick(a); /* retries that came due on the test clock start now */
    count(a, c->req->route_name ? c->req->route_name : "-", c->status);
    observe(a, c->req->route_name ? c->req->route_name : "-", c->req->started_ns);
    api_respond(c);
    free(c->body);
    free(c);
}

static bool idem_key_valid(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > IDEM_KEY_MAX)
        return false;
    for (; *k; k++) {
        if (*k < 0x21 || *k > 0x7e)
            return false;
    }
    return true;
}

static void api_dispatch(struct kith_http_request *req, void *ctx, kith_op_fn op, unsigned flags)
{
    struct app *a = ctx;
    struct api_call *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->a = a;
    c->req = req;
    c->op = op;
    c->flags = flags;
    const char *auth = kith_http_header(req, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *t = auth + 7;
        while (*t == ' ')
            t++;
        kith_strlcpy(c->token, t, sizeof(c->token));
    }
    const char *idem = kith_http_header(req, "Idempotency-Key");
    if (idem && req->method == KITH_HTTP_POST && !(flags & R_PUBLIC)) {
        if (!idem_key_valid(idem)) {
            kith_http_respond_error(req, KITH_E_INVALID_PARAM, "Idempotency-Key",
                                    "Idempotency-Key must be 1-255 printable ASCII characters");
            free(c);
            return;
        }
        kith_strlcpy(c->idem, idem, sizeof(c->idem));
        c->has_idem = true;
        /* In flight is scoped by the credential presented; the stored record by the key's id. */
        char digest[KITH_CRYPTO_HASH_HEX];
        kith_crypto_hash(c->token, strlen(c->token), digest);
        snprintf(c->idem_slot, sizeof(c->idem_slot), "%s:%s", digest, c->idem);
        struct idem_entry *e = NULL;
        HASH_FIND_STR(a->inflight, c->idem_slot, e);
        if (e) {
            kith_http_respond_error(req, KITH_E_IDEM_IN_USE, "Idempotency-Key",
                                    "a request with this Idempotency-Key is still running");
            free(c);
            return;
        }
        e = calloc(1, sizeof(*e));
        if (e == NULL)
            abort();
        kith_strlcpy(e->key, c->idem_slot, sizeof(e->key));
        HASH_ADD_STR(a->inflight, key, e);
    }
    submit(a, api_job, api_done, c);
}

#define API(name, op, flags)                                                                       \
    static void h_##name(struct kith_http_request *req, void *ctx)                                 \
    {                                                                                              \
        api_dispatch(req, ctx, op, flags);                                                         \
    }

API(program_create, kith_op_program_create, R_SECRET | R_BODY)
API(program_list, kith_op_program_list, R_SECRET)
API(program_get, kith_op_program_get, R_SECRET)
API(program_update, kith_op_program_update, R_SECRET | R_BODY)
API(participant_create, kith_op_participant_create, R_SECRET | R_BODY)
API(participant_list, kith_op_participant_list, R_SECRET)
API(participant_get, kith_op_participant_get, R_SECRET)
API(participant_update, kith_op_participant_update, R_SECRET | R_BODY)
API(participant_add_code, kith_op_participant_add_code, R_SECRET | R_BODY)
API(participant_export, kith_op_participant_export, R_SECRET)
API(participant_erase, kith_op_participant_erase, R_SECRET | R_BODY)
API(signup, kith_op_signup, R_SECRET | R_BODY)
API(referral_list, kith_op_referral_list, R_SECRET)
API(referral_get, kith_op_referral_get, R_SECRET)
API(referral_approve, kith_op_referral_approve, R_SECRET | R_BODY)
API(referral_reject, kith_op_referral_reject, R_SECRET | R_BODY)
API(event_create, kith_op_event_create, R_SECRET | R_BODY)
API(reward_list, kith_op_reward_list, R_SECRET)
API(reward_get, kith_op_reward_get, R_SECRET)
API(reward_redeem, kith_op_reward_redeem, R_SECRET | R_BODY)
API(reward_void, kith_op_reward_void, R_SECRET | R_BODY)
API(endpoint_create, kith_op_endpoint_create, R_SECRET | R_BODY)
API(endpoint_list, kith_op_endpoint_list, R_SECRET)
API(endpoint_get, kith_op_endpoint_get, R_SECRET)
API(endpoint_update, kith_op_endpoint_update, R_SECRET | R_BODY)
API(endpoint_delete, kith_op_endpoint_delete, R_SECRET)
API(endpoint_deliveries, kith_op_endpoint_deliveries, R_SECRET)
API(endpoint_retry, kith_op_endpoint_retry, R_SECRET | R_BODY)
API(participant_notifications, kith_op_participant_notifications, R_SECRET)
API(participant_share, kith_op_participant_share, R_SECRET)
API(stripe, kith_op_stripe, R_PUBLIC)
API(shopify, kith_op_shopify, R_PUBLIC)
API(metrics_api, kith_op_metrics, R_SECRET)
API(leaderboard, kith_op_leaderboard, R_SECRET | R_PUBLISHABLE)
API(clock_get, kith_op_clock_get, R_SECRET)
API(clock_set, kith_op_clock_set, R_SECRET | R_BODY)

/* ---- the redirect path ---- */

struct link_lookup {
    struct app *a;
    struct kith_http_request *req;
    char code[40];
    struct kith_link link;
    enum kith_status st;
};

static const char not_found_page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Link not found</title></head>"
    "<body><h1>This link doesn't lead anywhere</h1><p>The code in this link is not one we know. "
    "Please check it with the person who shared it.</p></body></html>\n";

static void referrer_host(const char *referer, char *out, size_t outsize)
{
    out[0] = '\0';
    if (referer == NULL)
        return;
    const char *p = strstr(referer, "://");
    if (p == NULL)
        return;
    p += 3;
    const char *at = NULL;
    size_t n = 0;
    while (p[n] && p[n] != '/' && p[n] != '?' && p[n] != '#') {
        if (p[n] == '@')
            at = p + n;
        n++;
    }
    if (at) { /* drop user:password@ */
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t o = 0;
    for (size_t i = 0; i < n && p[i] != ':' && o + 1 < outsize; i++) {
        char ch = p[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.')) {
            out[0] = '\0';
            return;
        }
        out[o++] = ch;
    }
    out[o] = '\0';
}

static bool channel_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 20)
        return false;
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    }
    return true;
}

static void redirect(struct app *a, struct kith_http_request *req, const struct link_entry *l)
{
    const char *dest = l->prog->destination;
    char location[2200], cookie[160];
    const char *ua = kith_http_header(req, "User-Agent");
    bool bot = kith_engine_is_bot(ua);
    bool counted = l->attributes && !bot && req->method == KITH_HTTP_GET;
    if (counted && a->clicks_inflight + a->click_count >= CLICK_BACKLOG_MAX) {
        counted = false;
        if (a->clicks_shed++ % 10000 == 0)
            kith_log_warn("clicks", "msg=\"the database is behind; clicks shed\" shed=%llu",
                          (unsigned long long)a->clicks_shed);
    }
    struct kith_http_header h[4];
    size_t n = 0;

    if (l->attributes) {
        const char *hash = strchr(dest, '#');
        size_t base = hash ? (size_t)(hash - dest) : strlen(dest);
        const char *q = memchr(dest, '?', base);
        char sep =
            q ? (base > 0 && (dest[base - 1] == '?' || dest[base - 1] == '&') ? 0 : '&') : '?';
        if (sep)
            snprintf(location, sizeof(location), "%.*s%cref=%s%s", (int)base, dest, sep, l->code,
                     hash ? hash : "");
        else
            snprintf(location, sizeof(location), "%.*sref=%s%s", (int)base, dest, l->code,
                     hash ? hash : "");
    } else {
        kith_strlcpy(location, dest, sizeof(location));
    }
    h[n++] = (struct kith_http_header){"Location", location};
    h[n++] = (struct kith_http_header){"Cache-Control", "no-store"};
    if (bot)
        a->bots_seen++;
    if (counted) {
        if (a->clicks == NULL) {
            a->clicks = calloc(CLICK_BATCH_MAX, sizeof(*a->clicks));
            if (a->clicks == NULL)
                abort();
        }
        struct kith_click *c = &a->clicks[a->click_count++];
        memset(c, 0, sizeof(*c));
        c->at_ms = kith_clock_now_ms();
        kith_crypto_time_id("clk_", c->at_ms, c->id);
        kith_strlcpy(c->program, l->prog->id, sizeof(c->program));
        kith_strlcpy(c->participant, l->participant, sizeof(c->participant));
        kith_strlcpy(c->code, l->code, sizeof(c->code));
        char ch[32];
        if (kith_http_query_get(req->query, "ch", ch, sizeof(ch)) == 1 && channel_valid(ch))
            kith_strlcpy(c->channel, ch, sizeof(c->channel));
        referrer_host(kith_http_header(req, "Referer"), c->referrer_host, sizeof(c->referrer_host));
        kith_crypto_keyed_hash(a->eng.hash_key, req->peer_ip, strlen(req->peer_ip), c->ip_hash);
        if (ua)
            kith_crypto_keyed_hash(a->eng.hash_key, ua, strlen(ua), c->ua_hash);
        snprintf(cookie, sizeof(cookie),
                 "kith_ref=%s; Max-Age=%lld; Path=/; HttpOnly; SameSite=Lax%s", c->id,
                 (long long)(l->prog->cookie_days * 86400),
                 a->eng.secure_cookies ? "; Secure" : "");
        h[n++] = (struct kith_http_header){"Set-Cookie", cookie};
        if (a->click_count >= CLICK_BATCH_MAX)
            clicks_flush(a);
    }
    count(a, "links.redirect", 302);
    observe(a, "links.redirect", req->started_ns);
    kith_http_respond(req, 302, h, n, "", 0);
}

static void link_not_found(struct app *a, struct kith_http_request *req)
{
    struct kith_http_header h[] = {{"Content-Type", "text/html; charset=utf-8"},
                                   {"Cache-Control", "no-store"}};
    count(a, "links.redirect", 404);
    observe(a, "links.redirect", req->started_ns);
    kith_http_respond(req, 404, h, 2, not_found_page, sizeof(not_found_page) - 1);
}

static enum kith_status lookup_job(struct kith_tx *tx, void *arg)
{
    struct link_lookup *l = arg;
    l->st = kith_engine_link_resolve(tx, l->code, &l->link);
    return KITH_OK;
}

static struct link_entry *cache_put(struct app *a, const char *norm, const struct kith_link *k)
{
    struct prog_entry *p = NULL;
    if (a->link_count >= LINK_CACHE_MAX)
        link_cache_clear(a); /* bounded memory; the working set refills quickly */
    HASH_FIND_STR(a->progs, k->program, p);
    if (p == NULL) {
        p = calloc(1, sizeof(*p));
        if (p == NULL)
            abort();
        kith_strlcpy(p->id, k->program, sizeof(p->id));
        HASH_ADD_STR(a->progs, id, p);
    }
    /* Every lookup brings the program's current settings (another instance may change them). */
    kith_strlcpy(p->destination, k->destination, sizeof(p->destination));
    p->cookie_days = k->cookie_days;
    struct link_entry *l = NULL;
    HASH_FIND_STR(a->links, norm, l);
    if (l == NULL) {
        l = calloc(1, sizeof(*l));
        if (l == NULL)
            abort();
        kith_strlcpy(l->norm, norm, sizeof(l->norm));
        HASH_ADD_STR(a->links, norm, l);
        a->link_count++;
    }
    kith_strlcpy(l->code, k->code, sizeof(l->code));
    kith_strlcpy(l->participant, k->participant, sizeof(l->participant));
    l->attributes = k->attributes;
    l->loaded_ns = kith_clock_mono_ns();
    l->prog = p;
    return l;
}

static void lookup_done(void *arg, enum kith_status st)
{
    struct link_lookup *l = arg;
    if (st != KITH_OK || (l->st != KITH_OK && l->st != KITH_E_NOT_FOUND)) {
        kith_http_respond_error(l->req, KITH_E_UNAVAILABLE, NULL,
                                "the database is not available; retry");
    } else if (l->st == KITH_E_NOT_FOUND) {
        link_not_found(l->a, l->req);
    } else {
        char norm[KITH_CODE_NORM_MAX + 1];
        kith_code_normalize(l->code, norm);
        redirect(l->a, l->req, cache_put(l->a, norm, &l->link));
    }
    free(l);
}

static void h_redirect(struct kith_http_request *req, void *ctx)
{
    struct app *a = ctx;
    char norm[KITH_CODE_NORM_MAX + 1];
    const char *code = req->params[0];
    if (strlen(code) > 32 || !kith_code_normalize(code, norm)) {
        link_not_found(a, req);
        return;
    }
    struct link_entry *l = NULL;
    HASH_FIND_STR(a->links, norm, l);
    if (l && kith_clock_mono_ns() - l->loaded_ns < LINK_TTL_NS) {
        redirect(a, req, l);
        return;
    }
    struct link_lookup *lk = calloc(1, sizeof(*lk));
    if (lk == NULL)
        abort();
    lk->a = a;
    lk->req = req;
    kith_strlcpy(lk->code, code, sizeof(lk->code));
    submit(a, lookup_job, lookup_done, lk);
}

/* ---- health and metrics ---- */

struct health {
    struct app *a;
    struct kith_http_request *req;
    enum kith_status st;
};

static enum kith_status health_job(struct kith_tx *tx, void *arg)
{
    struct health *h = arg;
    json_t *row = NULL, *args = json_array();
    h->st = kith_store_query_one(tx, KITH_Q_HEALTH, args, &row);
    json_decref(args);
    json_decref(row);
    return KITH_OK;
}

static void health_done(void *arg, enum kith_status st)
{
    struct health *h = arg;
    struct kith_http_header hd[] = {{"Content-Type", "application/json"},
                                    {"Cache-Control", "no-store"}};
    if (st == KITH_OK && h->st == KITH_OK) {
        static const char ok[] = "{\"status\":\"ok\"}";
        kith_http_respond(h->req, 200, hd, 2, ok, sizeof(ok) - 1);
    } else {
        static const char bad[] = "{\"status\":\"unavailable\"}";
        struct kith_http_header hb[] = {{"Content-Type", "application/json"}, {"Retry-After", "1"}};
        kith_http_respond(h->req, 503, hb, 2, bad, sizeof(bad) - 1);
    }
    free(h);
}

static void h_healthz(struct kith_http_request *req, void *ctx)
{
    struct health *h = calloc(1, sizeof(*h));
    if (h == NULL)
        abort();
    h->a = ctx;
    h->req = req;
    submit(ctx, health_job, health_done, h);
}

struct prom {
    struct app *a;
    struct kith_http_request *req;
    json_t *referrals;
};

static enum kith_status prom_job(struct kith_tx *tx, void *arg)
{
    struct prom *p = arg;
    json_t *args = json_array();
    if (kith_store_query(tx, KITH_Q_REFERRALS_BY_STATUS, args, &p->referrals) != KITH_OK)
        p->referrals = NULL;
    json_decref(args);
    return KITH_OK;
}

static void prom_done(void *arg, enum kith_status st)
{
    struct prom *p = arg;
    struct app *a = p->a;
    size_t cap = 8192 + HASH_COUNT(a->counters) * 160 + HASH_COUNT(a->latencies) * 2048, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        abort();
#define EMIT(...) (len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, __VA_ARGS__))
    EMIT("# HELP kith_http_responses_total Responses by route and status.\n"
         "# TYPE kith_http_responses_total counter\n");
    struct counter *c, *t;
    HASH_ITER(hh, a->counters, c, t)
    {
        EMIT("kith_http_responses_total{%s} %llu\n", c->name, (unsigned long long)c->count);
    }
    EMIT("# HELP kith_http_request_duration_seconds Time from a complete request to its answer.\n"
         "# TYPE kith_http_request_duration_seconds histogram\n");
    struct histogram *h, *ht;
    HASH_ITER(hh, a->latencies, h, ht)
    {
        uint64_t cum = 0;
        for (size_t i = 0; i < LATENCY_BUCKETS; i++) {
            cum += h->buckets[i];
            EMIT("kith_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                 h->route, latency_bounds[i], (unsigned long long)cum);
        }
        EMIT("kith_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", h->route,
             (unsigned long long)h->count);
        EMIT("kith_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", h->route, h->sum);
        EMIT("kith_http_request_duration_seconds_count{route=\"%s\"} %llu\n", h->route,
             (unsigned long long)h->count);
    }
    if (st == KITH_OK && p->referrals) {
        EMIT("# HELP kith_referrals Referrals by status, now.\n# TYPE kith_referrals gauge\n");
        static const char *const statuses[] = {"pending",  "review",   "qualified",
                                               "rewarded", "rejected", "expired"};
        for (size_t i = 0; i < KITH_ARRAY_LEN(statuses); i++) {
            long long n = 0;
            size_t k;
            json_t *r;
            json_array_foreach(p->referrals, k, r)
            {
                if (strcmp(json_string_value(json_object_get(r, "status")), statuses[i]) == 0)
                    n = json_integer_value(json_object_get(r, "n"));
            }
            EMIT("kith_referrals{status=\"%s\"} %lld\n", statuses[i], n);
        }
    }
    EMIT("# HELP kith_clicks_recorded_total Counted clicks written to the database.\n"
         "# TYPE kith_clicks_recorded_total counter\nkith_clicks_recorded_total %llu\n"
         "# HELP kith_clicks_lost_total Counted clicks whose batch failed to commit.\n"
         "# TYPE kith_clicks_lost_total counter\nkith_clicks_lost_total %llu\n"
         "# HELP kith_clicks_buffered Clicks waiting for their batch to be written.\n"
         "# TYPE kith_clicks_buffered gauge\nkith_clicks_buffered %zu\n"
         "# HELP kith_clicks_shed_total Clicks not recorded because the database was behind.\n"
         "# TYPE kith_clicks_shed_total counter\nkith_clicks_shed_total %llu\n"
         "# HELP kith_bot_visits_total Link visits by crawlers and preview bots (not counted).\n"
         "# TYPE kith_bot_visits_total counter\nkith_bot_visits_total %llu\n"
         "# HELP kith_store_errors_total Jobs whose transaction failed.\n"
         "# TYPE kith_store_errors_total counter\nkith_store_errors_total %llu\n"
         "# HELP kith_store_queue_depth Jobs waiting for or in the store thread.\n"
         "# TYPE kith_store_queue_depth gauge\nkith_store_queue_depth %zu\n"
         "# HELP kith_link_cache_entries Codes cached for the redirect path.\n"
         "# TYPE kith_link_cache_entries gauge\nkith_link_cache_entries %zu\n"
         "# HELP kith_webhook_attempts_total Webhook delivery attempts by outcome.\n"
         "# TYPE kith_webhook_attempts_total counter\n"
         "kith_webhook_attempts_total{outcome=\"delivered\"} %llu\n"
         "kith_webhook_attempts_total{outcome=\"failed\"} %llu\n"
         "# HELP kith_emails_total E-mails handed to the SMTP server by outcome.\n"
         "# TYPE kith_emails_total counter\n"
         "kith_emails_total{outcome=\"sent\"} %llu\nkith_emails_total{outcome=\"failed\"} %llu\n"
         "# HELP kith_sender_busy Webhook and e-mail transfers queued or running.\n"
         "# TYPE kith_sender_busy gauge\nkith_sender_busy %zu\n",
         (unsigned long long)a->clicks_recorded, (unsigned long long)a->clicks_lost,
         a->click_count + a->clicks_inflight, (unsigned long long)a->clicks_shed,
         (unsigned long long)a->bots_seen, (unsigned long long)a->store_errors,
         kith_store_pending(a->store), a->link_count, (unsigned long long)a->deliveries_ok,
         (unsigned long long)a->deliveries_failed, (unsigned long long)a->mails_sent,
         (unsigned long long)a->mails_failed, a->sender ? kith_sender_busy(a->sender) : (size_t)0);
#undef EMIT
    struct kith_http_header hd[] = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}};
    kith_http_respond(p->req, 200, hd, 1, buf, len < cap ? len : cap - 1);
    free(buf);
    json_decref(p->referrals);
    free(p);
}

static void h_metrics(struct kith_http_request *req, void *ctx)
{
    struct prom *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    p->a = ctx;
    p->req = req;
    submit(ctx, prom_job, prom_done, p);
}

/* ---- outgoing webhooks and e-mail ---- */

#define DELIVER_POLL_MS 250
#define DELIVER_BATCH 32
#define SENDS_MAX 64

struct claim {
    struct app *a;
    json_t *deliveries;
    json_t *mails;
};

/* One attempt in flight: what its result must be recorded against. */
struct attempt {
    struct app *a;
    char id[KITH_ID_MAX];
    bool mail;
    struct kith_send_result res;
    struct attempt *prev, *next; /* in app.attempts while the sender holds it */
};

static void attempt_track(struct app *a, struct attempt *t)
{
    t->next = a->attempts;
    if (a->attempts)
        a->attempts->prev = t;
    a->attempts = t;
}

static void attempt_untrack(struct app *a, struct attempt *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        a->attempts = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

/* A stopped sender never reports what it had in flight: those stay `sending` in the store
 * (their lease runs out and they are sent again), and their records here are freed. */
static void attempts_drop(struct app *a)
{
    while (a->attempts) {
        struct attempt *t = a->attempts;
        attempt_untrack(a, t);
        free(t);
    }
}

static enum kith_status claim_job(struct kith_tx *tx, void *arg)
{
    struct claim *c = arg;
    /* A retried transaction (PostgreSQL) starts over. */
    json_decref(c->deliveries);
    json_decref(c->mails);
    c->deliveries = c->mails = NULL;
    enum kith_status st =
        kith_engine_deliveries_claim(tx, kith_clock_now_ms(), DELIVER_BATCH, &c->deliveries);
    if (st == KITH_OK && c->a->smtp_url[0])
        st = kith_engine_mail_claim(tx, kith_clock_now_ms(), DELIVER_BATCH, &c->mails);
    return st;
}

static void claim_done(void *arg, enum kith_status st)
{
    struct claim *c = arg;
    struct app *a = c->a;
    a->claiming = false;
    size_t i;
    json_t *r;
    if (st == KITH_OK && a->sender) {
        json_array_foreach(c->deliveries, i, r)
        {
            struct attempt *t = calloc(1, sizeof(*t));
            if (t == NULL)
                abort();
            t->a = a;
            attempt_track(a, t);
            kith_strlcpy(t->id, json_string_value(json_object_get(r, "id")), sizeof(t->id));
            const char *payload = json_string_value(json_object_get(r, "payload"));
            const char *msg = json_string_value(json_object_get(r, "message"));
            int64_t ts = kith_clock_now_ms() / 1000;
            char sig[KITH_WEBHOOK_SIGNATURE_MAX];
            if (kith_webhook_sign(json_string_value(json_object_get(r, "secret")), msg, ts, payload,
                                  strlen(payload), sig) != KITH_OK)
                sig[0] = '\0';
            struct kith_send_request req = {
                .tag = (uint64_t)(uintptr_t)t,
                .url = json_string_value(json_object_get(r, "url")),
                .body = payload,
                .body_len = strlen(payload),
                .msg_id = msg,
                .timestamp_s = ts,
                .signature = sig,
            };
            kith_sender_post(a->sender, &req);
        }
        json_array_foreach(c->mails, i, r)
        {
            struct attempt *t = calloc(1, sizeof(*t));
            if (t == NULL)
                abort();
            t->a = a;
            t->mail = true;
            attempt_track(a, t);
            kith_strlcpy(t->id, json_string_value(json_object_get(r, "id")), sizeof(t->id));
            const char *subject = json_string_value(json_object_get(r, "subject"));
            struct kith_mail_request req = {
                .tag = (uint64_t)(uintptr_t)t,
                .smtp_url = a->smtp_url,
                .from = a->smtp_from,
                .to = json_string_value(json_object_get(r, "email")),
                .subject = subject ? subject : "",
                .body = json_string_value(json_object_get(r, "body")),
            };
            kith_sender_mail(a->sender, &req);
        }
    }
    json_decref(c->deliveries);
    json_decref(c->mails);
    free(c);
}

static void deliver_poll(struct app *a)
{
    if (a->claiming || a->stopping || a->sender == NULL || kith_sender_busy(a->sender) >= SENDS_MAX)
        return;
    struct claim *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->a = a;
    a->claiming = true;
    submit(a, claim_job, claim_done, c);
}

static void on_deliver_timer(uv_timer_t *t)
{
    deliver_poll(t->data);
}

static void deliver_kick(struct app *a)
{
    if (a->sender && !a->stopping)
        uv_timer_start(&a->deliver_timer, on_deliver_timer, 0, DELIVER_POLL_MS);
}

static enum kith_status record_job(struct kith_tx *tx, void *arg)
{
    struct attempt *t = arg;
    if (t->mail)
        return kith_engine_mail_record(tx, t->id, t->res.ok, kith_clock_now_ms());
    return kith_engine_delivery_record(tx, t->id, t->res.http_status, t->res.latency_ms,
                                       t->res.retry_after_s, t->res.ok, t->res.error,
                                       kith_clock_now_ms());
}

static void record_done(void *arg, enum kith_status st)
{
    struct attempt *t = arg;
    if (st != KITH_OK) {
        t->a->store_errors++;
        kith_log_warn("webhooks", "msg=\"attempt not recorded; it will be retried\" id=%s", t->id);
    }
    free(t);
}

static void on_send_result(void *ctx, const struct kith_send_result *res)
{
    struct app *a = ctx;
    struct attempt *t = (struct attempt *)(uintptr_t)res->tag;
    attempt_untrack(a, t);
    t->res = *res;
    if (t->mail)
        res->ok ? a->mails_sent++ : a->mails_failed++;
    else
        res->ok ? a->deliveries_ok++ : a->deliveries_failed++;
    if (a->stopping || a->store == NULL) {
        free(t); /* still `sending` in the store: recovered and retried after restart */
        return;
    }
    submit(a, record_job, record_done, t);
}

static enum kith_status recover_job(struct kith_tx *tx, void *arg)
{
    (void)arg;
    return kith_engine_deliveries_recover(tx);
}

/* ---- sweeper, signals, lifecycle ---- */

static enum kith_status sweep_job(struct kith_tx *tx, void *arg)
{
    struct app *a = arg;
    bool more = false;
    return kith_engine_sweep(tx, &a->eng, kith_clock_now_ms(), &more);
}

static void sweep_done(void *arg, enum kith_status st)
{
    struct app *a = arg;
    a->sweeping = false;
    if (st != KITH_OK) {
        a->store_errors++;
        kith_log_warn("sweeper", "msg=\"sweep failed\" status=%s", kith_status_code(st));
    }
}

static void on_sweep_timer(uv_timer_t *t)
{
    struct app *a = t->data;
    if (a->sweeping || a->stopping)
        return;
    a->sweeping = true;
    submit(a, sweep_job, sweep_done, a);
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_drained(void *ctx)
{
    struct app *a = ctx;
    clicks_flush(a);
    uv_timer_stop(&a->click_timer);
    uv_timer_stop(&a->sweep_timer);
    uv_timer_stop(&a->deliver_timer);
    uv_close((uv_handle_t *)&a->deliver_timer, on_closed);
    kith_sender_destroy(a->sender);
    a->sender = NULL;
    attempts_drop(a);
    uv_close((uv_handle_t *)&a->click_timer, on_closed);
    uv_close((uv_handle_t *)&a->sweep_timer, on_closed);
    uv_close((uv_handle_t *)&a->sigterm, on_closed);
    uv_close((uv_handle_t *)&a->sigint, on_closed);
    /* Every request has its answer; finish queued writes (clicks, sweeps) and close. */
    kith_store_close(a->store);
    a->store = NULL;
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct app *a = s->data;
    if (a->stopping)
        return;
    a->stopping = true;
    kith_log_info("server", "msg=\"stopping\" signal=%d", signum);
    kith_http_server_shutdown(a->srv, on_drained, a);
}

static const struct kith_http_route routes[] = {
    {KITH_HTTP_GET, "/r/{code}", h_redirect, "links.redirect"},
    {KITH_HTTP_GET, "/healthz", h_healthz, "healthz"},
    {KITH_HTTP_GET, "/metrics", h_metrics, "metrics"},
    {KITH_HTTP_POST, "/v1/programs", h_program_create, "programs.create"},
    {KITH_HTTP_GET, "/v1/programs", h_program_list, "programs.list"},
    {KITH_HTTP_GET, "/v1/programs/{id}", h_program_get, "programs.get"},
    {KITH_HTTP_PATCH, "/v1/programs/{id}", h_program_update, "programs.update"},
    {KITH_HTTP_POST, "/v1/participants", h_participant_create, "participants.create"},
    {KITH_HTTP_GET, "/v1/participants", h_participant_list, "participants.list"},
    {KITH_HTTP_GET, "/v1/participants/{id}", h_participant_get, "participants.get"},
    {KITH_HTTP_PATCH, "/v1/participants/{id}", h_participant_update, "participants.update"},
    {KITH_HTTP_POST, "/v1/participants/{id}/codes", h_participant_add_code, "participants.codes"},
    {KITH_HTTP_GET, "/v1/participants/{id}/export", h_participant_export, "participants.export"},
    {KITH_HTTP_POST, "/v1/participants/{id}/erase", h_participant_erase, "participants.erase"},
    {KITH_HTTP_POST, "/v1/signups", h_signup, "signups.create"},
    {KITH_HTTP_GET, "/v1/referrals", h_referral_list, "referrals.list"},
    {KITH_HTTP_GET, "/v1/referrals/{id}", h_referral_get, "referrals.get"},
    {KITH_HTTP_POST, "/v1/referrals/{id}/approve", h_referral_approve, "referrals.approve"},
    {KITH_HTTP_POST, "/v1/referrals/{id}/reject", h_referral_reject, "referrals.reject"},
    {KITH_HTTP_POST, "/v1/events", h_event_create, "events.create"},
    {KITH_HTTP_GET, "/v1/rewards", h_reward_list, "rewards.list"},
    {KITH_HTTP_GET, "/v1/rewards/{id}", h_reward_get, "rewards.get"},
    {KITH_HTTP_POST, "/v1/rewards/{id}/redeem", h_reward_redeem, "rewards.redeem"},
    {KITH_HTTP_POST, "/v1/rewards/{id}/void", h_reward_void, "rewards.void"},
    {KITH_HTTP_GET, "/v1/participants/{id}/notifications", h_participant_notifications,
     "participants.notifications"},
    {KITH_HTTP_GET, "/v1/participants/{id}/share", h_participant_share, "participants.share"},
    {KITH_HTTP_POST, "/v1/webhook_endpoints", h_endpoint_create, "webhooks.create"},
    {KITH_HTTP_GET, "/v1/webhook_endpoints", h_endpoint_list, "webhooks.list"},
    {KITH_HTTP_GET, "/v1/webhook_endpoints/{id}", h_endpoint_get, "webhooks.get"},
    {KITH_HTTP_PATCH, "/v1/webhook_endpoints/{id}", h_endpoint_update, "webhooks.update"},
    {KITH_HTTP_DELETE, "/v1/webhook_endpoints/{id}", h_endpoint_delete, "webhooks.delete"},
    {KITH_HTTP_GET, "/v1/webhook_endpoints/{id}/deliveries", h_endpoint_deliveries,
     "webhooks.deliveries"},
    {KITH_HTTP_POST, "/v1/webhook_endpoints/{id}/deliveries/{msg}/retry", h_endpoint_retry,
     "webhooks.retry"},
    {KITH_HTTP_POST, "/v1/integrations/stripe/{program}", h_stripe, "integrations.stripe"},
    {KITH_HTTP_POST, "/v1/integrations/shopify/{program}", h_shopify, "integrations.shopify"},
    {KITH_HTTP_GET, "/v1/metrics", h_metrics_api, "metrics.get"},
    {KITH_HTTP_GET, "/v1/leaderboard", h_leaderboard, "leaderboard.get"},
    /* present only with --test-clock: keep these last */
    {KITH_HTTP_GET, "/v1/test/clock", h_clock_get, "test.clock.get"},
    {KITH_HTTP_POST, "/v1/test/clock", h_clock_set, "test.clock.set"},
};
#define TEST_ROUTES 2

struct boot {
    struct kith_engine *eng;
    int64_t keys;
    bool make_key;
    char key[64];
};

static enum kith_status boot_job(struct kith_tx *tx, void *arg)
{
    struct boot *b = arg;
    enum kith_status st = kith_engine_bootstrap(tx, b->eng, &b->keys);
    if (st == KITH_OK && b->keys == 0 && b->make_key)
        st = kith_engine_key_create(tx, false, b->key, kith_clock_now_ms());
    return st;
}

int kith_app_run(const struct kith_app_config *cfg)
{
    struct app a;
    struct kith_err err = {{0}, {0}};
    int rc = 1;
    memset(&a, 0, sizeof(a));
    a.loop = uv_default_loop();
    if (cfg->test_clock)
        kith_clock_enable_test(kith_clock_now_ms());
    a.eng.test_clock = cfg->test_clock;
    a.eng.fraud_off = !cfg->fraud_scoring;
    if (!cfg->fraud_scoring)
        kith_log_warn("server", "msg=\"fraud scoring is OFF (KITH_FRAUD_SCORING=off)\"");
    if (cfg->secret_key && cfg->secret_key[0])
        kith_crypto_hash(cfg->secret_key, strlen(cfg->secret_key), a.eng.env_key_hash);
    if (kith_crypto_init(&err) != KITH_OK ||
        kith_store_open(cfg->db_path, &a.store, &err) != KITH_OK) {
        kith_log_error("server", "msg=\"cannot start\" error=\"%s\"", err.message);
        return 1;
    }
    struct kith_domain_set *disposable = NULL, *coupons = NULL;
    if (kith_domain_set_parse(kith_data_disposable_email_domains,
                              kith_data_disposable_email_domains_len, &disposable,
                              &err) != KITH_OK ||
        kith_domain_set_parse(kith_data_coupon_sites, kith_data_coupon_sites_len, &coupons, &err) !=
            KITH_OK) {
        kith_log_error("server", "msg=\"cannot load shipped lists\" error=\"%s\"", err.message);
        kith_store_close(a.store);
        return 1;
    }
    a.eng.disposable = disposable;
    a.eng.coupon_sites = coupons;
    kith_log_info("server", "msg=\"lists loaded\" disposable_domains=%zu coupon_sites=%zu",
                  kith_domain_set_size(disposable), kith_domain_set_size(coupons));
    struct boot b = {.eng = &a.eng, .make_key = !(cfg->secret_key && cfg->secret_key[0])};
    if (kith_store_run(a.store, boot_job, &b) != KITH_OK) {
        kith_log_error("server", "msg=\"cannot initialise the database\"");
        kith_store_close(a.store);
        kith_domain_set_destroy(disposable);
        kith_domain_set_destroy(coupons);
        return 1;
    }
    if (b.key[0]) {
        fprintf(stderr,
                "kith: created the first secret API key (shown once, keep it safe):\n"
                "  %s\n",
                b.key);
        kith_crypto_wipe(b.key, sizeof(b.key));
        fflush(stderr);
    }
    if (cfg->public_url && cfg->public_url[0]) {
        kith_strlcpy(a.eng.public_url, cfg->public_url, sizeof(a.eng.public_url));
    }
    if (kith_store_run(a.store, recover_job, NULL) != KITH_OK)
        kith_log_warn("webhooks", "msg=\"could not recover interrupted deliveries\"");
    kith_store_set_pipelined(a.store, cfg->db_sync == KITH_APP_DB_SYNC_PIPELINED);
    kith_store_start(a.store, a.loop);
    if (kith_netpolicy_create(cfg->webhook_allow_cidrs, &a.policy, &err) != KITH_OK) {
        kith_log_error("server", "msg=\"bad KITH_WEBHOOK_ALLOW_CIDRS\" error=\"%s\"", err.message);
        goto out;
    }
    if (cfg->smtp_url && cfg->smtp_url[0]) {
        kith_strlcpy(a.smtp_url, cfg->smtp_url, sizeof(a.smtp_url));
        kith_strlcpy(a.smtp_from,
                     cfg->smtp_from && cfg->smtp_from[0] ? cfg->smtp_from : "kith@localhost",
                     sizeof(a.smtp_from));
        a.eng.smtp_enabled = true;
    }
    if (kith_sender_create(a.loop, a.policy, 15000, on_send_result, &a, &a.sender, &err) !=
        KITH_OK) {
        kith_log_error("server", "msg=\"cannot start the webhook sender\" error=\"%s\"",
                       err.message);
        goto out;
    }
    uv_timer_init(a.loop, &a.deliver_timer);
    a.deliver_timer.data = &a;
    uv_timer_start(&a.deliver_timer, on_deliver_timer, DELIVER_POLL_MS, DELIVER_POLL_MS);

    struct kith_http_config hc = {
        .host = cfg->listen_host,
        .port = cfg->listen_port,
        .routes = routes,
        .route_count = KITH_ARRAY_LEN(routes) - (cfg->test_clock ? 0 : TEST_ROUTES),
        .ctx = &a,
        .access_log = true,
    };
    if (kith_http_server_create(a.loop, &hc, &a.srv, &err) != KITH_OK) {
        kith_log_error("server", "msg=\"cannot listen\" error=\"%s\"", err.message);
        goto out;
    }
    if (!a.eng.public_url[0]) {
        bool v6 = strchr(cfg->listen_host, ':') != NULL;
        snprintf(a.eng.public_url, sizeof(a.eng.public_url), v6 ? "http://[%s]:%d" : "http://%s:%d",
                 cfg->listen_host, kith_http_server_port(a.srv));
    }
    size_t ulen = strlen(a.eng.public_url);
    while (ulen > 0 && a.eng.public_url[ulen - 1] == '/')
        a.eng.public_url[--ulen] = '\0';
    a.eng.secure_cookies = strncmp(a.eng.public_url, "https://", 8) == 0;

    uv_timer_init(a.loop, &a.click_timer);
    a.click_timer.data = &a;
    uv_timer_start(&a.click_timer, on_click_timer, CLICK_FLUSH_MS, CLICK_FLUSH_MS);
    uv_timer_init(a.loop, &a.sweep_timer);
    a.sweep_timer.data = &a;
    uv_timer_start(&a.sweep_timer, on_sweep_timer, 1000, 1000);
    uv_signal_init(a.loop, &a.sigterm);
    uv_signal_init(a.loop, &a.sigint);
    a.sigterm.data = a.sigint.data = &a;
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);

    fprintf(stderr, "kith: listening on %s:%d\n", cfg->listen_host, kith_http_server_port(a.srv));
    fflush(stderr);
    uv_run(a.loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    if (a.sender) { /* failure paths only: a clean stop destroyed it */
        kith_sender_destroy(a.sender);
        uv_close((uv_handle_t *)&a.deliver_timer, on_closed);
    }
    attempts_drop(&a);
    kith_store_close(a.store); /* on failure paths; after a clean stop it is already closed */
    kith_http_server_destroy(a.srv);
    uv_run(a.loop, UV_RUN_DEFAULT); /* let closing handles finish */
    link_cache_clear(&a);
    struct counter *c, *t;
    HASH_ITER(hh, a.counters, c, t)
    {
        HASH_DEL(a.counters, c);
        free(c);
    }
    struct histogram *h, *ht;
    HASH_ITER(hh, a.latencies, h, ht)
    {
        HASH_DEL(a.latencies, h);
        free(h);
    }
    struct idem_entry *e, *et;
    HASH_ITER(hh, a.inflight, e, et)
    {
        HASH_DEL(a.inflight, e);
        free(e);
    }
    free(a.clicks);
    kith_domain_set_destroy(disposable);
    kith_domain_set_destroy(coupons);
    kith_netpolicy_destroy(a.policy);
    uv_loop_close(a.loop);
    kith_crypto_wipe(&a.eng, sizeof(a.eng));
    fflush(stderr);
    kith_log_info("server", "msg=stopped");
    return rc;
}
