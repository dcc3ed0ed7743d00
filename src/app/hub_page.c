/*
 * hub_page.c: the share hub's HTML (CONTRACT section 20) from the engine's hub document. What
 * matters most comes first and works without JavaScript: the code and the link, the ready-made
 * messages as plain mailto:, sms: and WhatsApp links, and a QR code drawn here as inline SVG.
 * Then what both sides get, progress, friends, rewards (hub_rewards.c, with coupon codes and
 * claim steps), resources and the leaderboard, and last the person's own controls (preferences,
 * download, erase), which hub.js brings to life. A section whose data the document does not carry
 * (tracks, preferences, resources before the program has any) is left out rather than shown empty.
 * Every value is HTML-escaped here.
 */
#include <stdlib.h>
#include <string.h>

#include "app/pages.h"
#include "kith/qr.h"

static void copy_row(struct kith_buf *b, const char *id, const char *label, const char *value,
                     const char *button, bool big)
{
    kith_buf_printf(b, "<div class=\"field\"><label for=\"%s\">", id);
    kith_buf_html(b, label);
    kith_buf_printf(b, "</label><div class=\"copyrow\"><input id=\"%s\" class=\"%s\" value=\"", id,
                    big ? "code" : "link");
    kith_buf_html(b, value);
    kith_buf_printf(b, "\" readonly><button type=\"button\" class=\"btn\" data-copy=\"%s\">", id);
    kith_buf_html(b, button);
    kith_buf_str(b, "</button></div></div>");
}

static void share_links(struct kith_buf *b, json_t *share)
{
    json_t *m = json_object_get(share, "messages");
    json_t *email = json_object_get(m, "email");
    kith_buf_str(b, "<h2 class=\"minor\" id=\"send-h\">Send it your way</h2>"
                    "<ul class=\"share\" aria-labelledby=\"send-h\">");
    kith_buf_str(b, "<li><a class=\"btn share-btn\" href=\"mailto:?subject=");
    struct kith_buf u = {0};
    kith_app_url_encode(&u, kith_app_json_text(email, "subject"));
    kith_buf_str(&u, "&body=");
    kith_app_url_encode(&u, kith_app_json_text(email, "body"));
    kith_buf_html(b, kith_buf_cstr(&u));
    kith_buf_dispose(&u);
    kith_buf_str(b, "\">Email</a></li><li><a class=\"btn share-btn\" href=\"sms:?&amp;body=");
    kith_app_url_encode(&u, kith_app_json_text(m, "sms"));
    kith_buf_html(b, kith_buf_cstr(&u));
    kith_buf_dispose(&u);
    kith_buf_str(b, "\">Text message</a></li><li><a class=\"btn share-btn\" "
                    "href=\"https://wa.me/?text=");
    kith_app_url_encode(&u, kith_app_json_text(m, "whatsapp"));
    kith_buf_html(b, kith_buf_cstr(&u));
    kith_buf_dispose(&u);
    kith_buf_str(b, "\" target=\"_blank\" rel=\"noopener noreferrer\">WhatsApp</a></li>"
                    "<li><button type=\"button\" class=\"btn share-btn\" data-native-share "
                    "hidden data-text=\"");
    kith_buf_html(b, kith_app_json_text(m, "social"));
    kith_buf_str(b, "\">More ways to share</button></li><li><button type=\"button\" "
                    "class=\"btn share-btn\" data-copy-text=\"");
    kith_buf_html(b, kith_app_json_text(m, "social"));
    kith_buf_str(b, "\" hidden>Copy a message</button></li></ul>");
    /* The words themselves, so nobody sends what they have not read. */
    kith_buf_str(b, "<details class=\"messages\"><summary>Read the messages first</summary>"
                    "<h3>Email</h3><p class=\"msg\"><strong>");
    kith_buf_html(b, kith_app_json_text(email, "subject"));
    kith_buf_str(b, "</strong><br>");
    kith_buf_html(b, kith_app_json_text(email, "body"));
    kith_buf_str(b, "</p><h3>Text and WhatsApp</h3><p class=\"msg\">");
    kith_buf_html(b, kith_app_json_text(m, "sms"));
    kith_buf_str(b, "</p></details>");
}

