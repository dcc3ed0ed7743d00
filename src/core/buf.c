/*
 * buf.c: the growable byte buffer of include/kith/buf.h. Capacity doubles, so n appends cost
 * O(n) copies in total; one spare byte is always kept for the terminating NUL.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith/buf.h"

void kith_buf_init(struct kith_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void kith_buf_reserve(struct kith_buf *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->len - 1)
        abort(); /* a size no caller can have meant */
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        abort();
    b->data = p;
    b->cap = cap;
}

void kith_buf_append(struct kith_buf *b, const void *p, size_t n)
{
    kith_buf_reserve(b, n);
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void kith_buf_str(struct kith_buf *b, const char *s)
{
    kith_buf_append(b, s, strlen(s));
}

void kith_buf_printf(struct kith_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        abort(); /* an encoding error in a format kith wrote */
    if ((size_t)n < sizeof(small)) {
        kith_buf_append(b, small, (size_t)n);
        return;
    }
    kith_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *kith_buf_cstr(const struct kith_buf *b)
{
    return b->data ? b->data : "";
}

char *kith_buf_take(struct kith_buf *b)
{
    if (b->data == NULL)
        kith_buf_reserve(b, 0);
    b->data[b->len] = '\0';
    char *p = b->data;
    kith_buf_init(b);
    return p;
}

void kith_buf_dispose(struct kith_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    kith_buf_init(b);
}

void kith_buf_html(struct kith_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            kith_buf_str(b, "&amp;");
            break;
        case '<':
            kith_buf_str(b, "&lt;");
            break;
        case '>':
            kith_buf_str(b, "&gt;");
            break;
        case '"':
            kith_buf_str(b, "&quot;");
            break;
        case '\'':
            kith_buf_str(b, "&#39;");
            break;
        default:
            kith_buf_append(b, s, 1);
        }
    }
}
