/*
 * test_netpolicy.c: unit tests for src/webhooks/netpolicy.c: every refused range in its IPv4 and
 * IPv6 forms (including IPv4-mapped, -compatible, SIIT, NAT64 and 6to4 addresses that embed a
 * private IPv4 address), public addresses, allow lists that open loopback, and the refusal of
 * malformed CIDR lists. Not for the sender, which calls this at connect time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "kith/webhooks.h"
#include "test.h"

/* Parses text as an IPv4 or IPv6 address and asks p. Aborts the check on unparsable input. */
static int allows(const struct kith_netpolicy *p, const char *text)
{
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    memset(&in4, 0, sizeof(in4));
    memset(&in6, 0, sizeof(in6));
    if (inet_pton(AF_INET, text, &in4.sin_addr) == 1) {
        in4.sin_family = AF_INET;
        return kith_netpolicy_allows(p, (const struct sockaddr *)&in4);
    }
    if (inet_pton(AF_INET6, text, &in6.sin6_addr) == 1) {
        in6.sin6_family = AF_INET6;
        return kith_netpolicy_allows(p, (const struct sockaddr *)&in6);
    }
    fprintf(stderr, "test bug: cannot parse %s\n", text);
    return -1;
}

#define CHECK_DENIED(p, a)                                                                         \
    do {                                                                                           \
        if (allows((p), (a)) != 0)                                                                 \
            fprintf(stderr, "  address %s should be denied\n", (a));                               \
        CHECK_INT(allows((p), (a)), 0);                                                            \
    } while (0)
#define CHECK_ALLOWED(p, a)                                                                        \
    do {                                                                                           \
        if (allows((p), (a)) != 1)                                                                 \
            fprintf(stderr, "  address %s should be allowed\n", (a));                              \
        CHECK_INT(allows((p), (a)), 1);                                                            \
    } while (0)

static const char *denied_v4[] = {
    "0.0.0.0",         "0.255.255.255",   "10.0.0.1",        "10.255.255.255",  "100.64.0.1",
    "100.127.255.254", "127.0.0.1",       "127.255.255.255", "169.254.169.254", "172.16.0.1",
    "172.31.255.255",  "192.0.0.8",       "192.0.2.1",       "192.168.1.1",     "198.18.0.1",
    "198.19.255.255",  "198.51.100.7",    "203.0.113.9",     "224.0.0.1",       "239.255.255.250",
    "240.0.0.1",       "255.255.255.255",
};

static const char *public_v4[] = {
    "93.184.216.34",  "1.1.1.1",     "8.8.8.8",         "9.255.255.255",   "11.0.0.0",
    "100.63.255.255", "100.128.0.0", "126.255.255.255", "128.0.0.0",       "169.253.255.255",
    "172.15.255.255", "172.32.0.0",  "192.0.1.0",       "192.167.255.255", "192.169.0.0",
    "198.17.255.255", "198.20.0.0",  "198.51.99.255",   "203.0.112.255",   "223.255.255.255",
};

static const char *denied_v6[] = {
    "::",      "::1",     "fc00::1",          "fd12:3456::1", "fe80::1",          "febf:ffff::1",
    "fec0::1", "ff02::1", "ff0e::101",        "2001:db8::1",  "2001:db8:ffff::1", "3fff::1",
    "100::1",  "2001::1", "64:ff9b:1::a00:1",
};

static const char *public_v6[] = {
    "2606:4700::1111",
    "2001:4860:4860::8888",
    "2a00:1450:4001:80b::200e",
    "fe00::1",
    "fbff::1",
    "2001:db9::1",
    "64:ff9b::5db8:d822", /* NAT64 of public */
    "2002:5db8:d822::1",  /* 6to4 of 93.184.216.34 */
    "::ffff:93.184.216.34",
    "::ffff:0:8.8.8.8",
    "::8.8.8.8",
};

static void test_denied_v4(void)
{
    struct kith_netpolicy *p = NULL;
    CHECK_INT(kith_netpolicy_create(NULL, &p, NULL), KITH_OK);
    for (size_t i = 0; i < KITH_ARRAY_LEN(denied_v4); i++)
        CHECK_DENIED(p, denied_v4[i]);
    for (size_t i = 0; i < KITH_ARRAY_LEN(public_v4); i++)
        CHECK_ALLOWED(p, public_v4[i]);
    kith_netpolicy_destroy(p);
}

static void test_denied_v6(void)
{
    struct kith_netpolicy *p = NULL;
    CHECK_INT(kith_netpolicy_create("", &p, NULL), KITH_OK);
    for (size_t i = 0; i < KITH_ARRAY_LEN(denied_v6); i++)
        CHECK_DENIED(p, denied_v6[i]);
    for (size_t i = 0; i < KITH_ARRAY_LEN(public_v6); i++)
        CHECK_ALLOWED(p, public_v6[i]);
    kith_netpolicy_destroy(p);
}

