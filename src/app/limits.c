/*
 * limits.c: who the client is, and how much a client may ask of the public routes. The client
 * address is the connected peer, or, behind a trusted reverse proxy (--trusted-proxies), the
 * right-most X-Forwarded-For entry that is not a proxy (kith/net.h), always in canonical form.
 * Budgets are per client and per minute (fixed windows of the clock's minute, so the test clock
 * moves them): a public route past its budget answers 429 with Retry-After. Separately, the
 * redirect path counts at most KITH_APP_CLICK_CAP clicks a minute from one address on one code
 * (CONTRACT section 4): the rest are redirected with `ref` but not counted. Both tables hold a
 * keyed hash of the address, never the address, and are bounded: entries of past minutes are
 * dropped every minute, and a full table stops tracking new keys rather than growing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "app/app.h"
#include "kith/clock.h"
#include "kith/crypto.h"
#include "kith/log.h"

#define LIMIT_ENTRIES_MAX 200000
#define MINUTE_MS 60000

struct kith_app_limit {
    char key[KITH_CRYPTO_HASH_HEX + 48]; /* "<class>:<address hash>[:<code>]" */
    int64_t minute;
    uint32_t count;
    UT_hash_handle hh;
};

/* Budgets per client address and minute, by route class (docs/api/README.md, "Rate limits"). */
static uint32_t budget_of(unsigned flags)
{
    if (flags & KITH_APP_ROUTE_LIMIT_LINKS)
        return 600;
    if (flags & KITH_APP_ROUTE_LIMIT_LOGIN)
        return 60;
    if (flags & KITH_APP_ROUTE_LIMIT_PUBLIC)
        return 300;
    return 0;
}

static struct kith_app_limit *entry(struct kith_app_limits *l, struct kith_app_limit **table,
                                    size_t *count, const char *key, int64_t minute)
{
    struct kith_app_limit *e = NULL;
    /* the key is hashed once, for the lookup and (a new address) the insert */
    size_t len = strlen(key);
    unsigned hv;
    HASH_VALUE(key, len, hv);
    HASH_FIND_BYHASHVALUE(hh, *table, key, len, hv, e);
    if (e == NULL) {
        if (*count >= LIMIT_ENTRIES_MAX) {
            l->untracked++;
            return NULL; /* bounded: an attacker with endless addresses gets no memory */
        }
        e = calloc(1, sizeof(*e));
        if (e == NULL)
            abort();
        kith_strlcpy(e->key, key, sizeof(e->key));
        e->minute = minute;
        HASH_ADD_BYHASHVALUE(hh, *table, key, len, hv, e);
        (*count)++;
    }
    if (e->minute != minute) {
        e->minute = minute;
        e->count = 0;
    }
    return e;
}

void kith_app_client(struct kith_app *a, struct kith_http_request *req)
{
    bool secure = false;
    if (!kith_net_client(req->peer_ip, kith_http_header(req, "X-Forwarded-For"),
                         kith_http_header(req, "X-Forwarded-Proto"), a->limits.trusted,
                         req->client_ip, &secure))
        kith_strlcpy(req->client_ip, req->peer_ip, sizeof(req->client_ip));
    req->client_secure = secure;
}

const char *kith_app_client_hash(struct kith_app *a, const struct kith_http_request *req)
{
    struct kith_app_limits *l = &a->limits;
    if (l->hashed[0] == '\0' || strcmp(l->hashed_ip, req->client_ip) != 0) {
        kith_crypto_keyed_hash(a->eng.hash_key, req->client_ip, strlen(req->client_ip), l->hashed);
        kith_strlcpy(l->hashed_ip, req->client_ip, sizeof(l->hashed_ip));
    }
    return l->hashed;
}

/* "<prefix><a>[:<b>]" into key (sizeof the entries' key), without printf. */
static void make_key(char *key, char prefix, const char *a, const char *b)
{
    size_t cap = sizeof(((struct kith_app_limit *)0)->key), n = 0;
    key[n++] = prefix;
    key[n++] = ':';
    for (; *a && n + 1 < cap; a++)
        key[n++] = *a;
    if (b) {
        if (n + 1 < cap)
            key[n++] = ':';
        for (; *b && n + 1 < cap; b++)
            key[n++] = *b;
    }
    key[n] = '\0';
}

