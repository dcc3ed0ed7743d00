/*
 * cors.c: cross-origin calls from the business's own pages (CONTRACT section 20). Browser
 * routes are /v1/public/..., /v1/hub/... and rows flagged KITH_APP_ROUTE_CORS (the leaderboard read
 * with a publishable key). An actual call's answer carries Access-Control-Allow-Origin when the
 * engine found the Origin in the program's allowed_origins (api.c adds the header); this file
 * answers the OPTIONS preflights, which name no body and so usually no program: an origin that
 * any program lists is enough, unless the query names the program. Each answer is cached for a
 * few seconds per (origin, program), so a busy page's preflights cost the database nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "app/pages.h"
#include "kith/clock.h"

#define ORIGIN_TTL_NS (5 * UINT64_C(1000000000))
#define ORIGIN_CACHE_MAX 10000

struct kith_app_origin {
    char key[KITH_HUB_ORIGIN_MAX + 52]; /* "<program>|<origin>" */
    bool listed;
    uint64_t loaded_ns;
    UT_hash_handle hh;
};

struct preflight {
    struct kith_app *a;
    struct kith_http_request *req;
    char key[sizeof(((struct kith_app_origin *)0)->key)];
    char origin[KITH_HUB_ORIGIN_MAX + 1];
    char program[48];
    char methods[64];
    bool listed;
    enum kith_status st;
};

bool kith_app_cors_route(const struct kith_app_route *route)
{
    return (route->flags & KITH_APP_ROUTE_CORS) ||
           strncmp(route->pattern, "/v1/public/", 11) == 0 ||
           strncmp(route->pattern, "/v1/hub/", 8) == 0;
}

/* Whether pattern ("/v1/hub/{x}") matches path segment by segment. */
static bool matches(const char *pattern, const char *path)
{
    while (*pattern && *path) {
        if (*pattern == '{') {
            pattern = strchr(pattern, '}');
            if (pattern == NULL)
                return false;
            pattern++;
            size_t seg = strcspn(path, "/");
            if (seg == 0)
                return false;
            path += seg;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

static const char *method_name(enum kith_http_method m)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    return m < KITH_ARRAY_LEN(names) ? names[m] : "GET";
}

static void respond(struct kith_app *a, struct kith_http_request *req, const char *origin,
                    bool listed, const char *methods)
{
    struct kith_http_header h[6];
    size_t n = 0;
    h[n++] = (struct kith_http_header){"Vary", "Origin"};
    if (listed) {
        h[n++] = (struct kith_http_header){"Access-Control-Allow-Origin", origin};
        h[n++] = (struct kith_http_header){"Access-Control-Allow-Methods", methods};
        h[n++] = (struct kith_http_header){"Access-Control-Allow-Headers",
                                           "Authorization, Content-Type"};
        h[n++] = (struct kith_http_header){"Access-Control-Max-Age", "600"};
    }
    kith_app_observe(a, "cors.preflight", 204, req->started_ns);
    kith_http_respond(req, 204, h, n, "", 0);
}

static void cache_put(struct kith_app *a, const char *key, bool listed)
{
    struct kith_app_origin *o = NULL;
    if (a->pages.origin_count >= ORIGIN_CACHE_MAX)
        kith_app_cors_clear(a);
    HASH_FIND_STR(a->pages.origins, key, o);
    if (o == NULL) {
        o = calloc(1, sizeof(*o));
        if (o == NULL)
            abort();
        kith_strlcpy(o->key, key, sizeof(o->key));
        HASH_ADD_STR(a->pages.origins, key, o);
        a->pages.origin_count++;
    }
    o->listed = listed;
    o->loaded_ns = kith_clock_mono_ns();
}

static enum kith_status lookup_job(struct kith_tx *tx, void *arg)
{
    struct preflight *p = arg;
    p->st = kith_engine_origin_listed(tx, p->origin, p->program, &p->listed);
    return KITH_OK;
}

static void lookup_done(void *arg, enum kith_status st)
{
    struct preflight *p = arg;
    bool ok = st == KITH_OK && p->st == KITH_OK;
    if (ok)
        cache_put(p->a, p->key, p->listed);
    respond(p->a, p->req, p->origin, ok && p->listed, p->methods);
    free(p);
}

void kith_app_preflight(struct kith_http_request *req, void *ctx)
{
    struct kith_app *a = ctx;
    char methods[64] = "";
    bool any_program = false, found = false;
    for (size_t i = 0; i < kith_app_route_count; i++) {
        const struct kith_app_route *r = &kith_app_routes[i];
        if (r->kind == KITH_APP_ROUTE_PREFLIGHT || !kith_app_cors_route(r) ||
            !matches(r->pattern, req->path))
            continue;
        found = true;
        if (strncmp(r->pattern, "/v1/hub/", 8) == 0 || strcmp(r->name, "hub.login") == 0)
            any_program = true;
        if (strstr(methods, method_name(r->method)) == NULL &&
            strlen(methods) + 10 < sizeof(methods))
            snprintf(methods + strlen(methods), sizeof(methods) - strlen(methods), "%s%s",
                     methods[0] ? ", " : "", method_name(r->method));
    }
    if (!found) {
        kith_app_observe(a, "cors.preflight", 404, req->started_ns);
        kith_http_respond_error(req, KITH_E_NOT_FOUND, NULL, "no such route");
        return;
    }
    const char *origin = kith_http_header(req, "Origin");
    if (origin == NULL || strlen(origin) > KITH_HUB_ORIGIN_MAX) {
        respond(a, req, "", false, methods);
        return;
    }
    struct preflight *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    p->a = a;
    p->req = req;
    kith_strlcpy(p->origin, origin, sizeof(p->origin));
    kith_strlcpy(p->methods, methods, sizeof(p->methods));
    /* A preflight that names its program (the leaderboard's ?program=) is held to it. */
    if (!any_program &&
        kith_http_query_get(req->query, "program", p->program, sizeof(p->program)) != 1)
        p->program[0] = '\0';
    snprintf(p->key, sizeof(p->key), "%s|%s", p->program, p->origin);
    struct kith_app_origin *o = NULL;
    HASH_FIND_STR(a->pages.origins, p->key, o);
    if (o && kith_clock_mono_ns() - o->loaded_ns < ORIGIN_TTL_NS) {
        respond(a, req, p->origin, o->listed, p->methods);
        free(p);
        return;
    }
    kith_app_submit(a, lookup_job, lookup_done, p);
}

void kith_app_cors_clear(struct kith_app *a)
{
    struct kith_app_origin *o, *t;
    HASH_ITER(hh, a->pages.origins, o, t)
    {
        HASH_DEL(a->pages.origins, o);
        free(o);
    }
    a->pages.origin_count = 0;
}
