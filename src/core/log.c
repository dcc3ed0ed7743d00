/*
 * log.c: the diagnostic log writer. Formats the whole line into one buffer and hands it to stdio
 * in one call, so lines from the loop and store threads never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kith/clock.h"
#include "kith/log.h"

enum kith_log_level kith_log_min_level = KITH_LOG_INFO;

static const char *level_name(enum kith_log_level l)
{
    switch (l) {
    case KITH_LOG_DEBUG:
        return "debug";
    case KITH_LOG_INFO:
        return "info";
    case KITH_LOG_WARN:
        return "warn";
    case KITH_LOG_ERROR:
        return "error";
    }
    return "?";
}

void kith_log_write(enum kith_log_level level, const char *component, const char *fmt, ...)
{
    char line[1024];
    char ts[32];
    kith_time_format(kith_clock_now_ms(), ts);
    int n =
        snprintf(line, sizeof(line), "ts=%s level=%s comp=%s ", ts, level_name(level), component);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    /* One stdio call per line: lines from every thread stay whole and in order, also when
     * the server buffers stderr (kith serve flushes it every 200 ms). */
    fwrite(line, 1, len, stderr);
}
