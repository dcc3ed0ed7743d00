/*
 * internal.h: what the files of the HTTP transport share: the connection and server structs, the
 * small buffers every request reuses, and the checks the parser and the writer both need. It is
 * not for anything outside src/http: handlers see only include/kith/http.h. Everything here runs
 * on the loop thread.
 */
#ifndef KITH_HTTP_INTERNAL_H
#define KITH_HTTP_INTERNAL_H

#include <stdlib.h>
#include <string.h>

#include <llhttp.h>

#include "kith/buf.h"
#include "kith/core.h"
#include "kith/http.h"
#include "kith/text.h"

#define DEFAULT_READ_TIMEOUT_MS 10000
#define DEFAULT_IDLE_TIMEOUT_MS 60000
#define DEFAULT_MAX_CONNECTIONS 4096
#define LISTEN_BACKLOG 1024
/* After a closing answer we half-close and drain the client's leftovers for at most this long,
 * so that unread request bytes do not turn our FIN into a RST that destroys the answer. */
#define LINGER_MAX_MS 1000
#define IN_INITIAL 8192
#define IN_SLACK 1024
/* Unparsed input one connection may buffer while its current request is being handled: one
 * request of the largest size we accept. Beyond it we stop reading until the answer is out. */
#define IN_MAX (KITH_HTTP_BODY_MAX + KITH_HTTP_HEADERS_MAX + KITH_HTTP_URL_MAX + 4096)

enum conn_state {
    CONN_NEW,      /* allocated, not accepted yet */
    CONN_IDLE,     /* between requests (or before the first): no byte of one parsed yet */
    CONN_READING,  /* a request has started and is being parsed */
    CONN_HANDLING, /* a complete request is with its handler */
    CONN_WRITING,  /* an answer is being written */
    CONN_LINGER,   /* closing answer written: half-closed, draining until EOF or timeout */
    CONN_CLOSED,   /* handles closing; memory lives while references remain */
};

enum header_state {
    HS_NONE,  /* between header fields */
    HS_NAME,  /* inside a field name */
    HS_VALUE, /* inside a field value */
};

/* The last byte llhttp consumed between spans, as far as line ends go (parse.c, check_gap). */
enum gap_last {
    GAP_NONE,
    GAP_CR,
    GAP_LF,
};

struct header_off {
    size_t name;
    size_t value;
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    /* The connection's one deadline (loop time, ms; 0: none) and when its timer is due: the
     * timer is only restarted for an earlier deadline, and one due early starts again for the
     * rest (kith_http__timer_start), so a keep-alive request costs one restart, not four. */
    uint64_t deadline, timer_due;
    uv_write_t write_req;
    uv_write_t continue_req;
    uv_shutdown_t shutdown_req;
    struct kith_http_server *srv;
    struct conn *idle_prev, *idle_next; /* the server's idle list, while state is CONN_IDLE */
    llhttp_t parser;
    enum conn_state state;
    int refs;
    int handles;
    bool closing;
    bool reading;
    bool in_process; /* process_input() is on the stack: do not re-enter it */
    bool keep_alive;
    bool req_outstanding; /* a handler holds req and has not answered yet */
    bool peer_eof;        /* the client half-closed: answer what came in, then close */
    bool is_head;
    uint32_t requests; /* answered on this connection */

    /* Unparsed input: bytes [in_off, in_len) of in. This buffer and the request's below are
     * freed whenever the connection is idle with nothing pending (kith_http__release_buffers). */
    char *in;
    size_t in_off, in_len, in_cap;
    /* llhttp reports nothing of the bytes between spans (separators, line ends, the whitespace
     * of a folded line); parse.c follows them for what llhttp lets through. */
    const char *gap_from; /* first byte after the last span in the current llhttp_execute() */
    enum gap_last gap_last;
    bool gap_fold; /* a line end then SP or HT since the last span: a folded line */
    bool gap_text; /* a byte of this message seen: CR and LF before it are llhttp's to skip */
    bool bare_lf;  /* an LF without its CR in this message's framing */

    /* The request being parsed; these buffers are reused for every request of the connection. */
    struct kith_buf url;
    struct kith_buf hdr; /* names and values, each NUL-terminated */
    struct kith_buf body;
    struct kith_buf path; /* decoded path, then room for route captures */
    /* Fields of the head and then of the trailer section, which share the limits; handlers see
     * the first head_count. One more slot than the limit for the Host an absolute-form target
     * gives an HTTP/1.0 request that sent none. */
    struct header_off hoff[KITH_HTTP_HEADER_COUNT_MAX + 1];
    struct kith_http_header headers[KITH_HTTP_HEADER_COUNT_MAX + 1];
    size_t hcount;
    size_t head_count;
    size_t hbytes;
    enum header_state hstate;
    size_t query_off; /* offset of the query in url (points at the NUL when there is none) */
    size_t authority_off, authority_len; /* absolute-form target: its authority, in url */
    uint64_t begin_ns;
    const char *method_name;
    size_t body_max; /* the limit of this request's route (kith_http__body_max) */

    /* A layer error found by a parser callback, answered after llhttp_execute() returns. */
    int err_status;
    const char *err_code;
    const char *err_message;

