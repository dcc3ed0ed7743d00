/*
 * resources.c: the running server's side of shareable resources (CONTRACT section 19). The
 * redirect path (redirect.c) asks here for the resource of /r/{code}/{slug}: resources are cached
 * per program and slug for 10 s, as codes are, and an unknown or stale one costs one lookup job
 * after which the redirect handler runs again for the same request. A gated resource gets kith's
 * own small lead page: who shared it, what it is, an e-mail field and a consent box, in a plain
 * HTML form (no script, no third-party request, a Content-Security-Policy without scripts at all)
 * that posts to POST /v1/public/leads; that route takes the form as well as JSON, and answers a
 * form with a 303 to the resource. GET /u/{token} is the one-click unsubscribe page of a
 * follow-up. What a lead or an unsubscribe is, the engine decides (src/engine/leads.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uthash.h>

#include "app/app.h"
#include "kith/buf.h"
#include "kith/clock.h"
#include "kith/log.h"
#include "kith/text.h"

#define RES_TTL_NS (10 * UINT64_C(1000000000))
#define RES_CACHE_MAX 100000

struct kith_app_res {
    char key[48 + 1 + 64]; /* "<program>/<slug>" */
    bool found;
    struct kith_resource_link link;
    uint64_t loaded_ns;
    UT_hash_handle hh;
};

/* The lookup ran for this request: its second pass never looks up again. */
static char looked_up;

static const char csp[] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                          "base-uri 'none'; frame-ancestors 'none'";
static const char style[] =
    "<style>body{font-family:system-ui,-apple-system,sans-serif;max-width:34rem;margin:3rem auto;"
    "padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.6rem;margin:.2rem 0 1rem}"
    "label{display:block;margin:.9rem 0}input[type=email]{width:100%;box-sizing:border-box;"
    "padding:.55rem;font-size:1rem}button{padding:.6rem 1.3rem;font-size:1rem}"
    ".by{color:#555}.small{color:#555;font-size:.9rem}</style>";

/* Answers an HTML page; extra holds up to two more headers. */
static void page(struct kith_app *a, struct kith_http_request *req, int status,
                 struct kith_buf *body, const struct kith_http_header *extra, size_t n_extra)
{
    struct kith_http_header h[6] = {{"Content-Type", "text/html; charset=utf-8"},
                                    {"Cache-Control", "no-store"},
                                    {"Content-Security-Policy", csp},
                                    {"X-Content-Type-Options", "nosniff"}};
    size_t n = 4;
    for (size_t i = 0; i < n_extra && n < KITH_ARRAY_LEN(h); i++)
        h[n++] = extra[i];
    kith_app_observe(a, req->route_name ? req->route_name : "pages", status, req->started_ns);
    kith_http_respond(req, status, h, n, body->data ? body->data : "", body->len);
    kith_buf_dispose(body);
}

/* The head every page of this file opens with, up to its title's text. */
static const char page_head[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<meta name=\"robots\" content=\"noindex\">"
    "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\"><title>";

static void simple_page(struct kith_app *a, struct kith_http_request *req, int status,
                        const char *title, const char *text)
{
    struct kith_buf b = {0};
    kith_buf_str(&b, page_head);
    kith_buf_html(&b, title);
    kith_buf_str(&b, "</title>");
    kith_buf_str(&b, style);
    kith_buf_str(&b, "</head><body><h1>");
    kith_buf_html(&b, title);
    kith_buf_str(&b, "</h1><p>");
    kith_buf_html(&b, text);
    kith_buf_str(&b, "</p></body></html>\n");
    page(a, req, status, &b, NULL, 0);
}

static void gone(struct kith_app *a, struct kith_http_request *req)
{
    simple_page(a, req, 404, "This link doesn't lead anywhere",
                "What was shared here is not available any more. Please check with the person "
                "who sent it.");
}

/* ---- the resource cache ---- */

struct lookup {
    struct kith_app *a;
    struct kith_http_request *req;
    char program[48];
    char slug[64];
    struct kith_resource_link link;
    enum kith_status st;
};

static enum kith_status lookup_job(struct kith_tx *tx, void *arg)
{
    struct lookup *l = arg;
    l->st = kith_engine_resource_resolve(tx, l->program, l->slug, &l->link);
    return KITH_OK;
}

static void cache_put(struct kith_app *a, const char *key, const struct lookup *l)
{
    struct kith_app_res *e = NULL;
    if (a->resources.count >= RES_CACHE_MAX)
        kith_app_resources_clear(a);
    HASH_FIND_STR(a->resources.cache, key, e);
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL)
            abort();
        kith_strlcpy(e->key, key, sizeof(e->key));
        HASH_ADD_STR(a->resources.cache, key, e);
        a->resources.count++;
    }
    e->found = l->st == KITH_OK;
    e->link = l->link;
    e->loaded_ns = kith_clock_mono_ns();
}

