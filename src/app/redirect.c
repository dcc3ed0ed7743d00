/*
 * redirect.c: the redirect path, GET|HEAD /r/{code}. A known code is answered from a cache on
 * the loop thread without waiting for the database; an unknown or stale entry costs one lookup
 * job. Entries live 10 s because another instance may block a participant (attribution itself
 * always checks the referrer in the database, so a stale entry never credits a blocked one).
 * Unknown codes are cached too (10 s, and forgotten whenever a code may have been created), so
 * guessing codes costs the database nothing. What the answer is (Location, cookie, whether the
 * click counts) the pure rules of src/links decide, with the per-address click cap of
 * limits.c; counted clicks go to the click batcher. It is not for attribution.
 */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "app/app.h"
#include "kith/clock.h"
#include "kith/codes.h"
#include "kith/crypto.h"
#include "kith/links.h"
#include "kith/log.h"

#define LINK_CACHE_MAX 1000000
/* Codes known not to exist, so that guessing codes costs the database nothing. */
#define UNKNOWN_CACHE_MAX 100000
#define LINK_TTL_NS (10 * UINT64_C(1000000000))

struct kith_app_prog {
    char id[48];
    char destination[2048];
    int64_t cookie_days;
    bool landing_page;       /* answer with the friend landing page (4b) */
    char cookie_domain[254]; /* "" when unset */
    char name[256];
    char friend_reward[320];
    char earn_text[320];
    UT_hash_handle hh;
};

struct kith_app_link {
    uint64_t loaded_ns;
    char norm[KITH_CODE_NORM_MAX + 1];
    char code[16];
    char participant[KITH_ID_MAX];
    char first_name[64]; /* for a resource's lead page */
    char referrer_name[104];
    bool attributes;
    struct kith_app_prog *prog;
    UT_hash_handle hh;
};

struct lookup {
    struct kith_app *a;
    struct kith_http_request *req;
    char code[40];
    struct kith_link link;
    enum kith_status st;
};

static const char not_found_page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Link not found</title>"
    "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"></head>"
    "<body><h1>This link doesn't lead anywhere</h1><p>The code in this link is not one we know. "
    "Please check it with the person who shared it.</p></body></html>\n";

static void answer(struct kith_app *a, struct kith_http_request *req, const struct kith_app_link *l)
{
    const struct kith_resource_link *res = NULL;
    /* /r/{code}/{slug} (CONTRACT 19): the resource comes from resources.c's cache; when it must
     * be looked up, this handler runs again once it is known. */
    if (req->param_count > 1 && !kith_app_resource_find(a, req, l->prog->id, &res))
        return;
    char location[KITH_LINKS_LOCATION_MAX], cookie[KITH_LINKS_COOKIE_MAX];
    char ip_hash[KITH_CRYPTO_HASH_HEX] = "";
    const char *ua = kith_http_header(req, "User-Agent");
    struct kith_links_facts facts = {
        .attributes = l->attributes,
        .head = req->method == KITH_HTTP_HEAD,
        .bot = kith_links_is_bot(ua),
        .backlog_full = kith_app_clicks_full(a),
    };
    if (facts.attributes && !facts.head && !facts.bot) {
        /* Only a visit that would count is hashed and held against the per-address cap. */
        kith_strlcpy(ip_hash, kith_app_client_hash(a, req), sizeof(ip_hash));
        facts.rate_capped = kith_app_click_capped(a, ip_hash, l->code);
    }
    enum kith_links_reason why;
    bool counted = kith_links_decide(&facts, &why);
    struct kith_http_header h[4];
    size_t n = 0;
    char click_id[KITH_ID_MAX] = "";
    int64_t at_ms = kith_clock_now_ms();
    if (counted)
        kith_crypto_time_id("clk_", at_ms, click_id);

    /* A counted click's id goes into the Location too (4 v2), so another host (the business's
     * site with kith.js, or a resource's own page) can keep it as a first-party cookie. */
    if (kith_links_location(res ? res->url : l->prog->destination, l->attributes, l->code,
                            counted ? click_id : NULL, location, sizeof(location),
                            NULL) != KITH_OK) {
        /* A destination kith accepted always fits; refuse rather than send a cut URL. */
        kith_http_respond_error(req, KITH_E_INTERNAL, NULL, "this link's destination is invalid");
        return;
    }
    h[n++] = (struct kith_http_header){"Location", location};
    h[n++] = (struct kith_http_header){"Cache-Control", "no-store"};
    if (why == KITH_LINKS_BOT)
        a->links.bots_seen++;
    if (why == KITH_LINKS_BACKLOG_FULL)
        kith_app_clicks_shed(a);
    struct kith_click *c = counted ? kith_app_clicks_add(a) : NULL;
    bool cookie_set = false;
    if (counted && c == NULL) /* lost a race with the backlog bound: no click, no click id */
        kith_links_location(l->prog->destination, l->attributes, l->code, NULL, location,
                            sizeof(location), NULL);
    if (c) {
        c->at_ms = at_ms;
        kith_strlcpy(c->id, click_id, sizeof(c->id));
        if (res)
            kith_strlcpy(c->resource, res->slug, sizeof(c->resource));
        kith_strlcpy(c->program, l->prog->id, sizeof(c->program));
        kith_strlcpy(c->participant, l->participant, sizeof(c->participant));
        kith_strlcpy(c->code, l->code, sizeof(c->code));
        char ch[32];
        if (kith_http_query_get(req->query, "ch", ch, sizeof(ch)) == 1 &&
            kith_links_channel_valid(ch))
            kith_strlcpy(c->channel, ch, sizeof(c->channel));
        kith_links_referrer_host(kith_http_header(req, "Referer"), c->referrer_host);
        kith_strlcpy(c->ip_hash, ip_hash, sizeof(c->ip_hash));
        if (ua)
            kith_crypto_keyed_hash(a->eng.hash_key, ua, strlen(ua), c->ua_hash);
        bool secure = a->eng.secure_cookies || req->client_secure;
        if (kith_links_cookie(c->id, l->prog->cookie_days, l->prog->cookie_domain, secure, cookie,
                              sizeof(cookie), NULL) == KITH_OK) {
            h[n++] = (struct kith_http_header){"Set-Cookie", cookie};
            cookie_set = true;
        }
    }
    if (l->attributes && l->prog->landing_page && res == NULL) {
        /* The friend landing page (4b): the same counting, the Location as its one button. A
         * resource link goes to its resource (or its lead page) instead. */
        struct kith_app_landing page = {
            .program_name = l->prog->name,
            .referrer_name = l->referrer_name,
            .friend_reward = l->prog->friend_reward,
            .earn_text = l->prog->earn_text,
            .code = l->code,
            .href = location,
            .cookie = cookie_set ? cookie : NULL,
        };
        kith_app_landing(a, req, &page);
        return;
    }
    if (res && res->gated && l->attributes) { /* kith's lead page, with the same cookie */
        kith_app_lead_page(a, req, res, l->first_name, c ? c->id : NULL,
                           cookie_set ? cookie : NULL);
        return;
    }
    kith_app_observe(a, req->route_name, 302, req->started_ns);
    kith_http_respond(req, 302, h, n, "", 0);
}

