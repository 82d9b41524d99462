/* log.h - one line per event on stderr: time, level, component, message. */
#ifndef VARDE_LOG_H
#define VARDE_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below LEVEL are dropped before they are formatted. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parse "debug", "info", "warn" or "error". Returns 0, or -1. */
int log_parse_level(const char *s, enum log_level *out);

/* Write "2026-12-03T13:57:09.123Z INFO  raft: MESSAGE\n" to stderr as one
 * write(2), so lines from concurrent processes never interleave. */
void log_msg(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Route libevent's own messages into log_msg() under component "event". */
void log_hook_libevent(void);

#define log_debug(c, ...)                                                      \
    do {                                                                       \
        if (log_get_level() <= LOG_DEBUG)                                      \
            log_msg(LOG_DEBUG, c, __VA_ARGS__);                                \
    } while (0)
#define log_info(c, ...) log_msg(LOG_INFO, c, __VA_ARGS__)
#define log_warn(c, ...) log_msg(LOG_WARN, c, __VA_ARGS__)
#define log_error(c, ...) log_msg(LOG_ERROR, c, __VA_ARGS__)

#endif
