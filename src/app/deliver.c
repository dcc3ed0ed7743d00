/*
 * deliver.c: the delivery loop for outgoing webhooks and e-mails. Every 250 ms (or at once when
 * kicked) one store job claims due deliveries and queued e-mails (marking them `sending` with a
 * lease); each is signed (Standard Webhooks) and handed to the sender thread (libcurl); each
 * result becomes a store job that records the attempt and schedules the next. A stopped sender
 * never reports what it had in flight: those rows stay `sending`, their lease runs out and they
 * are sent again, so a delivery is at least once and its message id lets receivers dedupe. It
 * is not for what is delivered or when it is due: the engine decides.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "kith/clock.h"
#include "kith/log.h"
#include "kith/webhooks.h"

#define DELIVER_POLL_MS 250
#define DELIVER_BATCH 32
#define SENDS_MAX 64
#define SEND_TIMEOUT_MS 15000

struct claim {
    struct kith_app *a;
    json_t *deliveries;
    json_t *mails;
};

/* One attempt in flight: what its result must be recorded against. */
struct kith_app_attempt {
    struct kith_app *a;
    char id[KITH_ID_MAX];
    bool mail;
    struct kith_send_result res;
    struct kith_app_attempt *prev, *next; /* in deliver.attempts while the sender holds it */
};

static void attempt_track(struct kith_app_deliver *d, struct kith_app_attempt *t)
{
    t->next = d->attempts;
    if (d->attempts)
        d->attempts->prev = t;
    d->attempts = t;
}

