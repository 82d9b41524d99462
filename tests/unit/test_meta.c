/* test_meta.c - the durable term and vote: round trip, restart, corruption,
 * the data-dir lock and torn saves. */
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

/* Every single-bit flip and every truncation of a valid record is refused
 * with the file named, and the restored state is zeroed, not half-read. */
TEST(meta_corrupt_file_is_rejected)
{
    const char *dir = fresh_dir("corrupt");
    char path[600], err[256];
    uint8_t good[64], bad[64];
    struct raft_hard_state got;
    struct meta_store *m;
    size_t n;

    EXPECT_EQ(save(dir, 9, 2), 0);
    n = read_file(dir, "meta", good, sizeof(good));
    EXPECT_EQ(n, 28);
    snprintf(path, sizeof(path), "%s/meta", dir);
    for (size_t bit = 0; bit < n * 8; bit++) {
        memcpy(bad, good, n);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        write_file(dir, "meta", bad, n);
        got.term = 1;
        EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_CORRUPT);
        EXPECT_TRUE(m == NULL);
        EXPECT_EQ(got.term, 0);
        EXPECT_TRUE(strstr(err, path) != NULL);
    }
    for (size_t len = 0; len < n; len++) {
        write_file(dir, "meta", good, len);
        EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_CORRUPT);
        EXPECT_TRUE(strstr(err, "truncated") != NULL);
    }
    memcpy(bad, good, n);
    bad[n] = 0;
    write_file(dir, "meta", bad, n + 1);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "trailing") != NULL);
}

TEST(meta_unknown_version_is_rejected)
{
    const char *dir = fresh_dir("version");
    struct raft_hard_state got;
    struct meta_store *m;
    uint8_t rec[28];
    char err[256];

    EXPECT_EQ(save(dir, 1, 1), 0);
    EXPECT_EQ(read_file(dir, "meta", rec, sizeof(rec)), 28);
    sio_put_le32(rec + 4, 2);
    write_file(dir, "meta", rec, sizeof(rec));
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_ERR_CORRUPT);
    EXPECT_TRUE(strstr(err, "version 2") != NULL);
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

/* A failed write or fsync is reported, and the old state stays on disk. */
TEST(meta_failed_save_keeps_old_state)
{
    const char *dir = fresh_dir("faults");
    struct raft_hard_state hs = {10, 1}, got;
    struct meta_store *m;
    char err[256];

    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_OK);
    hs.term = 11;
    hs.vote = 2;

    sio_fault_set(SIO_WRITE, 1, 1, ENOSPC);
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_ERR_IO);
    EXPECT_TRUE(strstr(err, "meta.tmp") != NULL);
    EXPECT_TRUE(strstr(err, strerror(ENOSPC)) != NULL);

    sio_fault_set(SIO_FSYNC, 1, 1, EIO);
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_ERR_IO);
    EXPECT_TRUE(strstr(err, "fsync") != NULL);

    sio_fault_set(SIO_RENAME, 1, 1, EIO);
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_ERR_IO);
    sio_fault_clear();
    meta_close(m);

    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(got.term, 10);
    EXPECT_EQ(got.vote, 1);
    EXPECT_EQ(meta_save(m, &hs, err, sizeof(err)), META_OK);
    meta_close(m);
    EXPECT_EQ(meta_open(dir, &m, &got, err, sizeof(err)), META_OK);
    EXPECT_EQ(got.term, 11);
    EXPECT_EQ(got.vote, 2);
    meta_close(m);
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
    RUN(meta_corrupt_file_is_rejected);
    RUN(meta_unknown_version_is_rejected);
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
