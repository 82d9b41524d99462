/* kv.c - the key-value store: records packed in an arena of large blocks,
 * an open-addressing index over them, and the snapshot encoding.
 *
 * Records. A key's entry is one record, written at the head of the arena:
 *
 *   varint (key length * 2 + C), key bytes, varint value length,
 *   varint modify index, [varint (modify - create index) when C], value
 *
 * varints are LEB128 (7 bits a byte, low bits first); C is 1 when the key
 * changed since its creation (the create index differs). So a 100-byte
 * value under a 7-byte key written once at index 100000 has 5 bytes of
 * header. The key comes first: a lookup reads one length and compares. A
 * record never changes once written: a put writes a new one and the old
 * one is dead.
 *
 * Blocks. Records are packed into blocks of KV_BLOCK bytes (one malloc
 * each; a page the store never wrote to costs no memory) and never span
 * two. A record's place is a 32-bit offset, block number * KV_BLOCK +
 * position, so the arena spans KV_MAX_BLOCKS blocks (4 GiB), four times
 * the largest snapshot the storage layer takes. Every block counts the
 * bytes written to it (used) and the bytes of its dead records (dead).
 *
 * Index. Linear probing over a power-of-two table of slots: a 32-bit
 * offset and an 8-bit tag from the key's hash (0: empty slot), so a probe
 * reads the record only when the tags agree. The table doubles above 7/8
 * full and halves below 1/8; a delete shifts the entries after it back
 * into place (no tombstones).
 *
 * Cleaning. After a write, while dead bytes are over a quarter of the used
 * bytes (and at least KV_CLEAN_MIN), the block with the most dead bytes is
 * cleaned: its live records (those the index points at) are copied to the
 * head, byte for byte, and the block is freed. A block whose records all
 * died is freed at once. Which block is cleaned depends only on the
 * commands applied, and no answer depends on where a record lives.
 *
 * Snapshot encoding, all little endian, in index order:
 *
 *   u64 count, then per key: u16 key length, u32 value length,
 *   u64 create index, u64 modify index, key bytes, value bytes
 *
 * The snapshot file around it (checksum, fsync) is the storage layer's. */
#include "sm/kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KV_BLOCK_SHIFT 20
#define KV_BLOCK (1u << KV_BLOCK_SHIFT) /* 1 MiB */
#define KV_MAX_BLOCKS 4096u             /* offsets fit 32 bits */
#define KV_NO_BLOCK UINT32_MAX
#define KV_MIN_SLOTS 16
#define KV_CLEAN_MIN (64 * 1024) /* dead bytes worth a cleaning */
#define KV_CLEAN_ROUNDS 4        /* blocks cleaned after one write, at most */
#define KV_VARINT_MAX 10
#define KV_SNAP_HEAD 22 /* a key's fixed part in the snapshot */

/* The longest record fits a block. */
_Static_assert(2 * KV_VARINT_MAX + 2 + 3 + SM_MAX_KEY + SM_MAX_VALUE <=
                   KV_BLOCK,
               "a record fits a block");

struct kv_block {
    uint8_t *data; /* NULL: the number is free */
    uint32_t used;
    uint32_t dead;
};

struct kv {
    uint32_t *offs; /* slot -> record offset, where tags[slot] != 0 */
    uint8_t *tags;
    size_t n_slots; /* a power of two */
    size_t count;
    uint64_t bytes;
    struct kv_block *blocks;
    uint32_t n_blocks; /* entries in blocks[], free or not */
    uint32_t head;     /* the block written to, or KV_NO_BLOCK */
    uint64_t used;     /* sums over the blocks */
    uint64_t dead;
};

/* ------------------------------------------------------------------------
 * Records.
 */