static void lookup_done(void *arg, enum kith_status st)
{
    struct lookup *l = arg;
    if (st != KITH_OK || (l->st != KITH_OK && l->st != KITH_E_NOT_FOUND)) {
        kith_http_respond_error(l->req, KITH_E_UNAVAILABLE, NULL,
                                "the database is not available; retry");
    } else {
        char key[sizeof(((struct kith_app_res *)0)->key)];
        snprintf(key, sizeof(key), "%s/%s", l->program, l->slug);
        cache_put(l->a, key, l);
        l->req->user = &looked_up;
        kith_app_redirect(l->req, l->a); /* the code is cached now, and so is the resource */
    }
    free(l);
}

bool kith_app_resource_find(struct kith_app *a, struct kith_http_request *req, const char *program,
                            const struct kith_resource_link **out)
{
    const char *slug = req->params[1];
    char key[sizeof(((struct kith_app_res *)0)->key)];
    if (!kith_valid_slug(slug, 60)) {
        gone(a, req);
        return false;
    }
    snprintf(key, sizeof(key), "%s/%s", program, slug);
    struct kith_app_res *e = NULL;
    HASH_FIND_STR(a->resources.cache, key, e);
    if (e && (req->user == &looked_up || kith_clock_mono_ns() - e->loaded_ns < RES_TTL_NS)) {
        if (!e->found || !e->link.active) {
            gone(a, req);
            return false;
        }
        *out = &e->link;
        return true;
    }
    if (req->user == &looked_up) { /* the cache let go of it meanwhile: rare, retryable */
        kith_http_respond_error(req, KITH_E_UNAVAILABLE, NULL, "busy; retry");
        return false;
    }
    struct lookup *l = calloc(1, sizeof(*l));
    if (l == NULL)
        abort();
    l->a = a;
    l->req = req;
    kith_strlcpy(l->program, program, sizeof(l->program));
    kith_strlcpy(l->slug, slug, sizeof(l->slug));
    kith_app_submit(a, lookup_job, lookup_done, l);
    return false;
}

void kith_app_resources_clear(struct kith_app *a)
{
    struct kith_app_res *e, *t;
    HASH_ITER(hh, a->resources.cache, e, t)
    {
        HASH_DEL(a->resources.cache, e);
        free(e);
    }
    a->resources.count = 0;
}

void kith_app_resources_dispose(struct kith_app *a)
{
    kith_app_resources_clear(a);
}

/* ---- the lead page ---- */

void kith_app_lead_page(struct kith_app *a, struct kith_http_request *req,
                        const struct kith_resource_link *res, const char *first_name,
                        const char *click_id, const char *cookie)
{
    const char *who = first_name && *first_name ? first_name : "A friend";
    struct kith_buf b = {0};
    kith_buf_str(&b, page_head);
    kith_buf_html(&b, res->title);
    kith_buf_str(&b, "</title><meta property=\"og:title\" content=\"");
    kith_buf_html(&b, who);
    kith_buf_str(&b, " shared ");
    kith_buf_html(&b, res->title);
    kith_buf_str(&b, " with you\"><meta property=\"og:description\" content=\"");
    kith_buf_html(&b, res->description);
    kith_buf_str(&b, "\">");
    kith_buf_str(&b, style);
    kith_buf_str(&b, "</head><body><p class=\"by\">");
    kith_buf_html(&b, who);
    kith_buf_str(&b, " thought you would like this</p><h1>");
    kith_buf_html(&b, res->title);
    kith_buf_str(&b, "</h1>");
    if (res->description[0]) {
        kith_buf_str(&b, "<p>");
        kith_buf_html(&b, res->description);
        kith_buf_str(&b, "</p>");
    }
    if (click_id) {
        kith_buf_str(&b, "<form method=\"post\" action=\"/v1/public/leads\">"
                         "<input type=\"hidden\" name=\"click_id\" value=\"");
        kith_buf_html(&b, click_id);
        kith_buf_str(&b, "\"><label>Your e-mail<br><input type=\"email\" name=\"email\" "
                         "required autocomplete=\"email\" maxlength=\"254\"></label>"
                         "<label><input type=\"checkbox\" name=\"consent\" value=\"true\" "
                         "required> Send me ");
        kith_buf_html(&b, res->title);
        kith_buf_str(&b, ". ");
        kith_buf_html(&b, res->program_name);
        kith_buf_str(&b, " may e-mail me a few times about it; I can unsubscribe with one click "
                         "at any time.</label><button type=\"submit\">Send it to me</button>"
                         "</form><p class=\"small\">Your e-mail is only used for this.</p>");
    } else {
        kith_buf_str(&b, "<p class=\"small\">Open the link you were sent again in a moment to "
                         "get it.</p>");
    }
    kith_buf_str(&b, "</body></html>\n");
    struct kith_http_header extra[1] = {{"Set-Cookie", cookie}};
    page(a, req, 200, &b, extra, cookie ? 1 : 0);
}

/* ---- POST /v1/public/leads: JSON through the API path, a form answered as pages ---- */

