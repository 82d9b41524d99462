/* test_meta.c - the durable term and vote: round trip, restart, corruption,
 * the data-dir lock, torn saves, the two slots and the old format. */
#include "storage/crc32c.h"
#include "storage/meta.h"
#include "storage/sio.h"

#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLOT 512       /* the size of one slot of DIR/meta */
#define FILE_SIZE 1024 /* DIR/meta: two slots */

static char test_root[256];

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

/* waitpid() with a deadline of 10 s; the exit status in *STATUS. */
static pid_t waitpid_status(pid_t pid, int *status)
{
    int raw;

    for (int i = 0; i < 1000; i++) {
        pid_t r = waitpid(pid, &raw, WNOHANG);

        if (r == pid) {
            *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
            return r;
        }
        if (r < 0) {
            return r;
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &raw, 0);
    return -1;
}

/* A fresh, empty directory path under the test root (not created). */
static const char *fresh_dir(const char *name)
{
    static char path[512];

    snprintf(path, sizeof(path), "%s/%s", test_root, name);
    return path;
}

static void write_file(const char *dir, const char *name, const void *buf,
                       size_t len)
{
    char path[600];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        if (write(fd, buf, len) != (ssize_t)len) {
            fprintf(stderr, "short write to %s\n", path);
        }
        close(fd);
    }
}

static size_t read_file(const char *dir, const char *name, void *buf,
                        size_t cap)
{
    char path[600];
    ssize_t n = -1;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDONLY);
    if (fd >= 0) {
        n = read(fd, buf, cap);
        close(fd);
    }
    return n < 0 ? 0 : (size_t)n;
}

static int save(const char *dir, uint64_t term, uint64_t vote)
{
    struct raft_hard_state hs = {term, vote}, got;
    struct meta_store *m;
    char err[256];
    int rc = meta_open(dir, &m, &got, err, sizeof(err));

    if (rc == 0) {
        rc = meta_save(m, &hs, err, sizeof(err));
        meta_close(m);
    }
    return rc;
}

/* The seq, term and vote of slot I of FILE. */
static uint64_t slot_seq(const uint8_t *file, int i)
{
    return sio_get_le64(file + i * SLOT + 8);
}

static uint64_t slot_term(const uint8_t *file, int i)
{
    return sio_get_le64(file + i * SLOT + 16);
}

/* Reseal slot I of FILE with a fresh checksum after an edit. */
static void slot_reseal(uint8_t *file, int i)
{
    uint8_t *slot = file + i * SLOT;

    sio_put_le32(slot + SLOT - 4, crc32c(0, slot, SLOT - 4));
}

/* Open and close DIR and return the restored state; on an error, print it
 * and return a state no test expects (term and vote UINT64_MAX). */
static struct raft_hard_state load(const char *dir)
{
    struct raft_hard_state got;
    struct meta_store *m;
    char err[256];

    if (meta_open(dir, &m, &got, err, sizeof(err)) != META_OK) {
        fprintf(stderr, "open %s: %s\n", dir, err);
        got.term = UINT64_MAX;
        got.vote = UINT64_MAX;
    }
    meta_close(m);
    return got;
}

TEST(meta_missing_file_restores_zeros)
{
    const char *dir = fresh_dir("fresh/a/b");
    struct raft_hard_state hs = {7, 7};
    struct meta_store *m;
    struct stat st;
    char err[256];

    EXPECT_EQ(meta_open(dir, &m, &hs, err, sizeof(err)), META_OK);
    EXPECT_EQ(hs.term, 0);
    EXPECT_EQ(hs.vote, 0);
    EXPECT_EQ(stat(dir, &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700);
    EXPECT_STR(meta_dir(m), dir);
    meta_close(m);

    /* The first open created the file, whole, with the zero state. */
    hs = load(dir);
    EXPECT_EQ(hs.term, 0);
    EXPECT_EQ(hs.vote, 0);
    {
        uint8_t file[FILE_SIZE + 1];

        EXPECT_EQ(read_file(dir, "meta", file, sizeof(file)), FILE_SIZE);
    }
}

TEST(meta_round_trip_survives_restart)
{
    const char *dir = fresh_dir("roundtrip");
    struct raft_hard_state hs = {42, 3}, got;
    struct meta_store *m;
    char err[256];

    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_OK);
    hs.term = 43;
    hs.vote = 0;
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_OK);
    meta_close(m);

    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(got.term, 43);
    EXPECT_EQ(got.vote, 0);
    meta_close(m);
}

