/*
 * fuzz_referer.c: the redirect path's parsers and builders (src/links) on untrusted bytes. The
 * input is split at '\n' into up to three lines: line 0 is a Referer value, a User-Agent, a `ch`
 * value and a destination URL; line 1 (when present) the code and the cookie domain; line 2 the
 * click id. The whole input (up to its first NUL) is also tried as a Referer, User-Agent and
 * channel. Beyond "no crash", it checks each function's contract from include/kith/links.h:
 * hosts are NUL-terminated within bounds, in [a-z0-9.-], a substring of the input, stable when
 * fed back as "http://<host>/", and the same as the parser api.c used before (kept below as the
 * oracle) wherever that one did not truncate; the Location and the cookie are never written past
 * out_size, are "" on error, have the exact documented shape on success, and always carry
 * "ref=<code>" when attributing. It is not a test of the HTTP handler.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz_check.h"
#include "kith/links.h"

/* The parser src/http/api.c had before src/links, verbatim but for its name: the oracle for
 * "keep the existing behaviour for everything it accepts". */
static void legacy_referrer_host(const char *referer, char *out, size_t outsize)
{
    out[0] = '\0';
    if (referer == NULL)
        return;
    const char *p = strstr(referer, "://");
    if (p == NULL)
        return;
    p += 3;
    const char *at = NULL;
    size_t n = 0;
    while (p[n] && p[n] != '/' && p[n] != '?' && p[n] != '#') {
        if (p[n] == '@')
            at = p + n;
        n++;
    }
    if (at) { /* drop user:password@ */
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t o = 0;
    for (size_t i = 0; i < n && p[i] != ':' && o + 1 < outsize; i++) {
        char ch = p[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.')) {
            out[0] = '\0';
            return;
        }
        out[o++] = ch;
    }
    out[o] = '\0';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Does s start with an RFC 3986 scheme followed by "://"? */
static bool has_scheme(const char *s)
{
    size_t n = 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
           (s[n] >= '0' && s[n] <= '9') || s[n] == '+' || s[n] == '-' || s[n] == '.')
        n++;
    return strncmp(s + n, "://", 3) == 0;
}

/* Is needle a substring of hay, ASCII case-insensitively? */
static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        size_t i = 0;
        while (i < n && hay[i] != '\0' && lower(hay[i]) == needle[i])
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

static void check_host(const char *in)
{
    char out[KITH_LINKS_HOST_MAX + 1], again[KITH_LINKS_HOST_MAX + 1];
    char old[KITH_LINKS_HOST_MAX + 1];
    char url[KITH_LINKS_HOST_MAX + 32];
    memset(out, 'x', sizeof(out));
    bool ok = kith_links_referrer_host(in, out);
    legacy_referrer_host(in, old, sizeof(old));
    if (!ok) {
        FUZZ_CHECK(out[0] == '\0', "refused input left \"%.40s\" in out", out);
        /* What the old parser kept untruncated from a real scheme, the new one keeps too. */
        FUZZ_CHECK(!(old[0] != '\0' && strlen(old) < KITH_LINKS_HOST_MAX && has_scheme(in)),
                   "\"%s\" refused; the old parser gave \"%s\"", in, old);
        return;
    }
    size_t n = strnlen(out, sizeof(out));
    FUZZ_CHECK(n >= 1 && n <= KITH_LINKS_HOST_MAX, "host of length %zu (unterminated?)", n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= '0' && out[i] <= '9') ||
                       out[i] == '.' || out[i] == '-',
                   "host \"%s\" has byte 0x%02x", out, (unsigned)(unsigned char)out[i]);
    FUZZ_CHECK(has_scheme(in), "host \"%s\" from \"%s\" without a scheme", out, in);
    FUZZ_CHECK(contains_nocase(in, out), "host \"%s\" is not in \"%s\"", out, in);
    FUZZ_CHECK(strcmp(out, old) == 0, "\"%s\": host \"%s\", the old parser \"%s\"", in, out, old);
    /* Fed back as a URL, a host gives itself, whatever the case, port, userinfo or path. */
    snprintf(url, sizeof(url), "http://%s/", out);
    FUZZ_CHECK(kith_links_referrer_host(url, again) && strcmp(out, again) == 0,
               "not idempotent: \"%s\" -> \"%s\"", out, again);
    snprintf(url, sizeof(url), "HTTPS://u:p@%s:443?q#f", out);
    for (size_t i = 0; url[i] != '\0'; i++)
        url[i] = upper(url[i]);
    FUZZ_CHECK(kith_links_referrer_host(url, again) && strcmp(out, again) == 0,
               "\"%s\" -> \"%s\", not \"%s\"", url, again, out);
}

