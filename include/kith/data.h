/*
 * data.h: data files shipped in data/ and embedded into the binary at build time (see
 * cmake/embed.cmake and data/README.md): the disposable e-mail domains and the coupon and deal
 * sites the fraud rules check. Each is NUL-terminated text of the given length.
 *
 * Ownership and threads: read-only arrays generated at build time; safe from any thread.
 */
#ifndef KITH_DATA_H
#define KITH_DATA_H

#include <stddef.h>

extern const char kith_data_disposable_email_domains[];
extern const size_t kith_data_disposable_email_domains_len;
extern const char kith_data_coupon_sites[];
extern const size_t kith_data_coupon_sites_len;

#endif