TEST(meta_large_values_round_trip)
{
    const char *dir = fresh_dir("large");
    struct raft_hard_state got;
    struct meta_store *m;
    char err[256];

    EXPECT_EQ(save(dir, UINT64_MAX - 1, 0x0102030405060708ull), 0);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_TRUE(got.term == UINT64_MAX - 1);
    EXPECT_TRUE(got.vote == 0x0102030405060708ull);
    meta_close(m);
}

/* A slot with any single bit flipped is a save that never returned: the
 * other slot is the state, and only the other slot. */
TEST(meta_bit_flip_in_one_slot_falls_back)
{
    const char *dir = fresh_dir("flip-one");
    uint8_t good[FILE_SIZE + 1], bad[FILE_SIZE];
    struct raft_hard_state got;
    int newer;

    EXPECT_EQ(save(dir, 9, 2), 0);
    EXPECT_EQ(save(dir, 10, 3), 0);
    EXPECT_EQ(read_file(dir, "meta", good, sizeof(good)), FILE_SIZE);
    newer = slot_seq(good, 1) > slot_seq(good, 0) ? 1 : 0;
    EXPECT_EQ(slot_term(good, newer), 10);
    EXPECT_EQ(slot_term(good, 1 - newer), 9);
    for (size_t bit = 0; bit < FILE_SIZE * 8; bit++) {
        int in_newer = (int)(bit / 8 / SLOT) == newer;

        memcpy(bad, good, FILE_SIZE);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        write_file(dir, "meta", bad, FILE_SIZE);
        got = load(dir);
        EXPECT_EQ(got.term, in_newer ? 9 : 10);
        EXPECT_EQ(got.vote, in_newer ? 2 : 3);
    }
}

/* Both slots damaged is refused with the file named, and the restored state
 * is zeroed, not half-read; so is every truncation and any trailing byte. */
TEST(meta_corrupt_file_is_rejected)
{
    const char *dir = fresh_dir("corrupt");
    uint8_t good[FILE_SIZE + 1], bad[FILE_SIZE + 1];
    char path[600], err[256];
    struct raft_hard_state got;
    struct meta_store *m;

    EXPECT_EQ(save(dir, 9, 2), 0);
    EXPECT_EQ(read_file(dir, "meta", good, sizeof(good)), FILE_SIZE);
    snprintf(path, sizeof(path), "%s/meta", dir);
    for (size_t bit = 0; bit < SLOT * 8; bit++) {
        memcpy(bad, good, FILE_SIZE);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        bad[SLOT + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        write_file(dir, "meta", bad, FILE_SIZE);
        got.term = 1;
        EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_CORRUPT);
        EXPECT_TRUE(m == NULL);
        EXPECT_EQ(got.term, 0);
        EXPECT_TRUE(strstr(err, path) != NULL);
    }
    for (size_t len = 0; len < FILE_SIZE; len++) {
        write_file(dir, "meta", good, len);
        got.term = 1;
        EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_CORRUPT);
        EXPECT_EQ(got.term, 0);
        EXPECT_TRUE(strstr(err, "truncated") != NULL);
        EXPECT_TRUE(strstr(err, path) != NULL);
    }
    memcpy(bad, good, FILE_SIZE);
    bad[FILE_SIZE] = 0;
    write_file(dir, "meta", bad, FILE_SIZE + 1);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "trailing") != NULL);
}

/* A slot of a newer format is refused, even when the other slot is valid:
 * this code must not overwrite a file it does not understand. */
TEST(meta_unknown_version_is_rejected)
{
    const char *dir = fresh_dir("version");
    uint8_t file[FILE_SIZE + 1];
    struct raft_hard_state got;
    struct meta_store *m;
    char err[256];

    EXPECT_EQ(save(dir, 1, 1), 0);
    EXPECT_EQ(read_file(dir, "meta", file, sizeof(file)), FILE_SIZE);
    sio_put_le32(file + SLOT + 4, 3);
    slot_reseal(file, 1);
    write_file(dir, "meta", file, FILE_SIZE);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "version 3") != NULL);
}

