/* test_raft_log.c - the core's log arithmetic, the up-to-date rule (Raft
 * paper 5.4.1) and releasing entry bodies, on logs built by hand. */
#include "harness.h"
#include "raft/raft_log.h"

#include <stdlib.h>
#include <string.h>

/* A log holding entries of the given terms, from index BASE + 1. */
static void build(struct raft_log *l, uint64_t base, uint64_t base_term,
                  const uint64_t *terms, size_t n)
{
    raft_log_init(l);
    l->base_index = base;
    l->base_term = base_term;
    l->released = base;
    l->entries = calloc(n ? n : 1, sizeof(*l->entries));
    l->len = n;
    l->cap = n;
    for (size_t i = 0; i < n; i++) {
        l->entries[i].term = terms[i];
        l->entries[i].index = base + 1 + i;
    }
}

TEST(empty_log_has_index_and_term_zero)
{
    struct raft_log l;

    build(&l, 0, 0, NULL, 0);
    EXPECT_EQ(raft_log_last_index(&l), 0);
    EXPECT_EQ(raft_log_last_term(&l), 0);
    EXPECT_EQ(raft_log_term_at(&l, 0), 0);
    EXPECT_EQ(raft_log_term_at(&l, 1), 0);
    raft_log_close(&l);
}

TEST(vote_log_check_prefers_higher_last_term)
{
    const uint64_t t[] = {1, 1, 2};
    struct raft_log l;

    build(&l, 0, 0, t, 3);
    EXPECT_TRUE(!raft_log_is_up_to_date(&l, 10, 1)); /* longer, older term */
    EXPECT_TRUE(raft_log_is_up_to_date(&l, 1, 3));   /* shorter, newer */
    raft_log_close(&l);
}

TEST(vote_log_check_with_equal_terms_prefers_the_longer)
{
    const uint64_t t[] = {1, 1, 2};
    struct raft_log l;

    build(&l, 0, 0, t, 3);
    EXPECT_TRUE(!raft_log_is_up_to_date(&l, 2, 2));
    EXPECT_TRUE(raft_log_is_up_to_date(&l, 3, 2));
    EXPECT_TRUE(raft_log_is_up_to_date(&l, 4, 2));
    raft_log_close(&l);
}

TEST(term_at_respects_the_snapshot_point)
{
    const uint64_t t[] = {3, 4};
    struct raft_log l;

    build(&l, 10, 3, t, 2);
    EXPECT_EQ(raft_log_last_index(&l), 12);
    EXPECT_EQ(raft_log_term_at(&l, 9), 0); /* compacted away: unknown */
    EXPECT_EQ(raft_log_term_at(&l, 10), 3);
    EXPECT_EQ(raft_log_term_at(&l, 12), 4);
    EXPECT_EQ(raft_log_term_at(&l, 13), 0);
    raft_log_close(&l);
}

TEST(term_start_finds_first_index_of_the_run)
{
    const uint64_t t[] = {1, 2, 2, 2, 3};
    struct raft_log l;

    build(&l, 0, 0, t, 5);
    EXPECT_EQ(raft_log_term_start(&l, 4), 2);
    EXPECT_EQ(raft_log_term_start(&l, 5), 5);
    EXPECT_EQ(raft_log_term_start(&l, 1), 1);
    raft_log_close(&l);
}

/* A log of N entries after BASE, each with a copy of "body". */
static void build_with_data(struct raft_log *l, uint64_t base, size_t n)
{
    raft_log_init(l);
    raft_log_reset(l, base, 1);
    for (size_t i = 0; i < n; i++) {
        struct raft_entry e = {.term = 2,
                               .index = base + 1 + i,
                               .type = RAFT_ENTRY_NORMAL,
                               .len = 4,
                               .data = (uint8_t *)"body"};

        raft_log_append(l, &e);
    }
}

TEST(release_frees_a_prefix_and_keeps_the_slots)
{
    struct raft_log l;
    const struct raft_entry *e;

    build_with_data(&l, 10, 5);
    EXPECT_EQ(l.released, 10);
    EXPECT_EQ(raft_log_release(&l, 13, 2), 2); /* bounded */
    EXPECT_EQ(l.released, 12);
    EXPECT_EQ(raft_log_release(&l, 13, 2), 1);
    EXPECT_EQ(l.released, 13);
    for (uint64_t i = 11; i <= 13; i++) {
        e = raft_log_get(&l, i);
        EXPECT_TRUE(e->data == NULL);
        EXPECT_EQ(e->len, 4);
        EXPECT_EQ(e->term, 2);
        EXPECT_EQ(e->index, i);
    }
    e = raft_log_get(&l, 14);
    EXPECT_TRUE(e->data != NULL && memcmp(e->data, "body", 4) == 0);
    EXPECT_EQ(raft_log_release(&l, 12, 10), 0); /* never backwards */
    EXPECT_EQ(raft_log_release(&l, 99, 10), 2); /* up to the last only */
    EXPECT_EQ(l.released, 15);
    raft_log_close(&l);
}

TEST(release_point_follows_compaction_truncation_and_reset)
{
    struct raft_log l;
    struct raft_entry e = {.term = 3, .len = 1, .data = (uint8_t *)"z"};

    build_with_data(&l, 0, 10);
    raft_log_release(&l, 4, 100);
    raft_log_compact(&l, 6); /* past the release point */
    EXPECT_EQ(l.released, 6);
    raft_log_release(&l, 9, 100);
    raft_log_truncate_from(&l, 8); /* drops released entries 8, 9 */
    EXPECT_EQ(l.released, 7);
    e.index = 8;
    EXPECT_EQ(raft_log_append(&l, &e), 0);
    EXPECT_TRUE(raft_log_get(&l, 8)->data != NULL);
    raft_log_reset(&l, 20, 3);
    EXPECT_EQ(l.released, 20);
    EXPECT_EQ(raft_log_release(&l, 30, 10), 0);
    raft_log_close(&l);
}

int main(void)
{
    RUN(empty_log_has_index_and_term_zero);
    RUN(vote_log_check_prefers_higher_last_term);
    RUN(vote_log_check_with_equal_terms_prefers_the_longer);
    RUN(term_at_respects_the_snapshot_point);
    RUN(term_start_finds_first_index_of_the_run);
    RUN(release_frees_a_prefix_and_keeps_the_slots);
    RUN(release_point_follows_compaction_truncation_and_reset);
    DONE();
}
