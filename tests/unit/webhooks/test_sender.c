/*
 * test_sender.c: unit tests for src/webhooks/sender.c against tiny receivers in this process: an
 * HTTP server thread on 127.0.0.1 (one request per connection, scripted answer, or silence) and
 * an SMTP sink that speaks just enough of the protocol. Covers the signed POST, status and
 * Retry-After capture, redirects left alone, the network policy refusing loopback, timeouts,
 * more requests than the concurrency cap, a long response body, mail, and API calls whose
 * answers are kept (GET and POST, headers as given, no network policy). Not for signing or
 * the policy's ranges, which have their own files.
 */
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "kith/crypto.h"
#include "kith/webhooks.h"
#include "test.h"

/* ---- the receivers ---- */

enum mode { MODE_HTTP, MODE_SILENT, MODE_SMTP };

struct receiver {
    int fd;
    int port;
    enum mode mode;
    const char *response; /* MODE_HTTP: the whole answer */
    uv_thread_t thread;
    atomic_int stop;
    uv_mutex_t mu; /* guards the fields below */
    int connections;
    char seen[65536]; /* the last request, or the SMTP transcript */
    size_t seen_len;
};

static void seen_add(struct receiver *r, const char *p, size_t n)
{
    uv_mutex_lock(&r->mu);
    if (r->seen_len + n < sizeof(r->seen)) {
        memcpy(r->seen + r->seen_len, p, n);
        r->seen_len += n;
        r->seen[r->seen_len] = '\0';
    }
    uv_mutex_unlock(&r->mu);
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* recv with a poll so the stop flag is honoured; 0 on close, error or stop. */
static ssize_t recv_some(struct receiver *r, int fd, char *buf, size_t n)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (atomic_load(&r->stop))
            return 0;
        int rc = poll(&pfd, 1, 50);
        if (rc < 0)
            return 0;
        if (rc == 0)
            continue;
        ssize_t got = recv(fd, buf, n, 0);
        return got < 0 ? 0 : got;
    }
}

