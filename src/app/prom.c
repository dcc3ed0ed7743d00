/*
 * prom.c: Prometheus output at GET /metrics and the health check at GET /healthz. Each part of
 * the server registers its own section at start-up (as h2o's status handlers do) and writes its
 * families itself; this file owns the registry, the responses-by-route counters, the latency
 * histograms and the store's figures, and answers only after one store job read what only the
 * database knows (referrals by status), so a scrape also proves the database answers. It is not
 * for program metrics: those are /v1/metrics (the engine).
 */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "app/app.h"
#include "kith/clock.h"
#include "kith/core.h"
#include "kith/rewards.h"

struct kith_app_counter {
    char name[96]; /* route="...",status="..." */
    uint64_t count;
    UT_hash_handle hh;
};

/* Request latency per route, as a Prometheus histogram. */
static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define LATENCY_BUCKETS (sizeof(latency_bounds) / sizeof(latency_bounds[0]))

struct kith_app_histogram {
    char route[64];
    uint64_t buckets[LATENCY_BUCKETS]; /* non-cumulative; summed when printed */
    uint64_t count;
    double sum;
    UT_hash_handle hh;
};

void kith_app_prom_register(struct kith_app *a, kith_app_prom_fn fn)
{
    if (a->prom.count >= KITH_APP_PROM_SECTIONS)
        abort(); /* a programming error: raise the bound */
    a->prom.sections[a->prom.count++] = fn;
}

static void observe_latency(struct kith_app_histogram *h, uint64_t started_ns)
{
    double s = (double)(kith_clock_mono_ns() - started_ns) / 1e9;
    size_t i = 0;
    while (i < LATENCY_BUCKETS && s > latency_bounds[i])
        i++;
    if (i < LATENCY_BUCKETS)
        h->buckets[i]++;
    h->count++;
    h->sum += s;
}

void kith_app_observe(struct kith_app *a, const char *route, int status, uint64_t started_ns)
{
    struct kith_app_prom *pr = &a->prom;
    if (pr->last_counter && pr->last_status == status &&
        strcmp(pr->last_latency->route, route) == 0) {
        pr->last_counter->count++;
        observe_latency(pr->last_latency, started_ns);
        return;
    }
    char name[96];
    {
        /* route="<route>",status="<status>", without printf */
        size_t n = 0, cap = sizeof(name) - 10 - KITH_U64_TEXT_MAX - 1; /* room for the rest */
        memcpy(name, "route=\"", 7);
        n = 7;
        for (const char *r = route; *r && n < cap; r++)
            name[n++] = *r;
        memcpy(name + n, "\",status=\"", 10);
        n += 10;
        n += kith_u64_text(status > 0 ? (uint64_t)status : 0, name + n);
        name[n++] = '"';
        name[n] = '\0';
    }
    struct kith_app_counter *c = NULL;
    HASH_FIND_STR(pr->counters, name, c);
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL)
            abort();
        kith_strlcpy(c->name, name, sizeof(c->name));
        HASH_ADD_STR(pr->counters, name, c);
    }
    c->count++;

    struct kith_app_histogram *h = NULL;
    HASH_FIND_STR(pr->latencies, route, h);
    if (h == NULL) {
        h = calloc(1, sizeof(*h));
        if (h == NULL)
            abort();
        kith_strlcpy(h->route, route, sizeof(h->route));
        HASH_ADD_STR(pr->latencies, route, h);
    }
    pr->last_counter = c;
    pr->last_latency = h;
    pr->last_status = status;
    observe_latency(h, started_ns);
}

