/*
 * test_links.c: unit tests for src/links, one group per function of include/kith/links.h: the
 * Referer's host (schemes, userinfo, ports, case, paths, garbage, IPv6, length at and past the
 * bound, heap copies of exact length so ASan sees any over-read), channels, the bot list, every
 * counting reason and their order, the Location (with and without a query, ending in '?' or '&',
 * fragments, click ids, buffers one byte too small) and the cookie. Not for the HTTP handler
 * that calls them, which the black-box tests in tests/api/test_links.py cover.
 */
#include <stdbool.h>

#include "kith/links.h"
#include "test.h"

/* The host of referer, "(refused)" when refused; also checks out is "" on refusal. */
static const char *host_of(const char *referer)
{
    static char out[KITH_LINKS_HOST_MAX + 1];
    memset(out, 'x', sizeof(out));
    bool ok = kith_links_referrer_host(referer, out);
    if (!ok)
        return out[0] == '\0' ? "(refused)" : "(refused, out not empty)";
    return out;
}

/* The same on a heap copy of exactly the string, so a read past its NUL is an ASan error. */
static const char *host_of_heap(const char *referer)
{
    size_t n = strlen(referer);
    char *copy = malloc(n + 1);
    if (copy == NULL)
        abort();
    memcpy(copy, referer, n + 1);
    const char *r = host_of(copy);
    free(copy);
    return r;
}

static void test_host_plain(void)
{
    CHECK_STR(host_of("https://www.retailmenot.com/view/x"), "www.retailmenot.com");
    CHECK_STR(host_of("https://retailmenot.com/coupons/kith"), "retailmenot.com");
    CHECK_STR(host_of("http://blog.example.net/post/1"), "blog.example.net");
    CHECK_STR(host_of("https://example.com"), "example.com");
    CHECK_STR(host_of("https://example.com/"), "example.com");
    CHECK_STR(host_of("http://127.0.0.1/x"), "127.0.0.1");
    CHECK_STR(host_of("https://xn--bcher-kva.example/"), "xn--bcher-kva.example");
    CHECK_STR(host_of("https://example.com./"), "example.com.");
}

static void test_host_schemes(void)
{
    CHECK_STR(host_of("android-app://com.google.android.gm/"), "com.google.android.gm");
    CHECK_STR(host_of("HTTPS://example.com/"), "example.com");
    CHECK_STR(host_of("svn+ssh://example.com/"), "example.com");
    CHECK_STR(host_of("a.b-c+d://example.com/"), "example.com");
    /* no scheme, or not one: refused */
    CHECK_STR(host_of("example.com/path"), "(refused)");
    CHECK_STR(host_of("example.com"), "(refused)");
    CHECK_STR(host_of("//example.com/path"), "(refused)");
    CHECK_STR(host_of("/relative/path"), "(refused)");
    CHECK_STR(host_of("://example.com/"), "(refused)");
    CHECK_STR(host_of("1http://example.com/"), "(refused)");
    CHECK_STR(host_of("ht tp://example.com/"), "(refused)");
    CHECK_STR(host_of("data:text/html,x://evil.example/"), "(refused)");
    CHECK_STR(host_of("http:/example.com/"), "(refused)");
    CHECK_STR(host_of("http:example.com"), "(refused)");
    CHECK_STR(host_of("mailto:a@example.com"), "(refused)");
    CHECK_STR(host_of(""), "(refused)");
    CHECK_STR(host_of(NULL), "(refused)");
}

static void test_host_userinfo_port(void)
{
    CHECK_STR(host_of("https://user:pass@example.com/x"), "example.com");
    CHECK_STR(host_of("https://user@example.com"), "example.com");
    CHECK_STR(host_of("https://a@b@example.com/"), "example.com");
    CHECK_STR(host_of("https://u:p@example.com:8443/a?b#c"), "example.com");
    CHECK_STR(host_of("https://example.com:8443/"), "example.com");
    CHECK_STR(host_of("https://example.com:/"), "example.com");
    CHECK_STR(host_of("https://example.com:80:90"), "example.com");
    /* an '@' after the authority is part of the path, not userinfo */
    CHECK_STR(host_of("https://example.com/a@evil.example"), "example.com");
    CHECK_STR(host_of("https://example.com?x=a@evil.example"), "example.com");
    CHECK_STR(host_of("https://example.com#a@evil.example"), "example.com");
    CHECK_STR(host_of("https://user@/x"), "(refused)");
    CHECK_STR(host_of("https://:8080/"), "(refused)");
    CHECK_STR(host_of("https://u@:8080/"), "(refused)");
}

