/* meta.c - term and vote in DIR/meta: two slots, overwritten in turn.
 *
 * DIR/meta is 1024 bytes: slot 0 at offset 0, slot 1 at offset 512. A slot
 * (all integers little-endian):
 *
 *   0  u32 magic    0x4154454d ("META" as bytes on disk)
 *   4  u32 version  2
 *   8  u64 seq      the save's sequence number
 *  16  u64 term
 *  24  u64 vote     0: no vote in this term
 *  32  ...          zeros up to byte 507
 * 508  u32 crc      CRC32C of bytes 0..507
 *
 * A save pwrite()s the slot the last save did not use, with seq + 1, and
 * fdatasync()s it: one sync. The other slot still holds the last
 * acknowledged state, so a save torn by a crash leaves an invalid slot
 * next to a valid one, and load takes the valid slot with the highest seq.
 * Both slots invalid is corruption and stops the node: the only safe repair
 * is an operator's. Seq is 64 bits: at a million saves a second it wraps
 * after half a million years, so wrapping is not handled.
 *
 * The file is created once, on first open, by tmp + fsync + rename + dir
 * fsync (datadir_replace()), so it always has its full size and a valid
 * slot. A 28-byte file in
 * the old format (version 1, one record replaced by rename) is converted
 * the same way on open.
 */
#include "storage/meta.h"
#include "util/err.h"
#include "util/log.h"

#include "storage/crc32c.h"
#include "storage/datadir.h"
#include "storage/sio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define META_MAGIC 0x4154454du /* "META" */
#define META_VERSION 2u
#define META_SLOT_SIZE 512
#define META_FILE_SIZE (2 * META_SLOT_SIZE)
#define META_CRC_OFF (META_SLOT_SIZE - 4)
#define META_V1_VERSION                                                        \
    1u /* the old format: one record, replaced by rename                       \
        */
#define META_V1_SIZE 28

struct meta_store {
    char *dir;
    char *meta_path; /* DIR/meta */
    char *tmp_path;  /* DIR/meta.tmp */
    int lock_fd;     /* DIR/LOCK, flock()ed */
    int fd;          /* DIR/meta, open for the saves */
    int slot;        /* the slot holding the last saved state: 0 or 1 */
    uint64_t seq;    /* its sequence number */
};

static char *meta_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p != NULL) {
        snprintf(p, n, "%s/%s", dir, name);
    }
    return p;
}

static void meta_encode_slot(uint8_t slot[META_SLOT_SIZE], uint64_t seq,
                             const struct raft_hard_state *hs)
{
    memset(slot, 0, META_SLOT_SIZE);
    sio_put_le32(slot, META_MAGIC);
    sio_put_le32(slot + 4, META_VERSION);
    sio_put_le64(slot + 8, seq);
    sio_put_le64(slot + 16, hs->term);
    sio_put_le64(slot + 24, hs->vote);
    sio_put_le32(slot + META_CRC_OFF, crc32c(0, slot, META_CRC_OFF));
}

/* Decode SLOT into *SEQ and HS. Returns 0; 1 when the slot is torn or
 * corrupt (bad magic or checksum: a save that never returned, if the other
 * slot is valid); or -1 with ERR set for a whole slot of an unknown
 * version, which is a file this code must not touch. */
static int meta_decode_slot(const uint8_t *slot, const char *path,
                            uint64_t *seq, struct raft_hard_state *hs,
                            char *err, size_t errlen)
{
    uint32_t version;

    if (sio_get_le32(slot) != META_MAGIC ||
        sio_get_le32(slot + META_CRC_OFF) != crc32c(0, slot, META_CRC_OFF)) {
        return 1;
    }
    version = sio_get_le32(slot + 4);
    if (version != META_VERSION) {
        return err_fail(err, errlen,
                        "%s: format version %u not supported (want %u)", path,
                        (unsigned)version, META_VERSION);
    }
    *seq = sio_get_le64(slot + 8);
    hs->term = sio_get_le64(slot + 16);
    hs->vote = sio_get_le64(slot + 24);
    return 0;
}

/* Pick the valid slot of FILE with the highest seq into M and HS. */
static int meta_decode(struct meta_store *m, const uint8_t *file,
                       struct raft_hard_state *hs, char *err, size_t errlen)
{
    struct raft_hard_state got[2];
    uint64_t seq[2];
    int rc[2];