static void check_channel(const char *in)
{
    size_t n = strlen(in);
    bool want = n >= 1 && n <= KITH_LINKS_CHANNEL_MAX &&
                strspn(in, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
    FUZZ_CHECK(kith_links_channel_valid(in) == want, "channel \"%s\" judged %d", in, !want);
}

static void check_bot(const char *in)
{
    bool bot = kith_links_is_bot(in);
    size_t n = strnlen(in, KITH_LINKS_UA_SCAN_MAX - 1);
    char *up = malloc(n + 1), *half = malloc(n / 2 + 1);
    if (up == NULL || half == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        up[i] = upper(in[i]);
    up[n] = '\0';
    memcpy(half, in, n / 2);
    half[n / 2] = '\0';
    FUZZ_CHECK(kith_links_is_bot(up) == bot, "case changes the bot verdict on \"%s\"", in);
    /* A substring test: a prefix that is a bot makes the whole a bot. */
    FUZZ_CHECK(!kith_links_is_bot(half) || bot, "\"%s\" is a bot but \"%s\" is not", half, in);
    free(up);
    free(half);
}

static bool token_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= KITH_LINKS_TOKEN_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static bool header_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* One call with a heap buffer of exactly out_size bytes (ASan sees any write past it). */
static void check_location_size(const char *dest, bool attributes, const char *code,
                                const char *click, size_t out_size, const char *big_result)
{
    char *out = malloc(out_size ? out_size : 1);
    if (out == NULL)
        abort();
    memset(out, 'x', out_size ? out_size : 1);
    struct kith_err err;
    enum kith_status st = kith_links_location(dest, attributes, code, click, out, out_size, &err);
    bool valid = dest[0] != '\0' && header_safe(dest) &&
                 (!attributes || (token_ok(code) && (click == NULL || token_ok(click))));
    if (!valid) {
        FUZZ_CHECK(st == KITH_E_INVALID_PARAM, "invalid input gave status %d", (int)st);
    } else if (st == KITH_OK) {
        FUZZ_CHECK(strnlen(out, out_size) < out_size, "Location not terminated in %zu", out_size);
        FUZZ_CHECK(big_result == NULL || strcmp(out, big_result) == 0,
                   "\"%s\" in %zu bytes but \"%s\" in a large buffer", out, out_size, big_result);
    } else {
        FUZZ_CHECK(st == KITH_E_TOO_LARGE, "valid input gave status %d", (int)st);
        FUZZ_CHECK(big_result == NULL || strlen(big_result) + 1 > out_size,
                   "\"%s\" refused in %zu bytes", big_result, out_size);
    }
    if (st != KITH_OK && out_size > 0)
        FUZZ_CHECK(out[0] == '\0', "error left \"%.40s\" in out", out);
    free(out);
}

static void check_location(const char *dest, bool attributes, const char *code, const char *click,
                           size_t small)
{
    static char out[KITH_LINKS_LOCATION_MAX];
    struct kith_err err;
    enum kith_status st =
        kith_links_location(dest, attributes, code, click, out, sizeof(out), &err);
    check_location_size(dest, attributes, code, click, 0, NULL);
    bool valid = dest[0] != '\0' && header_safe(dest) &&
                 (!attributes || (token_ok(code) && (click == NULL || token_ok(click))));
    if (!valid) {
        check_location_size(dest, attributes, code, click, small, NULL);
        return;
    }
    /* The expected shape: destination before '#', separator, ref=<code>[&kith_click=<id>], then
     * the fragment; or the destination as it is. */
    const char *hash = strchr(dest, '#');
    size_t base = hash ? (size_t)(hash - dest) : strlen(dest);
    size_t frag = hash ? strlen(hash) : 0;
    char mid[2 * KITH_LINKS_TOKEN_MAX + 32] = "";
    if (attributes) {
        bool q = memchr(dest, '?', base) != NULL;
        const char *sep = !q ? "?" : (dest[base - 1] == '?' || dest[base - 1] == '&') ? "" : "&";
        snprintf(mid, sizeof(mid), "%sref=%s%s%s", sep, code, click ? "&kith_click=" : "",
                 click ? click : "");
    }
    size_t want = attributes ? base + strlen(mid) + frag : strlen(dest);
    FUZZ_CHECK((st == KITH_OK) == (want < sizeof(out)) && (st == KITH_OK || st == KITH_E_TOO_LARGE),
               "a Location of %zu bytes: status %d", want, (int)st);
    if (st != KITH_OK) {
        FUZZ_CHECK(out[0] == '\0', "error left \"%.40s\" in out", out);
        check_location_size(dest, attributes, code, click, small, NULL);
        return;
    }
    size_t n = strlen(out);
    FUZZ_CHECK(header_safe(out), "Location \"%s\" has a control byte", out);
    if (!attributes) {
        FUZZ_CHECK(strcmp(out, dest) == 0, "\"%s\" changed to \"%s\"", dest, out);
    } else {
        FUZZ_CHECK(strstr(out, "ref=") != NULL && strstr(out, code) != NULL,
                   "attributing Location \"%s\" lacks ref=%s", out, code);
        FUZZ_CHECK(n == want && strncmp(out, dest, base) == 0 &&
                       strncmp(out + base, mid, strlen(mid)) == 0 &&
                       (hash == NULL || strcmp(out + n - frag, hash) == 0),
                   "\"%s\" + %s gave \"%s\"", dest, code, out);
    }
    check_location_size(dest, attributes, code, click, n, out);
    check_location_size(dest, attributes, code, click, n + 1, out);
    check_location_size(dest, attributes, code, click, small, out);
}

static void check_cookie(const char *click, int64_t days, const char *domain, bool secure,
                         size_t small)
{
    static char out[KITH_LINKS_COOKIE_MAX];
    char want[KITH_LINKS_COOKIE_MAX + 64];
    struct kith_err err;
    bool has_domain = domain != NULL && domain[0] != '\0';
    size_t dn = has_domain ? strlen(domain) : 0;
    bool valid =
        token_ok(click) && days >= 1 && days <= KITH_LINKS_COOKIE_DAYS_MAX &&
        (!has_domain ||
         (dn <= KITH_LINKS_DOMAIN_MAX &&
          strspn(domain, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") ==
              dn));
    memset(out, 'x', sizeof(out));
    enum kith_status st = kith_links_cookie(click, days, domain, secure, out, sizeof(out), &err);
    if (!valid) {
        FUZZ_CHECK(st == KITH_E_INVALID_PARAM && out[0] == '\0', "bad cookie input: status %d",
                   (int)st);
        return;
    }
    /* KITH_LINKS_COOKIE_MAX holds every cookie the builder accepts. */
    FUZZ_CHECK(st == KITH_OK, "valid cookie input: status %d", (int)st);
    snprintf(want, sizeof(want), "kith_ref=%s; Max-Age=%lld; Path=/; HttpOnly; SameSite=Lax%s%s%s",
             click, (long long)days * 86400, has_domain ? "; Domain=" : "",
             has_domain ? domain : "", secure ? "; Secure" : "");
    FUZZ_CHECK(strcmp(out, want) == 0, "cookie \"%s\", want \"%s\"", out, want);
    size_t semis = 0;
    for (const char *p = out; *p != '\0'; p++)
        semis += *p == ';';
    FUZZ_CHECK(semis == (size_t)(4 + has_domain + secure), "cookie \"%s\" has %zu attributes", out,
               semis);

    size_t n = strlen(out), sizes[] = {0, n, n + 1, small};
    for (size_t i = 0; i < KITH_ARRAY_LEN(sizes); i++) {
        size_t size = sizes[i];
        char *buf = malloc(size ? size : 1);
        if (buf == NULL)
            abort();
        memset(buf, 'x', size ? size : 1);
        st = kith_links_cookie(click, days, domain, secure, buf, size, &err);
        if (size > n)
            FUZZ_CHECK(st == KITH_OK && strcmp(buf, out) == 0, "cookie differs in %zu", size);
        else
            FUZZ_CHECK(st == KITH_E_TOO_LARGE && (size == 0 || buf[0] == '\0'),
                       "cookie of %zu bytes in %zu: status %d", n, size, (int)st);
        free(buf);
    }
}

static void check_decide(uint8_t bits)
{
    struct kith_links_facts f = {.attributes = bits & 1,
                                 .head = bits & 2,
                                 .bot = bits & 4,
                                 .rate_capped = bits & 8,
                                 .backlog_full = bits & 16};
    enum kith_links_reason r;
    bool counted = kith_links_decide(&f, &r);
    enum kith_links_reason want = !f.attributes    ? KITH_LINKS_NOT_ATTRIBUTING
                                  : f.head         ? KITH_LINKS_HEAD
                                  : f.bot          ? KITH_LINKS_BOT
                                  : f.rate_capped  ? KITH_LINKS_RATE_CAPPED
                                  : f.backlog_full ? KITH_LINKS_BACKLOG_FULL
                                                   : KITH_LINKS_COUNTED;
    FUZZ_CHECK(r == want && counted == (r == KITH_LINKS_COUNTED), "facts 0x%02x: reason %s",
               (unsigned)bits, kith_links_reason_name(r));
    FUZZ_CHECK(strcmp(kith_links_reason_name(r), "unknown") != 0, "reason %d unnamed", (int)r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size);
    char *lines[3] = {in, NULL, NULL};
    for (size_t i = 1; i < 3; i++) {
        char *nl = lines[i - 1] ? strchr(lines[i - 1], '\n') : NULL;
        if (nl != NULL) {
            *nl = '\0';
            lines[i] = nl + 1;
        }
    }
    check_decide(size > 0 ? data[0] : 0);
    check_host(lines[0]);
    check_channel(lines[0]);
    check_bot(lines[0]);
    if (lines[1] != NULL) {
        /* the whole input, newlines included, as one header value */
        char *whole = fuzz_cstr(data, size);
        check_host(whole);
        check_channel(whole);
        check_bot(whole);
        free(whole);
    }

    const char *code = lines[1] ? lines[1] : "JANE-2847";
    const char *click = lines[2] ? lines[2] : (size % 2 ? "clk_0fz" : NULL);
    size_t small = 1 + size % 97;
    check_location(lines[0], true, code, click, small);
    check_location(lines[0], true, code, NULL, small);
    check_location(lines[0], false, code, click, small);

    int64_t days = (int64_t)(size % 3700) - 20; /* both sides of 1..3650 */
    check_cookie(lines[2] ? lines[2] : lines[0], days, lines[1], size % 3 == 0, small);
    check_cookie("clk_0fz", 30, lines[1] ? lines[1] : lines[0], size % 2 == 0, small);
    free(in);
    return 0;
}
