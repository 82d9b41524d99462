/* snap.c - snapshot files: atomic saves, checked loads, chunked transfer.
 *
 * Layout. DIR/snap/ holds one file per snapshot, named by its last index
 * and term (20 decimal digits each, so names sort by index). All integers
 * are little-endian.
 *
 *   header, 40 bytes
 *     0  u32 magic       0x504e5356 ("VSNP" on disk)
 *     4  u32 version     1
 *     8  u64 index       the last log index covered, 1..SNAP_MAX_INDEX
 *    16  u64 term        its term, >= 1
 *    24  u64 body_len    at most SNAP_MAX_BODY
 *    32  u32 reserved    0
 *    36  u32 header_crc  CRC32C of bytes 0..35
 *   body, body_len bytes: the state machine's encoding, opaque here
 *   trailer, 4 bytes
 *     0  u32 crc         CRC32C of the header (all 40 bytes) and the body
 *
 * The header has a checksum of its own so that a receiver can trust its
 * length and names before it writes a byte; the trailer covers everything.
 * A file is valid when its size is exactly 44 + body_len, every header
 * field checks out and matches the file name, and the trailer matches.
 *
 * Saving. The file is written as NAME.snap.tmp, fsynced, renamed to
 * NAME.snap and DIR/snap fsynced: a file with a snapshot's name is whole
 * and on disk. Only then are older snapshots deleted (all but the newest
 * SNAP_KEEP); an old one that comes back after a crash is merely older.
 *
 * Receiving. Bytes must arrive in order. The header is held in memory
 * until whole and checked (checksum, index and term as announced, size
 * bound) before anything is written; the rest is written at its offset as
 * it comes and folded into a running CRC, so finishing needs no second read
 * of a file that may be a gigabyte. Finishing fsyncs recv.tmp, renames it
 * into place and fsyncs the directory, as a save does.
 *
 * A corrupt file with a snapshot's name is never a crash artefact (it was
 * fsynced whole before its rename): it is refused, never skipped.
 */
#include "storage/snap.h"
#include "util/err.h"

#include "storage/crc32c.h"
#include "storage/sio.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_MAGIC 0x504e5356u /* "VSNP" */
#define SNAP_VERSION 1u
#define SNAP_DIGITS 20
#define SNAP_NAME_LEN (2 * SNAP_DIGITS + 6) /* "I-T.snap" */
#define SNAP_DIR_MAX 4000                   /* longest DIR accepted */
#define SNAP_SDIR_MAX (SNAP_DIR_MAX + 8)    /* DIR/snap */
#define SNAP_PATH_MAX (SNAP_SDIR_MAX + 64)  /* DIR/snap/NAME */
#define SNAP_RECV_TMP "recv.tmp"

/* One snapshot's identity: the name of its file. */
struct snap_id {
    uint64_t index;
    uint64_t term;
};

struct snap_header {
    uint64_t index;
    uint64_t term;
    uint64_t body_len;
};

struct snap_recv {
    char dir[SNAP_SDIR_MAX];  /* DIR/snap */
    char path[SNAP_PATH_MAX]; /* DIR/snap/recv.tmp */
    struct snap_id id;
    int fd;
    dev_t dev; /* recv.tmp's identity, to see whether it is still ours */
    ino_t ino;
    uint64_t received; /* bytes taken: the next offset */
    uint64_t total;    /* the file's size once the header is in, else 0 */
    uint64_t crc_end;  /* bytes the trailer covers: header + body */
    uint32_t crc;      /* CRC32C of the bytes taken below crc_end */
    uint8_t hdr[SNAP_HEADER_SIZE];
    uint8_t trailer[SNAP_TRAILER_SIZE];
};

/* ---- names and paths --------------------------------------------------- */

/* DIR/snap into OUT; SNAP_ERR_RANGE when DIR is too long to use. */
static int snap_dir_path(const char *dir, char out[SNAP_SDIR_MAX], char *err,
                         size_t errlen)
{
    if (strlen(dir) > SNAP_DIR_MAX) {
        err_fail(err, errlen, "data dir path too long (%zu bytes)",
                 strlen(dir));
        return SNAP_ERR_RANGE;
    }
    snprintf(out, SNAP_SDIR_MAX, "%s/snap", dir);
    return SNAP_OK;
}

/* SDIR/IIII-TTTT.snap, plus ".tmp" when TMP. */
static void snap_file_path(char out[SNAP_PATH_MAX], const char *sdir,
                           struct snap_id id, bool tmp)
{
    snprintf(out, SNAP_PATH_MAX, "%s/%020llu-%020llu.snap%s", sdir,
             (unsigned long long)id.index, (unsigned long long)id.term,
             tmp ? ".tmp" : "");
}

/* SNAP_DIGITS decimal digits at P into *V; false if not all digits. */
static bool snap_parse_digits(const char *p, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < SNAP_DIGITS; i++) {
        uint64_t d = (uint64_t)(p[i] - '0');

        if (p[i] < '0' || p[i] > '9' || *v > (UINT64_MAX - d) / 10) {
            return false;
        }
        *v = *v * 10 + d;
    }
    return true;
}