    for (int i = 0; i < 2; i++) {
        rc[i] = meta_decode_slot(file + i * META_SLOT_SIZE, m->meta_path,
                                 &seq[i], &got[i], err, errlen);
        if (rc[i] < 0) {
            return -1;
        }
    }
    if (rc[0] != 0 && rc[1] != 0) {
        return err_fail(err, errlen,
                        "%s: corrupt: no valid slot (both fail their "
                        "magic or checksum)",
                        m->meta_path);
    }
    m->slot = rc[0] != 0 || (rc[1] == 0 && seq[1] > seq[0]) ? 1 : 0;
    m->seq = seq[m->slot];
    *hs = got[m->slot];
    return 0;
}

/* Decode a file of the old format (one 28-byte record, version 1) into HS.
 * Returns 1 when FILE does not even start like one. */
static int meta_decode_v1(const uint8_t *file, const char *path,
                          struct raft_hard_state *hs, char *err, size_t errlen)
{
    if (sio_get_le32(file) != META_MAGIC ||
        sio_get_le32(file + 4) != META_V1_VERSION) {
        return 1;
    }
    if (sio_get_le32(file + 24) != crc32c(0, file, 24)) {
        return err_fail(err, errlen,
                        "%s: corrupt: checksum mismatch (old format, "
                        "version 1)",
                        path);
    }
    hs->term = sio_get_le64(file + 8);
    hs->vote = sio_get_le64(file + 16);
    return 0;
}

/* Write a whole new DIR/meta holding HS in both slots (seq 0 and 1) by
 * tmp + fsync + rename + dir fsync, and open it into M. */
static int meta_create(struct meta_store *m, const struct raft_hard_state *hs,
                       char *err, size_t errlen)
{
    uint8_t file[META_FILE_SIZE];

    meta_encode_slot(file, 0, hs);
    meta_encode_slot(file + META_SLOT_SIZE, 1, hs);
    if (datadir_replace(m->dir, "meta", file, sizeof(file), err, errlen) < 0) {
        return -1;
    }
    if (m->fd >= 0) {
        close(m->fd);
    }
    m->fd = open(m->meta_path, O_RDWR | O_CLOEXEC);
    if (m->fd < 0) {
        return err_fail(err, errlen, "open %s: %s", m->meta_path,
                        strerror(errno));
    }
    m->slot = 1;
    m->seq = 1;
    return 0;
}

/* Decode the N bytes of FILE read from DIR/meta into M and HS, converting a
 * file of the old format. */
static int meta_parse(struct meta_store *m, const uint8_t *file, size_t n,
                      struct raft_hard_state *hs, char *err, size_t errlen)
{
    int rc;

    if (n == META_V1_SIZE) {
        rc = meta_decode_v1(file, m->meta_path, hs, err, errlen);
        if (rc < 0) {
            return META_ERR_CORRUPT;
        }
        if (rc == 0) {
            log_info("meta",
                     "%s is in the old format (version 1) -> "
                     "rewriting it in version %u",
                     m->meta_path, META_VERSION);
            return meta_create(m, hs, err, errlen) < 0 ? META_ERR_IO : META_OK;
        }
    }
    if (n != META_FILE_SIZE) {
        err_fail(err, errlen, "%s: corrupt: %s (%zu bytes, the file is %d)",
                 m->meta_path,
                 n < META_FILE_SIZE ? "truncated" : "trailing bytes", n,
                 META_FILE_SIZE);
        return META_ERR_CORRUPT;
    }
    return meta_decode(m, file, hs, err, errlen) < 0 ? META_ERR_CORRUPT
                                                     : META_OK;
}