static void not_found(struct kith_app *a, struct kith_http_request *req)
{
    struct kith_http_header h[] = {{"Content-Type", "text/html; charset=utf-8"},
                                   {"Cache-Control", "no-store"}};
    kith_app_observe(a, "links.redirect", 404, req->started_ns);
    kith_http_respond(req, 404, h, 2, not_found_page, sizeof(not_found_page) - 1);
}

static enum kith_status lookup_job(struct kith_tx *tx, void *arg)
{
    struct lookup *l = arg;
    l->st = kith_engine_link_resolve(tx, l->code, &l->link);
    return KITH_OK;
}

static struct kith_app_link *cache_put(struct kith_app *a, const char *norm,
                                       const struct kith_link *k)
{
    struct kith_app_links *c = &a->links;
    struct kith_app_prog *p = NULL;
    if (c->count >= LINK_CACHE_MAX)
        kith_app_links_clear(a); /* bounded memory; the working set refills quickly */
    HASH_FIND_STR(c->progs, k->program, p);
    if (p == NULL) {
        p = calloc(1, sizeof(*p));
        if (p == NULL)
            abort();
        kith_strlcpy(p->id, k->program, sizeof(p->id));
        HASH_ADD_STR(c->progs, id, p);
    }
    /* Every lookup brings the program's current settings (another instance may change them). */
    kith_strlcpy(p->destination, k->destination, sizeof(p->destination));
    p->cookie_days = k->cookie_days;
    p->landing_page = k->landing_page;
    kith_strlcpy(p->cookie_domain, k->cookie_domain, sizeof(p->cookie_domain));
    kith_strlcpy(p->name, k->program_name, sizeof(p->name));
    kith_strlcpy(p->friend_reward, k->friend_reward, sizeof(p->friend_reward));
    kith_strlcpy(p->earn_text, k->earn_text, sizeof(p->earn_text));
    struct kith_app_link *l = NULL;
    HASH_FIND_STR(c->links, norm, l);
    if (l == NULL) {
        l = calloc(1, sizeof(*l));
        if (l == NULL)
            abort();
        kith_strlcpy(l->norm, norm, sizeof(l->norm));
        HASH_ADD_STR(c->links, norm, l);
        c->count++;
    }
    kith_strlcpy(l->code, k->code, sizeof(l->code));
    kith_strlcpy(l->participant, k->participant, sizeof(l->participant));
    kith_strlcpy(l->first_name, k->first_name, sizeof(l->first_name));
    kith_strlcpy(l->referrer_name, k->referrer_name, sizeof(l->referrer_name));
    l->attributes = k->attributes;
    l->loaded_ns = kith_clock_mono_ns();
    l->prog = p;
    return l;
}