/* If NAME is a snapshot's file name, its identity in *ID; true. */
static bool snap_parse_name(const char *name, struct snap_id *id)
{
    if (strlen(name) != SNAP_NAME_LEN || name[SNAP_DIGITS] != '-' ||
        strcmp(name + 2 * SNAP_DIGITS + 1, ".snap") != 0) {
        return false;
    }
    return snap_parse_digits(name, &id->index) &&
           snap_parse_digits(name + SNAP_DIGITS + 1, &id->term);
}

/* A leftover of a save or receive that never completed. */
static bool snap_is_tmp(const char *name)
{
    size_t len = strlen(name);

    return strcmp(name, SNAP_RECV_TMP) == 0 ||
           (len > 9 && strcmp(name + len - 9, ".snap.tmp") == 0);
}

static int snap_id_cmp(const void *a, const void *b)
{
    const struct snap_id *x = a, *y = b;

    if (x->index != y->index) {
        return x->index < y->index ? -1 : 1;
    }
    return x->term < y->term ? -1 : x->term > y->term;
}

static int snap_check_id(struct snap_id id, char *err, size_t errlen)
{
    if (id.index == 0 || id.index > SNAP_MAX_INDEX || id.term == 0) {
        err_fail(err, errlen, "snapshot index %llu term %llu out of range",
                 (unsigned long long)id.index, (unsigned long long)id.term);
        return SNAP_ERR_RANGE;
    }
    return SNAP_OK;
}

/* ---- the directory ----------------------------------------------------- */

/* Create DIR/snap (SDIR) if missing, fsyncing DIR when it is new. */
static int snap_make_dir(const char *dir, const char *sdir, char *err,
                         size_t errlen)
{
    struct stat st;

    if (stat(dir, &st) < 0) {
        err_fail(err, errlen, "data dir %s: %s", dir, strerror(errno));
        return SNAP_ERR_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        err_fail(err, errlen, "data dir %s: not a directory", dir);
        return SNAP_ERR_IO;
    }
    if (mkdir(sdir, 0700) == 0) {
        if (sio_fsync_dir(dir) < 0) {
            err_fail(err, errlen, "fsync %s: %s", dir, strerror(errno));
            return SNAP_ERR_IO;
        }
    } else if (errno != EEXIST) {
        err_fail(err, errlen, "create %s: %s", sdir, strerror(errno));
        return SNAP_ERR_IO;
    }
    return SNAP_OK;
}

/* Add ID to *LIST (N used, CAP allocated). */
static int snap_list_push(struct snap_id **list, size_t *n, size_t *cap,
                          struct snap_id id)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct snap_id *a = realloc(*list, ncap * sizeof(*a));

        if (a == NULL) {
            return -1;
        }
        *list = a;
        *cap = ncap;
    }
    (*list)[(*n)++] = id;
    return 0;
}

