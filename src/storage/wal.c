/* wal.c - segment files of checksummed records, recovery and truncation.
 *
 * Layout. DIR/wal/ holds segments named by their first index, 20 decimal
 * digits and ".seg". All integers are little-endian.
 *
 *   segment header, 24 bytes
 *     0  u32 magic        0x4c415756 ("VWAL" on disk)
 *     4  u32 version      1
 *     8  u64 first_index  equal to the number in the file name
 *    16  u32 reserved     0
 *    20  u32 crc          CRC32C of bytes 0..19
 *
 *   then records, back to back, 28 bytes + payload each
 *     0  u32 len          payload bytes, at most WAL_MAX_PAYLOAD
 *     4  u32 crc          CRC32C of bytes 0..3, then 8..27+len
 *     8  u64 term
 *    16  u64 index        the segment's first_index + record number
 *    24  u8  type         enum raft_entry_type
 *    25  u8  pad[3]       0
 *    28  payload
 *
 * Creation. A segment is born as NAME.seg.tmp holding only its header,
 * fdatasynced, renamed to NAME.seg, and the directory fsynced: a file with a
 * segment's name always starts with a whole header. Before the log moves on
 * to a new segment, the one it leaves is fdatasynced, so at most the last
 * segment can hold records that never reached the disk.
 *
 * The torn tail. A crash before a sync completes may leave the last segment
 * ending in a partial record, or with pages of its unsynced tail missing
 * (zeros, if the file size reached the disk but the data did not). Recovery
 * reads records in order; at the first one that does not check out (short,
 * impossible length, bad checksum, non-zero padding) it must decide:
 *
 *   - not in the last segment: corruption. That segment was synced whole.
 *   - in the last segment, and no later offset holds a checksummed record
 *     with a later index: a torn tail. Cut it.
 *   - a later checksummed record exists, but the bytes between hold an
 *     all-zero 512-byte sector (or an all-zero record header): pages that
 *     were never written, so no sync completed after them and the later
 *     records were never acknowledged either. A torn tail: cut it all.
 *   - otherwise: corruption in the middle of the log. Refuse to open, with
 *     the file and offset; cutting there would drop acknowledged entries.
 *
 * A record whose checksum holds but whose index or term is out of sequence
 * is never a crash artefact (it was written whole): corruption, anywhere.
 *
 * Durability. wal_sync() is one fdatasync of the last segment (rotation
 * synced the others). Truncations fsync the file they shorten and the
 * directory after each unlink, newest segment first for a suffix and
 * oldest first for a prefix, so a crash halfway leaves a contiguous log.
 * Recovery fsyncs the last segment and the directory before returning:
 * after a process crash the records it read may exist in the page cache
 * only, and the node must not acknowledge what a power cut could undo.
 */
#include "storage/crc32c.h"
#include "storage/sio.h"
#include "storage/wal_int.h"
#include "util/log.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- appending --------------------------------------------------------- */

/* Write the buffer out at the end of the active segment. */
static int wal_flush(struct wal *w, char *err, size_t errlen)
{
    char path[4200];

    if (w->buf_len == 0) {
        return WAL_OK;
    }
    if (sio_pwrite_all(w->fd, w->buf, w->buf_len, (off_t)w->written) < 0) {
        wal_seg_path(w, wal_active(w)->first_index, false, path, sizeof(path));
        err_fail(err, errlen, "write %s at offset %" PRIu64 ": %s", path,
                 w->written, strerror(errno));
        return wal_poison(w, WAL_ERR_IO, err);
    }
    w->written += w->buf_len;
    w->buf_len = 0;
    w->dirty = true;
    if (w->buf_cap > 4 * WAL_FLUSH_BYTES) {
        free(w->buf); /* a huge entry went by: give the memory back */
        w->buf = NULL;
        w->buf_cap = 0;
    }
    return WAL_OK;
}

/* Write and fdatasync the active segment. */
static int wal_flush_sync(struct wal *w, char *err, size_t errlen)
{
    char path[4200];
    int rc;

    if (w->fd < 0) {
        return WAL_OK; /* no segment yet, so no entry either */
    }
    rc = wal_flush(w, err, errlen);
    if (rc != WAL_OK) {
        return rc;
    }
    if (w->dirty && sio_fdatasync(w->fd) < 0) {
        wal_seg_path(w, wal_active(w)->first_index, false, path, sizeof(path));
        err_fail(err, errlen, "fdatasync %s: %s", path, strerror(errno));
        return wal_poison(w, WAL_ERR_IO, err);
    }
    w->dirty = false;
    w->durable_index = w->next_index - 1;
    return WAL_OK;
}