static size_t varint_len(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Read a varint this file wrote. */
static size_t varint_get(const uint8_t *p, uint64_t *v)
{
    size_t n = 0;

    *v = 0;
    do {
        *v |= (uint64_t)(p[n] & 0x7f) << (7 * n);
    } while (p[n++] & 0x80);
    return n;
}

static size_t rec_size(size_t klen, size_t vlen, uint64_t create,
                       uint64_t modify)
{
    size_t n = varint_len(klen << 1) + klen + varint_len(vlen) +
               varint_len(modify) + vlen;

    return create == modify ? n : n + varint_len(modify - create);
}

static size_t rec_write(uint8_t *p, const char *key, size_t klen,
                        const uint8_t *value, size_t vlen, uint64_t create,
                        uint64_t modify)
{
    size_t n = varint_put(p, klen << 1 | (create != modify));

    memcpy(p + n, key, klen);
    n += klen;
    n += varint_put(p + n, vlen);
    n += varint_put(p + n, modify);
    if (create != modify) {
        n += varint_put(p + n, modify - create);
    }
    if (vlen > 0) {
        memcpy(p + n, value, vlen);
    }
    return n + vlen;
}

/* The key of the record at P: its bytes in *KEY, its length in *KLEN.
 * Returns the size of the record's first field; *CHANGED tells whether
 * the record holds a create index apart from its modify index. */
static size_t rec_key(const uint8_t *p, const char **key, size_t *klen,
                      bool *changed)
{
    uint64_t v;
    size_t n = varint_get(p, &v);

    *key = (const char *)p + n;
    *klen = (size_t)(v >> 1);
    *changed = v & 1;
    return n;
}

/* Fill *E from the record at P; returns the record's size. */
static size_t rec_read(const uint8_t *p, struct kv_entry *e)
{
    uint64_t vlen, delta = 0;
    size_t klen;
    bool changed;
    size_t n = rec_key(p, &e->key, &klen, &changed) + klen;

    e->key_len = (uint16_t)klen;
    n += varint_get(p + n, &vlen);
    n += varint_get(p + n, &e->modify_index);
    if (changed) {
        n += varint_get(p + n, &delta);
    }
    e->create_index = e->modify_index - delta;
    e->value = p + n;
    e->value_len = (uint32_t)vlen;
    return n + vlen;
}

static uint8_t *rec_at(const struct kv *kv, uint32_t off)
{
    return kv->blocks[off >> KV_BLOCK_SHIFT].data + (off & (KV_BLOCK - 1));
}

/* ------------------------------------------------------------------------
 * The index.
 */

/* FNV-1a, then a finalizer so that low bits (the slot) and high bits (the
 * tag) both depend on every byte. Keys we validate ourselves. */
static uint64_t hash(const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)key[i]) * 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static uint8_t tag_of(uint64_t h)
{
    uint8_t t = (uint8_t)(h >> 56);

    return t ? t : 1;
}

static bool rec_key_is(const uint8_t *p, const char *key, size_t len)
{
    const char *k;
    size_t klen;
    bool changed;

    rec_key(p, &k, &klen, &changed);
    return klen == len && memcmp(k, key, len) == 0;
}

/* The slot holding KEY (hash H): *FOUND true; or the empty slot where it
 * would go. The table always has an empty slot. */
