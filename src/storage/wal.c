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
#include "storage/wal.h"

#include "storage/crc32c.h"
#include "storage/sio.h"
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

#define WAL_MAGIC 0x4c415756u /* "VWAL" */
#define WAL_VERSION 1u
#define WAL_SEG_HEADER 24
#define WAL_REC_HEADER 28
#define WAL_SECTOR 512
#define WAL_FLUSH_BYTES (1u << 20) /* write the buffer out past this */
#define WAL_NAME_DIGITS 20

struct wal_segment {
    uint64_t first_index;
    uint64_t n;        /* records */
    uint64_t *offsets; /* offsets[i]: the record of first_index + i */
    size_t cap;
};

struct wal {
    char *dir; /* DATA_DIR/wal */
    struct wal_options opt;
    struct wal_segment *segs; /* oldest first; the last is active */
    size_t n_segs, cap_segs;
    int fd;           /* the active segment, -1 when there is none */
    uint64_t written; /* bytes of the active segment written to fd */
    bool dirty;       /* written since the last fdatasync */
    uint8_t *buf;     /* encoded records that belong at offset written */
    size_t buf_len, buf_cap;
    uint64_t next_index;
    uint64_t last_term; /* of entry next_index - 1; 0 when unknown */
    uint64_t durable_index;
    bool failed;
    char failed_reason[256];
};

/* A record as read from disk; data points into the read buffer. */
struct wal_rec {
    uint32_t len;
    uint64_t term;
    uint64_t index;
    uint8_t type;
    const uint8_t *data;
    size_t size; /* header + payload */
};

enum wal_rec_status {
    WAL_REC_OK = 0,
    WAL_REC_SHORT,   /* runs past the end of the file */
    WAL_REC_BAD_LEN, /* length above WAL_MAX_PAYLOAD */
    WAL_REC_BAD_CRC,
    WAL_REC_BAD_PAD,
};

static const char *const wal_rec_status_names[] = {
    "ok", "short record", "impossible length", "checksum mismatch",
    "non-zero padding"};

__attribute__((format(printf, 3, 4))) static int
wal_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Mark W failed with the reason already in ERR; returns CODE. */
static int wal_poison(struct wal *w, int code, const char *err)
{
    if (!w->failed) {
        w->failed = true;
        snprintf(w->failed_reason, sizeof(w->failed_reason), "%s",
                 err != NULL ? err : "unknown error");
        log_error("wal", "%s -> log failed, reopen to recover",
                  w->failed_reason);
    }
    return code;
}

static int wal_check_failed(const struct wal *w, char *err, size_t errlen)
{
    if (w->failed) {
        wal_fail(err, errlen, "wal %s failed earlier (%s): reopen to recover",
                 w->dir, w->failed_reason);
        return WAL_ERR_IO;
    }
    return WAL_OK;
}

static void wal_seg_path(const struct wal *w, uint64_t first, bool tmp,
                         char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%020" PRIu64 ".seg%s", w->dir, first,
             tmp ? ".tmp" : "");
}

/* ---- encoding ---------------------------------------------------------- */

static void wal_header_encode(uint8_t h[WAL_SEG_HEADER], uint64_t first)
{
    sio_put_le32(h, WAL_MAGIC);
    sio_put_le32(h + 4, WAL_VERSION);
    sio_put_le64(h + 8, first);
    sio_put_le32(h + 16, 0);
    sio_put_le32(h + 20, crc32c(0, h, 20));
}

/* Check a segment header; returns NULL and *FIRST, or what is wrong. */
static const char *wal_header_decode(const uint8_t *h, uint64_t *first)
{
    if (sio_get_le32(h) != WAL_MAGIC) {
        return "bad segment magic";
    }
    if (sio_get_le32(h + 20) != crc32c(0, h, 20)) {
        return "segment header checksum mismatch";
    }
    if (sio_get_le32(h + 4) != WAL_VERSION) {
        return "unsupported segment format version";
    }
    if (sio_get_le32(h + 16) != 0) {
        return "non-zero reserved field in segment header";
    }
    *first = sio_get_le64(h + 8);
    if (*first == 0 || *first > WAL_MAX_INDEX) {
        return "segment first index out of range";
    }
    return NULL;
}

static uint32_t wal_rec_crc(const uint8_t *rec, uint32_t len)
{
    uint32_t c = crc32c(0, rec, 4);

    return crc32c(c, rec + 8, WAL_REC_HEADER - 8 + (size_t)len);
}

