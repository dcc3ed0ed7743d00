/*
 * pages.c: the people's pages as HTTP answers (CONTRACT 4b and 20): the friend landing page,
 * the share hub page GET /p/{token} (its data from one engine job, its HTML from hub_page.c),
 * the embedded files (/kith.js, /assets/{name}, the icon at /favicon.svg and /favicon.ico) with
 * an ETag, and the template filling they all use. Every page is self-contained: its styles and
 * scripts come from this server, its Content-Security-Policy allows nothing else (no inline
 * script), and it says what it needs to say without JavaScript. It is not for what the pages show:
 * the engine decides that.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/pages.h"
#include "app/web.h"
#include "kith/clock.h"
#include "kith/crypto.h"

/* Pages: scripts and styles from this origin only, nothing else fetched, never framed. */
static const char csp_default[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/* ---- HTML and URL text ---- */

const char *kith_app_json_text(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

void kith_app_html_sentence(struct kith_buf *b, const char *s)
{
    if (s[0] >= 'a' && s[0] <= 'z') {
        char c = (char)(s[0] - 'a' + 'A');
        kith_buf_append(b, &c, 1);
        s++;
    }
    kith_buf_html(b, s);
}

void kith_app_url_encode(struct kith_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (s == NULL)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            kith_buf_append(b, p, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            kith_buf_append(b, e, 3);
        }
    }
}

const struct kith_web_file *kith_app_web_file(const char *name)
{
    for (size_t i = 0; i < kith_web_file_count; i++) {
        if (strcmp(kith_web_files[i].name, name) == 0)
            return &kith_web_files[i];
    }
    return NULL;
}

char *kith_app_html_fill(const char *name, const struct kith_app_var *vars, size_t n)
{
    const struct kith_web_file *f = kith_app_web_file(name);
    struct kith_buf b = {0};
    if (f == NULL)
        abort(); /* a template the build did not embed: a bug */
    kith_buf_reserve(&b, f->len + 1024);
    const char *p = f->data;
    for (;;) {
        const char *open = strstr(p, "{{");
        if (open == NULL) {
            kith_buf_str(&b, p);
            break;
        }
        bool raw = open[2] == '{';
        const char *start = open + (raw ? 3 : 2);
        const char *end = strstr(start, raw ? "}}}" : "}}");
        if (end == NULL) {
            kith_buf_str(&b, p);
            break;
        }
        kith_buf_append(&b, p, (size_t)(open - p));
        size_t len = (size_t)(end - start);
        for (size_t i = 0; i < n; i++) {
            if (strlen(vars[i].name) == len && memcmp(vars[i].name, start, len) == 0) {
                if (raw)
                    kith_buf_str(&b, vars[i].value ? vars[i].value : "");
                else
                    kith_buf_html(&b, vars[i].value);
                break;
            }
        }
        p = end + (raw ? 3 : 2);
    }
    return kith_buf_take(&b);
}

void kith_app_html_respond(struct kith_app *a, struct kith_http_request *req, const char *route,
                           int status, const char *html, const char *csp, const char *cookie)
{
    struct kith_http_header h[7];
    size_t n = 0;
    h[n++] = (struct kith_http_header){"Content-Type", "text/html; charset=utf-8"};
    h[n++] = (struct kith_http_header){"Cache-Control", "no-store"};
    h[n++] = (struct kith_http_header){"Content-Security-Policy", csp ? csp : csp_default};
    h[n++] = (struct kith_http_header){"Referrer-Policy", "no-referrer"};
    h[n++] = (struct kith_http_header){"X-Content-Type-Options", "nosniff"};
    if (cookie)
        h[n++] = (struct kith_http_header){"Set-Cookie", cookie};
    kith_app_observe(a, route, status, req->started_ns);
    kith_http_respond(req, status, h, n, html, strlen(html));
}

void kith_app_not_found_page(struct kith_app *a, struct kith_http_request *req, const char *route,
                             const char *title, const char *text)
{
    struct kith_app_var v[] = {
        {"title", title}, {"text", text}, {"css", kith_app_asset_version(a, "kith.css")}};
    char *html = kith_app_html_fill("notfound.html", v, KITH_ARRAY_LEN(v));
    kith_app_html_respond(a, req, route, 404, html, NULL, NULL);
    free(html);
}

/* ---- the friend landing page (4b) ---- */

/* "a 10.00 USD credit" -> "A 10.00 USD credit": the reward opens a sentence of its own. */
static void capitalised(char *out, size_t outsize, const char *s)
{
    kith_strlcpy(out, s, outsize);
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

void kith_app_landing(struct kith_app *a, struct kith_http_request *req,
                      const struct kith_app_landing *in)
{
    char headline[200], lead[600], title[400], ogdesc[800], reward[340], url[600];
    char button[300], codelabel[160], fine[800];
    bool named = in->referrer_name[0] != '\0';
    const char *who = named ? in->referrer_name : "A friend";
    snprintf(headline, sizeof(headline), named ? "%s invited you" : "You're invited",
             in->referrer_name);
    snprintf(title, sizeof(title), "%s invited you to %s", who, in->program_name);
    snprintf(lead, sizeof(lead),
             "%s thought you would enjoy %s, and shared a personal link "
             "with you.",
             who, in->program_name);
    snprintf(button, sizeof(button), "Continue to %s", in->program_name);
    snprintf(codelabel, sizeof(codelabel), named ? "%s's code" : "Your friend's code",
             in->referrer_name);
    snprintf(url, sizeof(url), "%s/r/%s", a->eng.public_url, in->code);
    snprintf(fine, sizeof(fine),
             "If you join, %s will see your first name and how things are going, so they can "
             "thank you; never your e-mail. %s remembers who invited you with a cookie.",
             named ? in->referrer_name : "your friend", in->program_name);
    struct kith_buf g = {0}; /* markup with escaped values: no fixed size can bound it */
    if (in->friend_reward[0]) {
        capitalised(reward, sizeof(reward), in->friend_reward);
        kith_buf_str(&g, "<section class=\"gift\" aria-labelledby=\"gift-h\"><h2 id=\"gift-h\">"
                         "What you get</h2><p class=\"gift-what\">");
        kith_buf_html(&g, reward);
        kith_buf_str(&g, "</p><p class=\"gift-how\">It's yours ");
        kith_buf_html(&g, in->earn_text);
        kith_buf_str(&g, ".</p></section>");
        snprintf(ogdesc, sizeof(ogdesc), "%s when you join %s with %s's invitation.", reward,
                 in->program_name, who);
    } else {
        snprintf(ogdesc, sizeof(ogdesc), "%s thought you would enjoy %s.", who, in->program_name);
    }
    struct kith_app_var v[] = {
        {"title", title},
        {"headline", headline},
        {"lead", lead},
        {"program", in->program_name},
        {"og_url", url},
        {"og_description", ogdesc},
        {"gift", kith_buf_cstr(&g)},
        {"code", in->code},
        {"code_label", codelabel},
        {"href", in->href},
        {"button", button},
        {"fineprint", fine},
        {"css", kith_app_asset_version(a, "kith.css")},
    };
    char *html = kith_app_html_fill("landing.html", v, KITH_ARRAY_LEN(v));
    kith_buf_dispose(&g);
    kith_app_html_respond(a, req, "links.redirect", 200, html,
                          "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'",
                          in->cookie);
    free(html);
}

/* ---- the share hub page (20) ---- */

struct hub_job {
    struct kith_app *a;
    struct kith_http_request *req;
    char token[KITH_HUB_TOKEN_MAX + 1];
    json_t *doc;
    enum kith_status st;
};

static enum kith_status hub_job_run(struct kith_tx *tx, void *arg)
{
    struct hub_job *j = arg;
    json_decref(j->doc); /* a retried job starts again */
    j->doc = NULL;
    j->st = kith_engine_hub_page(tx, &j->a->eng, j->token, kith_clock_now_ms(), &j->doc);
    return KITH_OK;
}

/* The embedded hub may be framed by the program's own sites, and nothing else. */
static void embed_csp(json_t *doc, char *out, size_t outsize)
{
    struct kith_buf b = {0};
    kith_buf_str(&b, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                     "data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                     "frame-ancestors 'self'");
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(doc, "frame_ancestors"), i, o)
    {
        if (b.len + json_string_length(o) + 2 >= outsize)
            break;
        kith_buf_printf(&b, " %s", json_string_value(o)); /* validated origins: no ';' or ' ' */
    }
    kith_strlcpy(out, kith_buf_cstr(&b), outsize);
    kith_buf_dispose(&b);
}

static void hub_job_done(void *arg, enum kith_status st)
{
    struct hub_job *j = arg;
    if (st != KITH_OK || (j->st != KITH_OK && j->st != KITH_E_NOT_FOUND)) {
        kith_http_respond_error(j->req, KITH_E_UNAVAILABLE, NULL,
                                "the database is not available; retry");
    } else if (j->st == KITH_E_NOT_FOUND) {
        kith_app_not_found_page(j->a, j->req, "hub.page", "This link no longer works",
                                "Share-page links expire after a while, and stop working when "
                                "an account is closed. Ask for a fresh link where you got "
                                "this one.");
    } else {
        char embed[8];
        bool embedded = kith_http_query_get(j->req->query, "embed", embed, sizeof(embed)) == 1 &&
                        strcmp(embed, "1") == 0;
        char csp[4096];
        if (embedded)
            embed_csp(j->doc, csp, sizeof(csp));
        char *html = kith_app_hub_render(j->a, j->doc, j->token, embedded);
        kith_app_html_respond(j->a, j->req, "hub.page", 200, html, embedded ? csp : NULL, NULL);
        free(html);
    }
    json_decref(j->doc);
    kith_crypto_wipe(j->token, sizeof(j->token));
    free(j);
}

void kith_app_hub_page(struct kith_http_request *req, void *ctx)
{
    struct kith_app *a = ctx;
    const char *token = req->params[0];
    if (strlen(token) > KITH_HUB_TOKEN_MAX) {
        kith_app_not_found_page(a, req, "hub.page", "This link no longer works",
                                "Ask for a fresh link where you got this one.");
        return;
    }
    struct hub_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->a = a;
    j->req = req;
    kith_strlcpy(j->token, token, sizeof(j->token));
    kith_app_submit(a, hub_job_run, hub_job_done, j);
}

/* ---- embedded files ---- */

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (dot && strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    return "application/octet-stream";
}

const char *kith_app_asset_version(struct kith_app *a, const char *name)
{
    for (size_t i = 0; i < kith_web_file_count; i++) {
        if (strcmp(kith_web_files[i].name, name) == 0)
            return a->pages.etags[i];
    }
    return "0";
}

/* docs/api/openapi.json, embedded by cmake/embed.cmake (CMakeLists.txt). */
extern const char kith_data_openapi[];
extern const size_t kith_data_openapi_len;

/* GET /openapi.json: the API reference, as committed; any site may read it. */
static void openapi(struct kith_app *a, struct kith_http_request *req,
                    const struct kith_app_route *route)
{
    char etag[32];
    snprintf(etag, sizeof(etag), "\"%s\"", a->pages.openapi_etag);
    struct kith_http_header h[] = {
        {"Content-Type", "application/json"},
        {"Cache-Control", "public, max-age=3600"},
        {"ETag", etag},
        {"X-Content-Type-Options", "nosniff"},
        {"Access-Control-Allow-Origin", "*"},
    };
    const char *inm = kith_http_header(req, "If-None-Match");
    if (inm && strstr(inm, etag) != NULL) {
        kith_app_observe(a, route->name, 304, req->started_ns);
        kith_http_respond(req, 304, h, KITH_ARRAY_LEN(h), "", 0);
        return;
    }
    kith_app_observe(a, route->name, 200, req->started_ns);
    kith_http_respond(req, 200, h, KITH_ARRAY_LEN(h), kith_data_openapi, kith_data_openapi_len);
}

void kith_app_asset(struct kith_http_request *req, void *ctx)
{
    struct kith_app *a = ctx;
    const struct kith_app_route *route = req->route_data;
    if (strcmp(route->pattern, "/openapi.json") == 0) {
        openapi(a, req, route);
        return;
    }
    /* /favicon.svg and /favicon.ico are the pages' icon, one SVG; /kith.js is kith.js. */
    bool icon = strncmp(route->pattern, "/favicon.", 9) == 0;
    const char *name = icon ? "favicon.svg" : req->param_count > 0 ? req->params[0] : "kith.js";
    const struct kith_web_file *f = NULL;
    size_t idx = 0;
    const char *dot = strrchr(name, '.');
    /* Only scripts, styles and the icon are assets; templates stay inside the binary. */
    bool servable = icon || (dot && (strcmp(dot, ".js") == 0 || strcmp(dot, ".css") == 0));
    for (size_t i = 0; servable && i < kith_web_file_count; i++) {
        if (strcmp(kith_web_files[i].name, name) == 0) {
            f = &kith_web_files[i];
            idx = i;
        }
    }
    if (f == NULL) {
        kith_app_observe(a, route->name, 404, req->started_ns);
        kith_http_respond_error(req, KITH_E_NOT_FOUND, NULL, "no such file");
        return;
    }
    char etag[32];
    snprintf(etag, sizeof(etag), "\"%s\"", a->pages.etags[idx]);
    struct kith_http_header h[] = {
        {"Content-Type", content_type(name)},
        {"Cache-Control", "public, max-age=3600"},
        {"ETag", etag},
        {"X-Content-Type-Options", "nosniff"},
        /* kith.js runs on the business's own pages: any site may load it. */
        {"Cross-Origin-Resource-Policy", "cross-origin"},
    };
    const char *inm = kith_http_header(req, "If-None-Match");
    if (inm && strstr(inm, etag) != NULL) {
        kith_app_observe(a, route->name, 304, req->started_ns);
        kith_http_respond(req, 304, h, KITH_ARRAY_LEN(h), "", 0);
        return;
    }
    kith_app_observe(a, route->name, 200, req->started_ns);
    kith_http_respond(req, 200, h, KITH_ARRAY_LEN(h), f->data, f->len);
}

void kith_app_pages_init(struct kith_app *a)
{
    a->pages.etags = calloc(kith_web_file_count ? kith_web_file_count : 1, sizeof(*a->pages.etags));
    if (a->pages.etags == NULL)
        abort();
    for (size_t i = 0; i < kith_web_file_count; i++) {
        char h[KITH_CRYPTO_HASH_HEX];
        kith_crypto_hash(kith_web_files[i].data, kith_web_files[i].len, h);
        kith_strlcpy(a->pages.etags[i], h, 17); /* 64 bits of the digest name a version */
    }
    char oh[KITH_CRYPTO_HASH_HEX];
    kith_crypto_hash(kith_data_openapi, kith_data_openapi_len, oh);
    kith_strlcpy(a->pages.openapi_etag, oh, 17);
}

void kith_app_pages_dispose(struct kith_app *a)
{
    kith_app_cors_clear(a);
    free(a->pages.etags);
    a->pages.etags = NULL;
}
