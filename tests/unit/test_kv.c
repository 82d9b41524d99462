/* test_kv.c - the key-value state machine and its command encoding. */
#include "harness.h"
#include "sm/command.h"
#include "sm/kv.h"

#include <stdlib.h>

static enum kv_result put(struct kv *kv, const char *k, const char *v,
                          uint64_t index)
{
    struct sm_command c = {.op = SM_OP_PUT,
                           .key = k,
                           .key_len = (uint16_t)strlen(k),
                           .value = (const uint8_t *)v,
                           .value_len = (uint32_t)strlen(v)};

    return kv_apply(kv, &c, index);
}

static enum kv_result cas(struct kv *kv, const char *k, const char *v,
                          uint64_t cas_index, uint64_t index)
{
    struct sm_command c = {.op = SM_OP_PUT,
                           .flags = SM_FLAG_CAS,
                           .cas = cas_index,
                           .key = k,
                           .key_len = (uint16_t)strlen(k),
                           .value = (const uint8_t *)v,
                           .value_len = (uint32_t)strlen(v)};

    return kv_apply(kv, &c, index);
}

static enum kv_result del(struct kv *kv, const char *k, uint64_t index)
{
    struct sm_command c = {
        .op = SM_OP_DEL, .key = k, .key_len = (uint16_t)strlen(k)};

    return kv_apply(kv, &c, index);
}

TEST(put_then_get_returns_value_and_indexes)
{
    struct kv *kv = kv_new();
    const struct kv_entry *e;

    EXPECT_EQ(put(kv, "a", "1", 5), KV_OK);
    EXPECT_EQ(put(kv, "a", "22", 9), KV_OK);
    e = kv_get(kv, "a", 1);
    EXPECT_TRUE(e != NULL);
    EXPECT_EQ(e->value_len, 2);
    EXPECT_TRUE(memcmp(e->value, "22", 2) == 0);
    EXPECT_EQ(e->create_index, 5);
    EXPECT_EQ(e->modify_index, 9);
    EXPECT_EQ(kv_count(kv), 1);
    kv_free(kv);
}

TEST(delete_removes_and_reports_missing_keys)
{
    struct kv *kv = kv_new();

    put(kv, "a", "1", 1);
    EXPECT_EQ(del(kv, "a", 2), KV_OK);
    EXPECT_TRUE(kv_get(kv, "a", 1) == NULL);
    EXPECT_EQ(del(kv, "a", 3), KV_NOT_FOUND);
    EXPECT_EQ(kv_count(kv), 0);
    EXPECT_EQ(kv_bytes(kv), 0);
    kv_free(kv);
}

TEST(cas_zero_creates_only_when_absent)
{
    struct kv *kv = kv_new();

    EXPECT_EQ(cas(kv, "k", "v", 0, 4), KV_OK);
    EXPECT_EQ(cas(kv, "k", "w", 0, 5), KV_CAS_FAILED);
    EXPECT_EQ(kv_get(kv, "k", 1)->modify_index, 4);
    kv_free(kv);
}

TEST(cas_succeeds_only_against_the_current_modify_index)
{
    struct kv *kv = kv_new();

    put(kv, "k", "v", 7);
    EXPECT_EQ(cas(kv, "k", "x", 6, 8), KV_CAS_FAILED);
    EXPECT_EQ(cas(kv, "k", "x", 7, 8), KV_OK);
    EXPECT_EQ(cas(kv, "k", "y", 7, 9), KV_CAS_FAILED);
    EXPECT_EQ(kv_get(kv, "k", 1)->modify_index, 8);
    kv_free(kv);
}

