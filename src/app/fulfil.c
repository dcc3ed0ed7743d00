/*
 * fulfil.c: the worker that makes reward fulfilment's Stripe calls (CONTRACT section 25), on the
 * loop like webhook delivery (deliver.c). Every 250 ms (or at once when kicked) one store job
 * claims due calls (the engine fixes each request and its Idempotency-Key and marks the row
 * `sending` with a lease); each goes to a sender thread of its own (libcurl, answers kept) with
 * `Authorization: Bearer <the program's key>`; each answer becomes a store job that records it
 * and moves the fulfilment on. A stopped sender never reports what it had in flight: those rows
 * stay `sending` until their lease ends and are called again under the same key, so Stripe
 * replays its first answer instead of acting twice. Stripe's base URL is the operator's setting
 * (KITH_STRIPE_API_BASE), so the webhook network policy does not apply. It is not for what is
 * called or what an answer means: the engine decides (src/engine/fulfil_stripe.c). The API key
 * lives only in the call's memory and its header; nothing here logs it.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "kith/clock.h"
#include "kith/fulfilment.h"
#include "kith/log.h"
#include "kith/webhooks.h"

#define FULFIL_POLL_MS 250
#define FULFIL_BATCH 16
#define FULFIL_CALLS_MAX 32
#define FULFIL_TIMEOUT_MS 30000 /* Stripe answers within seconds; the lease is 60 s */

struct claim {
    struct kith_app *a;
    json_t *calls;
};

/* One call in flight: what its answer must be recorded against. */
struct kith_app_fulcall {
    struct kith_app *a;
    char reward[KITH_ID_MAX];
    int64_t attempt;
    int http_status;
    int64_t retry_after_s;
    int should_retry;
    char error[128];
    char *body;
    const char *outcome;
    struct kith_app_fulcall *prev, *next; /* in fulfil.calls while the sender holds it */
};

static void call_untrack(struct kith_app_fulfil *f, struct kith_app_fulcall *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        f->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void call_free(struct kith_app_fulcall *c)
{
    free(c->body);
    free(c);
}

static enum kith_status claim_job(struct kith_tx *tx, void *arg)
{
    struct claim *c = arg;
    json_decref(c->calls); /* a retried transaction (PostgreSQL) starts over */
    c->calls = NULL;
    return kith_engine_fulfil_claim(tx, kith_clock_now_ms(), FULFIL_BATCH, &c->calls);
}

static void send_call(struct kith_app *a, json_t *r)
{
    struct kith_app_fulfil *f = &a->fulfil;
    struct kith_app_fulcall *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->a = a;
    kith_strlcpy(c->reward, json_string_value(json_object_get(r, "reward")), sizeof(c->reward));
    c->attempt = json_integer_value(json_object_get(r, "attempt"));
    c->next = f->calls;
    if (f->calls)
        f->calls->prev = c;
    f->calls = c;

    char url[2048], auth[320], idem[160];
    const char *key = json_string_value(json_object_get(r, "api_key"));
    const char *idem_key = json_string_value(json_object_get(r, "idem_key"));
    const char *body = json_string_value(json_object_get(r, "body"));
    bool get = json_is_true(json_object_get(r, "get"));
    snprintf(url, sizeof(url), "%s%s", f->base, json_string_value(json_object_get(r, "path")));
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key ? key : "");
    const char *headers[6];
    size_t n = 0;
    headers[n++] = auth;
    headers[n++] = "Stripe-Version: " KITH_FULFIL_STRIPE_VERSION; /* the shapes kith reads */
    headers[n++] = "User-Agent: kith-fulfilment/1";
    if (!get) {
        snprintf(idem, sizeof(idem), "Idempotency-Key: %s", idem_key ? idem_key : "");
        headers[n++] = idem;
        headers[n++] = "Content-Type: application/x-www-form-urlencoded";
    }
    headers[n] = NULL;
    struct kith_call_request req = {
        .tag = (uint64_t)(uintptr_t)c,
        .get = get,
        .url = url,
        .headers = headers,
        .body = body,
        .body_len = body ? strlen(body) : 0,
    };
    kith_sender_call(f->sender, &req);
    kith_crypto_wipe(auth, sizeof(auth));
}

static void claim_done(void *arg, enum kith_status st)
{
    struct claim *c = arg;
    struct kith_app *a = c->a;
    a->fulfil.claiming = false;
    size_t i;
    json_t *r;
    if (st == KITH_OK && a->fulfil.sender && !a->stopping) {
        json_array_foreach(c->calls, i, r) send_call(a, r);
    }
    json_decref(c->calls);
    if (st != KITH_OK)
        a->store_errors++;
    free(c);
}

static void poll_due(struct kith_app *a)
{
    struct kith_app_fulfil *f = &a->fulfil;
    if (f->claiming || a->stopping || f->sender == NULL ||
        kith_sender_busy(f->sender) >= FULFIL_CALLS_MAX)
        return;
    struct claim *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->a = a;
    f->claiming = true;
    kith_app_submit(a, claim_job, claim_done, c);
}

static void on_timer(uv_timer_t *t)
{
    poll_due(t->data);
}

