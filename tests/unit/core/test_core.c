/*
 * test_core.c: the shared text checks and decoders (kith/text.h), the byte buffer (kith/buf.h)
 * and address ranges (kith/cidr.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "kith/buf.h"
#include "kith/cidr.h"
#include "kith/core.h"
#include "kith/text.h"
#include "test.h"

static void test_time_constants(void)
{
    CHECK_INT(KITH_MS_PER_HOUR, 3600 * 1000);
    CHECK_INT(KITH_MS_PER_DAY, 24 * KITH_MS_PER_HOUR);
    CHECK_INT(KITH_S_PER_DAY, 86400);
    CHECK_INT(KITH_S_PER_HOUR * 1000, KITH_MS_PER_HOUR);
    /* int64_t arithmetic: 10^6 days in ms does not overflow. */
    CHECK(1000000 * KITH_MS_PER_DAY > 0);
}

static void test_hex(void)
{
    CHECK_INT(kith_hex_value('0'), 0);
    CHECK_INT(kith_hex_value('9'), 9);
    CHECK_INT(kith_hex_value('a'), 10);
    CHECK_INT(kith_hex_value('F'), 15);
    CHECK_INT(kith_hex_value('g'), -1);
    CHECK_INT(kith_hex_value('\0'), -1);
    CHECK_INT(kith_hex_value(0xC3), -1);
    CHECK(kith_valid_hex("00ffAB", 6));
    CHECK(kith_valid_hex("00ffABzz", 6)); /* only len bytes are looked at */
    CHECK(!kith_valid_hex("00fg", 4));
    CHECK(!kith_valid_hex("", 0));
    CHECK(!kith_valid_hex(NULL, 2));
    CHECK(!kith_valid_hex("0 1", 3));
}

static void test_words_and_slugs(void)
{
    CHECK(kith_valid_slug("spring-2026", 40));
    CHECK(kith_valid_slug("a", 1));
    CHECK(!kith_valid_slug("ab", 1));
    CHECK(!kith_valid_slug("", 40));
    CHECK(!kith_valid_slug(NULL, 40));
    CHECK(!kith_valid_slug("Spring", 40));
    CHECK(!kith_valid_slug("spring_2026", 40));
    CHECK(!kith_valid_slug("spring 2026", 40));
    CHECK(!kith_valid_slug("caf\xc3\xa9", 40));
    char forty[41], forty_one[42];
    memset(forty, 'a', 40);
    forty[40] = '\0';
    memset(forty_one, 'a', 41);
    forty_one[41] = '\0';
    CHECK(kith_valid_slug(forty, 40));
    CHECK(!kith_valid_slug(forty_one, 40));
    CHECK(kith_valid_word("trial.started_2", 40, "_."));
    CHECK(!kith_valid_word("trial-started", 40, "_."));
    CHECK(kith_valid_word("abc123", 40, NULL));
    CHECK(!kith_valid_word("a-b", 40, ""));
    CHECK(kith_valid_currency("USD"));
    CHECK(!kith_valid_currency("usd"));
    CHECK(!kith_valid_currency("US"));
    CHECK(!kith_valid_currency("USDX"));
    CHECK(!kith_valid_currency(""));
    CHECK(!kith_valid_currency(NULL));
}

