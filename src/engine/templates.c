/*
 * templates.c: the words kith says on a business's behalf, and their rendering. Defaults are
 * written to sound like a thank-you between people, never like a sales funnel: no urgency, no
 * countdowns, no "don't miss out" (seed 000: advocacy as a natural extension of a relationship).
 * Rendering is one pass over the template: a value is inserted verbatim and never re-read, so a
 * first name like "{{share_url}}" stays text (no template injection); values lose control
 * characters, and subjects lose line breaks (no header injection).
 */
#include <string.h>

#include "engine/internal.h"
#include "engine/templates.h"
#include "kith/asks.h"
#include "kith/buf.h"

static const struct kith_template defaults[] = {
    {"referral_created_referrer", "{{friend_first_name}} joined {{program_name}} through you",
     "Hi {{first_name}},\n\n{{friend_first_name}} just joined {{program_name}} through you. Thank "
     "you for thinking of them; a word from a friend means more than anything we could say.\n\n"
     "There is nothing you need to do. We will let you know how things go.\n"},
    {"referral_created_referred", "Welcome to {{program_name}}",
     "Hi {{first_name}},\n\nWelcome! {{friend_first_name}} thought you would like it here, and we "
     "are glad you came.\n\nIf you have any questions, just reply to this message.\n"},
    {"referral_qualified_referrer", "{{friend_first_name}} is settling in",
     "Hi {{first_name}},\n\n{{friend_first_name}} has made their first purchase with "
     "{{program_name}}. Your thank-you, {{reward}}, will be ready once the usual waiting period "
     "has passed, and we will tell you when it is.\n"},
    {"referral_rewarded_referrer", "A thank-you from {{program_name}}",
     "Hi {{first_name}},\n\nBecause of you, {{friend_first_name}} is now part of {{program_name}}. "
     "As a thank-you, {{reward}} is yours.\n\nYour link stays yours for whenever it feels right "
     "to share it: {{share_url}}\n"},
    {"reward_issued_referred", "Something for you from {{program_name}}",
     "Hi {{first_name}},\n\nYour welcome gift is ready: {{reward}}. Thank you for joining us, and "
     "please say hello to {{friend_first_name}} from us.\n"},
    /* A level reached (section 15): thanks for who they are to the community, named
     * specifically, with nothing asked in return. */
    {"level_reached", "Thank you, {{first_name}}: you are now {{level_name}}",
     "Hi {{first_name}},\n\nThank you. You have become {{level_name}} in {{program_name}}, in "
     "recognition of you as a {{track_name}}. What you share helps others find their way here, "
     "and we noticed.\n\nWhat comes with it: {{reward}}.\n\nThere is nothing you need to do. We "
     "are simply glad you are part of this community.\n"},
    {"share_email", "Thought of you: {{program_name}}",
     "Hi,\n\nI have been enjoying {{program_name}} and thought you might like it too. If you want "
     "to have a look, here is my link: {{share_url}}\n\n{{first_name}}\n"},
    {"share_sms", NULL,
     "I've been enjoying {{program_name}} and thought of you. Have a look if you like: "
     "{{share_url}}"},
    {"share_whatsapp", NULL,
     "I've been enjoying {{program_name}} and thought of you. Have a look if you like: "
     "{{share_url}}"},
    {"share_social", NULL,
     "I've been enjoying {{program_name}}. If it sounds like your kind of thing: {{share_url}}"},
    /* Asks at natural moments (section 17): thanks first, the link as an aside, and a plain
     * word that doing nothing is fine. ask_<type> for the business's own moments falls back to
     * ask (see kith_template_default). */
    {"ask", "Thank you, {{first_name}}",
     "Hi {{first_name}},\n\nThank you for being part of {{program_name}}. If someone you know "
     "would enjoy it too, your link is here whenever it feels right: {{share_url}}\n\nAnd if "
     "nobody comes to mind, that is perfectly fine; there is nothing you need to do.\n"},
    {"ask_purchase", "Thank you for your order, {{first_name}}",
     "Hi {{first_name}},\n\nThank you for your order; we hope you enjoy it. If a friend comes "
     "to mind who would like {{program_name}} as well, you can pass on your link: "
     "{{share_url}}\n\nOtherwise there is nothing to do. We are simply glad you are here.\n"},
    {"ask_milestone", "Look how far you have come, {{first_name}}",
     "Hi {{first_name}},\n\nYou reached a milestone with {{program_name}}, and we wanted to "
     "say well done. Moments like this are often when someone asks how you did it; if that "
     "happens, here is a link you can give them: {{share_url}}\n\nIf not, just enjoy it. You "
     "earned it.\n"},
    {"ask_nps", "Thank you for the kind words",
     "Hi {{first_name}},\n\nThank you for telling us you would recommend {{program_name}}; it "
     "means a great deal to us. If you ever want to pass it on, your link is here: "
     "{{share_url}}\n\nThere is no need to reply or do anything else.\n"},
    {"ask_review", "Thank you for your review",
     "Hi {{first_name}},\n\nThank you for taking the time to write about {{program_name}}. "
     "Words like yours help people decide. If there is someone you would like to tell yourself, "
     "here is your link: {{share_url}}\n\nEither way, thank you.\n"},
    {"ask_support_resolved", "Glad we could sort it out",
     "Hi {{first_name}},\n\nWe are glad that is sorted, and thank you for your patience while "
     "we worked on it. If a friend ever needs what {{program_name}} offers, your link is here: "
     "{{share_url}}\n\nAnd if anything else comes up, just reply to this message.\n"},
    /* Rituals (section 18): celebration and a look back, never a request. */
    {"spotlight", "You are in the {{program_name}} spotlight",
     "Hi {{first_name}},\n\n{{summary}}\n\nThank you for being such a warm part of "
     "{{program_name}}.\n"},
    {"digest", "Your month with {{program_name}}",
     "Hi {{first_name}},\n\nHere is a short look back at last month.\n\n{{summary}}\n\nYour "
     "link stays yours, for whenever it feels right: {{share_url}}\n\nYou can turn these notes "
     "off at any time.\n"},
};

