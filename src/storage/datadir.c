/* datadir.c - the data dir's lock and its durably replaced files
 * (datadir.h). */
#include "storage/datadir.h"

#include "storage/sio.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* DIR/NAME followed by SUFFIX into BUF (DATADIR_PATH_MAX bytes). */
static int datadir_path(char *buf, const char *dir, const char *name,
                        const char *suffix)
{
    int n = snprintf(buf, DATADIR_PATH_MAX, "%s/%s%s", dir, name, suffix);

    return n < 0 || n >= DATADIR_PATH_MAX ? -1 : 0;
}

/* fsync the directory that holds PATH, so a new entry in it survives. */
static int datadir_fsync_parent(const char *path)
{
    char parent[DATADIR_PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 0 : (size_t)(slash - path);

    if (slash == NULL) {
        snprintf(parent, sizeof(parent), ".");
    } else if (n == 0) {
        snprintf(parent, sizeof(parent), "/");
    } else {
        snprintf(parent, sizeof(parent), "%.*s", (int)n, path);
    }
    return sio_fsync_dir(parent);
}

/* mkdir -p DIR with mode 0700; each new directory's parent is fsynced. */
static int datadir_mkdir_p(const char *dir, char *err, size_t errlen)
{
    char path[DATADIR_PATH_MAX];
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
        if (mkdir(path, 0700) == 0) {
            if (datadir_fsync_parent(path) < 0) {
                return err_fail(err, errlen, "fsync parent of %s: %s", path,
                                strerror(errno));
            }
        } else if (errno != EEXIST) {
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

int datadir_lock(const char *dir, bool *locked, char *err, size_t errlen)
{
    char path[DATADIR_PATH_MAX], pid[32];
    int fd, n;

    if (locked != NULL) {
        *locked = false;
    }
    if (datadir_mkdir_p(dir, err, errlen) < 0) {
        return -1;
    }
    if (datadir_path(path, dir, "LOCK", "") < 0) {
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
            if (locked != NULL) {
                *locked = true;
            }
        } else {
            err_fail(err, errlen, "lock %s: %s", path, strerror(errno));
        }
        close(fd);
        return -1;
    }

    /* The pid is for the operator who finds the dir locked; losing it to an
     * error costs nothing, the lock is what counts. */
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0) {
        ssize_t w = pwrite(fd, pid, (size_t)n, 0);

        (void)w;
    }
    return fd;
}

/* Write LEN bytes of DATA to the new file PATH and fsync it. */
static int datadir_write(const char *path, const void *data, size_t len,
                         char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0) {
        return err_fail(err, errlen, "create %s: %s", path, strerror(errno));
    }
    if (sio_write_all(fd, data, len) < 0) {
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

int datadir_replace(const char *dir, const char *name, const void *data,
                    size_t len, char *err, size_t errlen)
{
    char path[DATADIR_PATH_MAX], tmp[DATADIR_PATH_MAX];
    int rc;

    if (datadir_path(path, dir, name, "") < 0 ||
        datadir_path(tmp, dir, name, ".tmp") < 0) {
        return err_fail(err, errlen, "%s/%s: path too long", dir, name);
    }
    rc = datadir_write(tmp, data, len, err, errlen);
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

/* Read all of PATH, at most MAX bytes, into a malloc'ed *OUT (*LEN bytes,
 * NUL after them). Returns 1, 0 when PATH does not exist, or -1. */
static int datadir_read_path(const char *path, size_t max, char **out,
                             size_t *len, char *err, size_t errlen)
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
    if (fstat(fd, &st) < 0) {
        err_fail(err, errlen, "stat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return err_fail(err, errlen, "%s: too large (%lld bytes, at most %zu)",
                        path, (long long)st.st_size, max);
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
    buf[got] = '\0';
    *out = buf;
    *len = (size_t)got;
    return 1;
}

int datadir_read(const char *dir, const char *name, size_t max, char **out,
                 size_t *len, char *err, size_t errlen)
{
    char path[DATADIR_PATH_MAX], tmp[DATADIR_PATH_MAX];

    if (datadir_path(path, dir, name, "") < 0 ||
        datadir_path(tmp, dir, name, ".tmp") < 0) {
        return err_fail(err, errlen, "%s/%s: path too long", dir, name);
    }

    /* A directory we cannot remove a file from is one no save will work
     * in either (the rename needs the same right): refuse it now. */
    if (unlink(tmp) < 0 && errno != ENOENT) {
        return err_fail(err, errlen, "remove %s: %s", tmp, strerror(errno));
    }
    return datadir_read_path(path, max, out, len, err, errlen);
}
