/*
 * sender.c: the thread that talks to the outside world for webhooks, e-mail and API calls (the
 * Stripe calls of reward fulfilment, whose answers are kept for the caller). Requests are
 * copied onto a queue under a mutex; one thread drives a libcurl multi handle (at most
 * SENDER_ACTIVE_MAX transfers at once) and sleeps in curl_multi_poll until a transfer or new
 * work needs it; each finished transfer becomes a result on a second list, and a uv_async_t
 * hands the results to the loop, where the caller's callback runs. It is not for deciding what
 * to send, when to retry or what a result means: the caller owns records and schedules. The
 * receiver's response body is counted and dropped; URLs, bodies, secrets and addresses are never
 * logged (only host names and outcomes).
 */
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "kith/buf.h"
#include "kith/clock.h"
#include "kith/crypto.h"
#include "kith/log.h"
#include "kith/webhooks.h"

#define SENDER_ACTIVE_MAX 64           /* concurrent transfers; the rest wait on the queue */
#define SENDER_POLL_MS 1000            /* the longest curl_multi_poll sleeps without a reason */
#define SENDER_BODY_KEEP_MAX 65536     /* response bytes read before we stop listening */
#define SENDER_RETRY_AFTER_MAX 2592000 /* 30 days: anything larger is nonsense, clamp */

enum job_kind { JOB_HTTP, JOB_MAIL, JOB_CALL };

struct job {
    struct job *next, *prev; /* queue (singly used) or active list (doubly linked) */
    struct kith_sender *sender;
    enum job_kind kind;
    uint64_t tag;
    char *url;
    char *payload; /* HTTP body, or the whole RFC 5322 message */
    size_t payload_len;
    size_t payload_off; /* mail upload position */
    struct curl_slist *headers;
    struct curl_slist *rcpt;
    char *mail_from; /* envelope sender, "<addr>" */
    CURL *easy;
    uint64_t start_ns;
    int64_t retry_after_s;
    size_t received;
    bool blocked;     /* the policy refused an address curl tried */
    bool body_capped; /* we stopped reading a long response on purpose */
    bool get;         /* JOB_CALL: GET instead of POST */
    int should_retry; /* JOB_CALL: Stripe-Should-Retry of the answer, -1 when absent */
    size_t keep_max;  /* JOB_CALL: response bytes kept for the caller */
    struct kith_buf kept;
};

struct result_node {
    struct result_node *next;
    struct kith_send_result res;
};

struct kith_sender {
    uv_loop_t *loop;
    const struct kith_netpolicy *policy;
    uint32_t timeout_ms;
    kith_send_result_fn on_result;
    void *ctx;

    uv_async_t async;
    uv_thread_t thread;
    CURLM *multi;

    uv_mutex_t mu; /* guards everything below */
    struct job *queue_head, *queue_tail;
    struct result_node *results_head, *results_tail;
    size_t busy; /* queued + running + results not yet handed to on_result */
    bool stopping;

    /* Owned by the thread alone. */
    struct job *active;
    size_t active_n;

    /* Owned by the loop thread alone. */
    bool closing;
};

static uv_once_t curl_once = UV_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s ? s : "");
    char *p = xcalloc(1, n + 1);
    if (n)
        memcpy(p, s, n);
    return p;
}

static struct curl_slist *xslist_append(struct curl_slist *list, const char *s)
{
    struct curl_slist *l = curl_slist_append(list, s);
    if (l == NULL)
        abort();
    return l;
}

static void job_free(struct job *j)
{
    if (j == NULL)
        return;
    if (j->easy)
        curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->headers);
    curl_slist_free_all(j->rcpt);
    free(j->url);
    free(j->payload);
    free(j->mail_from);
    kith_buf_dispose(&j->kept);
    free(j);
}

/* ---- building requests (any thread) ---- */

static void enqueue(struct kith_sender *s, struct job *j)
{
    j->sender = s;
    j->retry_after_s = -1;
    j->should_retry = -1;
    uv_mutex_lock(&s->mu);
    if (s->queue_tail)
        s->queue_tail->next = j;
    else
        s->queue_head = j;
    s->queue_tail = j;
    s->busy++;
    /* Under the lock so it cannot race with destroy tearing the multi handle down. */
    curl_multi_wakeup(s->multi);
    uv_mutex_unlock(&s->mu);
}

