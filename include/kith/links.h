/*
 * links.h: the rules of the redirect path GET/HEAD /r/{code}, as pure functions: where the visitor
 * is sent (the Location), whether the visit counts as a click (cookie and click record) and why
 * not, the cookie itself, and the two untrusted inputs a click keeps (the Referer's host and the
 * `ch` channel). Inputs in, verdicts and strings out: no I/O, no clock, no store, no libuv, no
 * allocation, no global state beyond constant tables. Looking the code up, generating the click
 * id, hashing the address and writing the click belong to the caller (src/app, src/engine).
 *
 * Thread-safety: every function here is reentrant and may be called from any thread at once;
 * none keeps a pointer to what it is given.
 */
#ifndef KITH_LINKS_H
#define KITH_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kith/core.h"

/* Longest referrer host kept: the DNS limit (253) plus a trailing dot, and one spare; it fills
 * struct kith_click's referrer_host[256] exactly. */
#define KITH_LINKS_HOST_MAX 255
#define KITH_LINKS_CHANNEL_MAX 20
/* Longest code or click id the location and cookie builders take ([A-Za-z0-9_-] only). */
#define KITH_LINKS_TOKEN_MAX 64
/* Longest cookie domain ([A-Za-z0-9.-] only). */
#define KITH_LINKS_DOMAIN_MAX 253
/* cookie_days accepted by kith_links_cookie (the program setting's bounds). */
#define KITH_LINKS_COOKIE_DAYS_MAX 3650
/* Buffer sizes (NUL included) that always suffice: any destination of up to 2047 bytes (a
 * program's destination_url is at most 2000) with a code and a click id of KITH_LINKS_TOKEN_MAX
 * each; any cookie the builder accepts. */
#define KITH_LINKS_LOCATION_MAX 2200
#define KITH_LINKS_COOKIE_MAX 512
/* Only the first KITH_LINKS_UA_SCAN_MAX - 1 bytes of a User-Agent are looked at. */
#define KITH_LINKS_UA_SCAN_MAX 512

/* Why a visit is or is not counted as a click. Values are listed in the order they are tried. */
enum kith_links_reason {
    KITH_LINKS_COUNTED = 0,     /* cookie and click record */
    KITH_LINKS_NOT_ATTRIBUTING, /* the participant is blocked or erased: no ref either */
    KITH_LINKS_HEAD,            /* a HEAD request: link checkers, not people */
    KITH_LINKS_BOT,             /* a crawler or link-preview fetcher */
    KITH_LINKS_RATE_CAPPED,     /* this address reached its click cap */
    KITH_LINKS_BACKLOG_FULL,    /* the click writer is behind: shed, not queued */
};

/* What the redirect handler knows about one visit, reduced to yes/no facts. */
struct kith_links_facts {
    bool attributes;   /* the code's participant is active and not erased */
    bool head;         /* HEAD rather than GET */
    bool bot;          /* kith_links_is_bot(User-Agent) */
    bool rate_capped;  /* the per-address click cap is reached (false until there is one) */
    bool backlog_full; /* clicks waiting to be written reached the backlog bound */
};

/*
 * Extracts the host from a Referer header value into out: the value must start with
 * a scheme ("http", "android-app", ...: a letter, then letters, digits, '+', '-' or '.') and
 * "://"; the authority ends at the first '/', '?', '#' or the end; anything up to its last '@'
 * (userinfo) is dropped, and so is everything from the first ':' (the port, not checked). What is
 * left must be 1..KITH_LINKS_HOST_MAX characters of [A-Za-z0-9.-], and is lower-cased:
 * "https://u:p@WWW.Ex.com:8443/a?b#c" gives "www.ex.com". Refused, with out set to "": NULL, no
 * scheme (a bare "example.com/x" or a relative "//example.com/x"), an empty host, any other
 * character (percent-escapes, '_', spaces, non-ASCII, IPv6 literals such as "[::1]": the brackets
 * are not in the alphabet), or a longer host (never truncated). Labels are not checked ("a..b"
 * passes): the result is a grouping key and an input to domain-list matching, not a name to
 * resolve. Returns true when out holds a host. out is always NUL-terminated.
 */
