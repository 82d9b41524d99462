/* test_node_restore.c - on start, the recovered log is checked against the
 * newest snapshot: used as it is, started afresh after the snapshot, or
 * refused when entries are missing. */
#include "harness.h"

#include "node/node_int.h"

/* A recovered log of entries FIRST..LAST with terms from TERMS (one per
 * index, starting at FIRST). */
static struct wal_entries log_of(uint64_t first, uint64_t last,
                                 struct raft_entry *arr, const uint64_t *terms)
{
    struct wal_entries l = {arr, 0, first, last};

    for (uint64_t i = first; i <= last; i++) {
        arr[l.n] =
            (struct raft_entry){terms[l.n], i, RAFT_ENTRY_NORMAL, 0, NULL};
        l.n++;
    }
    return l;
}

static const uint64_t ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
static const uint64_t mixed[8] = {1, 1, 2, 2, 3, 3, 3, 3};

TEST(no_snapshot_takes_a_log_from_one)
{
    struct raft_entry arr[8];
    struct wal_entries l = log_of(1, 5, arr, ones);
    bool gap;

    EXPECT_TRUE(node_snap_log_mismatch(0, 0, &l, &gap) == NULL);
    EXPECT_EQ(gap, false);
    l = log_of(1, 0, arr, ones); /* fresh: empty from 1 */
    EXPECT_TRUE(node_snap_log_mismatch(0, 0, &l, &gap) == NULL);
}

TEST(log_that_continues_the_snapshot_is_used)
{
    struct raft_entry arr[8];
    struct wal_entries l = log_of(3, 8, arr, mixed); /* 3..8 */
    bool gap;

    /* Entries kept behind the snapshot, with its term at its index. */
    EXPECT_TRUE(node_snap_log_mismatch(5, 2, &l, &gap) == NULL);
    /* Starting right after it. */
    EXPECT_TRUE(node_snap_log_mismatch(2, 1, &l, &gap) == NULL);
    /* Ending at it. */
    EXPECT_TRUE(node_snap_log_mismatch(8, 3, &l, &gap) == NULL);
    /* Empty, and starting right after it (a reset log). */
    l = log_of(9, 8, arr, mixed);
    EXPECT_TRUE(node_snap_log_mismatch(8, 3, &l, &gap) == NULL);
    EXPECT_EQ(gap, false);
}

TEST(log_from_before_an_installed_snapshot_starts_afresh)
{
    struct raft_entry arr[8];
    struct wal_entries l = log_of(1, 6, arr, mixed);
    bool gap;
    const char *why;

    /* Another term at the snapshot's index: the old log of a follower
     * that crashed between installing a snapshot and resetting its log. */
    why = node_snap_log_mismatch(4, 3, &l, &gap);
    EXPECT_TRUE(why != NULL && strstr(why, "another term") != NULL);
    EXPECT_EQ(gap, false);
    /* The log ends before the snapshot. */
    why = node_snap_log_mismatch(10, 4, &l, &gap);
    EXPECT_TRUE(why != NULL && strstr(why, "covers all") != NULL);
    EXPECT_EQ(gap, false);
    /* Empty from 1 under a snapshot: a reset cut short. */
    l = log_of(1, 0, arr, mixed);
    why = node_snap_log_mismatch(10, 4, &l, &gap);
    EXPECT_TRUE(why != NULL && strstr(why, "empty") != NULL);
    EXPECT_EQ(gap, false);
}

TEST(log_with_a_gap_after_the_snapshot_is_refused)
{
    struct raft_entry arr[8];
    struct wal_entries l = log_of(7, 9, arr, ones);
    bool gap;

    EXPECT_TRUE(node_snap_log_mismatch(5, 1, &l, &gap) != NULL);
    EXPECT_EQ(gap, true);
    EXPECT_TRUE(node_snap_log_mismatch(0, 0, &l, &gap) != NULL);
    EXPECT_EQ(gap, true);
    l = log_of(7, 6, arr, ones);
    EXPECT_TRUE(node_snap_log_mismatch(5, 1, &l, &gap) != NULL);
    EXPECT_EQ(gap, true);
}

int main(void)
{
    RUN(no_snapshot_takes_a_log_from_one);
    RUN(log_that_continues_the_snapshot_is_used);
    RUN(log_from_before_an_installed_snapshot_starts_afresh);
    RUN(log_with_a_gap_after_the_snapshot_is_refused);
    DONE();
}
