/*
 * config_internal.h: what config.c (reading values) and config_docs.c (writing help and docs)
 * share. Not for anything outside src/core.
 */
#ifndef KITH_CONFIG_INTERNAL_H
#define KITH_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "kith/config.h"

/* words joined with sep into out ("a, b, c"). */
void kith_config__join_words(const char *const *words, const char *sep, char *out, size_t outsize);
/* True when command accepts s as a flag. */
bool kith_config__takes_flag(const struct kith_config_setting *s, unsigned command);

#endif
