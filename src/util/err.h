/* err.h - one-line error messages into a caller's buffer. */
#ifndef VARDE_ERR_H
#define VARDE_ERR_H

#include <stddef.h>

/* Format a one-line reason into ERR (ERRLEN bytes, NUL-terminated when
 * ERRLEN > 0) and return -1, so that a failing path reads
 * "return err_fail(err, errlen, "what: %s", why);". */
int err_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
