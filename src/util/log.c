/* log.c - the one-line event log shared by every daemon. */
#include "util/log.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_set_level(enum log_level level)
{
    min_level = level;
}

enum log_level log_get_level(void)
{
    return min_level;
}

int log_parse_level(const char *s, enum log_level *out)
{
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
        if (strcasecmp(s, level_names[i]) == 0 ||
            (i == LOG_WARN && strcasecmp(s, "warning") == 0)) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
{
    char line[1024];
    struct timeval tv;
    struct tm tm;
    size_t n;
    va_list ap;
    int w;

    if (level < min_level) {
        return;
    }
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    w = snprintf(line + n, sizeof(line) - n,
                 ".%03dZ %-5s %s: ", (int)(tv.tv_usec / 1000),
                 level_names[level], component);
    n += (size_t)w;
    va_start(ap, fmt);
    w = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (w < 0) {
        w = 0;
    }
    n += (size_t)w;
    if (n > sizeof(line) - 2) {
        n = sizeof(line) - 2; /* truncated: keep it one line */
    }
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) {
        /* Nowhere left to report a failing stderr. */
    }
}

static void libevent_log_cb(int severity, const char *msg)
{
    enum log_level level = LOG_DEBUG;

    if (severity == EVENT_LOG_MSG) {
        level = LOG_INFO;
    } else if (severity == EVENT_LOG_WARN) {
        level = LOG_WARN;
    } else if (severity == EVENT_LOG_ERR) {
        level = LOG_ERROR;
    }
    if (level >= min_level) {
        log_msg(level, "event", "%s", msg);
    }
}

void log_hook_libevent(void)
{
    event_set_log_callback(libevent_log_cb);
}
