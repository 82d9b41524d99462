/* agent_logs.c - rotation and reads of a task's output (agent_logs.h). */
#include "agent/agent_logs.h"

#include "storage/sio.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOGS_COPY_BUF 65536

struct agent_log_plan agent_log_plan(uint64_t size, uint64_t old_size,
                                     uint64_t bound, uint64_t start)
{
    struct agent_log_plan p = {false, 0, 0, start};

    if (size <= bound) {
        return p;
    }
    p.rotate = true;
    p.len = bound;
    p.from = size - bound;
    p.new_start = start + old_size + p.from;
    return p;
}

uint64_t agent_log_begin(int64_t offset, uint64_t start, uint64_t end)
{
    uint64_t at;

    if (offset < 0) {
        uint64_t back =
            offset == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-offset;

        at = back > end ? 0 : end - back;
    } else {
        at = (uint64_t)offset;
    }
    return at < start ? start : at > end ? end : at;
}

static int log_path(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);

    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static uint64_t file_size(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    if (log_path(path, sizeof(path), dir, name) < 0 || stat(path, &st) < 0) {
        return 0;
    }
    return (uint64_t)st.st_size;
}

void agent_log_sizes(const char *task_dir, uint64_t *old, uint64_t *cur)
{
    *old = file_size(task_dir, AGENT_LOG_OLD);
    *cur = file_size(task_dir, AGENT_LOG_FILE);
}

/* Copy LEN bytes at FROM of IN to the new file PATH. */
static int log_copy(int in, uint64_t from, uint64_t len, const char *path,
                    char *err, size_t errlen)
{
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    char *buf = malloc(LOGS_COPY_BUF);
    uint64_t done = 0;
    int rc = 0;

    if (out < 0 || buf == NULL) {
        rc = err_fail(err, errlen, "create %s: %s", path,
                      out < 0 ? strerror(errno) : "out of memory");
    }
    while (rc == 0 && done < len) {
        size_t want =
            len - done < LOGS_COPY_BUF ? (size_t)(len - done) : LOGS_COPY_BUF;
        ssize_t got = sio_pread_full(in, buf, want, (off_t)(from + done));

        if (got <= 0) {
            break; /* truncated by someone else meanwhile: keep what came */
        }
        if (sio_write_all(out, buf, (size_t)got) < 0) {
            rc = err_fail(err, errlen, "write %s: %s", path, strerror(errno));
        }
        done += (uint64_t)got;
    }
    free(buf);
    if (out >= 0 && close(out) < 0 && rc == 0) {
        rc = err_fail(err, errlen, "close %s: %s", path, strerror(errno));
    }
    return rc;
}

int agent_log_rotate(const char *task_dir, uint64_t bound, uint64_t *start,
                     char *err, size_t errlen)
{
    char cur[PATH_MAX], old[PATH_MAX], tmp[PATH_MAX];
    struct agent_log_plan p;
    struct stat st;
    int fd;

    if (log_path(cur, sizeof(cur), task_dir, AGENT_LOG_FILE) < 0 ||
        log_path(old, sizeof(old), task_dir, AGENT_LOG_OLD) < 0 ||
        log_path(tmp, sizeof(tmp), task_dir, AGENT_LOG_OLD ".tmp") < 0) {
        return err_fail(err, errlen, "%s: path too long", task_dir);
    }
    fd = open(cur, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT
                   ? 0
                   : err_fail(err, errlen, "open %s: %s", cur, strerror(errno));
    }
    if (fstat(fd, &st) < 0) {
        close(fd);
        return err_fail(err, errlen, "stat %s: %s", cur, strerror(errno));
    }
    p = agent_log_plan((uint64_t)st.st_size, file_size(task_dir, AGENT_LOG_OLD),
                       bound, *start);
    if (!p.rotate) {
        close(fd);
        return 0;
    }
    if (log_copy(fd, p.from, p.len, tmp, err, errlen) < 0) {
        unlink(tmp);
        close(fd);
        return -1;
    }
    if (sio_rename(tmp, old) < 0) {
        err_fail(err, errlen, "rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        close(fd);
        return -1;
    }
    if (sio_ftruncate(fd, 0) < 0) {
        err_fail(err, errlen, "truncate %s: %s", cur, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    *start = p.new_start;
    return 1;
}

/* Append up to MAX bytes at OFF of DIR/NAME to BUF (*LEN bytes so far). */
static int log_read_part(const char *dir, const char *name, uint64_t off,
                         size_t max, char *buf, size_t *len, char *err,
                         size_t errlen)
{
    char path[PATH_MAX];
    ssize_t got;
    int fd;

    if (max == 0 || log_path(path, sizeof(path), dir, name) < 0) {
        return 0;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? 0
                               : err_fail(err, errlen, "open %s: %s", path,
                                          strerror(errno));
    }
    got = sio_pread_full(fd, buf + *len, max, (off_t)off);
    close(fd);
    if (got < 0) {
        return err_fail(err, errlen, "read %s: %s", path, strerror(errno));
    }
    *len += (size_t)got;
    return 0;
}

int agent_log_read(const char *task_dir, uint64_t start, uint64_t from,
                   size_t max, char **out, size_t *len, char *err,
                   size_t errlen)
{
    uint64_t old, cur, end, split;
    char *buf;
    size_t n = 0, want;

    agent_log_sizes(task_dir, &old, &cur);
    split = start + old; /* where output.log begins */
    end = split + cur;
    from = from < start ? start : from;
    max = from >= end ? 0 : end - from < max ? (size_t)(end - from) : max;
    buf = malloc(max + 1);
    if (buf == NULL) {
        return err_fail(err, errlen, "read output: out of memory");
    }
    if (from < split) {
        want = split - from < max ? (size_t)(split - from) : max;
        if (log_read_part(task_dir, AGENT_LOG_OLD, from - start, want, buf, &n,
                          err, errlen) < 0) {
            free(buf);
            return -1;
        }
        max = n < want ? n : max; /* a short read: stop there */
    }
    if (n < max && log_read_part(task_dir, AGENT_LOG_FILE, from + n - split,
                                 max - n, buf, &n, err, errlen) < 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}
