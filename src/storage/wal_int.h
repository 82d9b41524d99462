/* wal_int.h - the write-ahead log's private parts, shared by wal.c
 * (appending, truncation), wal_recover.c (opening), wal_read.c (reading
 * entries back) and wal_format.c (the on-disk encoding and the segment
 * table). Nothing outside src/storage/ includes this. The format is
 * described at the top of wal.c. */
#ifndef VARDE_WAL_INT_H
#define VARDE_WAL_INT_H

#include "storage/wal.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WAL_MAGIC 0x4c415756u /* "VWAL" */
#define WAL_VERSION 1u
#define WAL_SEG_HEADER 24
#define WAL_REC_HEADER 28
#define WAL_SECTOR 512
#define WAL_FLUSH_BYTES (1u << 20) /* write the buffer out past this */
#define WAL_NAME_DIGITS 20

struct wal_segment {
    uint64_t first_index;
    uint64_t n; /* records */
    /* Leading records whose offsets were forgotten (wal_truncate_prefix):
     * still in the file, but they can no longer be read back or truncated
     * to. Only the first segment has any. */
    uint64_t skip;
    /* offsets[i]: the record of first_index + skip + i. 32 bits: a segment
     * stays below WAL_SEGMENT_SIZE_MAX, and 100k entries cost 400 KB, not
     * 800. */
    uint32_t *offsets;
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

extern const char *const wal_rec_status_names[];

/* Mark W failed with the reason already in ERR; returns CODE. */
int wal_poison(struct wal *w, int code, const char *err);

/* -1 with the reason in ERR when W failed earlier; else 0. */
int wal_check_failed(const struct wal *w, char *err, size_t errlen);

/* The path of the segment starting at FIRST (its .tmp name if TMP). */
void wal_seg_path(const struct wal *w, uint64_t first, bool tmp, char *out,
                  size_t outlen);

/* Segment header encoding; decode returns NULL or what is wrong. */
void wal_header_encode(uint8_t h[WAL_SEG_HEADER], uint64_t first);

const char *wal_header_decode(const uint8_t *h, uint64_t *first);

/* A record: its checksum, its encoding, and parsing what is on disk. */
uint32_t wal_rec_crc(const uint8_t *rec, uint32_t len);

void wal_rec_encode(uint8_t *out, const struct raft_entry *e);

enum wal_rec_status wal_rec_parse(const uint8_t *p, size_t avail,
                                  struct wal_rec *r);

/* The in-memory table of segments and their record offsets. */
int wal_seg_push_offset(struct wal_segment *s, uint64_t off);

/* The offset of record J of S (skip <= J < n). */
uint32_t wal_seg_offset(const struct wal_segment *s, uint64_t j);

/* Forget the offsets of the records of S below record J (at most all):
 * the table shrinks. */
void wal_seg_forget(struct wal_segment *s, uint64_t j);

struct wal_segment *wal_seg_add(struct wal *w, uint64_t first);

struct wal_segment *wal_active(struct wal *w);

void wal_seg_drop_last(struct wal *w);

/* Append a copy of a record read from disk to the recovered entries. */
int wal_entries_push(struct wal_entries *out, size_t *cap,
                     const struct wal_rec *r);

/* wal_recover.c */
int wal_open_active(struct wal *w, char *err, size_t errlen);

#endif
