/*
 * pages.c: the program settings the people's pages read, and the rules they show said in
 * words. `landing` chooses between the plain redirect and the friend landing page (4b);
 * `cookie_domain` lets the kith_ref cookie reach a parent domain (4 v2); `allowed_origins` lists
 * the exact origins whose pages may call the browser routes (20). The words are written for the
 * friend and the sharer, not for an operator: "after your first purchase", "12 May". It is not
 * for HTML (src/app/pages.c) or for the hub's own operations (hub.c, hub_view.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/pages.h"
#include "engine/templates.h"
#include "kith/hub.h"

#define ORIGINS_MAX 50

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* A DNS name or IPv4 literal: labels of [a-z0-9-], no empty label, no dot at either end. */
static bool host_valid(const char *h, size_t n)
{
    if (n == 0 || n > 253 || h[0] == '.' || h[n - 1] == '.' || h[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!host_char(h[i]) || (h[i] == '.' && h[i + 1] == '.'))
            return false;
    }
    return true;
}

bool kith_eng_origin_valid(const char *s)
{
    size_t skip;
    if (s == NULL || strlen(s) > KITH_HUB_ORIGIN_MAX)
        return false;
    if (strncmp(s, "https://", 8) == 0)
        skip = 8;
    else if (strncmp(s, "http://", 7) == 0)
        skip = 7;
    else
        return false;
    const char *h = s + skip;
    size_t n = strcspn(h, ":");
    if (!host_valid(h, n))
        return false;
    if (h[n] == '\0')
        return true;
    const char *port = h + n + 1;
    size_t digits = strspn(port, "0123456789");
    return digits >= 1 && digits <= 5 && port[digits] == '\0' && port[0] != '0';
}

bool kith_eng_origin_in(json_t *cfg, const char *origin)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(cfg, "allowed_origins"), i, o)
    {
        if (json_is_string(o) && strcmp(json_string_value(o), origin) == 0)
            return true;
    }
    return false;
}

enum kith_status kith_eng_pages_settings(json_t *in, json_t *cfg, struct kith_err *err)
{
    const char *landing = NULL, *domain = NULL;
    enum kith_status st;
    if ((st = kith_eng_in_string(in, "landing", false, 1, 16, &landing, err)) != KITH_OK ||
        (st = kith_eng_in_string(in, "cookie_domain", false, 1, 253, &domain, err)) != KITH_OK)
        return st;
    if (landing && strcmp(landing, "redirect") != 0 && strcmp(landing, "page") != 0)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "landing",
                            "'landing' must be 'redirect' or 'page'");
    json_object_set_new(cfg, "landing", json_string(landing ? landing : "redirect"));
    if (domain) {
        char lower[254];
        kith_strlcpy(lower, domain[0] == '.' ? domain + 1 : domain, sizeof(lower));
        for (char *c = lower; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        if (!host_valid(lower, strlen(lower)))
            return kith_err_set(err, KITH_E_INVALID_PARAM, "cookie_domain",
                                "'cookie_domain' must be a domain name such as example.com");
        json_object_set_new(cfg, "cookie_domain", json_string(lower));
    } else {
        json_object_set_new(cfg, "cookie_domain", json_null());
    }
    json_t *origins = json_object_get(in, "allowed_origins"), *norm = json_array();
    if (origins && !json_is_null(origins)) {
        if (!json_is_array(origins) || json_array_size(origins) > ORIGINS_MAX) {
            json_decref(norm);
            return kith_err_set(err, KITH_E_INVALID_PARAM, "allowed_origins",
                                "'allowed_origins' must be an array of at most %d origins",
                                ORIGINS_MAX);
        }
        size_t i;
        json_t *o;
        json_array_foreach(origins, i, o)
        {
            if (!json_is_string(o) || !kith_eng_origin_valid(json_string_value(o))) {
                json_decref(norm);
                return kith_err_set(err, KITH_E_INVALID_PARAM, "allowed_origins",
                                    "each allowed origin is exact, such as https://example.com "
                                    "(scheme, lowercase host, optional port, no path)");
            }
            json_array_append(norm, o);
        }
    }
    json_object_set_new(cfg, "allowed_origins", norm);
    return KITH_OK;
}

enum kith_status kith_eng_pages_check(json_t *cfg, const struct kith_engine *eng,
                                      struct kith_err *err)
{
    const char *domain = json_string_value(json_object_get(cfg, "cookie_domain"));
    if (domain == NULL)
        return KITH_OK;
    const char *h = strstr(eng->public_url, "://");
    h = h ? h + 3 : eng->public_url;
    char host[256];
    size_t n = strcspn(h, ":/");
    if (n >= sizeof(host))
        n = sizeof(host) - 1;
    memcpy(host, h, n);
    host[n] = '\0';
    for (char *c = host; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    size_t hl = strlen(host), dl = strlen(domain);
    bool ok = strcmp(host, domain) == 0 ||
              (hl > dl && host[hl - dl - 1] == '.' && strcmp(host + hl - dl, domain) == 0);
    if (!ok)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "cookie_domain",
                            "'cookie_domain' must be the public URL's host (%s) or a parent "
                            "domain of it",
                            host);
    return KITH_OK;
}

void kith_eng_rule_words(const struct kith_reward_rule *r, char *out, size_t outsize)
{
    json_t *row = json_pack("{s:s}", "kind", kith_reward_kind_name(r->kind));
    if (r->has_amount)
        json_object_set_new(row, "amount", json_integer(r->amount_minor));
    else
        json_object_set_new(row, "amount", json_null());
    if (r->currency[0])
        json_object_set_new(row, "currency", json_string(r->currency));
    if (r->description[0])
        json_object_set_new(row, "description", json_string(r->description));
    kith_template_reward_text(row, out, outsize);
    json_decref(row);
}