void kith_sender_post(struct kith_sender *s, const struct kith_send_request *req)
{
    struct job *j = xcalloc(1, sizeof(*j));
    char line[256];

    j->kind = JOB_HTTP;
    j->tag = req->tag;
    j->url = xstrdup(req->url);
    j->payload_len = req->body ? req->body_len : 0;
    j->payload = xcalloc(1, j->payload_len + 1);
    if (j->payload_len)
        memcpy(j->payload, req->body, j->payload_len);
    j->headers = xslist_append(NULL, "Content-Type: application/json");
    /* Header values come from kith itself, but a CR or LF would still split the header. */
    snprintf(line, sizeof(line), "webhook-id: %s", req->msg_id ? req->msg_id : "");
    line[strcspn(line, "\r\n")] = '\0';
    j->headers = xslist_append(j->headers, line);
    snprintf(line, sizeof(line), "webhook-timestamp: %lld", (long long)req->timestamp_s);
    j->headers = xslist_append(j->headers, line);
    snprintf(line, sizeof(line), "webhook-signature: %s", req->signature ? req->signature : "");
    line[strcspn(line, "\r\n")] = '\0';
    j->headers = xslist_append(j->headers, line);
    j->headers = xslist_append(j->headers, "User-Agent: kith-webhooks/1");
    /* No "Expect: 100-continue" pause for bodies over 1 KiB. */
    j->headers = xslist_append(j->headers, "Expect:");
    enqueue(s, j);
}

void kith_sender_call(struct kith_sender *s, const struct kith_call_request *req)
{
    struct job *j = xcalloc(1, sizeof(*j));
    j->kind = JOB_CALL;
    j->tag = req->tag;
    j->get = req->get;
    j->keep_max = req->keep_max ? req->keep_max : KITH_SENDER_CALL_KEEP_MAX;
    j->url = xstrdup(req->url);
    j->payload_len = req->body ? req->body_len : 0;
    j->payload = xcalloc(1, j->payload_len + 1);
    if (j->payload_len)
        memcpy(j->payload, req->body, j->payload_len);
    for (size_t i = 0; req->headers && req->headers[i]; i++) {
        char *line = xstrdup(req->headers[i]);
        line[strcspn(line, "\r\n")] = '\0'; /* a CR or LF would start a header of its own */
        j->headers = xslist_append(j->headers, line);
        free(line);
    }
    j->headers = xslist_append(j->headers, "Expect:");
    enqueue(s, j);
}

/* Appends s without CR and LF, so no caller text can start a header of its own. */
static void put_header_value(struct kith_buf *b, const char *s)
{
    for (; s && *s; s++)
        if (*s != '\r' && *s != '\n')
            kith_buf_append(b, s, 1);
}

/* The address inside "<...>" when there is one, else the whole text; CR/LF dropped. */
static char *envelope_address(const char *addr)
{
    struct kith_buf b = {0};
    const char *lt = addr ? strchr(addr, '<') : NULL;
    const char *gt = lt ? strchr(lt, '>') : NULL;
    kith_buf_str(&b, "<");
    if (lt && gt) {
        for (const char *c = lt + 1; c < gt; c++)
            if (*c != '\r' && *c != '\n')
                kith_buf_append(&b, c, 1);
    } else {
        put_header_value(&b, addr);
    }
    kith_buf_str(&b, ">");
    return kith_buf_take(&b);
}

