/* wal.h - the write-ahead log of Raft entries: checksummed segment files.
 *
 * The log lives in DIR/wal/ as segment files named by the index of their
 * first entry (00000000000000000001.seg). The format, the recovery rules and
 * the fsync order are described at the top of wal.c and in docs/storage.md.
 *
 * Use:
 *
 *   wal_open()            recover: verify every record, cut a torn tail,
 *                         hand back the entries
 *   wal_append() ...      buffered, not yet durable
 *   wal_sync()            one fdatasync for everything appended so far
 *                         (group commit); reports the last durable index
 *   wal_truncate_suffix() drop a conflicting suffix (durable on return)
 *   wal_truncate_prefix() drop whole segments a snapshot covers
 *   wal_reset()           start over at an index (after a snapshot install)
 *   wal_read()            read entries back (a leader sending entries
 *                         whose data its core released)
 *   wal_close()
 *
 * The caller holds the data dir's lock (meta_open()) while the log is open:
 * the wal takes no lock of its own.
 *
 * Every function that can fail returns 0 or a negative enum wal_error and
 * writes a one-line reason naming the file (and offset, for corruption) into
 * ERR (ERRLEN bytes, NUL-terminated when ERRLEN > 0).
 *
 * After an I/O error in append, sync or a truncation the log is failed: what
 * reached the disk is unknown (a failed fsync may have dropped dirty pages),
 * so every later call that writes returns WAL_ERR_IO. Close it and reopen
 * (normally: restart the node); recovery reads what is really on disk.
 *
 * Not thread-safe; one wal per data dir.
 */
#ifndef VARDE_WAL_H
#define VARDE_WAL_H

#include "raft/raft.h"

#include <stddef.h>
#include <stdint.h>

#define WAL_SEGMENT_SIZE_DEFAULT (64u << 20) /* 64 MiB */
#define WAL_SEGMENT_SIZE_MIN 4096u
#define WAL_SEGMENT_SIZE_MAX (1u << 30)     /* offsets within one fit 32 bits */
#define WAL_MAX_PAYLOAD (16u << 20)         /* bytes of data in one entry */
#define WAL_MAX_INDEX ((uint64_t)INT64_MAX) /* so that index + 1 is safe */

enum wal_error {
    WAL_OK = 0,
    WAL_ERR_IO = -1,      /* a system call failed, or the log failed before */
    WAL_ERR_CORRUPT = -2, /* a damaged record or segment before the tail */
    WAL_ERR_NOMEM = -3,
    WAL_ERR_RANGE = -4, /* an index or entry the log cannot take */
};

struct wal_options {
    /* Start a new segment when a record would take the current one past
     * this many bytes (a record larger than that gets a segment of its
     * own). Between WAL_SEGMENT_SIZE_MIN and WAL_SEGMENT_SIZE_MAX. */
    uint64_t segment_size;
};

/* Entries recovered by wal_open(). entries[i].index == first_index + i.
 * The caller owns the array and every entry's data; wal_entries_free(). */
struct wal_entries {
    struct raft_entry *entries;
    size_t n;
    uint64_t first_index; /* with n == 0: the index the next append takes */
    uint64_t last_index;  /* first_index + n - 1 */
};

struct wal; /* opaque */

/* Fill OPT with the defaults. */
void wal_options_init(struct wal_options *opt);

/* Open the log in DATA_DIR/wal (created if missing; DATA_DIR must exist)
 * with OPT (NULL: defaults), and recover it:
 *
 *  - every record of every segment is verified (checksum, index sequence,
 *    terms that never decrease, segments that follow one another);
 *  - a torn tail (a short or bad record at the end of the last segment,
 *    left by a crash before a sync completed) is cut with ftruncate and
 *    fsync, and logged with the file and offset;
 *  - damage anywhere else refuses to open: WAL_ERR_CORRUPT, with the file
 *    and offset in ERR;
 *  - what is recovered is fsynced before it is returned, so the caller may
 *    treat every recovered entry as durable.
 *
 * A fresh log recovers no entries, with first_index 1.
 *
 * On success *OUT is the open log (wal_close()) and *LOADED holds the
 * entries, owned by the caller. On error *OUT is NULL and *LOADED empty. */
