/* wal_read.c - reading entries back from the write-ahead log.
 *
 * The raft core frees the data of entries once they are applied and every
 * live follower holds them; a leader that must send such entries later (a
 * follower that was away, or one a new leader catches up) reads them back
 * from here. Reading changes nothing in the log.
 *
 * The segment table (wal_int.h) has the offset of every record, so a run of
 * N entries is one read per segment it spans: from the offset of the first
 * to the end of the last, which is the next record's offset, the end of the
 * active segment, or, for the last record of an older segment, what its
 * own header says. Records of the active segment that are still in the
 * write buffer are copied from there. Every record read is parsed and
 * checked like recovery does (length, checksum, padding) and must hold the
 * index its offset stands for; a record that does not is corruption, named
 * with its file and offset. A file shorter than its offsets say is
 * corruption too: nothing but a truncation of this log shortens a segment,
 * and truncations update the table.
 */
#include "storage/sio.h"
#include "storage/wal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A run of records in one segment: records J0..J1 of segment K, the bytes
 * [START, END) of the file (or of the write buffer beyond w->written). */
struct wal_run {
    size_t k;
    uint64_t j0, j1;
    uint64_t start, end;
};

/* The segment holding INDEX (the log holds it). */
static size_t wal_seg_of(const struct wal *w, uint64_t index)
{
    size_t k = w->n_segs - 1;

    while (k > 0 && w->segs[k].first_index > index) {
        k--;
    }
    return k;
}

/* Open segment K for reading: the active one's descriptor (*OWNED false),
 * or the file by name. Returns the descriptor, or -1 with ERR. */
static int wal_read_open(struct wal *w, size_t k, bool *owned, char *err,
                         size_t errlen)
{
    char path[4200];
    int fd;

    *owned = false;
    if (k + 1 == w->n_segs && w->fd >= 0) {
        return w->fd;
    }
    wal_seg_path(w, w->segs[k].first_index, false, path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return err_fail(err, errlen, "open %s: %s", path, strerror(errno));
    }
    *owned = true;
    return fd;
}

/* Read LEN bytes of segment K at OFF into DST: from the file below
 * w->written, from the write buffer at and above it (active segment). */
static int wal_read_bytes(struct wal *w, size_t k, int fd, uint64_t off,
                          size_t len, uint8_t *dst, char *err, size_t errlen)
{
    bool active = k + 1 == w->n_segs;
    size_t from_file = len;
    char path[4200];
    ssize_t got;

    if (active && off + len > w->written) {
        from_file = off >= w->written ? 0 : (size_t)(w->written - off);
        memcpy(dst + from_file, w->buf + (off + from_file - w->written),
               len - from_file);
    }
    if (from_file == 0) {
        return WAL_OK;
    }
    got = sio_pread_full(fd, dst, from_file, (off_t)off);
    if (got == (ssize_t)from_file) {
        return WAL_OK;
    }
    wal_seg_path(w, w->segs[k].first_index, false, path, sizeof(path));
    if (got < 0) {
        err_fail(err, errlen, "read %s at offset %" PRIu64 ": %s", path, off,
                 strerror(errno));
        return WAL_ERR_IO;
    }
    err_fail(err, errlen,
             "%s: corrupt at offset %" PRIu64 " (the file ends at %" PRIu64
             ", before records the log wrote)",
             path, off, off + (uint64_t)got);
    return WAL_ERR_CORRUPT;
}

/* The end of record J of segment K: where the next one starts, the end of
 * the active segment, or what the record's header says. */
static int wal_rec_end(struct wal *w, size_t k, int fd, uint64_t j,
                       uint64_t *end, char *err, size_t errlen)
{
    const struct wal_segment *s = &w->segs[k];
    uint8_t h[WAL_REC_HEADER];
    uint32_t len;
    char path[4200];
    int rc;

    if (j + 1 < s->n) {
        *end = wal_seg_offset(s, j + 1);
        return WAL_OK;
    }
    if (k + 1 == w->n_segs) {
        *end = w->written + w->buf_len;
        return WAL_OK;
    }
    rc = wal_read_bytes(w, k, fd, wal_seg_offset(s, j), sizeof(h), h, err,
                        errlen);
    if (rc != WAL_OK) {
        return rc;
    }
    len = sio_get_le32(h);
    if (len > WAL_MAX_PAYLOAD) {
        wal_seg_path(w, s->first_index, false, path, sizeof(path));
        err_fail(err, errlen, "%s: corrupt record at offset %" PRIu32 " (%s)",
                 path, wal_seg_offset(s, j),
                 wal_rec_status_names[WAL_REC_BAD_LEN]);
        return WAL_ERR_CORRUPT;
    }
    *end = (uint64_t)wal_seg_offset(s, j) + WAL_REC_HEADER + len;
    return WAL_OK;
}

/* Check the records of run R, read into RAW, into OUT (the entries from
 * the run's first on), without their data yet: RAW may still move. */