/* Remove the leftover NAME in SDIR, with a log line. */
static void snap_remove_tmp(const char *sdir, const char *name)
{
    char path[SNAP_PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", sdir, name);
    if (unlink(path) == 0) {
        log_info("snap", "%s: unfinished save or receive -> removed", path);
    } else if (errno != ENOENT) {
        log_warn("snap", "%s: unfinished save or receive, cannot remove: %s",
                 path, strerror(errno));
    }
}

/* The snapshots in SDIR, oldest first, in *LIST (caller frees); none when
 * SDIR does not exist. With CLEAN, leftover tmp files are removed. */
static int snap_list(const char *sdir, bool clean, struct snap_id **list,
                     size_t *n, char *err, size_t errlen)
{
    DIR *d = opendir(sdir);
    struct dirent *de;
    struct snap_id id;
    size_t cap = 0;

    *list = NULL;
    *n = 0;
    if (d == NULL && errno == ENOENT) {
        return SNAP_OK;
    }
    if (d == NULL) {
        err_fail(err, errlen, "open %s: %s", sdir, strerror(errno));
        return SNAP_ERR_IO;
    }
    while ((de = readdir(d)) != NULL) {
        if (clean && snap_is_tmp(de->d_name)) {
            snap_remove_tmp(sdir, de->d_name);
        } else if (snap_parse_name(de->d_name, &id) &&
                   snap_list_push(list, n, &cap, id) < 0) {
            closedir(d);
            free(*list);
            *list = NULL;
            *n = 0;
            err_fail(err, errlen, "list %s: out of memory", sdir);
            return SNAP_ERR_NOMEM;
        }
    }
    closedir(d);
    if (*n > 1) {
        qsort(*list, *n, sizeof(**list), snap_id_cmp);
    }
    return SNAP_OK;
}

/* A snapshot ID may join SDIR only if none newer is there. */
static int snap_check_order(const char *sdir, struct snap_id id, char *err,
                            size_t errlen)
{
    struct snap_id *list, newest;
    size_t n;
    int rc = snap_list(sdir, false, &list, &n, err, errlen);

    if (rc < 0 || n == 0) {
        free(list);
        return rc;
    }
    newest = list[n - 1];
    free(list);
    if (newest.index > id.index) {
        err_fail(err, errlen,
                 "snapshot %llu/%llu is older than %s/%020llu-%020llu.snap",
                 (unsigned long long)id.index, (unsigned long long)id.term,
                 sdir, (unsigned long long)newest.index,
                 (unsigned long long)newest.term);
        return SNAP_ERR_STALE;
    }
    if (newest.index == id.index && newest.term != id.term) {
        err_fail(err, errlen,
                 "snapshot %llu/%llu conflicts with %s/%020llu-%020llu.snap "
                 "(same index, another term)",
                 (unsigned long long)id.index, (unsigned long long)id.term,
                 sdir, (unsigned long long)newest.index,
                 (unsigned long long)newest.term);
        return SNAP_ERR_MISMATCH;
    }
    return SNAP_OK;
}

/* Delete all but the newest SNAP_KEEP snapshots in SDIR; returns how many
 * were deleted. Failures are logged: the new snapshot is durable already,
 * and an old one left behind is merely older. */
static int snap_prune(const char *sdir)
{
    char path[SNAP_PATH_MAX], err[256];
    struct snap_id *list;
    size_t n;
    int removed = 0;

    if (snap_list(sdir, false, &list, &n, err, sizeof(err)) < 0) {
        log_warn("snap", "cannot prune old snapshots: %s", err);
        return 0;
    }
    for (size_t i = 0; i + SNAP_KEEP < n; i++) {
        snap_file_path(path, sdir, list[i], false);
        if (unlink(path) == 0) {
            removed++;
        } else {
            log_warn("snap", "cannot remove old snapshot %s: %s", path,
                     strerror(errno));
        }
    }
    free(list);
    return removed;
}

/* ---- the format -------------------------------------------------------- */

static void snap_header_encode(uint8_t h[SNAP_HEADER_SIZE],
                               const struct snap_header *sh)
{
    sio_put_le32(h, SNAP_MAGIC);
    sio_put_le32(h + 4, SNAP_VERSION);
    sio_put_le64(h + 8, sh->index);
    sio_put_le64(h + 16, sh->term);
    sio_put_le64(h + 24, sh->body_len);
    sio_put_le32(h + 32, 0);
    sio_put_le32(h + 36, crc32c(0, h, 36));
}

/* Check header H and decode it into *SH. Returns SNAP_OK, or
 * SNAP_ERR_CORRUPT or SNAP_ERR_TOO_BIG with the reason in WHY. */
static int snap_header_decode(const uint8_t h[SNAP_HEADER_SIZE],
                              struct snap_header *sh, char *why, size_t whylen)
{
    uint32_t version = sio_get_le32(h + 4);

    if (sio_get_le32(h) != SNAP_MAGIC) {
        err_fail(why, whylen, "bad magic 0x%08x", (unsigned)sio_get_le32(h));
        return SNAP_ERR_CORRUPT;
    }
    if (sio_get_le32(h + 36) != crc32c(0, h, 36)) {
        err_fail(why, whylen, "header checksum mismatch");
        return SNAP_ERR_CORRUPT;
    }
    if (version != SNAP_VERSION) {
        err_fail(why, whylen, "format version %u not supported (want %u)",
                 (unsigned)version, SNAP_VERSION);
        return SNAP_ERR_CORRUPT;
    }
    sh->index = sio_get_le64(h + 8);
    sh->term = sio_get_le64(h + 16);
    sh->body_len = sio_get_le64(h + 24);
    if (sio_get_le32(h + 32) != 0 || sh->index == 0 ||
        sh->index > SNAP_MAX_INDEX || sh->term == 0) {
        err_fail(why, whylen, "impossible header fields");
        return SNAP_ERR_CORRUPT;
    }
    if (sh->body_len > SNAP_MAX_BODY) {
        err_fail(why, whylen, "body of %llu bytes exceeds the limit of %llu",
                 (unsigned long long)sh->body_len,
                 (unsigned long long)SNAP_MAX_BODY);
        return SNAP_ERR_TOO_BIG;
    }
    return SNAP_OK;
}

/* ---- saving ------------------------------------------------------------ */

/* Write and fsync TMP holding header H, BODY and the checksum. */
static int snap_write_tmp(const char *tmp, const uint8_t h[SNAP_HEADER_SIZE],
                          const void *body, size_t len, char *err,
                          size_t errlen)
{
    uint8_t trailer[SNAP_TRAILER_SIZE];
    int fd;

    sio_put_le32(trailer, crc32c(crc32c(0, h, SNAP_HEADER_SIZE), body, len));
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return err_fail(err, errlen, "create %s: %s", tmp, strerror(errno));
    }
    if (sio_write_all(fd, h, SNAP_HEADER_SIZE) < 0 ||
        sio_write_all(fd, body, len) < 0 ||
        sio_write_all(fd, trailer, sizeof(trailer)) < 0) {
        err_fail(err, errlen, "write %s: %s", tmp, strerror(errno));
        close(fd);
        return -1;
    }
    if (sio_fsync(fd) < 0) {
        err_fail(err, errlen, "fsync %s: %s", tmp, strerror(errno));
        close(fd);
        return -1;
    }
    if (close(fd) < 0) {
        return err_fail(err, errlen, "close %s: %s", tmp, strerror(errno));
    }
    return 0;
}