/* Subject: plain when ASCII, else RFC 2047 base64 encoded-words cut on UTF-8 boundaries. */
static void put_subject(struct kith_buf *b, const char *subject)
{
    struct kith_buf clean = {0};
    bool ascii = true;
    kith_buf_str(&clean, "");
    put_header_value(&clean, subject);
    for (size_t i = 0; i < clean.len; i++)
        if ((unsigned char)clean.data[i] >= 0x80)
            ascii = false;
    kith_buf_str(b, "Subject: ");
    if (ascii) {
        kith_buf_append(b, clean.data, clean.len);
    } else {
        size_t i = 0;
        while (i < clean.len) {
            size_t n = clean.len - i > 45 ? 45 : clean.len - i;
            /* Back off so the chunk does not end inside a multi-byte character. */
            while (n > 1 && i + n < clean.len && ((unsigned char)clean.data[i + n] & 0xc0) == 0x80)
                n--;
            char enc[64];
            if (!kith_crypto_base64_encode((const uint8_t *)clean.data + i, n, enc, sizeof(enc)))
                abort();
            if (i > 0)
                kith_buf_str(b, "\r\n ");
            kith_buf_str(b, "=?UTF-8?B?");
            kith_buf_str(b, enc);
            kith_buf_str(b, "?=");
            i += n;
        }
    }
    kith_buf_str(b, "\r\n");
    kith_buf_dispose(&clean);
}

static void put_date(struct kith_buf *b, int64_t now_ms)
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    kith_buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday % 7],
                    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                    tm.tm_sec);
}

void kith_sender_mail(struct kith_sender *s, const struct kith_mail_request *req)
{
    struct job *j = xcalloc(1, sizeof(*j));
    struct kith_buf m = {0};
    char *rcpt = envelope_address(req->to);
    uint8_t rnd[12];
    char hex[25];
    const char *at = req->from ? strrchr(req->from, '@') : NULL;

    j->kind = JOB_MAIL;
    j->tag = req->tag;
    j->url = xstrdup(req->smtp_url);
    j->mail_from = envelope_address(req->from);
    j->rcpt = xslist_append(NULL, rcpt);
    free(rcpt);

    put_date(&m, kith_clock_now_ms());
    kith_buf_str(&m, "From: ");
    put_header_value(&m, req->from);
    kith_buf_str(&m, "\r\nTo: ");
    put_header_value(&m, req->to);
    kith_buf_str(&m, "\r\n");
    put_subject(&m, req->subject);
    kith_crypto_random(rnd, sizeof(rnd));
    kith_crypto_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    kith_buf_str(&m, "Message-ID: <");
    kith_buf_str(&m, hex);
    kith_buf_str(&m, "@");
    if (at != NULL) {
        /* The domain of From, without any closing '>' or CR/LF. */
        for (const char *c = at + 1; *c && *c != '>' && *c != '\r' && *c != '\n'; c++)
            kith_buf_append(&m, c, 1);
    } else {
        kith_buf_str(&m, "kith.invalid");
    }
    kith_buf_str(&m, ">\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n\r\n");
    /* Lone LF and lone CR become CRLF; curl dot-stuffs lines that start with '.'. */
    for (const char *c = req->body ? req->body : ""; *c; c++) {
        if (*c == '\r') {
            kith_buf_str(&m, "\r\n");
            if (c[1] == '\n')
                c++;
        } else if (*c == '\n') {
            kith_buf_str(&m, "\r\n");
        } else {
            kith_buf_append(&m, c, 1);
        }
    }
    if (m.len < 2 || m.data[m.len - 2] != '\r' || m.data[m.len - 1] != '\n')
        kith_buf_str(&m, "\r\n");
    j->payload_len = m.len;
    j->payload = kith_buf_take(&m);
    enqueue(s, j);
}

size_t kith_sender_busy(struct kith_sender *s)
{
    size_t n;
    uv_mutex_lock(&s->mu);
    n = s->busy;
    uv_mutex_unlock(&s->mu);
    return n;
}

/* ---- curl callbacks (sender thread) ---- */

static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
    struct job *j = clientp;
    (void)purpose;
    /* Webhooks only: an API call goes to the operator's own configured base URL. */
    if (j->kind == JOB_HTTP && !kith_netpolicy_allows(j->sender->policy, &address->addr)) {
        j->blocked = true;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct job *j = userdata;
    size_t n = size * nmemb;
    j->received += n;
    if (j->kind == JOB_CALL) {
        if (j->received > j->keep_max) {
            j->body_capped = true; /* an answer cut short cannot be read: the call failed */
            return 0;
        }
        kith_buf_append(&j->kept, ptr, n);
        return n;
    }
    if (j->received > SENDER_BODY_KEEP_MAX) {
        /* The status is what we came for; a receiver streaming forever must not hold us. */
        j->body_capped = true;
        return 0;
    }
    return n;
}