static void http_section(struct kith_app *a, FILE *out)
{
    fputs("# HELP kith_http_responses_total Responses by route and status.\n"
          "# TYPE kith_http_responses_total counter\n",
          out);
    struct kith_app_counter *c, *t;
    HASH_ITER(hh, a->prom.counters, c, t)
    {
        fprintf(out, "kith_http_responses_total{%s} %llu\n", c->name, (unsigned long long)c->count);
    }
    fputs("# HELP kith_http_request_duration_seconds Time from a complete request to its answer.\n"
          "# TYPE kith_http_request_duration_seconds histogram\n",
          out);
    struct kith_app_histogram *h, *ht;
    HASH_ITER(hh, a->prom.latencies, h, ht)
    {
        uint64_t cum = 0;
        for (size_t i = 0; i < LATENCY_BUCKETS; i++) {
            cum += h->buckets[i];
            fprintf(out, "kith_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    h->route, latency_bounds[i], (unsigned long long)cum);
        }
        fprintf(out, "kith_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                h->route, (unsigned long long)h->count);
        fprintf(out, "kith_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", h->route,
                h->sum);
        fprintf(out, "kith_http_request_duration_seconds_count{route=\"%s\"} %llu\n", h->route,
                (unsigned long long)h->count);
    }
}

static void store_section(struct kith_app *a, FILE *out)
{
    fprintf(out,
            "# HELP kith_store_errors_total Jobs whose transaction failed.\n"
            "# TYPE kith_store_errors_total counter\nkith_store_errors_total %llu\n"
            "# HELP kith_store_queue_depth Jobs waiting for or in the store thread.\n"
            "# TYPE kith_store_queue_depth gauge\nkith_store_queue_depth %zu\n",
            (unsigned long long)a->store_errors, a->store ? kith_store_pending(a->store) : 0);
}

void kith_app_prom_init(struct kith_app *a)
{
    kith_app_prom_register(a, http_section);
    kith_app_prom_register(a, store_section);
}

void kith_app_prom_dispose(struct kith_app *a)
{
    a->prom.last_counter = NULL;
    a->prom.last_latency = NULL;
    struct kith_app_counter *c, *t;
    HASH_ITER(hh, a->prom.counters, c, t)
    {
        HASH_DEL(a->prom.counters, c);
        free(c);
    }
    struct kith_app_histogram *h, *ht;
    HASH_ITER(hh, a->prom.latencies, h, ht)
    {
        HASH_DEL(a->prom.latencies, h);
        free(h);
    }
}

/* ---- GET /metrics ---- */

struct scrape {
    struct kith_app *a;
    struct kith_http_request *req;
    int64_t referrals[KITH_REFERRAL_STATUS_COUNT];
    enum kith_status st;
};

static enum kith_status scrape_job(struct kith_tx *tx, void *arg)
{
    struct scrape *s = arg;
    s->st = kith_engine_referral_counts(tx, s->referrals);
    return KITH_OK;
}

static void scrape_done(void *arg, enum kith_status st)
{
    struct scrape *s = arg;
    struct kith_app *a = s->a;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL)
        abort();
    for (size_t i = 0; i < a->prom.count; i++) {
        a->prom.sections[i](a, out);
        if (i == 0 && st == KITH_OK && s->st == KITH_OK) {
            fputs("# HELP kith_referrals Referrals by status, now.\n# TYPE kith_referrals gauge\n",
                  out);
            for (int k = 0; k < KITH_REFERRAL_STATUS_COUNT; k++)
                fprintf(out, "kith_referrals{status=\"%s\"} %lld\n",
                        kith_referral_status_name((enum kith_referral_status)k),
                        (long long)s->referrals[k]);
        }
    }
    if (fclose(out) != 0)
        abort();
    struct kith_http_header hd[] = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}};
    kith_http_respond(s->req, 200, hd, 1, text, len);
    free(text);
    free(s);
}

void kith_app_prometheus(struct kith_http_request *req, void *ctx)
{
    struct scrape *s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort();
    s->a = ctx;
    s->req = req;
    kith_app_submit(ctx, scrape_job, scrape_done, s);
}

/* ---- GET /healthz ---- */

struct health {
    struct kith_http_request *req;
    enum kith_status st;
};

static enum kith_status health_job(struct kith_tx *tx, void *arg)
{
    struct health *h = arg;
    h->st = kith_engine_health(tx);
    return KITH_OK;
}

static void health_done(void *arg, enum kith_status st)
{
    struct health *h = arg;
    if (st == KITH_OK && h->st == KITH_OK) {
        static const char ok[] = "{\"status\":\"ok\"}";
        struct kith_http_header hd[] = {{"Content-Type", "application/json"},
                                        {"Cache-Control", "no-store"}};
        kith_http_respond(h->req, 200, hd, 2, ok, sizeof(ok) - 1);
    } else {
        static const char bad[] = "{\"status\":\"unavailable\"}";
        struct kith_http_header hb[] = {{"Content-Type", "application/json"}, {"Retry-After", "1"}};
        kith_http_respond(h->req, 503, hb, 2, bad, sizeof(bad) - 1);
    }
    free(h);
}

void kith_app_health(struct kith_http_request *req, void *ctx)
{
    struct health *h = calloc(1, sizeof(*h));
    if (h == NULL)
        abort();
    h->req = req;
    kith_app_submit(ctx, health_job, health_done, h);
}
