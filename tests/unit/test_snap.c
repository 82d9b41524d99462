/* test_snap.c - snapshot files: round trips, the newest two kept, leftovers
 * removed, corruption refused with the file's name, chunked transfer with
 * its checks, and injected write, fsync and rename failures. */
#include "storage/crc32c.h"
#include "storage/sio.h"
#include "storage/snap.h"
#include "util/log.h"

#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_OVERHEAD (SNAP_HEADER_SIZE + SNAP_TRAILER_SIZE)

static char test_root[256];
static int test_seq;

/* ---- helpers ----------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new, existing, empty data dir (the paths are kept in a ring, so that a
 * test can hold several at once). */
static const char *fresh_dir(void)
{
    static char paths[16][512];
    char *path = paths[test_seq % 16];

    snprintf(path, 512, "%s/d%d", test_root, ++test_seq);
    mkdir(path, 0700);
    return path;
}

/* DIR/snap/NAME for snapshot INDEX/TERM, in a static buffer of a ring. */
static const char *snap_path(const char *dir, uint64_t index, uint64_t term)
{
    static char paths[4][700];
    static int next;
    char *p = paths[next++ % 4];

    snprintf(p, 700, "%s/snap/%020llu-%020llu.snap", dir,
             (unsigned long long)index, (unsigned long long)term);
    return p;
}

/* LEN bytes that depend on SEED and position. */
static uint8_t *make_body(size_t len, uint32_t seed)
{
    uint8_t *b = malloc(len ? len : 1);
    uint32_t x = seed * 2654435761u + 1;

    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
    return b;
}

static int save_body(const char *dir, uint64_t index, uint64_t term, size_t len,
                     uint32_t seed)
{
    uint8_t *b = make_body(len, seed);
    char err[512];
    int rc = snap_save(dir, index, term, b, len, err, sizeof(err));

    if (rc != 0) {
        fprintf(stderr, "snap_save: %s\n", err);
    }
    free(b);
    return rc;
}

/* The newest snapshot in DIR is INDEX/TERM with the body save_body() made
 * from LEN and SEED. */
static int latest_is(const char *dir, uint64_t index, uint64_t term, size_t len,
                     uint32_t seed)
{
    struct snap_info info;
    uint8_t *body, *want = make_body(len, seed);
    size_t n;
    char err[512];
    int ok;

    if (snap_load_latest(dir, &info, &body, &n, err, sizeof(err)) != 0) {
        fprintf(stderr, "snap_load_latest: %s\n", err);
        free(want);
        return 0;
    }
    ok = info.index == index && info.term == term && n == len &&
         info.body_len == len && info.file_size == len + FILE_OVERHEAD &&
         body != NULL && memcmp(body, want, len) == 0;
    if (!ok) {
        fprintf(stderr, "latest is %llu/%llu (%zu bytes), want %llu/%llu\n",
                (unsigned long long)info.index, (unsigned long long)info.term,
                n, (unsigned long long)index, (unsigned long long)term);
    }
    free(body);
    free(want);
    return ok;
}

/* Entries in DIR/snap; those ending in .snap in *SNAPS. */
static int count_files(const char *dir, int *snaps)
{
    char sdir[600];
    DIR *d;
    struct dirent *de;
    int n = 0;

    *snaps = 0;
    snprintf(sdir, sizeof(sdir), "%s/snap", dir);
    d = opendir(sdir);
    if (d == NULL) {
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);

        if (de->d_name[0] == '.') {
            continue;
        }
        n++;
        if (len > 5 && strcmp(de->d_name + len - 5, ".snap") == 0) {
            (*snaps)++;
        }
    }
    closedir(d);
    return n;
}

static int exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static long long file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void write_file(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd >= 0) {
        if (write(fd, buf, len) != (ssize_t)len) {
            fprintf(stderr, "short write to %s\n", path);
        }
        close(fd);
    }
}