static void wal_rec_encode(uint8_t *out, const struct raft_entry *e)
{
    sio_put_le32(out, e->len);
    sio_put_le64(out + 8, e->term);
    sio_put_le64(out + 16, e->index);
    out[24] = e->type;
    out[25] = out[26] = out[27] = 0;
    if (e->len > 0) {
        memcpy(out + WAL_REC_HEADER, e->data, e->len);
    }
    sio_put_le32(out + 4, wal_rec_crc(out, e->len));
}

/* Parse the record at P with AVAIL bytes left in the file. */
static enum wal_rec_status wal_rec_parse(const uint8_t *p, size_t avail,
                                         struct wal_rec *r)
{
    if (avail < WAL_REC_HEADER) {
        return WAL_REC_SHORT;
    }
    r->len = sio_get_le32(p);
    if (r->len > WAL_MAX_PAYLOAD) {
        return WAL_REC_BAD_LEN;
    }
    r->size = WAL_REC_HEADER + (size_t)r->len;
    if (r->size > avail) {
        return WAL_REC_SHORT;
    }
    if (sio_get_le32(p + 4) != wal_rec_crc(p, r->len)) {
        return WAL_REC_BAD_CRC;
    }
    if (p[25] != 0 || p[26] != 0 || p[27] != 0) {
        return WAL_REC_BAD_PAD;
    }
    r->term = sio_get_le64(p + 8);
    r->index = sio_get_le64(p + 16);
    r->type = p[24];
    r->data = p + WAL_REC_HEADER;
    return WAL_REC_OK;
}

/* ---- in-memory bookkeeping --------------------------------------------- */

static int wal_seg_push_offset(struct wal_segment *s, uint64_t off)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint64_t *o = realloc(s->offsets, cap * sizeof(*o));

        if (o == NULL) {
            return -1;
        }
        s->offsets = o;
        s->cap = cap;
    }
    s->offsets[s->n++] = off;
    return 0;
}

/* Add an empty segment starting at FIRST; returns it, NULL without memory. */
static struct wal_segment *wal_seg_add(struct wal *w, uint64_t first)
{
    struct wal_segment *s;

    if (w->n_segs == w->cap_segs) {
        size_t cap = w->cap_segs ? w->cap_segs * 2 : 8;
        struct wal_segment *a = realloc(w->segs, cap * sizeof(*a));

        if (a == NULL) {
            return NULL;
        }
        w->segs = a;
        w->cap_segs = cap;
    }
    s = &w->segs[w->n_segs++];
    memset(s, 0, sizeof(*s));
    s->first_index = first;
    return s;
}

static struct wal_segment *wal_active(struct wal *w)
{
    return w->n_segs > 0 ? &w->segs[w->n_segs - 1] : NULL;
}

static void wal_seg_drop_last(struct wal *w)
{
    free(w->segs[w->n_segs - 1].offsets);
    w->n_segs--;
}

static int wal_entries_push(struct wal_entries *out, size_t *cap,
                            const struct wal_rec *r)
{
    struct raft_entry *e;

    if (out->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        struct raft_entry *a = realloc(out->entries, ncap * sizeof(*a));

        if (a == NULL) {
            return -1;
        }
        out->entries = a;
        *cap = ncap;
    }
    e = &out->entries[out->n];
    e->term = r->term;
    e->index = r->index;
    e->type = r->type;
    e->len = r->len;
    e->data = NULL;
    if (r->len > 0) {
        e->data = malloc(r->len);
        if (e->data == NULL) {
            return -1;
        }
        memcpy(e->data, r->data, r->len);
    }
    out->n++;
    return 0;
}

void wal_entries_free(struct wal_entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->entries[i].data);
    }
    free(e->entries);
    memset(e, 0, sizeof(*e));
}

void wal_options_init(struct wal_options *opt)
{
    opt->segment_size = WAL_SEGMENT_SIZE_DEFAULT;
}

/* ---- recovery ---------------------------------------------------------- */

/* One segment file read whole into memory during recovery. */
struct wal_file {
    char path[4200];
    uint8_t *buf;
    size_t size;
    bool last;
};

/* The first offset after OFF where a checksummed record with an index at
 * or past NEXT (and a term at or past TERM) starts, or F->size. The cheap
 * fields are checked before the checksum is computed. */
