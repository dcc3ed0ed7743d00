/*
 * fuzz_check.h: what the fuzz targets share: a check that names the broken invariant (and the
 * values involved) before aborting, so libFuzzer and the replay both stop on it, and a helper
 * that turns the raw input into a NUL-terminated string. It is not a test framework: a target
 * either returns 0 or aborts.
 */
#ifndef KITH_FUZZ_CHECK_H
#define KITH_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n  ", __FILE__, __LINE__, #cond);         \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A malloc'd copy of data[0, size) with a NUL appended; inner NULs stay (C sees a prefix). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