/* The whole file at PATH, malloc'ed, size in *LEN. */
static uint8_t *read_whole(const char *path, size_t *len)
{
    long long size = file_size(path);
    uint8_t *b;
    int fd;

    *len = 0;
    if (size < 0) {
        return NULL;
    }
    b = malloc((size_t)size + 1);
    fd = open(path, O_RDONLY);
    if (fd < 0 || read(fd, b, (size_t)size) != (ssize_t)size) {
        free(b);
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    close(fd);
    *len = (size_t)size;
    return b;
}

/* XOR the byte at OFF of PATH with MASK. */
static void flip_byte(const char *path, long long off, uint8_t mask)
{
    int fd = open(path, O_RDWR);
    uint8_t c;

    if (fd >= 0 && pread(fd, &c, 1, off) == 1) {
        c ^= mask;
        if (pwrite(fd, &c, 1, off) != 1) {
            fprintf(stderr, "cannot flip %s at %lld\n", path, off);
        }
    }
    if (fd >= 0) {
        close(fd);
    }
}

/* A header as snap.c writes it, for tests that forge one. */
static void forge_header(uint8_t h[SNAP_HEADER_SIZE], uint64_t index,
                         uint64_t term, uint64_t body_len)
{
    sio_put_le32(h, 0x504e5356u);
    sio_put_le32(h + 4, 1);
    sio_put_le64(h + 8, index);
    sio_put_le64(h + 16, term);
    sio_put_le64(h + 24, body_len);
    sio_put_le32(h + 32, 0);
    sio_put_le32(h + 36, crc32c(0, h, 36));
}

/* Send snapshot INDEX/TERM of SRC into R in chunks whose sizes cycle
 * through SIZES (N of them), flipping the byte at FLIP (-1: none) on the
 * way. Returns 0 once the last chunk is taken, else the failing code
 * (-100: no last chunk after 100000 of them). */
static int transfer(const char *src, uint64_t index, uint64_t term,
                    struct snap_recv *r, const size_t *sizes, size_t n,
                    long long flip)
{
    static uint8_t buf[1100000];
    uint64_t off = 0, total;
    char err[512];
    bool last = false;

    for (size_t i = 0; !last && i < 100000; i++) {
        size_t want = sizes[i % n], got;
        int rc = snap_read_chunk(src, index, term, off, buf, want, &got, &last,
                                 &total, err, sizeof(err));

        if (rc == 0 && flip >= (long long)off &&
            flip < (long long)(off + got)) {
            buf[flip - (long long)off] ^= 0x20;
        }
        if (rc == 0) {
            rc = snap_recv_write(r, off, buf, got, err, sizeof(err));
        }
        if (rc != 0) {
            return rc;
        }
        off += got;
    }
    return last ? 0 : -100;
}

static const size_t one_chunk[] = {1u << 20};

/* ---- saving and loading ------------------------------------------------ */

TEST(snap_save_then_load_round_trip)
{
    const char *dir = fresh_dir();
    struct snap_info info;
    uint8_t *body;
    size_t n;
    char err[512];

    EXPECT_EQ(save_body(dir, 5, 2, 1000, 1), SNAP_OK);
    EXPECT_TRUE(latest_is(dir, 5, 2, 1000, 1));
    EXPECT_EQ(file_size(snap_path(dir, 5, 2)), 1000 + FILE_OVERHEAD);

    /* An empty body is a snapshot too, with a body pointer to free. */
    EXPECT_EQ(snap_save(dir, 6, 2, NULL, 0, err, sizeof(err)), SNAP_OK);
    EXPECT_EQ(snap_load_latest(dir, &info, &body, &n, err, sizeof(err)), 0);
    EXPECT_EQ(info.index, 6);
    EXPECT_EQ(n, 0);
    EXPECT_TRUE(body != NULL);
    free(body);
}

TEST(snap_load_without_snapshots_gives_none)
{
    const char *dir = fresh_dir();
    struct snap_info info = {1, 1, 1, 1};
    uint8_t *body = (uint8_t *)"x";
    size_t n = 7;
    char path[600], err[512];

    EXPECT_EQ(snap_load_latest(dir, &info, &body, &n, err, sizeof(err)), 0);
    EXPECT_EQ(info.index, 0);
    EXPECT_EQ(info.term, 0);
    EXPECT_TRUE(body == NULL);
    EXPECT_EQ(n, 0);

    snprintf(path, sizeof(path), "%s/snap", dir);
    mkdir(path, 0700);
    EXPECT_EQ(snap_load_latest(dir, &info, &body, &n, err, sizeof(err)), 0);
    EXPECT_EQ(info.index, 0);
    EXPECT_TRUE(body == NULL);
}

TEST(snap_load_picks_newest_of_several)
{
    const char *dir = fresh_dir();

    EXPECT_EQ(save_body(dir, 9, 1, 100, 1), SNAP_OK);
    EXPECT_EQ(save_body(dir, 10, 1, 200, 2), SNAP_OK);
    EXPECT_TRUE(latest_is(dir, 10, 1, 200, 2));
    EXPECT_EQ(save_body(dir, 1000000007, 3, 300, 3), SNAP_OK);
    EXPECT_TRUE(latest_is(dir, 1000000007, 3, 300, 3));
}

TEST(snap_save_keeps_newest_two)
{
    const char *dir = fresh_dir();
    int snaps;

    for (uint64_t i = 1; i <= 5; i++) {
        EXPECT_EQ(save_body(dir, i * 10, i, 50, (uint32_t)i), SNAP_OK);
    }
    EXPECT_EQ(count_files(dir, &snaps), 2);
    EXPECT_EQ(snaps, 2);
    EXPECT_TRUE(exists(snap_path(dir, 40, 4)));
    EXPECT_TRUE(exists(snap_path(dir, 50, 5)));
    EXPECT_TRUE(latest_is(dir, 50, 5, 50, 5));
}

TEST(snap_save_refuses_older_or_conflicting)
{
    const char *dir = fresh_dir();
    char err[512];
    uint8_t b[4] = {1, 2, 3, 4};

    EXPECT_EQ(save_body(dir, 10, 2, 64, 1), SNAP_OK);
    EXPECT_EQ(snap_save(dir, 9, 2, b, 4, err, sizeof(err)), SNAP_ERR_STALE);
    EXPECT_TRUE(strstr(err, snap_path(dir, 10, 2)) != NULL);
    EXPECT_EQ(snap_save(dir, 10, 3, b, 4, err, sizeof(err)), SNAP_ERR_MISMATCH);
    EXPECT_TRUE(latest_is(dir, 10, 2, 64, 1));

    /* The same index and term is replaced. */
    EXPECT_EQ(save_body(dir, 10, 2, 80, 7), SNAP_OK);
    EXPECT_TRUE(latest_is(dir, 10, 2, 80, 7));
}

TEST(snap_save_checks_arguments)
{
    const char *dir = fresh_dir();
    char err[512];
    uint8_t b[1] = {0};
    int snaps;

    EXPECT_EQ(snap_save(dir, 0, 1, b, 1, err, sizeof(err)), SNAP_ERR_RANGE);
    EXPECT_EQ(snap_save(dir, 1, 0, b, 1, err, sizeof(err)), SNAP_ERR_RANGE);
    EXPECT_EQ(snap_save(dir, SNAP_MAX_INDEX + 1, 1, b, 1, err, sizeof(err)),
              SNAP_ERR_RANGE);
    /* Refused on the length alone: the body is never read. */
    EXPECT_EQ(
        snap_save(dir, 1, 1, b, (size_t)SNAP_MAX_BODY + 1, err, sizeof(err)),
        SNAP_ERR_TOO_BIG);
    EXPECT_EQ(count_files(dir, &snaps), 0);
    EXPECT_EQ(snap_save("/nonexistent/varde", 1, 1, b, 1, err, sizeof(err)),
              SNAP_ERR_IO);
    EXPECT_TRUE(strstr(err, "/nonexistent/varde") != NULL);
}

TEST(snap_leftover_tmp_files_are_ignored_and_removed)
{
    const char *dir = fresh_dir();
    char tmp[700], recv[700], other[700];
    uint8_t junk[100];
    int snaps;

    memset(junk, 0xab, sizeof(junk));
    EXPECT_EQ(save_body(dir, 10, 1, 300, 4), SNAP_OK);

    /* A newer save torn before its rename, a receive cut off, and a file
     * that is none of ours. */
    snprintf(tmp, sizeof(tmp), "%s.tmp", snap_path(dir, 20, 1));
    snprintf(recv, sizeof(recv), "%s/snap/recv.tmp", dir);
    snprintf(other, sizeof(other), "%s/snap/README", dir);
    write_file(tmp, junk, sizeof(junk));
    write_file(recv, junk, sizeof(junk));
    write_file(other, junk, sizeof(junk));

    EXPECT_TRUE(latest_is(dir, 10, 1, 300, 4));
    EXPECT_TRUE(!exists(tmp));
    EXPECT_TRUE(!exists(recv));
    EXPECT_TRUE(exists(other));
    EXPECT_EQ(count_files(dir, &snaps), 2);
    EXPECT_EQ(snaps, 1);
}

/* Damage the newest of two snapshots with DAMAGE; loading must refuse and
 * name it, and must not fall back to the older one. */
static int corrupt_newest_refused(int damage, const char *reason)
{
    const char *dir = fresh_dir();
    const char *newest = snap_path(dir, 20, 3);
    struct snap_info info;
    uint8_t *body, h[SNAP_HEADER_SIZE];
    size_t n;
    char err[1024];
    int rc;

    if (save_body(dir, 10, 2, 500, 1) != 0 ||
        save_body(dir, 20, 3, 500, 2) != 0) {
        return 0;
    }
    switch (damage) {
    case 0: /* a bit in the body */
        flip_byte(newest, SNAP_HEADER_SIZE + 250, 0x04);
        break;
    case 1: /* the trailer */
        flip_byte(newest, SNAP_HEADER_SIZE + 500, 0x80);
        break;
    case 2: /* cut short */
        if (truncate(newest, SNAP_HEADER_SIZE + 100) < 0) {
            return 0;
        }
        break;
    case 3: /* a header that checks out but names another snapshot */
        forge_header(h, 21, 3, 500);
        write_file(newest, h, sizeof(h));
        if (truncate(newest, SNAP_HEADER_SIZE + 500 + 4) < 0) {
            return 0;
        }
        break;
    case 4: /* the magic */
        flip_byte(newest, 0, 0x01);
        break;
    default: /* empty */
        write_file(newest, h, 0);
        break;
    }
    rc = snap_load_latest(dir, &info, &body, &n, err, sizeof(err));
    if (rc != SNAP_ERR_CORRUPT || strstr(err, newest) == NULL ||
        strstr(err, reason) == NULL || body != NULL || info.index != 0) {
        fprintf(stderr, "damage %d: rc %d, err \"%s\"\n", damage, rc, err);
        return 0;
    }
    /* The older one is named for the operator, and is itself intact. */
    if (strstr(err, "00000000000000000010-00000000000000000002.snap") == NULL) {
        fprintf(stderr, "damage %d: the older snapshot is not named: %s\n",
                damage, err);
        return 0;
    }
    rc = snap_load(dir, 10, 2, &info, &body, &n, err, sizeof(err));
    free(body);
    return rc == 0 && info.index == 10 && n == 500;
}

TEST(snap_corrupt_newest_is_refused_naming_the_file)
{
    EXPECT_TRUE(corrupt_newest_refused(0, "checksum mismatch"));
    EXPECT_TRUE(corrupt_newest_refused(1, "checksum mismatch"));
    EXPECT_TRUE(corrupt_newest_refused(2, "the header makes it"));
    EXPECT_TRUE(corrupt_newest_refused(3, "header says 21/3"));
    EXPECT_TRUE(corrupt_newest_refused(4, "bad magic"));
    EXPECT_TRUE(corrupt_newest_refused(5, "too short"));
}

TEST(snap_load_by_index_and_term)
{
    const char *dir = fresh_dir();
    struct snap_info info;
    uint8_t *body;
    size_t n;
    char err[512];

    EXPECT_EQ(save_body(dir, 10, 1, 70, 1), SNAP_OK);
    EXPECT_EQ(save_body(dir, 20, 1, 90, 2), SNAP_OK);
    EXPECT_EQ(snap_load(dir, 10, 1, &info, &body, &n, err, sizeof(err)), 0);
    EXPECT_EQ(info.index, 10);
    EXPECT_EQ(n, 70);
    free(body);
    EXPECT_EQ(snap_load(dir, 15, 1, &info, &body, &n, err, sizeof(err)),
              SNAP_ERR_NOT_FOUND);
    EXPECT_TRUE(body == NULL);
    EXPECT_TRUE(strstr(err, snap_path(dir, 15, 1)) != NULL);
}

/* ---- sending ----------------------------------------------------------- */

TEST(snap_read_chunk_reads_the_raw_file)
{
    const char *dir = fresh_dir();
    uint8_t buf[256], *file;
    size_t n, len;
    uint64_t total;
    bool last;
    char err[512];

    EXPECT_EQ(save_body(dir, 7, 1, 100, 3), SNAP_OK);
    file = read_whole(snap_path(dir, 7, 1), &len);
    EXPECT_TRUE(file != NULL);
    EXPECT_EQ(len, 100 + FILE_OVERHEAD);

    EXPECT_EQ(snap_read_chunk(dir, 7, 1, 0, buf, 64, &n, &last, &total, err,
                              sizeof(err)),
              0);
    EXPECT_EQ(n, 64);
    EXPECT_TRUE(!last);
    EXPECT_EQ(total, len);
    EXPECT_TRUE(memcmp(buf, file, 64) == 0);
    EXPECT_EQ(snap_read_chunk(dir, 7, 1, 64, buf, sizeof(buf), &n, &last,
                              &total, err, sizeof(err)),
              0);
    EXPECT_EQ(n, len - 64);
    EXPECT_TRUE(last);
    EXPECT_TRUE(memcmp(buf, file + 64, n) == 0);
    free(file);

    /* At the end: nothing more, and last. Past it, or no room: refused. */
    EXPECT_EQ(snap_read_chunk(dir, 7, 1, total, buf, 64, &n, &last, &total, err,
                              sizeof(err)),
              0);
    EXPECT_EQ(n, 0);
    EXPECT_TRUE(last);
    EXPECT_EQ(snap_read_chunk(dir, 7, 1, total + 1, buf, 64, &n, &last, &total,
                              err, sizeof(err)),
              SNAP_ERR_RANGE);
    EXPECT_EQ(snap_read_chunk(dir, 7, 1, 0, buf, 0, &n, &last, &total, err,
                              sizeof(err)),
              SNAP_ERR_RANGE);
    EXPECT_EQ(snap_read_chunk(dir, 8, 1, 0, buf, 64, &n, &last, &total, err,
                              sizeof(err)),
              SNAP_ERR_NOT_FOUND);
}

/* ---- receiving --------------------------------------------------------- */

TEST(snap_chunked_transfer_reassembles_byte_for_byte)
{
    const char *src = fresh_dir();
    const char *dst = fresh_dir();
    /* Odd sizes, some inside the header, one ending exactly on it. */
    const size_t sizes[] = {1, 3, 35, 1, 4093, 65537, 7, 1000003, 40, 12289};
    const size_t len = (5u << 20) + 13;
    struct snap_recv *r;
    uint8_t *a, *b;
    size_t alen, blen;
    char err[512];

    EXPECT_EQ(save_body(src, 1000, 7, len, 9), SNAP_OK);
    EXPECT_EQ(snap_recv_open(dst, 1000, 7, &r, err, sizeof(err)), 0);
    EXPECT_EQ(snap_recv_index(r), 1000);
    EXPECT_EQ(snap_recv_term(r), 7);
    EXPECT_EQ(transfer(src, 1000, 7, r, sizes, 10, -1), 0);
    EXPECT_EQ(snap_recv_offset(r), len + FILE_OVERHEAD);
    EXPECT_EQ(snap_recv_total(r), len + FILE_OVERHEAD);
    EXPECT_EQ(snap_recv_finish(r, err, sizeof(err)), 0);

    a = read_whole(snap_path(src, 1000, 7), &alen);
    b = read_whole(snap_path(dst, 1000, 7), &blen);
    EXPECT_TRUE(a != NULL && b != NULL);
    EXPECT_EQ(alen, blen);
    EXPECT_TRUE(memcmp(a, b, alen) == 0);
    free(a);
    free(b);
    EXPECT_TRUE(latest_is(dst, 1000, 7, len, 9));
}

TEST(snap_recv_refuses_a_chunk_out_of_order)
{
    const char *src = fresh_dir();
    const char *dst = fresh_dir();
    struct snap_recv *r;
    uint8_t buf[4096];
    size_t n;
    uint64_t total;
    bool last;
    char err[512];

    EXPECT_EQ(save_body(src, 30, 2, 3000, 5), SNAP_OK);
    EXPECT_EQ(snap_read_chunk(src, 30, 2, 0, buf, sizeof(buf), &n, &last,
                              &total, err, sizeof(err)),
              0);
    EXPECT_EQ(snap_recv_open(dst, 30, 2, &r, err, sizeof(err)), 0);

    /* Inside the header. */
    EXPECT_EQ(snap_recv_write(r, 0, buf, 10, err, sizeof(err)), 0);
    EXPECT_EQ(snap_recv_write(r, 0, buf, 10, err, sizeof(err)),
              SNAP_ERR_OFFSET);
    EXPECT_TRUE(strstr(err, "expected offset 10") != NULL);
    EXPECT_EQ(snap_recv_offset(r), 10);

    /* After it: ahead and behind are refused, the right offset resumes. */
    EXPECT_EQ(snap_recv_write(r, 10, buf + 10, 90, err, sizeof(err)), 0);
    EXPECT_EQ(snap_recv_write(r, 200, buf + 200, 100, err, sizeof(err)),
              SNAP_ERR_OFFSET);
    EXPECT_TRUE(strstr(err, "chunk at offset 200, expected offset 100") !=
                NULL);
    EXPECT_EQ(snap_recv_write(r, 50, buf + 50, 100, err, sizeof(err)),
              SNAP_ERR_OFFSET);
    EXPECT_EQ(snap_recv_offset(r), 100);
    EXPECT_EQ(snap_recv_write(r, 100, buf + 100, n - 100, err, sizeof(err)), 0);
    EXPECT_EQ(snap_recv_finish(r, err, sizeof(err)), 0);
    EXPECT_TRUE(latest_is(dst, 30, 2, 3000, 5));
}

/* A receive into DIR that failed at finish left nothing: the previous
 * snapshot (5/1, 64 bytes of seed 8) is the newest, and no recv.tmp. */
static int nothing_received(const char *dir)
{
    char recv[700];
    int snaps;

    snprintf(recv, sizeof(recv), "%s/snap/recv.tmp", dir);
    return !exists(recv) && count_files(dir, &snaps) == 1 && snaps == 1 &&
           latest_is(dir, 5, 1, 64, 8);
}

TEST(snap_recv_refuses_a_bad_checksum_at_finish)
{
    const char *src = fresh_dir();
    const char *dst = fresh_dir();
    const size_t len = 200000;
    const long long flips[] = {SNAP_HEADER_SIZE + 12345,
                               SNAP_HEADER_SIZE + (long long)len + 2};
    struct snap_recv *r;
    char err[512];

    EXPECT_EQ(save_body(src, 1000, 7, len, 3), SNAP_OK);
    EXPECT_EQ(save_body(dst, 5, 1, 64, 8), SNAP_OK);
    for (size_t i = 0; i < 2; i++) {
        EXPECT_EQ(snap_recv_open(dst, 1000, 7, &r, err, sizeof(err)), 0);
        EXPECT_EQ(transfer(src, 1000, 7, r, one_chunk, 1, flips[i]), 0);
        EXPECT_EQ(snap_recv_finish(r, err, sizeof(err)), SNAP_ERR_CORRUPT);
        EXPECT_TRUE(strstr(err, "checksum mismatch") != NULL);
        EXPECT_TRUE(!exists(snap_path(dst, 1000, 7)));
        EXPECT_TRUE(nothing_received(dst));
    }
}

TEST(snap_recv_refuses_another_index_or_term_before_writing)
{
    const char *src = fresh_dir();
    const char *dst = fresh_dir();
    const uint64_t want[2][2] = {{1001, 7}, {1000, 8}};
    struct snap_recv *r;
    char recv[700], err[512];

    snprintf(recv, sizeof(recv), "%s/snap/recv.tmp", dst);
    EXPECT_EQ(save_body(src, 1000, 7, 5000, 3), SNAP_OK);
    EXPECT_EQ(save_body(dst, 5, 1, 64, 8), SNAP_OK);
    for (size_t i = 0; i < 2; i++) {
        EXPECT_EQ(
            snap_recv_open(dst, want[i][0], want[i][1], &r, err, sizeof(err)),
            0);
        EXPECT_EQ(transfer(src, 1000, 7, r, one_chunk, 1, -1),
                  SNAP_ERR_MISMATCH);
        EXPECT_EQ(file_size(recv), 0);
        EXPECT_EQ(snap_recv_offset(r), 0);
        EXPECT_EQ(snap_recv_finish(r, err, sizeof(err)), SNAP_ERR_INCOMPLETE);
        EXPECT_TRUE(strstr(err, "incomplete") != NULL);
        EXPECT_TRUE(!exists(snap_path(dst, want[i][0], want[i][1])));
        EXPECT_TRUE(nothing_received(dst));
    }
}

TEST(snap_recv_refuses_a_bad_header_before_writing)
{
    const char *dst = fresh_dir();
    struct snap_recv *r;
    uint8_t h[SNAP_HEADER_SIZE];
    char recv[700], err[512];

    snprintf(recv, sizeof(recv), "%s/snap/recv.tmp", dst);
    EXPECT_EQ(snap_recv_open(dst, 1000, 7, &r, err, sizeof(err)), 0);

    /* Too big, with a header checksum that holds. */
    forge_header(h, 1000, 7, SNAP_MAX_BODY + 1);
    EXPECT_EQ(snap_recv_write(r, 0, h, 20, err, sizeof(err)), 0);
    EXPECT_EQ(snap_recv_write(r, 20, h + 20, 20, err, sizeof(err)),
              SNAP_ERR_TOO_BIG);
    EXPECT_TRUE(strstr(err, "exceeds the limit") != NULL);
    EXPECT_EQ(file_size(recv), 0);
    EXPECT_EQ(snap_recv_offset(r), 20);

    /* A damaged header. */
    forge_header(h, 1000, 7, 10);
    h[30] ^= 1;
    EXPECT_EQ(snap_recv_write(r, 20, h + 20, 20, err, sizeof(err)),
              SNAP_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "header checksum mismatch") != NULL);
    EXPECT_EQ(file_size(recv), 0);

    /* The right one at the same offset is taken. */
    forge_header(h, 1000, 7, 10);
    EXPECT_EQ(snap_recv_write(r, 20, h + 20, 20, err, sizeof(err)), 0);
    EXPECT_EQ(file_size(recv), SNAP_HEADER_SIZE);
    EXPECT_EQ(snap_recv_total(r), 10 + FILE_OVERHEAD);
    snap_recv_abort(r);
    EXPECT_TRUE(!exists(recv));
}