static void test_host_case_and_paths(void)
{
    CHECK_STR(host_of("https://WWW.Example.COM/Path"), "www.example.com");
    CHECK_STR(host_of("https://example.com?q=1"), "example.com");
    CHECK_STR(host_of("https://example.com#frag"), "example.com");
    CHECK_STR(host_of("https://example.com/a/b/c?d=e&f=g#h"), "example.com");
    CHECK_STR(host_of("https://example.com/%20space in path"), "example.com");
}

static void test_host_garbage(void)
{
    CHECK_STR(host_of("https:///path"), "(refused)");
    CHECK_STR(host_of("https://"), "(refused)");
    CHECK_STR(host_of("https://exa mple.com/"), "(refused)");
    CHECK_STR(host_of("https://exa_mple.com/"), "(refused)");
    CHECK_STR(host_of("https://ex%41mple.com/"), "(refused)");
    CHECK_STR(host_of("https://ex\xc3\xa4mple.com/"), "(refused)");
    CHECK_STR(host_of("https://example.com\r\nX: y"), "(refused)");
    /* '\\' is no delimiter here (browsers never send one), so the last '@' still ends userinfo */
    CHECK_STR(host_of("https://example.com\\@evil.example/"), "evil.example");
    CHECK_STR(host_of("https://example.com\\path/"), "(refused)");
    CHECK_STR(host_of(" https://example.com/"), "(refused)");
    CHECK_STR(host_of("https://example.com /"), "(refused)");
    /* IPv6 literals are refused (documented): brackets are not in the alphabet */
    CHECK_STR(host_of("http://[::1]/"), "(refused)");
    CHECK_STR(host_of("http://[2001:db8::1]:8080/"), "(refused)");
    /* labels are not checked */
    CHECK_STR(host_of("https://a..b/"), "a..b");
    CHECK_STR(host_of("https://-/"), "-");
}

static void test_host_length(void)
{
    char url[600], want[KITH_LINKS_HOST_MAX + 2];
    memset(want, 'a', sizeof(want));
    want[KITH_LINKS_HOST_MAX] = '\0';
    snprintf(url, sizeof(url), "https://%s/x", want);
    CHECK_STR(host_of_heap(url), want);
    snprintf(url, sizeof(url), "https://u:p@%s:1", want);
    CHECK_STR(host_of_heap(url), want);
    want[KITH_LINKS_HOST_MAX] = 'a';
    want[KITH_LINKS_HOST_MAX + 1] = '\0';
    snprintf(url, sizeof(url), "https://%s/x", want);
    CHECK_STR(host_of_heap(url), "(refused)");
    /* a long userinfo does not count against the host */
    char big[1200];
    memset(big, 'u', 1000);
    memcpy(big + 1000, "@ok.example/", 12);
    char full[1300];
    snprintf(full, sizeof(full), "https://%.1012s", big);
    CHECK_STR(host_of_heap(full), "ok.example");
    /* short inputs ending anywhere */
    CHECK_STR(host_of_heap("h://a"), "a");
    CHECK_STR(host_of_heap("h://"), "(refused)");
    CHECK_STR(host_of_heap("h:/"), "(refused)");
    CHECK_STR(host_of_heap("h"), "(refused)");
}

static void test_channel(void)
{
    CHECK(kith_links_channel_valid("email"));
    CHECK(kith_links_channel_valid("whatsapp"));
    CHECK(kith_links_channel_valid("a"));
    CHECK(kith_links_channel_valid("q_r-2"));
    CHECK(kith_links_channel_valid("abcdefghijklmnopqrst")); /* 20 */
    CHECK(!kith_links_channel_valid("abcdefghijklmnopqrstu"));
    CHECK(!kith_links_channel_valid(""));
    CHECK(!kith_links_channel_valid(NULL));
    CHECK(!kith_links_channel_valid("Email"));
    CHECK(!kith_links_channel_valid("bad channel"));
    CHECK(!kith_links_channel_valid("sms\n"));
    CHECK(!kith_links_channel_valid("a.b"));
    CHECK(!kith_links_channel_valid("caf\xc3\xa9"));
}

