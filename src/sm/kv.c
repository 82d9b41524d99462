/* kv.c - the key-value store: a chained hash table that doubles when it
 * fills, and its snapshot encoding:
 *
 *   u64 count, then per key: u16 key length, u32 value length,
 *   u64 create index, u64 modify index, key bytes, value bytes
 *
 * all little endian. The snapshot file around it (checksum, fsync) is the
 * storage layer's. */
#include "sm/kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kv {
    struct kv_entry **buckets;
    size_t n_buckets; /* a power of two */
    size_t count;
    uint64_t bytes;
};

/* FNV-1a: simple and good enough for keys we validate ourselves. */
static uint64_t hash(const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)key[i]) * 0x100000001b3ULL;
    }
    return h;
}

struct kv *kv_new(void)
{
    struct kv *kv = calloc(1, sizeof(*kv));

    if (kv == NULL) {
        return NULL;
    }
    kv->n_buckets = 64;
    kv->buckets = calloc(kv->n_buckets, sizeof(*kv->buckets));
    if (kv->buckets == NULL) {
        free(kv);
        return NULL;
    }
    return kv;
}

static void free_entry(struct kv_entry *e)
{
    free(e); /* the value lives in the same block */
}

static void clear(struct kv_entry **buckets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct kv_entry *e = buckets[i];

        while (e != NULL) {
            struct kv_entry *next = e->next;

            free_entry(e);
            e = next;
        }
    }
}

void kv_free(struct kv *kv)
{
    if (kv == NULL) {
        return;
    }
    clear(kv->buckets, kv->n_buckets);
    free(kv->buckets);
    free(kv);
}

static struct kv_entry **find(const struct kv *kv, const char *key, size_t len)
{
    struct kv_entry **p = &kv->buckets[hash(key, len) & (kv->n_buckets - 1)];

    while (*p != NULL &&
           ((*p)->key_len != len || memcmp((*p)->key, key, len) != 0)) {
        p = &(*p)->next;
    }
    return p;
}

const struct kv_entry *kv_get(const struct kv *kv, const char *key, size_t len)
{
    return *find(kv, key, len);
}

size_t kv_count(const struct kv *kv)
{
    return kv->count;
}

uint64_t kv_bytes(const struct kv *kv)
{
    return kv->bytes;
}

static void grow(struct kv *kv)
{
    size_t n = kv->n_buckets * 2;
    struct kv_entry **b = calloc(n, sizeof(*b));

    if (b == NULL) {
        return; /* longer chains, still correct */
    }
    for (size_t i = 0; i < kv->n_buckets; i++) {
        struct kv_entry *e = kv->buckets[i];

        while (e != NULL) {
            struct kv_entry *next = e->next;
            size_t h = hash(e->key, e->key_len) & (n - 1);

            e->next = b[h];
            b[h] = e;
            e = next;
        }
    }
    free(kv->buckets);
    kv->buckets = b;
    kv->n_buckets = n;
}

/* Insert or replace KEY's value. An entry is one allocation: the header,
 * the key and its NUL, then the value, so a key costs one malloc (the store
 * holds many small values at the edge). Returns KV_OK or KV_NO_MEMORY. */
static enum kv_result put(struct kv *kv, const char *key, size_t klen,
                          const uint8_t *value, size_t vlen, uint64_t create,
                          uint64_t modify)
{
    struct kv_entry **p = find(kv, key, klen);
    struct kv_entry *e = *p;
    size_t size = sizeof(*e) + klen + 1 + vlen;

    if (e == NULL) {
        e = calloc(1, size);
        if (e == NULL) {
            return KV_NO_MEMORY;
        }
        memcpy(e->key, key, klen);
        e->key_len = (uint16_t)klen;
        e->create_index = create;
        kv->count++;
        kv->bytes += klen;
    } else {
        struct kv_entry *n = realloc(e, size);

        if (n == NULL) {
            return KV_NO_MEMORY;
        }
        e = n;
        kv->bytes -= e->value_len;
    }
    *p = e; /* realloc may have moved it */
    e->value = (uint8_t *)e->key + klen + 1;
    if (vlen > 0) {
        memcpy(e->value, value, vlen);
    }
    e->value_len = (uint32_t)vlen;
    e->modify_index = modify;
    kv->bytes += vlen;
    if (kv->count > kv->n_buckets) {
        grow(kv);
    }
    return KV_OK;
}