TEST(snapshot_round_trip_keeps_every_key_and_index)
{
    struct kv *kv = kv_new(), *back = kv_new();
    char key[32], val[32], err[128];
    uint8_t *buf;
    size_t len;

    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key/%d", i);
        snprintf(val, sizeof(val), "value-%d", i * 7);
        put(kv, key, val, (uint64_t)i + 1);
    }
    EXPECT_EQ(kv_encode(kv, &buf, &len), 0);
    EXPECT_EQ(kv_decode(back, buf, len, err, sizeof(err)), 0);
    EXPECT_EQ(kv_count(back), 5000);
    EXPECT_EQ(kv_bytes(back), kv_bytes(kv));
    for (int i = 0; i < 5000; i += 97) {
        const struct kv_entry *e;

        snprintf(key, sizeof(key), "key/%d", i);
        snprintf(val, sizeof(val), "value-%d", i * 7);
        e = kv_get(back, key, strlen(key));
        EXPECT_TRUE(e != NULL);
        EXPECT_EQ(e->value_len, strlen(val));
        EXPECT_EQ(e->modify_index, i + 1);
    }
    free(buf);
    kv_free(kv);
    kv_free(back);
}

TEST(truncated_snapshot_is_refused_and_leaves_store_unchanged)
{
    struct kv *kv = kv_new(), *other = kv_new();
    char err[128];
    uint8_t *buf;
    size_t len;

    put(kv, "a", "1", 1);
    put(kv, "b", "2", 2);
    put(other, "keep", "me", 3);
    kv_encode(kv, &buf, &len);
    for (size_t cut = 0; cut < len; cut++) {
        EXPECT_EQ(kv_decode(other, buf, cut, err, sizeof(err)), -1);
    }
    EXPECT_EQ(kv_count(other), 1);
    EXPECT_TRUE(kv_get(other, "keep", 4) != NULL);
    free(buf);
    kv_free(kv);
    kv_free(other);
}

TEST(command_round_trip)
{
    struct sm_command c = {.op = SM_OP_PUT,
                           .flags = SM_FLAG_CAS,
                           .cas = 1234567890123ULL,
                           .key = "config/x",
                           .key_len = 8,
                           .value = (const uint8_t *)"\0\1\2",
                           .value_len = 3};
    struct sm_command d;
    uint8_t buf[64];
    char err[128];
    size_t n = sm_command_encode(&c, buf);

    EXPECT_EQ(n, 16 + 8 + 3);
    EXPECT_EQ(sm_command_decode(buf, n, &d, err, sizeof(err)), 0);
    EXPECT_EQ(d.op, SM_OP_PUT);
    EXPECT_EQ(d.cas, 1234567890123ULL);
    EXPECT_EQ(d.key_len, 8);
    EXPECT_EQ(d.value_len, 3);
    EXPECT_TRUE(memcmp(d.key, "config/x", 8) == 0);
}

TEST(malformed_commands_are_refused)
{
    struct sm_command c = {.op = SM_OP_DEL, .key = "k", .key_len = 1};
    struct sm_command d;
    uint8_t buf[64];
    char err[128];
    size_t n = sm_command_encode(&c, buf);

    EXPECT_EQ(sm_command_decode(buf, n - 1, &d, err, sizeof(err)), -1);
    EXPECT_EQ(sm_command_decode(buf, 3, &d, err, sizeof(err)), -1);
    buf[0] = 99;
    EXPECT_EQ(sm_command_decode(buf, n, &d, err, sizeof(err)), -1);
    EXPECT_STR(err, "unknown command op 99");
}

TEST(keys_with_spaces_or_control_bytes_are_refused)
{
    char err[128];

    EXPECT_EQ(sm_key_check("a b", 3, err, sizeof(err)), -1);
    EXPECT_EQ(sm_key_check("a\nb", 3, err, sizeof(err)), -1);
    EXPECT_EQ(sm_key_check("", 0, err, sizeof(err)), -1);
    EXPECT_EQ(sm_key_check("config/threshold", 16, err, sizeof(err)), 0);
}

int main(void)
{
    RUN(put_then_get_returns_value_and_indexes);
    RUN(delete_removes_and_reports_missing_keys);
    RUN(cas_zero_creates_only_when_absent);
    RUN(cas_succeeds_only_against_the_current_modify_index);
    RUN(snapshot_round_trip_keeps_every_key_and_index);
    RUN(truncated_snapshot_is_refused_and_leaves_store_unchanged);
    RUN(command_round_trip);
    RUN(malformed_commands_are_refused);
    RUN(keys_with_spaces_or_control_bytes_are_refused);
    DONE();
}