    struct kith_http_request req;
    struct kith_buf out;
};

struct kith_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct kith_http_config cfg;
    struct kith_http_route *routes;
    llhttp_settings_t settings;
    int port;
    /* Connections in CONN_IDLE, least recently idle first: at max_connections the oldest is
     * closed to make room for a newcomer. */
    struct conn *idle_oldest, *idle_newest;
    uint32_t open_count; /* accepted connections not closing */
    size_t live; /* connections not freed yet, including those kept by unanswered requests */
    bool shutting_down;
    bool listener_closed;
    bool done_called;
    void (*done)(void *ctx);
    void *done_ctx;
    int64_t date_s;
    char date[40];
};

/* ---- small buffers ---------------------------------------------------------------------- */

/* The transport's names for the one buffer type (kith/buf.h), which keeps its content
 * NUL-terminated. Callers have checked every untrusted size against its limit before calling,
 * so growth here is bounded; out of memory aborts (house rule). */
static inline void buf_reserve(struct kith_buf *b, size_t need) /* `need` bytes in total */
{
    if (b->data == NULL || need > b->len)
        kith_buf_reserve(b, need > b->len ? need - b->len : 0);
}

static inline void buf_append(struct kith_buf *b, const void *p, size_t n)
{
    kith_buf_append(b, p, n);
}

static inline void buf_str(struct kith_buf *b, const char *s)
{
    kith_buf_str(b, s);
}

static inline void buf_uint(struct kith_buf *b, uint64_t v)
{
    char d[KITH_U64_TEXT_MAX];
    kith_buf_append(b, d, kith_u64_text(v, d));
}

static inline void buf_nul(struct kith_buf *b)
{
    kith_buf_reserve(b, 0);
    b->data[b->len] = '\0';
}

static inline void buf_free(struct kith_buf *b)
{
    kith_buf_dispose(b);
}

/* tchar of RFC 9110: what a header field name may hold. */
static inline bool is_token_char(unsigned char ch)
{
    if (ch >= 'a' && ch <= 'z')
        return true;
    if (ch >= 'A' && ch <= 'Z')
        return true;
    if (ch >= '0' && ch <= '9')
        return true;
    return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static inline int hex_value(unsigned char ch)
{
    return kith_hex_value(ch); /* kith/text.h */
}

static inline bool utf8_valid(const unsigned char *s, size_t n)
{
    return kith_valid_utf8(s, n); /* kith/text.h: strict, no overlongs or surrogates */
}

static inline enum kith_http_method method_of(uint8_t m)
{
    switch (m) {
    case HTTP_GET:
        return KITH_HTTP_GET;
    case HTTP_HEAD:
        return KITH_HTTP_HEAD;
    case HTTP_POST:
        return KITH_HTTP_POST;
    case HTTP_PUT:
        return KITH_HTTP_PUT;
    case HTTP_PATCH:
        return KITH_HTTP_PATCH;
    case HTTP_DELETE:
        return KITH_HTTP_DELETE;
    case HTTP_OPTIONS:
        return KITH_HTTP_OPTIONS;
    }
    return KITH_HTTP_OTHER;
}

static inline const char *method_text(enum kith_http_method m)
{
    switch (m) {
    case KITH_HTTP_GET:
        return "GET";
    case KITH_HTTP_HEAD:
        return "HEAD";
    case KITH_HTTP_POST:
        return "POST";
    case KITH_HTTP_PUT:
        return "PUT";
    case KITH_HTTP_PATCH:
        return "PATCH";
    case KITH_HTTP_DELETE:
        return "DELETE";
    case KITH_HTTP_OPTIONS:
        return "OPTIONS";
    case KITH_HTTP_OTHER:
        break;
    }
    return NULL;
}

/* Shared between the transport's files (libuv's uv__ convention for internal names). */
void kith_http__set_state(struct conn *c, enum conn_state state);
void kith_http__release_buffers(struct conn *c);
void kith_http__close_now(struct conn *c);
void kith_http__conn_unref(struct conn *c);
void kith_http__linger(struct conn *c);
uint32_t kith_http__read_timeout_ms(const struct conn *c);
void kith_http__timer_start(struct conn *c, uint32_t ms);
void kith_http__timer_stop(struct conn *c);
void kith_http__update_reading(struct conn *c);
void kith_http__process_input(struct conn *c);
char *kith_http__error_json(const char *code, const char *message, const char *param);
void kith_http__respond_refusal(struct conn *c, int status, const char *code, const char *message);
/* The body limit of the route method and path would match (KITH_HTTP_BODY_MAX unless a route
 * says more); caps is the path buffer's capture room, as for kith_http__route_find. */
size_t kith_http__body_max(const struct kith_http_server *srv, enum kith_http_method method,
                           const char *path, char *caps);
const struct kith_http_route *kith_http__route_find(const struct kith_http_server *srv,
                                                    struct kith_http_request *req, char *caps,
                                                    char *allow, size_t allow_size);
bool kith_http__pattern_valid(const char *pat);
void kith_http__parser_settings(llhttp_settings_t *s);

#endif
