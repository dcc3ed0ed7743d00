/*
 * test_server.c: the HTTP/1.1 transport over real sockets: framing, keep-alive, pipelining order,
 * bodies (plain and chunked), every limit (413, 414, 431), request smuggling and malformed input
 * (400, 501), target forms, HEAD, timeouts (slow request, idle keep-alive), a client that leaves
 * before an async answer, one that half-closes and still reads its answers, a graceful shutdown
 * that still answers a request in flight, and the connection cap (the oldest idle connection makes
 * room). Not for routing and the JSON error table, which test_router.c covers.
 */
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>

#include "http_harness.h"
#include "test.h"

static atomic_int aborted_answers;
static atomic_int async_answers;

static void h_echo(struct kith_http_request *req, void *ctx)
{
    char text[512];
    int n = snprintf(text, sizeof(text), "method=%s path=%s query=%s body=%zu host=%s",
                     req->method_name, req->path, req->query, req->body_len,
                     kith_http_header(req, "host") ? kith_http_header(req, "HOST") : "-");
    const struct kith_http_header h[] = {{"Content-Type", "text/plain"}, {"X-Route", "echo"}};
    kith_http_respond(req, 200, h, 2, text, (size_t)n);
}

static void h_post_echo(struct kith_http_request *req, void *ctx)
{
    kith_http_respond(req, 200, NULL, 0, req->body, req->body_len);
}

static void h_peer(struct kith_http_request *req, void *ctx)
{
    kith_http_respond(req, 200, NULL, 0, req->peer_ip, strlen(req->peer_ip));
}

/* Lists the headers it was given, one "name: value" line each. */
static void h_headers(struct kith_http_request *req, void *ctx)
{
    char text[2048];
    size_t n = 0;
    for (size_t i = 0; i < req->header_count && n < sizeof(text); i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s: %s\n", req->headers[i].name,
                              req->headers[i].value);
    kith_http_respond(req, 200, NULL, 0, text, n < sizeof(text) ? n : sizeof(text) - 1);
}

static void h_bad_header(struct kith_http_request *req, void *ctx)
{
    const struct kith_http_header h[] = {{"Location", "/x\r\nSet-Cookie: evil=1"}};
    kith_http_respond(req, 302, h, 1, "", 0);
}

/* Answers with X-Value: `len` bytes 'a' with the byte `byte` (decimal) at `pos`. */
static void h_header_byte(struct kith_http_request *req, void *ctx)
{
    char q[16], value[64];
    int len = 0, pos = 0, byte = 'a';
    if (kith_http_query_get(req->query, "len", q, sizeof(q)) == 1)
        len = (int)strtol(q, NULL, 10);
    if (kith_http_query_get(req->query, "pos", q, sizeof(q)) == 1)
        pos = (int)strtol(q, NULL, 10);
    if (kith_http_query_get(req->query, "byte", q, sizeof(q)) == 1)
        byte = (int)strtol(q, NULL, 10);
    if (len < 1 || len >= (int)sizeof(value) || pos < 0 || pos >= len || byte < 1 || byte > 255) {
        kith_http_respond(req, 400, NULL, 0, "", 0);
        return;
    }
    memset(value, 'a', (size_t)len);
    value[pos] = (char)byte;
    value[len] = '\0';
    const struct kith_http_header h[] = {{"X-Value", value}};
    kith_http_respond(req, 200, h, 1, "", 0);
}

struct later {
    uv_timer_t timer;
    struct kith_http_request *req;
};

static void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void later_fire(uv_timer_t *t)
{
    struct later *l = t->data;
    if (l->req->aborted)
        atomic_fetch_add(&aborted_answers, 1);
    atomic_fetch_add(&async_answers, 1);
    /* Answer even when aborted: that is what releases the request. */
    kith_http_respond(l->req, 200, NULL, 0, "late", 4);
    uv_close((uv_handle_t *)&l->timer, later_closed);
}

/* Answers "late" after 150 ms from a timer on the loop, like a handler that did work elsewhere. */
static void h_async(struct kith_http_request *req, void *ctx)
{
    struct later *l = calloc(1, sizeof(*l));
    if (l == NULL)
        abort();
    l->req = req;
    uv_timer_init((uv_loop_t *)ctx, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, later_fire, 150, 0);
}

static const struct kith_http_route routes[] = {
    {KITH_HTTP_GET, "/echo", h_echo, "echo", NULL},
    {KITH_HTTP_POST, "/echo", h_post_echo, "echo.post", NULL},
    {KITH_HTTP_GET, "/async", h_async, "async", NULL},
    {KITH_HTTP_GET, "/peer", h_peer, "peer", NULL},
    {KITH_HTTP_GET, "/bad-header", h_bad_header, "bad_header", NULL},
    {KITH_HTTP_GET, "/header-byte", h_header_byte, "header_byte", NULL},
    {KITH_HTTP_GET, "/headers", h_headers, "headers", NULL},
    {KITH_HTTP_POST, "/headers", h_headers, "headers.post", NULL},
};

