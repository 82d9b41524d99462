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

/* KEY's modify index, 0 when absent. */
static uint64_t modify_index(const struct kv *kv, const char *key)
{
    struct kv_entry e;

    return kv_get(kv, key, strlen(key), &e) ? e.modify_index : 0;
}

TEST(put_then_get_returns_value_and_indexes)
{
    struct kv *kv = kv_new();
    struct kv_entry e;

    EXPECT_EQ(put(kv, "a", "1", 5), KV_OK);
    EXPECT_EQ(put(kv, "a", "22", 9), KV_OK);
    EXPECT_TRUE(kv_get(kv, "a", 1, &e));
    EXPECT_EQ(e.key_len, 1);
    EXPECT_TRUE(memcmp(e.key, "a", 1) == 0);
    EXPECT_EQ(e.value_len, 2);
    EXPECT_TRUE(memcmp(e.value, "22", 2) == 0);
    EXPECT_EQ(e.create_index, 5);
    EXPECT_EQ(e.modify_index, 9);
    EXPECT_EQ(kv_count(kv), 1);
    EXPECT_EQ(kv_bytes(kv), 3);
    kv_free(kv);
}

TEST(delete_removes_and_reports_missing_keys)
{
    struct kv *kv = kv_new();
    struct kv_entry e;

    put(kv, "a", "1", 1);
    EXPECT_EQ(del(kv, "a", 2), KV_OK);
    EXPECT_TRUE(!kv_get(kv, "a", 1, &e));
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
    EXPECT_EQ(modify_index(kv, "k"), 4);
    kv_free(kv);
}

TEST(cas_succeeds_only_against_the_current_modify_index)
{
    struct kv *kv = kv_new();

    put(kv, "k", "v", 7);
    EXPECT_EQ(cas(kv, "k", "x", 6, 8), KV_CAS_FAILED);
    EXPECT_EQ(cas(kv, "k", "x", 7, 8), KV_OK);
    EXPECT_EQ(cas(kv, "k", "y", 7, 9), KV_CAS_FAILED);
    EXPECT_EQ(modify_index(kv, "k"), 8);
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
        struct kv_entry e;

        snprintf(key, sizeof(key), "key/%d", i);
        snprintf(val, sizeof(val), "value-%d", i * 7);
        EXPECT_TRUE(kv_get(back, key, strlen(key), &e));
        EXPECT_EQ(e.value_len, strlen(val));
        EXPECT_TRUE(memcmp(e.value, val, e.value_len) == 0);
        EXPECT_EQ(e.create_index, i + 1);
        EXPECT_EQ(e.modify_index, i + 1);
    }
    free(buf);
    kv_free(kv);
    kv_free(back);
}

TEST(truncated_snapshot_is_refused_and_leaves_store_unchanged)
{
    struct kv *kv = kv_new(), *other = kv_new();
    struct kv_entry e;
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
    EXPECT_TRUE(kv_get(other, "keep", 4, &e));
    EXPECT_EQ(e.modify_index, 3);
    free(buf);
    kv_free(kv);
    kv_free(other);
}

TEST(overwrite_keeps_create_index_and_recounts_bytes)
{
    struct kv *kv = kv_new();
    struct kv_entry e;

    put(kv, "k", "short", 3);
    put(kv, "k", "a longer value", 4);
    put(kv, "k", "", 6);
    EXPECT_TRUE(kv_get(kv, "k", 1, &e));
    EXPECT_EQ(e.value_len, 0);
    EXPECT_EQ(e.create_index, 3);
    EXPECT_EQ(e.modify_index, 6);
    EXPECT_EQ(kv_bytes(kv), 1);
    kv_free(kv);
}

TEST(deleted_key_created_again_starts_afresh)
{
    struct kv *kv = kv_new();
    struct kv_entry e;

    put(kv, "k", "1", 3);
    del(kv, "k", 4);
    EXPECT_EQ(cas(kv, "k", "2", 0, 5), KV_OK);
    EXPECT_TRUE(kv_get(kv, "k", 1, &e));
    EXPECT_EQ(e.create_index, 5);
    EXPECT_EQ(e.modify_index, 5);
    kv_free(kv);
}

