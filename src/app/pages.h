/*
 * pages.h: what the files of the people's pages share (pages.c, hub_page.c, cors.c): filling the
 * embedded HTML templates, escaping for HTML and for URLs, and the response headers every kith
 * page carries (a strict Content-Security-Policy, no referrer, no sniffing). Loop thread only.
 */
#ifndef KITH_APP_PAGES_H
#define KITH_APP_PAGES_H

#include <jansson.h>

#include "app/app.h"
#include "kith/buf.h"

/* A template variable: {{name}} inserts value HTML-escaped, {{{name}}} inserts it as it is
 * (markup this file built itself). */
struct kith_app_var {
    const char *name;
    const char *value;
};

/* The string at key in o, or "" when it is missing or not a string. */
const char *kith_app_json_text(json_t *o, const char *key);
/* Appends s escaped (kith_buf_html) with its first letter in capitals, as a sentence starts:
 * "a 25.00 USD credit" -> "A 25.00 USD credit". */
void kith_app_html_sentence(struct kith_buf *b, const char *s);
/* Appends s percent-encoded as a URL component (RFC 3986 unreserved bytes kept). */
void kith_app_url_encode(struct kith_buf *b, const char *s);
/* Fills the embedded template called name; a new string (free() it). An unknown {{name}} is
 * left empty. */
char *kith_app_html_fill(const char *name, const struct kith_app_var *vars, size_t n);
/* The version tag of an embedded file (its ETag without quotes), for cache-busting links. */
const char *kith_app_asset_version(struct kith_app *a, const char *name);

/* The hub's HTML (hub_page.c) from its document (kith_engine_hub_page); embed: no chrome. */
char *kith_app_hub_render(struct kith_app *a, json_t *doc, const char *token, bool embed);

/* The hub's rewards section (hub_rewards.c): each reward, its fulfilment in words, a coupon's
 * code and a claim's step, appended to b. */
void kith_app_hub_rewards(struct kith_buf *b, json_t *doc);

/* Answers an HTML page with the house headers; csp NULL for the default policy. */
void kith_app_html_respond(struct kith_app *a, struct kith_http_request *req, const char *route,
                           int status, const char *html, const char *csp, const char *cookie);
/* The 404 page for unknown links and hubs. */
void kith_app_not_found_page(struct kith_app *a, struct kith_http_request *req, const char *route,
                             const char *title, const char *text);

#endif
