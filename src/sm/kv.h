/* kv.h - the replicated key-value store: the state machine's first part.
 *
 * Keys are up to SM_MAX_KEY printable bytes, values up to SM_MAX_VALUE
 * bytes. Every key remembers the log index that created it and the one that
 * last modified it; compare-and-set compares against the latter (0: the key
 * must not exist). Pure: no I/O; snapshots are encoded to and decoded from
 * memory, and the storage layer puts them on disk. */
#ifndef VARDE_SM_KV_H
#define VARDE_SM_KV_H

#include "sm/command.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_entry {
    struct kv_entry *next; /* hash chain */
    uint64_t create_index;
    uint64_t modify_index;
    uint32_t value_len;
    uint16_t key_len;
    uint8_t *value; /* points into the same block, after the key */
    char key[];     /* key_len bytes, a NUL, then value_len bytes */
};

struct kv;

enum kv_result {
    KV_OK = 0,
    KV_CAS_FAILED, /* the compare-and-set index did not match */
    KV_NOT_FOUND,  /* delete of a missing key (not an error) */
    KV_NO_MEMORY,
};

struct kv *kv_new(void);
void kv_free(struct kv *kv);

/* Apply command C committed at log INDEX. Deterministic: every replica that
 * applies the same commands in the same order reaches the same state. */
enum kv_result kv_apply(struct kv *kv, const struct sm_command *c,
                        uint64_t index);

/* The entry for KEY (LEN bytes), or NULL. Borrowed: valid until the next
 * kv_apply or kv_free. */
const struct kv_entry *kv_get(const struct kv *kv, const char *key, size_t len);

size_t kv_count(const struct kv *kv);
uint64_t kv_bytes(const struct kv *kv); /* keys and values, summed */

/* Encode the whole store into a malloc'ed buffer (*OUT, *LEN): a count,
 * then per key its lengths, indexes, key and value. Returns 0, or -1 out
 * of memory. */
int kv_encode(const struct kv *kv, uint8_t **out, size_t *len);

/* Replace the store's contents with an encoded snapshot. Returns 0, or -1
 * with a reason in ERR (the store is then unchanged). */
int kv_decode(struct kv *kv, const uint8_t *buf, size_t len, char *err,
              size_t errlen);

#endif
