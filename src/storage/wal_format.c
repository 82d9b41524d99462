/* wal_format.c - the write-ahead log's record and segment header
 * encoding, its error helpers and its in-memory table of segments. The
 * format itself is described at the top of wal.c. */
#include "storage/crc32c.h"
#include "storage/sio.h"
#include "storage/wal_int.h"
#include "util/err.h"
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

const char *const wal_rec_status_names[] = {
    "ok", "short record", "impossible length", "checksum mismatch",
    "non-zero padding"};

/* Mark W failed with the reason already in ERR; returns CODE. */
int wal_poison(struct wal *w, int code, const char *err)
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

int wal_check_failed(const struct wal *w, char *err, size_t errlen)
{
    if (w->failed) {
        err_fail(err, errlen, "wal %s failed earlier (%s): reopen to recover",
                 w->dir, w->failed_reason);
        return WAL_ERR_IO;
    }
    return WAL_OK;
}

void wal_seg_path(const struct wal *w, uint64_t first, bool tmp, char *out,
                  size_t outlen)
{
    snprintf(out, outlen, "%s/%020" PRIu64 ".seg%s", w->dir, first,
             tmp ? ".tmp" : "");
}

/* ---- encoding ---------------------------------------------------------- */

void wal_header_encode(uint8_t h[WAL_SEG_HEADER], uint64_t first)
{
    sio_put_le32(h, WAL_MAGIC);
    sio_put_le32(h + 4, WAL_VERSION);
    sio_put_le64(h + 8, first);
    sio_put_le32(h + 16, 0);
    sio_put_le32(h + 20, crc32c(0, h, 20));
}

/* Check a segment header; returns NULL and *FIRST, or what is wrong. */
const char *wal_header_decode(const uint8_t *h, uint64_t *first)
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

uint32_t wal_rec_crc(const uint8_t *rec, uint32_t len)
{
    uint32_t c = crc32c(0, rec, 4);

    return crc32c(c, rec + 8, WAL_REC_HEADER - 8 + (size_t)len);
}

void wal_rec_encode(uint8_t *out, const struct raft_entry *e)
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
enum wal_rec_status wal_rec_parse(const uint8_t *p, size_t avail,
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

int wal_seg_push_offset(struct wal_segment *s, uint64_t off)
{
    if (s->n - s->skip == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint32_t *o = realloc(s->offsets, cap * sizeof(*o));

        if (o == NULL) {
            return -1;
        }
        s->offsets = o;
        s->cap = cap;
    }
    if (off > UINT32_MAX) {
        return -1; /* a segment larger than any this WAL writes */
    }
    s->offsets[s->n - s->skip] = (uint32_t)off;
    s->n++;
    return 0;
}

uint32_t wal_seg_offset(const struct wal_segment *s, uint64_t j)
{
    return s->offsets[j - s->skip];
}

void wal_seg_forget(struct wal_segment *s, uint64_t j)
{
    size_t held, cap;
    uint32_t *o;

    if (j > s->n) {
        j = s->n;
    }
    if (j <= s->skip) {
        return;
    }
    held = (size_t)(s->n - j);
    memmove(s->offsets, s->offsets + (j - s->skip), held * sizeof(*s->offsets));
    s->skip = j;
    cap = held > 64 ? held : 64;
    if (cap < s->cap &&
        (o = realloc(s->offsets, cap * sizeof(*s->offsets))) != NULL) {
        s->offsets = o; /* a smaller table: the memory goes back */
        s->cap = cap;
    }
}

/* Add an empty segment starting at FIRST; returns it, NULL without memory. */
struct wal_segment *wal_seg_add(struct wal *w, uint64_t first)
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

struct wal_segment *wal_active(struct wal *w)
{
    return w->n_segs > 0 ? &w->segs[w->n_segs - 1] : NULL;
}

void wal_seg_drop_last(struct wal *w)
{
    free(w->segs[w->n_segs - 1].offsets);
    w->n_segs--;
}

int wal_entries_push(struct wal_entries *out, size_t *cap,
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
