/*
 * program_page.c: the public program page, GET /programs/{id} (CONTRACT section 18), for
 * programs with `public_page: true`: the published rules (what both sides get, how it is earned,
 * the tracks and their levels), the totals, the latest spotlight (first names only) and the
 * opted-in leaderboard. One store job reads what GET /v1/public/programs/{id} answers; this file
 * only writes it as HTML (escaped, no script, a strict CSP). No email, external id or last name
 * is ever on it. It is not for deciding what is public: the engine does.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/pages.h"
#include "kith/buf.h"
#include "kith/clock.h"

struct job {
    struct kith_app *a;
    struct kith_http_request *req;
    char program[48];
    json_t *doc;
    enum kith_status st;
};

static void item(struct kith_buf *b, const char *text)
{
    kith_buf_str(b, "<li>");
    kith_buf_html(b, text);
    kith_buf_str(b, "</li>");
}

static void rules(struct kith_buf *b, json_t *doc)
{
    json_t *words = json_object_get(doc, "words");
    size_t i;
    json_t *v;
    kith_buf_str(b, "<section aria-labelledby=\"rules\"><h2 id=\"rules\">The rules</h2><ul>");
    if (kith_app_json_text(words, "friend")[0]) {
        struct kith_buf t = {0};
        kith_buf_printf(&t, "A friend you invite gets %s.", kith_app_json_text(words, "friend"));
        item(b, kith_buf_cstr(&t));
        kith_buf_dispose(&t);
    }
    json_array_foreach(json_object_get(words, "referrer"), i, v)
    {
        struct kith_buf t = {0};
        kith_buf_printf(&t, "You get %s.", json_string_value(v));
        item(b, kith_buf_cstr(&t));
        kith_buf_dispose(&t);
    }
    if (kith_app_json_text(words, "earned")[0]) {
        struct kith_buf t = {0};
        kith_buf_printf(&t, "It is earned %s.", kith_app_json_text(words, "earned"));
        item(b, kith_buf_cstr(&t));
        kith_buf_dispose(&t);
    }
    kith_buf_str(b, "</ul></section>");
    json_t *tracks = json_object_get(json_object_get(doc, "rules"), "tracks");
    if (json_array_size(tracks) == 0)
        return;
    kith_buf_str(b, "<section aria-labelledby=\"tracks\"><h2 id=\"tracks\">Ways to take part</h2>");
    json_array_foreach(tracks, i, v)
    {
        kith_buf_str(b, "<h3>");
        kith_buf_html(b, kith_app_json_text(v, "name")[0] ? kith_app_json_text(v, "name")
                                                          : kith_app_json_text(v, "id"));
        kith_buf_str(b, "</h3><ul>");
        size_t k;
        json_t *lv;
        json_array_foreach(json_object_get(v, "levels"), k, lv)
        {
            struct kith_buf t = {0};
            kith_buf_printf(&t, "%s, from %lld",
                            kith_app_json_text(lv, "name")[0] ? kith_app_json_text(lv, "name")
                                                              : kith_app_json_text(lv, "id"),
                            (long long)json_integer_value(json_object_get(lv, "at")));
            item(b, kith_buf_cstr(&t));
            kith_buf_dispose(&t);
        }
        kith_buf_str(b, "</ul>");
    }
    kith_buf_str(b, "</section>");
}

static void totals(struct kith_buf *b, json_t *doc)
{
    json_t *t = json_object_get(doc, "totals");
    kith_buf_printf(b,
                    "<section aria-labelledby=\"totals\"><h2 id=\"totals\">So far</h2><ul>"
                    "<li>%lld members</li><li>%lld friends who joined and stayed</li>",
                    (long long)json_integer_value(json_object_get(t, "participants")),
                    (long long)json_integer_value(json_object_get(t, "qualified_referrals")));
    const char *kind;
    json_t *n;
    json_object_foreach(json_object_get(t, "rewards_by_kind"), kind, n)
    {
        struct kith_buf s = {0};
        kith_buf_printf(&s, "%lld rewards of kind %s", (long long)json_integer_value(n), kind);
        item(b, kith_buf_cstr(&s));
        kith_buf_dispose(&s);
    }
    kith_buf_str(b, "</ul></section>");
}

static void spotlight(struct kith_buf *b, json_t *doc)
{
    json_t *s = json_object_get(doc, "spotlight");
    if (!json_is_object(s) || json_array_size(json_object_get(s, "winners")) == 0)
        return;
    kith_buf_str(b, "<section aria-labelledby=\"spot\"><h2 id=\"spot\">In the spotlight, ");
    kith_buf_html(b, kith_app_json_text(s, "period"));
    kith_buf_str(b, "</h2><ul>");
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(s, "winners"), i, w)
    {
        kith_buf_str(b, "<li><strong>");
        kith_buf_html(b, kith_app_json_text(w, "first_name")[0]
                             ? kith_app_json_text(w, "first_name")
                             : "A member");
        kith_buf_str(b, "</strong>");
        if (kith_app_json_text(w, "note")[0]) {
            kith_buf_str(b, ": ");
            kith_buf_html(b, kith_app_json_text(w, "note"));
        }
        kith_buf_str(b, "</li>");
    }
    kith_buf_str(b, "</ul></section>");
}

static void leaderboard(struct kith_buf *b, json_t *doc)
{
    json_t *data = json_object_get(json_object_get(doc, "leaderboard"), "data");
    if (json_array_size(data) == 0)
        return;
    kith_buf_str(b, "<section aria-labelledby=\"board\"><h2 id=\"board\">This month's thank-yous"
                    "</h2><ol>");
    size_t i;
    json_t *e;
    json_array_foreach(data, i, e)
    {
        kith_buf_str(b, "<li>");
        kith_buf_html(b, kith_app_json_text(e, "display_name")[0]
                             ? kith_app_json_text(e, "display_name")
                             : "A member");
        kith_buf_printf(b, ": %lld</li>",
                        (long long)json_integer_value(json_object_get(e, "qualified")));
    }
    kith_buf_str(b, "</ol><p class=\"fineprint\">Only members who chose to be listed appear."
                    "</p></section>");
}

static enum kith_status job_run(struct kith_tx *tx, void *arg)
{
    struct job *j = arg;
    json_decref(j->doc); /* a retried job starts again */
    j->doc = NULL;
    j->st =
        kith_engine_public_program_page(tx, &j->a->eng, j->program, kith_clock_now_ms(), &j->doc);
    return KITH_OK;
}