TEST(lookups_compare_whole_keys)
{
    struct kv *kv = kv_new();
    struct kv_entry e;

    put(kv, "ab", "1", 1);
    EXPECT_TRUE(!kv_get(kv, "a", 1, &e));
    EXPECT_TRUE(!kv_get(kv, "abc", 3, &e));
    EXPECT_TRUE(kv_get(kv, "abc", 2, &e));
    EXPECT_EQ(del(kv, "a", 2), KV_NOT_FOUND);
    EXPECT_EQ(kv_count(kv), 1);
    kv_free(kv);
}

/* The snapshot format is on disk forever: one key, byte for byte. */
static const uint8_t one_key_snapshot[] = {
    1,    0,    0,   0,   0,  0, 0, 0, /* count */
    3,    0,                           /* key length */
    2,    0,    0,   0,                /* value length */
    7,    0,    0,   0,   0,  0, 0, 0, /* create index */
    0x2c, 0x01, 0,   0,   0,  0, 0, 0, /* modify index: 300 */
    'c',  'f',  'g', 'o', 'k'};

TEST(snapshot_bytes_follow_the_documented_format)
{
    struct kv *kv = kv_new();
    uint8_t *buf;
    size_t len;

    put(kv, "cfg", "no", 7);
    put(kv, "cfg", "ok", 300);
    EXPECT_EQ(kv_encode(kv, &buf, &len), 0);
    EXPECT_EQ(len, sizeof(one_key_snapshot));
    EXPECT_TRUE(memcmp(buf, one_key_snapshot, len) == 0);
    free(buf);
    kv_free(kv);
}

TEST(snapshot_in_the_documented_format_decodes)
{
    struct kv *kv = kv_new();
    struct kv_entry e;
    char err[128];

    EXPECT_EQ(kv_decode(kv, one_key_snapshot, sizeof(one_key_snapshot), err,
                        sizeof(err)),
              0);
    EXPECT_TRUE(kv_get(kv, "cfg", 3, &e));
    EXPECT_EQ(e.create_index, 7);
    EXPECT_EQ(e.modify_index, 300);
    EXPECT_EQ(e.value_len, 2);
    EXPECT_TRUE(memcmp(e.value, "ok", 2) == 0);
    EXPECT_EQ(kv_bytes(kv), 5);
    kv_free(kv);
}

TEST(snapshot_with_bad_fields_is_refused)
{
    struct kv *kv = kv_new();
    uint8_t bad[sizeof(one_key_snapshot)];
    char err[128];

    memcpy(bad, one_key_snapshot, sizeof(bad));
    bad[14] = 0x2d; /* created at 301, after its last change at 300 */
    bad[15] = 0x01;
    EXPECT_EQ(kv_decode(kv, bad, sizeof(bad), err, sizeof(err)), -1);
    EXPECT_STR(err, "snapshot is malformed at byte 30");
    memcpy(bad, one_key_snapshot, sizeof(bad));
    bad[0] = 200; /* more keys than the bytes can hold */
    EXPECT_EQ(kv_decode(kv, bad, sizeof(bad), err, sizeof(err)), -1);
    EXPECT_STR(err, "snapshot of 35 bytes cannot hold 200 keys");
    memcpy(bad, one_key_snapshot, sizeof(bad));
    bad[8] = 0; /* an empty key */
    EXPECT_EQ(kv_decode(kv, bad, sizeof(bad), err, sizeof(err)), -1);
    EXPECT_EQ(kv_count(kv), 0);
    kv_free(kv);
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
    RUN(overwrite_keeps_create_index_and_recounts_bytes);
    RUN(deleted_key_created_again_starts_afresh);
    RUN(lookups_compare_whole_keys);
    RUN(snapshot_round_trip_keeps_every_key_and_index);
    RUN(snapshot_bytes_follow_the_documented_format);
    RUN(snapshot_in_the_documented_format_decodes);
    RUN(snapshot_with_bad_fields_is_refused);
    RUN(truncated_snapshot_is_refused_and_leaves_store_unchanged);
    RUN(command_round_trip);
    RUN(malformed_commands_are_refused);
    RUN(keys_with_spaces_or_control_bytes_are_refused);
    DONE();
}
