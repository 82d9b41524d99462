/* meta.h - the durable hard state (term, vote) of a raft node in its data dir.
 *
 * A data dir holds:
 *
 *   DIR/LOCK      flock()ed for as long as the store is open: one node per dir
 *   DIR/meta      the hard state: two checksummed slots, written in turn
 *   DIR/meta.tmp  DIR/meta being created; ignored (and removed) on open
 *
 * The slot format and the sync order are described in docs/storage.md.
 * A meta file that exists but holds no valid slot is an error, never a
 * silent "term 0, no vote": that would let the node vote twice in one term.
 *
 * Every function returns 0 on success or a negative enum meta_error, and on
 * error writes a one-line reason naming the file into ERR (ERRLEN bytes,
 * always NUL-terminated when ERRLEN > 0).
 */
#ifndef VARDE_META_H
#define VARDE_META_H

#include "raft/raft.h"

#include <stddef.h>

enum meta_error {
    META_OK = 0,
    META_ERR_IO = -1,      /* a system call failed (errno text in ERR) */
    META_ERR_LOCKED = -2,  /* another process holds the data dir */
    META_ERR_CORRUPT = -3, /* DIR/meta exists but is not a valid record */
    META_ERR_NOMEM = -4,
};

struct meta_store; /* opaque */

/* Open the data dir DIR: create it (and missing parents, mode 0700) if
 * missing, take an exclusive lock on DIR/LOCK, and read DIR/meta into
 * *RESTORED (zeros when the file does not exist: a fresh node, whose
 * DIR/meta is then created durably). A 28-byte DIR/meta of the old format
 * (version 1) is converted to the current one.
 *
 * The lock is an flock() on an open file description, so a second
 * meta_open() of the same dir fails even within the same process, with
 * META_ERR_LOCKED and "data dir DIR is in use by another process".
 *
 * A restored state is fsynced (file and dir) before meta_open() returns:
 * it may be a save whose process died before its own fdatasync.
 *
 * On success *OUT is a new store the caller frees with meta_close(); on error
 * *OUT is NULL, *RESTORED is zeroed and nothing stays locked. */
int meta_open(const char *dir, struct meta_store **out,
              struct raft_hard_state *restored, char *err, size_t errlen);

/* Make HS the durable hard state. Returns only once it is on disk: writes
 * into the slot of DIR/meta the last save did not use and fdatasyncs it: one
 * sync. A crash at any point leaves the old or the new state loadable.
 *
 * On error the state on disk is the old one or the new one, and the caller
 * must not act on HS (send no vote that depends on it). Retrying is allowed,
 * but after a failed fsync the safest course is to stop the node. */
int meta_save(struct meta_store *m, const struct raft_hard_state *hs, char *err,
              size_t errlen);

/* The dir this store was opened on (owned by the store). */
const char *meta_dir(const struct meta_store *m);

/* Release the lock and free M. M may be NULL. */
void meta_close(struct meta_store *m);

#endif