/* Create the segment that starts at FIRST (header only, durably) and make
 * it the active one. The previous active segment must be synced. */
static int wal_seg_create(struct wal *w, uint64_t first, char *err,
                          size_t errlen)
{
    char tmp[4200], path[4200];
    uint8_t h[WAL_SEG_HEADER];
    int fd;

    wal_seg_path(w, first, true, tmp, sizeof(tmp));
    wal_seg_path(w, first, false, path, sizeof(path));
    wal_header_encode(h, first);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_fail(err, errlen, "create %s: %s", tmp, strerror(errno));
        return wal_poison(w, WAL_ERR_IO, err);
    }
    if (sio_pwrite_all(fd, h, sizeof(h), 0) < 0 || sio_fdatasync(fd) < 0 ||
        sio_rename(tmp, path) < 0 || sio_fsync_dir(w->dir) < 0) {
        err_fail(err, errlen, "create segment %s: %s", path, strerror(errno));
        close(fd);
        return wal_poison(w, WAL_ERR_IO, err);
    }
    if (wal_seg_add(w, first) == NULL) {
        close(fd);
        err_fail(err, errlen, "create segment %s: out of memory", path);
        return wal_poison(w, WAL_ERR_NOMEM, err);
    }
    if (w->fd >= 0) {
        close(w->fd);
    }
    w->fd = fd;
    w->written = WAL_SEG_HEADER;
    w->dirty = false;
    return WAL_OK;
}

/* Make room for a record of SIZE bytes starting at INDEX: create the first
 * segment, or rotate when the active one would grow past the limit. */
static int wal_make_room(struct wal *w, uint64_t index, size_t size, char *err,
                         size_t errlen)
{
    struct wal_segment *s = wal_active(w);
    uint64_t used;
    int rc;

    if (s == NULL) {
        return wal_seg_create(w, index, err, errlen);
    }
    used = w->written + w->buf_len;
    if (s->n == 0 || used + size <= w->opt.segment_size) {
        return WAL_OK;
    }
    rc = wal_flush_sync(w, err, errlen);
    return rc != WAL_OK ? rc : wal_seg_create(w, index, err, errlen);
}

static int wal_buf_reserve(struct wal *w, size_t size)
{
    size_t cap = w->buf_cap ? w->buf_cap : 64 * 1024;
    uint8_t *b;

    if (w->buf_len + size <= w->buf_cap) {
        return 0;
    }
    while (cap < w->buf_len + size) {
        cap *= 2;
    }
    b = realloc(w->buf, cap);
    if (b == NULL) {
        return -1;
    }
    w->buf = b;
    w->buf_cap = cap;
    return 0;
}

static int wal_append_one(struct wal *w, const struct raft_entry *e, char *err,
                          size_t errlen)
{
    size_t size = WAL_REC_HEADER + (size_t)e->len;
    struct wal_segment *s;
    int rc = wal_make_room(w, e->index, size, err, errlen);

    if (rc != WAL_OK) {
        return rc;
    }
    s = wal_active(w);
    if (wal_buf_reserve(w, size) < 0 ||
        wal_seg_push_offset(s, w->written + w->buf_len) < 0) {
        err_fail(err, errlen, "append index %" PRIu64 ": out of memory",
                 e->index);
        return wal_poison(w, WAL_ERR_NOMEM, err);
    }
    wal_rec_encode(w->buf + w->buf_len, e);
    w->buf_len += size;
    w->next_index++;
    w->last_term = e->term;
    if (w->buf_len >= WAL_FLUSH_BYTES) {
        return wal_flush(w, err, errlen);
    }
    return WAL_OK;
}

static int wal_check_batch(const struct wal *w,
                           const struct raft_entry *entries, size_t n,
                           char *err, size_t errlen)
{
    uint64_t term = w->last_term;

    for (size_t i = 0; i < n; i++) {
        const struct raft_entry *e = &entries[i];

        if (e->index != w->next_index + i || e->index > WAL_MAX_INDEX) {
            return err_fail(err, errlen,
                            "append: entry %zu has index %" PRIu64
                            ", the log expects %" PRIu64,
                            i, e->index, w->next_index + i);
        }
        if (e->term < term) {
            return err_fail(err, errlen,
                            "append: index %" PRIu64 " has term %" PRIu64
                            " below the previous term %" PRIu64,
                            e->index, e->term, term);
        }
        if (e->len > WAL_MAX_PAYLOAD || (e->len > 0 && e->data == NULL)) {
            return err_fail(err, errlen,
                            "append: index %" PRIu64 " has %" PRIu32
                            " bytes of data (at most %u)",
                            e->index, e->len, WAL_MAX_PAYLOAD);
        }
        term = e->term;
    }
    return 0;
}