struct form_call {
    struct kith_app *a;
    struct kith_http_request *req;
    struct kith_engine_request rq;
    struct kith_engine_answer ans;
    char *body;
};

static const char *request_header(const void *ctx, const char *name)
{
    return kith_http_header(ctx, name);
}

static enum kith_status form_job(struct kith_tx *tx, void *arg)
{
    struct form_call *f = arg;
    return kith_engine_call(tx, &f->a->eng, &f->rq, &f->ans);
}

static void form_done(void *arg, enum kith_status st)
{
    struct form_call *f = arg;
    json_t *ans = st == KITH_OK && f->ans.body ? json_loads(f->ans.body, 0, NULL) : NULL;
    const char *url = json_string_value(json_object_get(ans, "url"));
    if (url && (f->ans.code == 200 || f->ans.code == 201)) {
        struct kith_buf b = {0};
        kith_buf_str(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                         "<title>Here it is</title></head><body><p><a href=\"");
        kith_buf_html(&b, url);
        kith_buf_str(&b, "\">Here it is.</a></p></body></html>\n");
        struct kith_http_header extra[1] = {{"Location", url}};
        page(f->a, f->req, 303, &b, extra, 1);
    } else {
        const char *msg =
            json_string_value(json_object_get(json_object_get(ans, "error"), "message"));
        int code = st == KITH_OK && f->ans.code ? f->ans.code : 503;
        simple_page(f->a, f->req, code, "That did not work",
                    msg ? msg : "Something went wrong on our side. Please try again.");
    }
    json_decref(ans);
    kith_engine_answer_dispose(&f->ans);
    free(f->body);
    free(f);
}

/* The form's fields as the JSON body the operation reads. */
static char *form_json(const char *body)
{
    char click[80], email[300], consent[16];
    json_t *o = json_object();
    if (kith_http_query_get(body, "click_id", click, sizeof(click)) == 1)
        json_object_set_new(o, "click_id", json_string(click));
    if (kith_http_query_get(body, "email", email, sizeof(email)) == 1)
        json_object_set_new(o, "email", json_string(email));
    int c = kith_http_query_get(body, "consent", consent, sizeof(consent));
    json_object_set_new(
        o, "consent",
        json_boolean(c == 1 && (strcmp(consent, "true") == 0 || strcmp(consent, "on") == 0)));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text == NULL)
        abort();
    return text;
}

void kith_app_leads_handle(struct kith_http_request *req, void *ctx)
{
    struct kith_app *a = ctx;
    const struct kith_app_route *route = req->route_data;
    const char *ctype = kith_http_header(req, "Content-Type");
    if (ctype == NULL || strncasecmp(ctype, "application/x-www-form-urlencoded", 33) != 0) {
        kith_app_api_handle(req, ctx);
        return;
    }
    struct form_call *f = calloc(1, sizeof(*f));
    if (f == NULL)
        abort();
    f->a = a;
    f->req = req;
    f->body = form_json(req->body);
    f->rq = (struct kith_engine_request){
        .op = route->op,
        .scope = KITH_SCOPE_SIGNED, /* public: the click is the credential */
        .token = "",
        .path = req->path,
        .query = req->query,
        .params = req->params,
        .body = f->body,
        .body_len = strlen(f->body),
        .header = request_header,
        .header_ctx = req,
        .code_of = kith_http_status_for,
    };
    kith_app_submit(a, form_job, form_done, f);
}

/* ---- GET /u/{token} ---- */

struct unsub {
    struct kith_app *a;
    struct kith_http_request *req;
    bool write;
    char title[256];
    enum kith_status st;
};

static enum kith_status unsub_job(struct kith_tx *tx, void *arg)
{
    struct unsub *u = arg;
    u->st = kith_engine_lead_unsubscribe(tx, u->req->params[0], u->write, kith_clock_now_ms(),
                                         u->title);
    return KITH_OK;
}

static void unsub_done(void *arg, enum kith_status st)
{
    struct unsub *u = arg;
    if (st == KITH_OK && u->st == KITH_OK) {
        char text[400];
        snprintf(text, sizeof(text), "You will not get any more e-mails about %s.",
                 u->title[0] ? u->title : "this");
        simple_page(u->a, u->req, 200, "You are unsubscribed", text);
    } else if (st == KITH_OK && u->st == KITH_E_NOT_FOUND) {
        simple_page(u->a, u->req, 404, "This link is not valid",
                    "We could not find what this link was for. If you keep getting e-mails, "
                    "reply to one of them and ask to stop.");
    } else {
        simple_page(u->a, u->req, 503, "Please try again",
                    "We could not record this just now. Please open the link again in a minute.");
    }
    free(u);
}

void kith_app_unsubscribe(struct kith_http_request *req, void *ctx)
{
    struct unsub *u = calloc(1, sizeof(*u));
    if (u == NULL)
        abort();
    u->a = ctx;
    u->req = req;
    u->write = req->method != KITH_HTTP_HEAD; /* link checkers probe with HEAD */
    kith_app_submit(u->a, unsub_job, unsub_done, u);
}