static size_t slot_find(const struct kv *kv, const char *key, size_t len,
                        uint64_t h, bool *found)
{
    size_t mask = kv->n_slots - 1, i = h & mask;
    uint8_t tag = tag_of(h);

    for (size_t probes = 0; probes < kv->n_slots; probes++) {
        if (kv->tags[i] == 0) {
            break;
        }
        if (kv->tags[i] == tag &&
            rec_key_is(rec_at(kv, kv->offs[i]), key, len)) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
    *found = false;
    return i;
}

/* The hash of the key of the record at OFF. */
static uint64_t rec_hash(const struct kv *kv, uint32_t off)
{
    const char *key;
    size_t klen;
    bool changed;

    rec_key(rec_at(kv, off), &key, &klen, &changed);
    return hash(key, klen);
}

/* Move every entry into a table of N slots. Returns 0, or -1 out of
 * memory (the table is then unchanged). */
static int index_resize(struct kv *kv, size_t n)
{
    uint32_t *offs = malloc(n * sizeof(*offs));
    uint8_t *tags = calloc(n, 1);

    if (offs == NULL || tags == NULL) {
        free(offs);
        free(tags);
        return -1;
    }
    for (size_t i = 0; i < kv->n_slots; i++) {
        if (kv->tags[i] != 0) {
            uint64_t h = rec_hash(kv, kv->offs[i]);
            size_t j = h & (n - 1);

            while (tags[j] != 0) {
                j = (j + 1) & (n - 1);
            }
            tags[j] = kv->tags[i];
            offs[j] = kv->offs[i];
        }
    }
    free(kv->offs);
    free(kv->tags);
    kv->offs = offs;
    kv->tags = tags;
    kv->n_slots = n;
    return 0;
}

/* Whether COUNT entries fit a table of N slots. */
static bool index_fits(size_t count, size_t n)
{
    return count <= n / 8 * 7;
}

/* Empty slot I, and shift the entries after it that belong before it. */
static void index_remove(struct kv *kv, size_t i)
{
    size_t mask = kv->n_slots - 1, j = i;

    kv->tags[i] = 0;
    for (size_t probes = 0; probes < kv->n_slots; probes++) {
        size_t home;

        j = (j + 1) & mask;
        if (kv->tags[j] == 0) {
            return;
        }
        home = rec_hash(kv, kv->offs[j]) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            kv->tags[i] = kv->tags[j];
            kv->offs[i] = kv->offs[j];
            kv->tags[j] = 0;
            i = j;
        }
    }
}

/* ------------------------------------------------------------------------
 * Blocks.
 */

static void block_free(struct kv *kv, uint32_t b)
{
    struct kv_block *blk = &kv->blocks[b];

    kv->used -= blk->used;
    kv->dead -= blk->dead;
    free(blk->data);
    memset(blk, 0, sizeof(*blk));
    if (kv->head == b) {
        kv->head = KV_NO_BLOCK;
    }
}

/* A new, empty block's number, or KV_NO_BLOCK out of memory or numbers. */
static uint32_t block_new(struct kv *kv)
{
    uint32_t b = 0;

    while (b < kv->n_blocks && kv->blocks[b].data != NULL) {
        b++;
    }
    if (b == KV_MAX_BLOCKS) {
        return KV_NO_BLOCK;
    }
    if (b == kv->n_blocks) {
        uint32_t n = kv->n_blocks ? kv->n_blocks * 2 : 4;
        struct kv_block *bl;

        n = n < KV_MAX_BLOCKS ? n : KV_MAX_BLOCKS;
        bl = realloc(kv->blocks, n * sizeof(*bl));
        if (bl == NULL) {
            return KV_NO_BLOCK;
        }
        memset(bl + kv->n_blocks, 0, (n - kv->n_blocks) * sizeof(*bl));
        kv->blocks = bl;
        kv->n_blocks = n;
    }
    kv->blocks[b].data = malloc(KV_BLOCK);
    return kv->blocks[b].data ? b : KV_NO_BLOCK;
}

/* Room for SIZE bytes at the head: their offset in *OFF. Returns 0, or -1
 * out of memory. */
static int arena_reserve(struct kv *kv, size_t size, uint32_t *off)
{
    struct kv_block *blk;

    if (kv->head == KV_NO_BLOCK ||
        KV_BLOCK - kv->blocks[kv->head].used < size) {
        uint32_t b = block_new(kv);

        if (b == KV_NO_BLOCK) {
            return -1;
        }
        kv->head = b; /* the old head keeps its unused tail */
    }
    blk = &kv->blocks[kv->head];
    *off = (kv->head << KV_BLOCK_SHIFT) | blk->used;
    blk->used += (uint32_t)size;
    kv->used += size;
    return 0;
}