int wal_append(struct wal *w, const struct raft_entry *entries, size_t n,
               char *err, size_t errlen)
{
    int rc = wal_check_failed(w, err, errlen);

    if (rc != WAL_OK) {
        return rc;
    }
    if (wal_check_batch(w, entries, n, err, errlen) < 0) {
        return WAL_ERR_RANGE;
    }
    for (size_t i = 0; i < n && rc == WAL_OK; i++) {
        rc = wal_append_one(w, &entries[i], err, errlen);
    }
    return rc;
}

int wal_sync(struct wal *w, uint64_t *durable, char *err, size_t errlen)
{
    int rc = wal_check_failed(w, err, errlen);

    if (rc == WAL_OK) {
        rc = wal_flush_sync(w, err, errlen);
    }
    if (durable != NULL) {
        *durable = w->durable_index;
    }
    return rc;
}

/* ---- truncation -------------------------------------------------------- */

/* Unlink the segment starting at FIRST and fsync the dir. */
static int wal_unlink_segment(struct wal *w, uint64_t first, char *err,
                              size_t errlen)
{
    char path[4200];

    wal_seg_path(w, first, false, path, sizeof(path));
    if (unlink(path) < 0 && errno != ENOENT) {
        err_fail(err, errlen, "remove %s: %s", path, strerror(errno));
        return wal_poison(w, WAL_ERR_IO, err);
    }
    if (sio_fsync_dir(w->dir) < 0) {
        err_fail(err, errlen, "fsync %s: %s", w->dir, strerror(errno));
        return wal_poison(w, WAL_ERR_IO, err);
    }
    return WAL_OK;
}

/* The term of the entry at INDEX, read from its record header; 0 when the
 * log does not hold it. Call with the buffer flushed. */
static int wal_term_at(struct wal *w, uint64_t index, uint64_t *term, char *err,
                       size_t errlen)
{
    char path[4200];
    uint8_t h[WAL_REC_HEADER];
    size_t k = w->n_segs;
    int fd;

    *term = 0;
    while (k > 0 && w->segs[k - 1].first_index > index) {
        k--;
    }
    if (k == 0 || index - w->segs[k - 1].first_index >= w->segs[k - 1].n ||
        index - w->segs[k - 1].first_index < w->segs[k - 1].skip) {
        return WAL_OK; /* not held, or its offset forgotten: unknown */
    }
    wal_seg_path(w, w->segs[k - 1].first_index, false, path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || sio_pread_full(fd, h, sizeof(h),
                                 (off_t)wal_seg_offset(
                                     &w->segs[k - 1],
                                     index - w->segs[k - 1].first_index)) !=
                      (ssize_t)sizeof(h)) {
        err_fail(err, errlen, "read %s: %s", path,
                 fd < 0 ? strerror(errno) : "short read");
        if (fd >= 0) {
            close(fd);
        }
        return wal_poison(w, WAL_ERR_IO, err);
    }
    close(fd);
    *term = sio_get_le64(h + 8);
    return WAL_OK;
}

/* Shorten the segment at position K to its first KEEP records (KEEP at
 * least its skip), durably, and make it the active one. */
static int wal_seg_shorten(struct wal *w, size_t k, uint64_t keep, char *err,
                           size_t errlen)
{
    struct wal_segment *s = &w->segs[k];
    uint64_t size = keep < s->n ? wal_seg_offset(s, keep) : w->written;
    char path[4200];
    int fd = w->fd;

    wal_seg_path(w, s->first_index, false, path, sizeof(path));
    if (k + 1 != w->n_segs || fd < 0) {
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            err_fail(err, errlen, "open %s: %s", path, strerror(errno));
            return wal_poison(w, WAL_ERR_IO, err);
        }
    }
    if (sio_ftruncate(fd, (off_t)size) < 0 || sio_fsync(fd) < 0) {
        err_fail(err, errlen, "truncate %s to %" PRIu64 " bytes: %s", path,
                 size, strerror(errno));
        if (fd != w->fd) {
            close(fd);
        }
        return wal_poison(w, WAL_ERR_IO, err);
    }
    w->fd = fd;
    w->written = size;
    w->dirty = false;
    s->n = keep;
    return WAL_OK;
}

