/* snap.h - snapshot files: saved whole or not at all, loaded, sent in chunks.
 *
 * A snapshot is the state machine's encoding (an opaque body) as of log
 * entry INDEX of term TERM. Snapshots live in DIR/snap/, one file each:
 *
 *   DIR/snap/IIIIIIIIIIIIIIIIIIII-TTTTTTTTTTTTTTTTTTTT.snap
 *                              index and term, 20 decimal digits each
 *   DIR/snap/NAME.snap.tmp     a save in progress (removed on load)
 *   DIR/snap/recv.tmp          a snapshot being received (removed on load)
 *
 * A file is a 40-byte header (magic, version, index, term, body length,
 * header checksum), the body, and a CRC32C of header and body; the format
 * is at the top of snap.c and in docs/storage.md. A file with a snapshot's
 * name is always whole: it is written under a temporary name, fsynced,
 * renamed into place and the directory fsynced. The newest two snapshots
 * are kept; older ones are deleted once a newer one is durable.
 *
 * Snapshots on disk only move forward: saving or receiving one older than
 * the newest already here is refused with SNAP_ERR_STALE.
 *
 * Use:
 *
 *   snap_save()          write a snapshot of this node's state machine
 *   snap_load_latest()   on start: the newest snapshot (refuses a corrupt
 *                        one rather than fall back to an older one)
 *   snap_load()          one snapshot by index and term
 *   snap_read_chunk()    leader: the bytes of a snapshot file, piecewise
 *   snap_recv_open()     follower: start receiving a snapshot file,
 *   snap_recv_write()      take its bytes in order,
 *   snap_recv_finish()     verify it and put it in place
 *   snap_recv_abort()      or give it up
 *
 * DIR is the node's data dir (it must exist; DIR/snap is created when
 * needed). The caller holds the data dir's lock (meta_open()).
 *
 * Every function that can fail returns 0 or a negative enum snap_error and
 * writes a one-line reason naming the file into ERR (ERRLEN bytes,
 * NUL-terminated when ERRLEN > 0). Writes, fsyncs and renames go through
 * sio.h, so tests can inject failures. Not thread-safe.
 */
#ifndef VARDE_SNAP_H
#define VARDE_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_MAX_BODY (1ull << 30) /* 1 GiB of state machine encoding */
#define SNAP_HEADER_SIZE 40
#define SNAP_TRAILER_SIZE 4                  /* the file's CRC32C */
#define SNAP_MAX_INDEX ((uint64_t)INT64_MAX) /* as the wal's */
#define SNAP_KEEP 2                          /* snapshots kept on disk */

enum snap_error {
    SNAP_OK = 0,
    SNAP_ERR_IO = -1,         /* a system call failed (errno text in ERR) */
    SNAP_ERR_CORRUPT = -2,    /* a file or received bytes fail a check */
    SNAP_ERR_NOMEM = -3,      /* out of memory */
    SNAP_ERR_RANGE = -4,      /* an argument out of bounds */
    SNAP_ERR_TOO_BIG = -5,    /* a body above SNAP_MAX_BODY */
    SNAP_ERR_STALE = -6,      /* older than the newest snapshot here */
    SNAP_ERR_MISMATCH = -7,   /* a header names another index or term */
    SNAP_ERR_NOT_FOUND = -8,  /* no such snapshot (any more) */
    SNAP_ERR_OFFSET = -9,     /* a chunk not at the expected offset */
    SNAP_ERR_INCOMPLETE = -10 /* finished before all bytes arrived */
};

/* What a snapshot file holds, apart from its body. */
struct snap_info {
    uint64_t index;     /* the last log index it covers; 0: no snapshot */
    uint64_t term;      /* the term of that entry */
    uint64_t body_len;  /* bytes of body */
    uint64_t file_size; /* bytes of the file: header, body, checksum */
};

/* Save BODY (LEN bytes, the state machine as of INDEX in TERM) as a
 * snapshot. Returns only once it is durable: writes NAME.snap.tmp, fsyncs
 * it, renames it to NAME.snap and fsyncs DIR/snap. Then deletes all but the
 * newest SNAP_KEEP snapshots (a failure to delete is logged, not returned).
 *
 * INDEX in 1..SNAP_MAX_INDEX and TERM >= 1, else SNAP_ERR_RANGE; LEN at
 * most SNAP_MAX_BODY, else SNAP_ERR_TOO_BIG. A snapshot with a higher index
 * already here: SNAP_ERR_STALE; the same index with another term:
 * SNAP_ERR_MISMATCH; the same index and term is replaced.
 *
 * On any error the caller must not compact its log on the strength of this
 * snapshot. The snapshots already here are intact and the tmp file is
 * removed; only when the final fsync of DIR/snap fails may the new file be
 * in place: it is whole, and loading it later is safe while the log still
 * holds what follows it. */
int snap_save(const char *dir, uint64_t index, uint64_t term, const void *body,
              size_t len, char *err, size_t errlen);

