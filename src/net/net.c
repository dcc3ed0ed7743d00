/*
 * net.c: canonical addresses, range lists, and the client behind trusted proxies (net.h).
 * inet_pton and inet_ntop do the parsing and formatting, kith/cidr.h the ranges; what is ours
 * is the folding of IPv4-mapped addresses and the X-Forwarded-For walk. It is not for
 * deciding what a range means (webhook policy, proxies): callers do.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kith/cidr.h"
#include "kith/core.h"
#include "kith/net.h"

struct kith_net_cidrs {
    size_t n;
    struct kith_cidr r[];
};

static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool kith_net_addr_parse(const char *text, size_t len, struct kith_net_addr *out)
{
    char buf[KITH_NET_ADDR_MAX];
    if (text == NULL || len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->bytes) == 1) {
        out->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out->bytes) == 1) {
        out->family = 6;
        if (memcmp(out->bytes, mapped_prefix, sizeof(mapped_prefix)) == 0) {
            memmove(out->bytes, out->bytes + 12, 4);
            memset(out->bytes + 4, 0, 12);
            out->family = 4;
        }
        return true;
    }
    return false;
}

void kith_net_addr_format(const struct kith_net_addr *a, char out[KITH_NET_ADDR_MAX])
{
    if (a->family == 4) { /* dotted quad by hand: once per request behind a proxy */
        size_t n = 0;
        for (int i = 0; i < 4; i++) {
            if (i > 0)
                out[n++] = '.';
            n += kith_u64_text(a->bytes[i], out + n);
        }
        out[n] = '\0';
        return;
    }
    if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, out, KITH_NET_ADDR_MAX) == NULL)
        out[0] = '\0';
}

bool kith_net_addr_canonical(const char *text, char out[KITH_NET_ADDR_MAX])
{
    struct kith_net_addr a;
    out[0] = '\0';
    if (text == NULL || !kith_net_addr_parse(text, strlen(text), &a))
        return false;
    kith_net_addr_format(&a, out);
    return true;
}

enum kith_status kith_net_cidrs_parse(const char *list, const char *what,
                                      struct kith_net_cidrs **out, struct kith_err *err)
{
    size_t count = 0;
    *out = NULL;
    /* Count first (kith/cidr.h, the one parser of ranges), so the allocation is bounded. */
    enum kith_status st = kith_cidr_list_parse(list, NULL, KITH_NET_CIDRS_MAX, &count, err);
    if (st != KITH_OK) {
        if (err)
            kith_strlcpy(err->param, what, sizeof(err->param));
        return st;
    }
    struct kith_net_cidrs *c = calloc(1, sizeof(*c) + count * sizeof(c->r[0]));
    if (c == NULL)
        abort();
    if ((st = kith_cidr_list_parse(list, c->r, count, &c->n, err)) != KITH_OK) {
        free(c);
        return st;
    }
    *out = c;
    return KITH_OK;
}

void kith_net_cidrs_destroy(struct kith_net_cidrs *c)
{
    free(c);
}

size_t kith_net_cidrs_count(const struct kith_net_cidrs *c)
{
    return c ? c->n : 0;
}

bool kith_net_cidrs_contain(const struct kith_net_cidrs *c, const struct kith_net_addr *a)
{
    int family = a->family == 4 ? AF_INET : AF_INET6;
    for (size_t i = 0; c && i < c->n; i++) {
        if (kith_cidr_contains(&c->r[i], family, a->bytes))
            return true;
    }
    return false;
}

bool kith_net_client(const char *peer, const char *xff, const char *proto,
                     const struct kith_net_cidrs *trusted, char out[KITH_NET_ADDR_MAX],
                     bool *secure)
{
    struct kith_net_addr a;
    *secure = false;
    out[0] = '\0';
    if (peer == NULL || !kith_net_addr_parse(peer, strlen(peer), &a))
        return false;
    if (kith_net_cidrs_count(trusted) == 0 || !kith_net_cidrs_contain(trusted, &a)) {
        kith_net_addr_format(&a, out);
        return true;
    }
    *secure = proto != NULL && strcasecmp(proto, "https") == 0;
    /* Walk X-Forwarded-For from the right: each hop appended the address it saw. */
    size_t end = xff ? strlen(xff) : 0;
    for (int hops = 0; end > 0 && hops < KITH_NET_XFF_MAX; hops++) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t s = start, e = end;
        while (s < e && (xff[s] == ' ' || xff[s] == '\t'))
            s++;
        while (e > s && (xff[e - 1] == ' ' || xff[e - 1] == '\t'))
            e--;
        struct kith_net_addr hop;
        if (e == s || !kith_net_addr_parse(xff + s, e - s, &hop))
            break; /* garbage: trust nothing further left */
        a = hop;
        if (!kith_net_cidrs_contain(trusted, &hop))
            break;
        end = start > 0 ? start - 1 : 0;
    }
    kith_net_addr_format(&a, out);
    return true;
}