/* Rename FROM to TO and fsync SDIR: the snapshot is in place, durably. */
static int snap_put_in_place(const char *from, const char *to, const char *sdir,
                             char *err, size_t errlen)
{
    if (sio_rename(from, to) < 0) {
        return err_fail(err, errlen, "rename %s to %s: %s", from, to,
                        strerror(errno));
    }
    if (sio_fsync_dir(sdir) < 0) {
        return err_fail(err, errlen, "fsync %s: %s", sdir, strerror(errno));
    }
    return 0;
}

static int snap_check_save(const char *dir, struct snap_id id, size_t len,
                           char sdir[SNAP_SDIR_MAX], char *err, size_t errlen)
{
    int rc = snap_check_id(id, err, errlen);

    if (rc < 0) {
        return rc;
    }
    if ((uint64_t)len > SNAP_MAX_BODY) {
        err_fail(err, errlen,
                 "snapshot %llu/%llu: body of %zu bytes exceeds the limit "
                 "of %llu",
                 (unsigned long long)id.index, (unsigned long long)id.term, len,
                 (unsigned long long)SNAP_MAX_BODY);
        return SNAP_ERR_TOO_BIG;
    }
    rc = snap_dir_path(dir, sdir, err, errlen);
    if (rc < 0) {
        return rc;
    }
    rc = snap_make_dir(dir, sdir, err, errlen);
    if (rc < 0) {
        return rc;
    }
    return snap_check_order(sdir, id, err, errlen);
}

int snap_save(const char *dir, uint64_t index, uint64_t term, const void *body,
              size_t len, char *err, size_t errlen)
{
    struct snap_id id = {index, term};
    struct snap_header sh = {index, term, len};
    char sdir[SNAP_SDIR_MAX], tmp[SNAP_PATH_MAX], path[SNAP_PATH_MAX];
    uint8_t h[SNAP_HEADER_SIZE];
    int rc, removed;

    rc = snap_check_save(dir, id, len, sdir, err, errlen);
    if (rc < 0) {
        return rc;
    }
    snap_file_path(tmp, sdir, id, true);
    snap_file_path(path, sdir, id, false);
    snap_header_encode(h, &sh);
    if (snap_write_tmp(tmp, h, body, len, err, errlen) < 0 ||
        snap_put_in_place(tmp, path, sdir, err, errlen) < 0) {
        unlink(tmp);
        return SNAP_ERR_IO;
    }
    removed = snap_prune(sdir);
    log_info("snap", "saved %s (%zu bytes of state) -> %d older removed", path,
             len, removed);
    return SNAP_OK;
}

/* ---- loading ----------------------------------------------------------- */

/* Read and check the header of the file FD at PATH, named ID, of SIZE
 * bytes, into *SH. */
static int snap_read_header(int fd, const char *path, struct snap_id id,
                            uint64_t size, struct snap_header *sh, char *err,
                            size_t errlen)
{
    uint8_t h[SNAP_HEADER_SIZE];
    char why[128];
    ssize_t got;

    if (size < SNAP_HEADER_SIZE + SNAP_TRAILER_SIZE) {
        err_fail(err, errlen, "%s: corrupt: %llu bytes, too short", path,
                 (unsigned long long)size);
        return SNAP_ERR_CORRUPT;
    }
    got = sio_pread_full(fd, h, sizeof(h), 0);
    if (got < 0) {
        err_fail(err, errlen, "read %s: %s", path, strerror(errno));
        return SNAP_ERR_IO;
    }
    if ((size_t)got < sizeof(h) ||
        snap_header_decode(h, sh, why, sizeof(why)) < 0) {
        err_fail(err, errlen, "%s: corrupt: %s", path,
                 (size_t)got < sizeof(h) ? "short header" : why);
        return SNAP_ERR_CORRUPT;
    }
    if (sh->index != id.index || sh->term != id.term) {
        err_fail(err, errlen, "%s: corrupt: header says %llu/%llu", path,
                 (unsigned long long)sh->index, (unsigned long long)sh->term);
        return SNAP_ERR_CORRUPT;
    }
    if (size != SNAP_HEADER_SIZE + sh->body_len + SNAP_TRAILER_SIZE) {
        err_fail(err, errlen,
                 "%s: corrupt: %llu bytes, the header makes it %llu", path,
                 (unsigned long long)size,
                 (unsigned long long)(SNAP_HEADER_SIZE + sh->body_len +
                                      SNAP_TRAILER_SIZE));
        return SNAP_ERR_CORRUPT;
    }
    return SNAP_OK;
}