static void job_done(void *arg, enum kith_status st)
{
    struct job *j = arg;
    if (st != KITH_OK || (j->st != KITH_OK && j->st != KITH_E_NOT_FOUND)) {
        kith_http_respond_error(j->req, KITH_E_UNAVAILABLE, NULL,
                                "the database is not available; retry");
    } else if (j->st == KITH_E_NOT_FOUND) {
        kith_app_not_found_page(j->a, j->req, "programs.page", "There is no page here",
                                "This program has not published a page.");
    } else {
        struct kith_buf body = {0};
        rules(&body, j->doc);
        totals(&body, j->doc);
        spotlight(&body, j->doc);
        leaderboard(&body, j->doc);
        const char *name = kith_app_json_text(json_object_get(j->doc, "program"), "name");
        struct kith_buf desc = {0};
        kith_buf_printf(&desc, "%s: the rules, the people who make it, and how to take part.",
                        name);
        struct kith_app_var v[] = {
            {"title", name},
            {"program", name},
            {"description", kith_buf_cstr(&desc)},
            {"body", kith_buf_cstr(&body)},
            {"css", kith_app_asset_version(j->a, "kith.css")},
        };
        char *html = kith_app_html_fill("program.html", v, KITH_ARRAY_LEN(v));
        kith_app_html_respond(j->a, j->req, "programs.page", 200, html,
                              "default-src 'none'; style-src 'self'; img-src 'self'; "
                              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                              NULL);
        free(html);
        kith_buf_dispose(&body);
        kith_buf_dispose(&desc);
    }
    json_decref(j->doc);
    free(j);
}

void kith_app_program_page(struct kith_http_request *req, void *ctx)
{
    struct kith_app *a = ctx;
    if (strlen(req->params[0]) >= sizeof(((struct job *)0)->program)) {
        kith_app_not_found_page(a, req, "programs.page", "There is no page here",
                                "This program has not published a page.");
        return;
    }
    struct job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->a = a;
    j->req = req;
    kith_strlcpy(j->program, req->params[0], sizeof(j->program));
    kith_app_submit(a, job_run, job_done, j);
}
