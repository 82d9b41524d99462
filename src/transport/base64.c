/* base64.c - strict standard base64; see base64.h. */
#include "transport/base64.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

void base64_encode(const uint8_t *src, size_t n, char *dst)
{
    size_t i = 0;

    for (; i + 3 <= n; i += 3) {
        uint32_t v =
            (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        *dst++ = base64_alphabet[v >> 18 & 63];
        *dst++ = base64_alphabet[v >> 12 & 63];
        *dst++ = base64_alphabet[v >> 6 & 63];
        *dst++ = base64_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)src[i] << 16;
        *dst++ = base64_alphabet[v >> 18 & 63];
        *dst++ = base64_alphabet[v >> 12 & 63];
        *dst++ = '=';
        *dst++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
        *dst++ = base64_alphabet[v >> 18 & 63];
        *dst++ = base64_alphabet[v >> 12 & 63];
        *dst++ = base64_alphabet[v >> 6 & 63];
        *dst++ = '=';
    }
    *dst = '\0';
}

size_t base64_decoded_max(size_t n)
{
    return n % 4 != 0 ? (size_t)-1 : n / 4 * 3;
}

/* The 6-bit value of C, or -1 when C is not in the alphabet. */
static int base64_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

/* Decode the last quantum Q (4 characters, maybe padded) into DST. Returns
 * the bytes written, or -1. */
static int base64_decode_last(const char *q, uint8_t *dst)
{
    int pad = (q[3] == '=') + (q[2] == '=' && q[3] == '=');
    int v[4] = {0, 0, 0, 0};

    for (int i = 0; i < 4 - pad; i++) {
        v[i] = base64_value(q[i]);
        if (v[i] < 0) {
            return -1;
        }
    }
    if ((pad == 1 && (v[2] & 3) != 0) || (pad == 2 && (v[1] & 15) != 0)) {
        return -1; /* non-canonical: unused bits set */
    }
    dst[0] = (uint8_t)(v[0] << 2 | v[1] >> 4);
    if (pad < 2) {
        dst[1] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
    }
    if (pad < 1) {
        dst[2] = (uint8_t)((v[2] & 3) << 6 | v[3]);
    }
    return 3 - pad;
}

/* Decode one full quantum (no padding) into DST. Returns 0, or -1. */
static int base64_decode_full(const char *q, uint8_t *dst)
{
    int a = base64_value(q[0]), b = base64_value(q[1]);
    int c = base64_value(q[2]), d = base64_value(q[3]);

    if ((a | b | c | d) < 0) {
        return -1;
    }
    dst[0] = (uint8_t)(a << 2 | b >> 4);
    dst[1] = (uint8_t)((b & 15) << 4 | c >> 2);
    dst[2] = (uint8_t)((c & 3) << 6 | d);
    return 0;
}

long base64_decode(const char *src, size_t n, uint8_t *dst)
{
    size_t out = 0;
    int w;

    if (n % 4 != 0) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    for (size_t i = 0; i + 4 < n; i += 4, out += 3) {
        if (base64_decode_full(src + i, dst + out) < 0) {
            return -1;
        }
    }
    w = base64_decode_last(src + n - 4, dst + out);
    return w < 0 ? -1 : (long)(out + (size_t)w);
}
