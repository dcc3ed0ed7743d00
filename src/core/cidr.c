/*
 * cidr.c: the address-range parser of include/kith/cidr.h, over inet_pton so that exactly the
 * address forms the C library accepts are accepted.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "kith/cidr.h"

#define CIDR_TEXT_MAX 64 /* longest IPv6 text (45) + "/128" and then some */

bool kith_cidr_parse(const char *tok, size_t len, struct kith_cidr *out)
{
    char text[CIDR_TEXT_MAX];
    const char *slash;
    unsigned prefix = 0, max;
    size_t addr_len, digits;

    if (len == 0 || len >= sizeof(text))
        return false;
    slash = memchr(tok, '/', len);
    if (slash == NULL)
        return false;
    addr_len = (size_t)(slash - tok);
    digits = len - addr_len - 1;
    if (addr_len == 0 || digits == 0 || digits > 3 || (digits > 1 && slash[1] == '0'))
        return false;
    for (size_t i = 1; i <= digits; i++) {
        if (slash[i] < '0' || slash[i] > '9')
            return false;
        prefix = prefix * 10 + (unsigned)(slash[i] - '0');
    }
    memcpy(text, tok, addr_len);
    text[addr_len] = '\0';
    memset(out->addr, 0, sizeof(out->addr));
    if (inet_pton(AF_INET, text, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, text, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else {
        return false;
    }
    if (prefix > max)
        return false;
    out->prefix = prefix;
    for (unsigned bit = prefix; bit < max; bit++)
        out->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    return true;
}

bool kith_cidr_contains(const struct kith_cidr *c, int family, const uint8_t *addr)
{
    if (c->family != family)
        return false;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(addr, c->addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (addr[full] & mask) == (c->addr[full] & mask);
}

static bool is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

enum kith_status kith_cidr_list_parse(const char *text, struct kith_cidr *out, size_t max,
                                      size_t *count, struct kith_err *err)
{
    struct kith_cidr scratch;
    size_t n = 0;
    *count = 0;
    for (const char *c = text ? text : ""; *c;) {
        while (*c && is_sep(*c))
            c++;
        if (*c == '\0')
            break;
        const char *start = c;
        while (*c && !is_sep(*c))
            c++;
        if (n == max)
            return kith_err_set(err, KITH_E_INVALID_PARAM, NULL, "more than %zu ranges", max);
        if (!kith_cidr_parse(start, (size_t)(c - start), out ? &out[n] : &scratch)) {
            int shown = (int)(c - start) > 48 ? 48 : (int)(c - start);
            return kith_err_set(err, KITH_E_INVALID_PARAM, NULL,
                                "\"%.*s\" is not an address/prefix range such as 10.0.0.0/8", shown,
                                start);
        }
        n++;
    }
    *count = n;
    return KITH_OK;
}