static size_t wal_find_later_record(const struct wal_file *f, size_t off,
                                    uint64_t next, uint64_t term)
{
    uint64_t max_index = next + (f->size - off) / WAL_REC_HEADER;

    for (size_t p = off + 1; p + WAL_REC_HEADER <= f->size; p++) {
        const uint8_t *q = f->buf + p;
        uint64_t index = sio_get_le64(q + 16);
        struct wal_rec r;

        if (q[25] != 0 || q[26] != 0 || q[27] != 0 || index < next ||
            index > max_index || sio_get_le64(q + 8) < term) {
            continue;
        }
        if (wal_rec_parse(q, f->size - p, &r) == WAL_REC_OK) {
            return p;
        }
    }
    return f->size;
}

static bool wal_all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

/* True when [OFF, END) of F holds bytes that were never written: an
 * all-zero record header at OFF or an all-zero aligned sector. */
static bool wal_region_unwritten(const struct wal_file *f, size_t off,
                                 size_t end)
{
    size_t s = (off + WAL_SECTOR - 1) / WAL_SECTOR * WAL_SECTOR;

    if (off + WAL_REC_HEADER <= end &&
        wal_all_zero(f->buf + off, WAL_REC_HEADER)) {
        return true;
    }
    for (; s + WAL_SECTOR <= end; s += WAL_SECTOR) {
        if (wal_all_zero(f->buf + s, WAL_SECTOR)) {
            return true;
        }
    }
    return false;
}

/* Cut F at OFF (a torn tail), durably, and log it. LATER is the offset of
 * the first checksummed record past OFF (F->size if none). */
