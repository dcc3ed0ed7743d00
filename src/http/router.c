/*
 * router.c: finding the route of a request in the route table (literal segments and `{x}`
 * captures, first match in table order) and the request helpers handlers call (header lookup,
 * query parameters). It is not for what a route does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <llhttp.h>

#include "http/internal.h"
#include "kith/clock.h"
#include "kith/log.h"
#include "kith/text.h"

/* ---- routing ---------------------------------------------------------------------------- */

/* Matches one pattern; `{x}` takes the rest of a path segment, at least one byte, and is copied
 * NUL-terminated into caps (room: strlen(path) + KITH_HTTP_PARAMS_MAX). */
static bool match_pattern(const char *pat, const char *path, char *caps, const char **params,
                          size_t *count)
{
    size_t n = 0;
    while (*pat != '\0') {
        if (*pat == '{') {
            const char *end = strchr(pat, '}');
            size_t seg = strcspn(path, "/");
            if (end == NULL || seg == 0 || n == KITH_HTTP_PARAMS_MAX)
                return false;
            memcpy(caps, path, seg);
            caps[seg] = '\0';
            params[n++] = caps;
            caps += seg + 1;
            path += seg;
            pat = end + 1;
        } else {
            if (*pat != *path)
                return false;
            pat++;
            path++;
        }
    }
    if (*path != '\0')
        return false;
    *count = n;
    return true;
}

bool kith_http__pattern_valid(const char *pat)
{
    size_t captures = 0;
    if (pat == NULL || pat[0] != '/')
        return false;
    for (const char *p = pat; *p != '\0'; p++) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (end == NULL || end == p + 1 || memchr(p + 1, '/', (size_t)(end - p - 1)) ||
                memchr(p + 1, '{', (size_t)(end - p - 1)) || ++captures > KITH_HTTP_PARAMS_MAX)
                return false;
            p = end;
        } else if (*p == '}') {
            return false;
        }
    }
    return true;
}

size_t kith_http__body_max(const struct kith_http_server *srv, enum kith_http_method method,
                           const char *path, char *caps)
{
    if (srv->cfg.body_max == NULL)
        return KITH_HTTP_BODY_MAX;
    const char *params[KITH_HTTP_PARAMS_MAX];
    size_t count;
    for (size_t i = 0; i < srv->cfg.route_count; i++) {
        const struct kith_http_route *r = &srv->routes[i];
        if (r->method == method && match_pattern(r->pattern, path, caps, params, &count)) {
            size_t max = srv->cfg.body_max ? srv->cfg.body_max(r->data) : 0;
            return max > KITH_HTTP_BODY_MAX ? max : KITH_HTTP_BODY_MAX;
        }
    }
    return KITH_HTTP_BODY_MAX;
}

/*
 * Finds the route for the request. An exact method match wins, in table order; a GET route also
 * answers HEAD. Returns the route, or NULL with *allow filled ("" when no pattern matched).
 */
const struct kith_http_route *kith_http__route_find(const struct kith_http_server *srv,
                                                    struct kith_http_request *req, char *caps,
                                                    char *allow, size_t allow_size)
{
    const struct kith_http_route *exact = NULL, *head = NULL;
    unsigned methods = 0;
    size_t count = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < srv->cfg.route_count && exact == NULL; i++) {
        const struct kith_http_route *r = &srv->routes[i];
        if (!match_pattern(r->pattern, req->path, caps, req->params, &count))
            continue;
        methods |= 1u << r->method;
        if (r->method == KITH_HTTP_GET)
            methods |= 1u << KITH_HTTP_HEAD;
        if (r->method == req->method)
            exact = r;
        else if (req->method == KITH_HTTP_HEAD && r->method == KITH_HTTP_GET && head == NULL)
            head = r;
    }
    const struct kith_http_route *r = exact ? exact : head;
    if (r != NULL) {
        /* Captures of a later, failed candidate may have overwritten caps: match again. */
        match_pattern(r->pattern, req->path, caps, req->params, &req->param_count);
        req->route_name = r->name ? r->name : r->pattern;
        req->route_data = r->data;
        return r;
    }
    req->param_count = 0;
    for (int m = KITH_HTTP_GET; m < KITH_HTTP_OTHER; m++) {
        if (methods & (1u << m)) {
            if (allow[0] != '\0')
                kith_strlcpy(allow + strlen(allow), ", ", allow_size - strlen(allow));
            kith_strlcpy(allow + strlen(allow), method_text((enum kith_http_method)m),
                         allow_size - strlen(allow));
        }
    }
    return NULL;
}

/* ---- request helpers -------------------------------------------------------------------- */

const char *kith_http_header(const struct kith_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* Decodes src[0..n) strictly ('+' is a space; kith/text.h, the one decoder the engine uses
 * too); -1 when malformed, NUL, invalid UTF-8 or too long. */
static int query_decode(const char *src, size_t n, char *out, size_t outsize)
{
    return kith_pct_decode(src, n, true, out, outsize, NULL) == KITH_OK ? 1 : -1;
}

int kith_http_query_get(const char *query, const char *name, char *out, size_t outsize)
{
    if (out == NULL || outsize == 0)
        return -1;
    out[0] = '\0';
    if (query == NULL || name == NULL)
        return 0;
    size_t name_len = strlen(name);
    const char *p = query;
    while (*p != '\0') {
        size_t pair = strcspn(p, "&");
        const char *eq = memchr(p, '=', pair);
        size_t key_len = eq ? (size_t)(eq - p) : pair;
        /* Keys are compared after decoding too, so "a%5Fb" finds "a_b". */
        char key[128];
        if (key_len < sizeof(key) && query_decode(p, key_len, key, sizeof(key)) == 1 &&
            strlen(key) == name_len && memcmp(key, name, name_len) == 0) {
            if (eq == NULL)
                return 1;
            int rc = query_decode(eq + 1, pair - key_len - 1, out, outsize);
            if (rc < 0)
                out[0] = '\0';
            return rc;
        }
        p += pair;
        if (*p == '&')
            p++;
    }
    return 0;
}
