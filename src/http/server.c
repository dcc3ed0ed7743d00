/*
 * server.c: the HTTP/1.1 transport. It accepts TCP connections on a libuv loop, feeds their bytes
 * to llhttp, enforces the request limits and timeouts, routes each complete request to its
 * handler, and writes the handler's answer; it also answers malformed or oversized requests
 * itself, with the contract's JSON error, and closes those connections. It is not for business
 * logic, authentication, JSON bodies or anything a route decides: handlers own all of that.
 *
 * One request per connection is in the hands of a handler at a time. Pipelined bytes wait in the
 * connection's input buffer (bounded) until the answer is written, so answers go out in order.
 * A connection is reference-counted: its libuv handles hold one reference and a request that a
 * handler has not answered yet holds another, so a handler can answer after the client left.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <llhttp.h>

#include "kith/clock.h"
#include "kith/http.h"
#include "kith/log.h"

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

static void process_input(struct conn *c);
static void close_now(struct conn *c);

/* ---- small buffers ---------------------------------------------------------------------- */

/* Makes room for `need` bytes in total. Callers have checked every untrusted size against its
 * limit before calling, so growth here is bounded. Out of memory aborts (house rule). */
static void buf_reserve(struct buf *b, size_t need)
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
static void buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, b->len + n + 1);
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void buf_str(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

static void buf_uint(struct buf *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    buf_append(b, tmp + i, sizeof(tmp) - i);
}

static void buf_nul(struct buf *b)
{
    buf_reserve(b, b->len + 1);
    b->data[b->len] = '\0';
}

static void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- texts ------------------------------------------------------------------------------ */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    }
    return "Unknown";
}

/* The Date header value, formatted at most once a second. Locale-free on purpose. */
static const char *http_date(struct kith_http_server *srv)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t now_s = kith_clock_now_ms() / 1000;
    if (now_s != srv->date_s) {
        time_t t = (time_t)now_s;
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(srv->date, sizeof(srv->date), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        srv->date_s = now_s;
    }
    return srv->date;
}

/* tchar of RFC 9110: what a header field name may hold. */
static bool is_token_char(unsigned char ch)
{
    if (ch >= 'a' && ch <= 'z')
        return true;
    if (ch >= 'A' && ch <= 'Z')
        return true;
    if (ch >= '0' && ch <= '9')
        return true;
    return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int hex_value(unsigned char ch)
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
static bool utf8_valid(const unsigned char *s, size_t n)
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

static enum kith_http_method method_of(uint8_t m)
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

static const char *method_text(enum kith_http_method m)
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

/* The contract's error body. Our codes and messages are static text; jansson escapes anyway. */
static char *error_json(const char *code, const char *message, const char *param)
{
    json_t *inner = json_object();
    json_t *root = json_object();
    if (inner == NULL || root == NULL)
        abort();
    json_t *msg = json_string(message);
    json_object_set_new(inner, "code", json_string(code));
    json_object_set_new(inner, "message", msg ? msg : json_string("invalid message"));
    json_t *p = param ? json_string(param) : NULL;
    json_object_set_new(inner, "param", p ? p : json_null());
    json_object_set_new(root, "error", inner);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL)
        abort();
    return text;
}

/* ---- routing ---------------------------------------------------------------------------- */

/* Matches one pattern; `{x}` takes the rest of a path segment, at least one byte, and is copied
 * NUL-terminated into caps (room: strlen(path) + KITH_HTTP_PARAMS_MAX). */
static bool match_pattern(const char *pat, const char *path, char *caps, const char **params,
                          size_t *count)
{
    size_t n = 0;
    while (*pat != '\0') {
        if (*pat == '{') {
            const char *end = strchr(pat, '}');
            size_t seg = strcspn(path, "/");
            if (end == NULL || seg == 0 || n == KITH_HTTP_PARAMS_MAX)
                return false;
            memcpy(caps, path, seg);
            caps[seg] = '\0';
            params[n++] = caps;
            caps += seg + 1;
            path += seg;
            pat = end + 1;
        } else {
            if (*pat != *path)
                return false;
            pat++;
            path++;
        }
    }
    if (*path != '\0')
        return false;
    *count = n;
    return true;
}

static bool pattern_valid(const char *pat)
{
    size_t captures = 0;
    if (pat == NULL || pat[0] != '/')
        return false;
    for (const char *p = pat; *p != '\0'; p++) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (end == NULL || end == p + 1 || memchr(p + 1, '/', (size_t)(end - p - 1)) ||
                memchr(p + 1, '{', (size_t)(end - p - 1)) || ++captures > KITH_HTTP_PARAMS_MAX)
                return false;
            p = end;
        } else if (*p == '}') {
            return false;
        }
    }
    return true;
}

