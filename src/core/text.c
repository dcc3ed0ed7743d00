/*
 * text.c: the shared checks and decoders of include/kith/text.h. Each rule exists once here so
 * the places that apply it (engine input, codes, webhooks, the config table, the HTTP layer)
 * cannot drift apart; a query parameter name, for instance, decodes exactly like its value.
 */
#include <string.h>

#include "kith/text.h"

int kith_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool kith_valid_hex(const char *s, size_t len)
{
    if (s == NULL || len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (kith_hex_value((unsigned char)s[i]) < 0)
            return false;
    }
    return true;
}

bool kith_valid_word(const char *s, size_t max, const char *punct)
{
    size_t n = 0;
    if (s == NULL)
        return false;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        if (n >= max)
            return false;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            continue;
        if (punct == NULL || strchr(punct, c) == NULL)
            return false;
    }
    return n > 0;
}

bool kith_valid_slug(const char *s, size_t max)
{
    return kith_valid_word(s, max, "-");
}

bool kith_valid_currency(const char *s)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < 3; i++) {
        if (s[i] < 'A' || s[i] > 'Z')
            return false;
    }
    return s[3] == '\0';
}

size_t kith_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char b = s[0];
    /* The second byte's range carries the overlong, surrogate and U+10FFFF rules. */
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;
    uint32_t v;

    *cp = UINT32_MAX;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
        v = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        v = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (b == 0xED)
            hi = 0x9F; /* UTF-16 surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        v = b & 0x07;
        if (b == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (b == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 1;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 1;
    v = (v << 6) | (s[1] & 0x3F);
    for (size_t i = 2; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 1;
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

bool kith_valid_utf8(const void *buf, size_t len)
{
    const unsigned char *s = buf;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) { /* the common case, without the call */
            i++;
            continue;
        }
        uint32_t cp;
        i += kith_utf8_decode(s + i, len - i, &cp);
        if (cp == UINT32_MAX)
            return false;
    }
    return true;
}

bool kith_valid_url(const char *s, const char *const *schemes)
{
    const char *rest = NULL;
    if (s == NULL || schemes == NULL)
        return false;
    for (const char *const *sc = schemes; *sc && rest == NULL; sc++) {
        size_t n = strlen(*sc);
        if (strncmp(s, *sc, n) == 0 && strncmp(s + n, "://", 3) == 0)
            rest = s + n + 3;
    }
    if (rest == NULL || *rest == '\0' || *rest == '/' || *rest == '?' || *rest == '#')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return false;
    }
    return true;
}

enum kith_status kith_pct_decode(const char *in, size_t len, bool plus_is_space, char *out,
                                 size_t outsize, struct kith_err *err)
{
    size_t o = 0;
    if (out == NULL || outsize == 0)
        return kith_err_set(err, KITH_E_INVALID_PARAM, NULL, "no room to decode into");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            int hi = len - i >= 3 ? kith_hex_value((unsigned char)in[i + 1]) : -1;
            int lo = len - i >= 3 ? kith_hex_value((unsigned char)in[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return kith_err_set(err, KITH_E_INVALID_PARAM, NULL,
                                    "invalid percent-encoding (%% must be followed by two hex "
                                    "digits)");
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0')
            return kith_err_set(err, KITH_E_INVALID_PARAM, NULL, "NUL byte in the text");
        if (o + 1 >= outsize)
            return kith_err_set(err, KITH_E_INVALID_PARAM, NULL, "the text is too long");
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (!kith_valid_utf8(out, o))
        return kith_err_set(err, KITH_E_INVALID_PARAM, NULL, "the text is not valid UTF-8");
    return KITH_OK;
}