static void hero(struct kith_buf *b, json_t *doc, const char *qr_svg)
{
    json_t *me = json_object_get(doc, "participant"), *share = json_object_get(doc, "share");
    json_t *prog = json_object_get(doc, "program");
    const char *name = kith_app_json_text(me, "first_name");
    kith_buf_str(b, "<section class=\"panel hero\" aria-labelledby=\"share-h\">"
                    "<h1 id=\"share-h\">");
    if (name[0]) {
        kith_buf_str(b, "Thank you for sharing, ");
        kith_buf_html(b, name);
    } else {
        kith_buf_str(b, "Thank you for sharing");
    }
    kith_buf_str(b, "</h1><p class=\"lead\">Send ");
    kith_buf_html(b, kith_app_json_text(prog, "name"));
    kith_buf_str(b, " to someone you think would enjoy it. It comes from you, in your words; "
                    "there is no rush.</p><div class=\"codebox\">");
    copy_row(b, "code", "Your code", kith_app_json_text(share, "code"), "Copy code", true);
    copy_row(b, "link", "Your link", kith_app_json_text(share, "share_url"), "Copy link", false);
    kith_buf_str(b, "</div>");
    share_links(b, share);
    kith_buf_str(b, "</section>");
    kith_buf_str(b, "<section class=\"panel qr-panel\" aria-labelledby=\"qr-h\">"
                    "<h2 id=\"qr-h\">In person</h2><figure class=\"qr\">");
    if (qr_svg)
        kith_buf_str(b, qr_svg);
    kith_buf_str(b, "<figcaption>A friend can scan this with their phone camera to open your "
                    "link.</figcaption></figure></section>");
}

static void both_get(struct kith_buf *b, json_t *doc)
{
    json_t *prog = json_object_get(doc, "program"),
           *mine = json_object_get(prog, "referrer_rewards");
    const char *friend = json_string_value(json_object_get(prog, "friend_reward"));
    if (friend == NULL && json_array_size(mine) == 0)
        return;
    kith_buf_str(b,
                 "<section class=\"panel\" aria-labelledby=\"gets-h\"><h2 id=\"gets-h\">What you "
                 "both get</h2><dl class=\"gets\">");
    if (friend) {
        kith_buf_str(b, "<div><dt>Your friend</dt><dd>");
        kith_app_html_sentence(b, friend);
        kith_buf_str(b, ", once they make ");
        kith_buf_html(b, kith_app_json_text(prog, "wait"));
        kith_buf_str(b, ".</dd></div>");
    }
    size_t i, n = json_array_size(mine);
    json_t *r;
    if (n > 0)
        kith_buf_str(b, "<div><dt>You</dt>");
    json_array_foreach(mine, i, r)
    {
        json_int_t from = json_integer_value(json_object_get(r, "from_count"));
        json_t *to = json_object_get(r, "to_count");
        kith_buf_str(b, "<dd>");
        kith_app_html_sentence(b, kith_app_json_text(r, "words"));
        kith_buf_str(b, " for each friend who makes ");
        kith_buf_html(b, kith_app_json_text(prog, "wait"));
        if (json_is_integer(to))
            kith_buf_printf(b, " (friends %lld to %lld)", (long long)from,
                            (long long)json_integer_value(to));
        else if (from > 1)
            kith_buf_printf(b, " (from your friend number %lld on)", (long long)from);
        kith_buf_str(b, ".</dd>");
    }
    if (n > 0)
        kith_buf_str(b, "</div>");
    kith_buf_str(b, "</dl></section>");
}

/* The track's and level's names from the program's tracks setting (section 15). */
static json_t *find_by_id(json_t *list, const char *id)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (strcmp(kith_app_json_text(e, "id"), id) == 0)
            return e;
    }
    return NULL;
}

