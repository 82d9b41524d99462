/* test_crc32c.c - CRC32C against known vectors, chaining, and the hardware
 * path against the portable one. */
#include "storage/crc32c.h"

#include "harness.h"

#include <stdlib.h>

TEST(crc32c_matches_check_value)
{
    EXPECT_EQ(crc32c(0, "123456789", 9), 0xE3069283u);
    EXPECT_EQ(crc32c_portable(0, "123456789", 9), 0xE3069283u);
}

TEST(crc32c_of_nothing_is_zero)
{
    EXPECT_EQ(crc32c(0, NULL, 0), 0);
    EXPECT_EQ(crc32c(0x12345678u, NULL, 0), 0x12345678u);
}

/* RFC 3720 (iSCSI) B.4 test vectors. */
TEST(crc32c_matches_iscsi_vectors)
{
    uint8_t buf[32];

    memset(buf, 0, sizeof(buf));
    EXPECT_EQ(crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof(buf));
    EXPECT_EQ(crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) {
        buf[i] = (uint8_t)i;
    }
    EXPECT_EQ(crc32c(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) {
        buf[i] = (uint8_t)(31 - i);
    }
    EXPECT_EQ(crc32c(0, buf, 32), 0x113FDB5Cu);
}

TEST(crc32c_chains_across_calls)
{
    const char *s = "The quick brown fox jumps over the lazy dog";
    size_t n = strlen(s);
    uint32_t whole = crc32c(0, s, n);

    EXPECT_EQ(whole, 0x22620404u);
    for (size_t cut = 0; cut <= n; cut++) {
        EXPECT_EQ(crc32c(crc32c(0, s, cut), s + cut, n - cut), whole);
    }
}

TEST(crc32c_hardware_agrees_with_portable)
{
    uint8_t buf[1100];
    unsigned seed = 7;

    for (size_t i = 0; i < sizeof(buf); i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    for (size_t off = 0; off < 16; off++) {
        for (size_t len = 0; len + off <= sizeof(buf); len += 37) {
            EXPECT_EQ(crc32c(0, buf + off, len),
                      crc32c_portable(0, buf + off, len));
        }
    }
    printf("crc32c: hardware path %s\n", crc32c_hardware() ? "on" : "off");
}

int main(void)
{
    RUN(crc32c_matches_check_value);
    RUN(crc32c_of_nothing_is_zero);
    RUN(crc32c_matches_iscsi_vectors);
    RUN(crc32c_chains_across_calls);
    RUN(crc32c_hardware_agrees_with_portable);
    DONE();
}