static void test_bots(void)
{
    static const char *const bots[] = {
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Twitterbot/1.0",
        "WhatsApp/2.23.20.0",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0)",
        "Mozilla/5.0 (compatible; bingbot/2.0)",
        "Mozilla/5.0 HeadlessChrome/120.0",
        "SKYPEURIPREVIEW Preview/0.5",
        "Mastodon/4.2.0 (http.rb/5.1.1; +https://mastodon.social/)",
        "Scrapy/2.11",
    };
    static const char *const people[] = {
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Safari/537.36",
        "Mozilla/5.0 (Linux; Android 14) [FBAN/EMA;FBLC/en_US;FBAV/400.0]",
        "Mozilla/5.0 (iPhone) Instagram 300.0",
        "WhatsApp", /* the app itself, not its fetcher "WhatsApp/<version>" */
        "curl/8.0",
    };
    for (size_t i = 0; i < KITH_ARRAY_LEN(bots); i++) {
        if (!kith_links_is_bot(bots[i]))
            fprintf(stderr, "  not a bot: %s\n", bots[i]);
        CHECK(kith_links_is_bot(bots[i]));
    }
    for (size_t i = 0; i < KITH_ARRAY_LEN(people); i++) {
        if (kith_links_is_bot(people[i]))
            fprintf(stderr, "  a bot: %s\n", people[i]);
        CHECK(!kith_links_is_bot(people[i]));
    }
    CHECK(!kith_links_is_bot(NULL));
    CHECK(!kith_links_is_bot(""));
    CHECK(kith_links_is_bot("BOT"));

    /* Only the first KITH_LINKS_UA_SCAN_MAX - 1 bytes are looked at. */
    char ua[KITH_LINKS_UA_SCAN_MAX + 8];
    memset(ua, 'x', sizeof(ua));
    memcpy(ua + KITH_LINKS_UA_SCAN_MAX - 4, "bot", 3);
    ua[KITH_LINKS_UA_SCAN_MAX - 1] = '\0'; /* "bot" ends at the last byte scanned */
    CHECK(kith_links_is_bot(ua));
    memset(ua, 'x', sizeof(ua));
    memcpy(ua + KITH_LINKS_UA_SCAN_MAX - 3, "bot", 3);
    ua[sizeof(ua) - 1] = '\0'; /* "bot" straddles the bound */
    CHECK(!kith_links_is_bot(ua));
}

static enum kith_links_reason reason_of(bool attributes, bool head, bool bot, bool rate_capped,
                                        bool backlog_full, bool *counted)
{
    struct kith_links_facts f = {.attributes = attributes,
                                 .head = head,
                                 .bot = bot,
                                 .rate_capped = rate_capped,
                                 .backlog_full = backlog_full};
    enum kith_links_reason r = (enum kith_links_reason)99;
    *counted = kith_links_decide(&f, &r);
    return r;
}

static void test_decide(void)
{
    bool counted = false;
    CHECK_INT(reason_of(true, false, false, false, false, &counted), KITH_LINKS_COUNTED);
    CHECK(counted);
    CHECK_INT(reason_of(false, false, false, false, false, &counted), KITH_LINKS_NOT_ATTRIBUTING);
    CHECK(!counted);
    CHECK_INT(reason_of(true, true, false, false, false, &counted), KITH_LINKS_HEAD);
    CHECK(!counted);
    CHECK_INT(reason_of(true, false, true, false, false, &counted), KITH_LINKS_BOT);
    CHECK(!counted);
    CHECK_INT(reason_of(true, false, false, true, false, &counted), KITH_LINKS_RATE_CAPPED);
    CHECK(!counted);
    CHECK_INT(reason_of(true, false, false, false, true, &counted), KITH_LINKS_BACKLOG_FULL);
    CHECK(!counted);

    /* The first reason in enum order wins; backlog_full only for an otherwise counted click. */
    CHECK_INT(reason_of(false, true, true, true, true, &counted), KITH_LINKS_NOT_ATTRIBUTING);
    CHECK_INT(reason_of(true, true, true, true, true, &counted), KITH_LINKS_HEAD);
    CHECK_INT(reason_of(true, false, true, true, true, &counted), KITH_LINKS_BOT);
    CHECK_INT(reason_of(true, false, false, true, true, &counted), KITH_LINKS_RATE_CAPPED);
    CHECK(!counted);

    /* Exhaustively: counted exactly when the reason says so, and only for the one fact set. */
    for (unsigned m = 0; m < 32; m++) {
        enum kith_links_reason r = reason_of(m & 1, m & 2, m & 4, m & 8, m & 16, &counted);
        CHECK_INT(counted, r == KITH_LINKS_COUNTED);
        CHECK_INT(counted, m == 1);
    }

    struct kith_links_facts f = {.attributes = true};
    CHECK(kith_links_decide(&f, NULL));
    f.bot = true;
    CHECK(!kith_links_decide(&f, NULL));
}