static void progress(struct kith_buf *b, json_t *doc)
{
    json_t *me = json_object_get(doc, "participant");
    json_t *prog_tracks = json_object_get(json_object_get(doc, "program"), "tracks");
    json_t *progress = json_object_get(me, "progress"), *roles = json_object_get(me, "roles");
    if (json_object_size(progress) == 0 && json_array_size(roles) == 0)
        return;
    kith_buf_str(b, "<section class=\"panel\" aria-labelledby=\"progress-h\"><h2 id=\"progress-h\">"
                    "Your progress</h2>");
    const char *tid;
    json_t *t;
    if (json_object_size(progress) > 0)
        kith_buf_str(b, "<ul class=\"tracks\">");
    json_object_foreach(progress, tid, t)
    {
        json_t *track = find_by_id(prog_tracks, tid), *levels = json_object_get(track, "levels");
        json_t *level = find_by_id(levels, kith_app_json_text(t, "level"));
        json_t *next = json_object_get(t, "next");
        json_int_t count = json_integer_value(json_object_get(t, "count"));
        kith_buf_str(b, "<li><h3>");
        kith_buf_html(b, track ? kith_app_json_text(track, "name") : tid);
        kith_buf_str(b, "</h3><p class=\"level\">");
        if (level)
            kith_buf_html(b, kith_app_json_text(level, "name"));
        else
            kith_buf_str(b, "Just getting started");
        kith_buf_str(b, "</p>");
        if (json_is_object(next)) {
            json_int_t at = json_integer_value(json_object_get(next, "at"));
            json_int_t left = json_integer_value(json_object_get(next, "remaining"));
            json_t *nl = find_by_id(levels, kith_app_json_text(next, "level"));
            kith_buf_printf(b, "<progress max=\"%lld\" value=\"%lld\">%lld of %lld</progress>",
                            (long long)at, (long long)count, (long long)count, (long long)at);
            kith_buf_printf(b, "<p>%lld more to reach ", (long long)left);
            kith_buf_html(b,
                          nl ? kith_app_json_text(nl, "name") : kith_app_json_text(next, "level"));
            size_t gi;
            json_t *g;
            bool first = true;
            json_array_foreach(json_object_get(nl, "grants"), gi, g)
            {
                kith_buf_str(b, first ? ", which brings: " : "; ");
                kith_buf_html(b, kith_app_json_text(g, "description"));
                first = false;
            }
            kith_buf_str(b, ".</p>");
        } else {
            kith_buf_str(b, "<p>You have reached the top of this track. Thank you.</p>");
        }
        if (json_is_string(json_object_get(t, "pending_level")))
            kith_buf_str(b, "<p class=\"note\">Your next level is waiting for a quick look from "
                            "the team.</p>");
        kith_buf_str(b, "</li>");
    }
    if (json_object_size(progress) > 0)
        kith_buf_str(b, "</ul>");
    if (json_array_size(roles) > 0) {
        size_t i;
        json_t *r;
        kith_buf_str(b, "<p class=\"roles\">Your roles: ");
        json_array_foreach(roles, i, r)
        {
            char role[64];
            kith_strlcpy(role, kith_app_json_text(r, "role"), sizeof(role));
            for (char *c = role; *c; c++)
                if (*c == '_')
                    *c = ' ';
            if (i > 0)
                kith_buf_str(b, ", ");
            kith_buf_str(b, "<span class=\"pill\">");
            kith_buf_html(b, role);
            kith_buf_str(b, "</span>");
        }
        kith_buf_str(b, "</p>");
    }
    kith_buf_str(b, "</section>");
}

static void people(struct kith_buf *b, json_t *doc)
{
    json_t *list = json_object_get(doc, "referrals"), *r;
    size_t i;
    kith_buf_str(b, "<section class=\"panel\" aria-labelledby=\"friends-h\"><h2 id=\"friends-h\">"
                    "Friends you have invited</h2>");
    if (json_array_size(list) == 0) {
        kith_buf_str(b, "<p class=\"empty\">No one yet. When a friend joins with your link or "
                        "code, you will see them here.</p></section>");
        return;
    }
    kith_buf_str(b, "<ul class=\"rows\">");
    json_array_foreach(list, i, r)
    {
        const char *name = json_string_value(json_object_get(r, "first_name"));
        kith_buf_str(b, "<li><span class=\"who\">");
        kith_buf_html(b, name ? name : "A friend");
        kith_buf_printf(b, "</span><span class=\"status status-%s\">",
                        kith_app_json_text(r, "status"));
        kith_buf_html(b, kith_app_json_text(r, "status_text"));
        kith_buf_str(b, "</span></li>");
    }
    kith_buf_str(b, "</ul></section>");
}

/* Resources (section 19), each with its own link, when the share answer carries any. */
static void resources(struct kith_buf *b, json_t *doc)
{
    json_t *list = json_object_get(json_object_get(doc, "share"), "resources"), *r;
    size_t i;
    if (json_array_size(list) == 0)
        return;
    kith_buf_str(b, "<section class=\"panel\" aria-labelledby=\"res-h\"><h2 id=\"res-h\">Things "
                    "worth passing on</h2><ul class=\"rows resources\">");
    json_array_foreach(list, i, r)
    {
        kith_buf_printf(b, "<li><span class=\"who\">");
        kith_buf_html(b, kith_app_json_text(r, "title"));
        kith_buf_printf(b,
                        "</span><span class=\"copyrow\"><input id=\"res-%zu\" class=\"link\" "
                        "aria-label=\"Your link to ",
                        i);
        kith_buf_html(b, kith_app_json_text(r, "title"));
        kith_buf_str(b, "\" value=\"");
        kith_buf_html(b, kith_app_json_text(r, "share_url"));
        kith_buf_printf(b,
                        "\" readonly><button type=\"button\" class=\"btn\" "
                        "data-copy=\"res-%zu\">Copy link</button></span></li>",
                        i);
    }
    kith_buf_str(b, "</ul></section>");
}