void kith_app_fulfil_kick(struct kith_app *a)
{
    if (a->fulfil.sender && !a->stopping)
        uv_timer_start(&a->fulfil.timer, on_timer, 0, FULFIL_POLL_MS);
}

static enum kith_status record_job(struct kith_tx *tx, void *arg)
{
    struct kith_app_fulcall *c = arg;
    return kith_engine_fulfil_record(tx, c->reward, c->attempt, c->http_status, c->body,
                                     c->retry_after_s, c->should_retry, c->error,
                                     kith_clock_now_ms(), &c->outcome);
}

static void record_done(void *arg, enum kith_status st)
{
    struct kith_app_fulcall *c = arg;
    struct kith_app *a = c->a;
    if (st != KITH_OK) {
        a->store_errors++;
        kith_log_warn("fulfilment", "msg=\"answer not recorded; the call is made again\" reward=%s",
                      c->reward);
    } else if (c->outcome && strcmp(c->outcome, "done") == 0) {
        a->fulfil.done++;
    } else if (c->outcome && strcmp(c->outcome, "failed") == 0) {
        a->fulfil.failed++;
        kith_log_info("fulfilment", "msg=\"fulfilment failed\" reward=%s", c->reward);
    } else if (c->outcome && strcmp(c->outcome, "next") == 0) {
        kith_app_fulfil_kick(a); /* the chain's next call is due now */
    }
    call_free(c);
}

static void on_answer(void *ctx, const struct kith_send_result *res)
{
    struct kith_app *a = ctx;
    struct kith_app_fulfil *f = &a->fulfil;
    struct kith_app_fulcall *c = (struct kith_app_fulcall *)(uintptr_t)res->tag;
    call_untrack(f, c);
    c->http_status = res->http_status;
    c->retry_after_s = res->retry_after_s;
    c->should_retry = res->should_retry;
    kith_strlcpy(c->error, res->error, sizeof(c->error));
    if (res->body) {
        c->body = strdup(res->body);
        if (c->body == NULL)
            abort();
    }
    res->ok ? f->calls_ok++ : f->calls_failed++;
    if (a->stopping || a->store == NULL) {
        call_free(c); /* still `sending`: called again once its lease ends */
        return;
    }
    kith_app_submit(a, record_job, record_done, c);
}

static void prom_section(struct kith_app *a, FILE *out)
{
    struct kith_app_fulfil *f = &a->fulfil;
    fprintf(out,
            "# HELP kith_stripe_calls_total Stripe API calls made for reward fulfilment, by "
            "outcome (ok: a 2xx answer).\n"
            "# TYPE kith_stripe_calls_total counter\n"
            "kith_stripe_calls_total{outcome=\"ok\"} %llu\n"
            "kith_stripe_calls_total{outcome=\"failed\"} %llu\n"
            "# HELP kith_fulfilments_total Reward fulfilments this process finished through "
            "Stripe, by outcome.\n"
            "# TYPE kith_fulfilments_total counter\n"
            "kith_fulfilments_total{outcome=\"done\"} %llu\n"
            "kith_fulfilments_total{outcome=\"failed\"} %llu\n"
            "# HELP kith_stripe_calls_busy Stripe calls queued or in flight.\n"
            "# TYPE kith_stripe_calls_busy gauge\nkith_stripe_calls_busy %zu\n",
            (unsigned long long)f->calls_ok, (unsigned long long)f->calls_failed,
            (unsigned long long)f->done, (unsigned long long)f->failed,
            f->sender ? kith_sender_busy(f->sender) : (size_t)0);
}

enum kith_status kith_app_fulfil_init(struct kith_app *a, const struct kith_app_config *cfg,
                                      struct kith_err *err)
{
    struct kith_app_fulfil *f = &a->fulfil;
    const char *base = cfg->stripe_api_base && cfg->stripe_api_base[0] ? cfg->stripe_api_base
                                                                       : "https://api.stripe.com";
    kith_strlcpy(f->base, base, sizeof(f->base));
    size_t n = strlen(f->base);
    while (n > 0 && f->base[n - 1] == '/')
        f->base[--n] = '\0';
    /* Its own thread, so a slow Stripe never holds webhook deliveries up (or the reverse). The
     * policy is the webhooks'; API calls are not judged by it. */
    enum kith_status st = kith_sender_create(a->loop, a->deliver.policy, FULFIL_TIMEOUT_MS,
                                             on_answer, a, &f->sender, err);
    if (st != KITH_OK)
        return st;
    uv_timer_init(a->loop, &f->timer);
    f->timer.data = a;
    f->timer_live = true;
    uv_timer_start(&f->timer, on_timer, FULFIL_POLL_MS, FULFIL_POLL_MS);
    kith_app_prom_register(a, prom_section);
    return KITH_OK;
}

void kith_app_fulfil_stop(struct kith_app *a)
{
    struct kith_app_fulfil *f = &a->fulfil;
    if (f->timer_live) {
        uv_timer_stop(&f->timer);
        uv_close((uv_handle_t *)&f->timer, kith_app_on_closed);
        f->timer_live = false;
    }
    kith_sender_destroy(f->sender);
    f->sender = NULL;
    while (f->calls) {
        struct kith_app_fulcall *c = f->calls;
        call_untrack(f, c);
        call_free(c);
    }
}
