/* crc32c.c - CRC32C, portable slice-by-8 plus an SSE4.2 path.
 *
 * Slice-by-8: table[0] is the classic byte-at-a-time table for the reflected
 * polynomial; table[k][b] is the CRC of byte b followed by k zero bytes. Eight
 * input bytes are then folded with eight lookups instead of eight dependent
 * steps. The tables are computed once, before main(), by a constructor, so
 * crc32c() needs no lock and no first-use check.
 *
 * The hardware path uses the crc32 instruction of SSE4.2 (8 bytes at a time)
 * and is chosen at start-up by a CPU check; the unit test compares both paths
 * on random buffers of every alignment.
 */
#include "storage/crc32c.h"

#include <string.h>

#define CRC32C_POLY 0x82F63B78u /* 0x1EDC6F41, bit-reversed */

static uint32_t crc32c_table[8][256];
static int crc32c_use_hw;

__attribute__((constructor)) static void crc32c_init(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;

        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        }
        crc32c_table[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; b++) {
        for (int t = 1; t < 8; t++) {
            uint32_t prev = crc32c_table[t - 1][b];

            crc32c_table[t][b] = (prev >> 8) ^ crc32c_table[0][prev & 0xff];
        }
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc32c_use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

uint32_t crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t c = ~crc;

    while (len >= 8) {
        uint64_t w = load_le64(p) ^ c;

        c = crc32c_table[7][w & 0xff] ^ crc32c_table[6][(w >> 8) & 0xff] ^
            crc32c_table[5][(w >> 16) & 0xff] ^
            crc32c_table[4][(w >> 24) & 0xff] ^
            crc32c_table[3][(w >> 32) & 0xff] ^
            crc32c_table[2][(w >> 40) & 0xff] ^
            crc32c_table[1][(w >> 48) & 0xff] ^ crc32c_table[0][w >> 56];
        p += 8;
        len -= 8;
    }
    while (len-- > 0) {
        c = (c >> 8) ^ crc32c_table[0][(c ^ *p++) & 0xff];
    }
    return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t c = ~crc;

    while (len >= 8) {
        uint64_t w;

        memcpy(&w, p, sizeof(w)); /* x86 is little-endian */
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        len -= 8;
    }
    while (len-- > 0) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    }
    return ~(uint32_t)c;
}
#endif

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
    if (crc32c_use_hw) {
        return crc32c_sse42(crc, buf, len);
    }
#endif
    return crc32c_portable(crc, buf, len);
}

int crc32c_hardware(void)
{
    return crc32c_use_hw;
}