static void leaderboard(struct kith_buf *b, json_t *doc)
{
    json_t *lb = json_object_get(doc, "leaderboard"), *top = json_object_get(lb, "top"), *e;
    bool opted = json_is_true(json_object_get(lb, "opted_in"));
    size_t i;
    if (json_array_size(top) == 0 && !opted)
        return;
    kith_buf_str(b, "<section class=\"panel\" aria-labelledby=\"lb-h\"><h2 id=\"lb-h\">Friends of "
                    "the community</h2>");
    json_t *me = json_object_get(lb, "me");
    const char *wait = kith_app_json_text(json_object_get(doc, "program"), "wait");
    if (json_is_object(me)) {
        json_int_t q = json_integer_value(json_object_get(me, "qualified"));
        kith_buf_printf(b, "<p class=\"lead\">You are number %lld, with %lld %s who made ",
                        (long long)json_integer_value(json_object_get(me, "rank")), (long long)q,
                        q == 1 ? "friend" : "friends");
        kith_buf_html(b, wait);
        kith_buf_str(b, ".</p>");
    } else if (!opted)
        kith_buf_str(b, "<p class=\"note\">Your name is not on this list. You can add it in your "
                        "preferences below.</p>");
    if (json_array_size(top) == 0) {
        kith_buf_str(b, "<p class=\"empty\">No one is on the list yet.</p></section>");
        return;
    }
    kith_buf_str(b, "<ol class=\"board\">");
    json_array_foreach(top, i, e)
    {
        bool mine = json_is_true(json_object_get(e, "me"));
        const char *n = json_string_value(json_object_get(e, "display_name"));
        kith_buf_printf(b, "<li%s><span class=\"rank\">%lld</span><span class=\"who\">",
                        mine ? " class=\"me\" aria-current=\"true\"" : "",
                        (long long)json_integer_value(json_object_get(e, "rank")));
        kith_buf_html(b, n ? n : "A friend");
        if (mine)
            kith_buf_str(b, " (you)");
        json_int_t q = json_integer_value(json_object_get(e, "qualified"));
        kith_buf_printf(b, "</span><span class=\"count\">%lld %s</span></li>", (long long)q,
                        q == 1 ? "friend" : "friends");
    }
    kith_buf_str(b, "</ol></section>");
}

static void check(struct kith_buf *b, const char *id, const char *name, bool on, const char *label)
{
    kith_buf_printf(b,
                    "<div class=\"check\"><input type=\"checkbox\" id=\"%s\" name=\"%s\"%s>"
                    "<label for=\"%s\">",
                    id, name, on ? " checked" : "", id);
    kith_buf_html(b, label);
    kith_buf_str(b, "</label></div>");
}

static void preferences(struct kith_buf *b, json_t *doc)
{
    json_t *me = json_object_get(doc, "participant"), *prefs = json_object_get(me, "preferences");
    kith_buf_str(b, "<section class=\"panel\" aria-labelledby=\"prefs-h\"><h2 id=\"prefs-h\">Your "
                    "preferences</h2><form id=\"prefs\" class=\"prefs\">");
    check(b, "pref-lb", "leaderboard_opt_in",
          json_is_true(json_object_get(me, "leaderboard_opt_in")),
          "Show my first name on the community list");
    if (json_is_object(prefs)) {
        static const char *const asks[][2] = {
            {"normal", "Now and then"}, {"fewer", "Less often"}, {"never", "Never"}};
        const char *now = kith_app_json_text(prefs, "asks");
        kith_buf_str(b, "<fieldset><legend>How often may we suggest sharing?</legend>");
        for (size_t i = 0; i < KITH_ARRAY_LEN(asks); i++)
            kith_buf_printf(b,
                            "<div class=\"radio\"><input type=\"radio\" id=\"asks-%s\" "
                            "name=\"asks\" value=\"%s\"%s><label for=\"asks-%s\">%s</label></div>",
                            asks[i][0], asks[i][0], strcmp(now, asks[i][0]) == 0 ? " checked" : "",
                            asks[i][0], asks[i][1]);
        kith_buf_str(b, "</fieldset>");
        check(b, "pref-digest", "digest", json_is_true(json_object_get(prefs, "digest")),
              "Send me a short monthly summary");
        check(b, "pref-spot", "spotlight_opt_in",
              json_is_true(json_object_get(prefs, "spotlight_opt_in")),
              "I am happy to be featured in a community spotlight");
    }
    kith_buf_str(b, "<button type=\"submit\" class=\"btn primary\">Save preferences</button>"
                    "<p class=\"form-status\" id=\"prefs-status\" role=\"status\"></p></form>"
                    "<noscript><p class=\"note\">Changing your preferences needs JavaScript.</p>"
                    "</noscript></section>");
}

