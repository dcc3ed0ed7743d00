/*
 * hub_rewards.c: the share hub's "Your thank-yous" section (CONTRACT sections 20 and 25), from
 * the hub document's rewards. Each reward says what it is, its status and how it reaches the
 * person in words; a coupon's promotion code sits in a copy row; a gift or an experience
 * fulfilled by claim carries its claim step, built from the program's claim form (text, choice
 * and address fields), which hub.js reveals and sends to /v1/hub/rewards/{id}/claim, showing
 * the API's errors next to their fields. Sent or delivered claims show what the person gave.
 * Without JavaScript the form stays hidden (a plain submit would put an address into a URL).
 * It is not for deciding anything: the engine says what is open, and checks every answer.
 */
#include <string.h>

#include "app/pages.h"

/* The parts of an address answer, in the order a label is written. */
static const char *const address_parts[][4] = {
    /* part, label, autocomplete, needed when the address is given */
    {"name", "Full name", "name", ""},
    {"line1", "Address line 1", "address-line1", "1"},
    {"line2", "Address line 2", "address-line2", ""},
    {"city", "Town or city", "address-level2", "1"},
    {"state", "County, state or region", "address-level1", ""},
    {"postal_code", "Postcode or ZIP code", "postal-code", ""},
    {"country", "Country code", "country", "1"},
};

static void optional(struct kith_buf *b, bool needed)
{
    if (!needed)
        kith_buf_str(b, " <span class=\"opt\">(optional)</span>");
}

/* Where the API's error for answers.<name>[.<part>] is shown (id <id>[-<part>]-err). Names and
 * parts are [a-z0-9_] (fulfil_settings.c), so they need no escaping. */
static void error_slot(struct kith_buf *b, const char *id, const char *name, const char *part)
{
    const char *dash = part ? "-" : "", *dot = part ? "." : "";
    part = part ? part : "";
    kith_buf_printf(b,
                    "<p class=\"field-error\" id=\"%s%s%s-err\" data-error-for=\"answers.%s%s%s\" "
                    "hidden></p>",
                    id, dash, part, name, dot, part);
}

static void text_field(struct kith_buf *b, const char *id, json_t *f, json_t *answer)
{
    bool needed = json_is_true(json_object_get(f, "required"));
    kith_buf_printf(b, "<div class=\"field\"><label for=\"%s\">", id);
    kith_buf_html(b, kith_app_json_text(f, "label"));
    optional(b, needed);
    kith_buf_printf(b,
                    "</label><textarea id=\"%s\" name=\"%s\" rows=\"3\" maxlength=\"2000\" "
                    "data-param=\"answers.%s\" data-label=\"",
                    id, kith_app_json_text(f, "name"), kith_app_json_text(f, "name"));
    kith_buf_html(b, kith_app_json_text(f, "label"));
    kith_buf_printf(b, "\"%s>", needed ? " aria-required=\"true\"" : "");
    kith_buf_html(b, json_string_value(answer));
    kith_buf_str(b, "</textarea>");
    error_slot(b, id, kith_app_json_text(f, "name"), NULL);
    kith_buf_str(b, "</div>");
}

static void choice_field(struct kith_buf *b, const char *id, json_t *f, json_t *answer)
{
    json_t *choices = json_object_get(f, "choices"), *c;
    const char *name = kith_app_json_text(f, "name"), *given = json_string_value(answer);
    bool needed = json_is_true(json_object_get(f, "required"));
    size_t i;
    kith_buf_printf(b,
                    "<fieldset class=\"field choice\" id=\"%s\" data-param=\"answers.%s\" "
                    "data-label=\"",
                    id, name);
    kith_buf_html(b, kith_app_json_text(f, "label"));
    kith_buf_str(b, "\"><legend>");
    kith_buf_html(b, kith_app_json_text(f, "label"));
    optional(b, needed);
    kith_buf_str(b, "</legend>");
    json_array_foreach(choices, i, c)
    {
        const char *v = json_string_value(c);
        kith_buf_printf(b,
                        "<div class=\"radio\"><input type=\"radio\" id=\"%s-%zu\" name=\"%s\" "
                        "value=\"",
                        id, i, name);
        kith_buf_html(b, v);
        kith_buf_printf(b, "\"%s%s><label for=\"%s-%zu\">",
                        given && strcmp(given, v) == 0 ? " checked" : "",
                        needed ? " aria-required=\"true\"" : "", id, i);
        kith_buf_html(b, v);
        kith_buf_str(b, "</label></div>");
    }
    error_slot(b, id, name, NULL);
    kith_buf_str(b, "</fieldset>");
}

