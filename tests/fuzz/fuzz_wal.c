/* fuzz_wal.c - libFuzzer target for WAL recovery: arbitrary bytes as
 * segment files must never crash wal_open(), and whatever it accepts must
 * reopen to the same entries and take an append.
 *
 * Input: one flags byte, then the segment bytes.
 *   bit 0  recompute the checksums (segment header, then each record as far
 *          as the lengths lead), so the fuzzer gets past them and reaches
 *          the index, term and tail rules
 *   bit 1  split the bytes into two segments at the offset in the next two
 *          bytes (little-endian, modulo the length)
 *   bit 2  each segment's bytes start with 8 bytes of first index (little-
 *          endian) from which the harness writes a valid header, so the
 *          bytes that follow are records
 * Each segment is named by the first index its header claims (bytes 8..15),
 * so that the name check is not the only thing reached.
 */
#include "storage/crc32c.h"
#include "storage/sio.h"
#include "storage/wal.h"
#include "util/log.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_SEG_HEADER 24
#define FUZZ_REC_HEADER 28

static char fuzz_data_dir[128];
static char fuzz_wal_dir[160];

static void fuzz_clean(void)
{
    DIR *d = opendir(fuzz_wal_dir);
    struct dirent *de;
    char path[512];

    if (d == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.') {
            snprintf(path, sizeof(path), "%s/%s", fuzz_wal_dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

static void fuzz_remove_all(void)
{
    fuzz_clean();
    rmdir(fuzz_wal_dir);
    rmdir(fuzz_data_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

    (void)argc;
    (void)argv;
    snprintf(fuzz_data_dir, sizeof(fuzz_data_dir), "%s/varde-fuzz-wal-XXXXXX",
             base);
    if (mkdtemp(fuzz_data_dir) == NULL) {
        abort();
    }
    snprintf(fuzz_wal_dir, sizeof(fuzz_wal_dir), "%s/wal", fuzz_data_dir);
    mkdir(fuzz_wal_dir, 0700);
    atexit(fuzz_remove_all);
    log_set_level((enum log_level)(LOG_ERROR + 1));
    return 0;
}

static uint32_t fuzz_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Make the checksums of segment bytes P (N bytes) right. */
static void fuzz_fix_crcs(uint8_t *p, size_t n)
{
    size_t off = FUZZ_SEG_HEADER;

    if (n < FUZZ_SEG_HEADER) {
        return;
    }
    sio_put_le32(p + 20, crc32c(0, p, 20));
    while (off + FUZZ_REC_HEADER <= n) {
        uint32_t len = fuzz_le32(p + off);
        uint32_t c;

        if (len > n - off - FUZZ_REC_HEADER) {
            break;
        }
        c = crc32c(0, p + off, 4);
        c = crc32c(c, p + off + 8, FUZZ_REC_HEADER - 8 + (size_t)len);
        sio_put_le32(p + off + 4, c);
        off += FUZZ_REC_HEADER + len;
    }
}

/* Write segment bytes P (N bytes) as a file, as FLAGS say. */
static void fuzz_write_segment(const uint8_t *p, size_t n, uint64_t dflt,
                               unsigned flags)
{
    uint8_t *copy = malloc(n + FUZZ_SEG_HEADER + 1);
    uint64_t first = dflt;
    char path[512];
    int fd;

    if ((flags & 4) && n >= 8) {
        sio_put_le32(copy, 0x4c415756u); /* "VWAL" */
        sio_put_le32(copy + 4, 1);
        memcpy(copy + 8, p, 8);
        sio_put_le32(copy + 16, 0);
        sio_put_le32(copy + 20, crc32c(0, copy, 20));
        memcpy(copy + FUZZ_SEG_HEADER, p + 8, n - 8);
        n += FUZZ_SEG_HEADER - 8;
    } else {
        memcpy(copy, p, n);
    }
    if (flags & 1) {
        fuzz_fix_crcs(copy, n);
    }
    if (n >= 16) {
        first = sio_get_le64(copy + 8);
    }
    snprintf(path, sizeof(path), "%s/%020llu.seg", fuzz_wal_dir,
             (unsigned long long)first);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, copy, n) != (ssize_t)n) {
        abort();
    }
    close(fd);
    free(copy);
}

static int fuzz_same(const struct wal_entries *a, const struct wal_entries *b)
{
    if (a->n != b->n || a->first_index != b->first_index ||
        a->last_index != b->last_index) {
        return 0;
    }
    for (size_t i = 0; i < a->n; i++) {
        const struct raft_entry *x = &a->entries[i], *y = &b->entries[i];

        if (x->term != y->term || x->index != y->index || x->type != y->type ||
            x->len != y->len ||
            (x->len > 0 && memcmp(x->data, y->data, x->len) != 0)) {
            return 0;
        }
    }
    return 1;
}

/* What recovery returned must be well-formed and stable. */
static void fuzz_check(const struct wal_entries *got)
{
    struct wal_entries again;
    struct raft_entry e = {.type = RAFT_ENTRY_NORMAL, .len = 3};
    struct wal *w;
    char err[512];

    if (got->last_index + 1 != got->first_index + got->n) {
        abort();
    }
    for (size_t i = 0; i < got->n; i++) {
        if (got->entries[i].index != got->first_index + i ||
            (i > 0 && got->entries[i].term < got->entries[i - 1].term)) {
            abort();
        }
    }
    if (wal_open(fuzz_data_dir, NULL, &w, &again, err, sizeof(err)) != 0 ||
        !fuzz_same(got, &again)) {
        fprintf(stderr, "reopen differs: %s\n", err);
        abort();
    }
    if (got->last_index >= WAL_MAX_INDEX) {
        wal_close(w);
        wal_entries_free(&again);
        return; /* the log is full: nothing more to append */
    }
    e.index = got->last_index + 1;
    e.term = got->n > 0 ? got->entries[got->n - 1].term : 1;
    e.data = (uint8_t *)"abc";
    if (wal_append(w, &e, 1, err, sizeof(err)) != 0 ||
        wal_sync(w, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "append after recovery: %s\n", err);
        abort();
    }
    wal_close(w);
    wal_entries_free(&again);
    if (wal_open(fuzz_data_dir, NULL, &w, &again, err, sizeof(err)) != 0 ||
        again.n != got->n + 1 || again.last_index != e.index) {
        fprintf(stderr, "reopen after append: %s\n", err);
        abort();
    }
    wal_close(w);
    wal_entries_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wal_entries got;
    struct wal *w;
    char err[512];
    uint8_t flags;

    if (size < 1 || size > (1u << 20)) {
        return 0;
    }
    flags = data[0];
    data++;
    size--;
    fuzz_clean();
    if ((flags & 2) && size >= 2) {
        size_t split = data[0] | (size_t)data[1] << 8;

        data += 2;
        size -= 2;
        split %= size + 1;
        fuzz_write_segment(data, split, 1, flags);
        fuzz_write_segment(data + split, size - split, 2, flags);
    } else {
        fuzz_write_segment(data, size, 1, flags);
    }
    if (wal_open(fuzz_data_dir, NULL, &w, &got, err, sizeof(err)) == 0) {
        wal_close(w);
        fuzz_check(&got);
        wal_entries_free(&got);
    }
    return 0;
}
