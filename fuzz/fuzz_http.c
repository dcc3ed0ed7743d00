/*
 * fuzz_http.c: the HTTP/1.1 server layer (src/http) as a client sees it. Once per process, a
 * kith_http_server listens on 127.0.0.1 (ephemeral port) in a libuv loop on this thread, with a
 * few routes: a synchronous echo, captures, and one that answers later from a timer (so a client
 * that leaves first exercises the `aborted` path). Each input is one TCP connection: its bytes
 * are written (in one piece, or in chunks of 7, 64 or 1000 bytes by input length modulo 4, so
 * requests straddle reads), the loop runs until the server has nothing more to say, then the
 * client half-closes and waits for the server to close (bounded by a 2 s deadline).
 *
 * Beyond the sanitizers and "never hangs", the same bytes are read by a small, strict reference
 * parser written here from RFC 9112 (below): every handler records what it was given (method,
 * path, query, headers, captures, body), and for every request the reference can read, that
 * record, the route and the answer's status must be what the reference predicts; where the
 * reference refuses a request, the server must refuse it too, with one of the statuses the
 * reference allows (400, 413, 414, 431, 501, 505), and hand nothing more to a handler.
 *
 * It is not a client conformance test (tests/unit/http does that) and it runs no engine code.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <llhttp.h>

#include "fuzz_check.h"
#include "kith/clock.h"
#include "kith/http.h"

#define DEADLINE_NS (2000ull * 1000 * 1000)
#define QUIET_ROUNDS 3
#define ANSWERS_MAX (4u << 20) /* answer bytes kept for the comparison */

static uv_loop_t loop;
static struct kith_http_server *server;
static int port;
static size_t deferred_pending; /* answers scheduled on timers, not yet given */

/* Per connection, on the client side. */
static uv_poll_t poll_handle;
static int client_fd = -1;
static bool peer_closed;  /* recv gave EOF or an error */
static size_t bytes_seen; /* answer bytes read so far */

/* ---- records: what a handler was given, built the same way by both sides ---------------- */

struct str {
    char *p;
    size_t len, cap;
};

static void str_add(struct str *s, const void *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *q = realloc(s->p, cap);
        if (q == NULL)
            abort();
        s->p = q;
        s->cap = cap;
    }
    if (n > 0)
        memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = '\0';
}

/* A tagged, length-prefixed field: "P5:/echo". */
static void str_field(struct str *s, char tag, const char *p, size_t n)
{
    char head[32];
    int k = snprintf(head, sizeof(head), "%c%zu:", tag, n);
    str_add(s, head, (size_t)k);
    str_add(s, p, n);
}

static void str_fieldz(struct str *s, char tag, const char *z)
{
    str_field(s, tag, z, strlen(z));
}

static struct str seen; /* one record per request a handler got, in order */

static void record(const struct kith_http_request *req)
{
    str_fieldz(&seen, 'R', req->route_name);
    str_fieldz(&seen, 'M', req->method_name);
    str_fieldz(&seen, 'P', req->path);
    str_fieldz(&seen, 'Q', req->query);
    for (size_t i = 0; i < req->header_count; i++) {
        str_fieldz(&seen, 'N', req->headers[i].name);
        str_fieldz(&seen, 'V', req->headers[i].value);
    }
    for (size_t i = 0; i < req->param_count; i++)
        str_fieldz(&seen, 'C', req->params[i]);
    str_field(&seen, 'B', req->body, req->body_len);
    str_add(&seen, "\n", 1);
}

static struct str answers; /* the answer bytes, up to ANSWERS_MAX */
static bool answers_cut;

static void echo(struct kith_http_request *req, void *ctx)
{
    record(req);
    const char *type = kith_http_header(req, "content-type");
    struct kith_http_header h[] = {{"Content-Type", type ? type : "application/octet-stream"},
                                   {"X-Route", req->route_name}};
    kith_http_respond(req, 200, h, 2, req->body, req->body_len);
}