/* Read the body and the trailer of FD (header SH) into a new buffer. */
static int snap_read_body(int fd, const char *path,
                          const struct snap_header *sh, uint8_t **body,
                          char *err, size_t errlen)
{
    size_t len = (size_t)sh->body_len;
    uint8_t *b = malloc(len + SNAP_TRAILER_SIZE);
    ssize_t got;

    if (b == NULL) {
        err_fail(err, errlen, "%s: out of memory for %zu bytes", path, len);
        return SNAP_ERR_NOMEM;
    }
    got = sio_pread_full(fd, b, len + SNAP_TRAILER_SIZE, SNAP_HEADER_SIZE);
    if (got < 0 || (size_t)got != len + SNAP_TRAILER_SIZE) {
        err_fail(err, errlen, "read %s: %s", path,
                 got < 0 ? strerror(errno) : "file shrank while read");
        free(b);
        return SNAP_ERR_IO;
    }
    *body = b;
    return SNAP_OK;
}

/* The trailer of the body B (header SH) matches header and body. */
static bool snap_crc_ok(const struct snap_header *sh, const uint8_t *b)
{
    uint8_t h[SNAP_HEADER_SIZE];
    size_t len = (size_t)sh->body_len;

    snap_header_encode(h, sh); /* the same bytes: decode checked them all */
    return sio_get_le32(b + len) ==
           crc32c(crc32c(0, h, SNAP_HEADER_SIZE), b, len);
}

/* Open, check and read the snapshot ID in SDIR; fsync it and SDIR. */
static int snap_load_file(const char *sdir, struct snap_id id,
                          struct snap_info *info, uint8_t **body, char *err,
                          size_t errlen)
{
    char path[SNAP_PATH_MAX];
    struct snap_header sh;
    struct stat st;
    int fd, rc;

    *body = NULL;
    snap_file_path(path, sdir, id, false);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;

        err_fail(err, errlen, "open %s: %s", path, strerror(e));
        return e == ENOENT ? SNAP_ERR_NOT_FOUND : SNAP_ERR_IO;
    }
    rc = fstat(fd, &st) < 0 ? SNAP_ERR_IO : SNAP_OK;
    if (rc < 0) {
        err_fail(err, errlen, "stat %s: %s", path, strerror(errno));
    } else {
        rc = snap_read_header(fd, path, id, (uint64_t)st.st_size, &sh, err,
                              errlen);
    }
    if (rc == SNAP_OK) {
        rc = snap_read_body(fd, path, &sh, body, err, errlen);
    }
    if (rc == SNAP_OK && !snap_crc_ok(&sh, *body)) {
        err_fail(err, errlen, "%s: corrupt: checksum mismatch", path);
        rc = SNAP_ERR_CORRUPT;
    }
    /* The rename that put it here may not have reached the disk before a
     * crash; the node is about to compact its log on the strength of it. */
    if (rc == SNAP_OK && (sio_fsync(fd) < 0 || sio_fsync_dir(sdir) < 0)) {
        err_fail(err, errlen, "fsync %s: %s", path, strerror(errno));
        rc = SNAP_ERR_IO;
    }
    close(fd);
    if (rc < 0) {
        free(*body);
        *body = NULL;
        return rc;
    }
    info->index = id.index;
    info->term = id.term;
    info->body_len = sh.body_len;
    info->file_size = (uint64_t)st.st_size;
    return SNAP_OK;
}

static void snap_load_reset(struct snap_info *info, uint8_t **body, size_t *len)
{
    memset(info, 0, sizeof(*info));
    *body = NULL;
    *len = 0;
}

/* Add to ERR (holding a corruption of the newest snapshot) why there is no
 * fallback, naming the older snapshot if there is one. */
static void snap_explain_refusal(char *err, size_t errlen, const char *sdir,
                                 const struct snap_id *list, size_t n)
{
    size_t used = strnlen(err, errlen);

    if (used + 1 >= errlen) {
        return;
    }
    if (n >= 2) {
        snprintf(err + used, errlen - used,
                 "; not falling back to %020llu-%020llu.snap (the log may "
                 "not reach back to it): an operator must restore or "
                 "remove the file",
                 (unsigned long long)list[n - 2].index,
                 (unsigned long long)list[n - 2].term);
    } else {
        snprintf(err + used, errlen - used,
                 "; an operator must restore or remove the file (in %s)", sdir);
    }
}