static void attempt_untrack(struct kith_app_deliver *d, struct kith_app_attempt *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        d->attempts = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

/* Frees the records of attempts a stopped sender will never report: still `sending` in the
 * store, retried once their lease ends. */
static void attempts_drop(struct kith_app_deliver *d)
{
    while (d->attempts) {
        struct kith_app_attempt *t = d->attempts;
        attempt_untrack(d, t);
        free(t);
    }
}

static struct kith_app_attempt *attempt_new(struct kith_app *a, json_t *row, bool mail)
{
    struct kith_app_attempt *t = calloc(1, sizeof(*t));
    if (t == NULL)
        abort();
    t->a = a;
    t->mail = mail;
    kith_strlcpy(t->id, json_string_value(json_object_get(row, "id")), sizeof(t->id));
    attempt_track(&a->deliver, t);
    return t;
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
    if (st == KITH_OK && c->a->deliver.smtp_url[0])
        st = kith_engine_mail_claim(tx, kith_clock_now_ms(), DELIVER_BATCH, &c->mails);
    return st;
}

static void send_webhook(struct kith_app *a, json_t *r)
{
    struct kith_app_attempt *t = attempt_new(a, r, false);
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
    kith_sender_post(a->deliver.sender, &req);
}

static void send_mail(struct kith_app *a, json_t *r)
{
    struct kith_app_attempt *t = attempt_new(a, r, true);
    const char *subject = json_string_value(json_object_get(r, "subject"));
    struct kith_mail_request req = {
        .tag = (uint64_t)(uintptr_t)t,
        .smtp_url = a->deliver.smtp_url,
        .from = a->deliver.smtp_from,
        .to = json_string_value(json_object_get(r, "email")),
        .subject = subject ? subject : "",
        .body = json_string_value(json_object_get(r, "body")),
    };
    kith_sender_mail(a->deliver.sender, &req);
}

static void claim_done(void *arg, enum kith_status st)
{
    struct claim *c = arg;
    struct kith_app *a = c->a;
    a->deliver.claiming = false;
    size_t i;
    json_t *r;
    if (st == KITH_OK && a->deliver.sender) {
        json_array_foreach(c->deliveries, i, r) send_webhook(a, r);
        json_array_foreach(c->mails, i, r) send_mail(a, r);
    }
    json_decref(c->deliveries);
    json_decref(c->mails);
    free(c);
}

static void poll_due(struct kith_app *a)
{
    struct kith_app_deliver *d = &a->deliver;
    if (d->claiming || a->stopping || d->sender == NULL || kith_sender_busy(d->sender) >= SENDS_MAX)
        return;
    struct claim *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->a = a;
    d->claiming = true;
    kith_app_submit(a, claim_job, claim_done, c);
}

static void on_timer(uv_timer_t *t)
{
    poll_due(t->data);
}

void kith_app_deliver_kick(struct kith_app *a)
{
    if (a->deliver.sender && !a->stopping)
        uv_timer_start(&a->deliver.timer, on_timer, 0, DELIVER_POLL_MS);
}

static enum kith_status record_job(struct kith_tx *tx, void *arg)
{
    struct kith_app_attempt *t = arg;
    if (t->mail)
        return kith_engine_mail_record(tx, t->id, t->res.ok, kith_clock_now_ms());
    return kith_engine_delivery_record(tx, t->id, t->res.http_status, t->res.latency_ms,
                                       t->res.retry_after_s, t->res.ok, t->res.error,
                                       kith_clock_now_ms());
}

static void record_done(void *arg, enum kith_status st)
{
    struct kith_app_attempt *t = arg;
    if (st != KITH_OK) {
        t->a->store_errors++;
        kith_log_warn("webhooks", "msg=\"attempt not recorded; it will be retried\" id=%s", t->id);
    }
    free(t);
}

static void on_send_result(void *ctx, const struct kith_send_result *res)
{
    struct kith_app *a = ctx;
    struct kith_app_deliver *d = &a->deliver;
    struct kith_app_attempt *t = (struct kith_app_attempt *)(uintptr_t)res->tag;
    attempt_untrack(d, t);
    t->res = *res;
    if (t->mail)
        res->ok ? d->mails_sent++ : d->mails_failed++;
    else
        res->ok ? d->deliveries_ok++ : d->deliveries_failed++;
    if (a->store == NULL) {
        free(t); /* still `sending` in the store: recovered and retried after restart */
        return;
    }
    /* While stopping too: the store finishes every job queued before it closes, so an answer
     * that came back during the drain is recorded instead of being sent again after its lease. */
    kith_app_submit(a, record_job, record_done, t);
}

static void prom_section(struct kith_app *a, FILE *out)
{
    struct kith_app_deliver *d = &a->deliver;
    fprintf(out,
            "# HELP kith_webhook_attempts_total Webhook delivery attempts by outcome.\n"
            "# TYPE kith_webhook_attempts_total counter\n"
            "kith_webhook_attempts_total{outcome=\"delivered\"} %llu\n"
            "kith_webhook_attempts_total{outcome=\"failed\"} %llu\n"
            "# HELP kith_emails_total E-mails handed to the SMTP server by outcome.\n"
            "# TYPE kith_emails_total counter\n"
            "kith_emails_total{outcome=\"sent\"} %llu\nkith_emails_total{outcome=\"failed\"} %llu\n"
            "# HELP kith_sender_busy Webhook and e-mail transfers queued or running.\n"
            "# TYPE kith_sender_busy gauge\nkith_sender_busy %zu\n",
            (unsigned long long)d->deliveries_ok, (unsigned long long)d->deliveries_failed,
            (unsigned long long)d->mails_sent, (unsigned long long)d->mails_failed,
            d->sender ? kith_sender_busy(d->sender) : (size_t)0);
}

enum kith_status kith_app_deliver_init(struct kith_app *a, const struct kith_app_config *cfg,
                                       struct kith_err *err)
{
    struct kith_app_deliver *d = &a->deliver;
    enum kith_status st = kith_netpolicy_create(cfg->webhook_allow_cidrs, &d->policy, err);
    if (st != KITH_OK)
        return st;
    if (cfg->smtp_url && cfg->smtp_url[0]) {
        kith_strlcpy(d->smtp_url, cfg->smtp_url, sizeof(d->smtp_url));
        kith_strlcpy(d->smtp_from,
                     cfg->smtp_from && cfg->smtp_from[0] ? cfg->smtp_from : "kith@localhost",
                     sizeof(d->smtp_from));
    }
    if ((st = kith_sender_create(a->loop, d->policy, SEND_TIMEOUT_MS, on_send_result, a, &d->sender,
                                 err)) != KITH_OK)
        return st;
    uv_timer_init(a->loop, &d->timer);
    d->timer.data = a;
    d->timer_live = true;
    uv_timer_start(&d->timer, on_timer, DELIVER_POLL_MS, DELIVER_POLL_MS);
    kith_app_prom_register(a, prom_section);
    return KITH_OK;
}

void kith_app_deliver_stop(struct kith_app *a)
{
    struct kith_app_deliver *d = &a->deliver;
    if (d->timer_live) {
        uv_timer_stop(&d->timer);
        uv_close((uv_handle_t *)&d->timer, kith_app_on_closed);
        d->timer_live = false;
    }
    kith_sender_destroy(d->sender);
    d->sender = NULL;
    attempts_drop(d);
}

void kith_app_deliver_dispose(struct kith_app *a)
{
    kith_app_deliver_stop(a); /* failure paths: a clean stop already did this */
    kith_netpolicy_destroy(a->deliver.policy);
    a->deliver.policy = NULL;
}