static const char *const variables[] = {
    "first_name", "code",       "share_url",      "friend_first_name", "reward", "program_name",
    "track_name", "level_name", "resource_title", "resource_url",      "summary"};

const struct kith_template *kith_template_default(const char *name)
{
    for (size_t i = 0; i < KITH_ARRAY_LEN(defaults); i++) {
        if (strcmp(defaults[i].name, name) == 0)
            return &defaults[i];
    }
    /* A business's own moment type (ask_<type>) has the general ask as its default. */
    if (strncmp(name, "ask_", 4) == 0 && kith_ask_moment_type_valid(name + 4))
        return kith_template_default("ask");
    return NULL;
}

bool kith_template_has_subject(const char *name)
{
    const struct kith_template *t = kith_template_default(name);
    return t && t->subject;
}

/* Calls fn for each {{name}} in text; returns false at a malformed or unknown placeholder. */
bool kith_template_check(const char *text, char *bad, size_t badsize)
{
    const char *p = text;
    while ((p = strstr(p, "{{")) != NULL) {
        const char *end = strstr(p + 2, "}}");
        if (end == NULL) {
            kith_strlcpy(bad, "{{", badsize);
            return false;
        }
        const char *a = p + 2, *b = end;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        bool known = false;
        for (size_t i = 0; i < KITH_ARRAY_LEN(variables); i++) {
            if (strlen(variables[i]) == (size_t)(b - a) &&
                memcmp(variables[i], a, (size_t)(b - a)) == 0)
                known = true;
        }
        if (!known) {
            size_t n = (size_t)(b - a) < badsize - 1 ? (size_t)(b - a) : badsize - 1;
            memcpy(bad, a, n);
            bad[n] = '\0';
            return false;
        }
        p = end + 2;
    }
    return true;
}

/* Appends s[0..n); with clean, control bytes are dropped (subjects stay on one line). */
static void append(struct kith_buf *out, const char *s, size_t n, bool clean)
{
    size_t run = 0; /* bytes of s[0..i) not yet appended */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (clean && (c < 0x20 || c == 0x7f)) {
            kith_buf_append(out, s + i - run, run);
            run = 0;
        } else {
            run++;
        }
    }
    kith_buf_append(out, s + n - run, run);
}

char *kith_template_render(const char *text, const struct kith_template_vars *v, bool subject)
{
    const char *values[] = {v->first_name,     v->code,         v->share_url,  v->friend_first_name,
                            v->reward,         v->program_name, v->track_name, v->level_name,
                            v->resource_title, v->resource_url, v->summary};
    struct kith_buf out = {0};
    kith_buf_reserve(&out, strlen(text) + 64);
    const char *p = text;
    for (;;) {
        const char *open = strstr(p, "{{");
        const char *end = open ? strstr(open + 2, "}}") : NULL;
        if (open == NULL || end == NULL) {
            append(&out, p, strlen(p), subject);
            break;
        }
        append(&out, p, (size_t)(open - p), subject);
        const char *a = open + 2, *b = end;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        for (size_t i = 0; i < KITH_ARRAY_LEN(variables); i++) {
            if (strlen(variables[i]) == (size_t)(b - a) &&
                memcmp(variables[i], a, (size_t)(b - a)) == 0) {
                const char *val = values[i] ? values[i] : "";
                append(&out, val, strlen(val), true);
            }
        }
        p = end + 2;
    }
    return kith_buf_take(&out);
}

void kith_template_reward_text(json_t *reward, char *out, size_t outsize)
{
    out[0] = '\0';
    if (reward == NULL)
        return;
    const char *desc = kith_eng_row_str(reward, "description");
    const char *cur = kith_eng_row_str(reward, "currency");
    const char *kind = kith_eng_row_str(reward, "kind");
    if (!kith_eng_row_is_null(reward, "amount") && cur) {
        static const char *const zero_decimal[] = {"JPY", "KRW", "VND", "CLP", "ISK",
                                                   "HUF", "TWD", "UGX", "XAF", "XOF"};
        bool whole = false;
        for (size_t i = 0; i < KITH_ARRAY_LEN(zero_decimal); i++)
            whole = whole || strcmp(cur, zero_decimal[i]) == 0;
        int64_t amount = kith_eng_row_int(reward, "amount");
        char kind_text[40];
        kith_strlcpy(kind_text, kind ? kind : "reward", sizeof(kind_text));
        for (char *c = kind_text; *c; c++)
            if (*c == '_')
                *c = ' ';
        if (whole)
            snprintf(out, outsize, "a %lld %s %s", (long long)amount, cur, kind_text);
        else
            snprintf(out, outsize, "a %lld.%02lld %s %s", (long long)(amount / 100),
                     (long long)(amount % 100), cur, kind_text);
        if (desc && strlen(out) + strlen(desc) + 4 < outsize) {
            size_t n = strlen(out);
            snprintf(out + n, outsize - n, " (%s)", desc);
        }
    } else if (desc) {
        kith_strlcpy(out, desc, outsize);
    } else if (kind) {
        snprintf(out, outsize, "a %s", kind);
    }
}
