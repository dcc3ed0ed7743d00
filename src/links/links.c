/*
 * links.c: the redirect path's rules (include/kith/links.h): the Referer's host, the channel
 * label, the crawler list, the counting decision, the Location and the cookie. Every function
 * works on strings it is given and on buffers of the caller's, with explicit bounds; nothing here
 * allocates, logs, reads the clock or touches the store, so the rules are tested and fuzzed
 * without a server. It is not for looking codes up, generating click ids or writing clicks.
 */
#include <stdio.h>
#include <string.h>

#include "kith/core.h"
#include "kith/links.h"

static char lower_ascii(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- Referer host ---- */

/* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). Returns its length, 0 if none. */
static size_t scheme_len(const char *s)
{
    size_t n = 0;
    if (!is_alpha(s[0]))
        return 0;
    while (is_alpha(s[n]) || is_digit(s[n]) || s[n] == '+' || s[n] == '-' || s[n] == '.')
        n++;
    return n;
}

bool kith_links_referrer_host(const char *referer, char out[KITH_LINKS_HOST_MAX + 1])
{
    out[0] = '\0';
    if (referer == NULL)
        return false;
    size_t sl = scheme_len(referer);
    if (sl == 0 || strncmp(referer + sl, "://", 3) != 0)
        return false;
    const char *p = referer + sl + 3;
    size_t n = strcspn(p, "/?#");
    /* The last '@' ends the userinfo: a password may itself contain '@' (old browsers sent
     * it unescaped), and the host never does. */
    for (size_t i = n; i > 0; i--) {
        if (p[i - 1] == '@') {
            p += i;
            n -= i;
            break;
        }
    }
    const char *colon = memchr(p, ':', n);
    if (colon != NULL)
        n = (size_t)(colon - p);
    if (n == 0 || n > KITH_LINKS_HOST_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = lower_ascii(p[i]);
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '.')) {
            out[0] = '\0';
            return false;
        }
        out[i] = c;
    }
    out[n] = '\0';
    return true;
}

/* ---- channel ---- */