/*
 * Finds the route for the request. An exact method match wins, in table order; a GET route also
 * answers HEAD. Returns the route, or NULL with *allow filled ("" when no pattern matched).
 */
static const struct kith_http_route *route_find(const struct kith_http_server *srv,
                                                struct kith_http_request *req, char *caps,
                                                char *allow, size_t allow_size)
{
    const struct kith_http_route *exact = NULL, *head = NULL;
    unsigned methods = 0;
    size_t count = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < srv->cfg.route_count && exact == NULL; i++) {
        const struct kith_http_route *r = &srv->routes[i];
        if (!match_pattern(r->pattern, req->path, caps, req->params, &count))
            continue;
        methods |= 1u << r->method;
        if (r->method == KITH_HTTP_GET)
            methods |= 1u << KITH_HTTP_HEAD;
        if (r->method == req->method)
            exact = r;
        else if (req->method == KITH_HTTP_HEAD && r->method == KITH_HTTP_GET && head == NULL)
            head = r;
    }
    const struct kith_http_route *r = exact ? exact : head;
    if (r != NULL) {
        /* Captures of a later, failed candidate may have overwritten caps: match again. */
        match_pattern(r->pattern, req->path, caps, req->params, &req->param_count);
        req->route_name = r->name ? r->name : r->pattern;
        return r;
    }
    req->param_count = 0;
    for (int m = KITH_HTTP_GET; m < KITH_HTTP_OTHER; m++) {
        if (methods & (1u << m)) {
            if (allow[0] != '\0')
                kith_strlcpy(allow + strlen(allow), ", ", allow_size - strlen(allow));
            kith_strlcpy(allow + strlen(allow), method_text((enum kith_http_method)m),
                         allow_size - strlen(allow));
        }
    }
    return NULL;
}

/* ---- connection lifetime ---------------------------------------------------------------- */

static void check_done(struct kith_http_server *srv)
{
    if (srv->shutting_down && srv->listener_closed && srv->live == 0 && !srv->done_called) {
        srv->done_called = true;
        /* Last statement: done() may destroy the server. */
        if (srv->done != NULL)
            srv->done(srv->done_ctx);
    }
}

static void conn_unref(struct conn *c)
{
    if (--c->refs > 0)
        return;
    struct kith_http_server *srv = c->srv;
    free(c->in);
    buf_free(&c->url);
    buf_free(&c->hdr);
    buf_free(&c->body);
    buf_free(&c->path);
    buf_free(&c->out);
    free(c);
    srv->live--;
    check_done(srv);
}

static void on_handle_close(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->handles > 0)
        return;
    struct kith_http_server *srv = c->srv;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    srv->open_count--;
    conn_unref(c);
}

/* Closes at once; pending writes are cancelled. A request still with its handler is marked
 * aborted and keeps the memory alive until the handler answers. */
static void close_now(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->state = CONN_CLOSED;
    if (c->req_outstanding)
        c->req.aborted = true;
    uv_close((uv_handle_t *)&c->tcp, on_handle_close);
    uv_close((uv_handle_t *)&c->timer, on_handle_close);
}

static uint32_t read_timeout_ms(const struct conn *c)
{
    return c->srv->cfg.read_timeout_ms;
}

static void on_timer(uv_timer_t *t);

static void timer_start(struct conn *c, uint32_t ms)
{
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* Reads while we can parse, or while there is room to buffer pipelined input; stops otherwise,
 * which bounds what one client can make us hold. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

static void update_reading(struct conn *c)
{
    if (c->closing)
        return;
    bool want = true;
    if (c->state == CONN_HANDLING || c->state == CONN_WRITING)
        want = c->in_cap < IN_MAX || c->in_cap - c->in_len + c->in_off >= IN_SLACK;
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
            close_now(c);
            return;
        }
        c->reading = true;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

static void on_shutdown(uv_shutdown_t *sr, int status)
{
    struct conn *c = sr->data;
    if (status < 0)
        close_now(c);
}

/* After a closing answer: send FIN, drain until the client's EOF or a short deadline. */
static void linger(struct conn *c)
{
    c->state = CONN_LINGER;
    c->in_off = c->in_len = 0;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        close_now(c);
        return;
    }
    uint32_t ms = read_timeout_ms(c) < LINGER_MAX_MS ? read_timeout_ms(c) : LINGER_MAX_MS;
    timer_start(c, ms);
    update_reading(c);
}

/* ---- writing answers -------------------------------------------------------------------- */