static void test_reason_names(void)
{
    CHECK_STR(kith_links_reason_name(KITH_LINKS_COUNTED), "counted");
    CHECK_STR(kith_links_reason_name(KITH_LINKS_NOT_ATTRIBUTING), "not_attributing");
    CHECK_STR(kith_links_reason_name(KITH_LINKS_HEAD), "head");
    CHECK_STR(kith_links_reason_name(KITH_LINKS_BOT), "bot");
    CHECK_STR(kith_links_reason_name(KITH_LINKS_RATE_CAPPED), "rate_capped");
    CHECK_STR(kith_links_reason_name(KITH_LINKS_BACKLOG_FULL), "backlog_full");
    CHECK_STR(kith_links_reason_name((enum kith_links_reason)42), "unknown");
}

/* The Location for dest, or "(error <status> <param>)". */
static const char *loc(const char *dest, bool attributes, const char *code, const char *click)
{
    static char out[KITH_LINKS_LOCATION_MAX];
    static char msg[128];
    struct kith_err err = {{0}, {0}};
    memset(out, 'x', sizeof(out));
    enum kith_status st =
        kith_links_location(dest, attributes, code, click, out, sizeof(out), &err);
    if (st == KITH_OK)
        return out;
    snprintf(msg, sizeof(msg), "(error %s %s%s)", kith_status_code(st), err.param,
             out[0] == '\0' ? "" : " out not empty");
    return msg;
}

static void test_location_query(void)
{
    const char *c = "JANE-2847";
    CHECK_STR(loc("http://shop.example.org/", true, c, NULL),
              "http://shop.example.org/?ref=JANE-2847");
    CHECK_STR(loc("https://example.com", true, c, NULL), "https://example.com?ref=JANE-2847");
    CHECK_STR(loc("https://example.com/join?utm_source=kith&x=1", true, c, NULL),
              "https://example.com/join?utm_source=kith&x=1&ref=JANE-2847");
    CHECK_STR(loc("https://example.com/a?", true, c, NULL), "https://example.com/a?ref=JANE-2847");
    CHECK_STR(loc("https://example.com/a?b=1&", true, c, NULL),
              "https://example.com/a?b=1&ref=JANE-2847");
    /* '&' without a query is a path character: the query still starts with '?' */
    CHECK_STR(loc("https://example.com/a&", true, c, NULL), "https://example.com/a&?ref=JANE-2847");
    CHECK_STR(loc("https://example.com/a?ref=OTHER", true, c, NULL),
              "https://example.com/a?ref=OTHER&ref=JANE-2847");
}

static void test_location_fragment(void)
{
    const char *c = "JANE-2847";
    CHECK_STR(loc("https://example.com/a?b=1#top", true, c, NULL),
              "https://example.com/a?b=1&ref=JANE-2847#top");
    CHECK_STR(loc("https://example.com/a#top", true, c, NULL),
              "https://example.com/a?ref=JANE-2847#top");
    CHECK_STR(loc("https://example.com/a?#top", true, c, NULL),
              "https://example.com/a?ref=JANE-2847#top");
    CHECK_STR(loc("https://example.com/a?b&#top", true, c, NULL),
              "https://example.com/a?b&ref=JANE-2847#top");
    CHECK_STR(loc("https://example.com/a#", true, c, NULL), "https://example.com/a?ref=JANE-2847#");
    /* a '?' inside the fragment is not a query */
    CHECK_STR(loc("https://example.com/a#x?y=1", true, c, NULL),
              "https://example.com/a?ref=JANE-2847#x?y=1");
    CHECK_STR(loc("https://example.com/a#x#y", true, c, NULL),
              "https://example.com/a?ref=JANE-2847#x#y");
    CHECK_STR(loc("#frag", true, c, NULL), "?ref=JANE-2847#frag");
}

