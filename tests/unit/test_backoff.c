/* test_backoff.c - the jittered backoff of the daemons' retries, and the
 * random bits it is fed. */
#include "util/backoff.h"

#include "harness.h"

TEST(backoff_doubles_to_its_ceiling_within_the_jitter)
{
    struct backoff b;
    uint64_t rng = 42;
    uint32_t step = 100;

    backoff_init(&b, 100, 5000);
    for (int i = 0; i < 20; i++) {
        uint32_t w = backoff_next(&b, backoff_rand_next(&rng));

        EXPECT_TRUE(w >= step / 2 && w < step + step / 2);
        step = step * 2 < 5000 ? step * 2 : 5000;
    }
    EXPECT_EQ(b.step_ms, 5000);
    backoff_reset(&b);
    EXPECT_EQ(b.step_ms, 100);
    EXPECT_EQ(backoff_next(&b, 0), 50);
    EXPECT_EQ(backoff_next(&b, UINT64_MAX), 200 / 2 + 199);
}

TEST(backoff_jitter_spans_half_to_one_and_a_half)
{
    struct backoff b;

    backoff_init(&b, 1000, 1000);
    EXPECT_EQ(backoff_next(&b, 0), 500);
    EXPECT_EQ(backoff_next(&b, UINT64_MAX), 1499);
    EXPECT_EQ(backoff_next(&b, 1ull << 63), 1000);
}

TEST(backoff_bounds_are_fixed_up)
{
    struct backoff b;

    backoff_init(&b, 0, 0); /* at least 1 ms, a ceiling under the floor */
    EXPECT_EQ(b.min_ms, 1);
    EXPECT_EQ(b.max_ms, 1);
    EXPECT_EQ(backoff_next(&b, 0), 1); /* half of 1 ms is still 1 */
    backoff_init(&b, 300, 200);
    EXPECT_EQ(b.max_ms, 300);
}

TEST(backoff_spreads_a_fleet)
{
    struct backoff b;
    uint32_t lo = UINT32_MAX, hi = 0;

    /* 100 daemons, seeded apart, lose their peer at once: their first
     * retries spread over most of [50, 150) ms. */
    for (uint64_t seed = 1; seed <= 100; seed++) {
        uint64_t rng = seed;
        uint32_t w;

        backoff_init(&b, 100, 5000);
        w = backoff_next(&b, backoff_rand_next(&rng));
        lo = w < lo ? w : lo;
        hi = w > hi ? w : hi;
    }
    EXPECT_TRUE(lo < 60);
    EXPECT_TRUE(hi >= 140);
}

TEST(rand_replays_from_its_seed)
{
    uint64_t a = 7, b = 7, c = 8;
    uint64_t x = backoff_rand_next(&a);

    EXPECT_EQ(x, backoff_rand_next(&b));
    EXPECT_NE(x, backoff_rand_next(&c));
    EXPECT_NE(x, backoff_rand_next(&a));
}

TEST(seeds_differ_between_calls)
{
    /* getrandom() or the clock: two seeds in a row are not the same. */
    EXPECT_NE(backoff_seed(), backoff_seed());
}

int main(void)
{
    RUN(backoff_doubles_to_its_ceiling_within_the_jitter);
    RUN(backoff_jitter_spans_half_to_one_and_a_half);
    RUN(backoff_bounds_are_fixed_up);
    RUN(backoff_spreads_a_fleet);
    RUN(rand_replays_from_its_seed);
    RUN(seeds_differ_between_calls);
    DONE();
}