static void on_written(struct conn *c)
{
    if (c->closing)
        return;
    uv_timer_stop(&c->timer);
    if (!c->keep_alive || c->srv->shutting_down) {
        linger(c);
        return;
    }
    c->state = CONN_IDLE;
    c->requests++;
    timer_start(c, c->srv->cfg.idle_timeout_ms);
    if (!c->in_process)
        process_input(c);
}

static void on_write(uv_write_t *w, int status)
{
    struct conn *c = w->data;
    if (status < 0) {
        close_now(c);
        return;
    }
    on_written(c);
}

/* Sends c->out: one try_write, and a queued write for the rest when the socket is full. */
static void write_out(struct conn *c)
{
    c->state = CONN_WRITING;
    uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n >= 0 && (size_t)n == c->out.len) {
        on_written(c);
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        close_now(c);
        return;
    }
    if (n > 0) {
        b.base += n;
        b.len -= (size_t)n;
    }
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
        close_now(c);
        return;
    }
    /* A client that does not read its answer is held to the read deadline too. */
    timer_start(c, read_timeout_ms(c));
}

static bool header_allowed(const struct kith_http_header *h)
{
    if (h->name == NULL || h->value == NULL || h->name[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)h->name; *p; p++)
        if (!is_token_char(*p))
            return false;
    for (const unsigned char *p = (const unsigned char *)h->value; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7F)
            return false;
    return true;
}

/* The framing headers are the server's; a handler's copy would contradict ours. */
static bool header_reserved(const char *name)
{
    return strcasecmp(name, "content-length") == 0 || strcasecmp(name, "connection") == 0 ||
           strcasecmp(name, "transfer-encoding") == 0 || strcasecmp(name, "date") == 0;
}

/* Builds the whole answer into c->out. Returns false, writing nothing, when a header is unsafe
 * (CR, LF or another control byte would let a value split the response). */
static bool build_response(struct conn *c, int status, const struct kith_http_header *headers,
                           size_t header_count, const char *body, size_t body_len)
{
    for (size_t i = 0; i < header_count; i++)
        if (!header_allowed(&headers[i]))
            return false;
    if (c->srv->shutting_down)
        c->keep_alive = false;
    bool no_body = status == 204 || status == 304;
    size_t need = 160 + body_len;
    for (size_t i = 0; i < header_count; i++)
        need += strlen(headers[i].name) + strlen(headers[i].value) + 4;
    struct buf *o = &c->out;
    o->len = 0;
    buf_reserve(o, need);
    buf_str(o, "HTTP/1.1 ");
    buf_uint(o, (uint64_t)status);
    buf_str(o, " ");
    buf_str(o, reason_phrase(status));
    buf_str(o, "\r\nDate: ");
    buf_str(o, http_date(c->srv));
    if (!no_body) {
        buf_str(o, "\r\nContent-Length: ");
        buf_uint(o, body_len);
    }
    buf_str(o, "\r\n");
    for (size_t i = 0; i < header_count; i++) {
        if (header_reserved(headers[i].name))
            continue;
        buf_str(o, headers[i].name);
        buf_str(o, ": ");
        buf_str(o, headers[i].value);
        buf_str(o, "\r\n");
    }
    if (!c->keep_alive)
        buf_str(o, "Connection: close\r\n");
    else if (llhttp_get_http_minor(&c->parser) == 0)
        buf_str(o, "Connection: keep-alive\r\n");
    buf_str(o, "\r\n");
    if (!no_body && !c->is_head)
        buf_append(o, body, body_len);
    return true;
}

static void access_log(struct conn *c, const char *method, const char *route, int status,
                       size_t bytes, uint64_t since_ns)
{
    if (!c->srv->cfg.access_log || !kith_log_enabled(KITH_LOG_INFO))
        return;
    uint64_t now = kith_clock_mono_ns();
    unsigned long long dur_us = now > since_ns ? (now - since_ns) / 1000 : 0;
    fprintf(stderr, "access method=%s route=%s status=%d bytes=%zu dur_us=%llu\n",
            method ? method : "-", route ? route : "-", status, bytes, dur_us);
}

/* Answers a request the layer refuses before any handler saw it, then closes. */
static void respond_refusal(struct conn *c, int status, const char *code, const char *message)
{
    uv_timer_stop(&c->timer);
    c->keep_alive = false;
    char *json = error_json(code, message, NULL);
    size_t len = strlen(json);
    const struct kith_http_header h[] = {{"Content-Type", "application/json"}};
    build_response(c, status, h, 1, json, len);
    free(json);
    access_log(c, c->method_name, NULL, status, c->is_head ? 0 : len,
               c->begin_ns ? c->begin_ns : kith_clock_mono_ns());
    write_out(c);
}

