/* state.c - the snapshot body of the whole state (format in state.h). */
#include "sm/state.h"

#include "util/err.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC_LEN 8
#define HEADER (MAGIC_LEN + 8)

int sm_state_encode(const struct kv *kv, const struct fleet *fleet,
                    uint8_t **out, size_t *len)
{
    uint8_t *kvb, *buf;
    char *fb;
    size_t kvlen, flen;

    if (kv_encode(kv, &kvb, &kvlen) < 0) {
        return -1;
    }
    if (fleet_encode(fleet, &fb, &flen) < 0) {
        free(kvb);
        return -1;
    }
    buf = malloc(HEADER + kvlen + flen);
    if (buf != NULL) {
        memcpy(buf, SM_STATE_MAGIC, MAGIC_LEN);
        for (int i = 0; i < 8; i++) {
            buf[MAGIC_LEN + i] = (uint8_t)((uint64_t)kvlen >> (8 * i));
        }
        memcpy(buf + HEADER, kvb, kvlen);
        memcpy(buf + HEADER + kvlen, fb, flen);
        *out = buf;
        *len = HEADER + kvlen + flen;
    }
    free(kvb);
    free(fb);
    return buf == NULL ? -1 : 0;
}

int sm_state_decode(struct kv *kv, struct fleet *fleet, const uint8_t *buf,
                    size_t len, char *err, size_t errlen)
{
    struct fleet *fresh;
    uint64_t kvlen = 0;
    int rc;

    if (len < HEADER || memcmp(buf, SM_STATE_MAGIC, MAGIC_LEN) != 0) {
        /* The first format: the store alone, and no fleet. */
        if (kv_decode(kv, buf, len, err, errlen) < 0) {
            return -1;
        }
        fleet_reset(fleet);
        return 0;
    }
    for (int i = 7; i >= 0; i--) {
        kvlen = (kvlen << 8) | buf[MAGIC_LEN + i];
    }
    if (kvlen > len - HEADER) {
        return err_fail(err, errlen,
                        "state snapshot: store length %llu is "
                        "past the end",
                        (unsigned long long)kvlen);
    }
    fresh = fleet_new();
    if (fresh == NULL) {
        return err_fail(err, errlen, "out of memory");
    }
    /* The fleet first, into a spare: the store's decode is the last step
     * that can fail, and both must change or neither. */
    rc = fleet_decode(fresh, (const char *)buf + HEADER + kvlen,
                      len - HEADER - kvlen, err, errlen);
    if (rc == 0) {
        rc = kv_decode(kv, buf + HEADER, (size_t)kvlen, err, errlen);
    }
    if (rc == 0) {
        fleet_swap(fleet, fresh);
    }
    fleet_free(fresh);
    return rc;
}