static void test_location_click_and_not_attributing(void)
{
    const char *c = "JANE-2847", *k = "clk_0abc_DEF-9";
    CHECK_STR(loc("https://example.com/a?b=1#top", true, c, k),
              "https://example.com/a?b=1&ref=JANE-2847&kith_click=clk_0abc_DEF-9#top");
    CHECK_STR(loc("https://example.com/", true, c, k),
              "https://example.com/?ref=JANE-2847&kith_click=clk_0abc_DEF-9");
    /* not attributing: the destination as it is, code and click id ignored (even bad ones) */
    CHECK_STR(loc("https://example.com/join?utm_source=kith&x=1", false, c, k),
              "https://example.com/join?utm_source=kith&x=1");
    CHECK_STR(loc("https://example.com/a#top", false, NULL, NULL), "https://example.com/a#top");
    CHECK_STR(loc("https://example.com/a?", false, "bad code", "bad\nid"),
              "https://example.com/a?");
}

static void test_location_invalid(void)
{
    CHECK_STR(loc(NULL, true, "A", NULL), "(error invalid_param destination)");
    CHECK_STR(loc("", false, NULL, NULL), "(error invalid_param destination)");
    CHECK_STR(loc("https://example.com/\r\nSet-Cookie: x=1", true, "A", NULL),
              "(error invalid_param destination)");
    CHECK_STR(loc("https://example.com/\r\nSet-Cookie: x=1", false, NULL, NULL),
              "(error invalid_param destination)");
    CHECK_STR(loc("https://example.com/a b", true, "A", NULL), "(error invalid_param destination)");
    CHECK_STR(loc("https://example.com/\x7f", true, "A", NULL),
              "(error invalid_param destination)");
    CHECK_STR(loc("https://example.com/\t", true, "A", NULL), "(error invalid_param destination)");
    CHECK_STR(loc("https://example.com/", true, NULL, NULL), "(error invalid_param code)");
    CHECK_STR(loc("https://example.com/", true, "", NULL), "(error invalid_param code)");
    CHECK_STR(loc("https://example.com/", true, "JANE 2847", NULL), "(error invalid_param code)");
    CHECK_STR(loc("https://example.com/", true, "A&b=c", NULL), "(error invalid_param code)");
    CHECK_STR(loc("https://example.com/", true, "A#", NULL), "(error invalid_param code)");
    CHECK_STR(loc("https://example.com/", true, "A", ""), "(error invalid_param click_id)");
    CHECK_STR(loc("https://example.com/", true, "A", "clk;x"), "(error invalid_param click_id)");
    char tok[KITH_LINKS_TOKEN_MAX + 2];
    memset(tok, 'A', sizeof(tok));
    tok[KITH_LINKS_TOKEN_MAX] = '\0';
    CHECK(strstr(loc("https://example.com/", true, tok, tok), "&kith_click=AAAA") != NULL);
    tok[KITH_LINKS_TOKEN_MAX] = 'A';
    tok[KITH_LINKS_TOKEN_MAX + 1] = '\0';
    CHECK_STR(loc("https://example.com/", true, tok, NULL), "(error invalid_param code)");
    CHECK_STR(loc("https://example.com/", true, "A", tok), "(error invalid_param click_id)");
    /* non-ASCII bytes pass through: they are the destination's business */
    CHECK_STR(loc("https://example.com/caf\xc3\xa9", true, "A", NULL),
              "https://example.com/caf\xc3\xa9?ref=A");
}

