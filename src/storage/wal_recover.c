/* wal_recover.c - opening the write-ahead log: list the segments, read
 * and verify every record, cut a torn tail, refuse corruption (the rules
 * are at the top of wal.c). */
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
        return err_fail(err, errlen, "open %s: %s", f->path, strerror(errno));
    }
    if (sio_ftruncate(fd, (off_t)off) < 0 || sio_fsync(fd) < 0) {
        err_fail(err, errlen, "cut torn tail of %s at offset %zu: %s", f->path,
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
    err_fail(err, errlen, "%s: corrupt record at offset %zu (%s)%s", f->path,
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
            err_fail(
                err, errlen,
                "%s: corrupt record at offset %zu (index %" PRIu64
                " term %" PRIu64 " after index %" PRIu64 " term %" PRIu64 ")",
                f->path, off, r.index, r.term, w->next_index - 1, w->last_term);
            return WAL_ERR_CORRUPT;
        }
        if (wal_seg_push_offset(s, off) < 0 ||
            wal_entries_push(out, cap, &r) < 0) {
            err_fail(err, errlen, "%s: out of memory", f->path);
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
        return err_fail(err, errlen, "open %s: %s", f->path, strerror(errno));
    }
    if (fstat(fd, &st) < 0) {
        err_fail(err, errlen, "stat %s: %s", f->path, strerror(errno));
        close(fd);
        return -1;
    }
    f->size = (size_t)st.st_size;
    f->buf = malloc(f->size > 0 ? f->size : 1);
    if (f->buf == NULL) {
        close(fd);
        return err_fail(err, errlen, "%s: out of memory", f->path);
    }
    n = sio_pread_full(fd, f->buf, f->size, 0);
    close(fd);
    if (n < 0) {
        return err_fail(err, errlen, "read %s: %s", f->path, strerror(errno));
    }
    f->size = (size_t)n; /* a file that shrank meanwhile */
    return 0;
}

/* A last segment too short to hold a header holds no entry: remove it. */
static int wal_remove_runt(struct wal *w, struct wal_file *f, char *err,
                           size_t errlen)
{
    if (unlink(f->path) < 0 || sio_fsync_dir(w->dir) < 0) {
        return err_fail(err, errlen, "remove %s: %s", f->path, strerror(errno));
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
        err_fail(err, errlen, "%s: corrupt at offset 0 (%s)", f->path, why);
        return WAL_ERR_CORRUPT;
    }
    if (first != name_index) {
        err_fail(err, errlen,
                 "%s: corrupt at offset 0 (header says first index %" PRIu64
                 ")",
                 f->path, first);
        return WAL_ERR_CORRUPT;
    }
    if (w->n_segs > 0 && first != w->next_index) {
        err_fail(err, errlen,
                 "%s: first index %" PRIu64 " does not follow index %" PRIu64
                 " (segment missing or out of place)",
                 f->path, first, w->next_index - 1);
        return WAL_ERR_CORRUPT;
    }
    if (wal_seg_add(w, first) == NULL) {
        err_fail(err, errlen, "%s: out of memory", f->path);
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
            err_fail(err, errlen,
                     "%s: corrupt at offset 0 (%zu bytes, shorter than a "
                     "segment header)",
                     f.path, f.size);
        } else if (wal_remove_runt(w, &f, err, errlen) < 0) {
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
        return err_fail(err, errlen, "open %s: %s", w->dir, strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        if (wal_list_one(w, de->d_name, list, n, &cap) < 0) {
            closedir(d);
            return err_fail(err, errlen, "list %s: out of memory", w->dir);
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
        return err_fail(err, errlen, "data dir %s: %s", data_dir,
                        strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        return err_fail(err, errlen, "data dir %s: not a directory", data_dir);
    }
    if (mkdir(w->dir, 0700) == 0) {
        if (sio_fsync_dir(data_dir) < 0) {
            return err_fail(err, errlen, "fsync %s: %s", data_dir,
                            strerror(errno));
        }
    } else if (errno != EEXIST) {
        return err_fail(err, errlen, "create %s: %s", w->dir, strerror(errno));
    }
    return 0;
}

/* Open the last segment for appending and make what was read durable. */
int wal_open_active(struct wal *w, char *err, size_t errlen)
{
    char path[4200];

    if (w->n_segs == 0) {
        return 0;
    }
    wal_seg_path(w, wal_active(w)->first_index, false, path, sizeof(path));
    w->fd = open(path, O_RDWR | O_CLOEXEC);
    if (w->fd < 0) {
        return err_fail(err, errlen, "open %s: %s", path, strerror(errno));
    }
    if (sio_fdatasync(w->fd) < 0 || sio_fsync_dir(w->dir) < 0) {
        return err_fail(err, errlen, "fsync %s: %s", path, strerror(errno));
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
    if (w->opt.segment_size > WAL_SEGMENT_SIZE_MAX) {
        w->opt.segment_size = WAL_SEGMENT_SIZE_MAX;
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
        err_fail(err, errlen, "out of memory");
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