/* Read DIR/meta into HS, creating it with zeros when it does not exist. */
static int meta_read(struct meta_store *m, struct raft_hard_state *hs,
                     char *err, size_t errlen)
{
    uint8_t file[META_FILE_SIZE + 1];
    ssize_t n;
    int rc;

    memset(hs, 0, sizeof(*hs));
    m->fd = open(m->meta_path, O_RDWR | O_CLOEXEC);
    if (m->fd < 0 && errno == ENOENT) {
        return meta_create(m, hs, err, errlen) < 0 ? META_ERR_IO : META_OK;
    }
    if (m->fd < 0) {
        err_fail(err, errlen, "open %s: %s", m->meta_path, strerror(errno));
        return META_ERR_IO;
    }
    n = sio_pread_full(m->fd, file, sizeof(file), 0);
    if (n < 0) {
        err_fail(err, errlen, "read %s: %s", m->meta_path, strerror(errno));
        return META_ERR_IO;
    }

    /* After a process crash the slot may sit in the page cache only (a
     * save that wrote but never returned, or a creation whose rename was
     * never fsynced): make it durable before the node acts on it, or a
     * power cut could undo a vote it then sends. */
    if (sio_fsync(m->fd) < 0 || sio_fsync_dir(m->dir) < 0) {
        err_fail(err, errlen, "fsync %s: %s", m->meta_path, strerror(errno));
        return META_ERR_IO;
    }
    rc = meta_parse(m, file, (size_t)n, hs, err, errlen);
    if (rc < 0) {
        memset(hs, 0, sizeof(*hs));
    }
    return rc;
}

static struct meta_store *meta_alloc(const char *dir)
{
    struct meta_store *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        return NULL;
    }
    m->lock_fd = -1;
    m->fd = -1;
    m->dir = strdup(dir);
    m->meta_path = meta_join(dir, "meta");
    m->tmp_path = meta_join(dir, "meta.tmp");
    if (m->dir == NULL || m->meta_path == NULL || m->tmp_path == NULL) {
        meta_close(m);
        return NULL;
    }
    return m;
}

int meta_open(const char *dir, struct meta_store **out,
              struct raft_hard_state *restored, char *err, size_t errlen)
{
    struct meta_store *m;
    bool locked;
    int rc;

    *out = NULL;
    memset(restored, 0, sizeof(*restored));
    m = meta_alloc(dir);
    if (m == NULL) {
        err_fail(err, errlen, "out of memory");
        return META_ERR_NOMEM;
    }
    m->lock_fd = datadir_lock(dir, &locked, err, errlen);
    if (m->lock_fd < 0) {
        meta_close(m);
        return locked ? META_ERR_LOCKED : META_ERR_IO;
    }

    /* A meta.tmp is a creation that never reached its rename: nothing was
     * acknowledged on the strength of it. */
    if (unlink(m->tmp_path) < 0 && errno != ENOENT) {
        err_fail(err, errlen, "remove %s: %s", m->tmp_path, strerror(errno));
        meta_close(m);
        return META_ERR_IO;
    }
    rc = meta_read(m, restored, err, errlen);
    if (rc < 0) {
        memset(restored, 0, sizeof(*restored));
        meta_close(m);
        return rc;
    }
    *out = m;
    return META_OK;
}

int meta_save(struct meta_store *m, const struct raft_hard_state *hs, char *err,
              size_t errlen)
{
    uint8_t slot[META_SLOT_SIZE];
    int next = 1 - m->slot;

    /* Only on success does the written slot become the current one: after
     * a failure the next save overwrites the same slot again, and the other
     * keeps the last acknowledged state. */
    meta_encode_slot(slot, m->seq + 1, hs);
    if (sio_pwrite_all(m->fd, slot, sizeof(slot),
                       (off_t)next * META_SLOT_SIZE) < 0) {
        err_fail(err, errlen, "write %s: %s", m->meta_path, strerror(errno));
        return META_ERR_IO;
    }
    if (sio_fdatasync(m->fd) < 0) {
        err_fail(err, errlen, "fdatasync %s: %s", m->meta_path,
                 strerror(errno));
        return META_ERR_IO;
    }
    m->slot = next;
    m->seq++;
    return META_OK;
}

const char *meta_dir(const struct meta_store *m)
{
    return m->dir;
}

void meta_close(struct meta_store *m)
{
    if (m == NULL) {
        return;
    }
    if (m->fd >= 0) {
        close(m->fd);
    }
    if (m->lock_fd >= 0) {
        close(m->lock_fd); /* releases the flock */
    }
    free(m->dir);
    free(m->meta_path);
    free(m->tmp_path);
    free(m);
}