static void test_location_bounds(void)
{
    const char *dest = "https://example.com/a?b=1#top";
    const char *want = "https://example.com/a?b=1&ref=JANE-2847&kith_click=clk_1#top";
    size_t need = strlen(want) + 1;
    char out[128];
    struct kith_err err = {{0}, {0}};
    /* every size below the need is refused with "" and never written past */
    for (size_t size = 0; size < need; size++) {
        memset(out, '#', sizeof(out));
        enum kith_status st =
            kith_links_location(dest, true, "JANE-2847", "clk_1", out, size, &err);
        CHECK_INT(st, KITH_E_TOO_LARGE);
        if (size > 0)
            CHECK_INT(out[0], '\0');
        for (size_t i = size; i < sizeof(out); i++) {
            if (out[i] != '#') {
                fprintf(stderr, "  wrote out[%zu] with out_size %zu\n", i, size);
                CHECK(out[i] == '#');
                break;
            }
        }
    }
    CHECK_INT(kith_links_location(dest, true, "JANE-2847", "clk_1", out, need, &err), KITH_OK);
    CHECK_STR(out, want);
    /* unchanged destination: exactly its length plus NUL */
    CHECK_INT(kith_links_location(dest, false, NULL, NULL, out, strlen(dest), &err),
              KITH_E_TOO_LARGE);
    CHECK_STR(err.param, "destination");
    CHECK_INT(kith_links_location(dest, false, NULL, NULL, out, strlen(dest) + 1, &err), KITH_OK);
    CHECK_STR(out, dest);
    /* NULL err is fine */
    CHECK_INT(kith_links_location(dest, true, "A", NULL, out, 4, NULL), KITH_E_TOO_LARGE);
    CHECK_INT(kith_links_location(NULL, true, "A", NULL, out, sizeof(out), NULL),
              KITH_E_INVALID_PARAM);

    /* The documented size fits a 2047-byte destination with tokens of the maximum length. */
    static char big[2048], res[KITH_LINKS_LOCATION_MAX];
    char tok[KITH_LINKS_TOKEN_MAX + 1];
    memset(big, 'a', sizeof(big) - 1);
    memcpy(big, "https://example.com/?", 21);
    big[sizeof(big) - 1] = '\0';
    memset(tok, 'T', KITH_LINKS_TOKEN_MAX);
    tok[KITH_LINKS_TOKEN_MAX] = '\0';
    CHECK_INT(kith_links_location(big, true, tok, tok, res, sizeof(res), &err), KITH_OK);
    CHECK_INT(strlen(res), 2047 + 5 + 64 + 12 + 64);
    /* an overlong destination is an error, not a truncated URL */
    static char huge[4000];
    memset(huge, 'a', sizeof(huge) - 1);
    memcpy(huge, "https://example.com/", 20);
    huge[sizeof(huge) - 1] = '\0';
    memset(res, 'x', sizeof(res));
    CHECK_INT(kith_links_location(huge, true, "A", NULL, res, sizeof(res), &err), KITH_E_TOO_LARGE);
    CHECK_STR(res, "");
    CHECK_INT(kith_links_location(huge, false, NULL, NULL, res, sizeof(res), &err),
              KITH_E_TOO_LARGE);
    CHECK_STR(res, "");
}

/* The cookie, or "(error <status> <param>)". */
static const char *cookie(const char *click, int64_t days, const char *domain, bool secure)
{
    static char out[KITH_LINKS_COOKIE_MAX];
    static char msg[128];
    struct kith_err err = {{0}, {0}};
    memset(out, 'x', sizeof(out));
    enum kith_status st = kith_links_cookie(click, days, domain, secure, out, sizeof(out), &err);
    if (st == KITH_OK)
        return out;
    snprintf(msg, sizeof(msg), "(error %s %s%s)", kith_status_code(st), err.param,
             out[0] == '\0' ? "" : " out not empty");
    return msg;
}

static void test_cookie(void)
{
    CHECK_STR(cookie("clk_abc", 14, NULL, false),
              "kith_ref=clk_abc; Max-Age=1209600; Path=/; HttpOnly; SameSite=Lax");
    CHECK_STR(cookie("clk_abc", 30, NULL, true),
              "kith_ref=clk_abc; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax; Secure");
    CHECK_STR(cookie("clk_abc", 30, "example.com", false),
              "kith_ref=clk_abc; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax; "
              "Domain=example.com");
    CHECK_STR(cookie("clk_abc", 1, "refer.Example.com", true),
              "kith_ref=clk_abc; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax; "
              "Domain=refer.Example.com; Secure");
    CHECK_STR(cookie("clk_abc", 1, "", true),
              "kith_ref=clk_abc; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax; Secure");
    CHECK_STR(cookie("clk_abc", 3650, NULL, false),
              "kith_ref=clk_abc; Max-Age=315360000; Path=/; HttpOnly; SameSite=Lax");
}