TEST(snap_recv_refuses_bytes_past_the_end)
{
    const char *src = fresh_dir();
    const char *dst = fresh_dir();
    struct snap_info info;
    struct snap_recv *r;
    uint8_t *file, *more;
    size_t len;
    char err[512];

    EXPECT_EQ(save_body(src, 40, 4, 1000, 6), SNAP_OK);
    file = read_whole(snap_path(src, 40, 4), &len);
    EXPECT_TRUE(file != NULL);
    more = malloc(len + 1);
    memcpy(more, file, len);
    more[len] = 0;

    /* One byte too many in the chunk that completes the header. */
    EXPECT_EQ(snap_recv_open(dst, 40, 4, &r, err, sizeof(err)), 0);
    EXPECT_EQ(snap_recv_write(r, 0, more, len + 1, err, sizeof(err)),
              SNAP_ERR_RANGE);
    EXPECT_EQ(snap_recv_offset(r), 0);

    /* ... and in a later chunk. */
    EXPECT_EQ(snap_recv_write(r, 0, more, 100, err, sizeof(err)), 0);
    EXPECT_EQ(snap_recv_write(r, 100, more + 100, len - 99, err, sizeof(err)),
              SNAP_ERR_RANGE);
    EXPECT_TRUE(strstr(err, "runs past the end") != NULL);
    EXPECT_EQ(snap_recv_write(r, 100, more + 100, len - 101, err, sizeof(err)),
              0);
    EXPECT_EQ(snap_recv_finish(r, err, sizeof(err)), SNAP_ERR_INCOMPLETE);
    EXPECT_TRUE(strstr(err, "incomplete") != NULL);
    free(more);
    free(file);
    EXPECT_EQ(snap_load_latest(dst, &info, &file, &len, err, sizeof(err)), 0);
    EXPECT_EQ(info.index, 0);
    EXPECT_TRUE(file == NULL);
}