/* The save being written when the process died: its slot holds half the new
 * bytes and half the old. Open restores the previous save, and the next
 * save overwrites the torn slot, never the good one. */
TEST(meta_torn_slot_restores_previous_save)
{
    const char *dir = fresh_dir("torn-slot");
    uint8_t file[FILE_SIZE + 1], prev[SLOT];
    struct raft_hard_state got;
    int newer;

    EXPECT_EQ(save(dir, 5, 1), 0);
    EXPECT_EQ(save(dir, 6, 2), 0);
    EXPECT_EQ(read_file(dir, "meta", file, sizeof(file)), FILE_SIZE);
    newer = slot_seq(file, 1) > slot_seq(file, 0) ? 1 : 0;
    memcpy(prev, file + (1 - newer) * SLOT, SLOT);

    /* The new term reached the disk, the rest of the slot did not. */
    memset(file + newer * SLOT + 24, 0xa5, SLOT - 24);
    write_file(dir, "meta", file, FILE_SIZE);
    got = load(dir);
    EXPECT_EQ(got.term, 5);
    EXPECT_EQ(got.vote, 1);

    EXPECT_EQ(save(dir, 7, 3), 0);
    EXPECT_EQ(read_file(dir, "meta", file, sizeof(file)), FILE_SIZE);
    EXPECT_EQ(memcmp(file + (1 - newer) * SLOT, prev, SLOT), 0);
    EXPECT_EQ(slot_term(file, newer), 7);
    got = load(dir);
    EXPECT_EQ(got.term, 7);
    EXPECT_EQ(got.vote, 3);
}

/* Saves alternate between the slots with seq + 1, and the slot not written
 * always holds the save before. (The seq is 64 bits: it does not wrap in
 * the life of any disk.) */
TEST(meta_saves_alternate_slots)
{
    const char *dir = fresh_dir("alternate");
    struct raft_hard_state hs, got;
    uint8_t file[FILE_SIZE + 1];
    struct meta_store *m;
    char err[256];
    uint64_t seq0;
    int last;

    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(read_file(dir, "meta", file, sizeof(file)), FILE_SIZE);
    last = slot_seq(file, 1) > slot_seq(file, 0) ? 1 : 0;
    seq0 = slot_seq(file, last);
    for (uint64_t i = 1; i <= 200; i++) {
        int slot = (last + (int)i) % 2;

        hs.term = 100 + i;
        hs.vote = i % 5;
        EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_OK);
        EXPECT_EQ(read_file(dir, "meta", file, sizeof(file)), FILE_SIZE);
        EXPECT_TRUE(slot_seq(file, slot) == seq0 + i);
        EXPECT_EQ(slot_term(file, slot), 100 + i);
        EXPECT_TRUE(slot_seq(file, 1 - slot) == seq0 + i - 1);
        EXPECT_EQ(slot_term(file, 1 - slot), i == 1 ? 0 : 99 + i);
    }
    meta_close(m);
    got = load(dir);
    EXPECT_EQ(got.term, 300);
    EXPECT_EQ(got.vote, 0);
}

/* A save is one write and one fdatasync: no rename, no dir fsync. */
TEST(meta_save_is_one_sync)
{
    const char *dir = fresh_dir("one-sync");
    struct raft_hard_state hs = {3, 1}, got;
    struct meta_store *m;
    char err[256];

    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    sio_fault_clear();
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_OK);
    EXPECT_EQ(sio_calls(SIO_WRITE), 1);
    EXPECT_EQ(sio_calls(SIO_FSYNC), 1);
    EXPECT_EQ(sio_calls(SIO_RENAME), 0);
    meta_close(m);
}

/* The first open creates the file by tmp + fsync + rename + dir fsync; a
 * creation that fails leaves no meta, and the next open starts over. */
