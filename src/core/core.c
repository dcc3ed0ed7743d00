/*
 * core.c: error records, the contract's error code names, bounded string copies. Nothing here
 * knows about HTTP; src/http maps statuses to status lines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kith/core.h"

enum kith_status kith_err_set(struct kith_err *err, enum kith_status st, const char *param,
                              const char *fmt, ...)
{
    if (err == NULL)
        return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    kith_strlcpy(err->param, param ? param : "", sizeof(err->param));
    return st;
}

const char *kith_status_code(enum kith_status st)
{
    switch (st) {
    case KITH_OK:
    case KITH_CREATED:
    case KITH_ACCEPTED:
        return "ok";
    case KITH_E_INVALID_JSON:
        return "invalid_json";
    case KITH_E_INVALID_PARAM:
        return "invalid_param";
    case KITH_E_IMMUTABLE:
        return "immutable_field";
    case KITH_E_UNAUTHORIZED:
        return "unauthorized";
    case KITH_E_FORBIDDEN:
        return "forbidden";
    case KITH_E_NOT_FOUND:
        return "not_found";
    case KITH_E_INVALID_STATE:
        return "invalid_state";
    case KITH_E_CODE_TAKEN:
        return "code_taken";
    case KITH_E_IDEM_IN_USE:
        return "idempotency_key_in_use";
    case KITH_E_IDEM_REUSED:
        return "idempotency_key_reused";
    case KITH_E_TOO_LARGE:
        return "payload_too_large";
    case KITH_E_RATE_LIMITED:
        return "rate_limited";
    case KITH_E_UNAVAILABLE:
    case KITH_E_CONSTRAINT:
        return "unavailable";
    case KITH_E_INTERNAL:
        return "internal_error";
    }
    return "internal_error";
}

size_t kith_u64_text(uint64_t v, char out[KITH_U64_TEXT_MAX])
{
    char d[KITH_U64_TEXT_MAX];
    size_t n = 0;
    do {
        d[sizeof(d) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, d + sizeof(d) - n, n);
    out[n] = '\0';
    return n;
}

size_t kith_strlcpy(char *dst, const char *src, size_t dstsize)
{
    size_t len = strlen(src);
    if (dstsize > 0) {
        size_t n = len < dstsize - 1 ? len : dstsize - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}