void kith_http_respond(struct kith_http_request *req, int status,
                       const struct kith_http_header *headers, size_t header_count,
                       const char *body, size_t body_len)
{
    struct conn *c = (struct conn *)(void *)((char *)req - offsetof(struct conn, req));
    if (!c->req_outstanding) {
        fprintf(stderr, "kith_http_respond: request already answered (route=%s)\n",
                req->route_name ? req->route_name : "-");
        return;
    }
    c->req_outstanding = false;
    if (c->closing) {
        access_log(c, req->method_name, req->route_name, 499, 0, req->started_ns);
        conn_unref(c);
        return;
    }
    if (status < 200 || status > 599 ||
        !build_response(c, status, headers, header_count, body, body_len)) {
        fprintf(stderr, "kith_http_respond: invalid status or header (route=%s)\n",
                req->route_name ? req->route_name : "-");
        status = 500;
        body = "{\"error\":{\"code\":\"internal_error\",\"message\":\"invalid response\","
               "\"param\":null}}";
        body_len = strlen(body);
        const struct kith_http_header h[] = {{"Content-Type", "application/json"}};
        build_response(c, status, h, 1, body, body_len);
    }
    access_log(c, req->method_name, req->route_name, status, c->is_head ? 0 : body_len,
               req->started_ns);
    write_out(c);
    conn_unref(c);
}

/* ---- parsing ---------------------------------------------------------------------------- */

static int refuse(struct conn *c, int status, const char *code, const char *message)
{
    c->err_status = status;
    c->err_code = code;
    c->err_message = message;
    return HPE_USER;
}

static int on_message_begin(llhttp_t *p)
{
    struct conn *c = p->data;
    c->state = CONN_READING;
    c->url.len = 0;
    c->hdr.len = 0;
    c->body.len = 0;
    c->hcount = 0;
    c->hbytes = 0;
    c->hstate = HS_NONE;
    c->is_head = false;
    c->method_name = NULL;
    c->begin_ns = kith_clock_mono_ns();
    /* The whole request, not each read, must arrive within the deadline (slowloris). */
    timer_start(c, read_timeout_ms(c));
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (n > KITH_HTTP_URL_MAX - c->url.len)
        return refuse(c, 414, "uri_too_long", "the request target is too long");
    buf_append(&c->url, at, n);
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (c->hstate == HS_NONE) {
        if (c->hcount == KITH_HTTP_HEADER_COUNT_MAX)
            return refuse(c, 431, "headers_too_large", "too many header fields");
        c->hoff[c->hcount++].name = c->hdr.len;
        c->hstate = HS_NAME;
    }
    if (n > KITH_HTTP_HEADERS_MAX - c->hbytes)
        return refuse(c, 431, "headers_too_large", "the header fields are too large");
    c->hbytes += n;
    buf_append(&c->hdr, at, n);
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    struct conn *c = p->data;
    if (c->hstate == HS_NONE) /* an empty name: llhttp refuses it, but never index hoff[-1] */
        return refuse(c, 400, "bad_request", "empty header name");
    buf_append(&c->hdr, "", 1);
    c->hoff[c->hcount - 1].value = c->hdr.len;
    c->hstate = HS_VALUE;
    c->value_at_cr = false;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    /* llhttp passes an obsolete line folding as a second chunk of the value. A chunk after one
     * that ended at its line end (not at the end of the read) can only be such a fold. */
    if (c->value_at_cr && n > 0)
        return refuse(c, 400, "bad_request", "obsolete header line folding");
    if (n > KITH_HTTP_HEADERS_MAX - c->hbytes)
        return refuse(c, 431, "headers_too_large", "the header fields are too large");
    c->hbytes += n;
    buf_append(&c->hdr, at, n);
    c->value_at_cr = at + n != c->exec_end;
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    struct conn *c = p->data;
    size_t start = c->hoff[c->hcount - 1].value;
    while (c->hdr.len > start &&
           (c->hdr.data[c->hdr.len - 1] == ' ' || c->hdr.data[c->hdr.len - 1] == '\t'))
        c->hdr.len--;
    buf_append(&c->hdr, "", 1);
    c->hstate = HS_NONE;
    return 0;
}

static const char *find_header(const struct conn *c, const char *name, size_t *count)
{
    const char *first = NULL;
    size_t n = 0;
    for (size_t i = 0; i < c->hcount; i++) {
        if (strcasecmp(c->hdr.data + c->hoff[i].name, name) == 0) {
            if (first == NULL)
                first = c->hdr.data + c->hoff[i].value;
            n++;
        }
    }
    if (count != NULL)
        *count = n;
    return first;
}