TEST(meta_creation_is_durable)
{
    const char *dir = fresh_dir("create");
    struct raft_hard_state got;
    struct meta_store *m;
    char err[256], path[600];

    EXPECT_EQ(mkdir(dir, 0700), 0);
    sio_fault_set(SIO_RENAME, 1, 1, EIO);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_IO);
    EXPECT_TRUE(m == NULL);
    EXPECT_TRUE(strstr(err, "rename") != NULL);
    snprintf(path, sizeof(path), "%s/meta", dir);
    EXPECT_EQ(access(path, F_OK), -1);

    sio_fault_clear();
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(sio_calls(SIO_RENAME), 1);
    EXPECT_EQ(sio_calls(SIO_FSYNC), 2); /* meta.tmp, then DIR */
    EXPECT_EQ(got.term, 0);
    meta_close(m);
}

/* A 28-byte file of the old format (version 1) is converted on open, and a
 * damaged one is refused like any other corruption. */
TEST(meta_old_format_is_converted)
{
    const char *dir = fresh_dir("old-format");
    uint8_t rec[28], file[FILE_SIZE + 1];
    struct raft_hard_state got;
    struct meta_store *m;
    char err[256];

    EXPECT_EQ(mkdir(dir, 0700), 0);
    sio_put_le32(rec, 0x4154454du);
    sio_put_le32(rec + 4, 1);
    sio_put_le64(rec + 8, 77);
    sio_put_le64(rec + 16, 4);
    sio_put_le32(rec + 24, crc32c(0, rec, 24));
    write_file(dir, "meta", rec, sizeof(rec));
    got = load(dir);
    EXPECT_EQ(got.term, 77);
    EXPECT_EQ(got.vote, 4);
    EXPECT_EQ(read_file(dir, "meta", file, sizeof(file)), FILE_SIZE);
    got = load(dir);
    EXPECT_EQ(got.term, 77);
    EXPECT_EQ(got.vote, 4);

    rec[10] ^= 1;
    write_file(dir, "meta", rec, sizeof(rec));
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "old format") != NULL);
    EXPECT_EQ(got.term, 0);
}

TEST(meta_second_opener_is_locked_out)
{
    const char *dir = fresh_dir("locked");
    struct raft_hard_state got;
    struct meta_store *m, *m2;
    char err[256], want[600];

    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(meta_open(dir, &m2, &got, err, sizeof(err)), META_ERR_LOCKED);
    EXPECT_TRUE(m2 == NULL);
    snprintf(want, sizeof(want), "data dir %s is in use by another process",
             dir);
    EXPECT_STR(err, want);
    meta_close(m);

    /* Closing releases the lock. */
    EXPECT_EQ(meta_open(dir, &m2, &got, err, sizeof(err)), META_OK);
    meta_close(m2);
}

TEST(meta_lock_holds_across_processes)
{
    const char *dir = fresh_dir("locked-fork");
    struct raft_hard_state got;
    struct meta_store *m;
    char err[256];
    int status = -1;
    pid_t pid;

    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    pid = fork();
    if (pid == 0) {
        struct meta_store *c;
        int rc = meta_open(dir, &c, &got, err, sizeof(err));

        _exit(rc == META_ERR_LOCKED ? 0 : 1);
    }
    EXPECT_TRUE(pid > 0);
    EXPECT_EQ(waitpid_status(pid, &status), pid);
    EXPECT_EQ(status, 0);
    meta_close(m);
}

TEST(meta_torn_tmp_is_ignored)
{
    const char *dir = fresh_dir("torn");
    struct raft_hard_state got;
    struct meta_store *m;
    char err[256], path[600];

    EXPECT_EQ(save(dir, 5, 1), 0);
    write_file(dir, "meta.tmp", "garbage", 7);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(got.term, 5);
    EXPECT_EQ(got.vote, 1);
    snprintf(path, sizeof(path), "%s/meta.tmp", dir);
    EXPECT_EQ(access(path, F_OK), -1);
    meta_close(m);
}

/* A tmp file with no meta at all: a first save that crashed before rename. */
TEST(meta_torn_first_save_restores_zeros)
{
    const char *dir = fresh_dir("torn-first");
    struct raft_hard_state got;
    struct meta_store *m;
    char err[256];

    EXPECT_EQ(mkdir(dir, 0700), 0);
    write_file(dir, "meta.tmp", "\x4d\x45\x54", 3);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(got.term, 0);
    EXPECT_EQ(got.vote, 0);
    meta_close(m);
}

