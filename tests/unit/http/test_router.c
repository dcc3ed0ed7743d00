/*
 * test_router.c: route matching (literal segments, {captures}, first match in table order, GET
 * answering HEAD, 404 versus 405 with Allow), the status table and the contract's JSON error
 * body, and kith_http_query_get's strict decoding. Matching is observed over a real server so the
 * test sees exactly what a client sees. Not for framing, limits or timeouts (test_server.c).
 */
#include <jansson.h>
#include <signal.h>

#include "http_harness.h"
#include "test.h"

/* Every handler answers "<route name>|<param count>|<p0>|<p1>...|<method>". */
static void h_show(struct kith_http_request *req, void *ctx)
{
    char text[1024];
    size_t n = (size_t)snprintf(text, sizeof(text), "%s|%zu", req->route_name, req->param_count);
    for (size_t i = 0; i < req->param_count && n < sizeof(text); i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "|%s", req->params[i]);
    if (n < sizeof(text))
        n += (size_t)snprintf(text + n, sizeof(text) - n, "|%s", req->method_name);
    kith_http_respond(req, 200, NULL, 0, text, n < sizeof(text) ? n : sizeof(text) - 1);
}

static void h_error(struct kith_http_request *req, void *ctx)
{
    char st[8];
    if (kith_http_query_get(req->query, "st", st, sizeof(st)) != 1) {
        kith_http_respond_error(req, KITH_E_INVALID_PARAM, "st", "st is required");
        return;
    }
    long v = strtol(st, NULL, 10);
    char param[32];
    int has_param = kith_http_query_get(req->query, "param", param, sizeof(param));
    kith_http_respond_error(req, (enum kith_status)v, has_param == 1 ? param : NULL,
                            "a \"quoted\" message \u00e9");
}

static const struct kith_http_route routes[] = {
    {KITH_HTTP_GET, "/v1/participants", h_show, "participants.list", NULL},
    {KITH_HTTP_POST, "/v1/participants", h_show, "participants.create", NULL},
    {KITH_HTTP_GET, "/v1/participants/{id}", h_show, "participants.get", NULL},
    {KITH_HTTP_PATCH, "/v1/participants/{id}", h_show, "participants.update", NULL},
    {KITH_HTTP_POST, "/v1/participants/{id}/codes", h_show, "participants.codes.create", NULL},
    {KITH_HTTP_GET, "/v1/programs/{program}/participants/{id}", h_show, "nested", NULL},
    {KITH_HTTP_GET, "/v1/programs/special", h_show, "special", NULL},
    {KITH_HTTP_GET, "/v1/programs/{id}", h_show, "programs.get", NULL},
    {KITH_HTTP_HEAD, "/r/{code}", h_show, "redirect.head", NULL},
    {KITH_HTTP_GET, "/r/{code}", h_show, "redirect", NULL},
    {KITH_HTTP_DELETE, "/v1/things/{id}", h_show, "things.delete", NULL},
    {KITH_HTTP_GET, "/err", h_error, NULL, NULL},
};

static struct harness H;
static struct resp R;

static int get(const char *method, const char *target, struct resp *r)
{
    char req[1024];
    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", method,
             target);
    return roundtrip(H.port, req, strcmp(method, "HEAD") == 0, r);
}

static void expect_route(const char *method, const char *target, const char *body)
{
    CHECK_INT(get(method, target, &R), 0);
    CHECK_INT(R.status, 200);
    CHECK_STR(R.body, body);
}

static void expect_error(const char *method, const char *target, int status, const char *code,
                         const char *allow)
{
    CHECK_INT(get(method, target, &R), 0);
    CHECK_INT(R.status, status);
    if (strcmp(method, "HEAD") != 0) {
        json_t *j = json_loads(R.body, 0, NULL);
        CHECK(j != NULL);
        CHECK_STR(json_string_value(json_object_get(json_object_get(j, "error"), "code")), code);
        json_decref(j);
    }
    char v[128];
    if (allow != NULL) {
        CHECK(resp_header(&R, "Allow", v, sizeof(v)));
        CHECK_STR(v, allow);
    } else {
        CHECK(!resp_header(&R, "Allow", v, sizeof(v)));
    }
    /* Routing errors keep the connection: the request was read completely. */
    CHECK(!resp_header(&R, "Connection", v, sizeof(v)));
}

static void test_literal_and_captures(void)
{
    expect_route("GET", "/v1/participants", "participants.list|0|GET");
    expect_route("POST", "/v1/participants", "participants.create|0|POST");
    expect_route("GET", "/v1/participants/par_1", "participants.get|1|par_1|GET");
    expect_route("PATCH", "/v1/participants/par_1", "participants.update|1|par_1|PATCH");
    expect_route("POST", "/v1/participants/par_1/codes", "participants.codes.create|1|par_1|POST");
    expect_route("GET", "/v1/programs/wellness/participants/par_9", "nested|2|wellness|par_9|GET");
    /* Captures are decoded, and the query is not part of the path. */
    expect_route("GET", "/v1/participants/a%20b%C3%A9?x=1", "participants.get|1|a b\xc3\xa9|GET");
    expect_route("DELETE", "/v1/things/t1", "things.delete|1|t1|DELETE");
}