static void test_utf8(void)
{
    CHECK(kith_valid_utf8("", 0));
    CHECK(kith_valid_utf8("plain", 5));
    CHECK(kith_valid_utf8("a\0b", 3)); /* NUL is a valid code point; callers refuse it */
    CHECK(kith_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    CHECK(kith_valid_utf8("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
    CHECK(kith_valid_utf8("\xed\x9f\xbf", 3));      /* U+D7FF */
    CHECK(!kith_valid_utf8("\xc0\xaf", 2));         /* overlong '/' */
    CHECK(!kith_valid_utf8("\xc1\xbf", 2));         /* overlong */
    CHECK(!kith_valid_utf8("\xe0\x80\xaf", 3));     /* overlong */
    CHECK(!kith_valid_utf8("\xf0\x80\x80\xaf", 4)); /* overlong */
    CHECK(!kith_valid_utf8("\xed\xa0\x80", 3));     /* surrogate U+D800 */
    CHECK(!kith_valid_utf8("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    CHECK(!kith_valid_utf8("\xf5\x80\x80\x80", 4)); /* bad lead byte */
    CHECK(!kith_valid_utf8("\x80", 1));             /* lone continuation */
    CHECK(!kith_valid_utf8("\xc3", 1));             /* cut short */
    CHECK(!kith_valid_utf8("\xe2\x82", 2));         /* cut short */
    CHECK(!kith_valid_utf8("\xc3\xa9", 1));         /* cut by len, not by the bytes */
    CHECK(!kith_valid_utf8("\xe2\x82\x41", 3));     /* not a continuation */
    CHECK(!kith_valid_utf8("\xff", 1));

    uint32_t cp;
    CHECK_INT(kith_utf8_decode((const unsigned char *)"\xc3\xa9x", 3, &cp), 2);
    CHECK_INT(cp, 0xE9);
    CHECK_INT(kith_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
    CHECK_INT(cp, 0x1F600);
    CHECK_INT(kith_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
    CHECK_INT(cp, 'A');
    /* Errors consume one byte, and a NUL ends a sequence before anything past it is read. */
    CHECK_INT(kith_utf8_decode((const unsigned char *)"\xe2\0\x82", 3, &cp), 1);
    CHECK(cp == UINT32_MAX);
    CHECK_INT(kith_utf8_decode((const unsigned char *)"\xe2\x82\xac", 2, &cp), 1);
    CHECK(cp == UINT32_MAX);
}

static void test_url(void)
{
    static const char *const http[] = {"https", "http", NULL};
    static const char *const smtp[] = {"smtp", "smtps", NULL};
    CHECK(kith_valid_url("https://shop.example/welcome?x=1#y", http));
    CHECK(kith_valid_url("http://127.0.0.1:8080", http));
    CHECK(kith_valid_url("http://[::1]:8080/hook", http));
    CHECK(kith_valid_url("smtps://mail.example:465", smtp));
    CHECK(!kith_valid_url("smtps://mail.example:465", http));
    CHECK(!kith_valid_url("ftp://x", http));
    CHECK(!kith_valid_url("https:/x", http));
    CHECK(!kith_valid_url("https://", http));
    CHECK(!kith_valid_url("https:///path", http));
    CHECK(!kith_valid_url("https://?q", http));
    CHECK(!kith_valid_url("https://#f", http));
    CHECK(!kith_valid_url("https://a b", http));
    CHECK(!kith_valid_url("https://a\tb", http));
    CHECK(!kith_valid_url("https://a\"b", http));
    CHECK(!kith_valid_url("https://a<b>", http));
    CHECK(!kith_valid_url("https://a\\b", http));
    CHECK(!kith_valid_url("https://a\x7f", http));
    CHECK(!kith_valid_url("HTTPS://a", http));
    CHECK(!kith_valid_url("httpsx://a", http));
    CHECK(!kith_valid_url(NULL, http));
}

static void test_pct_decode(void)
{
    char out[16];
    struct kith_err err = {{0}, {0}};
    CHECK_INT(kith_pct_decode("li%6Dit", 7, true, out, sizeof(out), &err), KITH_OK);
    CHECK_STR(out, "limit");
    CHECK_INT(kith_pct_decode("a+b%20c", 7, true, out, sizeof(out), NULL), KITH_OK);
    CHECK_STR(out, "a b c");
    CHECK_INT(kith_pct_decode("a+b", 3, false, out, sizeof(out), NULL), KITH_OK);
    CHECK_STR(out, "a+b");
    CHECK_INT(kith_pct_decode("%2B%2b", 6, true, out, sizeof(out), NULL), KITH_OK);
    CHECK_STR(out, "++");
    CHECK_INT(kith_pct_decode("caf%C3%A9", 9, true, out, sizeof(out), NULL), KITH_OK);
    CHECK_STR(out, "caf\xc3\xa9");
    CHECK_INT(kith_pct_decode("", 0, true, out, sizeof(out), NULL), KITH_OK);
    CHECK_STR(out, "");
    /* Only len bytes are read: the rest of a query string is not this part. */
    CHECK_INT(kith_pct_decode("ab&cd", 2, true, out, sizeof(out), NULL), KITH_OK);
    CHECK_STR(out, "ab");

    static const char *const bad[] = {
        "%",     "%4",  "%4g",    "%g4",       "a%",     "%%41", "%00",
        "a%00b", "%C3", "%C3%28", "%ED%A0%80", "%C0%AF", "%FF",  "\xc3",
    };
    for (size_t i = 0; i < KITH_ARRAY_LEN(bad); i++) {
        err.message[0] = '\0';
        CHECK_INT(kith_pct_decode(bad[i], strlen(bad[i]), true, out, sizeof(out), &err),
                  KITH_E_INVALID_PARAM);
        CHECK(err.message[0] != '\0');
    }
    /* A raw NUL inside len is refused too. */
    CHECK_INT(kith_pct_decode("a\0b", 3, true, out, sizeof(out), NULL), KITH_E_INVALID_PARAM);
    /* "%4" at the end of the part must not read the byte after it. */
    CHECK_INT(kith_pct_decode("%41", 2, true, out, sizeof(out), NULL), KITH_E_INVALID_PARAM);
    /* Room: outsize - 1 decoded bytes fit, one more does not. */
    char four[4];
    CHECK_INT(kith_pct_decode("abc", 3, true, four, sizeof(four), NULL), KITH_OK);
    CHECK_STR(four, "abc");
    CHECK_INT(kith_pct_decode("abcd", 4, true, four, sizeof(four), NULL), KITH_E_INVALID_PARAM);
    CHECK_INT(kith_pct_decode("%61%62%63", 9, true, four, sizeof(four), NULL), KITH_OK);
    CHECK_STR(four, "abc");
    CHECK_INT(kith_pct_decode("a", 1, true, four, 0, NULL), KITH_E_INVALID_PARAM);
}

static void test_buf(void)
{
    struct kith_buf b = {0};
    CHECK_STR(kith_buf_cstr(&b), "");
    CHECK_INT(b.len, 0);
    kith_buf_str(&b, "abc");
    kith_buf_append(&b, "def", 2);
    kith_buf_append(&b, NULL, 0);
    CHECK_STR(kith_buf_cstr(&b), "abcde");
    CHECK_INT(b.len, 5);
    kith_buf_printf(&b, "-%d-%s", 42, "x");
    CHECK_STR(b.data, "abcde-42-x");
    /* Long formatted text takes the second vsnprintf path. */
    char big[1000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    kith_buf_printf(&b, "[%s]", big);
    CHECK_INT(b.len, 10 + 2 + 999);
    CHECK(b.data[b.len] == '\0');
    CHECK(b.data[b.len - 1] == ']');
    CHECK(b.cap > b.len);
    /* Bytes including NUL are kept; the terminator follows them. */
    struct kith_buf nul = {0};
    kith_buf_append(&nul, "a\0b", 3);
    CHECK_INT(nul.len, 3);
    CHECK(memcmp(nul.data, "a\0b\0", 4) == 0);
    kith_buf_dispose(&nul);
    CHECK(nul.data == NULL);
    CHECK_INT(nul.len, 0);
    char *taken = kith_buf_take(&b);
    CHECK_INT(strlen(taken), 1011);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    free(taken);
    /* An empty buffer hands out an allocated "". */
    taken = kith_buf_take(&b);
    CHECK_STR(taken, "");
    free(taken);
    kith_buf_reserve(&b, 1000);
    CHECK(b.cap >= 1001);
    CHECK_INT(b.len, 0);
    kith_buf_dispose(&b);
    kith_buf_dispose(NULL);
    kith_buf_init(&b);
    CHECK(b.data == NULL);
}

static void test_buf_html(void)
{
    struct kith_buf b = {0};
    kith_buf_html(&b, NULL);
    CHECK_INT(b.len, 0);
    kith_buf_html(&b, "Tom & \"Jerry\" <b>'s</b>");
    CHECK_STR(kith_buf_cstr(&b), "Tom &amp; &quot;Jerry&quot; &lt;b&gt;&#39;s&lt;/b&gt;");
    kith_buf_dispose(&b);
    /* UTF-8 passes through byte for byte. */
    kith_buf_html(&b, "Zo\xc3\xab");
    CHECK_STR(kith_buf_cstr(&b), "Zo\xc3\xab");
    kith_buf_dispose(&b);
}

static void test_u64_text(void)
{
    char d[KITH_U64_TEXT_MAX];
    CHECK_INT(kith_u64_text(0, d), 1);
    CHECK_STR(d, "0");
    CHECK_INT(kith_u64_text(7, d), 1);
    CHECK_STR(d, "7");
    CHECK_INT(kith_u64_text(10, d), 2);
    CHECK_STR(d, "10");
    CHECK_INT(kith_u64_text(315360000, d), 9); /* the cookie's Max-Age at 3650 days */
    CHECK_STR(d, "315360000");
    CHECK_INT(kith_u64_text(UINT64_MAX, d), 20);
    CHECK_STR(d, "18446744073709551615");
}

static void test_cidr(void)
{
    struct kith_cidr c;
    CHECK(kith_cidr_parse("10.1.2.3/8", 10, &c));
    CHECK_INT(c.family, AF_INET);
    CHECK_INT(c.prefix, 8);
    CHECK_INT(c.addr[0], 10);
    CHECK_INT(c.addr[1], 0); /* host bits cleared */
    uint8_t a4[4] = {10, 200, 0, 1}, b4[4] = {11, 0, 0, 1};
    CHECK(kith_cidr_contains(&c, AF_INET, a4));
    CHECK(!kith_cidr_contains(&c, AF_INET, b4));
    CHECK(kith_cidr_parse("fd00::/8", 8, &c));
    CHECK_INT(c.family, AF_INET6);
    uint8_t a6[16] = {0xfd, 0x12}, b6[16] = {0xfe, 0x80};
    CHECK(kith_cidr_contains(&c, AF_INET6, a6));
    CHECK(!kith_cidr_contains(&c, AF_INET6, b6));
    CHECK(!kith_cidr_contains(&c, AF_INET, a4));
    CHECK(kith_cidr_parse("192.168.1.0/23", 14, &c));
    uint8_t in23[4] = {192, 168, 0, 255}, out23[4] = {192, 168, 2, 0};
    CHECK(kith_cidr_contains(&c, AF_INET, in23));
    CHECK(!kith_cidr_contains(&c, AF_INET, out23));
    CHECK(kith_cidr_parse("0.0.0.0/0", 9, &c));
    CHECK(kith_cidr_contains(&c, AF_INET, b4));
    static const char *const bad[] = {"10.0.0.0",    "10.0.0.0/", "/8",
                                      "10.0.0.0/33", "::/129",    "10.0.0.0/08",
                                      "10.0.0.0/+8", "host/8",    "fe80::1%eth0/64"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(bad); i++)
        CHECK(!kith_cidr_parse(bad[i], strlen(bad[i]), &c));

    struct kith_cidr list[4];
    size_t n = 99;
    CHECK_INT(kith_cidr_list_parse("127.0.0.0/8, ::1/128\t10.0.0.0/8,,", list, 4, &n, NULL),
              KITH_OK);
    CHECK_INT(n, 3);
    CHECK_INT(list[1].family, AF_INET6);
    CHECK_INT(kith_cidr_list_parse(NULL, NULL, 4, &n, NULL), KITH_OK);
    CHECK_INT(n, 0);
    CHECK_INT(kith_cidr_list_parse(" , ", NULL, 4, &n, NULL), KITH_OK);
    CHECK_INT(n, 0);
    struct kith_err err = {{0}, {0}};
    CHECK_INT(kith_cidr_list_parse("127.0.0.0/8,bogus", NULL, 4, &n, &err), KITH_E_INVALID_PARAM);
    CHECK(strstr(err.message, "\"bogus\"") != NULL);
    CHECK_INT(kith_cidr_list_parse("1.0.0.0/8 2.0.0.0/8 3.0.0.0/8", list, 2, &n, &err),
              KITH_E_INVALID_PARAM);
    CHECK(strstr(err.message, "more than 2") != NULL);
}

int main(void)
{
    RUN(test_time_constants);
    RUN(test_hex);
    RUN(test_words_and_slugs);
    RUN(test_utf8);
    RUN(test_url);
    RUN(test_pct_decode);
    RUN(test_buf);
    RUN(test_buf_html);
    RUN(test_u64_text);
    RUN(test_cidr);
    TEST_DONE();
}