static bool header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct job *j = userdata;
    size_t n = size * nmemb;
    char value[128];

    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        j->retry_after_s = -1; /* a new response (after 1xx) starts afresh */
        j->should_retry = -1;
        return n;
    }
    if (j->kind == JOB_CALL && header_is(ptr, n, "Stripe-Should-Retry")) {
        /* The API's own word on retrying this request (Stripe sends it on errors). */
        const char *v = ptr + strlen("Stripe-Should-Retry") + 1;
        while (v < ptr + n && (*v == ' ' || *v == '\t'))
            v++;
        size_t left = (size_t)(ptr + n - v);
        j->should_retry = left >= 4 && strncasecmp(v, "true", 4) == 0    ? 1
                          : left >= 5 && strncasecmp(v, "false", 5) == 0 ? 0
                                                                         : -1;
        return n;
    }
    if (!header_is(ptr, n, "Retry-After"))
        return n;
    size_t off = strlen("Retry-After") + 1;
    while (off < n && (ptr[off] == ' ' || ptr[off] == '\t'))
        off++;
    size_t vlen = n - off;
    while (vlen > 0 && (ptr[off + vlen - 1] == '\r' || ptr[off + vlen - 1] == '\n' ||
                        ptr[off + vlen - 1] == ' ' || ptr[off + vlen - 1] == '\t'))
        vlen--;
    if (vlen == 0 || vlen >= sizeof(value))
        return n;
    memcpy(value, ptr + off, vlen);
    value[vlen] = '\0';
    if (strspn(value, "0123456789") == vlen) {
        int64_t v = 0;
        for (size_t i = 0; i < vlen && v <= SENDER_RETRY_AFTER_MAX; i++)
            v = v * 10 + (value[i] - '0');
        j->retry_after_s = v > SENDER_RETRY_AFTER_MAX ? SENDER_RETRY_AFTER_MAX : v;
    } else {
        time_t when = curl_getdate(value, NULL);
        if (when != (time_t)-1) {
            int64_t delta = (int64_t)when - kith_clock_now_ms() / 1000;
            if (delta < 0)
                delta = 0;
            j->retry_after_s = delta > SENDER_RETRY_AFTER_MAX ? SENDER_RETRY_AFTER_MAX : delta;
        }
    }
    return n;
}

static size_t on_read(char *buffer, size_t size, size_t nitems, void *userdata)
{
    struct job *j = userdata;
    size_t room = size * nitems;
    size_t left = j->payload_len - j->payload_off;
    size_t n = left < room ? left : room;
    memcpy(buffer, j->payload + j->payload_off, n);
    j->payload_off += n;
    return n;
}

/* ---- the thread ---- */

#define SETOPT(easy, opt, val)                                                                     \
    do {                                                                                           \
        if (curl_easy_setopt((easy), (opt), (val)) != CURLE_OK)                                    \
            goto fail;                                                                             \
    } while (0)

