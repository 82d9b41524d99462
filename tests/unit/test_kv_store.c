/* test_kv_store.c - the key-value store's memory: its index growing and
 * shrinking, dead records cleaned away, and random histories checked
 * against a plain model, snapshot round trips included. */
#include "harness.h"
#include "sm/command.h"
#include "sm/kv.h"

#include <stdlib.h>

#define BLOCK (1024 * 1024) /* kv.c's block */

static enum kv_result put_n(struct kv *kv, const char *k, const uint8_t *v,
                            size_t len, uint64_t index)
{
    struct sm_command c = {.op = SM_OP_PUT,
                           .key = k,
                           .key_len = (uint16_t)strlen(k),
                           .value = v,
                           .value_len = (uint32_t)len};

    return kv_apply(kv, &c, index);
}

static enum kv_result del(struct kv *kv, const char *k, uint64_t index)
{
    struct sm_command c = {
        .op = SM_OP_DEL, .key = k, .key_len = (uint16_t)strlen(k)};

    return kv_apply(kv, &c, index);
}

/* A deterministic generator (xorshift64*), so a failure replays. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

/* LEN bytes that depend on SEED. */
static void fill(uint8_t *p, size_t len, uint64_t seed)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)((seed * 31 + i * 7) >> (i % 5));
    }
}

TEST(index_grows_with_keys_and_shrinks_when_they_go)
{
    struct kv *kv = kv_new();
    struct kv_usage u;
    struct kv_entry e;
    char key[32];

    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "g.%d", i);
        EXPECT_EQ(put_n(kv, key, (const uint8_t *)key, 4, (uint64_t)i + 1),
                  KV_OK);
    }
    kv_usage(kv, &u);
    EXPECT_EQ(kv_count(kv), 20000);
    EXPECT_EQ(u.slots, 32768); /* at most 7/8 full */
    EXPECT_EQ(u.dead_bytes, 0);
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "g.%d", i);
        EXPECT_TRUE(kv_get(kv, key, strlen(key), &e));
        EXPECT_EQ(e.modify_index, i + 1);
    }
    for (int i = 0; i < 20000; i += 2) {
        snprintf(key, sizeof(key), "g.%d", i);
        EXPECT_EQ(del(kv, key, 30000 + (uint64_t)i), KV_OK);
    }
    for (int i = 1; i < 20000; i += 2) {
        snprintf(key, sizeof(key), "g.%d", i);
        EXPECT_TRUE(kv_get(kv, key, strlen(key), &e));
        EXPECT_EQ(e.modify_index, i + 1);
    }
    for (int i = 1; i < 20000; i += 2) {
        snprintf(key, sizeof(key), "g.%d", i);
        EXPECT_EQ(del(kv, key, 60000 + (uint64_t)i), KV_OK);
    }
    kv_usage(kv, &u);
    EXPECT_EQ(kv_count(kv), 0);
    EXPECT_EQ(kv_bytes(kv), 0);
    EXPECT_EQ(u.slots, 16);
    EXPECT_TRUE(u.blocks <= 1); /* at most the head, all of it dead */
    EXPECT_EQ(u.dead_bytes, u.used_bytes);
    kv_free(kv);
}

TEST(overwrites_are_cleaned_so_memory_stays_near_the_live_bytes)
{
    struct kv *kv = kv_new();
    uint8_t value[1000];
    struct kv_usage u;
    struct kv_entry e;
    char key[32];
    uint64_t index = 1;

    for (int round = 0; round < 100; round++) {
        for (int k = 0; k < 200; k++) {
            snprintf(key, sizeof(key), "c.%d", k);
            fill(value, sizeof(value), index);
            EXPECT_EQ(put_n(kv, key, value, sizeof(value), index), KV_OK);
            index++;
            kv_usage(kv, &u);
            EXPECT_TRUE(u.dead_bytes < 64 * 1024 ||
                        u.dead_bytes <= u.used_bytes / 4);
        }
    }
    /* 200 KB live in 20 MB written: a block or two, never more. */
    EXPECT_TRUE(u.blocks <= 2);
    for (int k = 0; k < 200; k++) {
        snprintf(key, sizeof(key), "c.%d", k);
        EXPECT_TRUE(kv_get(kv, key, strlen(key), &e));
        EXPECT_EQ(e.create_index, k + 1);
        EXPECT_EQ(e.modify_index, 99 * 200 + k + 1);
        fill(value, sizeof(value), e.modify_index);
        EXPECT_TRUE(memcmp(e.value, value, sizeof(value)) == 0);
    }
    kv_free(kv);
}

TEST(largest_values_pack_into_blocks_and_are_cleaned)
{
    struct kv *kv = kv_new();
    uint8_t *value = malloc(SM_MAX_VALUE);
    char key[SM_MAX_KEY + 1];
    struct kv_usage u;
    struct kv_entry e;

    EXPECT_TRUE(value != NULL);
    for (int i = 0; i < 600; i++) {
        memset(key, 'a' + i % 40, SM_MAX_KEY);
        key[SM_MAX_KEY] = '\0';
        fill(value, SM_MAX_VALUE, (uint64_t)i);
        EXPECT_EQ(put_n(kv, key, value, SM_MAX_VALUE, (uint64_t)i + 1), KV_OK);
    }
    kv_usage(kv, &u);
    EXPECT_EQ(kv_count(kv), 40);
    /* 40 records of 66 KB: 2.6 MB live, a quarter more at most, and the
     * tails of the blocks that the next record did not fit. */
    EXPECT_TRUE(u.block_bytes <= 5 * (uint64_t)BLOCK);
    for (int i = 560; i < 600; i++) {
        memset(key, 'a' + i % 40, SM_MAX_KEY);
        EXPECT_TRUE(kv_get(kv, key, SM_MAX_KEY, &e));
        EXPECT_EQ(e.modify_index, i + 1);
        fill(value, SM_MAX_VALUE, (uint64_t)i);
        EXPECT_TRUE(memcmp(e.value, value, SM_MAX_VALUE) == 0);
    }
    free(value);
    kv_free(kv);
}