static struct harness H;

static void config(struct harness *h)
{
    memset(&h->cfg, 0, sizeof(h->cfg));
    h->cfg.host = "127.0.0.1";
    h->cfg.port = 0;
    h->cfg.routes = routes;
    h->cfg.route_count = KITH_ARRAY_LEN(routes);
    h->cfg.ctx = &h->loop;
    h->cfg.read_timeout_ms = 300;
    h->cfg.idle_timeout_ms = 500;
}

static bool has_header(const struct resp *r, const char *name, const char *value)
{
    char v[256];
    return resp_header(r, name, v, sizeof(v)) && (value == NULL || strcmp(v, value) == 0);
}

/* Checks a layer error: status, JSON code (and message unless NULL), Connection: close, and that
 * the server closed. */
static void expect_refusal_msg(struct client *cl, int status, const char *code, const char *message)
{
    static struct resp r;
    int rc = client_read(cl, false, &r);
    CHECK_INT(rc, 0);
    CHECK_INT(r.status, status);
    CHECK(has_header(&r, "Connection", "close"));
    CHECK(has_header(&r, "Content-Type", "application/json"));
    json_t *j = json_loads(r.body, 0, NULL);
    CHECK(j != NULL);
    json_t *e = json_object_get(j, "error");
    CHECK_STR(json_string_value(json_object_get(e, "code")), code);
    CHECK(json_is_string(json_object_get(e, "message")));
    if (message != NULL)
        CHECK_STR(json_string_value(json_object_get(e, "message")), message);
    CHECK(json_is_null(json_object_get(e, "param")));
    json_decref(j);
    CHECK(client_wait_close(cl, 2000) >= 0);
}

static void expect_refusal(struct client *cl, int status, const char *code)
{
    expect_refusal_msg(cl, status, code, NULL);
}

static void refused_msg(const char *request, int status, const char *code, const char *message)
{
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, request));
    expect_refusal_msg(cl, status, code, message);
    client_close(cl);
}

static void refused(const char *request, int status, const char *code)
{
    refused_msg(request, status, code, NULL);
}

static struct resp R;