/* Origin-form only; percent-decodes the path into c->path and rejects what could confuse a
 * router or a file path: bad escapes, NUL, invalid UTF-8, "..". Returns an error message. */
static const char *parse_target(struct conn *c)
{
    buf_nul(&c->url);
    const char *u = c->url.data;
    if (c->url.len == 0 || u[0] != '/')
        return "the request target must be a path";
    size_t path_len = c->url.len;
    for (size_t i = 0; i < c->url.len; i++) {
        unsigned char ch = (unsigned char)u[i];
        if (ch <= 0x20 || ch >= 0x7F)
            return "invalid character in the request target";
        if (ch == '?' && path_len == c->url.len)
            path_len = i;
    }
    c->query_off = path_len < c->url.len ? path_len + 1 : c->url.len;

    /* Decoded path, then room for the captures (their total is at most the path). */
    c->path.len = 0;
    buf_reserve(&c->path, 2 * path_len + KITH_HTTP_PARAMS_MAX + 2);
    char *out = c->path.data;
    size_t n = 0;
    for (size_t i = 0; i < path_len; i++) {
        unsigned char ch = (unsigned char)u[i];
        if (ch == '%') {
            int hi = path_len - i >= 3 ? hex_value((unsigned char)u[i + 1]) : -1;
            int lo = path_len - i >= 3 ? hex_value((unsigned char)u[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return "invalid percent-encoding in the path";
            ch = (unsigned char)(hi * 16 + lo);
            if (ch == 0)
                return "NUL byte in the path";
            i += 2;
        }
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    c->path.len = n;
    if (!utf8_valid((const unsigned char *)out, n))
        return "the path is not valid UTF-8";
    for (const char *seg = out; seg != NULL;) {
        const char *slash = strchr(seg + 1, '/');
        size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
        if (len == 3 && memcmp(seg, "/..", 3) == 0)
            return "\"..\" segment in the path";
        seg = slash;
    }
    return NULL;
}

static void on_continue_written(uv_write_t *w, int status)
{
    /* Nothing to do: a failure shows up on the next read or on the answer's write. */
    (void)w;
    (void)status;
}

static void write_continue(struct conn *c)
{
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_buf_t b = uv_buf_init((char *)line, sizeof(line) - 1);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n >= 0 && (size_t)n == b.len)
        return;
    if (n < 0 && n != UV_EAGAIN)
        return; /* the next read reports the broken connection */
    if (n > 0) {
        b.base += n;
        b.len -= (size_t)n;
    }
    c->continue_req.data = c;
    uv_write(&c->continue_req, (uv_stream_t *)&c->tcp, &b, 1, on_continue_written);
}

static int on_headers_complete(llhttp_t *p)
{
    struct conn *c = p->data;
    c->req.method = method_of(p->method);
    c->method_name = llhttp_method_name((llhttp_method_t)p->method);
    c->is_head = c->req.method == KITH_HTTP_HEAD;
    /* We never switch protocols: an Upgrade request is served as a plain request. */
    p->upgrade = 0;
    if (p->http_major != 1 || p->http_minor > 1)
        return refuse(c, 505, "http_version_not_supported", "only HTTP/1.0 and 1.1 are served");
    for (size_t i = 0; i < c->hcount; i++) {
        const unsigned char *name = (const unsigned char *)c->hdr.data + c->hoff[i].name;
        for (; *name; name++)
            if (!is_token_char(*name))
                return refuse(c, 400, "bad_request", "invalid header name");
    }
    size_t hosts = 0;
    find_header(c, "host", &hosts);
    if (hosts > 1 || (hosts == 0 && p->http_minor == 1))
        return refuse(c, 400, "bad_request", "exactly one Host header is required");
    if (p->method == HTTP_CONNECT)
        return refuse(c, 400, "bad_request", "CONNECT is not served");
    const char *bad = parse_target(c);
    if (bad != NULL)
        return refuse(c, 400, "bad_request", bad);
    if ((p->flags & F_CONTENT_LENGTH) && (p->flags & F_TRANSFER_ENCODING))
        return refuse(c, 400, "bad_request", "Content-Length with Transfer-Encoding");
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > KITH_HTTP_BODY_MAX)
        return refuse(c, 413, "payload_too_large", "the body is larger than 64 KiB");
    c->keep_alive = llhttp_should_keep_alive(p) != 0;
    const char *expect = find_header(c, "expect", NULL);
    if (expect != NULL && p->http_minor == 1 && strcasecmp(expect, "100-continue") == 0 &&
        ((p->flags & F_CHUNKED) || p->content_length > 0))
        write_continue(c);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (n > KITH_HTTP_BODY_MAX - c->body.len)
        return refuse(c, 413, "payload_too_large", "the body is larger than 64 KiB");
    buf_append(&c->body, at, n);
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    (void)p;
    /* Stop here: the next pipelined request waits until this one is answered. */
    return HPE_PAUSED;
}

/* Hands the complete request to its route, or answers 404/405 for it. */
static void dispatch(struct conn *c)
{
    struct kith_http_server *srv = c->srv;
    struct kith_http_request *req = &c->req;
    uv_timer_stop(&c->timer);
    c->state = CONN_HANDLING;

    buf_nul(&c->body);
    for (size_t i = 0; i < c->hcount; i++) {
        c->headers[i].name = c->hdr.data + c->hoff[i].name;
        c->headers[i].value = c->hdr.data + c->hoff[i].value;
    }
    req->method_name = c->method_name;
    req->path = c->path.data;
    req->query = c->url.data + c->query_off;
    req->body = c->body.data;
    req->body_len = c->body.len;
    req->headers = c->headers;
    req->header_count = c->hcount;
    req->param_count = 0;
    req->route_name = NULL;
    req->started_ns = kith_clock_mono_ns();
    req->user = NULL;
    req->aborted = false;

    c->req_outstanding = true;
    c->refs++;
    char allow[64];
    const struct kith_http_route *r =
        route_find(srv, req, c->path.data + c->path.len + 1, allow, sizeof(allow));
    if (r != NULL) {
        r->fn(req, srv->cfg.ctx);
        return;
    }
    const struct kith_http_header h[] = {{"Content-Type", "application/json"}, {"Allow", allow}};
    char *json = allow[0] ? error_json("method_not_allowed", "method not allowed here", NULL)
                          : error_json(kith_status_code(KITH_E_NOT_FOUND), "no such route", NULL);
    kith_http_respond(req, allow[0] ? 405 : 404, h, allow[0] ? 2 : 1, json, strlen(json));
    free(json);
}

/* Parses buffered input while the connection may parse; dispatches each complete request. */
static void process_input(struct conn *c)
{
    c->refs++;
    c->in_process = true;
    while (!c->closing && (c->state == CONN_IDLE || c->state == CONN_READING) &&
           c->in_off < c->in_len) {
        const char *data = c->in + c->in_off;
        size_t len = c->in_len - c->in_off;
        c->exec_end = data + len;
        c->err_status = 0;
        llhttp_errno_t e = llhttp_execute(&c->parser, data, len);
        if (e == HPE_OK) {
            c->in_off = c->in_len;
        } else if (e == HPE_PAUSED) {
            c->in_off += (size_t)(llhttp_get_error_pos(&c->parser) - data);
            llhttp_resume(&c->parser);
            dispatch(c);
        } else {
            c->in_off = c->in_len;
            if (c->err_status != 0)
                respond_refusal(c, c->err_status, c->err_code, c->err_message);
            else
                respond_refusal(c, 400, "bad_request", llhttp_get_error_reason(&c->parser));
            break;
        }
    }
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    c->in_process = false;
    update_reading(c);
    conn_unref(c);
}

/* ---- reading and timers ----------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct conn *c = h->data;
    if (c->state == CONN_LINGER || c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    if (c->in_cap - c->in_len < IN_SLACK && c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    if (c->in_cap - c->in_len < IN_SLACK && c->in_cap < IN_MAX) {
        size_t cap = c->in_cap ? c->in_cap * 2 : IN_INITIAL;
        if (cap > IN_MAX)
            cap = IN_MAX;
        char *p = realloc(c->in, cap);
        if (p == NULL)
            abort();
        c->in = p;
        c->in_cap = cap;
    }
    *b = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = s->data;
    if (nread < 0) {
        /* EOF or error. A client that half-closes before its answer counts as gone. */
        close_now(c);
        return;
    }
    if (nread == 0 || c->state == CONN_LINGER)
        return;
    c->in_len += (size_t)nread;
    if (c->state == CONN_IDLE || c->state == CONN_READING)
        process_input(c);
    else
        update_reading(c);
}

