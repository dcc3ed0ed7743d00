/*
 * test_net.c: canonical addresses, range lists and the client behind trusted proxies.
 */
#include <string.h>

#include "kith/net.h"
#include "test.h"

static void canon(const char *in, const char *want)
{
    char out[KITH_NET_ADDR_MAX];
    bool ok = kith_net_addr_canonical(in, out);
    if (want == NULL) {
        CHECK(!ok);
        CHECK_STR(out, "");
    } else {
        CHECK(ok);
        CHECK_STR(out, want);
    }
}

static void test_canonical(void)
{
    canon("198.51.100.4", "198.51.100.4");
    canon("::ffff:198.51.100.4", "198.51.100.4");
    canon("::FFFF:c633:6404", "198.51.100.4");
    canon("2001:DB8:0:0:0:0:0:1", "2001:db8::1");
    canon("2001:db8::1", "2001:db8::1");
    canon("::1", "::1");
    canon("0.0.0.0", "0.0.0.0");
    canon("198.51.100.4 ", NULL);
    canon("198.51.100", NULL);
    canon("198.051.100.4", NULL); /* inet_pton refuses leading zeros */
    canon("[::1]", NULL);
    canon("fe80::1%eth0", NULL);
    canon("1.2.3.4:80", NULL);
    canon("localhost", NULL);
    canon("", NULL);
    canon(NULL, NULL);
    canon("1111:2222:3333:4444:5555:6666:7777:8888:9999", NULL);
}

static void test_cidrs(void)
{
    struct kith_net_cidrs *c = NULL;
    struct kith_err err;
    struct kith_net_addr a;
    CHECK_INT(
        kith_net_cidrs_parse("10.0.0.0/8, 192.0.2.7/32 ::1/128\t2001:db8::/32", "T", &c, &err),
        KITH_OK);
    CHECK_INT((long)kith_net_cidrs_count(c), 4);
    CHECK(kith_net_addr_parse("10.200.1.1", 10, &a) && kith_net_cidrs_contain(c, &a));
    CHECK(kith_net_addr_parse("11.0.0.1", 8, &a) && !kith_net_cidrs_contain(c, &a));
    CHECK(kith_net_addr_parse("192.0.2.7", 9, &a) && kith_net_cidrs_contain(c, &a));
    CHECK(kith_net_addr_parse("192.0.2.8", 9, &a) && !kith_net_cidrs_contain(c, &a));
    CHECK(kith_net_addr_parse("::ffff:10.1.1.1", 15, &a) && kith_net_cidrs_contain(c, &a));
    CHECK(kith_net_addr_parse("2001:db8:ffff::1", 16, &a) && kith_net_cidrs_contain(c, &a));
    CHECK(kith_net_addr_parse("2001:db9::1", 11, &a) && !kith_net_cidrs_contain(c, &a));
    kith_net_cidrs_destroy(c);
    CHECK_INT(kith_net_cidrs_parse("", "T", &c, &err), KITH_OK);
    CHECK_INT((long)kith_net_cidrs_count(c), 0);
    kith_net_cidrs_destroy(c);
    const char *bad[] = {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "nope",
                         "10.0.0.0/8x", "::/129",    "10.0.0.1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(kith_net_cidrs_parse(bad[i], "KITH_TRUSTED_PROXIES", &c, &err),
                  KITH_E_INVALID_PARAM);
        CHECK_STR(err.param, "KITH_TRUSTED_PROXIES");
        CHECK(c == NULL);
    }
}

static void client(const char *peer, const char *xff, const char *proto, const char *trusted,
                   const char *want, bool want_secure)
{
    struct kith_net_cidrs *c = NULL;
    struct kith_err err;
    char out[KITH_NET_ADDR_MAX];
    bool secure = true;
    CHECK_INT(kith_net_cidrs_parse(trusted, "T", &c, &err), KITH_OK);
    CHECK(kith_net_client(peer, xff, proto, c, out, &secure));
    CHECK_STR(out, want);
    CHECK_INT(secure, want_secure);
    kith_net_cidrs_destroy(c);
}

static void test_client(void)
{
    /* no trusted proxies: the headers mean nothing */
    client("203.0.113.9", "198.51.100.4", "https", "", "203.0.113.9", false);
    /* a trusted peer: the right-most untrusted entry */
    client("10.0.0.2", "198.51.100.4", "https", "10.0.0.0/8", "198.51.100.4", true);
    client("10.0.0.2", "6.6.6.6, 198.51.100.4, 10.0.0.3", "http", "10.0.0.0/8", "198.51.100.4",
           false);
    /* a client cannot skip the proxy by sending its own header: the left part is not trusted */
    client("10.0.0.2", "1.1.1.1,198.51.100.4", NULL, "10.0.0.0/8", "198.51.100.4", false);
    /* an untrusted peer sending headers: ignored */
    client("198.51.100.77", "1.1.1.1", "https", "10.0.0.0/8", "198.51.100.77", false);
    /* mapped forms fold */
    client("::ffff:10.0.0.2", "::ffff:198.51.100.4", "HTTPS", "10.0.0.0/8", "198.51.100.4", true);
    /* garbage stops the walk at the last trusted hop */
    client("10.0.0.2", "198.51.100.4, not-an-ip", NULL, "10.0.0.0/8", "10.0.0.2", false);
    client("10.0.0.2", "", NULL, "10.0.0.0/8", "10.0.0.2", false);
    client("10.0.0.2", NULL, NULL, "10.0.0.0/8", "10.0.0.2", false);
    /* every hop trusted: the left-most */
    client("10.0.0.2", "10.0.0.9, 10.0.0.8", NULL, "10.0.0.0/8", "10.0.0.9", false);
    char out[KITH_NET_ADDR_MAX];
    bool secure;
    CHECK(!kith_net_client("nope", NULL, NULL, NULL, out, &secure));
}

int main(void)
{
    RUN(test_canonical);
    RUN(test_cidrs);
    RUN(test_client);
    TEST_DONE();
}