TEST(snap_recv_new_receive_replaces_one_in_progress)
{
    const char *src = fresh_dir();
    const char *dst = fresh_dir();
    struct snap_recv *old, *r;
    char recv[700], err[512];

    snprintf(recv, sizeof(recv), "%s/snap/recv.tmp", dst);
    EXPECT_EQ(save_body(src, 1000, 7, 3000, 1), SNAP_OK);
    EXPECT_EQ(save_body(src, 2000, 8, 4000, 2), SNAP_OK);

    /* The old leader's snapshot arrives whole, but before it is finished a
     * newer leader's starts: the old one can no longer be put in place. */
    EXPECT_EQ(snap_recv_open(dst, 1000, 7, &old, err, sizeof(err)), 0);
    EXPECT_EQ(transfer(src, 1000, 7, old, one_chunk, 1, -1), 0);
    EXPECT_EQ(snap_recv_open(dst, 2000, 8, &r, err, sizeof(err)), 0);
    EXPECT_EQ(snap_recv_finish(old, err, sizeof(err)), SNAP_ERR_STALE);
    EXPECT_TRUE(strstr(err, "replaced by another receive") != NULL);
    EXPECT_TRUE(exists(recv));
    EXPECT_TRUE(!exists(snap_path(dst, 1000, 7)));

    EXPECT_EQ(transfer(src, 2000, 8, r, one_chunk, 1, -1), 0);
    EXPECT_EQ(snap_recv_finish(r, err, sizeof(err)), 0);
    EXPECT_TRUE(latest_is(dst, 2000, 8, 4000, 2));
    EXPECT_TRUE(!exists(recv));

    /* Aborting removes what was received. */
    EXPECT_EQ(snap_recv_open(dst, 3000, 9, &r, err, sizeof(err)), 0);
    EXPECT_TRUE(exists(recv));
    snap_recv_abort(r);
    EXPECT_TRUE(!exists(recv));
    snap_recv_abort(NULL);
}