static int wal_cut_tail(struct wal_file *f, size_t off, size_t later,
                        enum wal_rec_status why, char *err, size_t errlen)
{
    int fd = open(f->path, O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        return wal_fail(err, errlen, "open %s: %s", f->path, strerror(errno));
    }
    if (sio_ftruncate(fd, (off_t)off) < 0 || sio_fsync(fd) < 0) {
        wal_fail(err, errlen, "cut torn tail of %s at offset %zu: %s", f->path,
                 off, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    log_warn("wal", "%s: torn record at offset %zu (%s%s) -> cut %zu bytes",
             f->path, off, wal_rec_status_names[why],
             later < f->size ? ", unwritten sectors before later records" : "",
             f->size - off);
    f->size = off;
    return 0;
}

/* A bad record at OFF in F: cut it as a torn tail, or refuse. */
static int wal_bad_record(struct wal *w, struct wal_file *f, size_t off,
                          enum wal_rec_status why, char *err, size_t errlen)
{
    size_t later;

    if (f->last) {
        later = wal_find_later_record(f, off, w->next_index, w->last_term);
        if (later == f->size || wal_region_unwritten(f, off, later)) {
            return wal_cut_tail(f, off, later, why, err, errlen) < 0
                       ? WAL_ERR_IO
                       : WAL_OK;
        }
    }
    wal_fail(err, errlen, "%s: corrupt record at offset %zu (%s)%s", f->path,
             off, wal_rec_status_names[why],
             f->last ? " followed by valid records" : "");
    return WAL_ERR_CORRUPT;
}

/* Check the records of F (header already checked) into the active
 * segment and OUT. */
static int wal_load_records(struct wal *w, struct wal_file *f,
                            struct wal_entries *out, size_t *cap, char *err,
                            size_t errlen)
{
    struct wal_segment *s = wal_active(w);
    size_t off = WAL_SEG_HEADER;

    while (off < f->size) {
        struct wal_rec r;
        enum wal_rec_status st = wal_rec_parse(f->buf + off, f->size - off, &r);

        if (st != WAL_REC_OK) {
            return wal_bad_record(w, f, off, st, err, errlen);
        }
        if (r.index != w->next_index || r.term < w->last_term) {
            wal_fail(
                err, errlen,
                "%s: corrupt record at offset %zu (index %" PRIu64
                " term %" PRIu64 " after index %" PRIu64 " term %" PRIu64 ")",
                f->path, off, r.index, r.term, w->next_index - 1, w->last_term);
            return WAL_ERR_CORRUPT;
        }
        if (wal_seg_push_offset(s, off) < 0 ||
            wal_entries_push(out, cap, &r) < 0) {
            wal_fail(err, errlen, "%s: out of memory", f->path);
            return WAL_ERR_NOMEM;
        }
        w->next_index++;
        w->last_term = r.term;
        off += r.size;
    }
    return WAL_OK;
}

static int wal_read_file(struct wal_file *f, char *err, size_t errlen)
{
    struct stat st;
    ssize_t n;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return wal_fail(err, errlen, "open %s: %s", f->path, strerror(errno));
    }
    if (fstat(fd, &st) < 0) {
        wal_fail(err, errlen, "stat %s: %s", f->path, strerror(errno));
        close(fd);
        return -1;
    }
    f->size = (size_t)st.st_size;
    f->buf = malloc(f->size > 0 ? f->size : 1);
    if (f->buf == NULL) {
        close(fd);
        return wal_fail(err, errlen, "%s: out of memory", f->path);
    }
    n = sio_pread_full(fd, f->buf, f->size, 0);
    close(fd);
    if (n < 0) {
        return wal_fail(err, errlen, "read %s: %s", f->path, strerror(errno));
    }
    f->size = (size_t)n; /* a file that shrank meanwhile */
    return 0;
}

/* A last segment too short to hold a header holds no entry: remove it. */
static int wal_remove_stub(struct wal *w, struct wal_file *f, char *err,
                           size_t errlen)
{
    if (unlink(f->path) < 0 || sio_fsync_dir(w->dir) < 0) {
        return wal_fail(err, errlen, "remove %s: %s", f->path, strerror(errno));
    }
    log_warn("wal", "%s: %zu bytes, shorter than a segment header -> removed",
             f->path, f->size);
    return 0;
}

/* Check the header of F, named for NAME_INDEX, and open its segment. */
static int wal_load_header(struct wal *w, struct wal_file *f,
                           uint64_t name_index, char *err, size_t errlen)
{
    const char *why;
    uint64_t first = 0;

    why = wal_header_decode(f->buf, &first);
    if (why != NULL) {
        wal_fail(err, errlen, "%s: corrupt at offset 0 (%s)", f->path, why);
        return WAL_ERR_CORRUPT;
    }
    if (first != name_index) {
        wal_fail(err, errlen,
                 "%s: corrupt at offset 0 (header says first index %" PRIu64
                 ")",
                 f->path, first);
        return WAL_ERR_CORRUPT;
    }
    if (w->n_segs > 0 && first != w->next_index) {
        wal_fail(err, errlen,
                 "%s: first index %" PRIu64 " does not follow index %" PRIu64
                 " (segment missing or out of place)",
                 f->path, first, w->next_index - 1);
        return WAL_ERR_CORRUPT;
    }
    if (wal_seg_add(w, first) == NULL) {
        wal_fail(err, errlen, "%s: out of memory", f->path);
        return WAL_ERR_NOMEM;
    }
    if (w->n_segs == 1) {
        w->next_index = first;
    }
    return WAL_OK;
}

static int wal_load_segment(struct wal *w, uint64_t name_index, bool last,
                            struct wal_entries *out, size_t *cap, char *err,
                            size_t errlen)
{
    struct wal_file f = {.last = last};
    int rc;

    wal_seg_path(w, name_index, false, f.path, sizeof(f.path));
    if (wal_read_file(&f, err, errlen) < 0) {
        free(f.buf);
        return WAL_ERR_IO;
    }
    if (f.size < WAL_SEG_HEADER) {
        rc = WAL_ERR_CORRUPT;
        if (!last) {
            wal_fail(err, errlen,
                     "%s: corrupt at offset 0 (%zu bytes, shorter than a "
                     "segment header)",
                     f.path, f.size);
        } else if (wal_remove_stub(w, &f, err, errlen) < 0) {
            rc = WAL_ERR_IO;
        } else {
            rc = WAL_OK;
        }
        free(f.buf);
        return rc;
    }
    rc = wal_load_header(w, &f, name_index, err, errlen);
    if (rc == WAL_OK) {
        rc = wal_load_records(w, &f, out, cap, err, errlen);
    }
    w->written = f.size;
    free(f.buf);
    return rc;
}

static int wal_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* If NAME is a segment's name, its index in *INDEX; true. */
static bool wal_parse_name(const char *name, uint64_t *index)
{
    if (strlen(name) != WAL_NAME_DIGITS + 4 ||
        strcmp(name + WAL_NAME_DIGITS, ".seg") != 0) {
        return false;
    }
    *index = 0;
    for (int i = 0; i < WAL_NAME_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9' || *index > (UINT64_MAX - 9) / 10) {
            return false;
        }
        *index = *index * 10 + (uint64_t)(name[i] - '0');
    }
    return true;
}

/* Handle one directory entry NAME: a segment goes into *LIST, a leftover
 * NAME.seg.tmp (a creation that never completed) is removed. */
