/* err.c - one-line error messages into a caller's buffer. */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>

int err_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}
