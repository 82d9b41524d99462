/* crc32c.h - CRC32C (Castagnoli), the checksum of every on-disk record.
 *
 * The polynomial is 0x1EDC6F41 (reflected: 0x82F63B78), as used by iSCSI,
 * ext4 and SSE4.2's crc32 instruction. The usual convention applies: the
 * register starts at all ones and the result is inverted. Both inversions
 * happen inside crc32c(), so a caller starts with 0 and may chain calls:
 *
 *   crc32c(0, "123456789", 9)                  == 0xE3069283
 *   crc32c(crc32c(0, a, n), b, m)              == crc32c(0, a ++ b, n + m)
 */
#ifndef VARDE_CRC32C_H
#define VARDE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend CRC (0 to start) with LEN bytes at BUF and return the new CRC.
 * Uses the SSE4.2 instruction when the CPU has it, else slice-by-8 tables.
 * BUF may be NULL when LEN is 0. Thread-safe. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The same function, always through the portable tables. For tests that
 * check the hardware path against it. */
uint32_t crc32c_portable(uint32_t crc, const void *buf, size_t len);

/* True when crc32c() uses the SSE4.2 instruction on this machine. */
int crc32c_hardware(void);

#endif