bool kith_links_referrer_host(const char *referer, char out[KITH_LINKS_HOST_MAX + 1]);

/* True when channel (the `ch` query value) is 1..KITH_LINKS_CHANNEL_MAX characters of
 * [a-z0-9_-]. NULL is false. Uppercase is refused, not folded: channels are labels we report. */
bool kith_links_channel_valid(const char *channel);

/*
 * True when a User-Agent belongs to a crawler or link-preview fetcher ("bot", "crawler",
 * "facebookexternalhit", "whatsapp/", ...: a substring list, ASCII case-insensitive, over the
 * first KITH_LINKS_UA_SCAN_MAX - 1 bytes). In-app browsers of social apps are people and are not
 * listed, only their fetchers. NULL or "" is false (a missing User-Agent is not proof of a bot).
 */
bool kith_links_is_bot(const char *user_agent);

/*
 * Decides whether a visit is counted: a counted visit gets the kith_ref cookie and a click
 * record; any other still gets its redirect. The first reason that applies wins, in the order of
 * enum kith_links_reason, so *reason is BACKLOG_FULL only for a visit that would otherwise have
 * been counted (what a "clicks shed" metric wants). Returns true exactly when the reason is
 * KITH_LINKS_COUNTED. reason may be NULL; facts may not.
 */
bool kith_links_decide(const struct kith_links_facts *facts, enum kith_links_reason *reason);

/* The reason as a label for logs and metrics ("counted", "not_attributing", "head", "bot",
 * "rate_capped", "backlog_full"); "unknown" for a value outside the enum. Never NULL, static. */
const char *kith_links_reason_name(enum kith_links_reason reason);

/*
 * Builds the redirect Location into out (out_size bytes, NUL included). When attributes is true
 * it is destination with "ref=<code>" added to its query, followed by "&kith_click=<click_id>"
 * when click_id is not NULL: after '?' when the destination has no query, after '&' when it has
 * one, directly when the part before any '#' already ends in '?' or '&' with a query; a
 * "#fragment" stays at the end. "https://x.com/j?a=1#top" + JANE-2847 gives
 * "https://x.com/j?a=1&ref=JANE-2847#top". A "ref" already in the destination is left as it is.
 * When attributes is false the result is destination unchanged, and code and click_id are
 * ignored (they may be NULL).
 *
 * Returns KITH_OK, or KITH_E_INVALID_PARAM (err->param "destination", "code" or "click_id")
 * when destination is NULL, empty or contains a byte <= 0x20 or 0x7f (so the header can never
 * carry CR/LF), or code/click_id is not 1..KITH_LINKS_TOKEN_MAX characters of [A-Za-z0-9_-], or
 * KITH_E_TOO_LARGE when the result does not fit in out_size; nothing is ever truncated. On any
 * error out is "" (when out_size > 0). err may be NULL.
 */
enum kith_status kith_links_location(const char *destination, bool attributes, const char *code,
                                     const char *click_id, char *out, size_t out_size,
                                     struct kith_err *err);

/*
 * Builds the Set-Cookie value of a counted click into out (out_size bytes, NUL included):
 * "kith_ref=<click_id>; Max-Age=<cookie_days * 86400>; Path=/; HttpOnly; SameSite=Lax", then
 * "; Domain=<domain>" when domain is neither NULL nor "", then "; Secure" when secure.
 *
 * Returns KITH_OK, or KITH_E_INVALID_PARAM (err->param "click_id", "cookie_days" or "domain")
 * when click_id is not 1..KITH_LINKS_TOKEN_MAX characters of [A-Za-z0-9_-], cookie_days is
 * outside 1..KITH_LINKS_COOKIE_DAYS_MAX, or domain is not 1..KITH_LINKS_DOMAIN_MAX characters of
 * [A-Za-z0-9.-]; KITH_E_TOO_LARGE when the cookie does not fit (KITH_LINKS_COOKIE_MAX always
 * does). On any error out is "" (when out_size > 0). err may be NULL.
 */
enum kith_status kith_links_cookie(const char *click_id, int64_t cookie_days, const char *domain,
                                   bool secure, char *out, size_t out_size, struct kith_err *err);

#endif
