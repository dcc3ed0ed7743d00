/*
 * log.c: the diagnostic and access log writers. Each formats the whole line into one buffer and
 * hands it to stdio in one call, so lines from the loop and store threads never interleave. In
 * JSON the caller's key=value pairs become members: a quoted value is a string, a bare integer a
 * number, any other bare value a string; text that is not key=value lands in "text". A line cut
 * to fit its buffer ends with "cut":true and is still one valid object.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kith/clock.h"
#include "kith/core.h"
#include "kith/log.h"
#include "kith/text.h"

enum kith_log_level kith_log_min_level = KITH_LOG_INFO;
enum kith_log_format kith_log_format = KITH_LOG_TEXT;

static const char *level_name(enum kith_log_level l)
{
    switch (l) {
    case KITH_LOG_DEBUG:
        return "debug";
    case KITH_LOG_INFO:
        return "info";
    case KITH_LOG_WARN:
        return "warn";
    case KITH_LOG_ERROR:
        return "error";
    }
    return "?";
}

/* ---- JSON lines ------------------------------------------------------------------------- */

/* What ends a cut line; room for it is kept free until the line is closed. */
static const char json_cut_tail[] = ",\"cut\":true}\n";
#define JSON_TAIL_ROOM (sizeof(json_cut_tail) - 1)

struct jline {
    char *p;
    size_t cap, len;
    bool cut;
};

/* Escaped form of one character of s[0..n) into esc (8 bytes); returns bytes consumed. */
static size_t json_char(const char *s, size_t n, char esc[8], size_t *esc_len)
{
    unsigned char c = (unsigned char)s[0];
    static const char hex[] = "0123456789abcdef";
    if (c == '"' || c == '\\') {
        esc[0] = '\\';
        esc[1] = (char)c;
        *esc_len = 2;
        return 1;
    }
    if (c < 0x20 || c == 0x7f) {
        memcpy(esc, "\\u00", 4);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        *esc_len = 6;
        return 1;
    }
    if (c < 0x80) {
        esc[0] = (char)c;
        *esc_len = 1;
        return 1;
    }
    uint32_t cp;
    size_t used = kith_utf8_decode((const unsigned char *)s, n, &cp);
    if (cp == UINT32_MAX) { /* invalid UTF-8 becomes U+FFFD, so the line stays valid JSON */
        memcpy(esc, "\\ufffd", 6);
        *esc_len = 6;
        return 1;
    }
    memcpy(esc, s, used);
    *esc_len = used;
    return used;
}

static size_t json_str_len(const char *s, size_t n)
{
    size_t total = 2;
    char esc[8];
    for (size_t i = 0, el; i < n; total += el)
        i += json_char(s + i, n - i, esc, &el);
    return total;
}

static void jl_raw(struct jline *j, const char *s, size_t n)
{
    memcpy(j->p + j->len, s, n);
    j->len += n;
}

static void jl_str(struct jline *j, const char *s, size_t n)
{
    char esc[8];
    size_t el;
    jl_raw(j, "\"", 1);
    for (size_t i = 0; i < n;) {
        i += json_char(s + i, n - i, esc, &el);
        jl_raw(j, esc, el);
    }
    jl_raw(j, "\"", 1);
}

static bool is_integer(const char *v, size_t n)
{
    size_t i = (n > 0 && v[0] == '-') ? 1 : 0;
    if (n == i || n - i > 18)
        return false;
    for (; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
    }
    return true;
}

/* Adds ,"key":value when the member and the cut tail fit; else marks the line cut. */
static void jl_member(struct jline *j, const char *key, size_t kn, const char *v, size_t vn,
                      bool as_string)
{
    if (j->cut)
        return;
    size_t head = 2 + json_str_len(key, kn); /* ,"key": */
    size_t need = head + (as_string ? json_str_len(v, vn) : vn);
    if (j->len + need + JSON_TAIL_ROOM > j->cap) {
        j->cut = true;
        /* A string keeps what fits of its start, whole characters only; a number is dropped. */
        if (!as_string || j->len + head + 2 + JSON_TAIL_ROOM >= j->cap)
            return;
        jl_raw(j, j->len > 1 ? "," : "", j->len > 1 ? 1 : 0);
        jl_str(j, key, kn);
        jl_raw(j, ":\"", 2);
        char esc[8];
        size_t el;
        for (size_t i = 0; i < vn;) {
            size_t used = json_char(v + i, vn - i, esc, &el);
            if (j->len + el + 1 + JSON_TAIL_ROOM > j->cap)
                break;
            jl_raw(j, esc, el);
            i += used;
        }
        jl_raw(j, "\"", 1);
        return;
    }
    jl_raw(j, j->len > 1 ? "," : "", j->len > 1 ? 1 : 0);
    jl_str(j, key, kn);
    jl_raw(j, ":", 1);
    if (as_string)
        jl_str(j, v, vn);
    else
        jl_raw(j, v, vn);
}

static void jl_cstr(struct jline *j, const char *key, const char *v)
{
    jl_member(j, key, strlen(key), v, strlen(v), true);
}

static size_t jl_close(struct jline *j)
{
    if (j->cut)
        jl_raw(j, json_cut_tail + (j->len > 1 ? 0 : 1), JSON_TAIL_ROOM - (j->len > 1 ? 0 : 1));
    else
        jl_raw(j, "}\n", 2);
    return j->len;
}

static bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static bool starts_pair(const char *p)
{
    const char *k = p;
    while (is_key_char(*p))
        p++;
    return p > k && *p == '=';
}

/* The caller's `key=value key="quoted value"` pairs as members. */
static void jl_pairs(struct jline *j, const char *text)
{
    const char *p = text;
    while (*p && !j->cut) {
        while (*p == ' ')
            p++;
        const char *key = p;
        while (is_key_char(*p))
            p++;
        if (p == key || *p != '=') {
            /* Not key=value: keep the rest whole rather than guess. */
            jl_member(j, "text", 4, key, strlen(key), true);
            return;
        }
        size_t kn = (size_t)(p - key);
        p++;
        const char *v = p;
        size_t vn;
        bool quoted = *p == '"';
        if (quoted) {
            /* Messages may quote things: the closing quote is the first one that ends the line
             * or is followed by another key=, else the last one. */
            const char *q = strchr(v + 1, '"'), *last = strrchr(v + 1, '"');
            while (q && !(q[1] == '\0' || (q[1] == ' ' && starts_pair(q + 2))))
                q = strchr(q + 1, '"');
            if (q == NULL)
                q = last;
            v++;
            vn = q ? (size_t)(q - v) : strlen(v);
            p = q ? q + 1 : v + vn;
        } else {
            vn = strcspn(v, " ");
            p = v + vn;
        }
        jl_member(j, key, kn, v, vn, quoted || !is_integer(v, vn));
    }
}

size_t kith_log_format_line(char *out, size_t outsize, const char *ts, enum kith_log_level level,
                            const char *component, const char *text)
{
    if (kith_log_format == KITH_LOG_JSON) {
        struct jline j = {out, outsize, 0, false};
        jl_raw(&j, "{", 1);
        jl_cstr(&j, "ts", ts);
        jl_cstr(&j, "level", level_name(level));
        jl_cstr(&j, "comp", component);
        jl_pairs(&j, text);
        return jl_close(&j);
    }
    int n =
        snprintf(out, outsize, "ts=%s level=%s comp=%s %s", ts, level_name(level), component, text);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > outsize - 2)
        len = outsize - 2;
    out[len++] = '\n';
    return len;
}

void kith_log_write(enum kith_log_level level, const char *component, const char *fmt, ...)
{
    char text[1024], line[1400];
    char ts[32];
    kith_time_format(kith_clock_now_ms(), ts);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (m < 0)
        text[0] = '\0';
    size_t len = kith_log_format_line(line, sizeof(line), ts, level, component, text);
    /* One stdio call per line: lines from every thread stay whole and in order, also when
     * the server buffers stderr (kith serve flushes it every 200 ms). */
    fwrite(line, 1, len, stderr);
}

/* A text line cut at cap bytes. */
struct tline {
    char *out;
    size_t cap, len;
};

static void tl_str(struct tline *t, const char *s)
{
    while (*s && t->len < t->cap)
        t->out[t->len++] = *s++;
}

static void tl_num(struct tline *t, unsigned long long v)
{
    char d[KITH_U64_TEXT_MAX];
    kith_u64_text(v, d);
    tl_str(t, d);
}

size_t kith_log_format_access(char *out, size_t outsize, const char *ts, const char *method,
                              const char *route, int status, size_t bytes,
                              unsigned long long dur_us)
{
    method = method ? method : "-";
    route = route ? route : "-";
    if (kith_log_format == KITH_LOG_JSON) {
        char num[3][24];
        int n0 = snprintf(num[0], sizeof(num[0]), "%d", status);
        int n1 = snprintf(num[1], sizeof(num[1]), "%zu", bytes);
        int n2 = snprintf(num[2], sizeof(num[2]), "%llu", dur_us);
        struct jline j = {out, outsize, 0, false};
        jl_raw(&j, "{", 1);
        jl_cstr(&j, "ts", ts);
        jl_cstr(&j, "log", "access");
        jl_cstr(&j, "method", method);
        jl_cstr(&j, "route", route);
        jl_member(&j, "status", 6, num[0], (size_t)n0, false);
        jl_member(&j, "bytes", 5, num[1], (size_t)n1, false);
        jl_member(&j, "dur_us", 6, num[2], (size_t)n2, false);
        return jl_close(&j);
    }
    /* One line per request: put together by hand, printf cost more than the rest of it. */
    struct tline t = {out, outsize - 2, 0};
    tl_str(&t, "access method=");
    tl_str(&t, method);
    tl_str(&t, " route=");
    tl_str(&t, route);
    tl_str(&t, " status=");
    tl_num(&t, status < 0 ? 0 : (unsigned long long)status);
    tl_str(&t, " bytes=");
    tl_num(&t, bytes);
    tl_str(&t, " dur_us=");
    tl_num(&t, dur_us);
    out[t.len++] = '\n';
    return t.len;
}

void kith_log_access(const char *method, const char *route, int status, size_t bytes,
                     unsigned long long dur_us)
{
    char line[512];
    char ts[32] = "";
    if (kith_log_format == KITH_LOG_JSON)
        kith_time_format(kith_clock_now_ms(), ts);
    size_t len =
        kith_log_format_access(line, sizeof(line), ts, method, route, status, bytes, dur_us);
    fwrite(line, 1, len, stderr);
}