bool kith_app_budget_take(struct kith_app *a, struct kith_http_request *req, unsigned flags,
                          int *retry_after_s)
{
    uint32_t budget = budget_of(flags);
    if (budget == 0)
        return true;
    struct kith_app_limits *l = &a->limits;
    char key[sizeof(((struct kith_app_limit *)0)->key)];
    /* the route class as one character (its bits are 8, 16 and 32) */
    make_key(key, "01234567"[((flags & KITH_APP_ROUTE_LIMITS) >> 3) & 7],
             kith_app_client_hash(a, req), NULL);
    int64_t now = kith_clock_now_ms(), minute = now / MINUTE_MS;
    struct kith_app_limit *e = entry(l, &l->budgets, &l->budget_count, key, minute);
    if (e == NULL)
        return true;
    if (e->count >= budget) {
        l->limited++;
        *retry_after_s = (int)((minute + 1) * MINUTE_MS - now + 999) / 1000;
        if (*retry_after_s < 1)
            *retry_after_s = 1;
        return false;
    }
    e->count++;
    return true;
}

bool kith_app_click_capped(struct kith_app *a, const char *ip_hash, const char *code)
{
    struct kith_app_limits *l = &a->limits;
    char key[sizeof(((struct kith_app_limit *)0)->key)];
    make_key(key, 'c', ip_hash, code);
    int64_t minute = kith_clock_now_ms() / MINUTE_MS;
    struct kith_app_limit *e = entry(l, &l->caps, &l->cap_count, key, minute);
    if (e == NULL)
        return false;
    if (e->count >= KITH_APP_CLICK_CAP) {
        l->capped++;
        return true;
    }
    e->count++;
    return false;
}

static void prune(struct kith_app_limit **table, size_t *count, int64_t minute)
{
    struct kith_app_limit *e, *t;
    HASH_ITER(hh, *table, e, t)
    {
        if (e->minute < minute) {
            HASH_DEL(*table, e);
            free(e);
            (*count)--;
        }
    }
}

static void on_prune(uv_timer_t *t)
{
    struct kith_app *a = t->data;
    int64_t minute = kith_clock_now_ms() / MINUTE_MS;
    prune(&a->limits.budgets, &a->limits.budget_count, minute);
    prune(&a->limits.caps, &a->limits.cap_count, minute);
}

static void prom_section(struct kith_app *a, FILE *out)
{
    fprintf(out,
            "# HELP kith_rate_limited_total Public requests answered 429 (over their budget).\n"
            "# TYPE kith_rate_limited_total counter\nkith_rate_limited_total %llu\n"
            "# HELP kith_clicks_capped_total Clicks over the per-address cap (redirected, not "
            "counted).\n"
            "# TYPE kith_clicks_capped_total counter\nkith_clicks_capped_total %llu\n"
            "# HELP kith_limit_entries Addresses tracked for budgets and the click cap.\n"
            "# TYPE kith_limit_entries gauge\nkith_limit_entries %zu\n",
            (unsigned long long)a->limits.limited, (unsigned long long)a->limits.capped,
            a->limits.budget_count + a->limits.cap_count);
}

enum kith_status kith_app_limits_init(struct kith_app *a, const struct kith_app_config *cfg,
                                      struct kith_err *err)
{
    enum kith_status st =
        kith_net_cidrs_parse(cfg->trusted_proxies, "KITH_TRUSTED_PROXIES", &a->limits.trusted, err);
    if (st != KITH_OK)
        return st;
    if (kith_net_cidrs_count(a->limits.trusted) > 0)
        kith_log_info("server", "msg=\"behind trusted proxies\" ranges=%zu",
                      kith_net_cidrs_count(a->limits.trusted));
    kith_app_prom_register(a, prom_section);
    return KITH_OK;
}

void kith_app_limits_start(struct kith_app *a)
{
    uv_timer_init(a->loop, &a->limits.timer);
    a->limits.timer.data = a;
    a->limits.timer_live = true;
    uv_timer_start(&a->limits.timer, on_prune, MINUTE_MS, MINUTE_MS);
}

void kith_app_limits_stop(struct kith_app *a)
{
    if (!a->limits.timer_live)
        return;
    a->limits.timer_live = false;
    uv_timer_stop(&a->limits.timer);
    uv_close((uv_handle_t *)&a->limits.timer, kith_app_on_closed);
}

void kith_app_limits_dispose(struct kith_app *a)
{
    prune(&a->limits.budgets, &a->limits.budget_count, INT64_MAX);
    prune(&a->limits.caps, &a->limits.cap_count, INT64_MAX);
    kith_net_cidrs_destroy(a->limits.trusted);
    a->limits.trusted = NULL;
}