static void address_field(struct kith_buf *b, const char *id, json_t *f, json_t *answer)
{
    const char *name = kith_app_json_text(f, "name");
    bool needed = json_is_true(json_object_get(f, "required"));
    kith_buf_printf(b,
                    "<fieldset class=\"field address\" id=\"%s\" data-param=\"answers.%s\" "
                    "data-address=\"%s\" data-label=\"",
                    id, name, name);
    kith_buf_html(b, kith_app_json_text(f, "label"));
    kith_buf_str(b, "\"><legend>");
    kith_buf_html(b, kith_app_json_text(f, "label"));
    optional(b, needed);
    kith_buf_str(b, "</legend>");
    error_slot(b, id, name, NULL);
    for (size_t i = 0; i < KITH_ARRAY_LEN(address_parts); i++) {
        const char *part = address_parts[i][0];
        bool country = strcmp(part, "country") == 0, part_needed = address_parts[i][3][0] != 0;
        kith_buf_printf(b, "<div class=\"sub%s\"><label for=\"%s-%s\">%s", country ? " short" : "",
                        id, part, address_parts[i][1]);
        optional(b, part_needed);
        kith_buf_printf(b,
                        "</label><input id=\"%s-%s\" name=\"%s.%s\" data-part=\"%s\" "
                        "data-param=\"answers.%s.%s\" data-label=\"%s\" autocomplete=\"%s\" "
                        "maxlength=\"%d\"%s",
                        id, part, name, part, part, name, part, address_parts[i][1],
                        address_parts[i][2], country ? 2 : 200,
                        needed && part_needed ? " aria-required=\"true\"" : "");
        if (country)
            kith_buf_printf(b,
                            " class=\"upper\" autocapitalize=\"characters\" "
                            "aria-describedby=\"%s-country-hint\" data-hint=\"%s-country-hint\"",
                            id, id);
        kith_buf_str(b, " value=\"");
        kith_buf_html(b, json_string_value(json_object_get(answer, part)));
        kith_buf_str(b, "\">");
        if (country)
            kith_buf_printf(b,
                            "<p class=\"hint\" id=\"%s-country-hint\">Two letters, such as GB, "
                            "US or DE</p>",
                            id);
        error_slot(b, id, name, part);
        kith_buf_str(b, "</div>");
    }
    kith_buf_str(b, "</fieldset>");
}

/* What the person gave, field by field (an address on one line). */
static void answers_list(struct kith_buf *b, json_t *form, json_t *answers)
{
    size_t i, shown = 0;
    json_t *f;
    kith_buf_str(b, "<dl class=\"answers\">");
    json_array_foreach(form, i, f)
    {
        json_t *a = json_object_get(answers, kith_app_json_text(f, "name"));
        if (a == NULL || json_is_null(a))
            continue;
        shown++;
        kith_buf_str(b, "<div><dt>");
        kith_buf_html(b, kith_app_json_text(f, "label"));
        kith_buf_str(b, "</dt><dd>");
        if (json_is_object(a)) {
            bool first = true;
            for (size_t k = 0; k < KITH_ARRAY_LEN(address_parts); k++) {
                const char *v = json_string_value(json_object_get(a, address_parts[k][0]));
                if (v == NULL || v[0] == 0)
                    continue;
                if (!first)
                    kith_buf_str(b, ", ");
                kith_buf_html(b, v);
                first = false;
            }
        } else {
            kith_buf_html(b, json_string_value(a));
        }
        kith_buf_str(b, "</dd></div>");
    }
    kith_buf_str(b, "</dl>");
    if (shown == 0)
        kith_buf_str(b, "<p class=\"note\">Nothing more is needed from you: the team will be "
                        "in touch.</p>");
}

