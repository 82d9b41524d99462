/* kv.h - the replicated key-value store: the state machine's first part.
 *
 * Keys are up to SM_MAX_KEY printable bytes, values up to SM_MAX_VALUE
 * bytes. Every key remembers the log index that created it and the one that
 * last modified it; compare-and-set compares against the latter (0: the key
 * must not exist). Pure: no I/O; snapshots are encoded to and decoded from
 * memory, and the storage layer puts them on disk.
 *
 * The store keeps its records packed in large blocks (kv.c says how), so a
 * key costs its bytes and about a dozen more. */
#ifndef VARDE_SM_KV_H
#define VARDE_SM_KV_H

#include "sm/command.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A view of one key's entry, filled by kv_get. Its pointers borrow from
 * the store: valid until the next kv_apply, kv_decode or kv_free. */
struct kv_entry {
    const char *key;      /* key_len bytes, not NUL-terminated */
    const uint8_t *value; /* value_len bytes */
    uint64_t create_index;
    uint64_t modify_index;
    uint32_t value_len;
    uint16_t key_len;
};

struct kv;

enum kv_result {
    KV_OK = 0,
    KV_CAS_FAILED, /* the compare-and-set index did not match */
    KV_NOT_FOUND,  /* delete of a missing key (not an error) */
    KV_NO_MEMORY,  /* out of memory, or the store's 4 GiB of records full */
};

/* A new, empty store (NULL out of memory); kv_free frees it. */
struct kv *kv_new(void);
void kv_free(struct kv *kv);

/* Apply command C committed at log INDEX. Deterministic: every replica that
 * applies the same commands in the same order reaches the same state. On
 * KV_NO_MEMORY nothing changed. */
enum kv_result kv_apply(struct kv *kv, const struct sm_command *c,
                        uint64_t index);

/* Look KEY (LEN bytes) up: true with *OUT filled (see struct kv_entry for
 * how long it stays valid), or false when there is no such key. */
bool kv_get(const struct kv *kv, const char *key, size_t len,
            struct kv_entry *out);

size_t kv_count(const struct kv *kv);
uint64_t kv_bytes(const struct kv *kv); /* keys and values, summed */

/* Where the store's memory goes, for tests and metrics. */
struct kv_usage {
    uint64_t block_bytes; /* allocated for records, in whole blocks */
    uint64_t used_bytes;  /* written to blocks: live and dead records */
    uint64_t dead_bytes;  /* records overwritten or deleted, not cleaned */
    uint64_t index_bytes; /* the hash index */
    size_t blocks;
    size_t slots; /* in the index */
};
void kv_usage(const struct kv *kv, struct kv_usage *out);

/* Encode the whole store into a malloc'ed buffer (*OUT, *LEN): a count,
 * then per key its lengths, indexes, key and value. Returns 0, or -1 out
 * of memory. */
int kv_encode(const struct kv *kv, uint8_t **out, size_t *len);

/* Replace the store's contents with an encoded snapshot. Returns 0, or -1
 * with a reason in ERR (the store is then unchanged). */
int kv_decode(struct kv *kv, const uint8_t *buf, size_t len, char *err,
              size_t errlen);

#endif
