/* sio.h - the storage layer's system calls, with a fault injector for tests.
 *
 * meta.c and wal.c write, sync, truncate and rename only through these
 * wrappers. In production they are the plain system calls. A test arms a
 * fault with sio_fault_set(): "fail the Nth call of this kind from now on,
 * and the M-1 calls after it, with errno E". An injected write failure
 * first writes half of the buffer, like a disk that fills up mid-write.
 *
 * The fault state is process-global and not thread-safe: the storage layer
 * runs on the daemon's one event-loop thread, and tests are single-threaded.
 */
#ifndef VARDE_SIO_H
#define VARDE_SIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum sio_op {
    SIO_WRITE = 0, /* sio_write_all, sio_pwrite_all */
    SIO_FSYNC,     /* sio_fsync, sio_fdatasync */
    SIO_FTRUNCATE, /* sio_ftruncate */
    SIO_RENAME,    /* sio_rename */
    SIO_N_OPS,
};

/* Arm a fault on OP: counting calls of that kind from now, calls NTH
 * (1-based) to NTH + TIMES - 1 fail with errno ERR. Resets OP's counter.
 * TIMES 0 disarms OP. */
void sio_fault_set(enum sio_op op, unsigned nth, unsigned times, int err);

/* Disarm every fault and reset every counter. */
void sio_fault_clear(void);

/* Calls of kind OP since the last sio_fault_set(OP) or sio_fault_clear(),
 * failed ones included. */
unsigned sio_calls(enum sio_op op);

/* Write all LEN bytes of BUF to FD at its offset, retrying short writes and
 * EINTR. Returns 0, or -1 with errno set (some bytes may have been written). */
int sio_write_all(int fd, const void *buf, size_t len);

/* The same at offset OFF (pwrite); FD's offset is unchanged. */
int sio_pwrite_all(int fd, const void *buf, size_t len, off_t off);

/* fsync(2) and fdatasync(2), retried on EINTR. 0 or -1 with errno. */
int sio_fsync(int fd);
int sio_fdatasync(int fd);

/* ftruncate(2). 0 or -1 with errno. */
int sio_ftruncate(int fd, off_t len);

/* rename(2). 0 or -1 with errno. */
int sio_rename(const char *from, const char *to);

/* Read up to LEN bytes from FD at offset OFF, retrying short reads and
 * EINTR until LEN bytes or end of file. Returns the bytes read, or -1 with
 * errno. Not fault-injected: reads are checked by checksums instead. */
ssize_t sio_pread_full(int fd, void *buf, size_t len, off_t off);

/* fsync the directory DIR, so that creations, renames and unlinks in it are
 * durable. Counts as an SIO_FSYNC. 0 or -1 with errno. */
int sio_fsync_dir(const char *dir);

/* Little-endian encoding of the on-disk integers. */
void sio_put_le32(uint8_t *p, uint32_t v);
void sio_put_le64(uint8_t *p, uint64_t v);
uint32_t sio_get_le32(const uint8_t *p);
uint64_t sio_get_le64(const uint8_t *p);

#endif