static void test_table_order(void)
{
    expect_route("GET", "/v1/programs/special", "special|0|GET");
    expect_route("GET", "/v1/programs/other", "programs.get|1|other|GET");
}

static void test_not_found(void)
{
    expect_error("GET", "/", 404, "not_found", NULL);
    expect_error("GET", "/v1/participants/", 404, "not_found", NULL);      /* empty capture */
    expect_error("GET", "/v1/participants/a/b", 404, "not_found", NULL);   /* capture has no '/' */
    expect_error("GET", "/v1/participants/a%2Fb", 404, "not_found", NULL); /* not even encoded */
    expect_error("GET", "/v1/participantsx", 404, "not_found", NULL);
    expect_error("GET", "/v1/participant", 404, "not_found", NULL);
    expect_error("GET", "/v1/participants/", 404, "not_found", NULL);
    expect_error("POST", "/nowhere", 404, "not_found", NULL);
}

static void test_method_not_allowed(void)
{
    expect_error("DELETE", "/v1/participants", 405, "method_not_allowed", "GET, HEAD, POST");
    expect_error("PUT", "/v1/participants/p1", 405, "method_not_allowed", "GET, HEAD, PATCH");
    expect_error("GET", "/v1/participants/p1/codes", 405, "method_not_allowed", "POST");
    expect_error("GET", "/v1/things/t1", 405, "method_not_allowed", "DELETE");
    expect_error("HEAD", "/v1/things/t1", 405, "method_not_allowed", "DELETE");
}

static void test_head(void)
{
    /* A GET route answers HEAD; the handler sees HEAD; the body is left out. */
    CHECK_INT(get("HEAD", "/v1/participants/p1", &R), 0);
    CHECK_INT(R.status, 200);
    CHECK_INT(R.body_len, 0);
    char len[16];
    CHECK(resp_header(&R, "Content-Length", len, sizeof(len)));
    CHECK_INT(strtol(len, NULL, 10), strlen("participants.get|1|p1|HEAD"));
    /* An explicit HEAD route wins over the GET one, wherever it is in the table. */
    CHECK_INT(get("HEAD", "/r/JANE-2847", &R), 0);
    CHECK(resp_header(&R, "Content-Length", len, sizeof(len)));
    CHECK_INT(strtol(len, NULL, 10), strlen("redirect.head|1|JANE-2847|HEAD"));
    expect_route("GET", "/r/JANE-2847", "redirect|1|JANE-2847|GET");
}

static void test_error_body(void)
{
    static const struct {
        enum kith_status st;
        int http;
        const char *code;
        bool retry;
    } cases[] = {
        {KITH_E_INVALID_JSON, 400, "invalid_json", false},
        {KITH_E_INVALID_PARAM, 400, "invalid_param", false},
        {KITH_E_IMMUTABLE, 400, "immutable_field", false},
        {KITH_E_UNAUTHORIZED, 401, "unauthorized", false},
        {KITH_E_FORBIDDEN, 403, "forbidden", false},
        {KITH_E_NOT_FOUND, 404, "not_found", false},
        {KITH_E_INVALID_STATE, 409, "invalid_state", false},
        {KITH_E_CODE_TAKEN, 409, "code_taken", false},
        {KITH_E_IDEM_IN_USE, 409, "idempotency_key_in_use", false},
        {KITH_E_IDEM_REUSED, 422, "idempotency_key_reused", false},
        {KITH_E_TOO_LARGE, 413, "payload_too_large", false},
        {KITH_E_RATE_LIMITED, 429, "rate_limited", true},
        {KITH_E_UNAVAILABLE, 503, "unavailable", true},
        {KITH_E_CONSTRAINT, 503, "unavailable", true},
        {KITH_E_INTERNAL, 500, "internal_error", false},
    };
    for (size_t i = 0; i < KITH_ARRAY_LEN(cases); i++) {
        char target[64];
        snprintf(target, sizeof(target), "/err?st=%d&param=my%%5Ffield", (int)cases[i].st);
        CHECK_INT(get("GET", target, &R), 0);
        CHECK_INT(R.status, cases[i].http);
        char v[64];
        CHECK(resp_header(&R, "Content-Type", v, sizeof(v)));
        CHECK_STR(v, "application/json");
        CHECK_INT(resp_header(&R, "Retry-After", v, sizeof(v)), cases[i].retry);
        json_error_t jerr;
        json_t *j = json_loads(R.body, 0, &jerr);
        CHECK(j != NULL);
        json_t *e = json_object_get(j, "error");
        CHECK_STR(json_string_value(json_object_get(e, "code")), cases[i].code);
        CHECK_STR(json_string_value(json_object_get(e, "message")),
                  "a \"quoted\" message \xc3\xa9");
        CHECK_STR(json_string_value(json_object_get(e, "param")), "my_field");
        CHECK_INT(json_object_size(j), 1);
        CHECK_INT(json_object_size(e), 3);
        json_decref(j);
    }
    /* No param: JSON null. */
    CHECK_INT(get("GET", "/err?st=7", &R), 0);
    CHECK_INT(R.status, 404);
    json_t *j = json_loads(R.body, 0, NULL);
    CHECK(json_is_null(json_object_get(json_object_get(j, "error"), "param")));
    json_decref(j);
}