/* A failed write (half the slot written) or fdatasync is reported, and
 * the previous state stays loadable from the other slot. */
TEST(meta_failed_save_keeps_old_state)
{
    const char *dir = fresh_dir("faults");
    struct raft_hard_state hs = {10, 1}, got;
    uint8_t file[FILE_SIZE + 1];
    struct meta_store *m;
    char err[256], path[600];
    int newer;

    snprintf(path, sizeof(path), "%s/meta", dir);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_OK);
    hs.term = 11;
    hs.vote = 2;

    sio_fault_set(SIO_WRITE, 1, 1, ENOSPC);
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_ERR_IO);
    EXPECT_TRUE(strstr(err, path) != NULL);
    EXPECT_TRUE(strstr(err, strerror(ENOSPC)) != NULL);
    sio_fault_clear();
    meta_close(m);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(got.term, 10); /* the torn slot is ignored */
    EXPECT_EQ(got.vote, 1);

    /* After a failed fdatasync the disk holds the old or the new state;
     * either way the other slot still holds the old one. */
    sio_fault_set(SIO_FSYNC, 1, 1, EIO);
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_ERR_IO);
    EXPECT_TRUE(strstr(err, "fdatasync") != NULL);
    EXPECT_TRUE(strstr(err, path) != NULL);
    sio_fault_clear();
    meta_close(m);
    got = load(dir);
    EXPECT_TRUE(got.term == 10 || got.term == 11);
    EXPECT_EQ(read_file(dir, "meta", file, sizeof(file)), FILE_SIZE);
    newer = slot_seq(file, 1) > slot_seq(file, 0) ? 1 : 0;
    file[newer * SLOT] ^= 1;
    write_file(dir, "meta", file, FILE_SIZE);
    got = load(dir);
    EXPECT_EQ(got.term, 10);
    EXPECT_EQ(got.vote, 1);

    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(got.term, 10);
    EXPECT_EQ(got.vote, 1);
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_OK);
    meta_close(m);
    got = load(dir);
    EXPECT_EQ(got.term, 11);
    EXPECT_EQ(got.vote, 2);
}

/* A record left in the page cache by a crashed process is fsynced (file
 * and dir) before meta_open() hands it out; a failing fsync is an error. */
TEST(meta_open_makes_restored_state_durable)
{
    const char *dir = fresh_dir("durable-open");
    struct raft_hard_state got;
    struct meta_store *m;
    char err[256];

    EXPECT_EQ(save(dir, 4, 4), 0);
    sio_fault_clear();
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(sio_calls(SIO_FSYNC), 2);
    meta_close(m);

    sio_fault_set(SIO_FSYNC, 1, 1, EIO);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_IO);
    EXPECT_TRUE(m == NULL);
    sio_fault_clear();
}

TEST(meta_dir_that_is_a_file_is_an_error)
{
    const char *dir = fresh_dir("plainfile");
    struct raft_hard_state got;
    struct meta_store *m;
    char err[256];

    write_file(test_root, "plainfile", "x", 1);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_IO);
    EXPECT_TRUE(strstr(err, "not a directory") != NULL);
}

int main(void)
{
    snprintf(test_root, sizeof(test_root), "/tmp/varde-test-meta-XXXXXX");
    if (mkdtemp(test_root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(meta_missing_file_restores_zeros);
    RUN(meta_round_trip_survives_restart);
    RUN(meta_large_values_round_trip);
    RUN(meta_bit_flip_in_one_slot_falls_back);
    RUN(meta_corrupt_file_is_rejected);
    RUN(meta_unknown_version_is_rejected);
    RUN(meta_torn_slot_restores_previous_save);
    RUN(meta_saves_alternate_slots);
    RUN(meta_save_is_one_sync);
    RUN(meta_creation_is_durable);
    RUN(meta_old_format_is_converted);
    RUN(meta_second_opener_is_locked_out);
    RUN(meta_lock_holds_across_processes);
    RUN(meta_torn_tmp_is_ignored);
    RUN(meta_torn_first_save_restores_zeros);
    RUN(meta_failed_save_keeps_old_state);
    RUN(meta_open_makes_restored_state_durable);
    RUN(meta_dir_that_is_a_file_is_an_error);
    remove_tree(test_root);
    DONE();
}
