/*
 * attribution.c: the waterfall that decides who gets credit for a signup, and the e-mail
 * normalisation used to spot self-referral. The engine gathers the facts about each candidate
 * (the `ref` link, the typed code, the click behind the cookie, the newest lead with the signup's
 * e-mail); this file only judges them. It is not for looking anything up: no store, no clock, no
 * logging.
 */
#include <string.h>

#include "kith/attribution.h"

static bool same_text(const char *a, const char *b)
{
    /* Unknown or empty values never match: two people without an e-mail are not the same. */
    return a != NULL && b != NULL && a[0] != '\0' && strcmp(a, b) == 0;
}

/*
 * A click (or a lead) is stale when it is older than the window. Computed without signed overflow:
 * a click in the future (clock skew between edges) has age <= 0 and is never stale, and a negative
 * window counts as zero.
 */
static bool click_stale(int64_t now_ms, int64_t at_ms, int64_t window_ms)
{
    if (at_ms >= now_ms)
        return false;
    uint64_t age = (uint64_t)now_ms - (uint64_t)at_ms;
    uint64_t window = window_ms > 0 ? (uint64_t)window_ms : 0;
    return age > window;
}

/* The first reason, in the documented order, that rules a present candidate out. */
static enum kith_attr_reject judge(const struct kith_attr_input *in, enum kith_attr_source src)
{
    const struct kith_attr_facts *f = &in->cand[src];
    if (!f->present)
        return KITH_ATTR_ABSENT;
    if (!f->found)
        return src == KITH_ATTR_COOKIE || src == KITH_ATTR_LEAD ? KITH_ATTR_UNKNOWN_CLICK
                                                                : KITH_ATTR_UNKNOWN_CODE;
    if (!f->same_program)
        return KITH_ATTR_OTHER_PROGRAM;
    if (f->referrer_blocked)
        return KITH_ATTR_REFERRER_BLOCKED;
    if (same_text(in->external_id, f->referrer_external_id) ||
        same_text(in->email_norm, f->referrer_email_norm))
        return KITH_ATTR_SELF_REFERRAL;
    /* url and code happen at signup time; a click and a lead happened earlier. */
    if ((src == KITH_ATTR_COOKIE || src == KITH_ATTR_LEAD) &&
        click_stale(in->now_ms, f->at_ms, in->window_ms))
        return KITH_ATTR_STALE_CLICK;
    return KITH_ATTR_ACCEPTED;
}

void kith_attribution_decide(const struct kith_attr_input *in, struct kith_attr_result *out)
{
    out->winner = KITH_ATTR_ORGANIC;
    int64_t best_at = 0;
    /* Sources are visited in tie-break order, so only a strictly more recent one takes over. */
    for (int i = 0; i < KITH_ATTR_SOURCES; i++) {
        enum kith_attr_source src = (enum kith_attr_source)i;
        out->reason[i] = judge(in, src);
        if (out->reason[i] != KITH_ATTR_ACCEPTED)
            continue;
        if (out->winner == KITH_ATTR_ORGANIC || in->cand[i].at_ms > best_at) {
            out->winner = src;
            best_at = in->cand[i].at_ms;
        }
    }
}

const char *kith_attr_source_name(enum kith_attr_source s)
{
    switch (s) {
    case KITH_ATTR_URL:
        return "url";
    case KITH_ATTR_CODE:
        return "code";
    case KITH_ATTR_COOKIE:
        return "cookie";
    case KITH_ATTR_LEAD:
        return "lead";
    case KITH_ATTR_ORGANIC:
        return "organic";
    }
    return "organic";
}

const char *kith_attr_reject_name(enum kith_attr_reject r)
{
    switch (r) {
    case KITH_ATTR_ACCEPTED:
    case KITH_ATTR_ABSENT:
        return NULL;
    case KITH_ATTR_UNKNOWN_CODE:
        return "unknown_code";
    case KITH_ATTR_UNKNOWN_CLICK:
        return "unknown_click";
    case KITH_ATTR_OTHER_PROGRAM:
        return "other_program";
    case KITH_ATTR_REFERRER_BLOCKED:
        return "referrer_blocked";
    case KITH_ATTR_SELF_REFERRAL:
        return "self_referral";
    case KITH_ATTR_STALE_CLICK:
        return "stale_click";
    }
    return NULL;
}

static bool is_trim_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive (ASCII) comparison of the n-byte domain at d with a lowercase literal. */
static bool domain_is(const char *d, size_t n, const char *lit)
{
    if (strlen(lit) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower(d[i]) != lit[i])
            return false;
    }
    return true;
}

bool kith_email_normalize(const char *email, char *out, size_t outsize)
{
    if (out != NULL && outsize > 0)
        out[0] = '\0';
    if (email == NULL || out == NULL || outsize == 0)
        return false;

    size_t start = 0, end = strlen(email);
    while (start < end && is_trim_space(email[start]))
        start++;
    while (end > start && is_trim_space(email[end - 1]))
        end--;

    const char *at = NULL;
    for (size_t i = start; i < end; i++) {
        /* Whitespace or control characters inside an address make it no address at all (and
         * would make normalisation depend on the order of trimming and dot removal). */
        if ((unsigned char)email[i] <= 0x20 || email[i] == 0x7f)
            return false;
        if (email[i] == '@') {
            if (at != NULL)
                return false;
            at = &email[i];
        }
    }
    if (at == NULL)
        return false;
    const char *local = &email[start], *domain = at + 1;
    size_t local_len = (size_t)(at - local), domain_len = (size_t)(&email[end] - domain);
    if (local_len == 0 || domain_len == 0)
        return false;

    bool gmail = domain_is(domain, domain_len, "gmail.com") ||
                 domain_is(domain, domain_len, "googlemail.com");
    size_t n = 0;
    for (size_t i = 0; i < local_len && local[i] != '+'; i++) {
        if (gmail && local[i] == '.')
            continue;
        if (n + 1 >= outsize)
            goto refuse;
        out[n++] = ascii_lower(local[i]);
    }
    /* "+tag@x.com" would otherwise collide with every other tag-only address at x.com. */
    if (n == 0)
        goto refuse;
    if (n + 1 + domain_len + 1 > outsize)
        goto refuse;
    out[n++] = '@';
    for (size_t i = 0; i < domain_len; i++)
        out[n++] = ascii_lower(domain[i]);
    out[n] = '\0';
    return true;

refuse:
    out[0] = '\0';
    return false;
}