static void claim_step(struct kith_buf *b, size_t n, json_t *r, json_t *f)
{
    const char *state = kith_app_json_text(f, "claim"), *kind = kith_app_json_text(r, "kind");
    json_t *form = json_object_get(f, "form"), *answers = json_object_get(f, "answers");
    bool can_send = json_is_true(json_object_get(f, "can_send"));
    bool delivered = strcmp(kith_app_json_text(f, "status"), "done") == 0;
    bool claimed = strcmp(state, "claimed") == 0;
    if (!can_send && !delivered)
        return;
    kith_buf_printf(b, "<div class=\"claim\" id=\"claim-%zu\">", n);
    /* Sent or delivered: what they told us; while open they may still change it. */
    kith_buf_printf(b,
                    "<div class=\"claim-done\" id=\"claim-%zu-done\"%s><h3 id=\"claim-%zu-done-h\" "
                    "tabindex=\"-1\">%s</h3>",
                    n, claimed || delivered ? "" : " hidden", n,
                    delivered ? "Delivered" : "Thank you: we have your details");
    kith_buf_printf(b, "<div id=\"claim-%zu-answers\">", n);
    if (json_is_object(answers))
        answers_list(b, form, answers);
    kith_buf_str(b, "</div>");
    if (can_send)
        kith_buf_printf(b,
                        "<button type=\"button\" class=\"btn\" data-claim-edit=\"%zu\" "
                        "aria-controls=\"claim-%zu-form\" aria-expanded=\"false\" hidden>Change "
                        "my details</button>",
                        n, n);
    kith_buf_str(b, "</div>");
    if (!can_send) {
        kith_buf_str(b, "</div>");
        return;
    }
    kith_buf_printf(b, "<form class=\"claim-form\" id=\"claim-%zu-form\" data-reward=\"", n);
    kith_buf_html(b, kith_app_json_text(r, "id"));
    kith_buf_printf(b,
                    "\" data-claimed=\"%d\" aria-labelledby=\"claim-%zu-h\" novalidate hidden>"
                    "<h3 id=\"claim-%zu-h\" tabindex=\"-1\">%s</h3><p class=\"note\">Tell us "
                    "what we need to get ",
                    claimed ? 1 : 0, n, n,
                    strcmp(kind, "experience") == 0 ? "Let us arrange your experience"
                    : strcmp(kind, "gift") == 0     ? "Let us send you your gift"
                                                    : "Claim your thank-you");
    kith_buf_html(b, kith_app_json_text(r, "words"));
    kith_buf_str(b, " to you. Only the team sees it.</p>");
    size_t i;
    json_t *field;
    json_array_foreach(form, i, field)
    {
        char id[96];
        snprintf(id, sizeof(id), "claim-%zu-%s", n, kith_app_json_text(field, "name"));
        json_t *a = json_object_get(answers, kith_app_json_text(field, "name"));
        const char *type = kith_app_json_text(field, "type");
        if (strcmp(type, "address") == 0)
            address_field(b, id, field, a);
        else if (strcmp(type, "choice") == 0)
            choice_field(b, id, field, a);
        else
            text_field(b, id, field, a);
    }
    kith_buf_printf(b,
                    "<div class=\"actions\"><button type=\"submit\" class=\"btn primary\">%s"
                    "</button></div><p class=\"form-status\" id=\"claim-%zu-status\" "
                    "role=\"status\"></p></form><noscript><p class=\"note\">Sending your details "
                    "needs JavaScript. Please turn it on for this page.</p></noscript></div>",
                    claimed ? "Save my details" : "Send my details", n);
}

static void coupon(struct kith_buf *b, size_t n, json_t *f)
{
    const char *code = json_string_value(json_object_get(f, "code"));
    if (strcmp(kith_app_json_text(f, "method"), "stripe_coupon") != 0 || code == NULL ||
        code[0] == 0)
        return;
    kith_buf_printf(b,
                    "<div class=\"field coupon\"><label for=\"coupon-%zu\">Your code to use at "
                    "checkout</label><div class=\"copyrow\"><input id=\"coupon-%zu\" "
                    "class=\"code\" value=\"",
                    n, n);
    kith_buf_html(b, code);
    kith_buf_printf(b,
                    "\" readonly><button type=\"button\" class=\"btn\" data-copy=\"coupon-%zu\" "
                    "data-what=\"Code\">Copy code</button></div></div>",
                    n);
}

void kith_app_hub_rewards(struct kith_buf *b, json_t *doc)
{
    json_t *list = json_object_get(doc, "rewards"), *r;
    size_t i;
    kith_buf_str(b, "<section class=\"panel rewards\" aria-labelledby=\"rewards-h\">"
                    "<h2 id=\"rewards-h\">Your thank-yous</h2>");
    if (json_array_size(list) == 0) {
        kith_buf_str(b, "<p class=\"empty\">Nothing yet. Rewards appear here as your friends "
                        "settle in.</p></section>");
        return;
    }
    kith_buf_str(b, "<ul class=\"rows\">");
    json_array_foreach(list, i, r)
    {
        const char *friend = json_string_value(json_object_get(r, "friend_first_name"));
        json_t *f = json_object_get(r, "fulfilment");
        const char *words = json_string_value(json_object_get(f, "status_text"));
        kith_buf_str(b, "<li class=\"reward\"><div class=\"reward-head\"><span class=\"who\">");
        kith_app_html_sentence(b, kith_app_json_text(r, "words"));
        if (friend && friend[0]) {
            kith_buf_str(b, " <span class=\"thanks\">thanks to ");
            kith_buf_html(b, friend);
            kith_buf_str(b, "</span>");
        }
        kith_buf_printf(b, "</span><span class=\"status status-%s\">",
                        kith_app_json_text(r, "status"));
        kith_buf_html(b, kith_app_json_text(r, "status_text"));
        kith_buf_str(b, "</span></div>");
        if (words) {
            kith_buf_printf(b, "<p class=\"fulfil\" id=\"reward-%zu-state\">", i);
            kith_app_html_sentence(b, words);
            kith_buf_str(b, ".</p>");
        }
        coupon(b, i, f);
        if (strcmp(kith_app_json_text(f, "method"), "claim") == 0 &&
            json_is_array(json_object_get(f, "form")))
            claim_step(b, i, r, f);
        kith_buf_str(b, "</li>");
    }
    kith_buf_str(b, "</ul></section>");
}
