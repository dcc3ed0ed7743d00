/*
 * text.h: the one set of checks and decoders for untrusted text that every module shares:
 * identifier rules (slugs and other lowercase words), hex digits, strict UTF-8, http(s) URLs,
 * and percent-decoding of URL parts. Pure: no allocation, no I/O, thread-safe. It is not for
 * domain rules (what a program id or an event type is lives with the engine, which calls these)
 * nor for HTTP framing.
 */
#ifndef KITH_TEXT_H
#define KITH_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kith/core.h"

/* The value of one hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other byte. */
int kith_hex_value(int c);

/* True when s holds exactly len bytes (len > 0) and every one is a hex digit of either case. */
bool kith_valid_hex(const char *s, size_t len);

/*
 * True when s (NUL-terminated) is 1 to max bytes, each a lowercase ASCII letter, an ASCII digit
 * or one of the bytes in punct (may be "" or NULL). kith_valid_word(s, 40, "_.") is an event
 * type, for instance.
 */
bool kith_valid_word(const char *s, size_t max, const char *punct);

/* A slug: 1 to max bytes of [a-z0-9-] (program ids). */
bool kith_valid_slug(const char *s, size_t max);

/* Exactly three ASCII capital letters: the shape of an ISO 4217 currency code ("USD"). Whether
 * the code is assigned is not checked. */
bool kith_valid_currency(const char *s);

/*
 * Decodes one strict UTF-8 sequence from s[0..n) (n > 0): returns its length (1-4) and sets *cp.
 * For an invalid lead byte, an overlong form, a surrogate, a value past U+10FFFF or a sequence
 * cut short by n (or by any byte that is not a continuation byte, such as a NUL), returns 1 with
 * *cp = UINT32_MAX, so a caller that skips one byte resynchronises on the next lead byte.
 */
size_t kith_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* True when buf[0..len) is strict UTF-8 (see kith_utf8_decode). NUL bytes are valid UTF-8. */
bool kith_valid_utf8(const void *buf, size_t len);

/*
 * True when s is "<scheme>://<rest>" with scheme one of schemes (NULL-terminated, lowercase,
 * compared exactly), rest not empty and not starting with '/', '?' or '#', and no byte of s a
 * control, a space, DEL or one of " < > \ (bytes a URL never holds unescaped).
 */
bool kith_valid_url(const char *s, const char *const *schemes);

/*
 * Percent-decodes in[0..len) into out (outsize bytes, NUL-terminated on success), strictly:
 * "%XY" needs two hex digits, '+' becomes a space when plus_is_space (query strings) and stays
 * '+' otherwise (paths). Refuses, with KITH_E_INVALID_PARAM and a message in err (err may be
 * NULL): a malformed escape, a NUL byte (raw or %00), a result that is not strict UTF-8, and a
 * result that does not fit in outsize - 1 bytes. out is unspecified on failure. The decoded
 * length is strlen(out), since no NUL can be inside.
 */
enum kith_status kith_pct_decode(const char *in, size_t len, bool plus_is_space, char *out,
                                 size_t outsize, struct kith_err *err);

#endif