/* The model: per key, whether it exists, its indexes and value seed. */
#define MODEL_KEYS 600

struct model {
    bool live[MODEL_KEYS];
    uint64_t create[MODEL_KEYS], modify[MODEL_KEYS];
    uint32_t len[MODEL_KEYS];
};

static void model_key(int k, char *out, size_t n)
{
    snprintf(out, n, "r/%d/%.*s", k, k % 23, "abcdefghijklmnopqrstuvw");
}

/* Whether KV holds exactly what M says. */
static bool model_matches(const struct kv *kv, const struct model *m)
{
    uint8_t value[4096];
    size_t count = 0;

    for (int k = 0; k < MODEL_KEYS; k++) {
        char key[64];
        struct kv_entry e;
        bool have;

        model_key(k, key, sizeof(key));
        have = kv_get(kv, key, strlen(key), &e);
        if (have != m->live[k]) {
            fprintf(stderr, "key %s: have %d, model %d\n", key, have,
                    m->live[k]);
            return false;
        }
        if (!have) {
            continue;
        }
        count++;
        fill(value, m->len[k], m->modify[k]);
        if (e.create_index != m->create[k] || e.modify_index != m->modify[k] ||
            e.value_len != m->len[k] ||
            memcmp(e.value, value, m->len[k]) != 0) {
            fprintf(stderr, "key %s differs from the model\n", key);
            return false;
        }
    }
    return count == kv_count(kv);
}

/* One random command at INDEX, applied to KV and M alike. Returns
 * whether the store's result is the model's. */
static bool model_step(struct kv *kv, struct model *m, uint64_t *seed,
                       uint64_t index)
{
    static uint8_t value[4096];
    uint64_t r = rnd(seed);
    int k = (int)(r % MODEL_KEYS);
    uint64_t current;
    char key[64];
    struct sm_command c = {.op = SM_OP_PUT, .key = key, .value = value};
    enum kv_result want = KV_OK;

    model_key(k, key, sizeof(key));
    current = m->live[k] ? m->modify[k] : 0;
    c.key_len = (uint16_t)strlen(key);
    c.op = (r >> 20) % 5 == 0 ? SM_OP_DEL : SM_OP_PUT;
    if ((r >> 24) % 4 == 0) {
        c.flags = SM_FLAG_CAS;
        c.cas = (r >> 28) % 2 ? current : index - 1;
    }
    c.value_len = (uint32_t)((r >> 32) % ((r >> 40) % 8 ? 200 : 4096));
    fill(value, c.value_len, index);
    if ((c.flags & SM_FLAG_CAS) && c.cas != current) {
        want = KV_CAS_FAILED;
    } else if (c.op == SM_OP_DEL) {
        want = m->live[k] ? KV_OK : KV_NOT_FOUND;
        m->live[k] = false;
    } else {
        m->create[k] = m->live[k] ? m->create[k] : index;
        m->live[k] = true;
        m->modify[k] = index;
        m->len[k] = c.value_len;
    }
    return kv_apply(kv, &c, index) == want;
}

TEST(random_histories_match_the_model_through_cleaning_and_snapshots)
{
    static struct model m;
    struct kv *kv = kv_new(), *twin = kv_new(), *back = kv_new();
    uint64_t seed = 0x9e3779b97f4a7c15ULL, twin_seed = seed;
    struct kv_usage u;
    char err[128];

    for (uint64_t index = 1; index <= 60000; index++) {
        static struct model spare;

        EXPECT_TRUE(model_step(kv, &m, &seed, index));
        EXPECT_TRUE(model_step(twin, &spare, &twin_seed, index));
        if (index % 5000 == 0) {
            uint8_t *a, *b;
            size_t alen, blen;

            EXPECT_TRUE(model_matches(kv, &m));
            kv_usage(kv, &u);
            EXPECT_TRUE(u.dead_bytes < 64 * 1024 ||
                        u.dead_bytes <= u.used_bytes / 4);
            EXPECT_EQ(kv_encode(kv, &a, &alen), 0);
            EXPECT_EQ(kv_encode(twin, &b, &blen), 0);
            EXPECT_EQ(alen, blen); /* the same commands, the same bytes */
            EXPECT_TRUE(memcmp(a, b, alen) == 0);
            EXPECT_EQ(kv_decode(back, a, alen, err, sizeof(err)), 0);
            EXPECT_TRUE(model_matches(back, &m));
            EXPECT_EQ(kv_bytes(back), kv_bytes(kv));
            free(a);
            free(b);
        }
    }
    kv_free(kv);
    kv_free(twin);
    kv_free(back);
}

int main(void)
{
    RUN(index_grows_with_keys_and_shrinks_when_they_go);
    RUN(overwrites_are_cleaned_so_memory_stays_near_the_live_bytes);
    RUN(largest_values_pack_into_blocks_and_are_cleaned);
    RUN(random_histories_match_the_model_through_cleaning_and_snapshots);
    DONE();
}
