/* test_num.c - rounding without libm. */
#include "harness.h"

#include "util/num.h"

TEST(num_round_goes_half_away_from_zero)
{
    EXPECT_TRUE(num_round(0.4) == 0.0);
    EXPECT_TRUE(num_round(0.5) == 1.0);
    EXPECT_TRUE(num_round(-0.5) == -1.0);
    EXPECT_TRUE(num_round(99.99999999) == 100.0);
    EXPECT_TRUE(num_round(0.1 * 1000) == 100.0);
    EXPECT_TRUE(num_round(1e300) == 1e300);
    EXPECT_TRUE(num_round(-1e300) == -1e300);
}

TEST(num_floor_is_the_whole_number_below)
{
    EXPECT_TRUE(num_floor(2.7) == 2.0);
    EXPECT_TRUE(num_floor(-2.5) == -3.0);
    EXPECT_TRUE(num_floor(-3.0) == -3.0);
    EXPECT_TRUE(num_floor(5.0) == 5.0);
    EXPECT_TRUE(num_floor(9007199254740993.0) == 9007199254740993.0);
    EXPECT_TRUE(num_floor(1.0 / 0.0) == 1.0 / 0.0);
}

TEST(num_leaves_nan_alone)
{
    double nan = 0.0 / 0.0;

    EXPECT_TRUE(num_round(nan) != num_round(nan));
    EXPECT_TRUE(num_floor(nan) != num_floor(nan));
    EXPECT_TRUE(num_abs(-2.5) == 2.5);
}

int main(void)
{
    RUN(num_round_goes_half_away_from_zero);
    RUN(num_floor_is_the_whole_number_below);
    RUN(num_leaves_nan_alone);
    DONE();
}