TEST(snap_recv_refuses_an_older_snapshot)
{
    const char *src = fresh_dir();
    const char *dst = fresh_dir();
    struct snap_recv *r = (struct snap_recv *)1;
    char recv[700], err[512];

    snprintf(recv, sizeof(recv), "%s/snap/recv.tmp", dst);
    EXPECT_EQ(save_body(src, 1500, 8, 2000, 1), SNAP_OK);
    EXPECT_EQ(save_body(dst, 2000, 8, 100, 2), SNAP_OK);
    EXPECT_EQ(snap_recv_open(dst, 1500, 8, &r, err, sizeof(err)),
              SNAP_ERR_STALE);
    EXPECT_TRUE(r == NULL);
    EXPECT_TRUE(strstr(err, snap_path(dst, 2000, 8)) != NULL);

    /* A newer one saved while the receive was under way. */
    dst = fresh_dir();
    EXPECT_EQ(save_body(dst, 1000, 8, 100, 2), SNAP_OK);
    EXPECT_EQ(snap_recv_open(dst, 1500, 8, &r, err, sizeof(err)), 0);
    EXPECT_EQ(transfer(src, 1500, 8, r, one_chunk, 1, -1), 0);
    EXPECT_EQ(save_body(dst, 1600, 8, 100, 3), SNAP_OK);
    EXPECT_EQ(snap_recv_finish(r, err, sizeof(err)), SNAP_ERR_STALE);
    EXPECT_TRUE(!exists(snap_path(dst, 1500, 8)));
    snprintf(recv, sizeof(recv), "%s/snap/recv.tmp", dst);
    EXPECT_TRUE(!exists(recv));
    EXPECT_TRUE(latest_is(dst, 1600, 8, 100, 3));
}

