/*
 * net.c: canonical addresses, range lists, and the client behind trusted proxies (net.h).
 * inet_pton and inet_ntop do the parsing and formatting; what is ours is the folding of
 * IPv4-mapped addresses, the range arithmetic and the X-Forwarded-For walk. It is not for
 * deciding what a range means (webhook policy, proxies): callers do.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kith/net.h"

struct cidr {
    struct kith_net_addr net;
    unsigned prefix;
};

struct kith_net_cidrs {
    size_t n;
    struct cidr r[];
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

/* "address[/prefix]": the prefix is decimal without sign or leading zero; host bits past it
 * are cleared, as most tools do, so "10.1.2.3/8" means 10.0.0.0/8. */
static bool parse_cidr(const char *tok, size_t len, struct cidr *out)
{
    const char *slash = memchr(tok, '/', len);
    size_t addr_len = slash ? (size_t)(slash - tok) : len;
    if (!kith_net_addr_parse(tok, addr_len, &out->net))
        return false;
    unsigned max = out->net.family == 4 ? 32 : 128, prefix = 0;
    if (slash) {
        size_t digits = len - addr_len - 1;
        if (digits == 0 || digits > 3 || (digits > 1 && slash[1] == '0'))
            return false;
        for (size_t i = 1; i <= digits; i++) {
            if (slash[i] < '0' || slash[i] > '9')
                return false;
            prefix = prefix * 10 + (unsigned)(slash[i] - '0');
        }
        /* A mapped IPv6 range folds to IPv4: ::ffff:10.0.0.0/104 is 10.0.0.0/8. */
        if (out->net.family == 4 && memchr(tok, ':', addr_len)) {
            if (prefix < 96)
                return false;
            prefix -= 96;
        }
        if (prefix > max)
            return false;
    } else {
        prefix = max;
    }
    out->prefix = prefix;
    for (unsigned bit = prefix; bit < max; bit++)
        out->net.bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    return true;
}

static bool is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

enum kith_status kith_net_cidrs_parse(const char *list, const char *what,
                                      struct kith_net_cidrs **out, struct kith_err *err)
{
    const char *s = list ? list : "";
    size_t count = 0;
    *out = NULL;
    /* Count first, so that the allocation is bounded before it happens. */
    for (const char *c = s; *c;) {
        while (*c && is_sep(*c))
            c++;
        if (*c == '\0')
            break;
        count++;
        while (*c && !is_sep(*c))
            c++;
    }
    if (count > KITH_NET_CIDRS_MAX)
        return kith_err_set(err, KITH_E_INVALID_PARAM, what, "%s holds more than %d ranges", what,
                            KITH_NET_CIDRS_MAX);
    struct kith_net_cidrs *c = calloc(1, sizeof(*c) + count * sizeof(c->r[0]));
    if (c == NULL)
        abort();
    for (const char *p = s; *p;) {
        while (*p && is_sep(*p))
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        while (*p && !is_sep(*p))
            p++;
        if (!parse_cidr(start, (size_t)(p - start), &c->r[c->n])) {
            int shown = (int)(p - start) > 48 ? 48 : (int)(p - start);
            free(c);
            return kith_err_set(err, KITH_E_INVALID_PARAM, what,
                                "%s: \"%.*s\" is not an address or address/prefix range", what,
                                shown, start);
        }
        c->n++;
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

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

bool kith_net_cidrs_contain(const struct kith_net_cidrs *c, const struct kith_net_addr *a)
{
    for (size_t i = 0; c && i < c->n; i++) {
        if (c->r[i].net.family == a->family &&
            prefix_match(a->bytes, c->r[i].net.bytes, c->r[i].prefix))
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