/* Configures j's easy handle; false when libcurl refuses an option (e.g. a protocol list). */
static bool job_setup(struct kith_sender *s, struct job *j)
{
    CURL *e = curl_easy_init();
    if (e == NULL)
        return false;
    j->easy = e;
    SETOPT(e, CURLOPT_PRIVATE, j);
    SETOPT(e, CURLOPT_URL, j->url);
    SETOPT(e, CURLOPT_NOSIGNAL, 1L);
    SETOPT(e, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
    /* The environment's http_proxy would make curl connect to the proxy, and the policy would
     * judge the proxy instead of the receiver: never use one. */
    SETOPT(e, CURLOPT_PROXY, "");
    SETOPT(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    SETOPT(e, CURLOPT_OPENSOCKETDATA, j);
    SETOPT(e, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(e, CURLOPT_WRITEDATA, j);
    if (j->kind == JOB_HTTP || j->kind == JOB_CALL) {
        SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
        SETOPT(e, CURLOPT_HEADERFUNCTION, on_header);
        SETOPT(e, CURLOPT_HEADERDATA, j);
        SETOPT(e, CURLOPT_HTTPHEADER, j->headers);
        if (j->get) {
            SETOPT(e, CURLOPT_HTTPGET, 1L);
        } else {
            SETOPT(e, CURLOPT_POST, 1L);
            SETOPT(e, CURLOPT_POSTFIELDS, j->payload);
            SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->payload_len);
        }
    } else {
        SETOPT(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        /* smtp:// upgrades with STARTTLS when the relay offers it (certificate verified). */
        SETOPT(e, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
        SETOPT(e, CURLOPT_MAIL_FROM, j->mail_from);
        SETOPT(e, CURLOPT_MAIL_RCPT, j->rcpt);
        SETOPT(e, CURLOPT_UPLOAD, 1L);
        SETOPT(e, CURLOPT_READFUNCTION, on_read);
        SETOPT(e, CURLOPT_READDATA, j);
        SETOPT(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->payload_len);
    }
    return true;
fail:
    return false;
}

static const char *error_name(CURLcode rc, const struct job *j)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_COULDNT_CONNECT:
        return j->blocked ? "blocked_address" : "connect_failed";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "dns_failed";
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "unsupported_protocol";
    case CURLE_URL_MALFORMAT:
        return "bad_url";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return "tls_failed";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return "connection_lost";
    case CURLE_LOGIN_DENIED:
        return "smtp_auth_failed";
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_UPLOAD_FAILED:
        return "upload_failed";
    default:
        return j->blocked ? "blocked_address" : "transfer_failed";
    }
}

/* The host of j's URL for logs (never its path, query or credentials). */
static void url_host(const char *url, char *out, size_t outsize)
{
    CURLU *u = curl_url();
    char *host = NULL;
    kith_strlcpy(out, "-", outsize);
    if (u == NULL)
        return;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        kith_strlcpy(out, host, outsize);
    curl_free(host);
    curl_url_cleanup(u);
}

static void finish_job(struct kith_sender *s, struct job *j, CURLcode rc)
{
    struct result_node *r = xcalloc(1, sizeof(*r));
    long code = 0;
    char host[128];

    r->res.tag = j->tag;
    r->res.retry_after_s = -1;
    r->res.should_retry = -1;
    r->res.latency_ms = (int64_t)((kith_clock_mono_ns() - j->start_ns) / 1000000u);
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
    if (j->kind == JOB_CALL) {
        if (rc == CURLE_OK) {
            r->res.http_status = (int)code;
            r->res.retry_after_s = j->retry_after_s;
            r->res.ok = code >= 200 && code <= 299;
            if (!r->res.ok)
                snprintf(r->res.error, sizeof(r->res.error), "http_%ld", code);
            r->res.should_retry = j->should_retry;
            r->res.body_len = j->kept.len;
            r->res.body = kith_buf_take(&j->kept);
        } else {
            kith_strlcpy(r->res.error, j->body_capped ? "response_too_large" : error_name(rc, j),
                         sizeof(r->res.error));
        }
    } else if (j->kind == JOB_HTTP) {
        /* A body we stopped reading ends in a write error, yet the answer had arrived. */
        if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && j->body_capped && code > 0)) {
            r->res.http_status = (int)code;
            r->res.retry_after_s = j->retry_after_s;
            r->res.ok = code >= 200 && code <= 299;
            if (!r->res.ok)
                snprintf(r->res.error, sizeof(r->res.error), "http_%ld", code);
        } else {
            kith_strlcpy(r->res.error, error_name(rc, j), sizeof(r->res.error));
        }
    } else {
        /* For mail, http_status carries the relay's last SMTP reply code, for diagnostics. */
        r->res.http_status = (int)code;
        r->res.ok = rc == CURLE_OK;
        if (!r->res.ok) {
            if (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_WEIRD_SERVER_REPLY)
                snprintf(r->res.error, sizeof(r->res.error), "smtp_%ld", code);
            else
                kith_strlcpy(r->res.error, error_name(rc, j), sizeof(r->res.error));
        }
    }

    url_host(j->url, host, sizeof(host));
    static const char *const kinds[] = {"webhook", "mail", "call"};
    if (strcmp(r->res.error, "blocked_address") == 0) /* likely a missing allow CIDR */
        kith_log_warn("sender", "event=%s_refused host=%s reason=blocked_address", kinds[j->kind],
                      host);
    else
        kith_log_debug("sender", "event=%s_done host=%s status=%d latency_ms=%lld ok=%d error=%s",
                       kinds[j->kind], host, r->res.http_status, (long long)r->res.latency_ms,
                       r->res.ok ? 1 : 0, r->res.ok ? "-" : r->res.error);

    uv_mutex_lock(&s->mu);
    if (s->results_tail)
        s->results_tail->next = r;
    else
        s->results_head = r;
    s->results_tail = r;
    uv_mutex_unlock(&s->mu);
    uv_async_send(&s->async);
}

