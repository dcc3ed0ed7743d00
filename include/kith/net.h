/*
 * net.h: addresses as kith compares and hashes them. One canonical text per address (IPv4
 * dotted quad; IPv6 as inet_ntop writes it; an IPv4-mapped IPv6 address is its IPv4 address),
 * lists of CIDR ranges, and the client address of a request that came through trusted reverse
 * proxies (the right-most X-Forwarded-For entry that is not itself a trusted proxy). Pure: no
 * I/O, no allocation except the range list's one block.
 *
 * Thread-safety: every function is reentrant; a range list is read-only after it is parsed and
 * may be shared by threads.
 */
#ifndef KITH_NET_H
#define KITH_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kith/core.h"

#define KITH_NET_ADDR_MAX 46   /* INET6_ADDRSTRLEN: the longest canonical text, NUL included */
#define KITH_NET_CIDRS_MAX 256 /* ranges in one list (KITH_CIDR_LIST_MAX) */
#define KITH_NET_XFF_MAX 32    /* X-Forwarded-For entries looked at, from the right */

/* An address: family 4 or 6 and its bytes (IPv4 in the first 4). */
struct kith_net_addr {
    int family;
    uint8_t bytes[16];
};

/* Parses an IPv4 or IPv6 address (no brackets, port or zone). An IPv4-mapped IPv6 address
 * (::ffff:198.51.100.4) becomes the IPv4 address. False for anything else. */
bool kith_net_addr_parse(const char *text, size_t len, struct kith_net_addr *out);
/* The canonical text of a parsed address. */
void kith_net_addr_format(const struct kith_net_addr *a, char out[KITH_NET_ADDR_MAX]);
/* Parse then format: false (out "") when text is not an address. */
bool kith_net_addr_canonical(const char *text, char out[KITH_NET_ADDR_MAX]);

/* A list of ranges ("10.0.0.0/8, ::1/128", parsed by kith/cidr.h; separators: comma and white
 * space). Addresses are folded to IPv4 before matching, so write IPv4 ranges as IPv4. */
struct kith_net_cidrs;
/*
 * Parses list (NULL or "" is the empty list). KITH_E_INVALID_PARAM with err naming `what` (the
 * setting, e.g. "KITH_TRUSTED_PROXIES") and the bad token; at most KITH_NET_CIDRS_MAX ranges.
 * *out is owned by the caller: kith_net_cidrs_destroy().
 */
enum kith_status kith_net_cidrs_parse(const char *list, const char *what,
                                      struct kith_net_cidrs **out, struct kith_err *err);
void kith_net_cidrs_destroy(struct kith_net_cidrs *c);
/* True when a is in one of the ranges. NULL is the empty list. */
bool kith_net_cidrs_contain(const struct kith_net_cidrs *c, const struct kith_net_addr *a);
size_t kith_net_cidrs_count(const struct kith_net_cidrs *c);

/*
 * The client of a request: peer is the connected address; when it is in trusted, the client
 * is the right-most X-Forwarded-For entry (xff, may be NULL; several header lines joined with
 * ",") that is not itself trusted, and *secure is true when proto (X-Forwarded-Proto) is
 * "https". Otherwise, or when peer is not trusted, both headers mean nothing: the client is
 * peer and *secure false. An entry that is not an address stops the walk (the client is the
 * last trusted hop seen). Writes the canonical text to out; false when peer itself is not an
 * address (out "").
 */
bool kith_net_client(const char *peer, const char *xff, const char *proto,
                     const struct kith_net_cidrs *trusted, char out[KITH_NET_ADDR_MAX],
                     bool *secure);

#endif
