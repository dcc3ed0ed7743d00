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

#include "kith/http.h"

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
    CONN_IDLE,     /* between requests: no byte of the next one parsed yet */
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

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

struct header_off {
    size_t name;
    size_t value;
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t write_req;
    uv_write_t continue_req;
    uv_shutdown_t shutdown_req;
    struct kith_http_server *srv;
    struct conn *prev, *next;
    llhttp_t parser;
    enum conn_state state;
    int refs;
    int handles;
    bool closing;
    bool reading;
    bool in_process; /* process_input() is on the stack: do not re-enter it */
    bool keep_alive;
    bool req_outstanding; /* a handler holds req and has not answered yet */
    bool is_head;
    uint32_t requests; /* answered on this connection */

    /* Unparsed input: bytes [in_off, in_len) of in. */
    char *in;
    size_t in_off, in_len, in_cap;
    const char *exec_end; /* end of the bytes given to the current llhttp_execute() */

    /* The request being parsed; these buffers are reused for every request of the connection. */
    struct buf url;
    struct buf hdr; /* names and values, each NUL-terminated */
    struct buf body;
    struct buf path; /* decoded path, then room for route captures */
    struct header_off hoff[KITH_HTTP_HEADER_COUNT_MAX];
    struct kith_http_header headers[KITH_HTTP_HEADER_COUNT_MAX];
    size_t hcount;
    size_t hbytes;
    enum header_state hstate;
    bool value_at_cr; /* the last value chunk ended at its line end, not at a read boundary */
    size_t query_off; /* offset of the query in url (points at the NUL when there is none) */
    uint64_t begin_ns;
    const char *method_name;
    size_t body_max; /* the limit of this request's route (kith_http__body_max) */

    /* A layer error found by a parser callback, answered after llhttp_execute() returns. */
    int err_status;
    const char *err_code;
    const char *err_message;

    struct kith_http_request req;
    struct buf out;
};

struct kith_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct kith_http_config cfg;
    struct kith_http_route *routes;
    llhttp_settings_t settings;
    int port;
    struct conn *conns; /* connections whose handles are open */
    uint32_t open_count;
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

/* Makes room for `need` bytes in total. Callers have checked every untrusted size against its
 * limit before calling, so growth here is bounded. Out of memory aborts (house rule). */
static inline void buf_reserve(struct buf *b, size_t need)
{
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        abort();
    b->data = p;
    b->cap = cap;
}

/* Appends and keeps one spare byte, so that the content can always be NUL-terminated. */
static inline void buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, b->len + n + 1);
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void buf_str(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

static inline void buf_uint(struct buf *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    buf_append(b, tmp + i, sizeof(tmp) - i);
}

static inline void buf_nul(struct buf *b)
{
    buf_reserve(b, b->len + 1);
    b->data[b->len] = '\0';
}

static inline void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
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
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static inline bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        size_t len;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) {
            len = 2;
            cp = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
            len = 3;
            cp = b & 0x0F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            len = 4;
            cp = b & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
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
void kith_http__close_now(struct conn *c);
void kith_http__conn_unref(struct conn *c);
void kith_http__linger(struct conn *c);
uint32_t kith_http__read_timeout_ms(const struct conn *c);
void kith_http__timer_start(struct conn *c, uint32_t ms);
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