void kith_eng_friend_reward_words(const struct prog *p, char *out, size_t outsize)
{
    out[0] = '\0';
    for (size_t i = 0; i < p->nrules; i++) {
        if (p->rules[i].to == KITH_SIDE_REFERRED)
            kith_eng_rule_words(&p->rules[i], out, outsize);
    }
}

static void money(int64_t minor, const char *cur, char *out, size_t outsize)
{
    static const char *const whole[] = {"JPY", "KRW", "VND", "CLP", "ISK",
                                        "HUF", "TWD", "UGX", "XAF", "XOF"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(whole); i++) {
        if (strcmp(cur, whole[i]) == 0) {
            snprintf(out, outsize, "%lld %s", (long long)minor, cur);
            return;
        }
    }
    snprintf(out, outsize, "%lld.%02lld %s", (long long)(minor / 100), (long long)(minor % 100),
             cur);
}

/* "purchase" -> "purchase", "plan_started" -> "plan started". */
static void event_words(const char *event, char *out, size_t outsize)
{
    kith_strlcpy(out, event, outsize);
    for (char *c = out; *c; c++)
        if (*c == '_' || *c == '.')
            *c = ' ';
}

void kith_eng_wait_words(const struct prog *p, char *out, size_t outsize)
{
    char ev[64];
    event_words(p->qual_event, ev, sizeof(ev));
    snprintf(out, outsize, "a first %s", ev);
}

void kith_eng_earn_words(const struct prog *p, char *out, size_t outsize)
{
    char ev[64], amount[64] = "";
    event_words(p->qual_event, ev, sizeof(ev));
    if (p->min_amount > 0) {
        char m[40];
        money(p->min_amount, p->currency, m, sizeof(m));
        snprintf(amount, sizeof(amount), " of %s or more", m);
    }
    snprintf(out, outsize, "after your first %s%s, within %lld days of joining", ev, amount,
             (long long)p->within_days);
}

void kith_eng_date_words(int64_t ms, int64_t now_ms, char *out, size_t outsize)
{
    static const char *const months[] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};
    time_t t = (time_t)(ms / 1000), n = (time_t)(now_ms / 1000);
    struct tm tm, tn;
    gmtime_r(&t, &tm);
    gmtime_r(&n, &tn);
    if (tm.tm_year == tn.tm_year)
        snprintf(out, outsize, "%d %s", tm.tm_mday, months[tm.tm_mon]);
    else
        snprintf(out, outsize, "%d %s %d", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900);
}

void kith_eng_link_page(const struct prog *p, json_t *cfg, json_t *owner, struct kith_link *out)
{
    const char *landing = json_string_value(json_object_get(cfg, "landing"));
    const char *domain = json_string_value(json_object_get(cfg, "cookie_domain"));
    const char *name = kith_eng_row_str(owner, "first_name");
    out->landing_page = landing && strcmp(landing, "page") == 0;
    kith_strlcpy(out->cookie_domain, domain ? domain : "", sizeof(out->cookie_domain));
    kith_strlcpy(out->program_name, p->name, sizeof(out->program_name));
    kith_strlcpy(out->referrer_name, name ? name : "", sizeof(out->referrer_name));
    kith_eng_friend_reward_words(p, out->friend_reward, sizeof(out->friend_reward));
    kith_eng_earn_words(p, out->earn_text, sizeof(out->earn_text));
}

enum kith_status kith_engine_origin_listed(struct kith_tx *tx, const char *origin,
                                           const char *program, bool *listed)
{
    *listed = false;
    if (!kith_eng_origin_valid(origin))
        return KITH_OK;
    if (program && program[0]) {
        json_t *cfg = NULL;
        enum kith_status st = kith_eng_prog_config(tx, program, &cfg);
        if (st == KITH_E_NOT_FOUND)
            return KITH_OK;
        if (st != KITH_OK)
            return st;
        *listed = kith_eng_origin_in(cfg, origin);
        json_decref(cfg);
        return KITH_OK;
    }
    /* A valid origin holds none of LIKE's wildcards (no '%' nor '_'), so it matches itself. */
    char pattern[KITH_HUB_ORIGIN_MAX + 8];
    snprintf(pattern, sizeof(pattern), "%%\"%s\"%%", origin);
    json_t *rows = NULL, *args = json_pack("[s]", pattern), *r;
    enum kith_status st = kith_store_query(tx, KITH_Q_HUB_ORIGIN_PROGRAMS, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    size_t i;
    json_array_foreach(rows, i, r)
    {
        json_t *cfg = json_loads(kith_eng_row_str(r, "config"), 0, NULL);
        if (cfg && kith_eng_origin_in(cfg, origin))
            *listed = true;
        json_decref(cfg);
    }
    json_decref(rows);
    return KITH_OK;
}

enum kith_status kith_eng_cors_answer(struct kith_tx *tx, const struct kith_engine_request *rq,
                                      const char *program, struct kith_engine_answer *ans)
{
    const char *origin = rq->header ? rq->header(rq->header_ctx, "Origin") : NULL;
    bool listed = false;
    /* CORS never fails a call: a lookup that cannot answer just allows nothing. */
    if (origin && kith_engine_origin_listed(tx, origin, program, &listed) == KITH_OK && listed)
        kith_strlcpy(ans->allow_origin, origin, sizeof(ans->allow_origin));
    return KITH_OK;
}
