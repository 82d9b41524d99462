/* fuzz_snap.c - libFuzzer target for snapshot files: arbitrary bytes as a
 * .snap file must never crash the loader, and the loader and the chunked
 * receiver must agree on them.
 *
 * Input: a flags byte, a chunk-size byte, then the file's bytes.
 *   bit 0  set the body length in the header to what the file holds
 *   bit 1  recompute the header checksum and the trailing checksum, so the
 *          fuzzer gets past them to the fields and sizes
 *   bit 2  name the file by the index and term its header claims (else
 *          1-1), so that more than the name check is reached
 *   bit 3  add a valid snapshot 1/1 and leftover tmp files beside it
 * The chunk-size byte (0: all at once) is how the same bytes are fed to
 * snap_recv_write().
 *
 * Checks: whatever snap_load() accepts has the header's fields, the file's
 * body byte for byte, and reads back through snap_read_chunk(); the
 * receiver accepts the bytes exactly when the loader accepts the file, and
 * what it puts in place loads the same.
 */
#include "storage/crc32c.h"
#include "storage/sio.h"
#include "storage/snap.h"
#include "util/log.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_HDR SNAP_HEADER_SIZE
#define FUZZ_OVERHEAD (SNAP_HEADER_SIZE + SNAP_TRAILER_SIZE)

static char fuzz_root[128];
static char fuzz_dir[160];  /* where the file is loaded from */
static char fuzz_rdir[160]; /* where it is received into */