static void test_status_table(void)
{
    CHECK_INT(kith_http_status_for(KITH_OK), 200);
    CHECK_INT(kith_http_status_for(KITH_CREATED), 201);
    CHECK_INT(kith_http_status_for(KITH_E_IDEM_REUSED), 422);
    CHECK_INT(kith_http_status_for(KITH_E_CONSTRAINT), 503);
    CHECK_INT(kith_http_status_for(KITH_E_INTERNAL), 500);
    CHECK_INT(kith_http_status_for((enum kith_status)999), 500);
}

static void test_query_get(void)
{
    char out[16];
    CHECK_INT(kith_http_query_get("a=1&b=x%20y+z", "b", out, sizeof(out)), 1);
    CHECK_STR(out, "x y z");
    CHECK_INT(kith_http_query_get("a=1&b=2", "a", out, sizeof(out)), 1);
    CHECK_STR(out, "1");
    CHECK_INT(kith_http_query_get("a=1&b=2", "c", out, sizeof(out)), 0);
    CHECK_INT(kith_http_query_get("", "a", out, sizeof(out)), 0);
    CHECK_INT(kith_http_query_get(NULL, "a", out, sizeof(out)), 0);
    CHECK_INT(kith_http_query_get("ab=1", "a", out, sizeof(out)), 0);
    CHECK_INT(kith_http_query_get("a", "a", out, sizeof(out)), 1);
    CHECK_STR(out, "");
    CHECK_INT(kith_http_query_get("a=", "a", out, sizeof(out)), 1);
    CHECK_STR(out, "");
    CHECK_INT(kith_http_query_get("&&a=3&", "a", out, sizeof(out)), 1);
    CHECK_STR(out, "3");
    CHECK_INT(kith_http_query_get("a=1&a=2", "a", out, sizeof(out)), 1);
    CHECK_STR(out, "1");
    CHECK_INT(kith_http_query_get("a=x=y", "a", out, sizeof(out)), 1);
    CHECK_STR(out, "x=y");
    CHECK_INT(kith_http_query_get("external%5Fid=u1", "external_id", out, sizeof(out)), 1);
    CHECK_STR(out, "u1");
    CHECK_INT(kith_http_query_get("e=jan%40example.com", "e", out, sizeof(out)), 1);
    CHECK_STR(out, "jan@example.com");
    CHECK_INT(kith_http_query_get("e=jane%40example.com", "e", out, sizeof(out)), -1);
    CHECK_INT(kith_http_query_get("e=%C3%A9", "e", out, sizeof(out)), 1);
    CHECK_STR(out, "\xc3\xa9");
    /* Malformed escapes, NUL, and values that do not fit. */
    CHECK_INT(kith_http_query_get("a=%zz", "a", out, sizeof(out)), -1);
    CHECK_STR(out, "");
    CHECK_INT(kith_http_query_get("a=%4", "a", out, sizeof(out)), -1);
    CHECK_INT(kith_http_query_get("a=%", "a", out, sizeof(out)), -1);
    CHECK_INT(kith_http_query_get("a=%4&b=1", "a", out, sizeof(out)), -1);
    CHECK_INT(kith_http_query_get("a=%00", "a", out, sizeof(out)), -1);
    CHECK_INT(kith_http_query_get("a=123456789012345", "a", out, sizeof(out)), 1);
    CHECK_INT(kith_http_query_get("a=1234567890123456", "a", out, sizeof(out)), -1);
    CHECK_INT(kith_http_query_get("a=1", "a", out, 0), -1);
    /* A malformed value elsewhere does not matter. */
    CHECK_INT(kith_http_query_get("x=%zz&a=ok", "a", out, sizeof(out)), 1);
    CHECK_STR(out, "ok");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    memset(&H.cfg, 0, sizeof(H.cfg));
    H.cfg.host = "127.0.0.1";
    H.cfg.routes = routes;
    H.cfg.route_count = KITH_ARRAY_LEN(routes);
    if (!harness_start(&H))
        return 1;
    RUN(test_literal_and_captures);
    RUN(test_table_order);
    RUN(test_not_found);
    RUN(test_method_not_allowed);
    RUN(test_head);
    RUN(test_error_body);
    RUN(test_status_table);
    RUN(test_query_get);
    harness_stop(&H);
    CHECK(H.done_called);
    TEST_DONE();
}