/* ---- injected failures ------------------------------------------------- */

/* Calls of kind OP one clean save of a second snapshot makes. */
static unsigned calls_in_save(enum sio_op op)
{
    const char *dir = fresh_dir();
    unsigned n;

    save_body(dir, 10, 1, 64, 8);
    sio_fault_set(op, 0, 0, 0);
    save_body(dir, 20, 1, 5000, 9);
    n = sio_calls(op);
    sio_fault_clear();
    return n;
}

TEST(snap_save_failures_leave_the_previous_snapshot)
{
    const enum sio_op ops[] = {SIO_WRITE, SIO_FSYNC, SIO_RENAME};
    const char *names[] = {"write", "fsync", "rename"};
    char err[512];

    for (size_t k = 0; k < 3; k++) {
        unsigned calls = calls_in_save(ops[k]);

        EXPECT_TRUE(calls >= 1);
        for (unsigned nth = 1; nth <= calls; nth++) {
            const char *dir = fresh_dir();
            uint8_t *b = make_body(5000, 9);
            int rc, snaps, in_place;

            EXPECT_EQ(save_body(dir, 10, 1, 64, 8), SNAP_OK);
            sio_fault_set(ops[k], nth, 1, EIO);
            rc = snap_save(dir, 20, 1, b, 5000, err, sizeof(err));
            sio_fault_clear();
            free(b);
            EXPECT_EQ(rc, SNAP_ERR_IO);
            EXPECT_TRUE(strstr(err, names[k]) != NULL);

            /* Only the last fsync (of the directory) follows the rename. */
            in_place = ops[k] == SIO_FSYNC && nth == calls;
            EXPECT_EQ(count_files(dir, &snaps), 1 + in_place);
            EXPECT_EQ(snaps, 1 + in_place);
            EXPECT_TRUE(latest_is(dir, in_place ? 20 : 10, 1,
                                  in_place ? 5000 : 64, in_place ? 9 : 8));
            EXPECT_TRUE(exists(snap_path(dir, 10, 1)));
        }
    }
}