static int wal_list_one(struct wal *w, const char *name, uint64_t **list,
                        size_t *n, size_t *cap)
{
    char path[4200];
    uint64_t index;
    size_t len = strlen(name);

    if (wal_parse_name(name, &index)) {
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 16;
            uint64_t *a = realloc(*list, ncap * sizeof(*a));

            if (a == NULL) {
                return -1;
            }
            *list = a;
            *cap = ncap;
        }
        (*list)[(*n)++] = index;
    } else if (len > 8 && strcmp(name + len - 8, ".seg.tmp") == 0) {
        snprintf(path, sizeof(path), "%s/%s", w->dir, name);
        if (unlink(path) == 0) {
            log_info("wal", "%s: unfinished segment creation -> removed", path);
        }
    }
    return 0;
}

/* The segment indexes in W's dir, sorted, in *LIST (caller frees). */
static int wal_list(struct wal *w, uint64_t **list, size_t *n, char *err,
                    size_t errlen)
{
    DIR *d = opendir(w->dir);
    struct dirent *de;
    size_t cap = 0;

    *list = NULL;
    *n = 0;
    if (d == NULL) {
        return wal_fail(err, errlen, "open %s: %s", w->dir, strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        if (wal_list_one(w, de->d_name, list, n, &cap) < 0) {
            closedir(d);
            return wal_fail(err, errlen, "list %s: out of memory", w->dir);
        }
    }
    closedir(d);
    if (*n > 0) {
        qsort(*list, *n, sizeof(**list), wal_cmp_u64);
    }
    return 0;
}

/* Create DATA_DIR/wal if missing. */
static int wal_make_dir(struct wal *w, const char *data_dir, char *err,
                        size_t errlen)
{
    struct stat st;

    if (stat(data_dir, &st) < 0) {
        return wal_fail(err, errlen, "data dir %s: %s", data_dir,
                        strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        return wal_fail(err, errlen, "data dir %s: not a directory", data_dir);
    }
    if (mkdir(w->dir, 0700) == 0) {
        if (sio_fsync_dir(data_dir) < 0) {
            return wal_fail(err, errlen, "fsync %s: %s", data_dir,
                            strerror(errno));
        }
    } else if (errno != EEXIST) {
        return wal_fail(err, errlen, "create %s: %s", w->dir, strerror(errno));
    }
    return 0;
}

/* Open the last segment for appending and make what was read durable. */
static int wal_open_active(struct wal *w, char *err, size_t errlen)
{
    char path[4200];

    if (w->n_segs == 0) {
        return 0;
    }
    wal_seg_path(w, wal_active(w)->first_index, false, path, sizeof(path));
    w->fd = open(path, O_RDWR | O_CLOEXEC);
    if (w->fd < 0) {
        return wal_fail(err, errlen, "open %s: %s", path, strerror(errno));
    }
    if (sio_fdatasync(w->fd) < 0 || sio_fsync_dir(w->dir) < 0) {
        return wal_fail(err, errlen, "fsync %s: %s", path, strerror(errno));
    }
    return 0;
}

static int wal_recover(struct wal *w, struct wal_entries *out, char *err,
                       size_t errlen)
{
    uint64_t *list;
    size_t n, cap = 0;
    int rc = WAL_OK;

    if (wal_list(w, &list, &n, err, errlen) < 0) {
        return WAL_ERR_IO;
    }
    for (size_t i = 0; i < n && rc == WAL_OK; i++) {
        rc = wal_load_segment(w, list[i], i + 1 == n, out, &cap, err, errlen);
    }
    free(list);
    if (rc != WAL_OK) {
        return rc;
    }
    if (wal_open_active(w, err, errlen) < 0) {
        return WAL_ERR_IO;
    }
    w->durable_index = w->next_index - 1;
    out->first_index = w->n_segs > 0 ? w->segs[0].first_index : w->next_index;
    out->last_index = w->next_index - 1;
    return WAL_OK;
}

static struct wal *wal_alloc(const char *data_dir,
                             const struct wal_options *opt)
{
    struct wal *w = calloc(1, sizeof(*w));
    size_t n = strlen(data_dir) + sizeof("/wal");

    if (w == NULL) {
        return NULL;
    }
    w->fd = -1;
    w->next_index = 1;
    wal_options_init(&w->opt);
    if (opt != NULL) {
        w->opt = *opt;
    }
    if (w->opt.segment_size < WAL_SEGMENT_SIZE_MIN) {
        w->opt.segment_size = WAL_SEGMENT_SIZE_MIN;
    }
    w->dir = malloc(n);
    if (w->dir == NULL) {
        free(w);
        return NULL;
    }
    snprintf(w->dir, n, "%s/wal", data_dir);
    return w;
}

int wal_open(const char *data_dir, const struct wal_options *opt,
             struct wal **out, struct wal_entries *loaded, char *err,
             size_t errlen)
{
    struct wal *w;
    int rc;

    *out = NULL;
    memset(loaded, 0, sizeof(*loaded));
    w = wal_alloc(data_dir, opt);
    if (w == NULL) {
        wal_fail(err, errlen, "out of memory");
        return WAL_ERR_NOMEM;
    }
    rc = wal_make_dir(w, data_dir, err, errlen) < 0 ? WAL_ERR_IO : WAL_OK;
    if (rc == WAL_OK) {
        rc = wal_recover(w, loaded, err, errlen);
    }
    if (rc != WAL_OK) {
        wal_entries_free(loaded);
        wal_close(w);
        return rc;
    }
    log_info("wal",
             "%s: recovered entries %" PRIu64 "..%" PRIu64 " from %zu segments",
             w->dir, loaded->first_index, loaded->last_index, w->n_segs);
    *out = w;
    return WAL_OK;
}

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
        wal_fail(err, errlen, "write %s at offset %" PRIu64 ": %s", path,
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
        wal_fail(err, errlen, "fdatasync %s: %s", path, strerror(errno));
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
        wal_fail(err, errlen, "create %s: %s", tmp, strerror(errno));
        return wal_poison(w, WAL_ERR_IO, err);
    }
    if (sio_pwrite_all(fd, h, sizeof(h), 0) < 0 || sio_fdatasync(fd) < 0 ||
        sio_rename(tmp, path) < 0 || sio_fsync_dir(w->dir) < 0) {
        wal_fail(err, errlen, "create segment %s: %s", path, strerror(errno));
        close(fd);
        return wal_poison(w, WAL_ERR_IO, err);
    }
    if (wal_seg_add(w, first) == NULL) {
        close(fd);
        wal_fail(err, errlen, "create segment %s: out of memory", path);
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
        wal_fail(err, errlen, "append index %" PRIu64 ": out of memory",
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
            return wal_fail(err, errlen,
                            "append: entry %zu has index %" PRIu64
                            ", the log expects %" PRIu64,
                            i, e->index, w->next_index + i);
        }
        if (e->term < term) {
            return wal_fail(err, errlen,
                            "append: index %" PRIu64 " has term %" PRIu64
                            " below the previous term %" PRIu64,
                            e->index, e->term, term);
        }
        if (e->len > WAL_MAX_PAYLOAD || (e->len > 0 && e->data == NULL)) {
            return wal_fail(err, errlen,
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
        wal_fail(err, errlen, "remove %s: %s", path, strerror(errno));
        return wal_poison(w, WAL_ERR_IO, err);
    }
    if (sio_fsync_dir(w->dir) < 0) {
        wal_fail(err, errlen, "fsync %s: %s", w->dir, strerror(errno));
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
    if (k == 0 || index - w->segs[k - 1].first_index >= w->segs[k - 1].n) {
        return WAL_OK;
    }
    wal_seg_path(w, w->segs[k - 1].first_index, false, path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 ||
        sio_pread_full(fd, h, sizeof(h),
                       (off_t)w->segs[k - 1]
                           .offsets[index - w->segs[k - 1].first_index]) !=
            (ssize_t)sizeof(h)) {
        wal_fail(err, errlen, "read %s: %s", path,
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

/* Shorten the segment at position K to its first KEEP records, durably,
 * and make it the active one. */
static int wal_seg_shorten(struct wal *w, size_t k, uint64_t keep, char *err,
                           size_t errlen)
{
    struct wal_segment *s = &w->segs[k];
    uint64_t size = keep < s->n ? s->offsets[keep] : w->written;
    char path[4200];
    int fd = w->fd;

    wal_seg_path(w, s->first_index, false, path, sizeof(path));
    if (k + 1 != w->n_segs || fd < 0) {
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            wal_fail(err, errlen, "open %s: %s", path, strerror(errno));
            return wal_poison(w, WAL_ERR_IO, err);
        }
    }
    if (sio_ftruncate(fd, (off_t)size) < 0 || sio_fsync(fd) < 0) {
        wal_fail(err, errlen, "truncate %s to %" PRIu64 " bytes: %s", path,
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
        wal_fail(err, errlen,
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
        wal_fail(err, errlen, "reset: %" PRIu64 " is not a log index", next);
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
    return w->n_segs > 0 ? w->segs[0].first_index : w->next_index;
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