int wal_truncate_suffix(struct wal *w, uint64_t from, char *err, size_t errlen)
{
    size_t k = w->n_segs;
    int rc = wal_check_failed(w, err, errlen);

    if (rc != WAL_OK) {
        return rc;
    }
    if (from < wal_first_index(w) || from > w->next_index) {
        err_fail(err, errlen,
                 "truncate from %" PRIu64 ": outside the log (%" PRIu64
                 "..%" PRIu64 ")",
                 from, wal_first_index(w), w->next_index - 1);
        return WAL_ERR_RANGE;
    }
    if (from == w->next_index) {
        return WAL_OK;
    }
    rc = wal_flush(w, err, errlen);
    while (rc == WAL_OK && w->segs[k - 1].first_index > from) {
        if (k == w->n_segs && w->fd >= 0) {
            close(w->fd);
            w->fd = -1;
        }
        rc = wal_unlink_segment(w, w->segs[k - 1].first_index, err, errlen);
        wal_seg_drop_last(w);
        k--;
    }
    if (rc == WAL_OK) {
        rc = wal_seg_shorten(w, k - 1, from - w->segs[k - 1].first_index, err,
                             errlen);
    }
    if (rc == WAL_OK) {
        w->next_index = from;
        w->durable_index = from - 1;
        rc = wal_term_at(w, from - 1, &w->last_term, err, errlen);
    }
    return rc;
}

int wal_truncate_prefix(struct wal *w, uint64_t up_to, char *err, size_t errlen)
{
    uint64_t was = wal_first_index(w);
    size_t dropped = 0;
    int rc = wal_check_failed(w, err, errlen);

    while (rc == WAL_OK && w->n_segs > 1 && w->segs[1].first_index <= up_to) {
        rc = wal_unlink_segment(w, w->segs[0].first_index, err, errlen);
        free(w->segs[0].offsets);
        memmove(&w->segs[0], &w->segs[1], (w->n_segs - 1) * sizeof(w->segs[0]));
        w->n_segs--;
        dropped++;
    }
    if (rc == WAL_OK && w->n_segs > 0 && w->segs[0].first_index < up_to) {
        /* The segment stays for the entries from UP_TO on; where the ones
         * before it lie need not be remembered. */
        wal_seg_forget(&w->segs[0], up_to - w->segs[0].first_index);
    }
    if (dropped > 0) {
        log_info("wal",
                 "%s: entries below %" PRIu64 " compacted -> removed %zu "
                 "segments, first index %" PRIu64 " -> %" PRIu64,
                 w->dir, up_to, dropped, was, wal_first_index(w));
    }
    return rc;
}

int wal_reset(struct wal *w, uint64_t next, char *err, size_t errlen)
{
    int rc = wal_check_failed(w, err, errlen);

    if (rc != WAL_OK) {
        return rc;
    }
    if (next == 0 || next > WAL_MAX_INDEX) {
        err_fail(err, errlen, "reset: %" PRIu64 " is not a log index", next);
        return WAL_ERR_RANGE;
    }
    w->buf_len = 0;
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    while (rc == WAL_OK && w->n_segs > 0) {
        rc = wal_unlink_segment(w, wal_active(w)->first_index, err, errlen);
        wal_seg_drop_last(w);
    }
    if (rc == WAL_OK) {
        rc = wal_seg_create(w, next, err, errlen);
    }
    if (rc == WAL_OK) {
        w->next_index = next;
        w->durable_index = next - 1;
        w->last_term = 0;
        log_info("wal", "%s: reset -> log empty, next index %" PRIu64, w->dir,
                 next);
    }
    return rc;
}

/* ---- accessors --------------------------------------------------------- */

uint64_t wal_first_index(const struct wal *w)
{
    return w->n_segs > 0 ? w->segs[0].first_index + w->segs[0].skip
                         : w->next_index;
}

uint64_t wal_last_index(const struct wal *w)
{
    return w->next_index - 1;
}

uint64_t wal_durable_index(const struct wal *w)
{
    return w->durable_index;
}

void wal_close(struct wal *w)
{
    if (w == NULL) {
        return;
    }
    if (w->fd >= 0) {
        close(w->fd);
    }
    for (size_t i = 0; i < w->n_segs; i++) {
        free(w->segs[i].offsets);
    }
    free(w->segs);
    free(w->buf);
    free(w->dir);
    free(w);
}
