/* test_agent_logs.c - a task's output: when and how it is rotated (pure),
 * where a read begins, and the rotation and reads on real files, a writer
 * that keeps its O_APPEND descriptor included. */
#include "agent/agent_logs.h"
#include "storage/sio.h"

#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static char err[512];

static void put(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* All LEN bytes from FROM, as a string (static buffer). */
static const char *read_all(uint64_t start, uint64_t from, size_t max)
{
    static char text[8192];
    char *buf = NULL;
    size_t len = 0;

    if (agent_log_read(dir, start, from, max, &buf, &len, err, sizeof(err)) <
        0) {
        return "(error)";
    }
    snprintf(text, sizeof(text), "%.*s", (int)len, buf);
    free(buf);
    return text;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void fresh_dir(void)
{
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    mkdir(dir, 0700);
}

TEST(plan_rotates_past_the_bound_only)
{
    struct agent_log_plan p = agent_log_plan(100, 50, 100, 7);

    EXPECT_TRUE(!p.rotate);
    EXPECT_EQ(p.new_start, 7);
    p = agent_log_plan(101, 50, 100, 7);
    EXPECT_TRUE(p.rotate);
    EXPECT_EQ(p.from, 1);
    EXPECT_EQ(p.len, 100);
    EXPECT_EQ(p.new_start, 7 + 50 + 1); /* the old copy and one byte gone */
    p = agent_log_plan(1000, 0, 100, 0);
    EXPECT_EQ(p.from, 900);
    EXPECT_EQ(p.new_start, 900);
}

TEST(begin_clamps_and_counts_back_from_the_end)
{
    EXPECT_EQ(agent_log_begin(0, 10, 50), 10);
    EXPECT_EQ(agent_log_begin(20, 10, 50), 20);
    EXPECT_EQ(agent_log_begin(99, 10, 50), 50);
    EXPECT_EQ(agent_log_begin(-5, 10, 50), 45);
    EXPECT_EQ(agent_log_begin(-45, 10, 50), 10);
    EXPECT_EQ(agent_log_begin(-1000, 10, 50), 10);
    EXPECT_EQ(agent_log_begin(INT64_MIN, 0, 50), 0);
    EXPECT_EQ(agent_log_begin(-1, 0, 0), 0);
}

TEST(read_spans_the_rotated_file_and_the_current_one)
{
    fresh_dir();
    put(AGENT_LOG_OLD, "abcdef");
    put(AGENT_LOG_FILE, "ghij");
    /* kept from offset 100: abcdef at 100..105, ghij at 106..109 */
    EXPECT_STR(read_all(100, 100, 100), "abcdefghij");
    EXPECT_STR(read_all(100, 0, 100), "abcdefghij"); /* before: from start */
    EXPECT_STR(read_all(100, 104, 100), "efghij");
    EXPECT_STR(read_all(100, 104, 3), "efg");
    EXPECT_STR(read_all(100, 107, 100), "hij");
    EXPECT_STR(read_all(100, 110, 100), "");
    EXPECT_STR(read_all(100, 500, 100), "");
}

TEST(read_without_files_is_empty)
{
    uint64_t old = 9, cur = 9;

    fresh_dir();
    EXPECT_STR(read_all(0, 0, 100), "");
    agent_log_sizes(dir, &old, &cur);
    EXPECT_EQ(old, 0);
    EXPECT_EQ(cur, 0);
}

TEST(rotate_keeps_the_tail_and_the_writer_appends_at_the_new_end)
{
    uint64_t start = 0;
    char path[512];
    int fd;

    fresh_dir();
    snprintf(path, sizeof(path), "%s/%s", dir, AGENT_LOG_FILE);
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    EXPECT_TRUE(write(fd, "0123456789", 10) == 10);
    EXPECT_EQ(agent_log_rotate(dir, 16, &start, err, sizeof(err)), 0);
    EXPECT_EQ(start, 0);
    EXPECT_TRUE(write(fd, "ABCDEFGHIJ", 10) == 10);
    EXPECT_EQ(agent_log_rotate(dir, 16, &start, err, sizeof(err)), 1);
    EXPECT_EQ(start, 4); /* "0123" went */
    EXPECT_STR(read_all(start, start, 100), "456789ABCDEFGHIJ");
    EXPECT_TRUE(write(fd, "xyz", 3) == 3);
    EXPECT_STR(read_all(start, start, 100), "456789ABCDEFGHIJxyz");
    EXPECT_STR(read_all(start, 16, 100), "GHIJxyz"); /* offsets hold */
    EXPECT_TRUE(write(fd, "0123456789abcdef", 16) == 16);
    EXPECT_EQ(agent_log_rotate(dir, 16, &start, err, sizeof(err)), 1);
    EXPECT_EQ(start, 4 + 16 + 3); /* the old copy, and "xyz" */
    EXPECT_STR(read_all(start, 0, 100), "0123456789abcdef");
    close(fd);
}

TEST(rotate_failure_leaves_the_start)
{
    uint64_t start = 5;

    fresh_dir();
    put(AGENT_LOG_FILE, "0123456789");
    sio_fault_set(SIO_RENAME, 1, 1, EIO);
    EXPECT_EQ(agent_log_rotate(dir, 4, &start, err, sizeof(err)), -1);
    sio_fault_clear();
    EXPECT_EQ(start, 5);
    EXPECT_TRUE(strstr(err, "rename") != NULL);
    EXPECT_STR(read_all(start, 0, 100), "0123456789");
    EXPECT_EQ(agent_log_rotate(dir, 4, &start, err, sizeof(err)), 1);
    EXPECT_EQ(start, 11);
    EXPECT_STR(read_all(start, 0, 100), "6789");
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/varde-test-agent-logs-%d", (int)getpid());
    RUN(plan_rotates_past_the_bound_only);
    RUN(begin_clamps_and_counts_back_from_the_end);
    RUN(read_spans_the_rotated_file_and_the_current_one);
    RUN(read_without_files_is_empty);
    RUN(rotate_keeps_the_tail_and_the_writer_appends_at_the_new_end);
    RUN(rotate_failure_leaves_the_start);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    DONE();
}