enum kv_result kv_apply(struct kv *kv, const struct sm_command *c,
                        uint64_t index)
{
    struct kv_entry **p = find(kv, c->key, c->key_len);
    struct kv_entry *e = *p;

    if (c->flags & SM_FLAG_CAS) {
        uint64_t current = e ? e->modify_index : 0;

        if (current != c->cas) {
            return KV_CAS_FAILED;
        }
    }
    if (c->op == SM_OP_DEL) {
        if (e == NULL) {
            return KV_NOT_FOUND;
        }
        *p = e->next;
        kv->count--;
        kv->bytes -= e->key_len + e->value_len;
        free_entry(e);
        return KV_OK;
    }
    return put(kv, c->key, c->key_len, c->value, c->value_len,
               e ? e->create_index : index, index);
}

/* A growable output buffer. */
struct buf {
    uint8_t *p;
    size_t len;
    size_t cap;
    bool failed;
};

static void emit(struct buf *b, const void *data, size_t n)
{
    if (b->failed) {
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        uint8_t *p;

        while (cap < b->len + n) {
            cap *= 2;
        }
        p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void emit_le(struct buf *b, uint64_t v, int n)
{
    uint8_t x[8];

    for (int i = 0; i < n; i++) {
        x[i] = (uint8_t)(v >> (8 * i));
    }
    emit(b, x, (size_t)n);
}

int kv_encode(const struct kv *kv, uint8_t **out, size_t *len)
{
    struct buf b = {0};

    emit_le(&b, kv->count, 8);
    for (size_t i = 0; i < kv->n_buckets; i++) {
        for (const struct kv_entry *e = kv->buckets[i]; e; e = e->next) {
            emit_le(&b, e->key_len, 2);
            emit_le(&b, e->value_len, 4);
            emit_le(&b, e->create_index, 8);
            emit_le(&b, e->modify_index, 8);
            emit(&b, e->key, e->key_len);
            emit(&b, e->value, e->value_len);
        }
    }
    if (b.failed) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}

static uint64_t take_le(const uint8_t **p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--) {
        v = (v << 8) | (*p)[i];
    }
    *p += n;
    return v;
}

int kv_decode(struct kv *kv, const uint8_t *buf, size_t len, char *err,
              size_t errlen)
{
    const uint8_t *p = buf, *end = buf + len;
    struct kv *fresh = kv_new();
    uint64_t count;

    if (fresh == NULL || len < 8) {
        snprintf(err, errlen, fresh ? "snapshot too short" : "out of memory");
        kv_free(fresh);
        return -1;
    }
    count = take_le(&p, 8);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t klen, vlen, create, modify;

        if (end - p < 22) {
            goto truncated;
        }
        klen = take_le(&p, 2);
        vlen = take_le(&p, 4);
        create = take_le(&p, 8);
        modify = take_le(&p, 8);
        if (klen == 0 || klen > SM_MAX_KEY || vlen > SM_MAX_VALUE ||
            (uint64_t)(end - p) < klen + vlen) {
            goto truncated;
        }
        if (put(fresh, (const char *)p, klen, p + klen, vlen, create, modify) !=
            KV_OK) {
            snprintf(err, errlen, "out of memory");
            kv_free(fresh);
            return -1;
        }
        p += klen + vlen;
    }
    if (p != end) {
        goto truncated;
    }
    /* Swap the new contents in only once all of it decoded. */
    clear(kv->buckets, kv->n_buckets);
    free(kv->buckets);
    *kv = *fresh;
    free(fresh);
    return 0;

truncated:
    snprintf(err, errlen, "snapshot is malformed at byte %zu",
             (size_t)(p - buf));
    kv_free(fresh);
    return -1;
}