int snap_load_latest(const char *dir, struct snap_info *info, uint8_t **body,
                     size_t *len, char *err, size_t errlen)
{
    char sdir[SNAP_SDIR_MAX];
    struct snap_id *list;
    size_t n;
    int rc;

    snap_load_reset(info, body, len);
    rc = snap_dir_path(dir, sdir, err, errlen);
    if (rc < 0) {
        return rc;
    }
    rc = snap_list(sdir, true, &list, &n, err, errlen);
    if (rc < 0 || n == 0) {
        free(list);
        return rc;
    }
    rc = snap_load_file(sdir, list[n - 1], info, body, err, errlen);
    if (rc == SNAP_ERR_CORRUPT) {
        snap_explain_refusal(err, errlen, sdir, list, n);
    }
    free(list);
    if (rc < 0) {
        snap_load_reset(info, body, len);
        return rc;
    }
    *len = (size_t)info->body_len;
    return SNAP_OK;
}

int snap_load(const char *dir, uint64_t index, uint64_t term,
              struct snap_info *info, uint8_t **body, size_t *len, char *err,
              size_t errlen)
{
    struct snap_id id = {index, term};
    char sdir[SNAP_SDIR_MAX];
    int rc;

    snap_load_reset(info, body, len);
    rc = snap_check_id(id, err, errlen);
    if (rc == SNAP_OK) {
        rc = snap_dir_path(dir, sdir, err, errlen);
    }
    if (rc == SNAP_OK) {
        rc = snap_load_file(sdir, id, info, body, err, errlen);
    }
    if (rc < 0) {
        snap_load_reset(info, body, len);
        return rc;
    }
    *len = (size_t)info->body_len;
    return SNAP_OK;
}

/* ---- sending ----------------------------------------------------------- */

int snap_open_send(const char *dir, uint64_t index, uint64_t term, int *fd,
                   uint64_t *size, char *err, size_t errlen)
{
    char sdir[SNAP_SDIR_MAX], path[SNAP_PATH_MAX];
    struct snap_id id = {index, term};
    struct stat st;
    int rc;

    *fd = -1;
    *size = 0;
    rc = snap_check_id(id, err, errlen);
    if (rc == SNAP_OK) {
        rc = snap_dir_path(dir, sdir, err, errlen);
    }
    if (rc < 0) {
        return rc;
    }
    snap_file_path(path, sdir, id, false);
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        int e = errno;

        err_fail(err, errlen, "open %s: %s", path, strerror(e));
        return e == ENOENT ? SNAP_ERR_NOT_FOUND : SNAP_ERR_IO;
    }
    if (fstat(*fd, &st) < 0) {
        err_fail(err, errlen, "stat %s: %s", path, strerror(errno));
        close(*fd);
        *fd = -1;
        return SNAP_ERR_IO;
    }
    *size = (uint64_t)st.st_size;
    return SNAP_OK;
}

int snap_read_fd(int fd, uint64_t size, uint64_t offset, void *buf, size_t max,
                 size_t *n, bool *last, char *err, size_t errlen)
{
    uint64_t want;
    ssize_t got;

    *n = 0;
    *last = false;
    if (max == 0 || offset > size) {
        err_fail(err, errlen,
                 "snapshot: cannot read %zu bytes at offset %llu of %llu", max,
                 (unsigned long long)offset, (unsigned long long)size);
        return SNAP_ERR_RANGE;
    }
    want = size - offset < (uint64_t)max ? size - offset : (uint64_t)max;
    got = sio_pread_full(fd, buf, (size_t)want, (off_t)offset);
    if (got < 0 || (uint64_t)got != want) {
        err_fail(err, errlen, "read snapshot: %s",
                 got < 0 ? strerror(errno) : "file shrank while read");
        return SNAP_ERR_IO;
    }
    *n = (size_t)got;
    *last = offset + want == size;
    return SNAP_OK;
}

int snap_read_chunk(const char *dir, uint64_t index, uint64_t term,
                    uint64_t offset, void *buf, size_t max, size_t *n,
                    bool *last, uint64_t *total, char *err, size_t errlen)
{
    int fd, rc;

    *n = 0;
    *last = false;
    rc = snap_open_send(dir, index, term, &fd, total, err, errlen);
    if (rc == SNAP_OK) {
        rc = snap_read_fd(fd, *total, offset, buf, max, n, last, err, errlen);
        close(fd);
    }
    if (rc != SNAP_OK) {
        *total = 0;
    }
    return rc;
}

/* ---- receiving --------------------------------------------------------- */

/* recv.tmp is still the file R created (not replaced by another receive). */
static bool snap_recv_owns(const struct snap_recv *r)
{
    struct stat st;

    return stat(r->path, &st) == 0 && st.st_dev == r->dev &&
           st.st_ino == r->ino;
}

static void snap_recv_free(struct snap_recv *r)
{
    if (r->fd >= 0) {
        close(r->fd);
    }
    free(r);
}

