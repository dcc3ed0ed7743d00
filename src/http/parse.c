/*
 * parse.c: turning a connection's bytes into requests. llhttp (strict mode) does the framing;
 * these callbacks bound every part (target, header names and values, count, body), check what
 * llhttp leaves to us (the target's form and decoding, header names, Transfer-Encoding), and
 * hand each complete request to its route's handler. It is not for writing answers.
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
    kith_http__timer_start(c, kith_http__read_timeout_ms(c));
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

static const char *too_large(const struct conn *c)
{
    return c->body_max > KITH_HTTP_BODY_MAX ? "the body is larger than this route takes"
                                            : "the body is larger than 64 KiB";
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
    c->body_max = kith_http__body_max(c->srv, method_of(p->method), c->path.data,
                                      c->path.data + c->path.len + 1);
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->body_max)
        return refuse(c, 413, "payload_too_large", too_large(c));
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
    if (n > c->body_max - c->body.len)
        return refuse(c, 413, "payload_too_large", too_large(c));
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
    req->route_data = NULL;
    req->client_ip[0] = '\0';
    req->client_secure = false;
    req->started_ns = kith_clock_mono_ns();
    req->user = NULL;
    req->aborted = false;

    c->req_outstanding = true;
    c->refs++;
    char allow[64];
    const struct kith_http_route *r =
        kith_http__route_find(srv, req, c->path.data + c->path.len + 1, allow, sizeof(allow));
    if (r != NULL) {
        r->fn(req, srv->cfg.ctx);
        return;
    }
    const struct kith_http_header h[] = {{"Content-Type", "application/json"}, {"Allow", allow}};
    char *json =
        allow[0] ? kith_http__error_json("method_not_allowed", "method not allowed here", NULL)
                 : kith_http__error_json(kith_status_code(KITH_E_NOT_FOUND), "no such route", NULL);
    kith_http_respond(req, allow[0] ? 405 : 404, h, allow[0] ? 2 : 1, json, strlen(json));
    free(json);
}

/* Parses buffered input while the connection may parse; dispatches each complete request. */
void kith_http__process_input(struct conn *c)
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
                kith_http__respond_refusal(c, c->err_status, c->err_code, c->err_message);
            else
                kith_http__respond_refusal(c, 400, "bad_request",
                                           llhttp_get_error_reason(&c->parser));
            break;
        }
    }
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    c->in_process = false;
    kith_http__update_reading(c);
    kith_http__conn_unref(c);
}

/* The llhttp callbacks above, for the server's parser settings. */
void kith_http__parser_settings(llhttp_settings_t *s)
{
    llhttp_settings_init(s);
    s->on_message_begin = on_message_begin;
    s->on_url = on_url;
    s->on_header_field = on_header_field;
    s->on_header_field_complete = on_header_field_complete;
    s->on_header_value = on_header_value;
    s->on_header_value_complete = on_header_value_complete;
    s->on_headers_complete = on_headers_complete;
    s->on_body = on_body;
    s->on_message_complete = on_message_complete;
}
