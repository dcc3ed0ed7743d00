/*
 * respond.c: writing answers. It builds the status line, the headers and the body of each
 * answer into the connection's output buffer, writes the access log line, and answers refused
 * requests with the contract's JSON error. It is not for deciding what to answer: handlers do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <llhttp.h>

#include "http/internal.h"
#include "kith/clock.h"
#include "kith/log.h"

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

/* The contract's error body. Our codes and messages are static text; jansson escapes anyway. */
char *kith_http__error_json(const char *code, const char *message, const char *param)
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

/* ---- writing answers -------------------------------------------------------------------- */

static void on_written(struct conn *c)
{
    if (c->closing)
        return;
    kith_http__timer_stop(c);
    if (!c->keep_alive || c->srv->shutting_down) {
        kith_http__linger(c);
        return;
    }
    kith_http__set_state(c, CONN_IDLE);
    c->requests++;
    kith_http__timer_start(c, c->srv->cfg.idle_timeout_ms);
    if (!c->in_process)
        kith_http__process_input(c);
}

static void on_write(uv_write_t *w, int status)
{
    struct conn *c = w->data;
    if (status < 0) {
        kith_http__close_now(c);
        return;
    }
    on_written(c);
}

/* Sends c->out: one try_write, and a queued write for the rest when the socket is full. */
static void write_out(struct conn *c)
{
    kith_http__set_state(c, CONN_WRITING);
    uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n >= 0 && (size_t)n == c->out.len) {
        on_written(c);
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        kith_http__close_now(c);
        return;
    }
    if (n > 0) {
        b.base += n;
        b.len -= (size_t)n;
    }
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
        kith_http__close_now(c);
        return;
    }
    /* A client that does not read its answer is held to the read deadline too. */
    kith_http__timer_start(c, kith_http__read_timeout_ms(c));
}

/* The bytes that end a header value's scan: its NUL, and the control bytes it may not hold
 * (all below 0x20 but HT, and DEL). */
static const bool value_stop[256] = {
    [0] = true,  [1] = true,  [2] = true,  [3] = true,    [4] = true,  [5] = true,  [6] = true,
    [7] = true,  [8] = true,  [10] = true, [11] = true,   [12] = true, [13] = true, [14] = true,
    [15] = true, [16] = true, [17] = true, [18] = true,   [19] = true, [20] = true, [21] = true,
    [22] = true, [23] = true, [24] = true, [25] = true,   [26] = true, [27] = true, [28] = true,
    [29] = true, [30] = true, [31] = true, [0x7F] = true,
};

/*
 * Whether value[0..len) holds none of value_stop's bytes. Eight bytes at a time: a word with no
 * byte below 0x20 and none equal to 0x7F (the usual case: a Location or a Set-Cookie is ~100
 * printable bytes) needs no byte of it looked up; a word with one, which may be an HT, is looked
 * at byte by byte.
 */
static bool value_clean(const unsigned char *value, size_t len)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w, del;
        memcpy(&w, value + i, 8);
        del = w ^ (ones * 0x7F);
        /* a byte below 0x20, or a byte of w that is 0x7F (a zero byte of del) */
        if ((((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs) {
            for (size_t k = i; k < i + 8; k++)
                if (value_stop[value[k]])
                    return false;
        }
    }
    for (; i < len; i++)
        if (value_stop[value[i]])
            return false;
    return true;
}

/* Whether a header may be sent; its name's and value's lengths in *nl and *vl. */
static bool header_allowed(const struct kith_http_header *h, size_t *nl, size_t *vl)
{
    if (h->name == NULL || h->value == NULL || h->name[0] == '\0')
        return false;
    const unsigned char *p = (const unsigned char *)h->name;
    for (; *p; p++)
        if (!is_token_char(*p))
            return false;
    *nl = (size_t)(p - (const unsigned char *)h->name);
    *vl = strlen(h->value);
    return value_clean((const unsigned char *)h->value, *vl);
}

/* The framing headers are the server's; a handler's copy would contradict ours. */
static bool header_reserved(const char *name, size_t len)
{
    /* by length first: most names have none of these lengths, and need no strcasecmp */
    switch (len) {
    case 14:
        return strcasecmp(name, "content-length") == 0;
    case 10:
        return strcasecmp(name, "connection") == 0;
    case 17:
        return strcasecmp(name, "transfer-encoding") == 0;
    case 4:
        return strcasecmp(name, "date") == 0;
    }
    return false;
}

/* Builds the whole answer into c->out. Returns false, writing nothing, when a header is unsafe
 * (CR, LF or another control byte would let a value split the response). */
static bool build_response(struct conn *c, int status, const struct kith_http_header *headers,
                           size_t header_count, const char *body, size_t body_len)
{
    /* Each header's lengths, found while checking it (the first LENGTHS_KEPT headers; any
     * further ones are measured again below). */
    enum { LENGTHS_KEPT = 32 };
    size_t nl[LENGTHS_KEPT], vl[LENGTHS_KEPT];
    size_t need = 160 + body_len;
    for (size_t i = 0; i < header_count; i++) {
        size_t n, v;
        if (!header_allowed(&headers[i], &n, &v))
            return false;
        if (i < LENGTHS_KEPT) {
            nl[i] = n;
            vl[i] = v;
        }
        need += n + v + 4;
    }
    if (c->srv->shutting_down)
        c->keep_alive = false;
    bool no_body = status == 204 || status == 304;
    struct kith_buf *o = &c->out;
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
        size_t n = i < LENGTHS_KEPT ? nl[i] : strlen(headers[i].name);
        size_t v = i < LENGTHS_KEPT ? vl[i] : strlen(headers[i].value);
        if (header_reserved(headers[i].name, n))
            continue;
        buf_append(o, headers[i].name, n);
        buf_append(o, ": ", 2);
        buf_append(o, headers[i].value, v);
        buf_append(o, "\r\n", 2);
    }
    if (!c->keep_alive)
        buf_str(o, "Connection: close\r\n");
    else if (llhttp_get_http_minor(&c->parser) == 0)
        buf_str(o, "Connection: keep-alive\r\n");
    buf_append(o, "\r\n", 2);
    if (!no_body && !c->is_head)
        buf_append(o, body, body_len);
    return true;
}

static void access_log(struct conn *c, const char *method, const char *route, int status,
                       size_t bytes, uint64_t since_ns)
{
    /* The access log is info: a log level of warn or above silences it (kith/log.h). */
    if (!c->srv->cfg.access_log || !kith_log_enabled(KITH_LOG_INFO))
        return;
    uint64_t now = kith_clock_mono_ns();
    kith_log_access(method ? method : "-", route ? route : "-", status, bytes,
                    now > since_ns ? (now - since_ns) / 1000 : 0);
}

/* Answers a request the layer refuses before any handler saw it, then closes. */
void kith_http__respond_refusal(struct conn *c, int status, const char *code, const char *message)
{
    kith_http__timer_stop(c);
    c->keep_alive = false;
    char *json = kith_http__error_json(code, message, NULL);
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
        kith_http__conn_unref(c);
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
    kith_http__conn_unref(c);
}
