/*
 * log.h: diagnostics, one line per event on stderr, as key=value pairs after a timestamp, level
 * and component, or as one JSON object per line with KITH_LOG_FORMAT=json. The level is checked
 * before the arguments are formatted. Never pass secrets, API keys, raw IP addresses or e-mail
 * addresses: nothing here can tell them apart. Thread-safe (each line is written with one call);
 * the level and format are set once at start, before any thread runs.
 *
 * The access log (one line per HTTP response) is separate from diagnostics but shares the level
 * (it is info: warn and error silence it) and the format, through kith_log_access().
 */
#ifndef KITH_LOG_H
#define KITH_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum kith_log_level {
    KITH_LOG_DEBUG,
    KITH_LOG_INFO,
    KITH_LOG_WARN,
    KITH_LOG_ERROR,
};

enum kith_log_format {
    KITH_LOG_TEXT, /* ts=... level=... comp=... key=value ... */
    KITH_LOG_JSON, /* {"ts":"...","level":"...","comp":"...","key":"value",...} */
};

extern enum kith_log_level kith_log_min_level;
extern enum kith_log_format kith_log_format;

/* True when a line at level would be written. */
static inline bool kith_log_enabled(enum kith_log_level level)
{
    return level >= kith_log_min_level;
}

void kith_log_write(enum kith_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Formats one diagnostic line (with its '\n') into out (outsize >= 64) in the current format
 * and returns its length; text holds the caller's key=value pairs. A line that does not fit is
 * cut, and stays one line (and, in JSON, one valid object). ts is an RFC 3339 time.
 */
size_t kith_log_format_line(char *out, size_t outsize, const char *ts, enum kith_log_level level,
                            const char *component, const char *text);

/* One access-log line: "access method=GET route=... status=200 bytes=12 dur_us=34", or the same
 * fields as JSON (with "log":"access" and a timestamp). Callers check kith_log_enabled(INFO). */
void kith_log_access(const char *method, const char *route, int status, size_t bytes,
                     unsigned long long dur_us);
size_t kith_log_format_access(char *out, size_t outsize, const char *ts, const char *method,
                              const char *route, int status, size_t bytes,
                              unsigned long long dur_us);

#define KITH_LOG_AT(lvl, comp, ...)                                                                \
    do {                                                                                           \
        if (kith_log_enabled(lvl))                                                                 \
            kith_log_write((lvl), (comp), __VA_ARGS__);                                            \
    } while (0)
#define kith_log_debug(comp, ...) KITH_LOG_AT(KITH_LOG_DEBUG, comp, __VA_ARGS__)
#define kith_log_info(comp, ...) KITH_LOG_AT(KITH_LOG_INFO, comp, __VA_ARGS__)
#define kith_log_warn(comp, ...) KITH_LOG_AT(KITH_LOG_WARN, comp, __VA_ARGS__)
#define kith_log_error(comp, ...) KITH_LOG_AT(KITH_LOG_ERROR, comp, __VA_ARGS__)

#endif
