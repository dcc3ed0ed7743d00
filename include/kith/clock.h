/*
 * clock.h: the one source of time. Every module that needs "now" asks here, so the test clock
 * (`kith serve --test-clock`) replaces time everywhere at once. Pure rule modules never call this:
 * they take `now_ms` as an argument. Thread-safe.
 */
#ifndef KITH_CLOCK_H
#define KITH_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch: the wall clock, or the test clock when it is enabled. */
int64_t kith_clock_now_ms(void);

/* Freezes time at now_ms; from then on only kith_clock_set_ms moves it. */
void kith_clock_enable_test(int64_t now_ms);
bool kith_clock_is_test(void);
void kith_clock_set_ms(int64_t now_ms);

/* Monotonic nanoseconds for latencies and timeouts (never the test clock). */
uint64_t kith_clock_mono_ns(void);

/* RFC 3339 UTC with seconds ("2026-11-22T10:00:00Z"); out must hold 32 bytes. */
void kith_time_format(int64_t ms, char out[32]);
/* Parses RFC 3339 (Z or +hh:mm offset, optional fraction). Returns false on any malformation. */
bool kith_time_parse(const char *s, int64_t *out_ms);

#endif
