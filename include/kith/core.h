/*
 * core.h: the status codes every fallible kith function returns, the error record that carries
 * a human message and the offending parameter, and small helpers shared by every module.
 * It is not for transport concerns: src/http maps a status to an HTTP code and JSON error.
 *
 * Ownership and threads: everything here is reentrant; struct kith_err is caller-owned.
 */
#ifndef KITH_CORE_H
#define KITH_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kith_status {
    KITH_OK = 0,
    KITH_CREATED,         /* success that made a new resource */
    KITH_E_INVALID_JSON,  /* body is not well-formed UTF-8 JSON */
    KITH_E_INVALID_PARAM, /* a field is missing, unknown, of the wrong type or out of range */
    KITH_E_IMMUTABLE,     /* a field that can never change */
    KITH_E_UNAUTHORIZED,  /* no key, or an unknown one */
    KITH_E_FORBIDDEN,     /* a publishable key on a secret route */
    KITH_E_NOT_FOUND,     /* no such resource or route */
    KITH_E_INVALID_STATE, /* the transition is not allowed from the current state */
    KITH_E_CODE_TAKEN,    /* a code collides with one that exists */
    KITH_E_IDEM_IN_USE,   /* the same Idempotency-Key is still running */
    KITH_E_IDEM_REUSED,   /* the same Idempotency-Key with another body */
    KITH_E_TOO_LARGE,     /* the body is over the limit */
    KITH_E_RATE_LIMITED,  /* too many requests */
    KITH_E_UNAVAILABLE,   /* the database is busy or away: retry later */
    KITH_E_CONSTRAINT,    /* a uniqueness constraint refused a write */
    KITH_E_INTERNAL,      /* a bug */
    /* Listed last so that the values above keep their numbers. */
    KITH_ACCEPTED, /* success whose effect follows later (an e-mail queued, or not) */
};

/* The message and parameter that explain a failing status. Both are always NUL-terminated. */
struct kith_err {
    char message[256];
    char param[64];
};

/* Fills err (when not NULL) and returns st, so callers can `return kith_err_set(...)`. */
enum kith_status kith_err_set(struct kith_err *err, enum kith_status st, const char *param,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Contract error code for a status ("invalid_param", ...). Never NULL. */
const char *kith_status_code(enum kith_status st);

/*
 * The contract's error body {"error": {"code", "message", "param"}} as a new string (free() it):
 * for st, or for a transport code that is no status ("bad_request"). An empty message becomes the
 * code; an empty or NULL param is null. Never NULL (out of memory aborts).
 */
char *kith_error_json(enum kith_status st, const char *message, const char *param);
char *kith_error_json_code(const char *code, const char *message, const char *param);

/* Bounded string copy that always terminates dst (dstsize > 0). Returns strlen(src). */
size_t kith_strlcpy(char *dst, const char *src, size_t dstsize);

/* v in decimal into out, terminated; returns the digits' count. Hot paths (the redirect's
 * answer, its access log line, metrics) use it instead of printf. */
#define KITH_U64_TEXT_MAX 21
size_t kith_u64_text(uint64_t v, char out[KITH_U64_TEXT_MAX]);

#define KITH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Time units, as int64_t so products with counts of days or hours cannot overflow an int. */
#define KITH_S_PER_HOUR INT64_C(3600)
#define KITH_S_PER_DAY INT64_C(86400)
#define KITH_MS_PER_HOUR INT64_C(3600000)
#define KITH_MS_PER_DAY INT64_C(86400000)

#endif