/* On start: load the newest snapshot in DIR/snap into *INFO and *BODY
 * (malloc'ed, LEN bytes, the caller frees it; never NULL when a snapshot is
 * found, even for an empty body). No snapshot (or no DIR/snap): returns 0
 * with INFO zeroed, *BODY NULL and *LEN 0.
 *
 * Leftover NAME.snap.tmp and recv.tmp files are removed first (saves and
 * receives that never completed): so never call this while a receive is
 * under way. The snapshot loaded is fsynced with DIR/snap before it is
 * returned (its rename may not have reached the disk before a crash).
 *
 * A newest snapshot that fails a check (size, magic, version, header
 * fields against its name, checksum) is refused with SNAP_ERR_CORRUPT and
 * its path in ERR. There is no fallback to the older snapshot: that is
 * safe only if the log still holds every entry after it, which only the
 * operator can know. On error *BODY is NULL and INFO zeroed. */
int snap_load_latest(const char *dir, struct snap_info *info, uint8_t **body,
                     size_t *len, char *err, size_t errlen);

/* Load the snapshot INDEX/TERM, as snap_load_latest() loads the newest
 * (checks, fsync, ownership), without touching other files. A missing one
 * is SNAP_ERR_NOT_FOUND. */
int snap_load(const char *dir, uint64_t index, uint64_t term,
              struct snap_info *info, uint8_t **body, size_t *len, char *err,
              size_t errlen);

/* Read up to MAX (>= 1) bytes of the snapshot file INDEX/TERM at OFFSET
 * into BUF: the raw file, header and checksum included, for a receiver to
 * verify whole. *N is the bytes read, *TOTAL the file's size, *LAST true
 * when the chunk ends the file. Opens and closes the file on each call.
 *
 * SNAP_ERR_NOT_FOUND when the file is gone (a newer snapshot pushed it out:
 * start again with the newest); SNAP_ERR_RANGE when OFFSET is past the end
 * or MAX is 0. */
int snap_read_chunk(const char *dir, uint64_t index, uint64_t term,
                    uint64_t offset, void *buf, size_t max, size_t *n,
                    bool *last, uint64_t *total, char *err, size_t errlen);

/* Open the snapshot file INDEX/TERM of DIR for a transfer: *FD stays
 * readable while the transfer lasts, even if a newer snapshot prunes the
 * file meanwhile; *SIZE is its size. The caller closes *FD. Errors as for
 * snap_read_chunk(); *FD is then -1. */
int snap_open_send(const char *dir, uint64_t index, uint64_t term, int *fd,
                   uint64_t *size, char *err, size_t errlen);

/* Read up to MAX bytes at OFFSET of a file opened by snap_open_send() of
 * SIZE bytes, as snap_read_chunk() does. */
int snap_read_fd(int fd, uint64_t size, uint64_t offset, void *buf, size_t max,
                 size_t *n, bool *last, char *err, size_t errlen);

struct snap_recv; /* a snapshot being received; opaque */

/* Start receiving the snapshot file INDEX/TERM into DIR/snap/recv.tmp,
 * created anew (a receive in progress in this dir is replaced: its own
 * finish then fails). Nothing is fsynced until snap_recv_finish().
 *
 * INDEX and TERM as for snap_save(), else SNAP_ERR_RANGE; SNAP_ERR_STALE or
 * SNAP_ERR_MISMATCH as for snap_save(), before any byte travels. On
 * success *OUT is the receive, ended by snap_recv_finish() or
 * snap_recv_abort(); on error *OUT is NULL. */
int snap_recv_open(const char *dir, uint64_t index, uint64_t term,
                   struct snap_recv **out, char *err, size_t errlen);

/* Take LEN bytes of the file at OFFSET, which must be
 * snap_recv_offset(R), else SNAP_ERR_OFFSET with the expected offset in
 * ERR (the sender resumes from there, or the caller aborts and reopens to
 * restart). The header is held in memory until it is whole, and checked
 * before anything is written: a bad one is SNAP_ERR_CORRUPT, another index
 * or term SNAP_ERR_MISMATCH, a body above SNAP_MAX_BODY SNAP_ERR_TOO_BIG.
 * Bytes past the end the header gives: SNAP_ERR_RANGE. On SNAP_ERR_IO (a
 * failed write) nothing was taken; the same offset may be written again.
 * On any error R's offset is unchanged. */
int snap_recv_write(struct snap_recv *r, uint64_t offset, const void *data,
                    size_t len, char *err, size_t errlen);

/* The offset the next snap_recv_write() must use: the bytes taken. */
uint64_t snap_recv_offset(const struct snap_recv *r);

/* The file's size once the header is in, else 0. */
uint64_t snap_recv_total(const struct snap_recv *r);

/* The snapshot R receives, as given to snap_recv_open(). */
uint64_t snap_recv_index(const struct snap_recv *r);
uint64_t snap_recv_term(const struct snap_recv *r);

/* End the receive: check that every byte arrived (SNAP_ERR_INCOMPLETE) and
 * that the checksum matches (SNAP_ERR_CORRUPT), that no newer snapshot
 * arrived meanwhile (SNAP_ERR_STALE) and that recv.tmp is still this
 * receive's; then fsync recv.tmp, rename it to NAME.snap, fsync DIR/snap
 * and delete all but the newest SNAP_KEEP snapshots. Returns 0 once the
 * snapshot is durable in place.
 *
 * Frees R whatever the outcome. On error recv.tmp is removed and nothing
 * was put in place (after a failed fsync of DIR/snap the rename may or may
 * not survive a crash; the previous snapshots are intact either way). */
int snap_recv_finish(struct snap_recv *r, char *err, size_t errlen);

/* Give up the receive: remove recv.tmp (if still R's) and free R. R may be
 * NULL. */
void snap_recv_abort(struct snap_recv *r);

#endif
