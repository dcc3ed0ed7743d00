/*
 * cidr.h: address ranges written "address/prefix" (10.0.0.0/8, fd00::/8) and lists of them
 * separated by commas or white space, as the settings that open or trust networks take them
 * (webhook_allow_cidrs). One parser for every such list, so the config table refuses exactly
 * what the modules using the list would. Pure and thread-safe. It is not for judging addresses
 * (src/webhooks/netpolicy.c decides what a webhook may reach).
 */
#ifndef KITH_CIDR_H
#define KITH_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kith/core.h"

#define KITH_CIDR_LIST_MAX 256 /* ranges in one list */

struct kith_cidr {
    int family;       /* AF_INET or AF_INET6 */
    uint8_t addr[16]; /* network bytes, host bits cleared; 4 used for AF_INET */
    unsigned prefix;  /* 0..32 or 0..128 */
};

/*
 * Parses one token tok[0..len). The prefix is required, decimal, without sign or leading zero;
 * host bits past the prefix are cleared, as most tools do, so "10.1.2.3/8" means 10.0.0.0/8.
 * False for anything else (zone ids, host names, missing prefix).
 */
bool kith_cidr_parse(const char *tok, size_t len, struct kith_cidr *out);

/* True when addr (4 or 16 network bytes of family) is inside c. */
bool kith_cidr_contains(const struct kith_cidr *c, int family, const uint8_t *addr);

/*
 * Parses a list ("127.0.0.0/8, ::1/128"; NULL or "" is the empty list) into out[0..max) and sets
 * *count. With out NULL it only validates and counts (max still bounds the count). Returns
 * KITH_E_INVALID_PARAM with a message naming the bad token, or the bound, in err.
 */
enum kith_status kith_cidr_list_parse(const char *text, struct kith_cidr *out, size_t max,
                                      size_t *count, struct kith_err *err);

#endif