/* The SIZE bytes of the record at OFF died. */
static void arena_dead(struct kv *kv, uint32_t off, size_t size)
{
    uint32_t b = off >> KV_BLOCK_SHIFT;
    struct kv_block *blk = &kv->blocks[b];

    blk->dead += (uint32_t)size;
    kv->dead += size;
    if (blk->dead == blk->used && b != kv->head) {
        block_free(kv, b);
    }
}

/* ------------------------------------------------------------------------
 * Cleaning.
 */

static bool clean_due(const struct kv *kv)
{
    return kv->dead >= KV_CLEAN_MIN && kv->dead > kv->used / 4;
}

static uint32_t clean_pick(const struct kv *kv)
{
    uint32_t best = 0;

    for (uint32_t b = 1; b < kv->n_blocks; b++) {
        if (kv->blocks[b].dead > kv->blocks[best].dead) {
            best = b;
        }
    }
    return best;
}

/* Copy the record at OFF (SIZE bytes, in slot I) to the head. Returns 0,
 * or -1 out of memory (nothing moved). */
static int clean_move(struct kv *kv, uint32_t off, size_t size, size_t i)
{
    uint32_t to;

    if (arena_reserve(kv, size, &to) < 0) {
        return -1;
    }
    memcpy(rec_at(kv, to), rec_at(kv, off), size);
    kv->offs[i] = to;
    kv->blocks[off >> KV_BLOCK_SHIFT].dead += (uint32_t)size;
    kv->dead += size;
    return 0;
}

/* Move block B's live records to the head and free it. Returns 0, or -1
 * out of memory (the records not moved stay where they are). */
static int clean_block(struct kv *kv, uint32_t b)
{
    uint32_t pos = 0, end = kv->blocks[b].used;

    if (kv->head == b) {
        kv->head = KV_NO_BLOCK; /* sealed: it is about to go */
    }
    while (pos < end) {
        uint32_t off = (b << KV_BLOCK_SHIFT) | pos;
        struct kv_entry e;
        size_t size = rec_read(rec_at(kv, off), &e), i;
        bool found;

        i = slot_find(kv, e.key, e.key_len, hash(e.key, e.key_len), &found);
        if (found && kv->offs[i] == off && clean_move(kv, off, size, i) < 0) {
            return -1;
        }
        pos += (uint32_t)size;
    }
    block_free(kv, b);
    return 0;
}

static void clean(struct kv *kv)
{
    for (int round = 0; round < KV_CLEAN_ROUNDS && clean_due(kv); round++) {
        if (clean_block(kv, clean_pick(kv)) < 0) {
            return; /* more dead bytes for now, still correct */
        }
    }
}

/* ------------------------------------------------------------------------
 * The store.
 */

struct kv *kv_new(void)
{
    struct kv *kv = calloc(1, sizeof(*kv));

    if (kv == NULL) {
        return NULL;
    }
    kv->head = KV_NO_BLOCK;
    kv->n_slots = KV_MIN_SLOTS;
    kv->offs = malloc(kv->n_slots * sizeof(*kv->offs));
    kv->tags = calloc(kv->n_slots, 1);
    if (kv->offs == NULL || kv->tags == NULL) {
        kv_free(kv);
        return NULL;
    }
    return kv;
}

/* Free what KV holds, not KV itself. */
static void kv_release(struct kv *kv)
{
    for (uint32_t b = 0; b < kv->n_blocks; b++) {
        free(kv->blocks[b].data);
    }
    free(kv->blocks);
    free(kv->offs);
    free(kv->tags);
}

void kv_free(struct kv *kv)
{
    if (kv == NULL) {
        return;
    }
    kv_release(kv);
    free(kv);
}

bool kv_get(const struct kv *kv, const char *key, size_t len,
            struct kv_entry *out)
{
    bool found;
    size_t i = slot_find(kv, key, len, hash(key, len), &found);

    if (found) {
        rec_read(rec_at(kv, kv->offs[i]), out);
    }
    return found;
}

size_t kv_count(const struct kv *kv)
{
    return kv->count;
}

uint64_t kv_bytes(const struct kv *kv)
{
    return kv->bytes;
}