/* Every denied IPv4 address, written in each IPv6 form that carries an IPv4 address. */
static void test_embedded_forms(void)
{
    struct kith_netpolicy *p = NULL;
    char text[96];
    CHECK_INT(kith_netpolicy_create("", &p, NULL), KITH_OK);
    for (size_t i = 0; i < KITH_ARRAY_LEN(denied_v4); i++) {
        struct in_addr a;
        CHECK(inet_pton(AF_INET, denied_v4[i], &a) == 1);
        const uint8_t *b = (const uint8_t *)&a;
        snprintf(text, sizeof(text), "::ffff:%s", denied_v4[i]); /* mapped */
        CHECK_DENIED(p, text);
        snprintf(text, sizeof(text), "::%s", denied_v4[i]); /* compatible */
        CHECK_DENIED(p, text);
        snprintf(text, sizeof(text), "::ffff:0:%s", denied_v4[i]); /* SIIT */
        CHECK_DENIED(p, text);
        snprintf(text, sizeof(text), "64:ff9b::%s", denied_v4[i]); /* NAT64 */
        CHECK_DENIED(p, text);
        snprintf(text, sizeof(text), "2002:%02x%02x:%02x%02x::1", b[0], b[1], b[2], b[3]);
        CHECK_DENIED(p, text); /* 6to4 */
    }
    /* The hex spelling of the mapped loopback is the same address. */
    CHECK_DENIED(p, "::ffff:7f00:1");
    CHECK_DENIED(p, "64:ff9b::a9fe:a9fe");
    kith_netpolicy_destroy(p);
}

static void test_allow_list(void)
{
    struct kith_netpolicy *p = NULL;
    CHECK_INT(kith_netpolicy_create("127.0.0.0/8, ::1/128", &p, NULL), KITH_OK);
    CHECK_ALLOWED(p, "127.0.0.1");
    CHECK_ALLOWED(p, "127.255.0.9");
    CHECK_ALLOWED(p, "::1");
    CHECK_ALLOWED(p, "::ffff:127.0.0.1"); /* judged by its embedded address */
    CHECK_DENIED(p, "10.0.0.1");
    CHECK_DENIED(p, "::2");
    CHECK_DENIED(p, "fe80::1");
    CHECK_ALLOWED(p, "93.184.216.34");
    kith_netpolicy_destroy(p);

    /* Separators: commas, spaces, tabs, newlines, several in a row; host bits are cleared. */
    CHECK_INT(kith_netpolicy_create(" 10.1.2.3/8,,\tfd00::/16\n192.168.5.5/32 ", &p, NULL),
              KITH_OK);
    CHECK_ALLOWED(p, "10.200.0.1");
    CHECK_ALLOWED(p, "fd00::42");
    CHECK_DENIED(p, "fd01::42");
    CHECK_ALLOWED(p, "192.168.5.5");
    CHECK_DENIED(p, "192.168.5.6");
    kith_netpolicy_destroy(p);

    /* /0 opens everything of its family; odd prefixes cut inside a byte. */
    CHECK_INT(kith_netpolicy_create("0.0.0.0/0 fe80::/9", &p, NULL), KITH_OK);
    CHECK_ALLOWED(p, "127.0.0.1");
    CHECK_ALLOWED(p, "169.254.169.254");
    CHECK_DENIED(p, "::1");
    CHECK_ALLOWED(p, "fe80::1");
    kith_netpolicy_destroy(p);

    /* Other families are never allowed. */
    CHECK_INT(kith_netpolicy_create("0.0.0.0/0", &p, NULL), KITH_OK);
    struct sockaddr sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_family = AF_UNIX;
    CHECK(!kith_netpolicy_allows(p, &sa));
    CHECK(!kith_netpolicy_allows(p, NULL));
    kith_netpolicy_destroy(p);
    kith_netpolicy_destroy(NULL);
}

static void test_malformed_lists(void)
{
    const char *bad[] = {
        "127.0.0.1",
        "127.0.0.0/",
        "127.0.0.0/33",
        "::1/129",
        "/8",
        "127.0.0.0/8x",
        "127.0.0/8",
        "127.0.0.0/-1",
        "127.0.0.0/+8",
        "127.0.0.0/08",
        "localhost/8",
        "127.0.0.0/8;10.0.0.0/8",
        "127.0.0.0/8,bogus",
        "256.0.0.0/8",
        "1.2.3.4.5/32",
        "::1/1000",
        "127.0.0.0/8/8",
        "fe80::1%eth0/64",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/8",
    };
    for (size_t i = 0; i < KITH_ARRAY_LEN(bad); i++) {
        struct kith_netpolicy *p = (struct kith_netpolicy *)1;
        struct kith_err err = {0};
        CHECK_INT(kith_netpolicy_create(bad[i], &p, &err), KITH_E_INVALID_PARAM);
        CHECK(p == NULL);
        CHECK_STR(err.param, "KITH_WEBHOOK_ALLOW_CIDRS");
        CHECK(strstr(err.message, "KITH_WEBHOOK_ALLOW_CIDRS") != NULL);
    }
    /* More ranges than the bound. */
    char many[257 * 12 + 1];
    size_t off = 0;
    for (int i = 0; i < 257; i++)
        off += (size_t)snprintf(many + off, sizeof(many) - off, "10.0.0.0/8,");
    struct kith_netpolicy *p = NULL;
    CHECK_INT(kith_netpolicy_create(many, &p, NULL), KITH_E_INVALID_PARAM);
    CHECK(p == NULL);
}

int main(void)
{
    RUN(test_denied_v4);
    RUN(test_denied_v6);
    RUN(test_embedded_forms);
    RUN(test_allow_list);
    RUN(test_malformed_lists);
    TEST_DONE();
}
