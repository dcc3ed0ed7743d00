/*
 * fuzz_http.c: the HTTP/1.1 server layer (src/http/server.c) as a client sees it. Once per
 * process, a kith_http_server listens on 127.0.0.1 (ephemeral port) in a libuv loop on this
 * thread, with a few routes: a synchronous echo, captures, and one that answers later from a
 * timer (so a client that leaves first exercises the `aborted` path). Each input is one TCP
 * connection: its bytes are written (in one piece, or in chunks of 7, 64 or 1000 bytes by input
 * length modulo 4, so requests straddle reads), the loop runs until the server has nothing more
 * to say, then the client half-closes and waits for the server to close (bounded by a 2 s
 * deadline and the server's 200 ms timeouts). The only checks are the sanitizers' and that the
 * server never hangs: answers and request bodies are the server's own business.
 *
 * It is not a client conformance test (tests/unit/http does that) and it runs no engine code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "kith/clock.h"
#include "kith/http.h"

#define DEADLINE_NS (2000ull * 1000 * 1000)
#define QUIET_ROUNDS 3

static uv_loop_t loop;
static struct kith_http_server *server;
static int port;
static size_t deferred_pending; /* answers scheduled on timers, not yet given */

/* Per connection, on the client side. */
static uv_poll_t poll_handle;
static int client_fd = -1;
static bool peer_closed;  /* recv gave EOF or an error */
static size_t bytes_seen; /* answer bytes read so far */

static void echo(struct kith_http_request *req, void *ctx)
{
    const char *type = kith_http_header(req, "content-type");
    struct kith_http_header h[] = {{"Content-Type", type ? type : "application/octet-stream"},
                                   {"X-Route", req->route_name}};
    kith_http_respond(req, 200, h, 2, req->body, req->body_len);
}

static void params(struct kith_http_request *req, void *ctx)
{
    char out[256], value[64];
    int n = snprintf(out, sizeof(out), "%s|%s|%zu", req->method_name, req->path, req->param_count);
    for (size_t i = 0; i < req->param_count && n > 0 && (size_t)n < sizeof(out); i++)
        n += snprintf(out + n, sizeof(out) - (size_t)n, "|%s", req->params[i]);
    /* The query helper parses untrusted bytes too. */
    if (kith_http_query_get(req->query, "q", value, sizeof(value)) == 1 && n > 0 &&
        (size_t)n < sizeof(out))
        n += snprintf(out + n, sizeof(out) - (size_t)n, "|q=%s", value);
    kith_http_respond(req, 200, NULL, 0, out, strlen(out));
}

struct later {
    uv_timer_t timer;
    struct kith_http_request *req;
};

static void on_later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_later(uv_timer_t *t)
{
    struct later *l = t->data;
    /* Safe on an aborted request (http.h): the client may have left already. */
    kith_http_respond(l->req, l->req->aborted ? 499 : 202, NULL, 0, "later", 5);
    deferred_pending--;
    uv_close((uv_handle_t *)&l->timer, on_later_closed);
}

static void later(struct kith_http_request *req, void *ctx)
{
    struct later *l = calloc(1, sizeof(*l));
    if (l == NULL)
        abort();
    l->req = req;
    uv_timer_init(&loop, &l->timer);
    l->timer.data = l;
    deferred_pending++;
    uv_timer_start(&l->timer, on_later, 1, 0);
}

static const struct kith_http_route routes[] = {
    {KITH_HTTP_POST, "/echo", echo, "echo", NULL},
    {KITH_HTTP_PUT, "/echo", echo, "echo.put", NULL},
    {KITH_HTTP_GET, "/v1/items/{id}", params, "items.get", NULL},
    {KITH_HTTP_DELETE, "/v1/items/{id}", params, "items.delete", NULL},
    {KITH_HTTP_GET, "/v1/a/{x}/b/{y}/c/{z}/d/{w}", params, "four", NULL},
    {KITH_HTTP_PATCH, "/v1/items/{id}/later", later, "items.later", NULL},
    {KITH_HTTP_POST, "/later", later, "later", NULL},
    {KITH_HTTP_GET, "/", params, "root", NULL},
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct kith_err err;
    /* The server writes to sockets the client may have closed. */
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    struct kith_http_config cfg = {
        .host = "127.0.0.1",
        .port = 0,
        .routes = routes,
        .route_count = sizeof(routes) / sizeof(routes[0]),
        .read_timeout_ms = 200,
        .idle_timeout_ms = 200,
        .max_connections = 64,
        .access_log = false,
    };
    if (kith_http_server_create(&loop, &cfg, &server, &err) != KITH_OK) {
        fprintf(stderr, "fuzz_http: server: %s\n", err.message);
        abort();
    }
    port = kith_http_server_port(server);
    return 0;
}

