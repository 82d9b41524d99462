/* test_datadir.c - a daemon's data dir (storage/datadir.h): created and
 * locked for one process, files replaced durably (and failed saves that
 * keep the old file), read back, leftovers removed. */
#include "storage/datadir.h"
#include "storage/sio.h"

#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char test_root[256];
static char err[512];

static const char *fresh_dir(const char *name)
{
    static char path[512];

    snprintf(path, sizeof(path), "%s/%s", test_root, name);
    return path;
}

static bool file_exists(const char *dir, const char *name)
{
    char path[700];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[700];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

TEST(lock_creates_the_dir_and_keeps_out_a_second_process)
{
    const char *dir = fresh_dir("lock/deep/er");
    char want[700], pid[32] = "";
    bool locked = true;
    int fd = datadir_lock(dir, &locked, err, sizeof(err));
    FILE *f;

    EXPECT_TRUE(fd >= 0);
    EXPECT_TRUE(!locked);
    EXPECT_EQ(datadir_lock(dir, &locked, err, sizeof(err)), -1);
    EXPECT_TRUE(locked);
    snprintf(want, sizeof(want), "data dir %s is in use by another process",
             dir);
    EXPECT_STR(err, want);
    snprintf(want, sizeof(want), "%s/LOCK", dir);
    f = fopen(want, "r");
    EXPECT_TRUE(f != NULL);
    EXPECT_TRUE(fgets(pid, sizeof(pid), f) != NULL);
    fclose(f);
    EXPECT_EQ(atol(pid), getpid()); /* for the operator who finds it */
    close(fd);
    fd = datadir_lock(dir, NULL, err, sizeof(err));
    EXPECT_TRUE(fd >= 0);
    close(fd);
}

TEST(lock_refuses_a_dir_that_is_a_file)
{
    bool locked = true;

    EXPECT_EQ(mkdir(fresh_dir("plain"), 0700), 0);
    write_text(fresh_dir("plain"), "file", "x");
    EXPECT_EQ(datadir_lock(fresh_dir("plain/file"), &locked, err, sizeof(err)),
              -1);
    EXPECT_TRUE(!locked);
    EXPECT_TRUE(strstr(err, "not a directory") != NULL);
    EXPECT_EQ(datadir_lock(fresh_dir("plain/file/sub"), NULL, err, sizeof(err)),
              -1);
    EXPECT_EQ(datadir_lock("", NULL, err, sizeof(err)), -1);
    EXPECT_STR(err, "data dir \"\": bad path");
}

TEST(lock_syncs_the_parents_of_new_dirs)
{
    const char *dir = fresh_dir("synced/a/b");
    int fd;

    sio_fault_clear();
    fd = datadir_lock(dir, NULL, err, sizeof(err));
    EXPECT_TRUE(fd >= 0);
    EXPECT_EQ(sio_calls(SIO_FSYNC), 3); /* one per new directory */
    close(fd);
    sio_fault_set(SIO_FSYNC, 1, 1, EIO);
    EXPECT_EQ(datadir_lock(fresh_dir("synced/c"), NULL, err, sizeof(err)), -1);
    sio_fault_clear();
    EXPECT_TRUE(strstr(err, "fsync parent of") != NULL);
}

TEST(replace_then_read_round_trips)
{
    const char *dir = fresh_dir("rt");
    char *text = NULL;
    size_t len = 0;
    int fd = datadir_lock(dir, NULL, err, sizeof(err));

    EXPECT_EQ(datadir_read(dir, "x.json", 100, &text, &len, err, sizeof(err)),
              0);
    EXPECT_TRUE(text == NULL);
    sio_fault_clear();
    EXPECT_EQ(datadir_replace(dir, "x.json", "{\"n\": 7}", 8, err, sizeof(err)),
              0);
    EXPECT_EQ(sio_calls(SIO_FSYNC), 2); /* x.json.tmp, then DIR */
    EXPECT_EQ(sio_calls(SIO_RENAME), 1);
    EXPECT_TRUE(!file_exists(dir, "x.json.tmp"));
    EXPECT_EQ(datadir_read(dir, "x.json", 100, &text, &len, err, sizeof(err)),
              1);
    EXPECT_EQ(len, 8);
    EXPECT_STR(text, "{\"n\": 7}"); /* NUL-terminated */
    free(text);
    close(fd);
}

TEST(a_failed_replace_keeps_the_old_file)
{
    const char *dir = fresh_dir("fail");
    enum sio_op ops[] = {SIO_WRITE, SIO_FSYNC, SIO_RENAME};
    const char *says[] = {"write ", "fsync ", "rename "};
    char *text = NULL;
    size_t len = 0;
    int fd = datadir_lock(dir, NULL, err, sizeof(err));

    EXPECT_EQ(datadir_replace(dir, "x", "old", 3, err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        sio_fault_set(ops[i], 1, 1, EIO);
        EXPECT_EQ(datadir_replace(dir, "x", "new", 3, err, sizeof(err)), -1);
        sio_fault_clear();
        EXPECT_TRUE(strncmp(err, says[i], strlen(says[i])) == 0);
        EXPECT_TRUE(strstr(err, "x.tmp") != NULL);
        EXPECT_TRUE(strstr(err, "Input/output error") != NULL);
        EXPECT_TRUE(!file_exists(dir, "x.tmp"));
        EXPECT_EQ(datadir_read(dir, "x", 100, &text, &len, err, sizeof(err)),
                  1);
        EXPECT_STR(text, "old");
        free(text);
    }
    EXPECT_EQ(
        datadir_replace("/nonexistent/dir", "x", "y", 1, err, sizeof(err)), -1);
    EXPECT_TRUE(strstr(err, "No such file or directory") != NULL);
    close(fd);
}

TEST(read_removes_a_leftover_tmp_and_bounds_the_size)
{
    const char *dir = fresh_dir("tmp");
    char *text = NULL, want[700];
    size_t len = 0;
    int fd = datadir_lock(dir, NULL, err, sizeof(err));

    write_text(dir, "x.tmp", "half");
    EXPECT_EQ(datadir_read(dir, "x", 100, &text, &len, err, sizeof(err)), 0);
    EXPECT_TRUE(!file_exists(dir, "x.tmp"));
    write_text(dir, "x", "0123456789");
    EXPECT_EQ(datadir_read(dir, "x", 10, &text, &len, err, sizeof(err)), 1);
    free(text);
    EXPECT_EQ(datadir_read(dir, "x", 9, &text, &len, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s/x: too large (10 bytes, at most 9)", dir);
    EXPECT_STR(err, want);
    close(fd);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int main(void)
{
    snprintf(test_root, sizeof(test_root), "/tmp/varde-test-datadir-%d",
             (int)getpid());
    nftw(test_root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (mkdir(test_root, 0700) < 0) {
        perror(test_root);
        return 1;
    }
    RUN(lock_creates_the_dir_and_keeps_out_a_second_process);
    RUN(lock_refuses_a_dir_that_is_a_file);
    RUN(lock_syncs_the_parents_of_new_dirs);
    RUN(replace_then_read_round_trips);
    RUN(a_failed_replace_keeps_the_old_file);
    RUN(read_removes_a_leftover_tmp_and_bounds_the_size);
    nftw(test_root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    DONE();
}