static void test_get(void)
{
    CHECK_INT(roundtrip(H.port, "GET /echo?x=1&y=%20 HTTP/1.1\r\nHost: a\r\n\r\n", false, &R), 0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "method=GET path=/echo query=x=1&y=%20 body=0 host=a");
    CHECK(strncmp(R.head, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(has_header(&R, "Date", NULL));
    CHECK(has_header(&R, "X-Route", "echo"));
    CHECK(has_header(&R, "Content-Type", "text/plain"));
    char len[32];
    snprintf(len, sizeof(len), "%zu", strlen(R.body));
    CHECK(has_header(&R, "Content-Length", len));
    CHECK(!has_header(&R, "Connection", NULL));
}

static void test_peer_ip(void)
{
    CHECK_INT(roundtrip(H.port, "GET /peer HTTP/1.1\r\nHost: a\r\n\r\n", false, &R), 0);
    CHECK_STR(R.body, "127.0.0.1");
}

static void test_keep_alive(void)
{
    struct client *cl = client_open(H.port);
    for (int i = 0; i < 3; i++) {
        CHECK(client_sends(cl, "GET /echo?i HTTP/1.1\r\nHost: a\r\n\r\n"));
        CHECK_INT(client_read(cl, false, &R), 0);
        CHECK_INT(R.status, 200);
        CHECK_STR(R.body, "method=GET path=/echo query=i body=0 host=a");
    }
    client_close(cl);
}

static void test_pipelined_in_order(void)
{
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "GET /async HTTP/1.1\r\nHost: a\r\n\r\n"
                           "GET /echo?n=2 HTTP/1.1\r\nHost: a\r\n\r\n"
                           "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nthree"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_STR(R.body, "late");
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_STR(R.body, "method=GET path=/echo query=n=2 body=0 host=a");
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_STR(R.body, "three");
    client_close(cl);
}

/* Many small pipelined requests in one write: answered in order, and no deep recursion. */
static void test_pipelined_many(void)
{
    enum { N = 500 };
    static char big[N * 40];
    size_t len = 0;
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(big + len, sizeof(big) - len,
                                "GET /echo?%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
    struct client *cl = client_open(H.port);
    CHECK(client_send(cl, big, len));
    int ok = 0;
    for (int i = 0; i < N; i++) {
        char want[96];
        snprintf(want, sizeof(want), "method=GET path=/echo query=%d body=0 host=a", i);
        if (client_read(cl, false, &R) == 0 && strcmp(R.body, want) == 0)
            ok++;
    }
    CHECK_INT(ok, N);
    client_close(cl);
}

struct sender {
    struct client *cl;
    const char *data;
    size_t len;
    bool ok;
};

static void *send_thread(void *arg)
{
    struct sender *s = arg;
    s->ok = client_send(s->cl, s->data, s->len);
    return NULL;
}

/*
 * A slow request followed by far more pipelined bytes than the server buffers (IN_MAX): it stops
 * reading while the slow one is handled, resumes afterwards, and answers every request in order.
 * The bytes are sent from another thread, since the client also has to read answers meanwhile.
 */
static void test_pipelined_backpressure(void)
{
    enum { N = 8000 };
    static char big[N * 48];
    size_t len = (size_t)snprintf(big, sizeof(big), "GET /async HTTP/1.1\r\nHost: a\r\n\r\n");
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(big + len, sizeof(big) - len,
                                "GET /echo?%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
    struct client *cl = client_open(H.port);
    struct sender s = {cl, big, len, false};
    pthread_t t;
    pthread_create(&t, NULL, send_thread, &s);
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_STR(R.body, "late");
    int ok = 0;
    for (int i = 0; i < N; i++) {
        char want[96];
        snprintf(want, sizeof(want), "method=GET path=/echo query=%d body=0 host=a", i);
        if (client_read(cl, false, &R) == 0 && strcmp(R.body, want) == 0)
            ok++;
    }
    CHECK_INT(ok, N);
    pthread_join(t, NULL);
    CHECK(s.ok);
    client_close(cl);
}

static void test_post_body(void)
{
    CHECK_INT(roundtrip(H.port,
                        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
                        false, &R),
              0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "hello world");
}

static void test_chunked_body(void)
{
    CHECK_INT(roundtrip(H.port,
                        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                        false, &R),
              0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "hello world");
}

/* A body that arrives in many small reads, and a body of exactly the limit. */
static void test_body_split_and_at_limit(void)
{
    static char body[KITH_HTTP_BODY_MAX];
    memset(body, 'b', sizeof(body));
    struct client *cl = client_open(H.port);
    char head[128];
    snprintf(head, sizeof(head), "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n",
             sizeof(body));
    CHECK(client_sends(cl, head));
    CHECK(client_send(cl, body, 1000));
    sleep_ms(20);
    CHECK(client_send(cl, body + 1000, sizeof(body) - 1000));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_INT(R.status, 200);
    CHECK_INT(R.body_len, sizeof(body));
    client_close(cl);
}

static void test_body_too_large(void)
{
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 65537\r\n\r\nxxxx", 413,
            "payload_too_large");

    /* Chunked: no length up front, so the limit applies while streaming. */
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"));
    static char chunk[8192 + 16];
    int n = snprintf(chunk, sizeof(chunk), "2000\r\n");
    memset(chunk + n, 'c', 8192);
    memcpy(chunk + n + 8192, "\r\n", 2);
    for (int i = 0; i < 9; i++)
        client_send(cl, chunk, (size_t)n + 8194);
    expect_refusal(cl, 413, "payload_too_large");
    client_close(cl);
}

static void test_url_too_long(void)
{
    static char req[KITH_HTTP_URL_MAX + 128];
    int n = snprintf(req, sizeof(req), "GET /");
    memset(req + n, 'a', KITH_HTTP_URL_MAX);
    snprintf(req + n + KITH_HTTP_URL_MAX, sizeof(req) - (size_t)n - KITH_HTTP_URL_MAX,
             " HTTP/1.1\r\nHost: a\r\n\r\n");
    refused(req, 414, "uri_too_long");
}

static void test_headers_too_large(void)
{
    static char req[KITH_HTTP_HEADERS_MAX + 4096];
    size_t n = (size_t)snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < KITH_HTTP_HEADER_COUNT_MAX; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "X-H%d: v\r\n", i);
    snprintf(req + n, sizeof(req) - n, "\r\n");
    refused(req, 431, "headers_too_large");

    n = (size_t)snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\nHost: a\r\nX-Big: ");
    memset(req + n, 'v', KITH_HTTP_HEADERS_MAX);
    snprintf(req + n + KITH_HTTP_HEADERS_MAX, sizeof(req) - n - KITH_HTTP_HEADERS_MAX, "\r\n\r\n");
    refused(req, 431, "headers_too_large");

    /* Exactly at the count limit is fine. */
    n = (size_t)snprintf(req, sizeof(req), "GET /echo HTTP/1.1\r\nHost: a\r\n");
    for (int i = 1; i < KITH_HTTP_HEADER_COUNT_MAX; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "X-H%d: v\r\n", i);
    snprintf(req + n, sizeof(req) - n, "\r\n");
    CHECK_INT(roundtrip(H.port, req, false, &R), 0);
    CHECK_INT(R.status, 200);
}

static void test_host_required(void)
{
    refused("GET /echo HTTP/1.1\r\n\r\n", 400, "bad_request");
    refused("GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "bad_request");
    /* HTTP/1.0 does not need Host, and closes after the answer. */
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "GET /echo HTTP/1.0\r\n\r\n"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "method=GET path=/echo query= body=0 host=-");
    CHECK(has_header(&R, "Connection", "close"));
    CHECK(client_wait_close(cl, 2000) >= 0);
    client_close(cl);
}

static void test_http10_keep_alive(void)
{
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK(has_header(&R, "Connection", "keep-alive"));
    CHECK(client_sends(cl, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_INT(R.status, 200);
    client_close(cl);
}

static void test_connection_close(void)
{
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "GET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                           "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_INT(R.status, 200);
    CHECK(has_header(&R, "Connection", "close"));
    /* The pipelined second request is not answered. */
    CHECK_INT(client_read(cl, false, &R), -1);
    client_close(cl);
}

static void test_smuggling(void)
{
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400, "bad_request");
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
            "Content-Length: 5\r\n\r\n0\r\n\r\n",
            400, "bad_request");
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
            "hello",
            400, "bad_request");
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nxx", 400,
            "bad_request");
    refused("GET /echo HTTP/1.1\r\nHost : a\r\n\r\n", 400, "bad_request");
    refused("GET /echo HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n", 400, "bad_request");
    refused("GET /echo HTTP/1.1\nHost: a\n\n", 400, "bad_request");
}