static void on_timer(uv_timer_t *t)
{
    struct conn *c = t->data;
    if (c->state == CONN_READING)
        respond_refusal(c, 408, "request_timeout", "the request took too long to arrive");
    else if (c->state != CONN_HANDLING)
        close_now(c);
}

static void fill_peer(struct conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    c->req.peer_ip[0] = '\0';
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        uv_ip4_name((const struct sockaddr_in *)&ss, c->req.peer_ip, sizeof(c->req.peer_ip));
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;
        if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
            struct sockaddr_in a4;
            memset(&a4, 0, sizeof(a4));
            a4.sin_family = AF_INET;
            memcpy(&a4.sin_addr, a6->sin6_addr.s6_addr + 12, 4);
            uv_ip4_name(&a4, c->req.peer_ip, sizeof(c->req.peer_ip));
        } else {
            uv_ip6_name(a6, c->req.peer_ip, sizeof(c->req.peer_ip));
        }
    }
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct kith_http_server *srv = listener->data;
    if (status < 0)
        return;
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->srv = srv;
    c->refs = 1; /* the handles' */
    c->handles = 2;
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    srv->open_count++;
    srv->live++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 || srv->shutting_down ||
        srv->open_count > srv->cfg.max_connections) {
        close_now(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    fill_peer(c);
    llhttp_init(&c->parser, HTTP_REQUEST, &srv->settings);
    c->parser.data = c;
    c->state = CONN_IDLE;
    /* Until its first byte, a new connection has the read deadline, not the idle one. */
    timer_start(c, read_timeout_ms(c));
    update_reading(c);
}

/* ---- server ----------------------------------------------------------------------------- */

static void free_server(struct kith_http_server *srv)
{
    free(srv->routes);
    free(srv);
}

static void on_listener_close_free(uv_handle_t *h)
{
    free_server(h->data);
}

static void on_listener_close(uv_handle_t *h)
{
    struct kith_http_server *srv = h->data;
    srv->listener_closed = true;
    check_done(srv);
}

enum kith_status kith_http_server_create(uv_loop_t *loop, const struct kith_http_config *cfg,
                                         struct kith_http_server **out, struct kith_err *err)
{
    enum kith_status st = KITH_OK;
    struct kith_http_server *srv = NULL;
    int fd = -1;
    if (out != NULL)
        *out = NULL;
    if (loop == NULL || cfg == NULL || out == NULL || (cfg->route_count > 0 && !cfg->routes)) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "config", "missing loop, config or routes");
        goto out;
    }
    if (cfg->port < 0 || cfg->port > 65535) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, "port", "port %d is out of range", cfg->port);
        goto out;
    }
    for (size_t i = 0; i < cfg->route_count; i++) {
        const struct kith_http_route *r = &cfg->routes[i];
        if (r->fn == NULL || !pattern_valid(r->pattern) || r->method < KITH_HTTP_GET ||
            r->method > KITH_HTTP_OTHER) {
            st = kith_err_set(err, KITH_E_INVALID_PARAM, "routes", "invalid route %zu (%s)", i,
                              r->pattern ? r->pattern : "(null)");
            goto out;
        }
    }

    srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        abort();
    srv->loop = loop;
    srv->cfg = *cfg;
    if (srv->cfg.host == NULL)
        srv->cfg.host = "127.0.0.1";
    if (srv->cfg.read_timeout_ms == 0)
        srv->cfg.read_timeout_ms = DEFAULT_READ_TIMEOUT_MS;
    if (srv->cfg.idle_timeout_ms == 0)
        srv->cfg.idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
    if (srv->cfg.max_connections == 0)
        srv->cfg.max_connections = DEFAULT_MAX_CONNECTIONS;
    if (cfg->route_count > 0) {
        srv->routes = malloc(cfg->route_count * sizeof(*srv->routes));
        if (srv->routes == NULL)
            abort();
        memcpy(srv->routes, cfg->routes, cfg->route_count * sizeof(*srv->routes));
    }
    srv->cfg.routes = srv->routes;
    srv->date_s = -1;

    llhttp_settings_init(&srv->settings);
    srv->settings.on_message_begin = on_message_begin;
    srv->settings.on_url = on_url;
    srv->settings.on_header_field = on_header_field;
    srv->settings.on_header_field_complete = on_header_field_complete;
    srv->settings.on_header_value = on_header_value;
    srv->settings.on_header_value_complete = on_header_value_complete;
    srv->settings.on_headers_complete = on_headers_complete;
    srv->settings.on_body = on_body;
    srv->settings.on_message_complete = on_message_complete;

    /* The socket is made by hand so that every failure before libuv owns it is a plain close(). */
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof(addr));
    if (uv_ip4_addr(srv->cfg.host, cfg->port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(srv->cfg.host, cfg->port, (struct sockaddr_in6 *)&addr) != 0) {
        /* A name such as "localhost": resolved once, at start, to its first address. */
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        if (srv->cfg.host[0] == '\0' || getaddrinfo(srv->cfg.host, NULL, &hints, &res) != 0 ||
            res == NULL || res->ai_addrlen > sizeof(addr)) {
            if (res != NULL)
                freeaddrinfo(res);
            st = kith_err_set(err, KITH_E_INVALID_PARAM, "host",
                              "cannot resolve the listen host \"%s\"", srv->cfg.host);
            goto out;
        }
        memcpy(&addr, res->ai_addr, res->ai_addrlen);
        freeaddrinfo(res);
        if (addr.ss_family == AF_INET)
            ((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)cfg->port);
        else
            ((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)cfg->port);
    }
    socklen_t alen =
        addr.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int one = 1;
    fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&addr, alen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        st = kith_err_set(err, KITH_E_UNAVAILABLE, "listen", "cannot listen on %s:%d: %s",
                          srv->cfg.host, cfg->port, strerror(errno));
        goto out;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
        st = kith_err_set(err, KITH_E_INTERNAL, "listen", "getsockname: %s", strerror(errno));
        goto out;
    }
    srv->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                 : ((struct sockaddr_in6 *)&bound)->sin6_port);

    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    int rc = uv_tcp_open(&srv->listener, (uv_os_sock_t)fd);
    if (rc == 0)
        fd = -1; /* the handle owns it now */
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->listener, LISTEN_BACKLOG, on_connection);
    if (rc != 0) {
        /* The handle must be closed through the loop; the server is freed when that is done. */
        st = kith_err_set(err, KITH_E_INTERNAL, "listen", "libuv: %s", uv_strerror(rc));
        uv_close((uv_handle_t *)&srv->listener, on_listener_close_free);
        srv = NULL;
        goto out;
    }
    *out = srv;
    srv = NULL;
