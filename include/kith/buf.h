/*
 * buf.h: the one growable byte buffer. Appends keep the content NUL-terminated, so data is a C
 * string whenever it holds no NUL of its own. Out of memory aborts (STYLE.md), so appends cannot
 * fail: callers bound untrusted sizes before appending. Not thread-safe: a buffer has one owner.
 */
#ifndef KITH_BUF_H
#define KITH_BUF_H

#include <stddef.h>

struct kith_buf {
    char *data; /* NULL until the first append; then data[len] == '\0' */
    size_t len;
    size_t cap;
};

/* Zeroed storage is an empty buffer too: `struct kith_buf b = {0};` equals kith_buf_init(&b). */
void kith_buf_init(struct kith_buf *b);

/* Makes room for len + extra bytes plus the terminating NUL. */
void kith_buf_reserve(struct kith_buf *b, size_t extra);

/* Appends n bytes of p (p may be NULL when n is 0). */
void kith_buf_append(struct kith_buf *b, const void *p, size_t n);

/* Appends the C string s. */
void kith_buf_str(struct kith_buf *b, const char *s);
/* Appends s with & < > " ' escaped: safe in HTML and XML text and quoted attributes. NULL appends
 * nothing. */
void kith_buf_html(struct kith_buf *b, const char *s);

/* Appends printf-style formatted text. */
void kith_buf_printf(struct kith_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The content as a C string: "" (static) while nothing was appended. Borrowed from b. */
const char *kith_buf_cstr(const struct kith_buf *b);

/* Hands the content to the caller, who frees it with free(); never NULL (an empty buffer gives
 * an allocated ""). b is empty afterwards and may be reused. */
char *kith_buf_take(struct kith_buf *b);

/* Frees the content; b is empty afterwards. NULL is a no-op. */
void kith_buf_dispose(struct kith_buf *b);

#endif
