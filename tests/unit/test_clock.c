/* test_clock.c - the drivers' clocks (util/clock.h): milliseconds that
 * move forward, and a count of them as a struct timeval. */
#include "util/clock.h"

#include "harness.h"

#include <time.h>

TEST(monotonic_ms_move_forward_with_the_system_clock)
{
    struct timespec ts = {0, 20 * 1000000};
    uint64_t a = clock_mono_ms(), b;

    nanosleep(&ts, NULL);
    b = clock_mono_ms();
    EXPECT_TRUE(b >= a + 20);
    EXPECT_TRUE(b < a + 5000);
}

TEST(wall_ms_are_since_the_epoch)
{
    uint64_t now = clock_wall_ms();

    EXPECT_TRUE(now / 1000 >= (uint64_t)time(NULL) - 1);
    EXPECT_TRUE(now / 1000 <= (uint64_t)time(NULL));
}

TEST(timevals_split_seconds_and_microseconds)
{
    struct timeval tv = clock_tv(1500);

    EXPECT_EQ(tv.tv_sec, 1);
    EXPECT_EQ(tv.tv_usec, 500000);
    tv = clock_tv(0);
    EXPECT_EQ(tv.tv_sec, 0);
    EXPECT_EQ(tv.tv_usec, 0);
    tv = clock_tv(60000);
    EXPECT_EQ(tv.tv_sec, 60);
    EXPECT_EQ(tv.tv_usec, 0);
}

int main(void)
{
    RUN(monotonic_ms_move_forward_with_the_system_clock);
    RUN(wall_ms_are_since_the_epoch);
    RUN(timevals_split_seconds_and_microseconds);
    DONE();
}
