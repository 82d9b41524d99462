/* datadir.h - a daemon's data dir: created and locked for one process,
 * and whole files in it replaced durably and read back.
 *
 * Every daemon keeps its state in a dir of its own (raft: meta, the WAL,
 * snapshots; controller: assignments.json and the others; agent:
 * agent.json) and holds DIR/LOCK flock()ed while it runs, with its pid
 * written in it for the operator who finds the dir in use.
 *
 * A file is replaced whole: written to NAME.tmp, fsynced, renamed over
 * NAME, and DIR fsynced, so a crash leaves the old file or the new one. A
 * NAME.tmp is a save that never reached its rename: datadir_read()
 * removes it. Writes, syncs and renames go through sio.h, so that tests
 * can make them fail. Every refusal is one line in ERR naming the path.
 */
#ifndef VARDE_DATADIR_H
#define VARDE_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

#define DATADIR_PATH_MAX 4096 /* bytes in DIR/NAME.tmp, the NUL included */

/* Create DIR if missing (and its missing parents, mode 0700, each new
 * one's parent fsynced), take an exclusive lock on DIR/LOCK and write our
 * pid in it. Returns the lock's fd (close it to let go), or -1 with a
 * reason in ERR: "data dir DIR is in use by another process" when another
 * open file description holds the lock (*LOCKED, when LOCKED is not NULL,
 * then says so), else what failed. */
int datadir_lock(const char *dir, bool *locked, char *err, size_t errlen);

/* Replace DIR/NAME with the LEN bytes of DATA, durably (see above).
 * Returns 0 once the file and its directory entry are fsynced, or -1 with
 * a reason in ERR: DIR/NAME is then unchanged, except after a failed
 * fsync of DIR, when the new file may or may not survive a crash. */
int datadir_replace(const char *dir, const char *name, const void *data,
                    size_t len, char *err, size_t errlen);

/* Read DIR/NAME, at most MAX bytes, into a malloc'ed *OUT (*LEN bytes and
 * a NUL after them, the caller's to free), after removing a leftover
 * DIR/NAME.tmp. Returns 1 when read, 0 when DIR/NAME does not exist (*OUT
 * untouched), or -1 with a reason in ERR. */
int datadir_read(const char *dir, const char *name, size_t max, char **out,
                 size_t *len, char *err, size_t errlen);

#endif