void kv_usage(const struct kv *kv, struct kv_usage *out)
{
    memset(out, 0, sizeof(*out));
    for (uint32_t b = 0; b < kv->n_blocks; b++) {
        if (kv->blocks[b].data != NULL) {
            out->blocks++;
        }
    }
    out->block_bytes = (uint64_t)out->blocks * KV_BLOCK;
    out->used_bytes = kv->used;
    out->dead_bytes = kv->dead;
    out->slots = kv->n_slots;
    out->index_bytes = kv->n_slots * (sizeof(*kv->offs) + 1);
}

/* Make room in the index for one more key; *I (KEY's empty slot, hash H)
 * may move. Returns 0, or -1 when the table is full and cannot grow. */
static int index_room(struct kv *kv, const char *key, size_t len, uint64_t h,
                      size_t *i)
{
    bool found;

    if (index_fits(kv->count + 1, kv->n_slots)) {
        return 0;
    }
    if (index_resize(kv, kv->n_slots * 2) < 0) {
        return kv->count + 1 < kv->n_slots ? 0 : -1; /* fuller, correct */
    }
    *i = slot_find(kv, key, len, h, &found);
    return 0;
}

/* Write KEY's new record into slot I (FOUND: KEY is there now; H its
 * hash). Returns KV_OK, or KV_NO_MEMORY with nothing changed. */
static enum kv_result put(struct kv *kv, const char *key, size_t klen,
                          const uint8_t *value, size_t vlen, uint64_t create,
                          uint64_t modify, uint64_t h, size_t i, bool found)
{
    size_t size = rec_size(klen, vlen, create, modify);
    struct kv_entry old = {0};
    uint32_t off;

    if (!found && index_room(kv, key, klen, h, &i) < 0) {
        return KV_NO_MEMORY;
    }
    if (arena_reserve(kv, size, &off) < 0) {
        return KV_NO_MEMORY;
    }
    rec_write(rec_at(kv, off), key, klen, value, vlen, create, modify);
    if (found) {
        uint32_t was = kv->offs[i];

        arena_dead(kv, was, rec_read(rec_at(kv, was), &old));
    } else {
        kv->tags[i] = tag_of(h);
        kv->count++;
        kv->bytes += klen;
    }
    kv->offs[i] = off;
    kv->bytes -= old.value_len;
    kv->bytes += vlen;
    return KV_OK;
}

static void del(struct kv *kv, size_t i)
{
    struct kv_entry old;
    uint32_t off = kv->offs[i];
    size_t size = rec_read(rec_at(kv, off), &old);

    kv->count--;
    kv->bytes -= old.key_len + old.value_len;
    index_remove(kv, i);
    arena_dead(kv, off, size);
    if (kv->n_slots > KV_MIN_SLOTS && kv->count < kv->n_slots / 8) {
        index_resize(kv, kv->n_slots / 2); /* out of memory: stays larger */
    }
}

enum kv_result kv_apply(struct kv *kv, const struct sm_command *c,
                        uint64_t index)
{
    uint64_t h = hash(c->key, c->key_len);
    struct kv_entry e = {0};
    bool found;
    size_t i = slot_find(kv, c->key, c->key_len, h, &found);
    enum kv_result res;

    if (found) {
        rec_read(rec_at(kv, kv->offs[i]), &e);
    }
    if ((c->flags & SM_FLAG_CAS) && e.modify_index != c->cas) {
        return KV_CAS_FAILED;
    }
    if (c->op == SM_OP_DEL) {
        if (!found) {
            return KV_NOT_FOUND;
        }
        del(kv, i);
        res = KV_OK;
    } else {
        res = put(kv, c->key, c->key_len, c->value, c->value_len,
                  found ? e.create_index : index, index, h, i, found);
    }
    clean(kv);
    return res;
}

/* ------------------------------------------------------------------------
 * Snapshots.
 */

static uint8_t *emit_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
    return p + n;
}