static void active_add(struct kith_sender *s, struct job *j)
{
    j->prev = NULL;
    j->next = s->active;
    if (s->active)
        s->active->prev = j;
    s->active = j;
    s->active_n++;
}

static void active_remove(struct kith_sender *s, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        s->active = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->next = j->prev = NULL;
    s->active_n--;
}

/* Moves queued jobs into the multi handle while there is room. False when stopping. */
static bool start_queued(struct kith_sender *s)
{
    struct job *take = NULL;
    uv_mutex_lock(&s->mu);
    if (s->stopping) {
        uv_mutex_unlock(&s->mu);
        return false;
    }
    size_t room = SENDER_ACTIVE_MAX - s->active_n;
    struct job **tail = &take;
    while (room > 0 && s->queue_head) {
        struct job *j = s->queue_head;
        s->queue_head = j->next;
        if (s->queue_head == NULL)
            s->queue_tail = NULL;
        j->next = NULL;
        *tail = j;
        tail = &j->next;
        room--;
    }
    uv_mutex_unlock(&s->mu);

    while (take) {
        struct job *j = take;
        take = j->next;
        j->next = NULL;
        j->start_ns = kith_clock_mono_ns();
        if (!job_setup(s, j) || curl_multi_add_handle(s->multi, j->easy) != CURLM_OK) {
            /* finish_job needs an easy handle for getinfo; a fresh one answers code 0. */
            if (j->easy == NULL && (j->easy = curl_easy_init()) == NULL)
                abort();
            finish_job(s, j, CURLE_FAILED_INIT);
            job_free(j);
            continue;
        }
        active_add(s, j);
    }
    return true;
}

static void reap_done(struct kith_sender *s)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        CURLcode rc = msg->data.result;
        CURL *e = msg->easy_handle;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
        struct job *j = (struct job *)(void *)priv;
        curl_multi_remove_handle(s->multi, e);
        active_remove(s, j);
        finish_job(s, j, rc);
        job_free(j);
    }
}

static void run_thread(void *arg)
{
    struct kith_sender *s = arg;
    int running = 0;
    while (start_queued(s)) {
        curl_multi_perform(s->multi, &running);
        reap_done(s);
        /* New room may have opened; start before sleeping so no job waits a poll period. */
        if (!start_queued(s))
            break;
        curl_multi_perform(s->multi, &running);
        reap_done(s);
        curl_multi_poll(s->multi, NULL, 0, SENDER_POLL_MS, NULL);
    }
    /* Stopping: abandon what is in flight; its caller's records still say pending. */
    while (s->active) {
        struct job *j = s->active;
        active_remove(s, j);
        curl_multi_remove_handle(s->multi, j->easy);
        job_free(j);
    }
}

/* ---- the loop side ---- */