/* Create recv.tmp anew for R. */
static int snap_recv_create(struct snap_recv *r, char *err, size_t errlen)
{
    struct stat st;

    if (unlink(r->path) < 0 && errno != ENOENT) {
        err_fail(err, errlen, "remove %s: %s", r->path, strerror(errno));
        return SNAP_ERR_IO;
    }
    r->fd = open(r->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (r->fd < 0 || fstat(r->fd, &st) < 0) {
        err_fail(err, errlen, "create %s: %s", r->path, strerror(errno));
        return SNAP_ERR_IO;
    }
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    return SNAP_OK;
}

int snap_recv_open(const char *dir, uint64_t index, uint64_t term,
                   struct snap_recv **out, char *err, size_t errlen)
{
    struct snap_id id = {index, term};
    struct snap_recv *r;
    int rc;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        err_fail(err, errlen, "out of memory");
        return SNAP_ERR_NOMEM;
    }
    r->fd = -1;
    r->id = id;
    rc = snap_check_save(dir, id, 0, r->dir, err, errlen);
    if (rc == SNAP_OK) {
        snprintf(r->path, sizeof(r->path), "%s/%s", r->dir, SNAP_RECV_TMP);
        rc = snap_recv_create(r, err, errlen);
    }
    if (rc < 0) {
        snap_recv_free(r);
        return rc;
    }
    *out = r;
    return SNAP_OK;
}

/* The header in R->hdr is whole: check it against what R receives and
 * work out the file's size into *TOTAL. */
static int snap_recv_header(const struct snap_recv *r, uint64_t *total,
                            char *err, size_t errlen)
{
    struct snap_header sh;
    char why[128];
    int rc = snap_header_decode(r->hdr, &sh, why, sizeof(why));

    if (rc < 0) {
        err_fail(err, errlen, "receive of snapshot %llu/%llu: %s",
                 (unsigned long long)r->id.index,
                 (unsigned long long)r->id.term, why);
        return rc;
    }
    if (sh.index != r->id.index || sh.term != r->id.term) {
        err_fail(err, errlen,
                 "receive of snapshot %llu/%llu: the file is snapshot "
                 "%llu/%llu",
                 (unsigned long long)r->id.index,
                 (unsigned long long)r->id.term, (unsigned long long)sh.index,
                 (unsigned long long)sh.term);
        return SNAP_ERR_MISMATCH;
    }
    *total = SNAP_HEADER_SIZE + sh.body_len + SNAP_TRAILER_SIZE;
    return SNAP_OK;
}

/* Fold N bytes taken at offset OFF into R's checksum or its trailer. */
static void snap_recv_absorb(struct snap_recv *r, uint64_t off,
                             const uint8_t *p, size_t n)
{
    uint64_t end = off + n;

    if (off < r->crc_end) {
        uint64_t k = (end < r->crc_end ? end : r->crc_end) - off;

        r->crc = crc32c(r->crc, p, (size_t)k);
        p += k;
        off += k;
    }
    if (off < end) {
        memcpy(r->trailer + (off - r->crc_end), p, (size_t)(end - off));
    }
}

/* Write LEN bytes at P to R's file at OFF. */
static int snap_recv_pwrite(struct snap_recv *r, const void *p, size_t len,
                            uint64_t off, char *err, size_t errlen)
{
    if (len > 0 && sio_pwrite_all(r->fd, p, len, (off_t)off) < 0) {
        err_fail(err, errlen, "write %s at offset %llu: %s", r->path,
                 (unsigned long long)off, strerror(errno));
        return SNAP_ERR_IO;
    }
    return SNAP_OK;
}

/* The chunk completes the header: check it, then write header and the
 * rest of the chunk (REST, N bytes). */
static int snap_recv_first(struct snap_recv *r, const uint8_t *rest, size_t n,
                           char *err, size_t errlen)
{
    uint64_t total;
    int rc = snap_recv_header(r, &total, err, errlen);

    if (rc < 0) {
        return rc;
    }
    if ((uint64_t)n > total - SNAP_HEADER_SIZE) {
        err_fail(err, errlen, "%s: chunk runs past the end of the file (%llu)",
                 r->path, (unsigned long long)total);
        return SNAP_ERR_RANGE;
    }
    rc = snap_recv_pwrite(r, r->hdr, SNAP_HEADER_SIZE, 0, err, errlen);
    if (rc == SNAP_OK) {
        rc = snap_recv_pwrite(r, rest, n, SNAP_HEADER_SIZE, err, errlen);
    }
    if (rc < 0) {
        return rc;
    }
    r->total = total;
    r->crc_end = total - SNAP_TRAILER_SIZE;
    r->crc = 0;
    snap_recv_absorb(r, 0, r->hdr, SNAP_HEADER_SIZE);
    snap_recv_absorb(r, SNAP_HEADER_SIZE, rest, n);
    r->received = SNAP_HEADER_SIZE + n;
    return SNAP_OK;
}

/* A chunk after the header. */
static int snap_recv_rest(struct snap_recv *r, uint64_t offset,
                          const uint8_t *p, size_t len, char *err,
                          size_t errlen)
{
    int rc;

    if ((uint64_t)len > r->total - offset) {
        err_fail(err, errlen,
                 "%s: chunk of %zu bytes at offset %llu runs past the end "
                 "of the file (%llu)",
                 r->path, len, (unsigned long long)offset,
                 (unsigned long long)r->total);
        return SNAP_ERR_RANGE;
    }
    rc = snap_recv_pwrite(r, p, len, offset, err, errlen);
    if (rc < 0) {
        return rc;
    }
    snap_recv_absorb(r, offset, p, len);
    r->received = offset + len;
    return SNAP_OK;
}

