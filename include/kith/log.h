/*
 * log.h: diagnostics, one line per event on stderr, as key=value pairs after a timestamp, level
 * and component. The level is checked before the arguments are formatted. Never pass secrets,
 * API keys, raw IP addresses or e-mail addresses: nothing here can tell them apart. Thread-safe
 * (each line is written with one call).
 */
#ifndef KITH_LOG_H
#define KITH_LOG_H

enum kith_log_level {
    KITH_LOG_DEBUG,
    KITH_LOG_INFO,
    KITH_LOG_WARN,
    KITH_LOG_ERROR,
};

extern enum kith_log_level kith_log_min_level;

void kith_log_write(enum kith_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define KITH_LOG_AT(lvl, comp, ...)                                                                \
    do {                                                                                           \
        if ((lvl) >= kith_log_min_level)                                                           \
            kith_log_write((lvl), (comp), __VA_ARGS__);                                            \
    } while (0)
#define kith_log_debug(comp, ...) KITH_LOG_AT(KITH_LOG_DEBUG, comp, __VA_ARGS__)
#define kith_log_info(comp, ...) KITH_LOG_AT(KITH_LOG_INFO, comp, __VA_ARGS__)
#define kith_log_warn(comp, ...) KITH_LOG_AT(KITH_LOG_WARN, comp, __VA_ARGS__)
#define kith_log_error(comp, ...) KITH_LOG_AT(KITH_LOG_ERROR, comp, __VA_ARGS__)

#endif