static void on_async(uv_async_t *h)
{
    struct kith_sender *s = h->data;
    struct result_node *list;

    uv_mutex_lock(&s->mu);
    list = s->results_head;
    s->results_head = s->results_tail = NULL;
    uv_mutex_unlock(&s->mu);

    while (list) {
        struct result_node *r = list;
        list = r->next;
        /* on_result may destroy the sender; then the rest are dropped, as documented. */
        if (!s->closing) {
            s->on_result(s->ctx, &r->res);
            if (!s->closing) {
                uv_mutex_lock(&s->mu);
                s->busy--;
                uv_mutex_unlock(&s->mu);
            }
        }
        free(r->res.body);
        free(r);
    }
}

/* The mutex and the sender go with the handle, here and nowhere earlier: on_async may be on the
 * stack below a destroy (on_result destroyed the sender) and reads s after on_result returns. */
static void on_closed(uv_handle_t *h)
{
    struct kith_sender *s = h->data;
    uv_mutex_destroy(&s->mu);
    free(s);
}

enum kith_status kith_sender_create(uv_loop_t *loop, const struct kith_netpolicy *policy,
                                    uint32_t timeout_ms, kith_send_result_fn on_result, void *ctx,
                                    struct kith_sender **out, struct kith_err *err)
{
    enum kith_status st = KITH_OK;
    struct kith_sender *s = NULL;
    bool mu_ready = false;

    *out = NULL;
    if (loop == NULL || policy == NULL || on_result == NULL || timeout_ms == 0) {
        st = kith_err_set(err, KITH_E_INVALID_PARAM, NULL,
                          "sender needs a loop, a policy, a callback and a timeout");
        goto out;
    }
    uv_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK) {
        st = kith_err_set(err, KITH_E_INTERNAL, NULL, "libcurl failed to initialise: %s",
                          curl_easy_strerror(curl_init_rc));
        goto out;
    }
    s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->policy = policy;
    s->timeout_ms = timeout_ms;
    s->on_result = on_result;
    s->ctx = ctx;
    if (uv_mutex_init(&s->mu) != 0) {
        st = kith_err_set(err, KITH_E_INTERNAL, NULL, "sender: mutex");
        goto out;
    }
    mu_ready = true;
    s->multi = curl_multi_init();
    if (s->multi == NULL) {
        st = kith_err_set(err, KITH_E_INTERNAL, NULL, "sender: curl_multi_init failed");
        goto out;
    }
    if (uv_async_init(loop, &s->async, on_async) != 0) {
        st = kith_err_set(err, KITH_E_INTERNAL, NULL, "sender: uv_async_init failed");
        goto out;
    }
    s->async.data = s;
    if (uv_thread_create(&s->thread, run_thread, s) != 0) {
        /* The async handle is live now: close it and let the close callback free s. */
        st = kith_err_set(err, KITH_E_INTERNAL, NULL, "sender: thread creation failed");
        curl_multi_cleanup(s->multi);
        s->multi = NULL;
        s->closing = true;
        uv_close((uv_handle_t *)&s->async, on_closed); /* destroys the mutex, frees s */
        s = NULL;
        goto out;
    }
    *out = s;
    s = NULL;
out:
    if (s != NULL) {
        if (s->multi)
            curl_multi_cleanup(s->multi);
        if (mu_ready)
            uv_mutex_destroy(&s->mu);
        free(s);
    }
    return st;
}

void kith_sender_destroy(struct kith_sender *s)
{
    if (s == NULL)
        return;
    uv_mutex_lock(&s->mu);
    s->stopping = true;
    curl_multi_wakeup(s->multi);
    uv_mutex_unlock(&s->mu);
    uv_thread_join(&s->thread);

    curl_multi_cleanup(s->multi);
    s->multi = NULL;
    while (s->queue_head) {
        struct job *j = s->queue_head;
        s->queue_head = j->next;
        job_free(j);
    }
    while (s->results_head) {
        struct result_node *r = s->results_head;
        s->results_head = r->next;
        free(r->res.body);
        free(r);
    }
    s->queue_tail = NULL;
    s->results_tail = NULL;
    s->busy = 0;
    s->closing = true;
    uv_close((uv_handle_t *)&s->async, on_closed); /* destroys the mutex, frees s */
}
