/*
 * errors.c: the one table that turns a kith status into an HTTP status, and the contract's JSON
 * error body `{"error": {"code", "message", "param"}}` that goes with it. Domain code returns
 * statuses and never names an HTTP code; this file is where that translation lives. It is not
 * for the errors the transport itself refuses requests with (bad framing, limits, timeouts):
 * server.c answers those before any handler runs.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kith/http.h"

int kith_http_status_for(enum kith_status st)
{
    switch (st) {
    case KITH_OK:
        return 200;
    case KITH_CREATED:
        return 201;
    case KITH_ACCEPTED:
        return 202;
    case KITH_E_INVALID_JSON:
        return 400;
    case KITH_E_INVALID_PARAM:
        return 400;
    case KITH_E_IMMUTABLE:
        return 400;
    case KITH_E_UNAUTHORIZED:
        return 401;
    case KITH_E_FORBIDDEN:
        return 403;
    case KITH_E_NOT_FOUND:
        return 404;
    case KITH_E_INVALID_STATE:
        return 409;
    case KITH_E_CODE_TAKEN:
        return 409;
    case KITH_E_IDEM_IN_USE:
        return 409;
    case KITH_E_IDEM_REUSED:
        return 422;
    case KITH_E_TOO_LARGE:
        return 413;
    case KITH_E_RATE_LIMITED:
        return 429;
    case KITH_E_UNAVAILABLE:
        return 503;
    case KITH_E_CONSTRAINT:
        return 503;
    case KITH_E_INTERNAL:
        return 500;
    }
    return 500;
}

void kith_http_respond_error(struct kith_http_request *req, enum kith_status st, const char *param,
                             const char *message)
{
    char *body = kith_error_json(st, message, param);

    /* The contract promises Retry-After with every 429 and 503 (CONSTRAINT also answers 503). */
    struct kith_http_header headers[2] = {{"Content-Type", "application/json"},
                                          {"Retry-After", "1"}};
    int status = kith_http_status_for(st);
    size_t count = status == 429 || status == 503 ? 2 : 1;
    kith_http_respond(req, status, headers, count, body, strlen(body));
    free(body);
}
