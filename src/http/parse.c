/*
 * parse.c: turning a connection's bytes into requests. llhttp (strict mode) does the framing;
 * these callbacks bound every part (target, header names and values, count, body, each chunk's
 * size), check what llhttp leaves to us (the target's form and decoding, header names, folded
 * lines, transfer codings), and hand each complete request to its route's handler. Parse errors
 * are answered in our words, never llhttp's. It is not for writing answers.
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

/* Follows the bytes [from, to) that llhttp consumed without a span. */
static void gap_follow(struct conn *c, const char *from, const char *to)
{
    for (const char *q = from; q < to; q++) {
        if (*q == '\n') {
            if (c->gap_last != GAP_CR && c->gap_text)
                c->bare_lf = true;
            c->gap_last = GAP_LF;
        } else if (*q == '\r') {
            c->gap_last = GAP_CR;
        } else {
            if (c->gap_last == GAP_LF && (*q == ' ' || *q == '\t'))
                c->gap_fold = true;
            c->gap_last = GAP_NONE;
            c->gap_text = true;
        }
    }
}

/*
 * Every span callback starts here. llhttp (8.1, strict) lets two things through that it reports
 * only as skipped bytes: obsolete line folding (`Name:\r\n value` arrives as the value "value";
 * `Name: a\r\n b` as the values "a" and " b") and an LF without its CR (after the request line,
 * as the empty line that ends the head or the trailers). So the skipped bytes since the previous
 * span are followed here; a fold before a value (or as its first byte), or a bare LF anywhere,
 * refuses the request. The end of a message is checked in kith_http__process_input.
 */
static int check_gap(struct conn *c, const char *at, size_t n, bool value)
{
    gap_follow(c, c->gap_from, at);
    bool fold = c->gap_fold || (n > 0 && c->gap_last == GAP_LF && (*at == ' ' || *at == '\t'));
    c->gap_fold = false;
    c->gap_last = GAP_NONE;
    c->gap_from = at + n;
    if (c->bare_lf)
        return refuse(c, 400, "bad_request", "lines must end with CRLF");
    if (fold && value)
        return refuse(c, 400, "bad_request", "obsolete line folding in a header field");
    return 0;
}

static int on_message_begin(llhttp_t *p)
{
    struct conn *c = p->data;
    kith_http__set_state(c, CONN_READING);
    c->url.len = 0;
    c->hdr.len = 0;
    c->body.len = 0;
    c->hcount = 0;
    c->head_count = 0;
    c->hbytes = 0;
    c->hstate = HS_NONE;
    c->gap_last = GAP_NONE;
    c->gap_fold = false;
    c->gap_text = false;
    c->bare_lf = false;
    c->authority_len = 0;
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
    int rc = check_gap(c, at, n, false);
    if (rc != 0)
        return rc;
    if (n > KITH_HTTP_URL_MAX - c->url.len)
        return refuse(c, 414, "uri_too_long", "the request target is too long");
    buf_append(&c->url, at, n);
    return 0;
}

/* Header and trailer fields alike: the limits count both sections together. */
static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    int rc = check_gap(c, at, n, false);
    if (rc != 0)
        return rc;
    if (c->hstate == HS_NONE) {
        if (c->hcount >= KITH_HTTP_HEADER_COUNT_MAX)
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
    /* llhttp hands an empty name (": x") over as a name of no bytes. */
    if (c->hstate == HS_NONE || c->hdr.len == c->hoff[c->hcount - 1].name)
        return refuse(c, 400, "bad_request", "empty header name");
    for (size_t i = c->hoff[c->hcount - 1].name; i < c->hdr.len; i++)
        if (!is_token_char((unsigned char)c->hdr.data[i]))
            return refuse(c, 400, "bad_request", "invalid header name");
    buf_append(&c->hdr, "", 1);
    c->hoff[c->hcount - 1].value = c->hdr.len;
    c->hstate = HS_VALUE;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    int rc = check_gap(c, at, n, true);
    if (rc != 0)
        return rc;
    if (n > KITH_HTTP_HEADERS_MAX - c->hbytes)
        return refuse(c, 431, "headers_too_large", "the header fields are too large");
    c->hbytes += n;
    buf_append(&c->hdr, at, n);
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

static bool reg_name_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("-._~!$&'()*+,;=", ch) != NULL);
}

/* host [":" port] of RFC 3986 (no userinfo): an IP literal in brackets or a registered name. */
static bool authority_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && s[0] == '[') {
        for (i = 1; i < n && s[i] != ']'; i++)
            if (hex_value((unsigned char)s[i]) < 0 && s[i] != ':' && s[i] != '.')
                return false;
        if (i == n || i == 1)
            return false;
        i++;
    } else {
        for (; i < n && s[i] != ':'; i++) {
            if (s[i] == '%' && n - i >= 3 && hex_value((unsigned char)s[i + 1]) >= 0 &&
                hex_value((unsigned char)s[i + 2]) >= 0)
                i += 2;
            else if (!reg_name_char((unsigned char)s[i]))
                return false;
        }
        if (i == 0)
            return false;
    }
    if (i < n && s[i++] != ':')
        return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/*
 * The target's form (RFC 9112 3.2): origin-form ("/path?query"), or absolute-form with an http or
 * https scheme ("http://host/path?query"), which a server must accept and whose authority is the
 * request's Host (c->authority_*). Asterisk and authority forms are refused. Percent-decodes the
 * path into c->path ("/" when absolute-form has none) and rejects what could confuse a router or
 * a file path: bad escapes, NUL, invalid UTF-8, "..". Returns an error message, or NULL.
 */
