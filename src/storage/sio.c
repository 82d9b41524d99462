/* sio.c - fault-injectable write, sync, truncate and rename. */
#include "storage/sio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

struct sio_fault {
    unsigned calls; /* calls since armed */
    unsigned nth;   /* first failing call, 1-based */
    unsigned times; /* failing calls from nth on; 0: disarmed */
    int err;
};

static struct sio_fault sio_faults[SIO_N_OPS];

void sio_fault_set(enum sio_op op, unsigned nth, unsigned times, int err)
{
    sio_faults[op].calls = 0;
    sio_faults[op].nth = nth;
    sio_faults[op].times = times;
    sio_faults[op].err = err;
}

void sio_fault_clear(void)
{
    for (int op = 0; op < SIO_N_OPS; op++) {
        sio_fault_set((enum sio_op)op, 0, 0, 0);
    }
}

unsigned sio_calls(enum sio_op op)
{
    return sio_faults[op].calls;
}

/* Count a call of kind OP; return the errno to inject, or 0. */
static int sio_fault_hit(enum sio_op op)
{
    struct sio_fault *f = &sio_faults[op];

    f->calls++;
    if (f->times > 0 && f->calls >= f->nth && f->calls - f->nth < f->times) {
        return f->err ? f->err : EIO;
    }
    return 0;
}

static int sio_write_loop(int fd, const uint8_t *p, size_t len, off_t off,
                          int positional)
{
    while (len > 0) {
        ssize_t w = positional ? pwrite(fd, p, len, off) : write(fd, p, len);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
        off += w;
    }
    return 0;
}

static int sio_write_common(int fd, const void *buf, size_t len, off_t off,
                            int positional)
{
    int inject = sio_fault_hit(SIO_WRITE);

    if (inject) {
        /* A disk that fills up mid-write: half lands, then an error. */
        if (sio_write_loop(fd, buf, len / 2, off, positional) == 0) {
            errno = inject;
        }
        return -1;
    }
    return sio_write_loop(fd, buf, len, off, positional);
}

int sio_write_all(int fd, const void *buf, size_t len)
{
    return sio_write_common(fd, buf, len, 0, 0);
}

int sio_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    return sio_write_common(fd, buf, len, off, 1);
}

static int sio_sync_common(int fd, int data_only)
{
    int inject = sio_fault_hit(SIO_FSYNC);
    int rc;

    if (inject) {
        errno = inject;
        return -1;
    }
    do {
        rc = data_only ? fdatasync(fd) : fsync(fd);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

int sio_fsync(int fd)
{
    return sio_sync_common(fd, 0);
}

int sio_fdatasync(int fd)
{
    return sio_sync_common(fd, 1);
}

int sio_ftruncate(int fd, off_t len)
{
    int inject = sio_fault_hit(SIO_FTRUNCATE);

    if (inject) {
        errno = inject;
        return -1;
    }
    return ftruncate(fd, len);
}

int sio_rename(const char *from, const char *to)
{
    int inject = sio_fault_hit(SIO_RENAME);

    if (inject) {
        errno = inject;
        return -1;
    }
    return rename(from, to);
}

ssize_t sio_pread_full(int fd, void *buf, size_t len, off_t off)
{
    uint8_t *p = buf;
    size_t got = 0;

    while (got < len) {
        ssize_t r = pread(fd, p + got, len - got, off + (off_t)got);

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return -1;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int sio_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc, saved;

    if (fd < 0) {
        return -1;
    }
    rc = sio_fsync(fd);
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

void sio_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

void sio_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

uint32_t sio_get_le32(const uint8_t *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

uint64_t sio_get_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}
