/* ctl_file.c - the data dir's lock and its checksummed files
 * (ctl_file.h). Writes and syncs go through sio.h, so that tests can make
 * them fail. */
#include "controller/ctl_file.h"

#include "storage/crc32c.h"
#include "storage/sio.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTL_FILE_HEADER_MAX 128
#define CTL_PATH_MAX 4096

int ctl_file_encode(const char *kind, const json_t *doc, char **out,
                    size_t *len)
{
    char *body = json_dumps(doc, JSON_COMPACT);
    char *text = NULL;
    size_t n;
    int w;

    if (body == NULL) {
        return -1;
    }
    n = strlen(body);
    w = asprintf(&text, "VARDE %s v1 %zu %08x\n%s", kind, n,
                 (unsigned)crc32c(0, body, n), body);
    free(body);
    if (w < 0) {
        return -1;
    }
    *out = text;
    *len = (size_t)w;
    return 0;
}

/* Read a decimal of 1 to 10 digits at *P, advancing it. */
static bool ctl_file_decimal(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;

    for (; **p >= '0' && **p <= '9' && n < 10; (*p)++, n++) {
        v = v * 10 + (uint64_t)(**p - '0');
    }
    *out = v;
    return n > 0;
}

/* Read exactly 8 lowercase hex digits at *P, advancing it. */
static bool ctl_file_hex8(const char **p, uint32_t *out)
{
    uint32_t v = 0;

    for (int i = 0; i < 8; i++, (*p)++) {
        char c = **p;

        if (c >= '0' && c <= '9') {
            v = v << 4 | (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v = v << 4 | (uint32_t)(c - 'a' + 10);
        } else {
            return false;
        }
    }
    *out = v;
    return true;
}

/* Parse the header line "VARDE KIND v1 LEN CRC\n" at the start of BUF.
 * Returns the header's length, or 0 when it is not one. */
static size_t ctl_file_header(const char *kind, const char *buf, size_t len,
                              uint64_t *body_len, uint32_t *crc)
{
    const char *nl = memchr(
        buf, '\n', len < CTL_FILE_HEADER_MAX ? len : CTL_FILE_HEADER_MAX);
    char line[CTL_FILE_HEADER_MAX + 1], want[CTL_FILE_HEADER_MAX];
    const char *p = line;

    if (nl == NULL) {
        return 0;
    }
    memcpy(line, buf, (size_t)(nl - buf));
    line[nl - buf] = '\0';
    snprintf(want, sizeof(want), "VARDE %s v1 ", kind);
    if (strncmp(line, want, strlen(want)) != 0) {
        return 0;
    }
    p += strlen(want);
    if (!ctl_file_decimal(&p, body_len) || *p++ != ' ' ||
        !ctl_file_hex8(&p, crc) || *p != '\0') {
        return 0;
    }
    return (size_t)(nl - buf) + 1;
}

int ctl_file_decode(const char *kind, const char *buf, size_t len, json_t **out,
                    char *err, size_t errlen)
{
    uint64_t body_len;
    uint32_t crc;
    size_t header = ctl_file_header(kind, buf, len, &body_len, &crc);
    json_error_t jerr;

    *out = NULL;
    if (header == 0) {
        return err_fail(err, errlen,
                        "not a varde %s file (its first line is not "
                        "\"VARDE %s v1 LEN CRC\")",
                        kind, kind);
    }
    if (len - header != body_len) {
        return err_fail(err, errlen,
                        "torn: the header says %llu bytes of JSON, the file "
                        "holds %zu",
                        (unsigned long long)body_len, len - header);
    }
    if (crc32c(0, buf + header, len - header) != crc) {
        return err_fail(err, errlen, "damaged: checksum mismatch");
    }
    *out =
        json_loadb(buf + header, len - header, JSON_REJECT_DUPLICATES, &jerr);
    if (*out == NULL) {
        return err_fail(err, errlen, "bad JSON at line %d, column %d: %s",
                        jerr.line, jerr.column, jerr.text);
    }
    return 0;
}

static int ctl_file_path(char *buf, const char *dir, const char *name,
                         const char *suffix)
{
    int n = snprintf(buf, CTL_PATH_MAX, "%s/%s%s", dir, name, suffix);

    return n < 0 || n >= CTL_PATH_MAX ? -1 : 0;
}

/* Write LEN bytes of TEXT to the new file PATH and fsync it. */
static int ctl_file_write(const char *path, const char *text, size_t len,
                          char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0) {
        return err_fail(err, errlen, "create %s: %s", path, strerror(errno));
    }
    if (sio_write_all(fd, text, len) < 0) {
        err_fail(err, errlen, "write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (sio_fsync(fd) < 0) {
        err_fail(err, errlen, "fsync %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (close(fd) < 0) {
        return err_fail(err, errlen, "close %s: %s", path, strerror(errno));
    }
    return 0;
}

int ctl_file_save(const char *dir, const char *name, const char *kind,
                  const json_t *doc, char *err, size_t errlen)
{
    char path[CTL_PATH_MAX], tmp[CTL_PATH_MAX];
    char *text;
    size_t len;
    int rc;

    if (ctl_file_path(path, dir, name, "") < 0 ||
        ctl_file_path(tmp, dir, name, ".tmp") < 0) {
        return err_fail(err, errlen, "%s/%s: path too long", dir, name);
    }
    if (ctl_file_encode(kind, doc, &text, &len) < 0) {
        return err_fail(err, errlen, "save %s: out of memory", path);
    }
    rc = ctl_file_write(tmp, text, len, err, errlen);
    free(text);
    if (rc == 0 && sio_rename(tmp, path) < 0) {
        rc = err_fail(err, errlen, "rename %s to %s: %s", tmp, path,
                      strerror(errno));
    }
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    if (sio_fsync_dir(dir) < 0) {
        return err_fail(err, errlen, "fsync %s: %s", dir, strerror(errno));
    }
    return 0;
}

/* Read all of PATH into a malloc'ed *OUT (*LEN bytes). Returns 1, 0 when
 * PATH does not exist, or -1 with a reason in ERR. */
static int ctl_file_read(const char *path, char **out, size_t *len, char *err,
                         size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    ssize_t got;
    char *buf;

    if (fd < 0) {
        return errno == ENOENT ? 0
                               : err_fail(err, errlen, "open %s: %s", path,
                                          strerror(errno));
    }
    if (fstat(fd, &st) < 0 || st.st_size > (off_t)CTL_FILE_MAX) {
        close(fd);
        return err_fail(err, errlen, "%s: %s", path,
                        st.st_size > (off_t)CTL_FILE_MAX ? "too large"
                                                         : strerror(errno));
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return err_fail(err, errlen, "read %s: out of memory", path);
    }
    got = sio_pread_full(fd, buf, (size_t)st.st_size, 0);
    close(fd);
    if (got != st.st_size) {
        free(buf);
        return err_fail(err, errlen, "read %s: %s", path,
                        got < 0 ? strerror(errno) : "short read");
    }
    *out = buf;
    *len = (size_t)got;
    return 1;
}

int ctl_file_load(const char *dir, const char *name, const char *kind,
                  json_t **out, char *err, size_t errlen)
{
    char path[CTL_PATH_MAX], tmp[CTL_PATH_MAX], why[256];
    char *buf = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (ctl_file_path(path, dir, name, "") < 0 ||
        ctl_file_path(tmp, dir, name, ".tmp") < 0) {
        return err_fail(err, errlen, "%s/%s: path too long", dir, name);
    }
    if (unlink(tmp) < 0 && errno != ENOENT) {
        return err_fail(err, errlen, "remove %s: %s", tmp, strerror(errno));
    }
    rc = ctl_file_read(path, &buf, &len, err, errlen);
    if (rc <= 0) {
        return rc;
    }
    rc = ctl_file_decode(kind, buf, len, out, why, sizeof(why));
    free(buf);
    if (rc < 0) {
        return err_fail(err, errlen, "%s: %s", path, why);
    }
    return 1;
}

/* mkdir -p DIR with mode 0700. */
static int ctl_mkdir_p(const char *dir, char *err, size_t errlen)
{
    char path[CTL_PATH_MAX];
    size_t n = strlen(dir);
    struct stat st;

    if (n == 0 || n >= sizeof(path)) {
        return err_fail(err, errlen, "data dir \"%.64s\": bad path", dir);
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0') {
            continue;
        }
        path[i] = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            return err_fail(err, errlen, "create data dir %s: %s", path,
                            strerror(errno));
        }
        path[i] = dir[i];
    }
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        return err_fail(err, errlen, "data dir %s is not a directory", dir);
    }
    return 0;
}

int ctl_dir_lock(const char *dir, char *err, size_t errlen)
{
    char path[CTL_PATH_MAX];
    int fd;

    if (ctl_mkdir_p(dir, err, errlen) < 0) {
        return -1;
    }
    if (ctl_file_path(path, dir, "LOCK", "") < 0) {
        return err_fail(err, errlen, "%s/LOCK: path too long", dir);
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return err_fail(err, errlen, "open %s: %s", path, strerror(errno));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) {
            err_fail(err, errlen, "data dir %s is in use by another process",
                     dir);
        } else {
            err_fail(err, errlen, "lock %s: %s", path, strerror(errno));
        }
        close(fd);
        return -1;
    }
    return fd;
}