static void test_cookie_invalid(void)
{
    CHECK_STR(cookie(NULL, 30, NULL, false), "(error invalid_param click_id)");
    CHECK_STR(cookie("", 30, NULL, false), "(error invalid_param click_id)");
    CHECK_STR(cookie("clk;Domain=evil", 30, NULL, false), "(error invalid_param click_id)");
    CHECK_STR(cookie("clk\r\n", 30, NULL, false), "(error invalid_param click_id)");
    CHECK_STR(cookie("clk_abc", 0, NULL, false), "(error invalid_param cookie_days)");
    CHECK_STR(cookie("clk_abc", -1, NULL, false), "(error invalid_param cookie_days)");
    CHECK_STR(cookie("clk_abc", 3651, NULL, false), "(error invalid_param cookie_days)");
    CHECK_STR(cookie("clk_abc", INT64_MAX, NULL, false), "(error invalid_param cookie_days)");
    CHECK_STR(cookie("clk_abc", 30, "evil.example; Secure", false), "(error invalid_param domain)");
    CHECK_STR(cookie("clk_abc", 30, "a_b.example", false), "(error invalid_param domain)");
    char dom[KITH_LINKS_DOMAIN_MAX + 2];
    memset(dom, 'd', sizeof(dom));
    dom[KITH_LINKS_DOMAIN_MAX] = '\0';
    CHECK(strstr(cookie("clk_abc", 30, dom, true), "; Domain=ddd") != NULL);
    dom[KITH_LINKS_DOMAIN_MAX] = 'd';
    dom[KITH_LINKS_DOMAIN_MAX + 1] = '\0';
    CHECK_STR(cookie("clk_abc", 30, dom, false), "(error invalid_param domain)");
}

static void test_cookie_bounds(void)
{
    const char *want = "kith_ref=clk_abc; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax; "
                       "Domain=example.com; Secure";
    size_t need = strlen(want) + 1;
    char out[160];
    struct kith_err err = {{0}, {0}};
    for (size_t size = 0; size < need; size++) {
        memset(out, '#', sizeof(out));
        CHECK_INT(kith_links_cookie("clk_abc", 1, "example.com", true, out, size, &err),
                  KITH_E_TOO_LARGE);
        if (size > 0)
            CHECK_INT(out[0], '\0');
        CHECK_INT(out[size < sizeof(out) ? size : 0], size < sizeof(out) ? '#' : '\0');
    }
    CHECK_INT(kith_links_cookie("clk_abc", 1, "example.com", true, out, need, &err), KITH_OK);
    CHECK_STR(out, want);
    CHECK_INT(kith_links_cookie("clk_abc", 1, NULL, false, out, 8, NULL), KITH_E_TOO_LARGE);

    /* the documented size holds the longest cookie the builder accepts */
    static char big[KITH_LINKS_COOKIE_MAX];
    char tok[KITH_LINKS_TOKEN_MAX + 1], dom[KITH_LINKS_DOMAIN_MAX + 1];
    memset(tok, 'T', KITH_LINKS_TOKEN_MAX);
    tok[KITH_LINKS_TOKEN_MAX] = '\0';
    memset(dom, 'd', KITH_LINKS_DOMAIN_MAX);
    dom[KITH_LINKS_DOMAIN_MAX] = '\0';
    CHECK_INT(kith_links_cookie(tok, KITH_LINKS_COOKIE_DAYS_MAX, dom, true, big, sizeof(big), &err),
              KITH_OK);
}

int main(void)
{
    RUN(test_host_plain);
    RUN(test_host_schemes);
    RUN(test_host_userinfo_port);
    RUN(test_host_case_and_paths);
    RUN(test_host_garbage);
    RUN(test_host_length);
    RUN(test_channel);
    RUN(test_bots);
    RUN(test_decide);
    RUN(test_reason_names);
    RUN(test_location_query);
    RUN(test_location_fragment);
    RUN(test_location_click_and_not_attributing);
    RUN(test_location_invalid);
    RUN(test_location_bounds);
    RUN(test_cookie);
    RUN(test_cookie_invalid);
    RUN(test_cookie_bounds);
    TEST_DONE();
}
