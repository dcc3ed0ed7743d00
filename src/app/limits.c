/*
 * limits.c: who the client is, and how much a client may ask of the public routes. The client
 * address is the connected peer, or, behind a trusted reverse proxy (--trusted-proxies), the
 * right-most X-Forwarded-For entry that is not a proxy (kith/net.h), always in canonical form.
 * Budgets are per client and per minute (fixed windows of the clock's minute, so the test clock
 * moves them): a public route past its budget answers 429 with Retry-After. Separately, the
 * redirect path counts at most KITH_APP_CLICK_CAP clicks a minute from one address on one code
 * (CONTRACT section 4): the rest are redirected with `ref` but not counted.
 *
 * Both are counted in fixed memory that never fills: a count-min sketch each (kith/sketch.h,
 * conservative update, cells tagged with their minute so past minutes read as 0 and are reset
 * lazily, a key's four cells in one cache line), allocated once at start, with no allocation per
 * request and no pruning pass. A key is (route class or 'c', the client address's keyed hash of
 * kith_app_client_hash, code); its line and cells come from one SipHash-2-4 (128-bit) under a
 * random per-process key, so nobody outside can aim keys at one line. Memory: the click cap
 * 4 x 2^20 cells x 4 bytes = 16 MiB (2^18 lines), the budgets 4 x 2^18 x 4 bytes = 4 MiB (2^16
 * lines: one key per address and class, and limits of 60 and more, against the cap's one key per
 * address and code and a limit of 30); resident from the start (kith/sketch.h).
 *
 * What it promises: a count is never below the truth, so a budget or the cap is never missed,
 * whatever the number of addresses. It is above the truth only when each of the key's four cells
 * is shared with other keys of the same minute in its line (kith/sketch.h): with n distinct keys
 * in a minute, for the cap n = 100,000 gives 3.7e-3 of keys, n = 10,000 gives 1.7e-4; for the
 * budgets n = 10,000 gives 9.4e-4. Even then a key is over-counted only by the other keys'
 * counts in its cells (the smallest of the four), so a legitimate key is stopped early only when
 * those add up to the limit in all four: keys of one or two visits each, as nearly all are, add
 * a visit or two to a limit of 30 or more. Minute tags repeat after 65,536 minutes, which can
 * only over-count as well (kith/sketch.h).
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "kith/clock.h"
#include "kith/crypto.h"
#include "kith/log.h"
#include "kith/sketch.h"

#define MINUTE_MS 60000
#define CAP_BITS 20    /* 4 x 2^20 cells: 16 MiB */
#define BUDGET_BITS 18 /* 4 x 2^18 cells: 4 MiB */

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

/* The cell indexes of key (prefix, address hash[, code]): "<prefix><hash>:<code>" under the
 * per-process key (the hash is hex, so ':' cannot occur in it). A code longer than the buffer
 * (no link code is) shares its first bytes' cells, which can only over-count. */
static void key_cells(const struct kith_app_limits *l, char prefix, const char *ip_hash,
                      const char *code, uint32_t idx[KITH_SKETCH_ROWS])
{
    char buf[KITH_CRYPTO_HASH_HEX + 128];
    size_t n = strnlen(ip_hash, KITH_CRYPTO_HASH_HEX - 1);
    buf[0] = prefix;
    memcpy(buf + 1, ip_hash, n);
    n++;
    if (code) {
        size_t m = strnlen(code, sizeof(buf) - n - 1);
        buf[n++] = ':';
        memcpy(buf + n, code, m);
        n += m;
    }
    _Static_assert(KITH_SKETCH_ROWS == 4, "one 128-bit hash: four 32-bit indexes");
    kith_crypto_shorthash128(l->sketch_key, buf, n, idx);
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

bool kith_app_budget_take(struct kith_app *a, struct kith_http_request *req, unsigned flags,
                          int *retry_after_s)
{
    uint32_t budget = budget_of(flags);
    if (budget == 0)
        return true;
    struct kith_app_limits *l = &a->limits;
    uint32_t idx[KITH_SKETCH_ROWS];
    /* the route class's bits as one byte of the key: never 0 here (budget_of found one) */
    _Static_assert(KITH_APP_ROUTE_LIMITS < 256, "the route classes fit one key byte");
    key_cells(l, (char)(flags & KITH_APP_ROUTE_LIMITS), kith_app_client_hash(a, req), NULL, idx);
    int64_t now = kith_clock_now_ms(), minute = now / MINUTE_MS;
    if (!kith_sketch_take(&l->budgets, idx, minute, budget)) {
        l->limited++;
        *retry_after_s = (int)((minute + 1) * MINUTE_MS - now + 999) / 1000;
        if (*retry_after_s < 1)
            *retry_after_s = 1;
        return false;
    }
    return true;
}

bool kith_app_click_capped(struct kith_app *a, const char *ip_hash, const char *code)
{
    struct kith_app_limits *l = &a->limits;
    uint32_t idx[KITH_SKETCH_ROWS];
    key_cells(l, 'c', ip_hash, code, idx);
    int64_t minute = kith_clock_now_ms() / MINUTE_MS;
    if (!kith_sketch_take(&l->caps, idx, minute, KITH_APP_CLICK_CAP)) {
        l->capped++;
        return true;
    }
    return false;
}

static void prom_section(struct kith_app *a, FILE *out)
{
    fprintf(out,
            "# HELP kith_rate_limited_total Public requests answered 429 (over their budget).\n"
            "# TYPE kith_rate_limited_total counter\nkith_rate_limited_total %llu\n"
            "# HELP kith_clicks_capped_total Clicks over the per-address cap (redirected, not "
            "counted).\n"
            "# TYPE kith_clicks_capped_total counter\nkith_clicks_capped_total %llu\n"
            "# HELP kith_limit_sketch_bytes Fixed memory counting the budgets and the click cap.\n"
            "# TYPE kith_limit_sketch_bytes gauge\nkith_limit_sketch_bytes %zu\n",
            (unsigned long long)a->limits.limited, (unsigned long long)a->limits.capped,
            kith_sketch_bytes(&a->limits.budgets) + kith_sketch_bytes(&a->limits.caps));
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
    if (!kith_sketch_init(&a->limits.budgets, BUDGET_BITS) ||
        !kith_sketch_init(&a->limits.caps, CAP_BITS)) {
        kith_sketch_free(&a->limits.budgets);
        return kith_err_set(err, KITH_E_INTERNAL, NULL, "out of memory for the rate limits");
    }
    kith_crypto_random(a->limits.sketch_key, sizeof(a->limits.sketch_key));
    kith_app_prom_register(a, prom_section);
    return KITH_OK;
}

void kith_app_limits_dispose(struct kith_app *a)
{
    kith_sketch_free(&a->limits.budgets);
    kith_sketch_free(&a->limits.caps);
    kith_crypto_wipe(a->limits.sketch_key, sizeof(a->limits.sketch_key));
    kith_net_cidrs_destroy(a->limits.trusted);
    a->limits.trusted = NULL;
}