TEST(snap_recv_failed_write_can_be_retried)
{
    const char *src = fresh_dir();
    const char *dst = fresh_dir();
    struct snap_recv *r;
    uint8_t *file;
    size_t len;
    char err[512];

    EXPECT_EQ(save_body(src, 1000, 7, 100000, 4), SNAP_OK);
    file = read_whole(snap_path(src, 1000, 7), &len);
    EXPECT_TRUE(file != NULL);
    EXPECT_EQ(snap_recv_open(dst, 1000, 7, &r, err, sizeof(err)), 0);

    /* The chunk that completes the header, then a later one. */
    sio_fault_set(SIO_WRITE, 1, 1, ENOSPC);
    EXPECT_EQ(snap_recv_write(r, 0, file, 1000, err, sizeof(err)), SNAP_ERR_IO);
    EXPECT_TRUE(strstr(err, strerror(ENOSPC)) != NULL);
    EXPECT_EQ(snap_recv_offset(r), 0);
    EXPECT_EQ(snap_recv_write(r, 0, file, 1000, err, sizeof(err)), 0);
    sio_fault_set(SIO_WRITE, 1, 1, EIO);
    EXPECT_EQ(snap_recv_write(r, 1000, file + 1000, 5000, err, sizeof(err)),
              SNAP_ERR_IO);
    EXPECT_EQ(snap_recv_offset(r), 1000);
    sio_fault_clear();
    EXPECT_EQ(
        snap_recv_write(r, 1000, file + 1000, len - 1000, err, sizeof(err)), 0);
    EXPECT_EQ(snap_recv_finish(r, err, sizeof(err)), 0);
    EXPECT_TRUE(latest_is(dst, 1000, 7, 100000, 4));
    free(file);
}