static void params(struct kith_http_request *req, void *ctx)
{
    record(req);
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
    record(req);
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

/* ---- the reference reading ----------------------------------------------------------------
 *
 * An independent, deliberately small reading of the same bytes, written from RFC 9110/9112 and
 * the limits of docs/internals/http.md rather than from src/http: request line, header fields,
 * Content-Length and chunked bodies, trailers, keep-alive, the target's forms and decoding, and
 * the fuzz routes. It predicts, request after request, what a handler must be given (a record,
 * compared byte for byte with what the handler saw) or that the server must refuse, and with
 * which statuses. Where llhttp is stricter or laxer than the RFC in ways kith accepts (a tab
 * after a Content-Length, the methods it knows), it follows llhttp, and says so.
 *
 * When a refusal is certain, the server may answer it at different moments, which matters when
 * the input stops early or has a second fault: "immediate" ones (a limit crossed, a byte llhttp
 * stops at) are answered at that byte; "deferred" ones (kith's checks of a complete head) when
 * the head is complete; `maybe` ones at either; `late` ones (a bare LF) by the end of the
 * message; `possible` ones may not come at all. A refusal's statuses are those the server may
 * have answered by then. Whatever the reference does not model (other protocols, chunk
 * extensions beyond ";name=value", odd Connection or Transfer-Encoding lists...) ends the
 * comparison there (REF_UNSURE), except that a request already certain to be refused must never
 * reach a handler.
 */

enum ref_end {
    REF_DONE,       /* every byte read, between requests */
    REF_CLOSED,     /* the last request closes the connection: later bytes are never read */
    REF_REFUSED,    /* the next request is refused with one of `refusals` */
    REF_INCOMPLETE, /* the input stops inside a request: no answer, a 408, or one of `refusals` */
    REF_UNSURE,     /* beyond the model: nothing is checked from here */
};

enum {
    R400 = 1u << 0,
    R413 = 1u << 1,
    R414 = 1u << 2,
    R431 = 1u << 3,
    R501 = 1u << 4,
    R505 = 1u << 5,
    RANY = 1u << 6, /* any refusal */
};

static unsigned status_bit(int status)
{
    switch (status) {
    case 400:
        return R400;
    case 413:
        return R413;
    case 414:
        return R414;
    case 431:
        return R431;
    case 501:
        return R501;
    case 505:
        return R505;
    }
    return 0;
}

static bool refusal_allowed(unsigned set, int status)
{
    return (set & RANY) ? status >= 400 : (set & status_bit(status)) != 0;
}

#define REF_REQS_MAX 512
#define REF_FIELDS_MAX 64 /* KITH_HTTP_HEADER_COUNT_MAX, by the documented limit */
#define REF_HEADERS_MAX (16 * 1024)
#define REF_URL_MAX 8192
#define REF_BODY_MAX (64 * 1024)

struct ref_req {
    int status;     /* 200, 202 (answered later), 404 or 405 */
    bool head;      /* a HEAD request: its answer has no body */
    size_t rec_end; /* ref.recs length after this request's record */
};

struct ref {
    struct ref_req reqs[REF_REQS_MAX];
    size_t count;
    struct str recs;
    enum ref_end end;
    unsigned refusals;
};

struct ref_field {
    const char *name, *value;
    size_t name_len, value_len; /* value without its leading and trailing OWS */
    size_t raw_len;             /* with its trailing OWS */
};

struct ref_te {
    size_t codings, chunked;
    bool last_chunked, odd;
};

/* One request being read. */
struct ref_head {
    const char *method, *target;
    size_t method_len, target_len;
    int minor;
    struct ref_field f[REF_FIELDS_MAX];
    size_t nf;         /* fields of the head */
    size_t fields;     /* fields so far, head and trailers: the server's count */
    size_t bytes;      /* name and raw value bytes so far: the server's count */
    unsigned maybe;    /* refusals certain already, which the server may answer at any time */
    unsigned deferred; /* refusals the server finds when the head is complete */
    unsigned late;     /* refusals certain already, found by the end of the message */
    unsigned possible; /* refusals llhttp may make at once, or not */
    bool unsure_after; /* this request is modelled, what follows it is not */
    bool has_cl, has_te;
    struct ref_te te;
};

static bool ref_tchar(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7F && strchr("\"(),/:;<=>?@[\\]{}", ch) == NULL;
}

static bool ref_ieq(const char *a, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(a, lit, n) == 0;
}

static bool ref_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Splits a list value at commas (RFC 9110 5.6.1); calls fn for each element, trimmed. */
static void ref_list(const char *v, size_t n, void (*fn)(void *ctx, const char *e, size_t len),
                     void *ctx)
{
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && ref_ows(v[a]))
            a++;
        while (b > a && ref_ows(v[b - 1]))
            b--;
        fn(ctx, v + a, b - a);
        if (j == n)
            return;
        i = j + 1;
    }
}

static bool ref_token(const char *e, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!ref_tchar((unsigned char)e[i]))
            return false;
    return true;
}

static void ref_te_element(void *ctx, const char *e, size_t n)
{
    struct ref_te *te = ctx;
    if (!ref_token(e, n)) {
        te->odd = true;
        return;
    }
    te->codings++;
    te->last_chunked = ref_ieq(e, n, "chunked");
    te->chunked += te->last_chunked;
}

struct ref_conn {
    bool close, keep_alive, odd;
};

static void ref_conn_element(void *ctx, const char *e, size_t n)
{
    struct ref_conn *k = ctx;
    if (n == 0)
        return;
    if (!ref_token(e, n))
        k->odd = true;
    k->close |= ref_ieq(e, n, "close");
    k->keep_alive |= ref_ieq(e, n, "keep-alive");
}

/* UTF-8 by the table of well-formed sequences (Unicode, table 3-7). */
static bool ref_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char b = s[i];
        size_t len = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : 4;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b >= 0x80 && b < 0xC2)
            return false;
        if (b > 0xF4)
            return false;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F;
        else if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            unsigned char c = s[i + k];
            if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF))
                return false;
        }
        i += len;
    }
    return true;
}

