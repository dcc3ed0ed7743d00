/*
 * http.h: kith's small, strict HTTP/1.1 server over libuv and llhttp. It owns sockets, parsing,
 * limits, timeouts, keep-alive, pipelining, routing and the access log; it knows nothing about
 * referrals. Handlers receive a parsed request and answer it, at once or later (after work on
 * another thread), always on the loop thread. Everything here runs on the loop thread only.
 */
#ifndef KITH_HTTP_H
#define KITH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "kith/core.h"

#define KITH_HTTP_BODY_MAX (64 * 1024)    /* larger bodies: 413 payload_too_large (see body_max) */
#define KITH_HTTP_URL_MAX 8192            /* longer request targets: 414 */
#define KITH_HTTP_HEADERS_MAX (16 * 1024) /* all header names and values together: 431 */
#define KITH_HTTP_HEADER_COUNT_MAX 64     /* more header fields: 431 */
#define KITH_HTTP_PARAMS_MAX 4            /* {captures} in one route pattern */

enum kith_http_method {
    KITH_HTTP_GET,
    KITH_HTTP_HEAD,
    KITH_HTTP_POST,
    KITH_HTTP_PUT,
    KITH_HTTP_PATCH,
    KITH_HTTP_DELETE,
    KITH_HTTP_OPTIONS,
    KITH_HTTP_OTHER,
};

struct kith_http_header {
    const char *name;
    const char *value;
};

/*
 * One parsed request. The server owns it and every string in it; they stay valid until the
 * handler calls kith_http_respond() (or the connection dies, see `aborted`). All strings are
 * NUL-terminated. `path` is the percent-decoded path without the query ("/v1/participants/par_1");
 * a path whose decoding contains NUL, "..", or invalid UTF-8 is refused with 400 before routing.
 * An absolute-form target ("http://host/path?q") gives the same path and query as its
 * origin-form, and its authority is the value of the Host header here. `headers` are the head's
 * fields; trailer fields after a chunked body are never among them.
 */
struct kith_http_request {
    enum kith_http_method method;
    const char *method_name; /* "GET", ... as received */
    const char *path;        /* decoded path, no query */
    const char *query;       /* raw query string after '?', "" when none (not decoded) */
    const char *body;        /* NUL-terminated copy of the body (may hold inner NULs) */
    size_t body_len;
    const struct kith_http_header *headers; /* as received, in order */
    size_t header_count;
    const char *params[KITH_HTTP_PARAMS_MAX]; /* {captures} of the matched route, in order */
    size_t param_count;
    const char *route_name; /* name of the matched route, for logs and metrics */
    const void *route_data; /* the matched route's `data` */
    char peer_ip[64];       /* connected address as text; never log or store it */
    /* For the handler layer: the client it resolved (behind trusted proxies, canonical form)
     * and whether the client's own connection was https. The transport leaves them empty. */
    char client_ip[64];
    bool client_secure;
    uint64_t started_ns; /* kith_clock_mono_ns() when the request was complete */
    void *user;          /* free for the handler */
    bool aborted;        /* set when the client went away before the answer */
};

/* A handler answers through kith_http_respond() exactly once, now or later on the loop thread. */
typedef void (*kith_http_handler_fn)(struct kith_http_request *req, void *ctx);

struct kith_http_route {
    enum kith_http_method method;
    const char *pattern; /* "/v1/participants/{id}/codes": `{x}` captures one non-empty segment */
    kith_http_handler_fn fn;
    const char *name; /* for the access log and metrics, e.g. "participants.codes.create" */
    const void *data; /* the handler's own description of the route; the transport never reads it */
};

struct kith_http_config {
    const char *host; /* listen address, e.g. "127.0.0.1" or "::1" */
    int port;         /* 0 picks an ephemeral port; see kith_http_server_port() */
    const struct kith_http_route *routes;
    size_t route_count;
    void *ctx;                /* passed to every handler */
    uint32_t read_timeout_ms; /* a started request must be complete within this (10000) */
    uint32_t idle_timeout_ms; /* an idle keep-alive connection is closed after this (60000) */
    uint32_t max_connections; /* further connections are closed at accept (4096) */
    bool access_log;          /* one line per response on stderr */
    /* A route's body limit, asked with its `data` once the headers are in; NULL, or an answer
     * below KITH_HTTP_BODY_MAX, means KITH_HTTP_BODY_MAX (CSV imports take 1 MiB). */
    size_t (*body_max)(const void *route_data);
};

struct kith_http_server;

/* Binds and listens on loop. Returns KITH_OK and *out, or an error with err filled. */
enum kith_status kith_http_server_create(uv_loop_t *loop, const struct kith_http_config *cfg,
                                         struct kith_http_server **out, struct kith_err *err);
/* The bound port (useful with port 0). */
int kith_http_server_port(const struct kith_http_server *srv);

/*
 * Graceful stop: closes the listener, closes idle connections, lets requests in flight finish
 * (their handlers still respond), then closes every connection and calls done(ctx).
 */
void kith_http_server_shutdown(struct kith_http_server *srv, void (*done)(void *ctx), void *ctx);
/* Frees the server after shutdown completed. NULL is a no-op. */
void kith_http_server_destroy(struct kith_http_server *srv);

/* Case-insensitive header lookup; the first match or NULL. */
const char *kith_http_header(const struct kith_http_request *req, const char *name);

/*
 * Answers req: status line, the given headers, Content-Length and Date, then body (omitted for
 * HEAD). Connection handling (keep-alive, close) is the server's. Copies what it needs: headers
 * and body may be freed on return. After this call req is gone. Safe on an aborted request.
 */
void kith_http_respond(struct kith_http_request *req, int status,
                       const struct kith_http_header *headers, size_t header_count,
                       const char *body, size_t body_len);

/* Answers with the contract's JSON error for st (and its HTTP status), message and param. */
void kith_http_respond_error(struct kith_http_request *req, enum kith_status st, const char *param,
                             const char *message);

/* HTTP status for a kith status (KITH_OK 200, KITH_CREATED 201, KITH_E_NOT_FOUND 404, ...). */
int kith_http_status_for(enum kith_status st);

/*
 * Query string helper: finds `name` in a raw query ("a=1&b=x%20y"), percent-decodes its value
 * ('+' is a space) into out. Returns 1 when found and decoded, 0 when absent, -1 when the value
 * is malformed or longer than outsize-1.
 */
int kith_http_query_get(const char *query, const char *name, char *out, size_t outsize);

#endif