bool kith_links_channel_valid(const char *channel)
{
    if (channel == NULL)
        return false;
    size_t n = 0;
    for (; channel[n] != '\0'; n++) {
        char c = channel[n];
        if (n == KITH_LINKS_CHANNEL_MAX ||
            !((c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

/* ---- bots ---- */

/* Substrings (lowercase) of User-Agent headers sent by crawlers and link-preview fetchers.
 * In-app browsers of social apps are people, so only their fetchers' names are listed. */
static const char *const bots[] = {
    "bot",
    "crawler",
    "spider",
    "slurp",
    "facebookexternalhit",
    "facebot",
    "embedly",
    "quora link preview",
    "outbrain",
    "vkshare",
    "w3c_validator",
    "whatsapp/",
    "skypeuripreview",
    "preview",
    "ia_archiver",
    "headlesschrome",
    "lighthouse",
    "iframely",
    "google-inspectiontool",
    "feedfetcher",
    "httrack",
    "scrapy",
    "dataprovider",
    "semrush",
    "ahrefs",
    "mj12",
    "slack-imgproxy",
    "mastodon",
    "yandex",
    "baiduspider",
    "duckduckgo",
    "google-read-aloud",
};

bool kith_links_is_bot(const char *user_agent)
{
    /* One lowered copy and libc's strstr per entry: this runs on every redirect, and fetchers
     * name themselves early, so a bounded prefix is enough. */
    char lower[KITH_LINKS_UA_SCAN_MAX];
    size_t n = 0;
    if (user_agent == NULL || *user_agent == '\0')
        return false;
    for (; user_agent[n] != '\0' && n < sizeof(lower) - 1; n++)
        lower[n] = lower_ascii(user_agent[n]);
    lower[n] = '\0';
    for (size_t i = 0; i < KITH_ARRAY_LEN(bots); i++) {
        if (strstr(lower, bots[i]) != NULL)
            return true;
    }
    return false;
}

/* ---- counting ---- */

bool kith_links_decide(const struct kith_links_facts *facts, enum kith_links_reason *reason)
{
    enum kith_links_reason r = KITH_LINKS_COUNTED;
    /* Capacity comes last: shedding is reported only for clicks that would have counted. */
    if (!facts->attributes)
        r = KITH_LINKS_NOT_ATTRIBUTING;
    else if (facts->head)
        r = KITH_LINKS_HEAD;
    else if (facts->bot)
        r = KITH_LINKS_BOT;
    else if (facts->rate_capped)
        r = KITH_LINKS_RATE_CAPPED;
    else if (facts->backlog_full)
        r = KITH_LINKS_BACKLOG_FULL;
    if (reason != NULL)
        *reason = r;
    return r == KITH_LINKS_COUNTED;
}

const char *kith_links_reason_name(enum kith_links_reason reason)
{
    switch (reason) {
    case KITH_LINKS_COUNTED:
        return "counted";
    case KITH_LINKS_NOT_ATTRIBUTING:
        return "not_attributing";
    case KITH_LINKS_HEAD:
        return "head";
    case KITH_LINKS_BOT:
        return "bot";
    case KITH_LINKS_RATE_CAPPED:
        return "rate_capped";
    case KITH_LINKS_BACKLOG_FULL:
        return "backlog_full";
    }
    return "unknown";
}

/* ---- Location and cookie ---- */

/* A bounded writer: appends until something does not fit, then refuses everything after. */
struct sink {
    char *buf;
    size_t size;
    size_t len;
    bool full;
};

static void put(struct sink *s, const char *p, size_t n)
{
    if (s->full || s->size == 0 || n >= s->size - s->len) {
        s->full = true;
        return;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
}

static void put_str(struct sink *s, const char *p)
{
    put(s, p, strlen(p));
}

/* Codes and click ids go into a query and a cookie unescaped, so only characters that need no
 * escaping in either are allowed; anything else is a caller's bug, refused rather than encoded. */
static bool token_valid(const char *s)
{
    size_t n = 0;
    if (s == NULL)
        return false;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        if (n == KITH_LINKS_TOKEN_MAX || !(is_alpha(c) || is_digit(c) || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

/* No control byte, space or DEL: the value goes into a header line as it is. */
static bool header_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    }
    return true;
}

static enum kith_status fail(char *out, size_t out_size, struct kith_err *err, enum kith_status st,
                             const char *param, const char *msg)
{
    if (out_size > 0)
        out[0] = '\0';
    return kith_err_set(err, st, param, "%s", msg);
}

enum kith_status kith_links_location(const char *destination, bool attributes, const char *code,
                                     const char *click_id, char *out, size_t out_size,
                                     struct kith_err *err)
{
    if (destination == NULL || destination[0] == '\0' || !header_safe(destination))
        return fail(out, out_size, err, KITH_E_INVALID_PARAM, "destination",
                    "the destination must be a non-empty URL without spaces or control bytes");
    if (attributes && !token_valid(code))
        return fail(out, out_size, err, KITH_E_INVALID_PARAM, "code",
                    "the code must be 1 to 64 characters of [A-Za-z0-9_-]");
    if (attributes && click_id != NULL && !token_valid(click_id))
        return fail(out, out_size, err, KITH_E_INVALID_PARAM, "click_id",
                    "the click id must be 1 to 64 characters of [A-Za-z0-9_-]");

    struct sink s = {out, out_size, 0, false};
    if (out_size > 0)
        out[0] = '\0';
    if (!attributes) {
        put_str(&s, destination);
    } else {
        const char *hash = strchr(destination, '#');
        size_t base = hash ? (size_t)(hash - destination) : strlen(destination);
        const char *q = memchr(destination, '?', base);
        put(&s, destination, base);
        /* "...?" and "...?a=1&" already end where a parameter starts; "/a&" without a query
         * is a path, so it still needs its '?'. */
        if (q == NULL)
            put(&s, "?", 1);
        else if (destination[base - 1] != '?' && destination[base - 1] != '&')
            put(&s, "&", 1);
        put_str(&s, "ref=");
        put_str(&s, code);
        if (click_id != NULL) {
            put_str(&s, "&kith_click=");
            put_str(&s, click_id);
        }
        if (hash != NULL)
            put_str(&s, hash);
    }
    if (s.full)
        return fail(out, out_size, err, KITH_E_TOO_LARGE, "destination",
                    "the Location does not fit in the buffer");
    return KITH_OK;
}

static bool domain_valid(const char *d)
{
    size_t n = 0;
    for (; d[n] != '\0'; n++) {
        char c = d[n];
        if (n == KITH_LINKS_DOMAIN_MAX || !(is_alpha(c) || is_digit(c) || c == '.' || c == '-'))
            return false;
    }
    return n > 0;
}

enum kith_status kith_links_cookie(const char *click_id, int64_t cookie_days, const char *domain,
                                   bool secure, char *out, size_t out_size, struct kith_err *err)
{
    char max_age[24];
    if (!token_valid(click_id))
        return fail(out, out_size, err, KITH_E_INVALID_PARAM, "click_id",
                    "the click id must be 1 to 64 characters of [A-Za-z0-9_-]");
    if (cookie_days < 1 || cookie_days > KITH_LINKS_COOKIE_DAYS_MAX)
        return fail(out, out_size, err, KITH_E_INVALID_PARAM, "cookie_days",
                    "cookie_days must be 1 to 3650");
    if (domain != NULL && domain[0] != '\0' && !domain_valid(domain))
        return fail(out, out_size, err, KITH_E_INVALID_PARAM, "domain",
                    "the cookie domain must be 1 to 253 characters of [A-Za-z0-9.-]");
    kith_u64_text((uint64_t)cookie_days * 86400, max_age); /* 1 to 3650 days, checked above */

    struct sink s = {out, out_size, 0, false};
    if (out_size > 0)
        out[0] = '\0';
    put_str(&s, "kith_ref=");
    put_str(&s, click_id);
    put_str(&s, "; Max-Age=");
    put_str(&s, max_age);
    put_str(&s, "; Path=/; HttpOnly; SameSite=Lax");
    if (domain != NULL && domain[0] != '\0') {
        put_str(&s, "; Domain=");
        put_str(&s, domain);
    }
    if (secure)
        put_str(&s, "; Secure");
    if (s.full)
        return fail(out, out_size, err, KITH_E_TOO_LARGE, NULL,
                    "the cookie does not fit in the buffer");
    return KITH_OK;
}
