/*
 * fuzz_templates.c: message templates (src/engine/templates.h). Operators write templates
 * through the API, and every value rendered into them (first names, program names) comes from
 * end users, so both sides are untrusted. The input is split at NUL bytes: the template, then up
 * to eight values in kith_template_vars order; missing values default to text that looks like
 * placeholders ("{{first_name}}"), since values must never be expanded again. An odd input size
 * renders as a subject line.
 *
 * Checked: kith_template_check terminates bad at every size; rendering is one pass (the output
 * is at most the template plus one value per "{{" in the template); values lose control
 * characters, and a subject has none at all; the shipped defaults pass the check.
 */
#include <stdbool.h>
#include <string.h>

#include "engine/templates.h"
#include "fuzz_check.h"

#define VALUE_COUNT 11

static const char *const names[] = {
    "referral_created_referrer",
    "referral_created_referred",
    "referral_qualified_referrer",
    "referral_rewarded_referrer",
    "reward_issued_referred",
    "level_reached",
    "share_email",
    "share_sms",
    "share_whatsapp",
    "share_social",
    "ask",
    "ask_purchase",
    "ask_milestone",
    "ask_nps",
    "ask_review",
    "ask_support_resolved",
    "spotlight",
    "digest",
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char bad[64];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct kith_template *t = kith_template_default(names[i]);
        FUZZ_CHECK(t != NULL, "no default template %s", names[i]);
        FUZZ_CHECK(kith_template_check(t->body, bad, sizeof(bad)), "%s: bad {{%s}}", names[i], bad);
        FUZZ_CHECK(t->subject == NULL || kith_template_check(t->subject, bad, sizeof(bad)),
                   "%s subject: bad {{%s}}", names[i], bad);
        FUZZ_CHECK(kith_template_has_subject(names[i]) == (t->subject != NULL), "%s", names[i]);
    }
    return 0;
}

static size_t count_opens(const char *s)
{
    size_t n = 0;
    for (; s[0] != '\0'; s++)
        n += s[0] == '{' && s[1] == '{';
    return n;
}

static size_t count_controls(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += (unsigned char)*s < 0x20 || *s == 0x7f;
    return n;
}

static void check_render(const char *text, const struct kith_template_vars *v, bool subject)
{
    const char *values[VALUE_COUNT] = {v->first_name,        v->code,       v->share_url,
                                       v->friend_first_name, v->reward,     v->program_name,
                                       v->track_name,        v->level_name, v->resource_title,
                                       v->resource_url,      v->summary};
    size_t longest = 0;
    for (size_t i = 0; i < VALUE_COUNT; i++)
        if (values[i] != NULL && strlen(values[i]) > longest)
            longest = strlen(values[i]);

    char *out = kith_template_render(text, v, subject);
    FUZZ_CHECK(out != NULL, "render returned NULL");
    size_t len = strlen(out), tlen = strlen(text), opens = count_opens(text);
    FUZZ_CHECK(len <= tlen + opens * longest,
               "output of %zu bytes from a %zu-byte template with %zu \"{{\" and values <= %zu: "
               "a value was expanded again",
               len, tlen, opens, longest);
    if (subject)
        FUZZ_CHECK(count_controls(out) == 0, "subject \"%s\" has control characters", out);
    else
        FUZZ_CHECK(count_controls(out) <= count_controls(text),
                   "values brought control characters into \"%s\"", out);
    /* Same inputs, same bytes. */
    char *again = kith_template_render(text, v, subject);
    FUZZ_CHECK(strcmp(out, again) == 0, "render is not deterministic: \"%s\" vs \"%s\"", out,
               again);
    free(again);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size);
    const char *parts[1 + VALUE_COUNT] = {NULL};
    size_t np = 0, pos = 0;
    while (np < 1 + VALUE_COUNT && pos <= size) {
        parts[np++] = in + pos;
        pos += strlen(in + pos) + 1;
    }
    static const char *const hostile[VALUE_COUNT] = {
        "{{first_name}}",         "{{code}}}}",
        "{{ share_url }}",        "{{friend_first_name}}{{",
        "}}{{reward}}",           "Line\r\nBcc: x@example.com\t{{program_name}}\x7f",
        "{{level_name}}",         "{{{{track_name}}}}",
        "{{resource_url}}",       "https://x.example/{{resource_title}}",
        "{{summary}}{{summary}}",
    };
    const char *vals[VALUE_COUNT];
    for (size_t i = 0; i < VALUE_COUNT; i++)
        vals[i] = parts[1 + i] != NULL ? parts[1 + i] : hostile[i];
    struct kith_template_vars v = {vals[0], vals[1], vals[2], vals[3], vals[4], vals[5],
                                   vals[6], vals[7], vals[8], vals[9], vals[10]};
    const char *text = parts[0];

    /* bad is always terminated within badsize, whatever the size. */
    static const size_t sizes[] = {1, 2, 9, 64};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char bad[64];
        memset(bad, 'Z', sizeof(bad));
        if (!kith_template_check(text, bad, sizes[i]))
            FUZZ_CHECK(memchr(bad, '\0', sizes[i]) != NULL, "bad not terminated at size %zu",
                       sizes[i]);
    }
    check_render(text, &v, size % 2 == 1);
    /* NULL values render as empty. */
    struct kith_template_vars none = {NULL, NULL, NULL, NULL, NULL, NULL,
                                      NULL, NULL, NULL, NULL, NULL};
    char *empty = kith_template_render(text, &none, false);
    FUZZ_CHECK(strlen(empty) <= strlen(text), "NULL values grew \"%s\" into \"%s\"", text, empty);
    free(empty);

    /* The template text as a template name: unknown names are NULL, never a crash; a
     * business's own moment type (ask_<type>) gets the general ask. */
    const struct kith_template *t = kith_template_default(text);
    FUZZ_CHECK(t == NULL || strcmp(t->name, text) == 0 ||
                   (strncmp(text, "ask_", 4) == 0 && strcmp(t->name, "ask") == 0),
               "\"%s\" gave template %s", text, t ? t->name : "");
    (void)kith_template_has_subject(text);
    free(in);
    return 0;
}
