/*
 * http_harness.h: what the HTTP unit tests share. It runs a kith_http_server on 127.0.0.1 with an
 * ephemeral port in a libuv loop on its own thread, and gives the test thread a blocking raw
 * socket client that reads framed responses (so pipelined answers can be told apart). It is not
 * an HTTP client library: it understands just enough (Content-Length framing) to check ours.
 */
#ifndef KITH_TEST_HTTP_HARNESS_H
#define KITH_TEST_HTTP_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kith/clock.h"
#include "kith/http.h"

struct harness {
    pthread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    struct kith_http_server *srv;
    struct kith_http_config cfg;
    int port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool ready;
    bool failed;
    volatile bool done_called;
};

static inline void harness_on_done(void *ctx)
{
    struct harness *h = ctx;
    h->done_called = true;
    uv_close((uv_handle_t *)&h->stop, NULL);
}

static inline void harness_on_stop(uv_async_t *a)
{
    struct harness *h = a->data;
    kith_http_server_shutdown(h->srv, harness_on_done, h);
}

static inline void *harness_main(void *arg)
{
    struct harness *h = arg;
    struct kith_err err;
    uv_loop_init(&h->loop);
    uv_async_init(&h->loop, &h->stop, harness_on_stop);
    h->stop.data = h;
    enum kith_status st = kith_http_server_create(&h->loop, &h->cfg, &h->srv, &err);
    pthread_mutex_lock(&h->mu);
    h->ready = true;
    h->failed = st != KITH_OK;
    if (st == KITH_OK)
        h->port = kith_http_server_port(h->srv);
    else
        fprintf(stderr, "server create failed: %s\n", err.message);
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (st != KITH_OK) {
        uv_close((uv_handle_t *)&h->stop, NULL);
        uv_run(&h->loop, UV_RUN_DEFAULT);
        uv_loop_close(&h->loop);
        return NULL;
    }
    uv_run(&h->loop, UV_RUN_DEFAULT);
    kith_http_server_destroy(h->srv);
    if (uv_loop_close(&h->loop) != 0)
        fprintf(stderr, "harness: loop still has handles\n");
    return NULL;
}

/* Starts the server thread; returns false when the server could not be created. */
static inline bool harness_start(struct harness *h)
{
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->ready = false;
    h->done_called = false;
    pthread_create(&h->thread, NULL, harness_main, h);
    pthread_mutex_lock(&h->mu);
    while (!h->ready)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    return !h->failed;
}

/* Graceful shutdown from the loop thread, then join. */
static inline void harness_stop(struct harness *h)
{
    if (!h->failed)
        uv_async_send(&h->stop);
    pthread_join(h->thread, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
}

static inline uint64_t now_ms(void)
{
    return kith_clock_mono_ns() / 1000000u;
}

static inline void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- client ---- */

#define CLIENT_BUF (256 * 1024)

struct client {
    int fd;
    size_t len;
    char buf[CLIENT_BUF];
};

struct resp {
    int status;
    char head[16384]; /* status line and headers, NUL-terminated */
    char body[CLIENT_BUF];
    size_t body_len;
};

static inline void client_timeout(struct client *cl, unsigned ms)
{
    struct timeval tv = {ms / 1000, (long)(ms % 1000) * 1000L};
    setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static inline struct client *client_open(int port)
{
    struct client *cl = calloc(1, sizeof(*cl));
    if (cl == NULL)
        abort();
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cl->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (cl->fd < 0 || connect(cl->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("connect");
        abort();
    }
    client_timeout(cl, 3000);
    return cl;
}

static inline void client_close(struct client *cl)
{
    if (cl == NULL)
        return;
    close(cl->fd);
    free(cl);
}

/* Sends everything; false when the peer is gone. */
static inline bool client_send(struct client *cl, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(cl->fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static inline bool client_sends(struct client *cl, const char *s)
{
    return client_send(cl, s, strlen(s));
}

/* One recv into the buffer: >0 bytes, 0 on EOF, -1 on timeout or error. */
static inline ssize_t client_fill(struct client *cl)
{
    if (cl->len == CLIENT_BUF)
        return -1;
    ssize_t n = recv(cl->fd, cl->buf + cl->len, CLIENT_BUF - cl->len, 0);
    if (n > 0)
        cl->len += (size_t)n;
    return n < 0 ? -1 : n;
}

static inline char *find_crlfcrlf(char *buf, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
            return buf + i;
    return NULL;
}

/* A header of a parsed response (case-insensitive name), copied into out; false when absent. */
static inline bool resp_header(const struct resp *r, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    const char *line = strstr(r->head, "\r\n");
    while (line != NULL && line[2] != '\0') {
        line += 2;
        const char *end = strstr(line, "\r\n");
        if (end == NULL)
            end = line + strlen(line);
        if ((size_t)(end - line) > nlen && line[nlen] == ':' &&
            strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            size_t vlen = (size_t)(end - v);
            if (vlen >= size)
                vlen = size - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
        line = end;
    }
    return false;
}

/*
 * Reads one response. `head` says the request was HEAD (no body follows whatever the
 * Content-Length says). Returns 0, or -1 on EOF or timeout before a whole response.
 */
static inline int client_read(struct client *cl, bool head, struct resp *r)
{
    memset(r->head, 0, sizeof(r->head));
    r->status = 0;
    r->body_len = 0;
    char *end;
    for (;;) {
        end = find_crlfcrlf(cl->buf, cl->len);
        if (end != NULL)
            break;
        if (client_fill(cl) <= 0)
            return -1;
    }
    size_t hlen = (size_t)(end - cl->buf) + 2;
    if (hlen >= sizeof(r->head))
        return -1;
    memcpy(r->head, cl->buf, hlen);
    r->head[hlen] = '\0';
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    char cl_text[32];
    size_t body_len = 0;
    if (!head && resp_header(r, "Content-Length", cl_text, sizeof(cl_text)))
        body_len = (size_t)strtoul(cl_text, NULL, 10);
    size_t total = hlen + 2 + body_len;
    if (total > CLIENT_BUF)
        return -1;
    while (cl->len < total)
        if (client_fill(cl) <= 0)
            return -1;
    memcpy(r->body, cl->buf + hlen + 2, body_len);
    r->body[body_len] = '\0';
    r->body_len = body_len;
    memmove(cl->buf, cl->buf + total, cl->len - total);
    cl->len -= total;
    return 0;
}

/* Waits for the server to close; returns the ms it took, or -1 when it stayed open. */
static inline long client_wait_close(struct client *cl, unsigned max_ms)
{
    uint64_t start = now_ms();
    client_timeout(cl, max_ms);
    for (;;) {
        cl->len = 0;
        ssize_t n = recv(cl->fd, cl->buf, CLIENT_BUF, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return (long)(now_ms() - start);
        if (n < 0)
            return -1;
    }
}

/* One request on a fresh connection, one response; the connection is closed after. */
static inline int roundtrip(int port, const char *request, bool head, struct resp *r)
{
    struct client *cl = client_open(port);
    int rc = client_sends(cl, request) ? client_read(cl, head, r) : -1;
    client_close(cl);
    return rc;
}

#endif
