/* state.h - the whole replicated state in a snapshot: the key-value store
 * and the fleet.
 *
 * Layout: the 8 bytes "VARDESM2", the key-value store's length (8 bytes,
 * little endian), its encoding (kv_encode), then the fleet's (fleet_encode)
 * to the end. A body without the magic is the first format, the key-value
 * store alone (and an empty fleet): snapshots on disk are forever. Pure. */
#ifndef VARDE_SM_STATE_H
#define VARDE_SM_STATE_H

#include "sm/fleet.h"
#include "sm/kv.h"

#include <stddef.h>
#include <stdint.h>

#define SM_STATE_MAGIC "VARDESM2"

/* Encode KV and FLEET into a malloc'ed buffer. Returns 0, or -1 out of
 * memory. */
int sm_state_encode(const struct kv *kv, const struct fleet *fleet,
                    uint8_t **out, size_t *len);

/* Replace KV's and FLEET's contents with an encoding. Returns 0, or -1
 * with ERR; then both are unchanged. */
int sm_state_decode(struct kv *kv, struct fleet *fleet, const uint8_t *buf,
                    size_t len, char *err, size_t errlen);

#endif
