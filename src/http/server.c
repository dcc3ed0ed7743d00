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
 * Idle connections hold no buffer and wait in a least-recently-used list, so that a server at
 * its connection cap can still serve a newcomer by closing the oldest of them.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/internal.h"
#include "kith/clock.h"

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

/* Every state change goes through here, which keeps the idle list exact: it holds the
 * connections in CONN_IDLE, in the order they became idle. */
void kith_http__set_state(struct conn *c, enum conn_state state)
{
    struct kith_http_server *srv = c->srv;
    if (c->state == CONN_IDLE && state != CONN_IDLE) {
        if (c->idle_prev != NULL)
            c->idle_prev->idle_next = c->idle_next;
        else
            srv->idle_oldest = c->idle_next;
        if (c->idle_next != NULL)
            c->idle_next->idle_prev = c->idle_prev;
        else
            srv->idle_newest = c->idle_prev;
        c->idle_prev = c->idle_next = NULL;
    } else if (c->state != CONN_IDLE && state == CONN_IDLE) {
        c->idle_prev = srv->idle_newest;
        c->idle_next = NULL;
        if (srv->idle_newest != NULL)
            srv->idle_newest->idle_next = c;
        else
            srv->idle_oldest = c;
        srv->idle_newest = c;
    }
    c->state = state;
}

/* Between requests a connection keeps no input buffer and none of the others past
 * KEEP_IDLE_BYTES, so that thousands of idle keep-alive clients cost struct conn (3.5 KiB) and
 * at most 2 KiB of small buffers each, not the up to ~160 KiB their last request needed. The
 * small ones (a redirect's URL, head fields and answer) are kept: allocating and freeing them
 * again for every request of a keep-alive client cost a tenth of a redirect. A pipelined burst
 * keeps every buffer, since it is never idle with input pending. */
#define KEEP_IDLE_BYTES 512

static void buf_release(struct kith_buf *b)
{
    if (b->cap > KEEP_IDLE_BYTES)
        buf_free(b);
}

void kith_http__release_buffers(struct conn *c)
{
    free(c->in);
    c->in = NULL;
    c->in_cap = c->in_off = c->in_len = 0;
    buf_release(&c->url);
    buf_release(&c->hdr);
    buf_free(&c->body);
    buf_release(&c->path);
    buf_release(&c->out);
}

void kith_http__conn_unref(struct conn *c)
{
    if (--c->refs > 0)
        return;
    struct kith_http_server *srv = c->srv;
    kith_http__release_buffers(c);
    buf_free(&c->url);
    buf_free(&c->hdr);
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
    kith_http__conn_unref(c);
}

/* Closes at once; pending writes are cancelled. A request still with its handler is marked
 * aborted and keeps the memory alive until the handler answers. */
void kith_http__close_now(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->srv->open_count--;
    kith_http__set_state(c, CONN_CLOSED);
    if (c->req_outstanding)
        c->req.aborted = true;
    uv_close((uv_handle_t *)&c->tcp, on_handle_close);
    uv_close((uv_handle_t *)&c->timer, on_handle_close);
}

uint32_t kith_http__read_timeout_ms(const struct conn *c)
{
    return c->srv->cfg.read_timeout_ms;
}

static void on_timer(uv_timer_t *t);

void kith_http__timer_start(struct conn *c, uint32_t ms)
{
    c->deadline = uv_now(c->srv->loop) + ms;
    if (!uv_is_active((uv_handle_t *)&c->timer) || c->timer_due > c->deadline) {
        uv_timer_start(&c->timer, on_timer, ms, 0);
        c->timer_due = c->deadline;
    }
}

void kith_http__timer_stop(struct conn *c)
{
    c->deadline = 0; /* a timer still due finds no deadline and does nothing */
}

