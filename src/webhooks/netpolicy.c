/*
 * netpolicy.c: which addresses an outgoing webhook may connect to. The sender asks at connect
 * time, with the address the resolver returned, so a name that resolves (or re-resolves) to a
 * private address is caught where it matters. Everything not public is refused unless an
 * operator opened it with KITH_WEBHOOK_ALLOW_CIDRS. It is not for host names, URLs or ports:
 * only the address is judged. Pure and read-only after create, hence thread-safe.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "kith/cidr.h"
#include "kith/webhooks.h"

struct kith_netpolicy {
    size_t n;
    struct kith_cidr allow[];
};

/* Refused IPv4 ranges. 192.0.0.0/24 (IETF protocol assignments) is refused beyond the list in
 * webhooks.h because nothing public lives there either. */
static const struct {
    uint8_t a, b, c, d;
    unsigned prefix;
} deny_v4[] = {
    {0, 0, 0, 0, 8},       /* "this network" */
    {10, 0, 0, 0, 8},      /* private */
    {100, 64, 0, 0, 10},   /* CGNAT */
    {127, 0, 0, 0, 8},     /* loopback */
    {169, 254, 0, 0, 16},  /* link-local, cloud metadata */
    {172, 16, 0, 0, 12},   /* private */
    {192, 0, 0, 0, 24},    /* IETF protocol assignments */
    {192, 0, 2, 0, 24},    /* TEST-NET-1 */
    {192, 168, 0, 0, 16},  /* private */
    {198, 18, 0, 0, 15},   /* benchmarking */
    {198, 51, 100, 0, 24}, /* TEST-NET-2 */
    {203, 0, 113, 0, 24},  /* TEST-NET-3 */
    {224, 0, 0, 0, 4},     /* multicast */
    {240, 0, 0, 0, 4},     /* reserved and broadcast */
};

/* Refused IPv6 ranges, as text parsed once per check (cheap next to a connect). Beyond the
 * header's list: site-local fec0::/10 (deprecated, still routed internally by some), discard
 * 100::/64, Teredo 2001::/32 (tunnels to an obfuscated IPv4 we cannot judge simply), the
 * local-use NAT64 prefix 64:ff9b:1::/48 and the newer documentation range 3fff::/20. */
static const struct {
    const char *text;
    unsigned prefix;
} deny_v6[] = {
    {"::", 128},         /* unspecified */
    {"::1", 128},        /* loopback */
    {"fc00::", 7},       /* unique local */
    {"fe80::", 10},      /* link-local */
    {"fec0::", 10},      /* site-local */
    {"ff00::", 8},       /* multicast */
    {"2001:db8::", 32},  /* documentation */
    {"3fff::", 20},      /* documentation (RFC 9637) */
    {"100::", 64},       /* discard-only */
    {"2001::", 32},      /* Teredo */
    {"64:ff9b:1::", 48}, /* local-use NAT64 */
};

static bool allowed_by_list(const struct kith_netpolicy *p, int family, const uint8_t *addr)
{
    for (size_t i = 0; i < p->n; i++)
        if (kith_cidr_contains(&p->allow[i], family, addr))
            return true;
    return false;
}

static bool judge_v4(const struct kith_netpolicy *p, const uint8_t a[4])
{
    if (allowed_by_list(p, AF_INET, a))
        return true;
    for (size_t i = 0; i < KITH_ARRAY_LEN(deny_v4); i++) {
        const struct kith_cidr net = {
            AF_INET, {deny_v4[i].a, deny_v4[i].b, deny_v4[i].c, deny_v4[i].d}, deny_v4[i].prefix};
        if (kith_cidr_contains(&net, AF_INET, a))
            return false;
    }
    return true;
}

/* The IPv4 address an IPv6 address carries, when it is one of the forms that reach (or are
 * translated to) that IPv4 host: mapped ::ffff:0:0/96, SIIT ::ffff:0:0:0/96, compatible
 * ::/96, NAT64 64:ff9b::/96 (last 32 bits) and 6to4 2002::/16 (bits 16..47). */
static bool embedded_v4(const uint8_t a[16], uint8_t out[4])
{
    static const uint8_t zero[12] = {0};
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t siit[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, siit, 12) == 0 || memcmp(a, zero, 12) == 0 ||
        memcmp(a, nat64, 12) == 0) {
        memcpy(out, a + 12, 4);
        return true;
    }
    if (a[0] == 0x20 && a[1] == 0x02) {
        memcpy(out, a + 2, 4);
        return true;
    }
    return false;
}

static bool judge_v6(const struct kith_netpolicy *p, const uint8_t a[16])
{
    uint8_t v4[4];
    if (allowed_by_list(p, AF_INET6, a))
        return true;
    for (size_t i = 0; i < KITH_ARRAY_LEN(deny_v6); i++) {
        struct kith_cidr net = {AF_INET6, {0}, deny_v6[i].prefix};
        if (inet_pton(AF_INET6, deny_v6[i].text, net.addr) == 1 &&
            kith_cidr_contains(&net, AF_INET6, a))
            return false;
    }
    if (embedded_v4(a, v4))
        return judge_v4(p, v4);
    return true;
}

bool kith_netpolicy_allows(const struct kith_netpolicy *p, const struct sockaddr *sa)
{
    if (p == NULL || sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        uint8_t a[4];
        memcpy(a, &in->sin_addr, 4);
        return judge_v4(p, a);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        uint8_t a[16];
        memcpy(a, &in6->sin6_addr, 16);
        return judge_v6(p, a);
    }
    return false;
}

enum kith_status kith_netpolicy_create(const char *allow_cidrs, struct kith_netpolicy **out,
                                       struct kith_err *err)
{
    struct kith_netpolicy *p = NULL;
    struct kith_err e = {{0}, {0}};
    size_t count = 0;

    *out = NULL;
    /* Validate and count first so the allocation is bounded before it happens. */
    if (kith_cidr_list_parse(allow_cidrs, NULL, KITH_CIDR_LIST_MAX, &count, &e) != KITH_OK)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "KITH_WEBHOOK_ALLOW_CIDRS",
                            "KITH_WEBHOOK_ALLOW_CIDRS: %s", e.message);
    p = calloc(1, sizeof(*p) + count * sizeof(p->allow[0]));
    if (p == NULL)
        abort();
    if (kith_cidr_list_parse(allow_cidrs, p->allow, count, &p->n, err) != KITH_OK) {
        free(p); /* cannot happen: the same text parsed a moment ago */
        return KITH_E_INTERNAL;
    }
    *out = p;
    return KITH_OK;
}

void kith_netpolicy_destroy(struct kith_netpolicy *p)
{
    free(p);
}