static void serve_http(struct receiver *r, int fd)
{
    char buf[65536];
    size_t len = 0;
    char *end = NULL;
    while (end == NULL && len < sizeof(buf) - 1) {
        ssize_t got = recv_some(r, fd, buf + len, sizeof(buf) - 1 - len);
        if (got <= 0)
            return;
        len += (size_t)got;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (end == NULL)
        return;
    size_t want = 0;
    for (char *h = buf; h < end; h = strstr(h, "\r\n") + 2)
        if (strncasecmp(h, "Content-Length:", 15) == 0)
            want = (size_t)strtoul(h + 15, NULL, 10);
    size_t head = (size_t)(end + 4 - buf);
    while (len < head + want && len < sizeof(buf) - 1) {
        ssize_t got = recv_some(r, fd, buf + len, sizeof(buf) - 1 - len);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    uv_mutex_lock(&r->mu);
    r->seen_len = 0;
    r->seen[0] = '\0';
    uv_mutex_unlock(&r->mu);
    seen_add(r, buf, len);
    if (r->mode == MODE_SILENT) {
        /* Never answer: wait until the client gives up and closes. */
        while (recv_some(r, fd, buf, sizeof(buf)) > 0)
            ;
        return;
    }
    send_all(fd, r->response, strlen(r->response));
}

/* Reads one CRLF-terminated line into line (without CRLF), keeping leftovers in buf. */
static bool read_line(struct receiver *r, int fd, char *buf, size_t *len, char *line,
                      size_t linesize)
{
    for (;;) {
        char *nl = memchr(buf, '\n', *len);
        if (nl != NULL) {
            size_t n = (size_t)(nl - buf) + 1;
            size_t copy = n < linesize ? n : linesize - 1;
            memcpy(line, buf, copy);
            line[copy] = '\0';
            line[strcspn(line, "\r\n")] = '\0';
            seen_add(r, buf, n);
            memmove(buf, buf + n, *len - n);
            *len -= n;
            return true;
        }
        if (*len >= 8191)
            return false;
        ssize_t got = recv_some(r, fd, buf + *len, 8191 - *len);
        if (got <= 0)
            return false;
        *len += (size_t)got;
    }
}

static void serve_smtp(struct receiver *r, int fd)
{
    char buf[8192];
    size_t len = 0;
    char line[8192];
    bool data = false;
    send_all(fd, "220 sink ESMTP\r\n", 16);
    while (read_line(r, fd, buf, &len, line, sizeof(line))) {
        const char *reply = "250 OK\r\n";
        if (data) {
            if (strcmp(line, ".") != 0)
                continue;
            data = false;
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            data = true;
            reply = "354 go ahead\r\n";
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            send_all(fd, "221 bye\r\n", 9);
            return;
        }
        send_all(fd, reply, strlen(reply));
    }
}

static void receiver_run(void *arg)
{
    struct receiver *r = arg;
    while (!atomic_load(&r->stop)) {
        struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        int c = accept(r->fd, NULL, NULL);
        if (c < 0)
            continue;
        uv_mutex_lock(&r->mu);
        r->connections++;
        uv_mutex_unlock(&r->mu);
        if (r->mode == MODE_SMTP)
            serve_smtp(r, c);
        else
            serve_http(r, c);
        close(c);
    }
}

static struct receiver *receiver_start(enum mode mode, const char *response)
{
    struct receiver *r = calloc(1, sizeof(*r));
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int one = 1;
    if (r == NULL)
        abort();
    r->mode = mode;
    r->response = response;
    uv_mutex_init(&r->mu);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(r->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(r->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(r->fd, 256) != 0 ||
        getsockname(r->fd, (struct sockaddr *)&a, &alen) != 0)
        abort();
    r->port = ntohs(a.sin_port);
    uv_thread_create(&r->thread, receiver_run, r);
    return r;
}

static int receiver_connections(struct receiver *r)
{
    uv_mutex_lock(&r->mu);
    int n = r->connections;
    uv_mutex_unlock(&r->mu);
    return n;
}

static void receiver_stop(struct receiver *r)
{
    atomic_store(&r->stop, 1);
    uv_thread_join(&r->thread);
    close(r->fd);
    uv_mutex_destroy(&r->mu);
    free(r);
}

/* ---- the loop side ---- */

struct harness {
    uv_loop_t loop;
    uv_timer_t guard;
    struct kith_netpolicy *policy;
    struct kith_sender *sender;
    int want, got;
    struct kith_send_result last;
    char last_body[4096]; /* a call's answer, copied: the result's own is borrowed */
    bool last_had_body;
    bool all_ok;
};

static void on_result(void *ctx, const struct kith_send_result *res)
{
    struct harness *h = ctx;
    h->last = *res;
    h->last.body = NULL;
    h->last_had_body = res->body != NULL;
    snprintf(h->last_body, sizeof(h->last_body), "%s", res->body ? res->body : "");
    h->got++;
    if (!res->ok)
        h->all_ok = false;
    if (h->got >= h->want)
        uv_stop(&h->loop);
}

static void on_guard(uv_timer_t *t)
{
    fprintf(stderr, "guard timer fired: results did not arrive\n");
    uv_stop(t->loop);
}

static void harness_start(struct harness *h, const char *allow, uint32_t timeout_ms)
{
    memset(h, 0, sizeof(*h));
    h->all_ok = true;
    CHECK_INT(uv_loop_init(&h->loop), 0);
    CHECK_INT(uv_timer_init(&h->loop, &h->guard), 0);
    CHECK_INT(kith_netpolicy_create(allow, &h->policy, NULL), KITH_OK);
    CHECK_INT(kith_sender_create(&h->loop, h->policy, timeout_ms, on_result, h, &h->sender, NULL),
              KITH_OK);
}

/* Runs the loop until want results in total arrived (or 10 s passed). */
static void harness_wait(struct harness *h, int want)
{
    h->want = want;
    uv_timer_start(&h->guard, on_guard, 10000, 0);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&h->guard);
    CHECK_INT(h->got, want);
}

static void harness_stop(struct harness *h)
{
    kith_sender_destroy(h->sender);
    uv_close((uv_handle_t *)&h->guard, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&h->loop), 0);
    kith_netpolicy_destroy(h->policy);
}

static void post(struct harness *h, int port, uint64_t tag, const char *path)
{
    char url[128];
    const char *body = "{\"id\":\"msg_1\",\"type\":\"referral.qualified\"}";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    struct kith_send_request req = {
        .tag = tag,
        .url = url,
        .body = body,
        .body_len = strlen(body),
        .msg_id = "msg_1",
        .timestamp_s = 1700000000,
        .signature = "v1,abc/def+ghi=",
    };
    kith_sender_post(h->sender, &req);
}

static bool seen_has(struct receiver *r, const char *needle)
{
    uv_mutex_lock(&r->mu);
    bool has = strstr(r->seen, needle) != NULL;
    uv_mutex_unlock(&r->mu);
    if (!has)
        fprintf(stderr, "  receiver did not see: %s\n", needle);
    return has;
}

#define OK_200 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

static void test_post_ok(void)
{
    struct harness h;
    struct receiver *r = receiver_start(MODE_HTTP, OK_200);
    harness_start(&h, "127.0.0.0/8", 5000);
    post(&h, r->port, 42, "/hooks?token=secret");
    CHECK_INT(kith_sender_busy(h.sender), 1);
    harness_wait(&h, 1);
    CHECK_INT(kith_sender_busy(h.sender), 0);
    CHECK_INT(h.last.tag, 42);
    CHECK(h.last.ok);
    CHECK_INT(h.last.http_status, 200);
    CHECK_INT(h.last.retry_after_s, -1);
    CHECK_STR(h.last.error, "");
    CHECK(h.last.latency_ms >= 0 && h.last.latency_ms < 5000);
    CHECK(seen_has(r, "POST /hooks?token=secret HTTP/1.1\r\n"));
    CHECK(seen_has(r, "\r\nwebhook-id: msg_1\r\n"));
    CHECK(seen_has(r, "\r\nwebhook-timestamp: 1700000000\r\n"));
    CHECK(seen_has(r, "\r\nwebhook-signature: v1,abc/def+ghi=\r\n"));
    CHECK(seen_has(r, "\r\nContent-Type: application/json\r\n"));
    CHECK(seen_has(r, "\r\nUser-Agent: kith-webhooks/1\r\n"));
    CHECK(seen_has(r, "\r\n\r\n{\"id\":\"msg_1\",\"type\":\"referral.qualified\"}"));
    CHECK_INT(receiver_connections(r), 1);
    harness_stop(&h);
    receiver_stop(r);
}

static void test_post_500_retry_after(void)
{
    struct harness h;
    struct receiver *r = receiver_start(
        MODE_HTTP, "HTTP/1.1 500 Internal Server Error\r\nRetry-After: 120\r\nContent-Length: "
                   "5\r\nConnection: close\r\n\r\noops!");
    harness_start(&h, "127.0.0.0/8", 5000);
    post(&h, r->port, 7, "/");
    harness_wait(&h, 1);
    CHECK(!h.last.ok);
    CHECK_INT(h.last.http_status, 500);
    CHECK_INT(h.last.retry_after_s, 120);
    CHECK_STR(h.last.error, "http_500");
    harness_stop(&h);
    receiver_stop(r);
}

static void test_retry_after_date(void)
{
    static char response[256];
    char date[64];
    time_t when = time(NULL) + 600;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(response, sizeof(response),
             "HTTP/1.1 503 Busy\r\nRetry-After: %s\r\nContent-Length: 0\r\nConnection: "
             "close\r\n\r\n",
             date);
    struct harness h;
    struct receiver *r = receiver_start(MODE_HTTP, response);
    harness_start(&h, "127.0.0.0/8", 5000);
    post(&h, r->port, 8, "/");
    harness_wait(&h, 1);
    CHECK_INT(h.last.http_status, 503);
    CHECK(h.last.retry_after_s >= 590 && h.last.retry_after_s <= 601);
    harness_stop(&h);
    receiver_stop(r);
}

static void test_redirect_not_followed(void)
{
    static char response[256];
    struct harness h;
    struct receiver *r = receiver_start(MODE_HTTP, response);
    snprintf(response, sizeof(response),
             "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/elsewhere\r\nContent-Length: "
             "0\r\nConnection: close\r\n\r\n",
             r->port);
    harness_start(&h, "127.0.0.0/8", 5000);
    post(&h, r->port, 9, "/start");
    harness_wait(&h, 1);
    CHECK(!h.last.ok);
    CHECK_INT(h.last.http_status, 302);
    CHECK_STR(h.last.error, "http_302");
    CHECK_INT(receiver_connections(r), 1);
    CHECK(seen_has(r, "POST /start "));
    harness_stop(&h);
    receiver_stop(r);
}

static void test_policy_blocks_loopback(void)
{
    struct harness h;
    struct receiver *r = receiver_start(MODE_HTTP, OK_200);
    harness_start(&h, "", 5000);
    post(&h, r->port, 10, "/");
    harness_wait(&h, 1);
    CHECK(!h.last.ok);
    CHECK_INT(h.last.http_status, 0);
    CHECK_STR(h.last.error, "blocked_address");
    CHECK_INT(receiver_connections(r), 0);
    harness_stop(&h);
    receiver_stop(r);
}

static void test_timeout(void)
{
    struct harness h;
    struct receiver *r = receiver_start(MODE_SILENT, NULL);
    harness_start(&h, "127.0.0.0/8", 500);
    post(&h, r->port, 11, "/slow");
    harness_wait(&h, 1);
    CHECK(!h.last.ok);
    CHECK_INT(h.last.http_status, 0);
    CHECK_STR(h.last.error, "timeout");
    CHECK(h.last.latency_ms >= 450 && h.last.latency_ms < 3000);
    harness_stop(&h);
    receiver_stop(r);
}

static void test_unsupported_scheme(void)
{
    struct harness h;
    harness_start(&h, "127.0.0.0/8", 2000);
    struct kith_send_request req = {.tag = 12,
                                    .url = "file:///etc/passwd",
                                    .body = "{}",
                                    .body_len = 2,
                                    .msg_id = "m",
                                    .signature = "v1,x"};
    kith_sender_post(h.sender, &req);
    harness_wait(&h, 1);
    CHECK(!h.last.ok);
    CHECK_STR(h.last.error, "unsupported_protocol");
    harness_stop(&h);
}

static void test_many_and_long_body(void)
{
    /* 80 requests: more than the 64 running at once, so some wait their turn. */
    static char response[300000];
    /* A long body too: the sender stops reading after 64 KiB and still reports the 200. */
    int n = snprintf(response, sizeof(response),
                     "HTTP/1.1 200 OK\r\nContent-Length: 200000\r\nConnection: close\r\n\r\n");
    memset(response + n, 'x', 200000);
    response[n + 200000] = '\0';
    struct harness h;
    struct receiver *r = receiver_start(MODE_HTTP, response);
    harness_start(&h, "127.0.0.0/8", 8000);
    for (int i = 0; i < 80; i++)
        post(&h, r->port, (uint64_t)i, "/");
    harness_wait(&h, 80);
    CHECK(h.all_ok);
    CHECK_INT(h.last.http_status, 200);
    CHECK_INT(receiver_connections(r), 80);
    CHECK_INT(kith_sender_busy(h.sender), 0);
    harness_stop(&h);
    receiver_stop(r);
}

static void test_destroy_with_work_pending(void)
{
    /* Results of abandoned transfers never arrive, and nothing leaks. */
    struct harness h;
    struct receiver *r = receiver_start(MODE_SILENT, NULL);
    harness_start(&h, "127.0.0.0/8", 5000);
    for (int i = 0; i < 70; i++)
        post(&h, r->port, (uint64_t)i, "/");
    CHECK_INT(kith_sender_busy(h.sender), 70);
    usleep(100 * 1000);
    harness_stop(&h);
    CHECK_INT(h.got, 0);
    receiver_stop(r);
    kith_sender_destroy(NULL);
}

static void call(struct harness *h, int port, uint64_t tag, bool get, const char *path,
                 const char *body, size_t keep_max)
{
    char url[128];
    const char *headers[] = {"Authorization: Bearer sk_test_x", "Idempotency-Key: kith-rwd_1-1",
                             "Content-Type: application/x-www-form-urlencoded",
                             "X-Evil: a\r\nInjected: yes", NULL};
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    struct kith_call_request req = {
        .tag = tag,
        .get = get,
        .url = url,
        .headers = headers,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .keep_max = keep_max,
    };
    kith_sender_call(h->sender, &req);
}

#define JSON_402                                                                                   \
    "HTTP/1.1 402 Payment Required\r\nContent-Type: application/json\r\nStripe-Should-Retry: "     \
    "false\r\nContent-Length: "                                                                    \
    "42\r\nConnection: close\r\n\r\n{\"error\": {\"message\": \"No such customer\"}}"

static void test_call_post_keeps_answer(void)
{
    struct harness h;
    struct receiver *r = receiver_start(MODE_HTTP, JSON_402);
    /* No allow list: a webhook to loopback is refused, an API call is not judged. */
    harness_start(&h, NULL, 5000);
    call(&h, r->port, 9, false, "/v1/customers/cus_1/balance_transactions",
         "amount=-2500&currency=usd", 0);
    harness_wait(&h, 1);
    CHECK_INT(h.last.tag, 9);
    CHECK(!h.last.ok);
    CHECK_INT(h.last.http_status, 402);
    CHECK_STR(h.last.error, "http_402");
    CHECK(h.last_had_body);
    CHECK_STR(h.last_body, "{\"error\": {\"message\": \"No such customer\"}}");
    CHECK_INT(h.last.body_len, 42);
    CHECK_INT(h.last.should_retry, 0);
    CHECK(seen_has(r, "POST /v1/customers/cus_1/balance_transactions HTTP/1.1\r\n"));
    CHECK(seen_has(r, "\r\nAuthorization: Bearer sk_test_x\r\n"));
    CHECK(seen_has(r, "\r\nIdempotency-Key: kith-rwd_1-1\r\n"));
    CHECK(seen_has(r, "\r\nContent-Type: application/x-www-form-urlencoded\r\n"));
    CHECK(seen_has(r, "\r\nX-Evil: a\r\n"));
    CHECK(!strstr(r->seen, "Injected"));
    CHECK(seen_has(r, "\r\n\r\namount=-2500&currency=usd"));
    harness_stop(&h);
    receiver_stop(r);
}

static void test_call_get(void)
{
    struct harness h;
    struct receiver *r = receiver_start(MODE_HTTP, OK_200);
    harness_start(&h, NULL, 5000);
    call(&h, r->port, 10, true, "/v1/customers/search?query=x", NULL, 0);
    harness_wait(&h, 1);
    CHECK(h.last.ok);
    CHECK_INT(h.last.http_status, 200);
    CHECK_STR(h.last_body, "ok");
    CHECK_INT(h.last.should_retry, -1);
    CHECK(seen_has(r, "GET /v1/customers/search?query=x HTTP/1.1\r\n"));
    CHECK(!strstr(r->seen, "Content-Length"));
    harness_stop(&h);
    receiver_stop(r);
}

static void test_call_answer_too_large(void)
{
    struct harness h;
    struct receiver *r = receiver_start(MODE_HTTP, JSON_402);
    harness_start(&h, NULL, 5000);
    call(&h, r->port, 11, false, "/", "a=b", 16);
    harness_wait(&h, 1);
    CHECK(!h.last.ok);
    CHECK_STR(h.last.error, "response_too_large");
    CHECK(!h.last_had_body);
    harness_stop(&h);
    receiver_stop(r);
}

static void test_call_unanswered(void)
{
    struct harness h;
    harness_start(&h, NULL, 300);
    struct receiver *r = receiver_start(MODE_SILENT, NULL);
    call(&h, r->port, 12, false, "/", "a=b", 0);
    harness_wait(&h, 1);
    CHECK(!h.last.ok);
    CHECK_INT(h.last.http_status, 0);
    CHECK_STR(h.last.error, "timeout");
    CHECK(!h.last_had_body);
    harness_stop(&h);
    receiver_stop(r);
}

static void test_mail(void)
{
    struct harness h;
    struct receiver *r = receiver_start(MODE_SMTP, NULL);
    char url[64];
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", r->port);
    harness_start(&h, "", 5000); /* mail goes to the operator's relay; the policy is for webhooks */
    struct kith_mail_request req = {
        .tag = 99,
        .smtp_url = url,
        .from = "kith@example.com",
        .to = "Ana <ana@example.org>",
        .subject = "You earned a reward\r\nBcc: evil@example.net",
        .body = "Hello Ana,\nline two\r\n.starts with a dot\nend",
    };
    kith_sender_mail(h.sender, &req);
    harness_wait(&h, 1);
    CHECK(h.last.ok);
    CHECK_INT(h.last.tag, 99);
    CHECK_STR(h.last.error, "");
    CHECK(seen_has(r, "MAIL FROM:<kith@example.com>"));
    CHECK(seen_has(r, "RCPT TO:<ana@example.org>"));
    CHECK(seen_has(r, "\r\nFrom: kith@example.com\r\n"));
    CHECK(seen_has(r, "\r\nTo: Ana <ana@example.org>\r\n"));
    CHECK(seen_has(r, "\r\nSubject: You earned a rewardBcc: evil@example.net\r\n"));
    CHECK(seen_has(r, "\r\nMIME-Version: 1.0\r\n"));
    CHECK(seen_has(r, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    CHECK(seen_has(r, "\r\nContent-Transfer-Encoding: 8bit\r\n"));
    CHECK(seen_has(r, "Date: "));
    CHECK(seen_has(r, "Message-ID: <"));
    CHECK(seen_has(r, "\r\n\r\nHello Ana,\r\nline two\r\n..starts with a dot\r\nend\r\n.\r\n"));
    harness_stop(&h);
    receiver_stop(r);
}

static void test_mail_utf8_subject(void)
{
    struct harness h;
    struct receiver *r = receiver_start(MODE_SMTP, NULL);
    char url[64];
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", r->port);
    harness_start(&h, "", 5000);
    struct kith_mail_request req = {.tag = 100,
                                    .smtp_url = url,
                                    .from = "kith@example.com",
                                    .to = "ana@example.org",
                                    .subject = "Prämie für dich",
                                    .body = "Grüße"};
    kith_sender_mail(h.sender, &req);
    harness_wait(&h, 1);
    CHECK(h.last.ok);
    CHECK(seen_has(r, "Subject: =?UTF-8?B?UHLDpG1pZSBmw7xyIGRpY2g=?=\r\n"));
    CHECK(seen_has(r, "\r\n\r\nGrüße\r\n.\r\n"));
    harness_stop(&h);
    receiver_stop(r);
}

int main(void)
{
    if (kith_crypto_init(NULL) != KITH_OK)
        return 1;
    RUN(test_post_ok);
    RUN(test_post_500_retry_after);
    RUN(test_retry_after_date);
    RUN(test_redirect_not_followed);
    RUN(test_policy_blocks_loopback);
    RUN(test_timeout);
    RUN(test_unsupported_scheme);
    RUN(test_many_and_long_body);
    RUN(test_destroy_with_work_pending);
    RUN(test_call_post_keeps_answer);
    RUN(test_call_get);
    RUN(test_call_answer_too_large);
    RUN(test_call_unanswered);
    RUN(test_mail);
    RUN(test_mail_utf8_subject);
    TEST_DONE();
}