int snap_recv_write(struct snap_recv *r, uint64_t offset, const void *data,
                    size_t len, char *err, size_t errlen)
{
    const uint8_t *p = data;
    size_t take;

    if (offset != r->received) {
        err_fail(err, errlen,
                 "receive of snapshot %llu/%llu: chunk at offset %llu, "
                 "expected offset %llu",
                 (unsigned long long)r->id.index,
                 (unsigned long long)r->id.term, (unsigned long long)offset,
                 (unsigned long long)r->received);
        return SNAP_ERR_OFFSET;
    }
    if (len == 0) {
        return SNAP_OK;
    }
    if (r->received >= SNAP_HEADER_SIZE) {
        return snap_recv_rest(r, offset, p, len, err, errlen);
    }

    /* Still in the header: held in memory, nothing written until whole.
     * Bytes past r->received in hdr are not trusted until counted. */
    take = SNAP_HEADER_SIZE - (size_t)r->received;
    take = len < take ? len : take;
    memcpy(r->hdr + r->received, p, take);
    if (r->received + take < SNAP_HEADER_SIZE) {
        r->received += take;
        return SNAP_OK;
    }
    return snap_recv_first(r, p + take, len - take, err, errlen);
}

uint64_t snap_recv_offset(const struct snap_recv *r)
{
    return r->received;
}

uint64_t snap_recv_total(const struct snap_recv *r)
{
    return r->total;
}

uint64_t snap_recv_index(const struct snap_recv *r)
{
    return r->id.index;
}

uint64_t snap_recv_term(const struct snap_recv *r)
{
    return r->id.term;
}

/* Every byte is in and the checksum matches. */
static int snap_recv_verify(const struct snap_recv *r, char *err, size_t errlen)
{
    if (r->total == 0) {
        err_fail(err, errlen,
                 "receive of snapshot %llu/%llu: incomplete, %llu bytes, "
                 "not even the header",
                 (unsigned long long)r->id.index,
                 (unsigned long long)r->id.term,
                 (unsigned long long)r->received);
        return SNAP_ERR_INCOMPLETE;
    }
    if (r->received != r->total) {
        err_fail(err, errlen,
                 "receive of snapshot %llu/%llu: incomplete, %llu of %llu "
                 "bytes",
                 (unsigned long long)r->id.index,
                 (unsigned long long)r->id.term,
                 (unsigned long long)r->received, (unsigned long long)r->total);
        return SNAP_ERR_INCOMPLETE;
    }
    if (sio_get_le32(r->trailer) != r->crc) {
        err_fail(err, errlen,
                 "receive of snapshot %llu/%llu: checksum mismatch "
                 "(file 0x%08x, received bytes 0x%08x)",
                 (unsigned long long)r->id.index,
                 (unsigned long long)r->id.term,
                 (unsigned)sio_get_le32(r->trailer), (unsigned)r->crc);
        return SNAP_ERR_CORRUPT;
    }
    return SNAP_OK;
}

/* fsync recv.tmp and rename it into place, if it is still R's. */
static int snap_recv_install(struct snap_recv *r, const char *path, char *err,
                             size_t errlen)
{
    int rc = snap_check_order(r->dir, r->id, err, errlen);

    if (rc < 0) {
        return rc;
    }
    if (!snap_recv_owns(r)) {
        err_fail(err, errlen, "%s was replaced by another receive", r->path);
        return SNAP_ERR_STALE;
    }
    if (sio_fsync(r->fd) < 0) {
        err_fail(err, errlen, "fsync %s: %s", r->path, strerror(errno));
        return SNAP_ERR_IO;
    }
    if (snap_put_in_place(r->path, path, r->dir, err, errlen) < 0) {
        return SNAP_ERR_IO;
    }
    return SNAP_OK;
}

int snap_recv_finish(struct snap_recv *r, char *err, size_t errlen)
{
    char path[SNAP_PATH_MAX];
    int rc, removed;

    snap_file_path(path, r->dir, r->id, false);
    rc = snap_recv_verify(r, err, errlen);
    if (rc == SNAP_OK) {
        rc = snap_recv_install(r, path, err, errlen);
    }
    if (rc < 0) {
        snap_recv_abort(r);
        return rc;
    }
    removed = snap_prune(r->dir);
    log_info("snap", "received %s (%llu bytes) -> in place, %d older removed",
             path, (unsigned long long)r->total, removed);
    snap_recv_free(r);
    return SNAP_OK;
}

void snap_recv_abort(struct snap_recv *r)
{
    if (r == NULL) {
        return;
    }
    if (r->fd >= 0 && snap_recv_owns(r)) {
        unlink(r->path);
    }
    snap_recv_free(r);
}