/* Reads while we can parse, or while there is room to buffer pipelined input; stops otherwise,
 * which bounds what one client can make us hold. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

void kith_http__update_reading(struct conn *c)
{
    if (c->closing)
        return;
    if (c->peer_eof) { /* nothing more can come: close once nothing is left to answer */
        if (c->state == CONN_IDLE || c->state == CONN_READING)
            kith_http__close_now(c);
        return;
    }
    bool want = true;
    if (c->state == CONN_HANDLING || c->state == CONN_WRITING)
        want = c->in_cap < IN_MAX || c->in_cap - c->in_len + c->in_off >= IN_SLACK;
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
            kith_http__close_now(c);
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
    if (status < 0 || c->peer_eof) /* a client that half-closed has no EOF left to drain */
        kith_http__close_now(c);
}

/* After a closing answer: send FIN, drain until the client's EOF or a short deadline. */
void kith_http__linger(struct conn *c)
{
    kith_http__set_state(c, CONN_LINGER);
    c->in_off = c->in_len = 0;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        kith_http__close_now(c);
        return;
    }
    uint32_t ms = kith_http__read_timeout_ms(c) < LINGER_MAX_MS ? kith_http__read_timeout_ms(c)
                                                                : LINGER_MAX_MS;
    kith_http__timer_start(c, ms);
    kith_http__update_reading(c);
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
        /* A client that half-closes after a whole request (an HTTP/1.0 client, `nc -N`) still
         * reads the answer: a write it sent may be committed, and it must hear so. The requests
         * already in are answered in order, then the connection closes. An error, EOF while
         * lingering, or EOF with nothing in hand to answer closes at once; so does EOF in the
         * middle of a request, which can never be completed. */
        if (nread != UV_EOF || (c->state != CONN_HANDLING && c->state != CONN_WRITING)) {
            kith_http__close_now(c);
            return;
        }
        c->peer_eof = true;
        if (c->reading) {
            uv_read_stop(s);
            c->reading = false;
        }
        return;
    }
    if (nread == 0 && c->state == CONN_IDLE && c->in_len == 0)
        kith_http__release_buffers(c); /* a read that found nothing must not keep on_alloc's */
    if (nread == 0 || c->state == CONN_LINGER)
        return;
    c->in_len += (size_t)nread;
    if (c->state == CONN_IDLE || c->state == CONN_READING)
        kith_http__process_input(c);
    else
        kith_http__update_reading(c);
}

static void on_timer(uv_timer_t *t)
{
    struct conn *c = t->data;
    if (c->deadline == 0)
        return;
    uint64_t now = uv_now(c->srv->loop);
    if (now < c->deadline) { /* due for an earlier deadline since moved on */
        uv_timer_start(&c->timer, on_timer, c->deadline - now, 0);
        c->timer_due = c->deadline;
        return;
    }
    c->deadline = 0;
    if (c->state == CONN_READING)
        kith_http__respond_refusal(c, 408, "request_timeout",
                                   "the request took too long to arrive");
    else if (c->state != CONN_HANDLING)
        kith_http__close_now(c);
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
    srv->open_count++;
    srv->live++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 || srv->shutting_down) {
        kith_http__close_now(c);
        return;
    }
    if (srv->open_count > srv->cfg.max_connections) {
        /* Full. Idle keep-alive clients must not lock everyone else out for the idle timeout:
         * the least recently idle one makes room (it may reconnect, as after any idle close).
         * Only when every connection has a request in progress is the newcomer refused. */
        if (srv->idle_oldest == NULL) {
            kith_http__close_now(c);
            return;
        }
        kith_http__close_now(srv->idle_oldest);
    }
    uv_tcp_nodelay(&c->tcp, 1);
    fill_peer(c);
    llhttp_init(&c->parser, HTTP_REQUEST, &srv->settings);
    c->parser.data = c;
    kith_http__set_state(c, CONN_IDLE);
    /* Until its first byte, a new connection has the read deadline, not the idle one. */
    kith_http__timer_start(c, kith_http__read_timeout_ms(c));
    kith_http__update_reading(c);
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
        if (r->fn == NULL || !kith_http__pattern_valid(r->pattern) || r->method < KITH_HTTP_GET ||
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

    kith_http__parser_settings(&srv->settings);

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
    while (srv->idle_oldest != NULL)
        kith_http__close_now(srv->idle_oldest);
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