static const char *parse_target(struct conn *c)
{
    buf_nul(&c->url);
    const char *u = c->url.data;
    for (size_t i = 0; i < c->url.len; i++) {
        unsigned char ch = (unsigned char)u[i];
        if (ch <= 0x20 || ch >= 0x7F)
            return "invalid character in the request target";
        if (ch == '#')
            return "a request target has no fragment (#)";
    }
    size_t path_off = 0;
    c->authority_len = 0;
    if (u[0] != '/') {
        size_t scheme = strncasecmp(u, "http://", 7) == 0    ? 7
                        : strncasecmp(u, "https://", 8) == 0 ? 8
                                                             : 0;
        if (scheme == 0)
            return "the request target must be a path or an http(s) URI";
        path_off = scheme + strcspn(u + scheme, "/?");
        if (memchr(u + scheme, '@', path_off - scheme) != NULL)
            return "userinfo (@) in the request target";
        if (!authority_valid(u + scheme, path_off - scheme))
            return "invalid host in the request target";
        c->authority_off = scheme;
        c->authority_len = path_off - scheme;
    }
    size_t path_end = path_off + strcspn(u + path_off, "?");
    c->query_off = path_end < c->url.len ? path_end + 1 : c->url.len;

    /* Decoded path, then room for the captures (their total is at most the path). */
    c->path.len = 0;
    buf_reserve(&c->path, 2 * (path_end - path_off) + KITH_HTTP_PARAMS_MAX + 4);
    char *out = c->path.data;
    size_t n = 0;
    if (path_end == path_off)
        out[n++] = '/';
    for (size_t i = path_off; i < path_end; i++) {
        unsigned char ch = (unsigned char)u[i];
        if (ch == '%') {
            int hi = path_end - i >= 3 ? hex_value((unsigned char)u[i + 1]) : -1;
            int lo = path_end - i >= 3 ? hex_value((unsigned char)u[i + 2]) : -1;
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

/* An absolute-form target's authority is the Host handlers see (RFC 9112 3.2.2), in place of the
 * Host field's value, or as the Host field of an HTTP/1.0 request that sent none. */
static void take_authority(struct conn *c)
{
    if (c->authority_len == 0)
        return;
    size_t value = c->hdr.len;
    buf_append(&c->hdr, c->url.data + c->authority_off, c->authority_len);
    buf_append(&c->hdr, "", 1);
    for (size_t i = 0; i < c->hcount; i++) {
        if (strcasecmp(c->hdr.data + c->hoff[i].name, "host") == 0) {
            c->hoff[i].value = value;
            return;
        }
    }
    c->hoff[c->hcount].name = c->hdr.len; /* the slot past the limit is kept for this */
    c->hoff[c->hcount].value = value;
    buf_append(&c->hdr, "Host", 5);
    c->hcount++;
}

/*
 * Transfer-Encoding (RFC 9112 6.1). llhttp frames the body as chunked when chunked is the final
 * coding, and refuses the message after this callback when it is not; we serve only a lone
 * chunked: another coding before it is a coding we do not implement.
 */
static int check_transfer_encoding(struct conn *c, const llhttp_t *p)
{
    if (!(p->flags & F_TRANSFER_ENCODING))
        return 0;
    if ((p->flags & F_CONTENT_LENGTH))
        return refuse(c, 400, "bad_request", "Content-Length with Transfer-Encoding");
    if (p->http_minor == 0)
        return refuse(c, 400, "bad_request", "Transfer-Encoding in an HTTP/1.0 request");
    if (!(p->flags & F_CHUNKED))
        return refuse(c, 400, "bad_request", "chunked must be the final transfer coding");
    size_t codings = 0;
    for (size_t i = 0; i < c->hcount; i++) {
        if (strcasecmp(c->hdr.data + c->hoff[i].name, "transfer-encoding") != 0)
            continue;
        /* A list: elements between commas, empty ones (bare OWS) do not count. */
        for (const char *v = c->hdr.data + c->hoff[i].value; *v != '\0';) {
            size_t len = strcspn(v, ",");
            if (strspn(v, " \t") < len)
                codings++;
            v += len + (v[len] == ',');
        }
    }
    if (codings != 1)
        return refuse(c, 501, "not_implemented", "only the chunked transfer coding is supported");
    return 0;
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
    size_t hosts = 0;
    find_header(c, "host", &hosts);
    if (hosts > 1 || (hosts == 0 && p->http_minor == 1))
        return refuse(c, 400, "bad_request", "exactly one Host header is required");
    if (p->method == HTTP_CONNECT)
        return refuse(c, 400, "bad_request", "CONNECT is not served");
    const char *bad = parse_target(c);
    if (bad != NULL)
        return refuse(c, 400, "bad_request", bad);
    int rc = check_transfer_encoding(c, p);
    if (rc != 0)
        return rc;
    c->body_max = kith_http__body_max(c->srv, method_of(p->method), c->path.data,
                                      c->path.data + c->path.len + 1);
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->body_max)
        return refuse(c, 413, "payload_too_large", too_large(c));
    take_authority(c);
    /* Fields after this (the trailer section of a chunked body) are read, never shown. */
    c->head_count = c->hcount;
    c->keep_alive = llhttp_should_keep_alive(p) != 0;
    const char *expect = find_header(c, "expect", NULL);
    if (expect != NULL && p->http_minor == 1 && strcasecmp(expect, "100-continue") == 0 &&
        ((p->flags & F_CHUNKED) || p->content_length > 0))
        write_continue(c);
    return 0;
}

/* A chunk's size line: refused before its data when it would take the body over the limit (a
 * size of 2^64-1 would otherwise wait for the read deadline). */
static int on_chunk_header(llhttp_t *p)
{
    struct conn *c = p->data;
    if (p->content_length > c->body_max - c->body.len)
        return refuse(c, 413, "payload_too_large", too_large(c));
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    int rc = check_gap(c, at, n, false);
    if (rc != 0)
        return rc;
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
    kith_http__timer_stop(c);
    kith_http__set_state(c, CONN_HANDLING);

    buf_nul(&c->body);
    for (size_t i = 0; i < c->head_count; i++) {
        c->headers[i].name = c->hdr.data + c->hoff[i].name;
        c->headers[i].value = c->hdr.data + c->hoff[i].value;
    }
    req->method_name = c->method_name;
    req->path = c->path.data;
    req->query = c->url.data + c->query_off;
    req->body = c->body.data;
    req->body_len = c->body.len;
    req->headers = c->headers;
    req->header_count = c->head_count;
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

/* Our words for what llhttp refused (its reasons are internal, and change between versions).
 * `at` is where it stopped, inside [data, end). */
static const char *parse_error_message(const llhttp_t *p, llhttp_errno_t e, const char *data,
                                       const char *at, const char *end)
{
    if (at != NULL && at > data && at < end && *at == '\n' && at[-1] != '\r')
        return "lines must end with CRLF";
    switch (e) {
    case HPE_PAUSED_H2_UPGRADE:
        return "kith speaks HTTP/1.1; HTTP/2 is not supported here";
    case HPE_INVALID_METHOD:
        return "unknown request method";
    case HPE_INVALID_URL:
        return "invalid request target";
    case HPE_INVALID_VERSION:
        return "invalid HTTP version";
    case HPE_INVALID_CONSTANT:
        return "malformed request line";
    case HPE_INVALID_HEADER_TOKEN:
        return "invalid character in a header field";
    case HPE_UNEXPECTED_SPACE:
        return "unexpected whitespace in the request line or a header name";
    case HPE_UNEXPECTED_CONTENT_LENGTH:
        if (p->flags & F_TRANSFER_ENCODING)
            return "Content-Length with Transfer-Encoding";
        return "invalid or repeated Content-Length";
    case HPE_INVALID_CONTENT_LENGTH:
        return "invalid or repeated Content-Length";
    case HPE_INVALID_TRANSFER_ENCODING:
        return "invalid Transfer-Encoding";
    case HPE_INVALID_CHUNK_SIZE:
        return "invalid chunk size";
    case HPE_CR_EXPECTED:
    case HPE_LF_EXPECTED:
        return "lines must end with CRLF";
    default:
        return "malformed request";
    }
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
        c->gap_from = data;
        c->err_status = 0;
        llhttp_errno_t e = llhttp_execute(&c->parser, data, len);
        if (e == HPE_OK) {
            gap_follow(c, c->gap_from, data + len); /* a fold may straddle reads */
            c->in_off = c->in_len;
        } else if (e == HPE_PAUSED) {
            const char *stop = llhttp_get_error_pos(&c->parser);
            gap_follow(c, c->gap_from, stop); /* the end of the head, or of the trailers */
            c->in_off += (size_t)(stop - data);
            llhttp_resume(&c->parser);
            if (c->bare_lf) {
                c->in_off = c->in_len;
                kith_http__respond_refusal(c, 400, "bad_request", "lines must end with CRLF");
                break;
            }
            dispatch(c);
        } else {
            c->in_off = c->in_len;
            if (c->err_status != 0)
                kith_http__respond_refusal(c, c->err_status, c->err_code, c->err_message);
            else
                kith_http__respond_refusal(c, 400, "bad_request",
                                           parse_error_message(&c->parser, e, data,
                                                               llhttp_get_error_pos(&c->parser),
                                                               data + len));
            break;
        }
    }
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    if (c->state == CONN_IDLE && c->in_len == 0)
        kith_http__release_buffers(c);
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
    s->on_chunk_header = on_chunk_header;
    s->on_body = on_body;
    s->on_message_complete = on_message_complete;
}