int kv_encode(const struct kv *kv, uint8_t **out, size_t *len)
{
    size_t size = 8 + kv->count * KV_SNAP_HEAD + kv->bytes;
    uint8_t *buf = malloc(size), *p = buf;

    if (buf == NULL) {
        return -1;
    }
    p = emit_le(p, kv->count, 8);
    for (size_t i = 0; i < kv->n_slots; i++) {
        struct kv_entry e;

        if (kv->tags[i] == 0) {
            continue;
        }
        rec_read(rec_at(kv, kv->offs[i]), &e);
        p = emit_le(p, e.key_len, 2);
        p = emit_le(p, e.value_len, 4);
        p = emit_le(p, e.create_index, 8);
        p = emit_le(p, e.modify_index, 8);
        memcpy(p, e.key, e.key_len);
        p += e.key_len;
        if (e.value_len > 0) {
            memcpy(p, e.value, e.value_len);
        }
        p += e.value_len;
    }
    *out = buf;
    *len = size;
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

/* Insert or replace KEY's entry. Returns KV_OK or KV_NO_MEMORY. */
static enum kv_result put_key(struct kv *kv, const char *key, size_t klen,
                              const uint8_t *value, size_t vlen,
                              uint64_t create, uint64_t modify)
{
    uint64_t h = hash(key, klen);
    bool found;
    size_t i = slot_find(kv, key, klen, h, &found);

    return put(kv, key, klen, value, vlen, create, modify, h, i, found);
}

/* A store sized for COUNT keys, or NULL out of memory. */
static struct kv *kv_new_for(uint64_t count)
{
    struct kv *kv = kv_new();
    size_t n = KV_MIN_SLOTS;

    while (!index_fits(count, n)) {
        n *= 2;
    }
    if (kv != NULL && n > kv->n_slots && index_resize(kv, n) < 0) {
        kv_free(kv);
        return NULL;
    }
    return kv;
}

/* Decode the keys of BUF (LEN bytes) after the count into FRESH. Returns
 * 0, or -1 with the reason in ERR. */
static int decode_keys(struct kv *fresh, uint64_t count, const uint8_t *buf,
                       size_t len, char *err, size_t errlen)
{
    const uint8_t *p = buf + 8, *end = buf + len;

    for (uint64_t i = 0; i < count; i++) {
        uint64_t klen, vlen, create, modify;

        if (end - p < KV_SNAP_HEAD) {
            goto malformed;
        }
        klen = take_le(&p, 2);
        vlen = take_le(&p, 4);
        create = take_le(&p, 8);
        modify = take_le(&p, 8);
        if (klen == 0 || klen > SM_MAX_KEY || vlen > SM_MAX_VALUE ||
            create > modify || (uint64_t)(end - p) < klen + vlen) {
            goto malformed;
        }
        if (put_key(fresh, (const char *)p, klen, p + klen, vlen, create,
                    modify) != KV_OK) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        p += klen + vlen;
    }
    if (p == end) {
        return 0;
    }

malformed:
    snprintf(err, errlen, "snapshot is malformed at byte %zu",
             (size_t)(p - buf));
    return -1;
}

int kv_decode(struct kv *kv, const uint8_t *buf, size_t len, char *err,
              size_t errlen)
{
    struct kv *fresh;
    const uint8_t *p = buf;
    uint64_t count;

    if (len < 8) {
        snprintf(err, errlen, "snapshot too short");
        return -1;
    }
    count = take_le(&p, 8);
    if (count > (len - 8) / (KV_SNAP_HEAD + 1)) {
        snprintf(err, errlen, "snapshot of %zu bytes cannot hold %llu keys",
                 len, (unsigned long long)count);
        return -1;
    }
    fresh = kv_new_for(count);
    if (fresh == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (decode_keys(fresh, count, buf, len, err, errlen) < 0) {
        kv_free(fresh);
        return -1;
    }
    /* Swap the new contents in only once all of it decoded. */
    kv_release(kv);
    *kv = *fresh;
    free(fresh);
    return 0;
}