/* llhttp takes a bare LF after the request line and as the empty line that ends the head or the
 * trailers; we do not, anywhere. Between requests, empty lines are skipped. */
static void test_bare_lf(void)
{
    refused("GET /echo HTTP/1.1\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /echo HTTP/1.1\r\nHost: a\r\n\n", 400, "bad_request");
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\nhi", 400, "bad_request");
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n", 400,
            "bad_request");
    refused("GET /echo HTTP/1.0\n\r\n", 400, "bad_request");
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "GET /echo?1 HTTP/1.1\r\nHost: a\r\n\r\n\n\r\n"
                           "GET /echo?2 HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_STR(R.body, "method=GET path=/echo query=1 body=0 host=a");
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_STR(R.body, "method=GET path=/echo query=2 body=0 host=a");
    client_close(cl);

    /* A body's own LFs are data, also when a read ends just before one. */
    static const char *const bodies[] = {
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
        "chunked\r\n\r\n4\r\na\r\nb\r\n0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n\na\n"};
    for (int i = 0; i < 2; i++) {
        const char *req = bodies[i];
        size_t cut = (size_t)(strchr(strstr(req, "\r\n\r\n") + 4, '\n') - req);
        cl = client_open(H.port);
        CHECK(client_send(cl, req, cut));
        sleep_ms(20);
        CHECK(client_sends(cl, req + cut));
        CHECK_INT(client_read(cl, false, &R), 0);
        CHECK_INT(R.status, 200);
        CHECK_STR(R.body, i == 0 ? "a\r\nb" : "\na\n");
        client_close(cl);
    }
}

static void test_garbage(void)
{
    refused("FOO /echo HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("\x01\x02\x03 hello\r\n\r\n", 400, "bad_request");
    refused("GET /echo HTTP/1.2\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /echo HTTP/2.0\r\nHost: a\r\n\r\n", 505, "http_version_not_supported");
    refused("GET /echo HTTP/0.9\r\nHost: a\r\n\r\n", 505, "http_version_not_supported");
    refused("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
}

static void test_target_forms(void)
{
    refused("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /ech%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /echo% HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /echo%6 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /echo%6?x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /a/../echo HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /a/%2e%2E/echo HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /.. HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /%C3%28 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /%ED%A0%80 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");
    refused("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request");

    /* Valid encodings decode; the query stays raw; "..." and "..x" are ordinary names. */
    CHECK_INT(roundtrip(H.port, "GET /ech%6F?q=%41..%2F HTTP/1.1\r\nHost: a\r\n\r\n", false, &R),
              0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "method=GET path=/echo query=q=%41..%2F body=0 host=a");
    CHECK_INT(roundtrip(H.port, "GET /a/.../%C3%A9 HTTP/1.1\r\nHost: a\r\n\r\n", false, &R), 0);
    CHECK_INT(R.status, 404);
}

/* Issue 10: obsolete line folding is refused wherever it is, an empty header name too; empty
 * values are fine; trailer fields are read (and limited) but never become headers. */
static void test_strict_headers(void)
{
    /* The first line of the fold is empty: llhttp read this one as chunked. */
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"
            "5\r\nhello\r\n0\r\n\r\n",
            400, "bad_request");
    refused("GET /echo HTTP/1.1\r\nHost: a\r\nX-A:\r\n \r\n\r\n", 400, "bad_request");
    refused("GET /echo HTTP/1.1\r\nHost: a\r\nX-A:\r\n\tb\r\n\r\n", 400, "bad_request");
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "0\r\nX-T: 1\r\n folded\r\n\r\n",
            400, "bad_request");
    refused("GET /echo HTTP/1.1\r\nHost: a\r\nX-A: a\r\n \r\n\r\n", 400, "bad_request");
    /* The fold split across reads, at each byte. */
    static const char split[] =
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"
        "0\r\n\r\n";
    size_t at = strlen("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:");
    for (size_t cut = at; cut <= at + 3; cut++) {
        struct client *cl = client_open(H.port);
        CHECK(client_send(cl, split, cut));
        sleep_ms(20);
        CHECK(client_sends(cl, split + cut));
        expect_refusal(cl, 400, "bad_request");
        client_close(cl);
    }
    refused("GET /echo HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", 400, "bad_request");
    refused("GET /echo HTTP/1.1\r\n: x\r\nHost: a\r\n\r\n", 400, "bad_request");

    /* Empty values, and OWS (SP or HT) around a value, which is not part of it. */
    CHECK_INT(
        roundtrip(H.port,
                  "GET /headers HTTP/1.1\r\nHost: a\r\nX-E:\r\nX-F: \t\r\nX-G:\t g \t\r\n\r\n",
                  false, &R),
        0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "Host: a\nX-E: \nX-F: \nX-G: g\n");
    CHECK_INT(roundtrip(H.port,
                        "POST /headers HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "1\r\nx\r\n0\r\nX-T: 1\r\nHost: evil\r\n\r\n",
                        false, &R),
              0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "Host: a\nTransfer-Encoding: chunked\n");
}