int wal_open(const char *data_dir, const struct wal_options *opt,
             struct wal **out, struct wal_entries *loaded, char *err,
             size_t errlen);

/* Free what E holds and empty it. E may hold nothing. */
void wal_entries_free(struct wal_entries *e);

/* Append N entries. They are copied (the caller keeps ENTRIES) into a
 * buffer that is written out when it grows large, at wal_sync() and at a
 * segment rotation (which also syncs the segment it leaves). They are
 * durable only once wal_sync() reports an index at or past them.
 *
 * entries[0].index must be wal_last_index() + 1, indexes consecutive and at
 * most WAL_MAX_INDEX, terms never below the previous entry's, len at most
 * WAL_MAX_PAYLOAD (data not NULL when len > 0); otherwise
 * WAL_ERR_RANGE and nothing is appended. On WAL_ERR_IO the log is failed. */
int wal_append(struct wal *w, const struct raft_entry *entries, size_t n,
               char *err, size_t errlen);

/* Make every appended entry durable (write the buffer, fdatasync). On
 * success *DURABLE (if not NULL) is the last durable index, which is
 * wal_last_index(). On error the log is failed and *DURABLE is the index
 * durable before the call. */
int wal_sync(struct wal *w, uint64_t *durable, char *err, size_t errlen);

/* Drop every entry at FROM or after, durably before returning (appended
 * but unsynced entries before FROM become durable too). FROM must lie in
 * [wal_first_index(), wal_last_index() + 1]; the latter drops nothing. The
 * next append takes index FROM. */
int wal_truncate_suffix(struct wal *w, uint64_t from, char *err, size_t errlen);

/* Delete the segments all of whose entries are below UP_TO (a snapshot
 * covers them). The segment being appended to is never deleted, so entries
 * below UP_TO may stay on disk (the next wal_open() returns them); the log
 * forgets where they lie, so from now on it holds UP_TO on
 * (wal_first_index()): they cannot be read back or truncated to.
 * Crash-safe at any point: oldest segments go first. */
int wal_truncate_prefix(struct wal *w, uint64_t up_to, char *err,
                        size_t errlen);

/* Drop the whole log and start it again empty at NEXT (1..WAL_MAX_INDEX),
 * durably: the log reopens empty with first_index NEXT. Buffered entries
 * are dropped. A crash during the reset leaves a prefix of the old log,
 * possibly empty (first_index 1): a caller that resets after installing a
 * snapshot checks the log against the snapshot on start. */
int wal_reset(struct wal *w, uint64_t next, char *err, size_t errlen);

/* Read entries FIRST .. FIRST + N - 1 back from the log, appended durably
 * or not (unsynced ones come from the write buffer). Every record read is
 * checked: its length, checksum and padding, and that it holds the index
 * its place in the segment stands for. On success OUT[i] holds the index,
 * term, type and len of entry FIRST + i, and data (NULL when len is 0)
 * pointing into one buffer returned in *BUF: the caller frees *BUF once
 * done with OUT. The log is not changed, and a failed read does not fail
 * it. N 0 reads nothing (*BUF NULL).
 *
 * Errors (*BUF NULL): WAL_ERR_RANGE when the log does not hold them all:
 * entries before wal_first_index() are gone (wal_truncate_prefix(),
 * wal_reset()), entries past wal_last_index() were never appended.
 * WAL_ERR_CORRUPT when a record fails its checks, or a segment is shorter
 * than the records it held (the file and offset in ERR). WAL_ERR_IO when a
 * read fails or the log failed earlier; WAL_ERR_NOMEM. */
int wal_read(struct wal *w, uint64_t first, size_t n, struct raft_entry *out,
             uint8_t **buf, char *err, size_t errlen);

/* The first index held: readable and a valid wal_truncate_suffix() point
 * (the next to append when nothing is held). */
uint64_t wal_first_index(const struct wal *w);

/* The last index appended, durable or not (first_index - 1 when empty). */
uint64_t wal_last_index(const struct wal *w);

/* The last index known durable. */
uint64_t wal_durable_index(const struct wal *w);

/* Close W. Buffered entries not yet written are dropped and nothing is
 * synced: call wal_sync() first to keep them. W may be NULL. */
void wal_close(struct wal *w);

#endif
