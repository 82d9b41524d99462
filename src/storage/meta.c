/* meta.c - term and vote in DIR/meta, replaced atomically by rename.
 *
 * The record (all integers little-endian, 28 bytes):
 *
 *   0  u32 magic    0x4154454d ("META" as bytes on disk)
 *   4  u32 version  1
 *   8  u64 term
 *  16  u64 vote     0: no vote in this term
 *  24  u32 crc      CRC32C of bytes 0..23
 *
 * A save writes the whole record to meta.tmp, fsyncs it, renames it over
 * meta and fsyncs the directory, so the file named meta is always a whole
 * record that reached the disk. Anything else found there is corruption and
 * stops the node: the only safe repair is an operator's.
 */
#include "storage/meta.h"
#include "util/err.h"

#include "storage/crc32c.h"
#include "storage/sio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_MAGIC 0x4154454du /* "META" */
#define META_VERSION 1u
#define META_RECORD_SIZE 28

struct meta_store {
    char *dir;
    char *meta_path; /* DIR/meta */
    char *tmp_path;  /* DIR/meta.tmp */
    int lock_fd;     /* DIR/LOCK, flock()ed */
};

static char *meta_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p != NULL) {
        snprintf(p, n, "%s/%s", dir, name);
    }
    return p;
}

/* fsync the directory that holds PATH, so a new entry in it survives. */
static int meta_fsync_parent(const char *path)
{
    char parent[4096];
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

/* mkdir -p with mode 0700; each new directory's parent is fsynced. */
static int meta_mkdir_p(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    size_t n = strlen(dir);
    struct stat st;

    if (n == 0 || n >= sizeof(path)) {
        return err_fail(err, errlen, "data dir \"%s\": bad path", dir);
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0') {
            continue;
        }
        path[i] = '\0';
        if (mkdir(path, 0700) == 0) {
            if (meta_fsync_parent(path) < 0) {
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

/* Take DIR/LOCK. Returns the locked fd, or a negative enum meta_error. */
static int meta_lock(const char *dir, char *err, size_t errlen)
{
    char *path = meta_join(dir, "LOCK");
    char pid[32];
    ssize_t w;
    int fd, n;

    if (path == NULL) {
        err_fail(err, errlen, "out of memory");
        return META_ERR_NOMEM;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_fail(err, errlen, "open %s: %s", path, strerror(errno));
        free(path);
        return META_ERR_IO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int locked = errno == EWOULDBLOCK;

        if (locked) {
            err_fail(err, errlen, "data dir %s is in use by another process",
                     dir);
        } else {
            err_fail(err, errlen, "lock %s: %s", path, strerror(errno));
        }
        close(fd);
        free(path);
        return locked ? META_ERR_LOCKED : META_ERR_IO;
    }
    free(path);

    /* The pid is for the operator who finds the dir locked; losing it to an
     * error costs nothing, the lock is what counts. */
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0) {
        w = pwrite(fd, pid, (size_t)n, 0);
        (void)w;
    }
    return fd;
}

static void meta_encode(uint8_t rec[META_RECORD_SIZE],
                        const struct raft_hard_state *hs)
{
    sio_put_le32(rec, META_MAGIC);
    sio_put_le32(rec + 4, META_VERSION);
    sio_put_le64(rec + 8, hs->term);
    sio_put_le64(rec + 16, hs->vote);
    sio_put_le32(rec + 24, crc32c(0, rec, 24));
}

/* Check a record of N bytes read from PATH and decode it into HS. */
static int meta_decode(const uint8_t *rec, size_t n, const char *path,
                       struct raft_hard_state *hs, char *err, size_t errlen)
{
    uint32_t version;

    if (n != META_RECORD_SIZE) {
        return err_fail(err, errlen,
                        "%s: corrupt: %s (%zu bytes, a record is %d)", path,
                        n < META_RECORD_SIZE ? "truncated" : "trailing bytes",
                        n, META_RECORD_SIZE);
    }
    if (sio_get_le32(rec) != META_MAGIC) {
        return err_fail(err, errlen, "%s: corrupt: bad magic 0x%08x", path,
                        (unsigned)sio_get_le32(rec));
    }
    version = sio_get_le32(rec + 4);
    if (version != META_VERSION) {
        return err_fail(err, errlen,
                        "%s: format version %u not supported (want %u)", path,
                        (unsigned)version, META_VERSION);
    }
    if (sio_get_le32(rec + 24) != crc32c(0, rec, 24)) {
        return err_fail(err, errlen, "%s: corrupt: checksum mismatch", path);
    }
    hs->term = sio_get_le64(rec + 8);
    hs->vote = sio_get_le64(rec + 16);
    return 0;
}

/* Read DIR/meta into HS; zeros when it does not exist. */
static int meta_read(const struct meta_store *m, struct raft_hard_state *hs,
                     char *err, size_t errlen)
{
    uint8_t rec[META_RECORD_SIZE + 1];
    ssize_t n;
    int fd;

    memset(hs, 0, sizeof(*hs));
    fd = open(m->meta_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        return META_OK;
    }
    if (fd < 0) {
        err_fail(err, errlen, "open %s: %s", m->meta_path, strerror(errno));
        return META_ERR_IO;
    }
    n = sio_pread_full(fd, rec, sizeof(rec), 0);
    if (n < 0) {
        err_fail(err, errlen, "read %s: %s", m->meta_path, strerror(errno));
        close(fd);
        return META_ERR_IO;
    }

    /* After a process crash the record may sit in the page cache only (a
     * save that renamed but never returned): make it durable before the
     * node acts on it, or a power cut could undo a vote it then sends. */
    if (sio_fsync(fd) < 0 || sio_fsync_dir(m->dir) < 0) {
        err_fail(err, errlen, "fsync %s: %s", m->meta_path, strerror(errno));
        close(fd);
        return META_ERR_IO;
    }
    close(fd);
    if (meta_decode(rec, (size_t)n, m->meta_path, hs, err, errlen) < 0) {
        memset(hs, 0, sizeof(*hs));
        return META_ERR_CORRUPT;
    }
    return META_OK;
}

static struct meta_store *meta_alloc(const char *dir)
{
    struct meta_store *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        return NULL;
    }
    m->lock_fd = -1;
    m->dir = strdup(dir);
    m->meta_path = meta_join(dir, "meta");
    m->tmp_path = meta_join(dir, "meta.tmp");
    if (m->dir == NULL || m->meta_path == NULL || m->tmp_path == NULL) {
        meta_close(m);
        return NULL;
    }
    return m;
}

int meta_open(const char *dir, struct meta_store **out,
              struct raft_hard_state *restored, char *err, size_t errlen)
{
    struct meta_store *m;
    int rc;

    *out = NULL;
    memset(restored, 0, sizeof(*restored));
    if (meta_mkdir_p(dir, err, errlen) < 0) {
        return META_ERR_IO;
    }
    m = meta_alloc(dir);
    if (m == NULL) {
        err_fail(err, errlen, "out of memory");
        return META_ERR_NOMEM;
    }
    rc = meta_lock(dir, err, errlen);
    if (rc < 0) {
        meta_close(m);
        return rc;
    }
    m->lock_fd = rc;

    /* A meta.tmp is a save that never reached its rename: nothing was
     * acknowledged on the strength of it. */
    if (unlink(m->tmp_path) < 0 && errno != ENOENT) {
        err_fail(err, errlen, "remove %s: %s", m->tmp_path, strerror(errno));
        meta_close(m);
        return META_ERR_IO;
    }
    rc = meta_read(m, restored, err, errlen);
    if (rc < 0) {
        meta_close(m);
        return rc;
    }
    *out = m;
    return META_OK;
}

/* Write and fsync meta.tmp holding HS. */
static int meta_write_tmp(struct meta_store *m,
                          const struct raft_hard_state *hs, char *err,
                          size_t errlen)
{
    uint8_t rec[META_RECORD_SIZE];
    int fd;

    meta_encode(rec, hs);
    fd = open(m->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return err_fail(err, errlen, "create %s: %s", m->tmp_path,
                        strerror(errno));
    }
    if (sio_write_all(fd, rec, sizeof(rec)) < 0) {
        err_fail(err, errlen, "write %s: %s", m->tmp_path, strerror(errno));
        close(fd);
        return -1;
    }
    if (sio_fsync(fd) < 0) {
        err_fail(err, errlen, "fsync %s: %s", m->tmp_path, strerror(errno));
        close(fd);
        return -1;
    }
    if (close(fd) < 0) {
        return err_fail(err, errlen, "close %s: %s", m->tmp_path,
                        strerror(errno));
    }
    return 0;
}

int meta_save(struct meta_store *m, const struct raft_hard_state *hs, char *err,
              size_t errlen)
{
    if (meta_write_tmp(m, hs, err, errlen) < 0) {
        return META_ERR_IO;
    }
    if (sio_rename(m->tmp_path, m->meta_path) < 0) {
        err_fail(err, errlen, "rename %s to %s: %s", m->tmp_path, m->meta_path,
                 strerror(errno));
        return META_ERR_IO;
    }
    if (sio_fsync_dir(m->dir) < 0) {
        err_fail(err, errlen, "fsync %s: %s", m->dir, strerror(errno));
        return META_ERR_IO;
    }
    return META_OK;
}

const char *meta_dir(const struct meta_store *m)
{
    return m->dir;
}

void meta_close(struct meta_store *m)
{
    if (m == NULL) {
        return;
    }
    if (m->lock_fd >= 0) {
        close(m->lock_fd); /* releases the flock */
    }
    free(m->dir);
    free(m->meta_path);
    free(m->tmp_path);
    free(m);
}
