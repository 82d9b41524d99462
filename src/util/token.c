/* token.c - loading and comparing the access token (token.h). */
#include "util/token.h"

#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int token_check(const char *text, size_t len, char *err, size_t errlen)
{
    if (len < TOKEN_MIN || len > TOKEN_MAX) {
        return err_fail(err, errlen, "a token must be %d to %d bytes, not %zu",
                        TOKEN_MIN, TOKEN_MAX, len);
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)text[i] <= ' ' || (unsigned char)text[i] >= 0x7f) {
            return err_fail(err, errlen,
                            "a token must be printable ASCII without spaces "
                            "(byte %zu is not)",
                            i);
        }
    }
    return 0;
}

int token_load(const char *path, char *buf, bool *loose, char *err,
               size_t errlen)
{
    char raw[TOKEN_MAX + 64];
    struct stat st;
    ssize_t n;
    size_t len;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return err_fail(err, errlen, "token file %s: %s", path,
                        strerror(errno));
    }
    if (fstat(fd, &st) < 0 || (n = read(fd, raw, sizeof(raw) - 1)) < 0) {
        int e = errno;

        close(fd);
        return err_fail(err, errlen, "token file %s: %s", path, strerror(e));
    }
    close(fd);
    *loose = (st.st_mode & 077) != 0;
    raw[n] = '\0';
    len = strcspn(raw, "\r\n");
    while (len > 0 && (raw[len - 1] == ' ' || raw[len - 1] == '\t')) {
        len--;
    }
    if (token_check(raw, len, err, errlen) < 0) {
        char why[120];

        snprintf(why, sizeof(why), "%s", err);
        return err_fail(err, errlen, "token file %s: %s", path, why);
    }
    memcpy(buf, raw, len);
    buf[len] = '\0';
    return 0;
}

bool token_header_ok(const char *auth, const char *token)
{
    static const char prefix[] = "Bearer ";
    size_t tlen = strlen(token), alen;
    unsigned char diff = 0;

    if (auth == NULL || strncmp(auth, prefix, sizeof(prefix) - 1) != 0) {
        return false;
    }
    auth += sizeof(prefix) - 1;
    alen = strlen(auth);
    /* Walk the whole expected token whatever was sent; a length mismatch
     * is folded into the result, not returned early. */
    for (size_t i = 0; i < tlen; i++) {
        diff |= (unsigned char)(token[i] ^ (i < alen ? auth[i] : 0));
    }
    return diff == 0 && alen == tlen;
}