static void privacy(struct kith_buf *b, json_t *doc)
{
    kith_buf_str(b, "<section class=\"panel\" aria-labelledby=\"data-h\"><h2 id=\"data-h\">Your "
                    "data</h2><p>Download everything ");
    kith_buf_html(b, kith_app_json_text(json_object_get(doc, "program"), "name"));
    kith_buf_str(b, " holds about you here, or erase it.</p><div class=\"actions\">"
                    "<button type=\"button\" class=\"btn\" id=\"download\" hidden>Download my "
                    "data</button><button type=\"button\" class=\"btn danger\" id=\"erase-start\" "
                    "aria-expanded=\"false\" aria-controls=\"erase-confirm\" hidden>Erase "
                    "me</button></div><noscript><p class=\"note\">Downloading and erasing need "
                    "JavaScript.</p></noscript><div id=\"erase-confirm\" class=\"confirm\" hidden>"
                    "<h3 id=\"erase-h\" tabindex=\"-1\">Erase your data?</h3><p>Your name, e-mail "
                    "and history here are removed and your code stops working. Your friends keep "
                    "what they have. This cannot be undone.</p><div class=\"actions\">"
                    "<button type=\"button\" class=\"btn danger\" id=\"erase-yes\">Yes, erase my "
                    "data</button><button type=\"button\" class=\"btn\" id=\"erase-no\">Keep my "
                    "account</button></div></div><p class=\"form-status\" id=\"data-status\" "
                    "role=\"status\"></p></section>");
}

char *kith_app_hub_render(struct kith_app *a, json_t *doc, const char *token, bool embed)
{
    (void)token; /* hub.js reads it from the address; it is never written into the page */
    json_t *share = json_object_get(doc, "share"), *prog = json_object_get(doc, "program");
    struct kith_buf qr_link = {0}, s = {0}, head = {0};
    kith_buf_printf(&qr_link, "%s?ch=qr", kith_app_json_text(share, "share_url"));
    char *svg = kith_qr_svg(kith_buf_cstr(&qr_link), "QR code of your link");
    kith_buf_dispose(&qr_link);
    kith_buf_str(&s, "<div class=\"grid\">");
    hero(&s, doc, svg);
    free(svg);
    both_get(&s, doc);
    progress(&s, doc);
    people(&s, doc);
    kith_app_hub_rewards(&s, doc);
    resources(&s, doc);
    leaderboard(&s, doc);
    preferences(&s, doc);
    privacy(&s, doc);
    kith_buf_str(&s, "</div>");
    if (!embed) {
        kith_buf_str(&head, "<header class=\"top\"><p class=\"brand\">");
        kith_buf_html(&head, kith_app_json_text(prog, "name"));
        kith_buf_str(&head, "</p></header>");
    }
    char title[300];
    snprintf(title, sizeof(title), "Your share page: %s", kith_app_json_text(prog, "name"));
    struct kith_app_var v[] = {
        {"title", title},
        {"embed", embed ? "1" : "0"},
        {"body_class", embed ? " embed" : ""},
        {"header", kith_buf_cstr(&head)},
        {"sections", kith_buf_cstr(&s)},
        {"footer", embed ? ""
                         : "<footer class=\"foot\"><p>This page is yours alone: please keep its "
                           "address to yourself and share your link instead.</p></footer>"},
        {"css", kith_app_asset_version(a, "kith.css")},
        {"js", kith_app_asset_version(a, "hub.js")},
    };
    char *html = kith_app_html_fill("hub.html", v, KITH_ARRAY_LEN(v));
    kith_buf_dispose(&s);
    kith_buf_dispose(&head);
    return html;
}