static int ref_hex(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* RFC 3986 host [":" port] without userinfo. */
static bool ref_authority(const char *a, size_t n)
{
    size_t host = n;
    if (n > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (close == NULL || close == a + 1)
            return false;
        host = (size_t)(close - a) + 1;
        if (strspn(a + 1, "0123456789abcdefABCDEF:.") < host - 2)
            return false;
    } else {
        const char *colon = memchr(a, ':', n);
        host = colon ? (size_t)(colon - a) : n;
        if (host == 0)
            return false;
        for (size_t i = 0; i < host; i++) {
            unsigned char ch = (unsigned char)a[i];
            if (ch == '%') {
                if (host - i < 3 || ref_hex(a[i + 1]) < 0 || ref_hex(a[i + 2]) < 0)
                    return false;
                i += 2;
            } else if (!isalnum(ch) && strchr("-._~!$&'()*+,;=", ch) == NULL) {
                return false;
            }
        }
    }
    if (host == n)
        return true;
    if (a[host] != ':')
        return false;
    for (size_t i = host + 1; i < n; i++)
        if (!isdigit((unsigned char)a[i]))
            return false;
    return true;
}

struct ref_target {
    struct str path;
    const char *query, *authority;
    size_t query_len, authority_len;
};

/* The server's reading of a target it accepts: decoded path, raw query, authority. Returns false
 * when the target must be refused (400). */
static bool ref_target(const char *t, size_t n, struct ref_target *out)
{
    out->path.len = 0;
    out->authority = NULL;
    out->authority_len = 0;
    if (memchr(t, '#', n) != NULL)
        return false;
    size_t path = 0;
    if (n > 0 && t[0] == '/') {
        path = 0;
    } else if (n >= 7 && strncasecmp(t, "http://", 7) == 0) {
        path = 7;
    } else if (n >= 8 && strncasecmp(t, "https://", 8) == 0) {
        path = 8;
    } else {
        return false;
    }
    if (path > 0) {
        size_t a = path;
        while (path < n && t[path] != '/' && t[path] != '?')
            path++;
        if (memchr(t + a, '@', path - a) != NULL || !ref_authority(t + a, path - a))
            return false;
        out->authority = t + a;
        out->authority_len = path - a;
    }
    const char *q = memchr(t + path, '?', n - path);
    size_t path_end = q ? (size_t)(q - t) : n;
    out->query = q ? q + 1 : t + n;
    out->query_len = q ? n - path_end - 1 : 0;
    if (path_end == path)
        str_add(&out->path, "/", 1);
    for (size_t i = path; i < path_end; i++) {
        char ch = t[i];
        if (ch == '%') {
            if (path_end - i < 3 || ref_hex(t[i + 1]) < 0 || ref_hex(t[i + 2]) < 0)
                return false;
            ch = (char)(ref_hex(t[i + 1]) * 16 + ref_hex(t[i + 2]));
            if (ch == '\0')
                return false;
            i += 2;
        }
        str_add(&out->path, &ch, 1);
    }
    if (!ref_utf8((const unsigned char *)out->path.p, out->path.len))
        return false;
    /* A ".." segment, between slashes or at the end. */
    const char *p = out->path.p, *e = p + out->path.len;
    for (const char *s = p; s < e; s++)
        if (s[0] == '/' && e - s >= 3 && s[1] == '.' && s[2] == '.' && (e - s == 3 || s[3] == '/'))
            return false;
    return true;
}

/* The fuzz routes, matched segment by segment. Returns the route, or NULL with *allowed telling
 * whether some route had this path (405) or none (404). Captures go to caps. */
static const struct kith_http_route *ref_route(enum kith_http_method m, const char *path,
                                               size_t path_len, struct str *caps, bool *allowed)
{
    const struct kith_http_route *head = NULL;
    *allowed = false;
    for (size_t r = 0; r < sizeof(routes) / sizeof(routes[0]); r++) {
        const char *pat = routes[r].pattern, *pp = path, *pe = path + path_len;
        struct str got = {0};
        bool ok = true;
        while (ok) {
            /* Both at the start of a segment (after a '/'), or both at the end. */
            if (*pat == '\0' || pp == pe) {
                ok = *pat == '\0' && pp == pe;
                break;
            }
            if (*pat != '/' || *pp != '/') {
                ok = false;
                break;
            }
            pat++;
            pp++;
            size_t plen = strcspn(pat, "/");
            const char *slash = memchr(pp, '/', (size_t)(pe - pp));
            size_t slen = slash ? (size_t)(slash - pp) : (size_t)(pe - pp);
            if (pat[0] == '{') {
                ok = slen > 0;
                str_field(&got, 'C', pp, slen);
            } else {
                ok = plen == slen && memcmp(pat, pp, slen) == 0;
            }
            pat += plen;
            pp += slen;
        }
        if (ok) {
            *allowed = true;
            if (routes[r].method == m) {
                caps->len = 0;
                str_add(caps, got.p ? got.p : "", got.len);
                free(got.p);
                return &routes[r];
            }
            if (m == KITH_HTTP_HEAD && routes[r].method == KITH_HTTP_GET && head == NULL) {
                head = &routes[r];
                caps->len = 0;
                str_add(caps, got.p ? got.p : "", got.len);
            }
        }
        free(got.p);
    }
    return head;
}

enum ref_step {
    STEP_OK,
    STEP_REFUSED,
    STEP_INCOMPLETE,
    STEP_UNSURE,
};

static const char *ref_why; /* what the reference did not model, for KITH_FUZZ_HTTP_VERBOSE */

static enum ref_step unsure(const char *why)
{
    ref_why = why;
    return STEP_UNSURE;
}

/* What the server may already have answered. */
static unsigned pending(const struct ref_head *h)
{
    return h->maybe | h->late | h->possible;
}

/* Whether llhttp takes a Content-Length value: digits that fit 64 bits, then spaces (a tab
 * there is refused: strict, and fine); `partial` when more may follow (it may still be empty). */
static bool ref_cl_ok(const char *v, size_t n, bool partial)
{
    uint64_t x = 0;
    size_t i = 0;
    for (; i < n && isdigit((unsigned char)v[i]); i++) {
        unsigned d = (unsigned)(v[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
    }
    if (i == 0 && !partial)
        return false;
    while (i < n && v[i] == ' ')
        i++;
    return i == n && (partial || i > 0);
}

/* Header or trailer fields up to the empty line. */
static enum ref_step ref_fields(struct ref *ref, struct ref_head *h, const char **pp,
                                const char *end, bool trailers)
{
    const char *p = *pp;
    for (;;) {
        ref->refusals = pending(h); /* what an incomplete request may have got */
        if (p == end)
            return STEP_INCOMPLETE;
        if (*p == '\r') {
            if (end - p < 2)
                return STEP_INCOMPLETE;
            if (p[1] != '\n') {
                ref->refusals = R400 | pending(h);
                return STEP_REFUSED;
            }
            *pp = p + 2;
            return STEP_OK;
        }
        if (*p == '\n') {
            /* llhttp takes a bare LF as the empty line; we refuse the message at its end. */
            h->late |= R400;
            *pp = p + 1;
            return STEP_OK;
        }
        if (ref_ows(*p)) {
            /* Obsolete line folding: refused once the server sees the folded line's content,
             * or (a fold of whitespace only) the byte after its end. */
            ref->refusals = R400 | pending(h);
            while (p < end && ref_ows(*p))
                p++;
            if (p < end && *p != '\r' && *p != '\n')
                return STEP_REFUSED;
            while (p < end && *p != '\n')
                p++;
            return end - p >= 2 ? STEP_REFUSED : STEP_INCOMPLETE;
        }
        if (++h->fields > REF_FIELDS_MAX) {
            ref->refusals = R431 | R400 | pending(h);
            return STEP_REFUSED;
        }
        const char *name = p;
        while (p < end && ref_tchar((unsigned char)*p))
            p++;
        size_t name_len = (size_t)(p - name);
        bool over = h->bytes + name_len > REF_HEADERS_MAX;
        if (p == end) {
            ref->refusals = (over ? R431 : 0) | pending(h);
            return over ? STEP_REFUSED : STEP_INCOMPLETE;
        }
        if (*p != ':' || over) {
            ref->refusals = (over ? R431 : 0) | R400 | pending(h);
            return STEP_REFUSED;
        }
        h->bytes += name_len;
        if (name_len == 0) {
            ref->refusals = R400 | pending(h);
            return STEP_REFUSED;
        }
        /* Trailers llhttp gives a meaning to (it reads their values as it does in a head) are
         * not modelled. */
        if (trailers &&
            (ref_ieq(name, name_len, "content-length") ||
             ref_ieq(name, name_len, "transfer-encoding") ||
             ref_ieq(name, name_len, "connection") || ref_ieq(name, name_len, "upgrade")))
            return unsure("a framing field in the trailers");
        p++;
        while (p < end && ref_ows(*p))
            p++;
        /* The value's bytes count from here to the line end, trailing OWS included, as the
         * server receives them. */
        const char *value = p;
        while (p < end && (*p == '\t' || (unsigned char)*p >= 0x20) && *p != 0x7F)
            p++;
        if (h->bytes + (size_t)(p - value) > REF_HEADERS_MAX) {
            ref->refusals = R431 | (p < end && *p != '\r' ? R400 : 0) | pending(h);
            return STEP_REFUSED;
        }
        if (p == end || (*p == '\r' && end - p < 2)) {
            ref->refusals = pending(h);
            /* llhttp reads these values as they come, and refuses a bad one there. */
            if (!trailers && ((ref_ieq(name, name_len, "content-length") &&
                               (h->has_cl || !ref_cl_ok(value, (size_t)(p - value), true))) ||
                              ref_ieq(name, name_len, "transfer-encoding")))
                ref->refusals |= R400;
            return STEP_INCOMPLETE;
        }
        if (*p != '\r' || p[1] != '\n') {
            ref->refusals = R400 | pending(h);
            return STEP_REFUSED;
        }
        h->bytes += (size_t)(p - value);
        size_t raw_len = (size_t)(p - value), value_len = raw_len;
        while (value_len > 0 && ref_ows(value[value_len - 1]))
            value_len--;
        p += 2;
        if (trailers)
            continue;
        h->f[h->nf++] = (struct ref_field){name, value, name_len, value_len, raw_len};
        if (ref_ieq(name, name_len, "content-length")) {
            /* llhttp refuses a second one, and anything but digits. */
            if (h->has_cl || !ref_cl_ok(value, raw_len, false))
                h->maybe |= R400;
            h->has_cl = true;
        }
        if (ref_ieq(name, name_len, "transfer-encoding")) {
            h->has_te = true;
            ref_list(value, value_len, ref_te_element, &h->te);
            if (memchr(value, '\t', raw_len) != NULL)
                h->te.odd = true; /* llhttp takes "chunked\t" for another coding */
            if (h->te.odd)
                h->possible |= R400; /* llhttp reads odd lists its own way */
            /* chunked then anything: llhttp refuses it there and then. */
            if (h->te.chunked > 1 || (h->te.chunked == 1 && !h->te.last_chunked))
                h->maybe |= R400;
        }
        if (h->has_cl && h->has_te)
            h->maybe |= R400;
    }
}

static bool ref_value_of(const struct ref_head *h, const char *name, uint64_t *cl)
{
    for (size_t i = 0; i < h->nf; i++) {
        if (ref_ieq(h->f[i].name, h->f[i].name_len, name)) {
            uint64_t v = 0;
            for (size_t k = 0; k < h->f[i].value_len; k++) {
                unsigned d = (unsigned)(h->f[i].value[k] - '0');
                v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
            }
            *cl = v;
            return true;
        }
    }
    return false;
}

/* Reads one request at *pp. STEP_OK: ref->reqs[] and ref->recs have it, *keep says whether the
 * connection goes on. */
static enum ref_step ref_request(struct ref *ref, const char **pp, const char *end, bool *keep)
{
    static struct ref_head h;
    static struct ref_target tg;
    static struct str caps, body;
    /* The methods llhttp knows for requests (RFC 9110 and WebDAV and friends); ours come first,
     * in enum kith_http_method's order, the others are routed as KITH_HTTP_OTHER. CONNECT and PRI
     * are read differently by llhttp and are left out. */
    static const char *const methods[] = {
        "GET",        "HEAD",       "POST",  "PUT",      "PATCH",  "DELETE",    "OPTIONS",
        "TRACE",      "COPY",       "LOCK",  "MKCOL",    "MOVE",   "PROPFIND",  "PROPPATCH",
        "SEARCH",     "UNLOCK",     "BIND",  "REBIND",   "UNBIND", "ACL",       "REPORT",
        "MKACTIVITY", "CHECKOUT",   "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE",
        "PURGE",      "MKCALENDAR", "LINK",  "UNLINK",   "SOURCE"};
    /* Methods llhttp reads its own way, or only for RTSP: not modelled, but their prefixes wait
     * for more bytes. */
    static const char *const others[] = {
        "CONNECT",  "PRI",           "DESCRIBE",      "ANNOUNCE", "SETUP",  "PLAY", "PAUSE",
        "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER", "REDIRECT", "RECORD", "FLUSH"};
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const char *p = *pp;
    memset(&h, 0, sizeof(h));
    ref->refusals = 0;

    /* Request line: method SP target SP version CRLF, one SP each (RFC 9112 3). */
    h.method = p;
    while (p < end && ref_tchar((unsigned char)*p))
        p++;
    h.method_len = (size_t)(p - h.method);
    size_t have = (size_t)(end - h.method);
    if (have >= 3 && memcmp(h.method, "PRI", 3) == 0 && (h.method_len == 3 || p == end)) {
        if (have >= sizeof(preface) - 1 && memcmp(h.method, preface, sizeof(preface) - 1) == 0) {
            ref->refusals = R400;
            return STEP_REFUSED;
        }
        if (have < sizeof(preface) - 1 && memcmp(h.method, preface, have) == 0) {
            ref->refusals = R400;
            return STEP_INCOMPLETE;
        }
        return unsure("PRI that is not HTTP/2's preface");
    }
    size_t m = sizeof(methods) / sizeof(methods[0]);
    bool prefix = false;
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        if (h.method_len == strlen(others[i]) && memcmp(h.method, others[i], h.method_len) == 0)
            return unsure("CONNECT or an RTSP method");
        prefix |=
            h.method_len < strlen(others[i]) && memcmp(h.method, others[i], h.method_len) == 0;
    }
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (h.method_len == strlen(methods[i]) && memcmp(h.method, methods[i], h.method_len) == 0)
            m = i;
        prefix |=
            h.method_len < strlen(methods[i]) && memcmp(h.method, methods[i], h.method_len) == 0;
    }
    /* llhttp refuses a method at the first byte no method it knows has there. */
    if (p == end && (m < sizeof(methods) / sizeof(methods[0]) || prefix))
        return STEP_INCOMPLETE;
    if (m == sizeof(methods) / sizeof(methods[0]) || *p != ' ') {
        ref->refusals = R400;
        return STEP_REFUSED;
    }
    enum kith_http_method method =
        m <= KITH_HTTP_OPTIONS ? (enum kith_http_method)m : KITH_HTTP_OTHER;
    p++;
    if (p < end && *p == ' ')
        return unsure("more than one SP after the method");
    h.target = p;
    while (p < end && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7F)
        p++;
    h.target_len = (size_t)(p - h.target);
    bool origin = h.target_len > 0 && h.target[0] == '/';
    if (h.target_len > REF_URL_MAX) {
        ref->refusals = R414 | (origin ? 0 : R400);
        return STEP_REFUSED;
    }
    if (p == end) {
        ref->refusals = origin ? 0 : R400; /* llhttp reads a scheme and host as they come */
        return STEP_INCOMPLETE;
    }
    bool v09 = *p == '\r';
    if (*p == '\n')
        return unsure("an LF after the target");
    if (*p != ' ' && !v09) {
        /* A control byte or a non-ASCII one: llhttp refuses it in a target. */
        ref->refusals = R400 | (h.target_len + 1 > REF_URL_MAX ? R414 : 0);
        return STEP_REFUSED;
    }
    /* A target of another form, or an absolute-form host llhttp already refuses (it stops at
     * these bytes), is refused for certain; when exactly does not matter. */
    if (!ref_target(h.target, h.target_len, &tg)) {
        if (origin)
            h.deferred |= R400; /* llhttp takes any visible byte in a path */
        else
            h.maybe |= R400;
    }
    if (v09) {
        /* "GET /\r\n": llhttp reads HTTP/0.9's request line, header fields follow. */
        if (end - p < 2) {
            ref->refusals = h.maybe;
            return STEP_INCOMPLETE;
        }
        if (p[1] != '\n')
            return unsure("a CR without LF after the target");
        h.deferred |= R505;
        p += 2;
        goto fields;
    }
    p++;
    if (p < end && *p == ' ')
        return unsure("more than one SP after the target");
    /* llhttp (strict) takes four versions; we answer 505 to the two we do not serve. It also
     * takes a bare LF after the version, which we refuse when we next see the request. */
    static const char *const versions[] = {"HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/0.9"};
    have = (size_t)(end - p);
    if (have > 0 && (*p == 'R' || *p == 'I'))
        return unsure("RTSP/ or ICE/: other protocols llhttp knows");
    /* "HTTP/" DIGIT "." DIGIT: llhttp waits for all of it before it judges the version. */
    static const char shape[] = "HTTP/0.0";
    for (size_t i = 0; i < 8 && i < have; i++) {
        bool ok = shape[i] == '0' ? isdigit((unsigned char)p[i]) != 0 : p[i] == shape[i];
        if (!ok) {
            ref->refusals = R400 | h.maybe;
            return STEP_REFUSED;
        }
    }
    size_t v = 0;
    while (v < 4 && (have < 8 || memcmp(p, versions[v], 8) != 0))
        v++;
    if (have >= 8 && v == 4) {
        ref->refusals = R400 | h.maybe;
        return STEP_REFUSED;
    }
    if (have >= 9 && p[8] == '\n')
        h.late |= R400;
    else if (have >= 9 && (p[8] != '\r' || (have >= 10 && p[9] != '\n'))) {
        ref->refusals = R400 | h.maybe;
        return STEP_REFUSED;
    }
    if (have < (h.late ? 9u : 10u)) {
        ref->refusals = h.maybe | h.late;
        return STEP_INCOMPLETE;
    }
    h.minor = v == 0 ? 1 : 0;
    if (v >= 2)
        h.deferred |= R505;
    p += h.late ? 9 : 10;

fields:;
    /* Header fields. */
    enum ref_step st = ref_fields(ref, &h, &p, end, false);
    if (st == STEP_UNSURE && (h.maybe | h.deferred | h.late)) {
        /* Refused for certain once the server has read enough, and in any case never given
         * to a handler: whatever it answers, or nothing yet. */
        ref->refusals = RANY;
        return STEP_INCOMPLETE;
    }
    if (st != STEP_OK)
        return st;

    /* Checks on the complete head. */
    size_t hosts = 0;
    struct ref_conn conn = {0};
    for (size_t i = 0; i < h.nf; i++) {
        const struct ref_field *f = &h.f[i];
        hosts += ref_ieq(f->name, f->name_len, "host");
        if (ref_ieq(f->name, f->name_len, "connection")) {
            ref_list(f->value, f->value_len, ref_conn_element, &conn);
            if (memchr(f->value, '\t', f->raw_len) != NULL)
                conn.odd = true; /* llhttp does not see "close\t" */
        }
    }
    if (hosts > 1 || (hosts == 0 && h.minor == 1))
        h.deferred |= R400;
    uint64_t cl = 0;
    bool has_cl = ref_value_of(&h, "content-length", &cl), has_te = h.has_te;
    if (has_te && h.te.odd) {
        if (h.maybe | h.deferred | h.late) {
            ref->refusals = RANY;
            return STEP_INCOMPLETE; /* see above */
        }
        return unsure("an odd Transfer-Encoding list");
    }
    if (has_te) {
        if (has_cl || h.minor == 0 || !h.te.last_chunked || h.te.chunked > 1)
            h.deferred |= R400;
        else if (h.te.codings > 1)
            h.deferred |= R501;
    }
    if (has_cl && cl > REF_BODY_MAX)
        h.deferred |= R413;
    if (h.maybe | h.deferred) {
        ref->refusals = h.maybe | h.deferred | h.late | h.possible;
        return STEP_REFUSED;
    }
    h.unsure_after = conn.odd;
    *keep = h.minor == 1 ? !conn.close : conn.keep_alive;

    /* Body. */
    body.len = 0;
    if (has_te) {
        for (;;) {
            uint64_t size = 0;
            const char *digits = p;
            while (p < end && ref_hex(*p) >= 0) {
                unsigned d = (unsigned)ref_hex(*p);
                if (size > (UINT64_MAX - d) / 16) {
                    ref->refusals = R400 | h.late;
                    return STEP_REFUSED;
                }
                size = size * 16 + d;
                p++;
            }
            if (p > digits && p < end && *p == ';') {
                /* One extension, ";name" or ";name=value" with tokens: llhttp reads more
                 * (quoted values...) its own way. */
                const char *e = ++p;
                while (p < end && ref_tchar((unsigned char)*p) && *p != ';')
                    p++;
                if (p > e && p < end && *p == '=') {
                    e = ++p;
                    while (p < end && ref_tchar((unsigned char)*p) && *p != ';')
                        p++;
                }
                if (p == end) {
                    ref->refusals = h.late;
                    return STEP_INCOMPLETE;
                }
                if (p == e || *p != '\r')
                    return unsure("a chunk extension");
            }
            if (p == end || (*p == '\r' && end - p < 2)) {
                ref->refusals = h.late;
                return STEP_INCOMPLETE;
            }
            if (p == digits || *p != '\r' || p[1] != '\n') {
                ref->refusals = R400 | h.late;
                return STEP_REFUSED;
            }
            p += 2;
            if (size > REF_BODY_MAX - body.len) {
                ref->refusals = R413 | h.late; /* llhttp takes any size of 64 bits */
                return STEP_REFUSED;
            }
            if (size == 0)
                break;
            if ((uint64_t)(end - p) < size) {
                ref->refusals = h.late;
                return STEP_INCOMPLETE;
            }
            str_add(&body, p, (size_t)size);
            p += size;
            if (p < end && (p[0] != '\r' || (end - p >= 2 && p[1] != '\n'))) {
                ref->refusals = R400 | h.late;
                return STEP_REFUSED;
            }
            if (end - p < 2) {
                ref->refusals = h.late;
                return STEP_INCOMPLETE;
            }
            p += 2;
        }
        st = ref_fields(ref, &h, &p, end, true);
        if (st != STEP_OK)
            return st;
    } else if (has_cl) {
        if ((uint64_t)(end - p) < cl) {
            ref->refusals = h.late;
            return STEP_INCOMPLETE;
        }
        str_add(&body, p, (size_t)cl);
        p += cl;
    }
    *pp = p;
    if (h.late) {
        ref->refusals = h.late;
        return STEP_REFUSED;
    }

    /* What the server hands to a handler, or answers itself. */
    if (ref->count == REF_REQS_MAX)
        return unsure("too many requests");
    bool allowed;
    const struct kith_http_route *r = ref_route(method, tg.path.p, tg.path.len, &caps, &allowed);
    struct ref_req *rq = &ref->reqs[ref->count++];
    rq->head = method == KITH_HTTP_HEAD;
    rq->status = r == NULL ? (allowed ? 405 : 404) : r->fn == later ? 202 : 200;
    if (r != NULL) {
        struct str *o = &ref->recs;
        str_fieldz(o, 'R', r->name);
        str_field(o, 'M', h.method, h.method_len);
        str_field(o, 'P', tg.path.p, tg.path.len);
        str_field(o, 'Q', tg.query, tg.query_len);
        bool host_done = false;
        for (size_t i = 0; i < h.nf; i++) {
            str_field(o, 'N', h.f[i].name, h.f[i].name_len);
            if (tg.authority != NULL && ref_ieq(h.f[i].name, h.f[i].name_len, "host") &&
                !host_done) {
                str_field(o, 'V', tg.authority, tg.authority_len);
                host_done = true;
            } else {
                str_field(o, 'V', h.f[i].value, h.f[i].value_len);
            }
        }
        if (tg.authority != NULL && !host_done) {
            str_fieldz(o, 'N', "Host");
            str_field(o, 'V', tg.authority, tg.authority_len);
        }
        str_add(o, caps.p ? caps.p : "", caps.len);
        str_field(o, 'B', body.p ? body.p : "", body.len);
        str_add(o, "\n", 1);
    }
    rq->rec_end = ref->recs.len;
    return h.unsure_after ? unsure("an odd Connection list") : STEP_OK;
}

static void ref_read(struct ref *ref, const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    ref->count = 0;
    ref->recs.len = 0;
    str_add(&ref->recs, "", 0);
    ref->refusals = 0;
    ref_why = NULL;
    for (;;) {
        /* Empty lines before a request line are skipped (llhttp does, RFC 9112 2.2 allows it). */
        while (p < end && (*p == '\r' || *p == '\n'))
            p++;
        if (p == end) {
            ref->end = REF_DONE;
            return;
        }
        bool keep = false;
        enum ref_step st = ref_request(ref, &p, end, &keep);
        if (st == STEP_OK && !keep) {
            ref->end = REF_CLOSED;
            return;
        }
        if (st == STEP_OK)
            continue;
        ref->end = st == STEP_REFUSED      ? REF_REFUSED
                   : st == STEP_INCOMPLETE ? REF_INCOMPLETE
                                           : REF_UNSURE;
        return;
    }
}

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
        .read_timeout_ms = 1000, /* ends nothing here (the client half-closes), but a 408 cuts
                                    the comparison short: keep slow runs out of its way */
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
            if (answers.len + (size_t)n <= ANSWERS_MAX)
                str_add(&answers, buf, (size_t)n);
            else
                answers_cut = true;
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

/* ---- comparing the server with the reference ------------------------------------------- */

/* The next final answer in [*p, end) (interim 1xx answers are skipped): its status, and *p moved
 * past it. False when no whole answer is left. kith always sends Content-Length; an answer to
 * HEAD has no body, nor has a refusal of a HEAD request once its head was read, so for the last
 * answer of a connection `head` may be -1: either. */
static const char *answer_body; /* the body of the answer answer_next() found last */
static size_t answer_body_len;

static bool answer_next(const char **p, const char *end, int head, int *status)
{
    for (;;) {
        const char *a = *p, *hend = NULL;
        for (const char *q = a; end - q >= 4 && hend == NULL; q++)
            if (memcmp(q, "\r\n\r\n", 4) == 0)
                hend = q;
        if (hend == NULL)
            return false;
        FUZZ_CHECK(hend - a >= 12 && memcmp(a, "HTTP/1.1 ", 9) == 0, "not an answer: %.40s", a);
        int st = (int)strtol(a + 9, NULL, 10);
        uint64_t len = 0;
        for (const char *q = a; q < hend; q++) {
            if (q[0] == '\n' && hend - q > 16 && strncasecmp(q + 1, "Content-Length: ", 16) == 0) {
                len = strtoull(q + 17, NULL, 10);
                break;
            }
        }
        if (st < 200 || head == 1 || (head == -1 && end - hend == 4))
            len = 0;
        if ((uint64_t)(end - hend - 4) < len)
            return false;
        answer_body = hend + 4;
        answer_body_len = (size_t)len;
        *p = hend + 4 + len;
        if (st >= 200) {
            *status = st;
            return true;
        }
    }
}

/* Prints where two records first differ, with a little context, escaped. */
static void show_diff(const char *what, const struct str *a, const char *b, size_t blen)
{
    size_t i = 0;
    while (i < a->len && i < blen && a->p[i] == b[i])
        i++;
    size_t from = i > 40 ? i - 40 : 0;
    fprintf(stderr, "%s differ at byte %zu:\n  server:    ", what, i);
    for (size_t k = from; k < a->len && k < i + 60; k++)
        fprintf(stderr, isprint((unsigned char)a->p[k]) ? "%c" : "\\x%02x", (unsigned char)a->p[k]);
    fprintf(stderr, "\n  reference: ");
    for (size_t k = from; k < blen && k < i + 60; k++)
        fprintf(stderr, isprint((unsigned char)b[k]) ? "%c" : "\\x%02x", (unsigned char)b[k]);
    fputc('\n', stderr);
}

static const char *const end_names[] = {"done", "closed", "refused", "incomplete", "unsure"};

/*
 * A refusal by the transport: the contract's error, with the code of its status, and a message
 * of ours. llhttp's reason for the same bytes (it is run here on its own, as the server runs it)
 * must not be it: those are internal and were once sent as they were.
 */
static void check_refusal_body(const uint8_t *data, size_t size, int status)
{
    static const struct {
        int status;
        const char *code;
    } codes[] = {{400, "bad_request"},
                 {408, "request_timeout"},
                 {413, "payload_too_large"},
                 {414, "uri_too_long"},
                 {431, "headers_too_large"},
                 {501, "not_implemented"},
                 {505, "http_version_not_supported"}};
    if (answer_body_len == 0)
        return; /* a refused HEAD request */
    char want[96];
    const char *code = NULL;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (codes[i].status == status)
            code = codes[i].code;
    FUZZ_CHECK(code != NULL, "a refusal with status %d", status);
    snprintf(want, sizeof(want), "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
    size_t wl = strlen(want);
    FUZZ_CHECK(answer_body_len > wl && memcmp(answer_body, want, wl) == 0, "refusal %d: %.*s",
               status, (int)answer_body_len, answer_body);
    const char *msg = answer_body + wl;
    const char *msg_end = memchr(msg, '"', answer_body_len - wl);
    FUZZ_CHECK(msg_end != NULL && msg_end > msg, "refusal %d without a message", status);

    llhttp_t parser;
    llhttp_settings_t settings;
    llhttp_settings_init(&settings);
    llhttp_init(&parser, HTTP_REQUEST, &settings);
    llhttp_errno_t e = llhttp_execute(&parser, (const char *)data, size);
    const char *reason = e == HPE_OK ? NULL : llhttp_get_error_reason(&parser);
    FUZZ_CHECK(reason == NULL || strlen(reason) != (size_t)(msg_end - msg) ||
                   memcmp(reason, msg, (size_t)(msg_end - msg)) != 0,
               "llhttp's own reason in an answer: %s", reason);
}

static void check_reference(const uint8_t *data, size_t size)
{
    static struct ref ref;
    ref_read(&ref, data, size);
    if (getenv("KITH_FUZZ_HTTP_VERBOSE") != NULL)
        fprintf(stderr, "fuzz_http: the reference read %zu requests, then: %s (0x%x) %s\n",
                ref.count, end_names[ref.end], ref.refusals,
                ref.end == REF_UNSURE && ref_why ? ref_why : "");
    if (answers_cut)
        return;
    const char *p = answers.p, *end = p + answers.len;
    size_t i = 0;
    int st = 0;
    bool timed_out = false;
    for (; i < ref.count; i++) {
        if (!answer_next(&p, end, ref.reqs[i].head, &st))
            break;
        if (st == 408) { /* the server's clock: a slow run, not a reading of the bytes */
            timed_out = true;
            break;
        }
        FUZZ_CHECK(st == ref.reqs[i].status, "request %zu answered %d, the reference expects %d", i,
                   st, ref.reqs[i].status);
    }
    size_t expected = i == 0 ? 0 : ref.reqs[i - 1].rec_end;
    bool prefix_ok = seen.len >= expected && memcmp(seen.p, ref.recs.p, expected) == 0;
    if (ref.end == REF_UNSURE && !timed_out && i == ref.count) {
        /* The server may accept more than the reference models. */
        if (!prefix_ok)
            show_diff("requests", &seen, ref.recs.p, expected);
        FUZZ_CHECK(prefix_ok, "the handlers saw other requests than the reference read");
        return;
    }
    if (seen.len != expected || !prefix_ok)
        show_diff("requests", &seen, ref.recs.p, expected);
    FUZZ_CHECK(seen.len == expected && prefix_ok,
               "the handlers saw other requests than the reference read (%zu of %zu answered, "
               "reference: %s)",
               i, ref.count, end_names[ref.end]);
    if (timed_out)
        return;
    FUZZ_CHECK(i == ref.count, "%zu answers for the %zu requests the reference read", i, ref.count);
    bool more = answer_next(&p, end, -1, &st);
    switch (ref.end) {
    case REF_DONE:
    case REF_CLOSED:
        FUZZ_CHECK(!more, "an answer (%d) after the last request the reference read", st);
        break;
    case REF_REFUSED:
        FUZZ_CHECK(more, "no answer where the reference refuses request %zu", ref.count);
        FUZZ_CHECK(refusal_allowed(ref.refusals, st),
                   "request %zu answered %d, the reference refuses it (statuses 0x%x)", ref.count,
                   st, ref.refusals);
        check_refusal_body(data, size, st);
        break;
    case REF_INCOMPLETE:
        FUZZ_CHECK(!more || st == 408 || refusal_allowed(ref.refusals, st),
                   "the incomplete request %zu answered %d", ref.count, st);
        if (more)
            check_refusal_body(data, size, st);
        break;
    case REF_UNSURE:
        return;
    }
    if (more)
        FUZZ_CHECK(!answer_next(&p, end, -1, &st), "an answer (%d) after the refusal", st);
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
    seen.len = 0;
    answers.len = 0;
    answers_cut = false;
    str_add(&seen, "", 0); /* never NULL from here */
    str_add(&answers, "", 0);
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

    check_reference(data, size);
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