/* Issue 10: only a lone `chunked` is served; another coding before it is 501, and a message
 * whose framing is not chunked-last (or is HTTP/1.0 with Transfer-Encoding) is 400. */
static void test_transfer_codings(void)
{
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
            "0\r\n\r\n",
            501, "not_implemented");
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            501, "not_implemented");
    refused("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
            "0\r\n\r\n",
            400, "bad_request");
    refused("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
            "bad_request");
    CHECK_INT(roundtrip(H.port,
                        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n"
                        "2\r\nok\r\n0\r\n\r\n",
                        false, &R),
              0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "ok");
}

/* Issue 10: a chunk size that takes the body over the limit is refused when its size line
 * arrives, not after the read deadline. */
static void test_chunk_size_limit(void)
{
    uint64_t start = now_ms();
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "ffffffffffffffff\r\n"));
    expect_refusal(cl, 413, "payload_too_large");
    client_close(cl);
    CHECK(now_ms() - start < 250); /* the read deadline is 300 ms */

    /* 0x8000 bytes, then a size line for 0x8001 more: refused before any of its data. */
    static char half[0x8000];
    memset(half, 'h', sizeof(half));
    cl = client_open(H.port);
    CHECK(client_sends(cl, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "8000\r\n"));
    CHECK(client_send(cl, half, sizeof(half)));
    CHECK(client_sends(cl, "\r\n8001\r\n"));
    expect_refusal(cl, 413, "payload_too_large");
    client_close(cl);

    /* Exactly the limit in two chunks is fine. */
    cl = client_open(H.port);
    CHECK(client_sends(cl, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "8000\r\n"));
    CHECK(client_send(cl, half, sizeof(half)));
    CHECK(client_sends(cl, "\r\n8000\r\n"));
    CHECK(client_send(cl, half, sizeof(half)));
    CHECK(client_sends(cl, "\r\n0\r\n\r\n"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_INT(R.status, 200);
    CHECK_INT(R.body_len, KITH_HTTP_BODY_MAX);
    client_close(cl);
}

/* Issue 10: absolute-form is accepted (RFC 9112 3.2.2), routed on its path and query, and its
 * authority is the Host handlers see. */
static void test_absolute_form(void)
{
    CHECK_INT(roundtrip(H.port, "GET http://h.example:8080/ech%6F?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
                        false, &R),
              0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "method=GET path=/echo query=x=1 body=0 host=h.example:8080");
    CHECK_INT(roundtrip(H.port, "GET HTTPS://[::1]/echo HTTP/1.1\r\nHost: a\r\n\r\n", false, &R),
              0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "method=GET path=/echo query= body=0 host=[::1]");
    /* HTTP/1.0 needs no Host: the authority becomes one. */
    CHECK_INT(roundtrip(H.port, "GET http://h/echo HTTP/1.0\r\n\r\n", false, &R), 0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "method=GET path=/echo query= body=0 host=h");
    /* An empty path is "/": no such route here, but the request was read (404 keeps the
     * connection open). */
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_INT(R.status, 404);
    CHECK(!has_header(&R, "Connection", "close"));
    client_close(cl);

    refused("GET http://u@h/echo HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_request");
    refused("GET http:///echo HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_request");
    refused("GET ftp://h/echo HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_request");
    refused("GET http://h/echo HTTP/1.1\r\n\r\n", 400, "bad_request"); /* 1.1 still needs Host */
    refused("GET http://h/a/../echo HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_request");
    refused("GET /echo#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_request");
}

/* Issue 10: parse errors are answered in words of ours, never llhttp's internal reasons. */
static void test_parse_error_messages(void)
{
    refused_msg("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "bad_request",
                "kith speaks HTTP/1.1; HTTP/2 is not supported here");
    refused_msg("FOO /echo HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bad_request",
                "unknown request method");
    refused_msg("GET /echo HTTP/1.2\r\nHost: a\r\n\r\n", 400, "bad_request",
                "invalid HTTP version");
    refused_msg("GET /echo HTTP/1.1\nHost: a\n\n", 400, "bad_request", "lines must end with CRLF");
    refused_msg("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                400, "bad_request", "invalid or repeated Content-Length");
    refused_msg("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
                "bad_request", "invalid chunk size");
}

static void test_head(void)
{
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "HEAD /echo HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK_INT(client_read(cl, true, &R), 0);
    CHECK_INT(R.status, 200);
    char len[16];
    CHECK(resp_header(&R, "Content-Length", len, sizeof(len)));
    CHECK_INT(strtol(len, NULL, 10), strlen("method=HEAD path=/echo query= body=0 host=a"));
    /* Had a body been sent, this next response would not start where we expect it. */
    CHECK(client_sends(cl, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "method=GET path=/echo query= body=0 host=a");
    client_close(cl);
}

static void test_expect_continue(void)
{
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
                           "Expect: 100-continue\r\n\r\n"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_INT(R.status, 100);
    CHECK(client_sends(cl, "hi"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "hi");
    client_close(cl);
}

static void test_unsafe_response_header(void)
{
    CHECK_INT(roundtrip(H.port, "GET /bad-header HTTP/1.1\r\nHost: a\r\n\r\n", false, &R), 0);
    CHECK_INT(R.status, 500);
    CHECK(!has_header(&R, "Set-Cookie", NULL));
    CHECK(!has_header(&R, "Location", NULL));
}

/* Every byte a header value may not hold, at every place in values of lengths around the
 * eight-byte words the check reads, is refused; HT, printable bytes and bytes above 0x7F are
 * sent as they are. */
static void test_response_header_bytes(void)
{
    static const int lens[] = {1, 7, 8, 9, 16, 17, 23};
    static const int refused[] = {0x01, 0x08, 0x0A, 0x0D, 0x1F, 0x7F};
    static const int sent[] = {0x09, 0x20, 0x7E, 0x80, 0xFF};
    int wrong = 0;
    for (size_t l = 0; l < KITH_ARRAY_LEN(lens); l++)
        for (int pos = 0; pos < lens[l]; pos++) {
            char target[128];
            for (size_t b = 0; b < KITH_ARRAY_LEN(refused); b++) {
                snprintf(target, sizeof(target),
                         "GET /header-byte?len=%d&pos=%d&byte=%d HTTP/1.1\r\nHost: a\r\n\r\n",
                         lens[l], pos, refused[b]);
                if (roundtrip(H.port, target, false, &R) != 0 || R.status != 500 ||
                    has_header(&R, "X-Value", NULL))
                    wrong++;
            }
            for (size_t b = 0; b < KITH_ARRAY_LEN(sent); b++) {
                snprintf(target, sizeof(target),
                         "GET /header-byte?len=%d&pos=%d&byte=%d HTTP/1.1\r\nHost: a\r\n\r\n",
                         lens[l], pos, sent[b]);
                char want[64];
                memset(want, 'a', (size_t)lens[l]);
                want[pos] = (char)sent[b];
                want[lens[l]] = '\0';
                const char *w = want; /* the reader drops the spaces after the colon */
                while (*w == ' ')
                    w++;
                if (roundtrip(H.port, target, false, &R) != 0 || R.status != 200 ||
                    !has_header(&R, "X-Value", w))
                    wrong++;
            }
        }
    CHECK_INT(wrong, 0);
}

static void test_slow_request_times_out(void)
{
    struct client *cl = client_open(H.port);
    uint64_t start = now_ms();
    const char *req = "GET /echo HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
    bool sending = true;
    /* A byte every 50 ms: each read is "recent", but the request as a whole is too slow. */
    for (size_t i = 0; req[i] != '\0' && sending && now_ms() - start < 2000; i++) {
        sending = client_send(cl, req + i, 1);
        sleep_ms(50);
        client_timeout(cl, 1);
        if (client_fill(cl) >= 0) /* answer or EOF arrived */
            break;
    }
    client_timeout(cl, 3000);
    expect_refusal(cl, 408, "request_timeout");
    uint64_t took = now_ms() - start;
    CHECK(took >= 250);
    CHECK(took < 1500);
    client_close(cl);

    /* A connection that never sends a byte is closed too, at the read deadline. */
    cl = client_open(H.port);
    long closed = client_wait_close(cl, 3000);
    CHECK(closed >= 200);
    CHECK(closed < 1500);
    client_close(cl);
}

static void test_idle_keep_alive_closed(void)
{
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK_INT(client_read(cl, false, &R), 0);
    long closed = client_wait_close(cl, 3000);
    CHECK(closed >= 400);
    CHECK(closed < 2000);
    client_close(cl);
}

/* A client that resets its connection before an async answer is gone: the handler sees the
 * request aborted (and still answers, which releases it), and the server carries on. */
static void test_client_leaves_before_async_answer(void)
{
    int before = atomic_load(&aborted_answers);
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "GET /async HTTP/1.1\r\nHost: a\r\n\r\n"));
    sleep_ms(30);
    struct linger reset = {1, 0}; /* close() sends RST, not FIN */
    setsockopt(cl->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    client_close(cl);
    for (int i = 0; i < 100 && atomic_load(&aborted_answers) == before; i++)
        sleep_ms(10);
    CHECK_INT(atomic_load(&aborted_answers), before + 1);
    /* The server is still fine. */
    CHECK_INT(roundtrip(H.port, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n", false, &R), 0);
    CHECK_INT(R.status, 200);
}

/* A client that half-closes after its requests (shutdown(SHUT_WR), as HTTP/1.0 clients and
 * `nc -N` do) still reads every answer, an async one included, in order; then the server
 * closes. Its EOF does not abort the request in hand. */
static void test_half_close_still_answered(void)
{
    static const char *const requests[] = {
        "GET /async HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /async HTTP/1.1\r\nHost: a\r\n\r\nGET /echo?n=2 HTTP/1.1\r\nHost: a\r\n\r\n"
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nthree",
        "GET /async HTTP/1.0\r\n\r\n",
        "GET /echo HTTP/1.0\r\n\r\n",
    };
    static const int answers[] = {1, 3, 1, 1};
    for (size_t t = 0; t < KITH_ARRAY_LEN(requests); t++) {
        int before = atomic_load(&aborted_answers);
        struct client *cl = client_open(H.port);
        CHECK(client_sends(cl, requests[t]));
        CHECK_INT(shutdown(cl->fd, SHUT_WR), 0);
        CHECK_INT(client_read(cl, false, &R), 0);
        CHECK_INT(R.status, 200);
        if (strstr(requests[t], "/async"))
            CHECK_STR(R.body, "late");
        for (int i = 1; i < answers[t]; i++)
            CHECK_INT(client_read(cl, false, &R), 0);
        if (answers[t] == 3)
            CHECK_STR(R.body, "three");
        CHECK(client_wait_close(cl, 2000) >= 0);
        CHECK_INT(atomic_load(&aborted_answers), before);
        client_close(cl);
    }
    /* A half-close in the middle of a request, or with nothing asked, just closes. */
    struct client *cl = client_open(H.port);
    CHECK(client_sends(cl, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc"));
    CHECK_INT(shutdown(cl->fd, SHUT_WR), 0);
    CHECK_INT(recv(cl->fd, cl->buf, CLIENT_BUF, 0), 0); /* closed, and nothing answered */
    client_close(cl);
    cl = client_open(H.port);
    CHECK_INT(shutdown(cl->fd, SHUT_WR), 0);
    CHECK(client_wait_close(cl, 2000) >= 0);
    client_close(cl);
}

/* A second server: shutdown closes idle connections at once and still answers the request in
 * flight (with Connection: close), then calls done. */
static void test_graceful_shutdown(void)
{
    static struct harness S;
    config(&S);
    S.cfg.idle_timeout_ms = 10000;
    S.cfg.access_log = true;
    CHECK(harness_start(&S));
    struct client *idle = client_open(S.port);
    CHECK(client_sends(idle, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK_INT(client_read(idle, false, &R), 0);
    struct client *busy = client_open(S.port);
    CHECK(client_sends(busy, "GET /async HTTP/1.1\r\nHost: a\r\n\r\n"));
    sleep_ms(30);
    uint64_t start = now_ms();
    uv_async_send(&S.stop);
    long idle_closed = client_wait_close(idle, 2000);
    CHECK(idle_closed >= 0);
    CHECK(idle_closed < 120);
    CHECK_INT(client_read(busy, false, &R), 0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, "late");
    CHECK(has_header(&R, "Connection", "close"));
    CHECK(client_wait_close(busy, 2000) >= 0);
    pthread_join(S.thread, NULL);
    CHECK(S.done_called);
    CHECK(now_ms() - start < 2000);
    client_close(idle);
    client_close(busy);
}

static void get_ok(struct client *cl)
{
    CHECK(client_sends(cl, "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK_INT(client_read(cl, false, &R), 0);
    CHECK_INT(R.status, 200);
}

/*
 * Issue 10: at the connection cap a new client is still served. The least recently used idle
 * connection (keep-alive between requests, or new and silent) is closed to make room; only when
 * every connection is in the middle of a request is the newcomer refused.
 */
static void test_max_connections(void)
{
    enum { MAX = 8 };
    static struct harness S;
    config(&S);
    S.cfg.max_connections = MAX;
    S.cfg.read_timeout_ms = 10000;
    S.cfg.idle_timeout_ms = 10000;
    CHECK(harness_start(&S));
    struct client *cl[MAX], *extra;

    /* Eight idle keep-alive connections; the first is used again, so the second is the oldest. */
    for (int i = 0; i < MAX; i++) {
        cl[i] = client_open(S.port);
        get_ok(cl[i]);
    }
    get_ok(cl[0]);
    extra = client_open(S.port);
    get_ok(extra);
    CHECK(client_wait_close(cl[1], 1000) >= 0);
    for (int i = 0; i < MAX; i++)
        if (i != 1)
            get_ok(cl[i]);
    for (int i = 0; i < MAX; i++)
        client_close(cl[i]);
    client_close(extra);
    sleep_ms(100); /* the server sees those closes */

    /* Eight connections in the middle of a request: the ninth is refused, they all go on. */
    for (int i = 0; i < MAX; i++) {
        cl[i] = client_open(S.port);
        CHECK(client_sends(cl[i], "GET /echo HTTP/1.1\r\nHost: a\r\n"));
    }
    sleep_ms(100); /* the server has read every partial request */
    extra = client_open(S.port);
    CHECK(client_wait_close(extra, 1000) >= 0);
    client_close(extra);
    for (int i = 0; i < MAX; i++) {
        CHECK(client_sends(cl[i], "\r\n"));
        CHECK_INT(client_read(cl[i], false, &R), 0);
        CHECK_INT(R.status, 200);
    }
    for (int i = 0; i < MAX; i++)
        client_close(cl[i]);
    sleep_ms(100);

    /* New connections that have not sent a byte are idle too: the oldest makes room. */
    for (int i = 0; i < MAX; i++)
        cl[i] = client_open(S.port);
    sleep_ms(100); /* all accepted, in order */
    extra = client_open(S.port);
    get_ok(extra);
    CHECK(client_wait_close(cl[0], 1000) >= 0);
    for (int i = 1; i < MAX; i++)
        get_ok(cl[i]);
    for (int i = 0; i < MAX; i++)
        client_close(cl[i]);
    client_close(extra);
    harness_stop(&S);
    CHECK(S.done_called);
}

static void set_flag(void *ctx)
{
    *(bool *)ctx = true;
}

static void test_create_errors(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct kith_http_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    struct kith_http_server *srv = (struct kith_http_server *)&cfg;
    struct kith_err err;
    cfg.host = ""; /* no address */
    CHECK_INT(kith_http_server_create(&loop, &cfg, &srv, &err), KITH_E_INVALID_PARAM);
    CHECK(srv == NULL);
    CHECK_STR(err.param, "host");
    cfg.host = "127.0.0.1";
    cfg.port = H.port; /* taken */
    CHECK_INT(kith_http_server_create(&loop, &cfg, &srv, &err), KITH_E_UNAVAILABLE);
    const struct kith_http_route bad[] = {{KITH_HTTP_GET, "no-slash", h_echo, "x", NULL}};
    cfg.port = 0;
    cfg.routes = bad;
    cfg.route_count = 1;
    CHECK_INT(kith_http_server_create(&loop, &cfg, &srv, &err), KITH_E_INVALID_PARAM);
    CHECK_STR(err.param, "routes");
    kith_http_server_destroy(NULL);
    CHECK_INT(uv_run(&loop, UV_RUN_DEFAULT), 0);

    /* A name resolves; shutdown with nothing connected completes through the loop. */
    cfg.host = "localhost";
    cfg.routes = routes;
    cfg.route_count = KITH_ARRAY_LEN(routes);
    CHECK_INT(kith_http_server_create(&loop, &cfg, &srv, &err), KITH_OK);
    CHECK(srv != NULL && kith_http_server_port(srv) > 0);
    bool done = false;
    kith_http_server_shutdown(srv, set_flag, &done);
    CHECK(!done);
    CHECK_INT(uv_run(&loop, UV_RUN_DEFAULT), 0);
    CHECK(done);
    kith_http_server_destroy(srv);
    CHECK_INT(uv_loop_close(&loop), 0);
}

int main(void)
{
    /* libuv writes with write(2): a client that vanished must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    config(&H);
    if (!harness_start(&H)) {
        fprintf(stderr, "cannot start the server\n");
        return 1;
    }
    RUN(test_get);
    RUN(test_peer_ip);
    RUN(test_keep_alive);
    RUN(test_pipelined_in_order);
    RUN(test_pipelined_many);
    RUN(test_pipelined_backpressure);
    RUN(test_post_body);
    RUN(test_chunked_body);
    RUN(test_body_split_and_at_limit);
    RUN(test_body_too_large);
    RUN(test_url_too_long);
    RUN(test_headers_too_large);
    RUN(test_host_required);
    RUN(test_http10_keep_alive);
    RUN(test_connection_close);
    RUN(test_smuggling);
    RUN(test_bare_lf);
    RUN(test_garbage);
    RUN(test_target_forms);
    RUN(test_strict_headers);
    RUN(test_transfer_codings);
    RUN(test_chunk_size_limit);
    RUN(test_absolute_form);
    RUN(test_parse_error_messages);
    RUN(test_head);
    RUN(test_expect_continue);
    RUN(test_unsafe_response_header);
    RUN(test_response_header_bytes);
    RUN(test_slow_request_times_out);
    RUN(test_idle_keep_alive_closed);
    RUN(test_client_leaves_before_async_answer);
    RUN(test_half_close_still_answered);
    RUN(test_create_errors);
    RUN(test_graceful_shutdown);
    RUN(test_max_connections);
    harness_stop(&H);
    CHECK(H.done_called);
    TEST_DONE();
}