static void drain(void)
{
    char buf[65536];
    for (;;) {
        ssize_t n = recv(client_fd, buf, sizeof(buf), 0);
        if (n > 0) {
            bytes_seen += (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            peer_closed = true;
        if (n < 0 && errno == EINTR)
            continue;
        return;
    }
}

static void on_client_readable(uv_poll_t *p, int status, int events)
{
    drain();
    if (peer_closed || status < 0)
        uv_poll_stop(p);
}

static bool past(uint64_t deadline)
{
    return kith_clock_mono_ns() > deadline;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        /* libFuzzer calls LLVMFuzzerInitialize; the replay does too, but be safe for others. */
        if (server == NULL)
            LLVMFuzzerInitialize(NULL, NULL);
        ready = true;
    }
    uint64_t deadline = kith_clock_mono_ns() + DEADLINE_NS;

    client_fd = socket(AF_INET, SOCK_STREAM, 0);
    FUZZ_CHECK(client_fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Loopback: the kernel completes the handshake from the backlog, before the accept. */
    FUZZ_CHECK(connect(client_fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s",
               strerror(errno));
    fcntl(client_fd, F_SETFL, fcntl(client_fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt(client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    peer_closed = false;
    bytes_seen = 0;
    uv_poll_init(&loop, &poll_handle, client_fd);
    uv_poll_start(&poll_handle, UV_READABLE | UV_DISCONNECT, on_client_readable);

    /* Write, letting the server read between chunks so requests straddle its reads. */
    static const size_t chunks[] = {0, 7, 64, 1000};
    size_t chunk = chunks[size % 4] ? chunks[size % 4] : (size ? size : 1);
    size_t off = 0;
    while (off < size && !peer_closed && !past(deadline)) {
        size_t n = size - off < chunk ? size - off : chunk;
        ssize_t w = send(client_fd, data + off, n, MSG_NOSIGNAL);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            break; /* the server closed on us (an early refusal): fine */
        uv_run(&loop, UV_RUN_NOWAIT);
    }

    /* Until the server is quiet: no new answer bytes and no answer pending on a timer. */
    size_t quiet = 0, last = (size_t)-1;
    while (quiet < QUIET_ROUNDS && !peer_closed && !past(deadline)) {
        uv_run(&loop, deferred_pending ? UV_RUN_ONCE : UV_RUN_NOWAIT);
        quiet = bytes_seen == last && deferred_pending == 0 ? quiet + 1 : 0;
        last = bytes_seen;
    }

    /* Half-close, then wait for the server to close its side. */
    shutdown(client_fd, SHUT_WR);
    while (!peer_closed && !past(deadline))
        uv_run(&loop, UV_RUN_ONCE);
    FUZZ_CHECK(peer_closed,
               "the server kept the connection open past the deadline "
               "(%zu of %zu bytes written, %zu answer bytes)",
               off, size, bytes_seen);
    /* Let the server finish closing (linger ends on our FIN) and any late answer fire. */
    while (deferred_pending > 0 && !past(deadline))
        uv_run(&loop, UV_RUN_ONCE);
    FUZZ_CHECK(deferred_pending == 0, "a deferred answer never ran");
    for (int i = 0; i < 4; i++)
        uv_run(&loop, UV_RUN_NOWAIT);

    if (getenv("KITH_FUZZ_HTTP_VERBOSE") != NULL)
        fprintf(stderr, "fuzz_http: %zu bytes in, %zu bytes of answers\n", size, bytes_seen);
    uv_close((uv_handle_t *)&poll_handle, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    /* A reset rather than TIME_WAIT: thousands of connections a second would exhaust ports. */
    struct linger lg = {1, 0};
    setsockopt(client_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(client_fd);
    client_fd = -1;
    return 0;
}