static void fuzz_clean_one(const char *dir)
{
    char sdir[256], path[600];
    struct dirent *de;
    DIR *d;

    snprintf(sdir, sizeof(sdir), "%s/snap", dir);
    d = opendir(sdir);
    if (d == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.') {
            snprintf(path, sizeof(path), "%s/%s", sdir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

static void fuzz_remove_all(void)
{
    char sdir[256];

    fuzz_clean_one(fuzz_dir);
    fuzz_clean_one(fuzz_rdir);
    snprintf(sdir, sizeof(sdir), "%s/snap", fuzz_dir);
    rmdir(sdir);
    snprintf(sdir, sizeof(sdir), "%s/snap", fuzz_rdir);
    rmdir(sdir);
    rmdir(fuzz_dir);
    rmdir(fuzz_rdir);
    rmdir(fuzz_root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    char sdir[256];

    (void)argc;
    (void)argv;
    snprintf(fuzz_root, sizeof(fuzz_root), "%s/varde-fuzz-snap-XXXXXX", base);
    if (mkdtemp(fuzz_root) == NULL) {
        abort();
    }
    snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/load", fuzz_root);
    snprintf(fuzz_rdir, sizeof(fuzz_rdir), "%s/recv", fuzz_root);
    mkdir(fuzz_dir, 0700);
    mkdir(fuzz_rdir, 0700);
    snprintf(sdir, sizeof(sdir), "%s/snap", fuzz_dir);
    mkdir(sdir, 0700);
    atexit(fuzz_remove_all);
    log_set_level((enum log_level)(LOG_ERROR + 1));
    return 0;
}

static void fuzz_write(const char *name, const void *p, size_t n)
{
    char path[600];
    int fd;

    snprintf(path, sizeof(path), "%s/snap/%s", fuzz_dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (n > 0 && write(fd, p, n) != (ssize_t)n)) {
        abort();
    }
    close(fd);
}

/* Apply FLAGS bits 0 and 1 to the file bytes F (N bytes). */
static void fuzz_fix(uint8_t *f, size_t n, unsigned flags)
{
    if ((flags & 1) && n >= FUZZ_OVERHEAD) {
        sio_put_le64(f + 24, n - FUZZ_OVERHEAD);
    }
    if ((flags & 2) && n >= FUZZ_HDR) {
        sio_put_le32(f + 36, crc32c(0, f, 36));
    }
    if ((flags & 2) && n >= FUZZ_OVERHEAD) {
        sio_put_le32(f + n - 4, crc32c(0, f, n - 4));
    }
}

/* A valid snapshot 1/1 and leftovers, written before the file under test
 * (which may replace it, if it is named 1/1 too). */
static void fuzz_neighbours(void)
{
    static const uint8_t body[3] = {1, 2, 3};
    char err[256];

    if (snap_save(fuzz_dir, 1, 1, body, sizeof(body), err, sizeof(err)) != 0) {
        fprintf(stderr, "save 1/1: %s\n", err);
        abort();
    }
    fuzz_write("recv.tmp", body, sizeof(body));
    fuzz_write("00000000000000000009-00000000000000000001.snap.tmp", body, 1);
}

/* Feed F (N bytes) to a receive of ID in chunks of CHUNK. 0 when it is
 * put in place. */
static int fuzz_receive(const uint8_t *f, size_t n, uint64_t index,
                        uint64_t term, size_t chunk)
{
    struct snap_recv *r;
    char err[512];
    size_t off = 0;

    fuzz_clean_one(fuzz_rdir);
    if (snap_recv_open(fuzz_rdir, index, term, &r, err, sizeof(err)) != 0) {
        return -1;
    }
    while (off < n) {
        size_t k = n - off < chunk ? n - off : chunk;

        if (snap_recv_write(r, off, f + off, k, err, sizeof(err)) != 0) {
            snap_recv_abort(r);
            return -1;
        }
        off += k;
    }
    return snap_recv_finish(r, err, sizeof(err));
}

/* What snap_load() accepted from F (N bytes) is what the file says. */
static void fuzz_check_loaded(const uint8_t *f, size_t n,
                              const struct snap_info *info, const uint8_t *body,
                              size_t len)
{
    uint8_t buf[97];
    uint64_t off = 0, total;
    size_t got;
    bool last = false;
    char err[512];

    if (info->file_size != n || len != n - FUZZ_OVERHEAD ||
        info->body_len != len || sio_get_le64(f + 8) != info->index ||
        sio_get_le64(f + 16) != info->term ||
        memcmp(body, f + FUZZ_HDR, len) != 0) {
        abort();
    }
    while (!last) {
        if (snap_read_chunk(fuzz_dir, info->index, info->term, off, buf,
                            sizeof(buf), &got, &last, &total, err,
                            sizeof(err)) != 0 ||
            total != n || memcmp(buf, f + off, got) != 0) {
            fprintf(stderr, "read back: %s\n", err);
            abort();
        }
        off += got;
    }
}

/* The receiver put F in place: it loads the same from there. */
static void fuzz_check_received(uint64_t index, uint64_t term,
                                const uint8_t *body, size_t len)
{
    struct snap_info info;
    uint8_t *again;
    size_t n;
    char err[512];

    if (snap_load_latest(fuzz_rdir, &info, &again, &n, err, sizeof(err)) != 0 ||
        info.index != index || info.term != term || n != len ||
        memcmp(again, body, len) != 0) {
        fprintf(stderr, "received file loads differently: %s\n", err);
        abort();
    }
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct snap_info info;
    uint64_t index = 1, term = 1;
    uint8_t *f, *body;
    size_t n, len, chunk;
    char name[64], err[1024];
    unsigned flags;
    int loaded, received;

    if (size < 2 || size > (1u << 20)) {
        return 0;
    }
    flags = data[0];
    chunk = data[1] ? data[1] : size;
    n = size - 2;
    f = malloc(n + 1);
    memcpy(f, data + 2, n);
    fuzz_fix(f, n, flags);
    if ((flags & 4) && n >= 24) {
        index = sio_get_le64(f + 8);
        term = sio_get_le64(f + 16);
    }

    fuzz_clean_one(fuzz_dir);
    if (flags & 8) {
        fuzz_neighbours();
    }
    snprintf(name, sizeof(name), "%020llu-%020llu.snap",
             (unsigned long long)index, (unsigned long long)term);
    fuzz_write(name, f, n);

    /* The newest must load or be refused, never crash. */
    if (snap_load_latest(fuzz_dir, &info, &body, &len, err, sizeof(err)) == 0) {
        free(body);
    }
    loaded = snap_load(fuzz_dir, index, term, &info, &body, &len, err,
                       sizeof(err)) == 0;
    if (loaded) {
        fuzz_check_loaded(f, n, &info, body, len);
    }
    received = fuzz_receive(f, n, index, term, chunk) == 0;
    if (received != loaded) {
        fprintf(stderr, "loader %s, receiver %s: %s\n",
                loaded ? "accepts" : "refuses",
                received ? "accepts" : "refuses", err);
        abort();
    }
    if (received) {
        fuzz_check_received(index, term, body, len);
    }
    free(body);
    free(f);
    return 0;
}