TEST(snap_recv_finish_failures_leave_the_previous_snapshot)
{
    const char *src = fresh_dir();
    struct {
        enum sio_op op;
        unsigned nth;
        const char *what;
    } faults[] = {{SIO_FSYNC, 1, "fsync"}, {SIO_RENAME, 1, "rename"}};
    struct snap_recv *r;
    char err[512];

    EXPECT_EQ(save_body(src, 1000, 7, 70000, 4), SNAP_OK);
    for (size_t i = 0; i < 2; i++) {
        const char *dst = fresh_dir();

        EXPECT_EQ(save_body(dst, 5, 1, 64, 8), SNAP_OK);
        EXPECT_EQ(snap_recv_open(dst, 1000, 7, &r, err, sizeof(err)), 0);
        EXPECT_EQ(transfer(src, 1000, 7, r, one_chunk, 1, -1), 0);
        sio_fault_set(faults[i].op, faults[i].nth, 1, EIO);
        EXPECT_EQ(snap_recv_finish(r, err, sizeof(err)), SNAP_ERR_IO);
        sio_fault_clear();
        EXPECT_TRUE(strstr(err, faults[i].what) != NULL);
        EXPECT_TRUE(!exists(snap_path(dst, 1000, 7)));
        EXPECT_TRUE(nothing_received(dst));
    }
}

int main(void)
{
    snprintf(test_root, sizeof(test_root), "/tmp/varde-test-snap-XXXXXX");
    if (mkdtemp(test_root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    log_set_level((enum log_level)(LOG_ERROR + 1));

    RUN(snap_save_then_load_round_trip);
    RUN(snap_load_without_snapshots_gives_none);
    RUN(snap_load_picks_newest_of_several);
    RUN(snap_save_keeps_newest_two);
    RUN(snap_save_refuses_older_or_conflicting);
    RUN(snap_save_checks_arguments);
    RUN(snap_leftover_tmp_files_are_ignored_and_removed);
    RUN(snap_corrupt_newest_is_refused_naming_the_file);
    RUN(snap_load_by_index_and_term);
    RUN(snap_read_chunk_reads_the_raw_file);
    RUN(snap_chunked_transfer_reassembles_byte_for_byte);
    RUN(snap_recv_refuses_a_chunk_out_of_order);
    RUN(snap_recv_refuses_a_bad_checksum_at_finish);
    RUN(snap_recv_refuses_another_index_or_term_before_writing);
    RUN(snap_recv_refuses_a_bad_header_before_writing);
    RUN(snap_recv_refuses_bytes_past_the_end);
    RUN(snap_recv_new_receive_replaces_one_in_progress);
    RUN(snap_recv_refuses_an_older_snapshot);
    RUN(snap_save_failures_leave_the_previous_snapshot);
    RUN(snap_recv_failed_write_can_be_retried);
    RUN(snap_recv_finish_failures_leave_the_previous_snapshot);
    sio_fault_clear();
    remove_tree(test_root);
    DONE();
}