out:
    if (fd >= 0)
        close(fd);
    if (srv != NULL)
        free_server(srv);
    return st;
}

int kith_http_server_port(const struct kith_http_server *srv)
{
    return srv->port;
}

void kith_http_server_shutdown(struct kith_http_server *srv, void (*done)(void *ctx), void *ctx)
{
    if (srv->shutting_down)
        return;
    srv->shutting_down = true;
    srv->done = done;
    srv->done_ctx = ctx;
    uv_close((uv_handle_t *)&srv->listener, on_listener_close);
    /* Idle connections go now; the others close once their answer is written. */
    for (struct conn *c = srv->conns; c != NULL; c = c->next)
        if (c->state == CONN_IDLE)
            close_now(c);
}

void kith_http_server_destroy(struct kith_http_server *srv)
{
    if (srv == NULL)
        return;
    if (!srv->done_called) {
        /* Handles still belong to the loop: freeing now would be a use-after-free later. */
        fprintf(stderr, "kith_http_server_destroy: called before shutdown completed\n");
        abort();
    }
    free_server(srv);
}

/* ---- request helpers -------------------------------------------------------------------- */

const char *kith_http_header(const struct kith_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* Decodes src[0..n) strictly ('+' is a space) into out; -1 when malformed, NUL or too long. */
static int query_decode(const char *src, size_t n, char *out, size_t outsize)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch == '%') {
            if (n - i < 3)
                return -1;
            int hi = hex_value((unsigned char)src[i + 1]);
            int lo = hex_value((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = (unsigned char)(hi * 16 + lo);
            if (ch == 0)
                return -1;
            i += 2;
        } else if (ch == '+') {
            ch = ' ';
        }
        if (o + 1 >= outsize)
            return -1;
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    return 1;
}

int kith_http_query_get(const char *query, const char *name, char *out, size_t outsize)
{
    if (out == NULL || outsize == 0)
        return -1;
    out[0] = '\0';
    if (query == NULL || name == NULL)
        return 0;
    size_t name_len = strlen(name);
    const char *p = query;
    while (*p != '\0') {
        size_t pair = strcspn(p, "&");
        const char *eq = memchr(p, '=', pair);
        size_t key_len = eq ? (size_t)(eq - p) : pair;
        /* Keys are compared after decoding too, so "a%5Fb" finds "a_b". */
        char key[128];
        if (key_len < sizeof(key) && query_decode(p, key_len, key, sizeof(key)) == 1 &&
            strlen(key) == name_len && memcmp(key, name, name_len) == 0) {
            if (eq == NULL)
                return 1;
            int rc = query_decode(eq + 1, pair - key_len - 1, out, outsize);
            if (rc < 0)
                out[0] = '\0';
            return rc;
        }
        p += pair;
        if (*p == '&')
            p++;
    }
    return 0;
}
