/* base64.h - standard base64 (RFC 4648 section 4, with padding), strict. */
#ifndef VARDE_BASE64_H
#define VARDE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode N bytes (without the terminating NUL). */
size_t base64_encoded_len(size_t n);

/* Encode the N bytes at SRC into DST, which holds base64_encoded_len(N) + 1
 * bytes; DST is NUL-terminated. */
void base64_encode(const uint8_t *src, size_t n, char *dst);

/* Bytes that a valid encoding of N characters decodes to, or SIZE_MAX when
 * N is not a multiple of 4 (an upper bound: padding takes off up to two). */
size_t base64_decoded_max(size_t n);

/* Decode the N characters at SRC into DST (room for base64_decoded_max(N)
 * bytes). Only the canonical form is taken: the standard alphabet, length a
 * multiple of 4, '=' only as the last one or two characters, unused bits
 * zero; so every byte string has exactly one accepted encoding. Returns the
 * decoded length, or -1 on anything else. */
long base64_decode(const char *src, size_t n, uint8_t *dst);

#endif