static int wal_parse_run(struct wal *w, const struct wal_run *r,
                         const uint8_t *raw, struct raft_entry *out, char *err,
                         size_t errlen)
{
    const struct wal_segment *s = &w->segs[r->k];
    char path[4200];

    for (uint64_t j = r->j0; j <= r->j1; j++) {
        uint64_t at = wal_seg_offset(s, j) - r->start;
        uint64_t next =
            j < r->j1 ? wal_seg_offset(s, j + 1) - r->start : r->end - r->start;
        struct wal_rec rec;
        enum wal_rec_status st =
            wal_rec_parse(raw + at, (size_t)(next - at), &rec);
        const char *why = st != WAL_REC_OK ? wal_rec_status_names[st] : NULL;

        if (why == NULL && rec.index != s->first_index + j) {
            why = "another index than its place in the segment";
        } else if (why == NULL && at + rec.size != next) {
            why = "another length than its place in the segment";
        }
        if (why != NULL) {
            wal_seg_path(w, s->first_index, false, path, sizeof(path));
            err_fail(err, errlen,
                     "%s: corrupt record at offset %" PRIu32 " (%s) reading "
                     "back entry %" PRIu64,
                     path, wal_seg_offset(s, j), why, s->first_index + j);
            return WAL_ERR_CORRUPT;
        }
        out[j - r->j0] = (struct raft_entry){.term = rec.term,
                                             .index = rec.index,
                                             .type = rec.type,
                                             .len = rec.len};
    }
    return WAL_OK;
}

/* Read run R into RAW and check it into OUT. */
static int wal_read_run(struct wal *w, const struct wal_run *r, int fd,
                        uint8_t *raw, struct raft_entry *out, char *err,
                        size_t errlen)
{
    int rc = wal_read_bytes(w, r->k, fd, r->start, (size_t)(r->end - r->start),
                            raw, err, errlen);

    return rc != WAL_OK ? rc : wal_parse_run(w, r, raw, out, err, errlen);
}

/* The run of the wanted entries that starts at INDEX, up to LAST. */
static int wal_plan_run(struct wal *w, uint64_t index, uint64_t last, int fd,
                        struct wal_run *r, char *err, size_t errlen)
{
    const struct wal_segment *s;

    r->k = wal_seg_of(w, index);
    s = &w->segs[r->k];
    r->j0 = index - s->first_index;
    r->j1 = last - s->first_index < s->n ? last - s->first_index : s->n - 1;
    r->start = wal_seg_offset(s, r->j0);
    return wal_rec_end(w, r->k, fd, r->j1, &r->end, err, errlen);
}

static int wal_check_range(const struct wal *w, uint64_t first, size_t n,
                           char *err, size_t errlen)
{
    uint64_t last = first + n - 1;

    if (n > 0 && first >= wal_first_index(w) && first <= last &&
        last < w->next_index) {
        return WAL_OK;
    }
    err_fail(err, errlen,
             "read entries %" PRIu64 "-%" PRIu64 ": the log holds %" PRIu64
             "-%" PRIu64,
             first, first + n - 1, wal_first_index(w), w->next_index - 1);
    return WAL_ERR_RANGE;
}

/* Read the entries from INDEX to LAST of one segment into *RAW (grown,
 * with *CAP and *USED), checked into OUT. *DONE gets how many. */
static int wal_read_segment(struct wal *w, uint64_t index, uint64_t last,
                            uint8_t **raw, size_t *used, struct raft_entry *out,
                            size_t *done, char *err, size_t errlen)
{
    struct wal_run r;
    bool owned;
    uint8_t *grown;
    int fd = wal_read_open(w, wal_seg_of(w, index), &owned, err, errlen);
    int rc;

    if (fd < 0) {
        return WAL_ERR_IO;
    }
    rc = wal_plan_run(w, index, last, fd, &r, err, errlen);
    if (rc == WAL_OK) {
        grown = realloc(*raw, *used + (size_t)(r.end - r.start));
        if (grown == NULL) {
            err_fail(err, errlen, "read entries: out of memory");
            rc = WAL_ERR_NOMEM;
        } else {
            *raw = grown;
        }
    }
    if (rc == WAL_OK) {
        rc = wal_read_run(w, &r, fd, *raw + *used, out, err, errlen);
        *used += (size_t)(r.end - r.start);
        *done = (size_t)(r.j1 - r.j0 + 1);
    }
    if (owned) {
        close(fd);
    }
    return rc;
}

int wal_read(struct wal *w, uint64_t first, size_t n, struct raft_entry *out,
             uint8_t **buf, char *err, size_t errlen)
{
    uint8_t *raw = NULL;
    size_t used = 0, got = 0;
    uint64_t last = first + n - 1;
    int rc = wal_check_failed(w, err, errlen);

    *buf = NULL;
    if (rc == WAL_OK && n == 0) {
        return WAL_OK;
    }
    if (rc == WAL_OK) {
        rc = wal_check_range(w, first, n, err, errlen);
    }
    while (rc == WAL_OK && got < n) {
        size_t done = 0;

        rc = wal_read_segment(w, first + got, last, &raw, &used, out + got,
                              &done, err, errlen);
        got += done;
    }
    if (rc != WAL_OK) {
        free(raw);
        return rc;
    }
    /* The records lie back to back in RAW, which no longer moves. */
    *buf = raw;
    for (size_t i = 0, at = 0; i < n; i++) {
        out[i].data = out[i].len > 0 ? raw + at + WAL_REC_HEADER : NULL;
        at += WAL_REC_HEADER + (size_t)out[i].len;
    }
    return WAL_OK;
}