static void unknown_put(struct kith_app *a, const char *norm)
{
    struct kith_app_links *c = &a->links;
    struct kith_app_link *l = NULL;
    if (c->unknown_count >= UNKNOWN_CACHE_MAX)
        kith_app_links_clear_unknown(a);
    HASH_FIND_STR(c->unknown, norm, l);
    if (l == NULL) {
        l = calloc(1, sizeof(*l));
        if (l == NULL)
            abort();
        kith_strlcpy(l->norm, norm, sizeof(l->norm));
        HASH_ADD_STR(c->unknown, norm, l);
        c->unknown_count++;
    }
    l->loaded_ns = kith_clock_mono_ns();
}

static void lookup_done(void *arg, enum kith_status st)
{
    struct lookup *l = arg;
    if (st != KITH_OK || (l->st != KITH_OK && l->st != KITH_E_NOT_FOUND)) {
        kith_http_respond_error(l->req, KITH_E_UNAVAILABLE, NULL,
                                "the database is not available; retry");
    } else if (l->st == KITH_E_NOT_FOUND) {
        char norm[KITH_CODE_NORM_MAX + 1];
        kith_code_normalize(l->code, norm);
        unknown_put(l->a, norm);
        not_found(l->a, l->req);
    } else {
        char norm[KITH_CODE_NORM_MAX + 1];
        kith_code_normalize(l->code, norm);
        answer(l->a, l->req, cache_put(l->a, norm, &l->link));
    }
    free(l);
}

void kith_app_redirect(struct kith_http_request *req, void *ctx)
{
    struct kith_app *a = ctx;
    char norm[KITH_CODE_NORM_MAX + 1];
    const char *code = req->params[0];
    if (strlen(code) > 32 || !kith_code_normalize(code, norm)) {
        not_found(a, req);
        return;
    }
    struct kith_app_link *l = NULL;
    HASH_FIND_STR(a->links.links, norm, l);
    if (l && kith_clock_mono_ns() - l->loaded_ns < LINK_TTL_NS) {
        answer(a, req, l);
        return;
    }
    l = NULL;
    HASH_FIND_STR(a->links.unknown, norm, l);
    if (l && kith_clock_mono_ns() - l->loaded_ns < LINK_TTL_NS) {
        not_found(a, req);
        return;
    }
    struct lookup *lk = calloc(1, sizeof(*lk));
    if (lk == NULL)
        abort();
    lk->a = a;
    lk->req = req;
    kith_strlcpy(lk->code, code, sizeof(lk->code));
    kith_app_submit(a, lookup_job, lookup_done, lk);
}

void kith_app_links_clear(struct kith_app *a)
{
    struct kith_app_link *l, *lt;
    HASH_ITER(hh, a->links.links, l, lt)
    {
        HASH_DEL(a->links.links, l);
        free(l);
    }
    struct kith_app_prog *p, *pt;
    HASH_ITER(hh, a->links.progs, p, pt)
    {
        HASH_DEL(a->links.progs, p);
        free(p);
    }
    a->links.count = 0;
    kith_app_links_clear_unknown(a);
    kith_app_resources_clear(a);
}

void kith_app_links_clear_unknown(struct kith_app *a)
{
    struct kith_app_link *l, *lt;
    HASH_ITER(hh, a->links.unknown, l, lt)
    {
        HASH_DEL(a->links.unknown, l);
        free(l);
    }
    a->links.unknown_count = 0;
}

static void prom_section(struct kith_app *a, FILE *out)
{
    fprintf(out,
            "# HELP kith_bot_visits_total Link visits by crawlers and preview bots (not counted).\n"
            "# TYPE kith_bot_visits_total counter\nkith_bot_visits_total %llu\n"
            "# HELP kith_link_cache_entries Codes cached for the redirect path.\n"
            "# TYPE kith_link_cache_entries gauge\nkith_link_cache_entries %zu\n"
            "# HELP kith_link_cache_unknown Unknown codes cached (answered 404 without a lookup).\n"
            "# TYPE kith_link_cache_unknown gauge\nkith_link_cache_unknown %zu\n",
            (unsigned long long)a->links.bots_seen, a->links.count, a->links.unknown_count);
}

void kith_app_links_init(struct kith_app *a)
{
    kith_app_prom_register(a, prom_section);
}

void kith_app_links_dispose(struct kith_app *a)
{
    kith_app_links_clear(a);
}
