/* test_codec.c - the peer RPC codec: every message type survives a round
 * trip, and every kind of bad body is refused with a one-line reason and a
 * message left all zeros. */
#include "harness.h"

#include "transport/base64.h"
#include "transport/codec.h"

#include <jansson.h>
#include <stdlib.h>

static const struct codec_nodes nodes2 = {2, 3, {1, 2, 3}}; /* we are 2 */
static char err[256];

static int err_says(const char *what)
{
    return strstr(err, what) != NULL && strchr(err, '\n') == NULL;
}

static int msg_is_zero(const struct raft_msg *m)
{
    static const struct raft_msg zero;

    return memcmp(m, &zero, sizeof(zero)) == 0;
}

/* Encode M, decode it as node 2 and compare field by field. */
static int round_trip(const struct raft_msg *m, struct raft_msg *back)
{
    size_t len = 0;
    char *text = codec_encode(m, &len, err, sizeof(err));
    int rc;

    if (text == NULL) {
        return -1;
    }
    rc = codec_decode(m->type, text, len, &nodes2, back, err, sizeof(err));
    free(text);
    return rc;
}

/* Decode TEXT as TYPE for node 2; expect failure, zeros and WHAT in err. */
static int rejects(enum raft_msg_type type, const char *text, const char *what)
{
    struct raft_msg m;

    memset(&m, 0xab, sizeof(m));
    if (codec_decode(type, text, strlen(text), &nodes2, &m, err, sizeof(err)) !=
        -1) {
        fprintf(stderr, "accepted: %.200s\n", text);
        return 0;
    }
    if (!msg_is_zero(&m) || !err_says(what)) {
        fprintf(stderr, "for %.200s\n  got \"%s\", wanted \"%s\"\n", text, err,
                what);
        return 0;
    }
    return 1;
}

TEST(vote_round_trip)
{
    struct raft_msg m = {
        .type = RAFT_MSG_VOTE, .from = 1, .to = 2, .term = 7, .rpc_id = 99};
    struct raft_msg b;

    m.u.vote.prevote = true;
    m.u.vote.transfer = false;
    m.u.vote.last_log_index = 12;
    m.u.vote.last_log_term = 6;
    EXPECT_EQ(round_trip(&m, &b), 0);
    EXPECT_EQ(b.type, RAFT_MSG_VOTE);
    EXPECT_EQ(b.from, 1);
    EXPECT_EQ(b.to, 2);
    EXPECT_EQ(b.term, 7);
    EXPECT_EQ(b.rpc_id, 0);
    EXPECT_EQ(b.u.vote.prevote, true);
    EXPECT_EQ(b.u.vote.transfer, false);
    EXPECT_EQ(b.u.vote.last_log_index, 12);
    EXPECT_EQ(b.u.vote.last_log_term, 6);

    m.u.vote.prevote = false;
    m.u.vote.transfer = true;
    m.term = INT64_MAX;
    EXPECT_EQ(round_trip(&m, &b), 0);
    EXPECT_EQ(b.u.vote.prevote, false);
    EXPECT_EQ(b.u.vote.transfer, true);
    EXPECT_TRUE(b.term == (uint64_t)INT64_MAX);
}

TEST(vote_result_round_trip)
{
    struct raft_msg m = {
        .type = RAFT_MSG_VOTE_RESULT, .from = 3, .to = 2, .term = 0};
    struct raft_msg b;

    m.u.vote_result.prevote = true;
    m.u.vote_result.granted = true;
    EXPECT_EQ(round_trip(&m, &b), 0);
    EXPECT_EQ(b.type, RAFT_MSG_VOTE_RESULT);
    EXPECT_EQ(b.from, 3);
    EXPECT_EQ(b.term, 0);
    EXPECT_EQ(b.u.vote_result.prevote, true);
    EXPECT_EQ(b.u.vote_result.granted, true);
}

TEST(heartbeat_round_trip)
{
    struct raft_msg m = {
        .type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 4};
    struct raft_msg b;

    m.u.append.prev_log_index = 10;
    m.u.append.prev_log_term = 3;
    m.u.append.leader_commit = 9;
    EXPECT_EQ(round_trip(&m, &b), 0);
    EXPECT_EQ(b.type, RAFT_MSG_APPEND);
    EXPECT_EQ(b.u.append.prev_log_index, 10);
    EXPECT_EQ(b.u.append.prev_log_term, 3);
    EXPECT_EQ(b.u.append.leader_commit, 9);
    EXPECT_EQ(b.u.append.n_entries, 0);
    EXPECT_TRUE(b.u.append.entries == NULL);
    codec_msg_release(&b);
    EXPECT_TRUE(msg_is_zero(&b));
}

TEST(append_with_entries_round_trip)
{
    uint8_t all[256], one[1] = {0}, two[2] = {0xff, 0x00};
    struct raft_entry en[4] = {
        {3, 11, RAFT_ENTRY_NORMAL, sizeof(all), all},
        {4, 12, RAFT_ENTRY_NOOP, 0, NULL},
        {4, 13, RAFT_ENTRY_NORMAL, 1, one},
        {4, 14, RAFT_ENTRY_NORMAL, 2, two},
    };
    struct raft_msg m = {
        .type = RAFT_MSG_APPEND, .from = 3, .to = 2, .term = 4};
    struct raft_msg b;

    for (int i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
    }
    m.u.append.prev_log_index = 10;
    m.u.append.prev_log_term = 3;
    m.u.append.leader_commit = 10;
    m.u.append.n_entries = 4;
    m.u.append.entries = en;
    EXPECT_EQ(round_trip(&m, &b), 0);
    EXPECT_EQ(b.u.append.n_entries, 4);
    for (size_t i = 0; i < 4; i++) {
        const struct raft_entry *x = &en[i], *y = &b.u.append.entries[i];

        EXPECT_EQ(y->term, x->term);
        EXPECT_EQ(y->index, x->index);
        EXPECT_EQ(y->type, x->type);
        EXPECT_EQ(y->len, x->len);
        EXPECT_TRUE(x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
    }
    codec_msg_release(&b);
    codec_msg_release(&b);
    EXPECT_TRUE(msg_is_zero(&b));
}

TEST(append_result_round_trip)
{
    struct raft_msg m = {
        .type = RAFT_MSG_APPEND_RESULT, .from = 1, .to = 2, .term = 5};
    struct raft_msg b;

    m.u.append_result.success = false;
    m.u.append_result.match_index = 0;
    m.u.append_result.conflict_index = 17;
    m.u.append_result.conflict_term = 4;
    EXPECT_EQ(round_trip(&m, &b), 0);
    EXPECT_EQ(b.u.append_result.success, false);
    EXPECT_EQ(b.u.append_result.conflict_index, 17);
    EXPECT_EQ(b.u.append_result.conflict_term, 4);
    m.u.append_result.success = true;
    m.u.append_result.match_index = 30;
    EXPECT_EQ(round_trip(&m, &b), 0);
    EXPECT_EQ(b.u.append_result.success, true);
    EXPECT_EQ(b.u.append_result.match_index, 30);
}

TEST(timeout_now_round_trip_and_paths)
{
    struct raft_msg m = {
        .type = RAFT_MSG_TIMEOUT_NOW, .from = 1, .to = 2, .term = 8};
    struct raft_msg b;
    size_t len;
    char *text = codec_encode(&m, &len, err, sizeof(err));

    EXPECT_TRUE(text != NULL);
    EXPECT_STR(text, "{\"term\":8,\"from\":1,\"to\":2}");
    free(text);
    EXPECT_EQ(round_trip(&m, &b), 0);
    EXPECT_EQ(b.type, RAFT_MSG_TIMEOUT_NOW);
    EXPECT_EQ(b.term, 8);
    EXPECT_STR(codec_path(RAFT_MSG_VOTE), "/raft/request_vote");
    EXPECT_STR(codec_path(RAFT_MSG_APPEND), "/raft/append_entries");
    EXPECT_STR(codec_path(RAFT_MSG_TIMEOUT_NOW), "/raft/timeout_now");
    EXPECT_TRUE(codec_path(RAFT_MSG_VOTE_RESULT) == NULL);
    EXPECT_EQ(codec_result_type(RAFT_MSG_VOTE), RAFT_MSG_VOTE_RESULT);
    EXPECT_EQ(codec_result_type(RAFT_MSG_APPEND), RAFT_MSG_APPEND_RESULT);
    EXPECT_EQ(codec_result_type(RAFT_MSG_TIMEOUT_NOW), RAFT_MSG_NONE);
}

TEST(unknown_fields_are_ignored)
{
    const char *t = "{\"term\":8,\"from\":1,\"to\":2,\"future\":[1,{}]}";
    struct raft_msg b;

    EXPECT_EQ(codec_decode(RAFT_MSG_TIMEOUT_NOW, t, strlen(t), &nodes2, &b, err,
                           sizeof(err)),
              0);
}

/* Every field of a valid body, removed in turn, is reported missing. */
static int each_field_missing(enum raft_msg_type type, const char *valid)
{
    json_t *root = json_loads(valid, 0, NULL);
    const char *key;
    json_t *v;
    int ok = root != NULL;

    json_object_foreach(root, key, v)
    {
        json_t *copy = json_deep_copy(root);
        char *text, want[64];

        json_object_del(copy, key);
        text = json_dumps(copy, JSON_COMPACT);
        snprintf(want, sizeof(want), "field \"%s\" is missing", key);
        ok = ok && rejects(type, text, want);
        free(text);
        json_decref(copy);
    }
    json_decref(root);
    return ok;
}

/* Every integer field, set to each wrong value in turn, is refused. */
static int each_field_mistyped(enum raft_msg_type type, const char *valid)
{
    static const char *bad_int[] = {"\"1\"", "-1",   "1.5",
                                    "1e2",   "true", "null"};
    static const char *bad_bool[] = {"1", "0", "\"true\"", "null"};
    json_t *root = json_loads(valid, 0, NULL);
    const char *key;
    json_t *v;
    int ok = root != NULL;

    json_object_foreach(root, key, v)
    {
        int is_bool = json_is_boolean(v);
        const char **bad = is_bool ? bad_bool : bad_int;
        size_t n = is_bool ? 4 : 6;

        if (!json_is_integer(v) && !is_bool) {
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *copy = json_deep_copy(root);
            char *text, want[64];

            json_object_set_new(copy, key,
                                json_loads(bad[i], JSON_DECODE_ANY, NULL));
            text = json_dumps(copy, JSON_COMPACT);
            snprintf(want, sizeof(want), "field \"%s\" must be %s", key,
                     is_bool ? "true or false" : "an integer");
            ok = ok && rejects(type, text, want);
            free(text);
            json_decref(copy);
        }
    }
    json_decref(root);
    return ok;
}

static const char *valid_vote =
    "{\"term\":5,\"from\":1,\"to\":2,\"prevote\":false,\"transfer\":false,"
    "\"last_log_index\":3,\"last_log_term\":2}";
static const char *valid_vote_result =
    "{\"term\":5,\"from\":1,\"to\":2,\"prevote\":false,\"granted\":true}";
static const char *valid_append =
    "{\"term\":5,\"from\":1,\"to\":2,\"prev_log_index\":3,"
    "\"prev_log_term\":2,\"leader_commit\":3,\"entries\":[]}";
static const char *valid_append_result =
    "{\"term\":5,\"from\":1,\"to\":2,\"success\":true,\"match_index\":3,"
    "\"conflict_index\":0,\"conflict_term\":0}";
static const char *valid_timeout_now = "{\"term\":5,\"from\":1,\"to\":2}";

TEST(missing_fields_rejected)
{
    EXPECT_TRUE(each_field_missing(RAFT_MSG_VOTE, valid_vote));
    EXPECT_TRUE(each_field_missing(RAFT_MSG_VOTE_RESULT, valid_vote_result));
    EXPECT_TRUE(each_field_missing(RAFT_MSG_APPEND, valid_append));
    EXPECT_TRUE(
        each_field_missing(RAFT_MSG_APPEND_RESULT, valid_append_result));
    EXPECT_TRUE(each_field_missing(RAFT_MSG_TIMEOUT_NOW, valid_timeout_now));
}

TEST(mistyped_fields_rejected)
{
    EXPECT_TRUE(each_field_mistyped(RAFT_MSG_VOTE, valid_vote));
    EXPECT_TRUE(each_field_mistyped(RAFT_MSG_VOTE_RESULT, valid_vote_result));
    EXPECT_TRUE(each_field_mistyped(RAFT_MSG_APPEND, valid_append));
    EXPECT_TRUE(
        each_field_mistyped(RAFT_MSG_APPEND_RESULT, valid_append_result));
    EXPECT_TRUE(each_field_mistyped(RAFT_MSG_TIMEOUT_NOW, valid_timeout_now));
}

TEST(bad_json_rejected)
{
    EXPECT_TRUE(rejects(RAFT_MSG_VOTE, "", "bad JSON"));
    EXPECT_TRUE(rejects(RAFT_MSG_VOTE, "{", "bad JSON"));
    EXPECT_TRUE(rejects(RAFT_MSG_VOTE, "[1,2]", "must be a JSON object"));
    EXPECT_TRUE(rejects(RAFT_MSG_TIMEOUT_NOW,
                        "{\"term\":5,\"from\":1,\"to\":2} x", "bad JSON"));
    EXPECT_TRUE(rejects(RAFT_MSG_TIMEOUT_NOW,
                        "{\"term\":5,\"term\":6,\"from\":1,\"to\":2}",
                        "duplicate"));
    EXPECT_TRUE(rejects(RAFT_MSG_TIMEOUT_NOW,
                        "{\"term\":9223372036854775808,\"from\":1,\"to\":2}",
                        "too big"));
    EXPECT_TRUE(rejects(RAFT_MSG_TIMEOUT_NOW,
                        "{\"term\":18446744073709551617,\"from\":1,\"to\":2}",
                        "too big"));
    EXPECT_TRUE(rejects(RAFT_MSG_NONE, valid_timeout_now,
                        "cannot decode message type"));
}

/* Found by fuzz_codec: jansson quotes the input in its reason, raw control
 * bytes and all. A reason must stay one line of printable ASCII. */
TEST(reasons_are_printable_ascii)
{
    static const char *bad[] = {
        "{\"entries\":[{\"date\\\n\x10\xb0`a\":1}]}",
        "{\"te\x01rm\xff\xfe\":5}",
        "\x7f\x80{",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_TRUE(rejects(RAFT_MSG_APPEND, bad[i], "bad JSON"));
        for (const char *p = err; *p != '\0'; p++) {
            EXPECT_TRUE(*p >= 0x20 && *p < 0x7f);
        }
    }
}

TEST(bad_node_ids_rejected)
{
    EXPECT_TRUE(rejects(RAFT_MSG_TIMEOUT_NOW,
                        "{\"term\":5,\"from\":9,\"to\":2}",
                        "\"from\": 9 is not a peer"));
    EXPECT_TRUE(rejects(RAFT_MSG_TIMEOUT_NOW,
                        "{\"term\":5,\"from\":2,\"to\":2}",
                        "\"from\": 2 is not a peer"));
    EXPECT_TRUE(rejects(RAFT_MSG_TIMEOUT_NOW,
                        "{\"term\":5,\"from\":0,\"to\":2}",
                        "\"from\": 0 is not a peer"));
    EXPECT_TRUE(rejects(RAFT_MSG_VOTE_RESULT,
                        "{\"term\":5,\"from\":1,\"to\":3,\"prevote\":false,"
                        "\"granted\":true}",
                        "\"to\": 3 is not this node (2)"));
}

TEST(inconsistent_terms_rejected)
{
    EXPECT_TRUE(rejects(RAFT_MSG_VOTE,
                        "{\"term\":5,\"from\":1,\"to\":2,\"prevote\":false,"
                        "\"transfer\":false,\"last_log_index\":3,"
                        "\"last_log_term\":6}",
                        "last_log_term 6 is above term 5"));
    EXPECT_TRUE(rejects(RAFT_MSG_APPEND,
                        "{\"term\":5,\"from\":1,\"to\":2,\"prev_log_index\":3,"
                        "\"prev_log_term\":6,\"leader_commit\":3,"
                        "\"entries\":[]}",
                        "prev_log_term 6 is above term 5"));
}

/* An APPEND from 1 to 2 in term 5 after (3, 2) with ENTRIES. */
static char *append_with(const char *entries)
{
    static char buf[4096];

    snprintf(buf, sizeof(buf),
             "{\"term\":5,\"from\":1,\"to\":2,\"prev_log_index\":3,"
             "\"prev_log_term\":2,\"leader_commit\":3,\"entries\":%s}",
             entries);
    return buf;
}

TEST(bad_entries_rejected)
{
    EXPECT_TRUE(rejects(RAFT_MSG_APPEND, append_with("{}"),
                        "field \"entries\" must be an array"));
    EXPECT_TRUE(rejects(RAFT_MSG_APPEND, append_with("[1]"),
                        "entries[0] must be an object"));
    EXPECT_TRUE(rejects(RAFT_MSG_APPEND,
                        append_with("[{\"term\":2,\"index\":4,\"type\":0}]"),
                        "field \"entries[0].data\" is missing"));
    EXPECT_TRUE(rejects(
        RAFT_MSG_APPEND,
        append_with("[{\"term\":2,\"index\":4,\"type\":0,\"data\":\"\"},"
                    "{\"term\":\"2\",\"index\":5,\"type\":0,\"data\":\"\"}]"),
        "field \"entries[1].term\" must be an integer"));
    EXPECT_TRUE(rejects(
        RAFT_MSG_APPEND,
        append_with("[{\"term\":2,\"index\":5,\"type\":0,\"data\":\"\"}]"),
        "entries[0]: index 5, expected 4"));
    EXPECT_TRUE(rejects(
        RAFT_MSG_APPEND,
        append_with("[{\"term\":3,\"index\":4,\"type\":0,\"data\":\"\"},"
                    "{\"term\":2,\"index\":5,\"type\":0,\"data\":\"\"}]"),
        "entries[1]: term 2 out of order"));
    EXPECT_TRUE(rejects(
        RAFT_MSG_APPEND,
        append_with("[{\"term\":6,\"index\":4,\"type\":0,\"data\":\"\"}]"),
        "entries[0]: term 6 out of order"));
    EXPECT_TRUE(rejects(
        RAFT_MSG_APPEND,
        append_with("[{\"term\":1,\"index\":4,\"type\":0,\"data\":\"\"}]"),
        "entries[0]: term 1 out of order"));
    EXPECT_TRUE(rejects(
        RAFT_MSG_APPEND,
        append_with("[{\"term\":2,\"index\":4,\"type\":7,\"data\":\"\"}]"),
        "entries[0]: unknown type 7"));
    EXPECT_TRUE(
        rejects(RAFT_MSG_APPEND,
                append_with("[{\"term\":2,\"index\":4,\"type\":0,\"data\":5}]"),
                "entries[0].data\" must be a base64 string"));
}

TEST(bad_base64_rejected)
{
    static const char *bad[] = {
        "A",    "AB",   "ABC",  "A===", "====",     "AB=A",      "AB\\nC",
        "AB C", "AB-_", "QR==", "QUJ=", "AA==AA==", "\\u00e9AAA"};
    char entries[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(entries, sizeof(entries),
                 "[{\"term\":2,\"index\":4,\"type\":0,\"data\":\"%s\"}]",
                 bad[i]);
        EXPECT_TRUE(rejects(RAFT_MSG_APPEND, append_with(entries),
                            "entries[0].data: bad base64"));
    }
}

/* An APPEND of N entries of BYTES each (a multiple of 3: the data is all
 * 'A's, unpadded), as JSON text (caller frees). */
static char *big_append(size_t n, size_t bytes)
{
    json_t *root = json_loads(append_with("[]"), 0, NULL);
    json_t *arr = json_object_get(root, "entries");
    size_t b64 = base64_encoded_len(bytes);
    char *data = malloc(b64 + 1);
    char *text;

    memset(data, 'A', b64);
    data[b64] = '\0';
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_pack("{s:i,s:I,s:i,s:s}", "term", 2, "index",
                              (json_int_t)(4 + i), "type", 0, "data", data);
        json_array_append_new(arr, e);
    }
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    free(data);
    return text;
}

TEST(entry_bounds_enforced)
{
    char *t;
    struct raft_msg m;

    t = big_append(CODEC_MAX_ENTRIES, 3);
    EXPECT_EQ(codec_decode(RAFT_MSG_APPEND, t, strlen(t), &nodes2, &m, err,
                           sizeof(err)),
              0);
    EXPECT_EQ(m.u.append.n_entries, CODEC_MAX_ENTRIES);
    codec_msg_release(&m);
    free(t);

    t = big_append(CODEC_MAX_ENTRIES + 1, 0);
    EXPECT_TRUE(rejects(RAFT_MSG_APPEND, t, "1025 entries, at most 1024"));
    free(t);

    t = big_append(1, CODEC_MAX_ENTRY_BYTES + 2);
    EXPECT_TRUE(rejects(RAFT_MSG_APPEND, t,
                        "entries[0]: 1048578 bytes of data, at most"));
    free(t);

    t = big_append(2, CODEC_MAX_ENTRY_BYTES - 1);
    EXPECT_TRUE(rejects(RAFT_MSG_APPEND, t,
                        "entries: 2097150 bytes of data, at most 1048576"));
    free(t);
}

/* The biggest APPEND a leader may send, with 19-digit numbers everywhere,
 * encodes within the request body bound and decodes again. */
TEST(largest_append_fits_the_body_bound)
{
    static struct raft_entry en[CODEC_MAX_ENTRIES];
    static uint8_t data[CODEC_MAX_BATCH_BYTES];
    struct raft_msg m = {.type = RAFT_MSG_APPEND,
                         .from = 3,
                         .to = 2,
                         .term = 1000000000000000000ull};
    size_t each = CODEC_MAX_BATCH_BYTES / CODEC_MAX_ENTRIES, len;
    struct raft_msg b;
    char *text;

    m.u.append.prev_log_index = 1000000000000000000ull;
    m.u.append.prev_log_term = m.term;
    m.u.append.leader_commit = m.u.append.prev_log_index;
    m.u.append.n_entries = CODEC_MAX_ENTRIES;
    m.u.append.entries = en;
    for (size_t i = 0; i < CODEC_MAX_ENTRIES; i++) {
        en[i] = (struct raft_entry){m.term, m.u.append.prev_log_index + 1 + i,
                                    RAFT_ENTRY_NORMAL, (uint32_t)each,
                                    data + i * each};
    }
    text = codec_encode(&m, &len, err, sizeof(err));
    EXPECT_TRUE(text != NULL);
    EXPECT_TRUE(len <= CODEC_MAX_REQUEST_BODY);
    EXPECT_EQ(
        codec_decode(RAFT_MSG_APPEND, text, len, &nodes2, &b, err, sizeof(err)),
        0);
    EXPECT_EQ(b.u.append.n_entries, CODEC_MAX_ENTRIES);
    codec_msg_release(&b);
    free(text);
}

TEST(encode_refuses_what_decode_would)
{
    struct raft_entry en[CODEC_MAX_ENTRIES + 1];
    struct raft_msg m = {
        .type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 5};
    size_t len;

    memset(en, 0, sizeof(en));
    m.u.append.entries = en;
    m.u.append.n_entries = CODEC_MAX_ENTRIES + 1;
    EXPECT_TRUE(codec_encode(&m, &len, err, sizeof(err)) == NULL);
    EXPECT_TRUE(err_says("1025 entries, at most 1024"));

    m.u.append.n_entries = 1;
    en[0].len = 4;
    EXPECT_TRUE(codec_encode(&m, &len, err, sizeof(err)) == NULL);
    EXPECT_TRUE(err_says("entries[0]: bad data"));

    m.u.append.n_entries = 0;
    m.term = (uint64_t)INT64_MAX + 1;
    EXPECT_TRUE(codec_encode(&m, &len, err, sizeof(err)) == NULL);
    EXPECT_TRUE(err_says("field \"term\": 9223372036854775808 is above"));

    m.term = 1;
    m.type = RAFT_MSG_NONE;
    EXPECT_TRUE(codec_encode(&m, &len, err, sizeof(err)) == NULL);
    EXPECT_TRUE(err_says("cannot encode message type 0"));
}

TEST(read_round_seq_round_trips_and_defaults_to_zero)
{
    struct raft_msg m = {
        .type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 4};
    struct raft_msg b;

    m.u.append.seq = 77;
    EXPECT_EQ(round_trip(&m, &b), 0);
    EXPECT_EQ(b.u.append.seq, 77);
    m.type = RAFT_MSG_APPEND_RESULT;
    m.u.append_result.seq = 78;
    EXPECT_EQ(round_trip(&m, &b), 0);
    EXPECT_EQ(b.u.append_result.seq, 78);

    /* An older node sends no seq: a round of 0, which confirms nothing. */
    EXPECT_EQ(codec_decode(RAFT_MSG_APPEND, valid_append, strlen(valid_append),
                           &nodes2, &b, err, sizeof(err)),
              0);
    EXPECT_EQ(b.u.append.seq, 0);
    EXPECT_EQ(codec_decode(RAFT_MSG_APPEND_RESULT, valid_append_result,
                           strlen(valid_append_result), &nodes2, &b, err,
                           sizeof(err)),
              0);
    EXPECT_EQ(b.u.append_result.seq, 0);
    EXPECT_TRUE(rejects(RAFT_MSG_APPEND,
                        "{\"term\":5,\"from\":1,\"to\":2,\"prev_log_index\":3,"
                        "\"prev_log_term\":2,\"leader_commit\":3,\"seq\":-1,"
                        "\"entries\":[]}",
                        "field \"seq\" must be an integer"));
}

static const char *valid_chunk =
    "{\"term\":5,\"from\":1,\"to\":2,\"last_index\":40,\"last_term\":3,"
    "\"offset\":0,\"total\":6,\"done\":true,\"data\":\"Zm9vYmFy\"}";
static const char *valid_chunk_result =
    "{\"term\":5,\"from\":1,\"to\":2,\"success\":true,\"next_offset\":6,"
    "\"match_index\":40}";

static int chunk_is_zero(const struct codec_chunk *c)
{
    static const struct codec_chunk zero;

    return memcmp(c, &zero, sizeof(zero)) == 0;
}

/* Decode TEXT as a chunk for node 2; expect failure, zeros and WHAT. */
static int chunk_rejects(const char *text, const char *what)
{
    struct codec_chunk c;

    memset(&c, 0xab, sizeof(c));
    if (codec_decode_chunk(text, strlen(text), &nodes2, &c, err, sizeof(err)) !=
        -1) {
        fprintf(stderr, "accepted: %.200s\n", text);
        codec_chunk_release(&c);
        return 0;
    }
    if (!chunk_is_zero(&c) || !err_says(what)) {
        fprintf(stderr, "for %.200s\n  got \"%s\", wanted \"%s\"\n", text, err,
                what);
        return 0;
    }
    return 1;
}

TEST(snapshot_chunk_round_trip)
{
    static uint8_t data[CODEC_MAX_CHUNK_BYTES];
    struct codec_chunk c = {.term = 9,
                            .from = 3,
                            .to = 2,
                            .last_index = 1000,
                            .last_term = 8,
                            .offset = 1u << 20,
                            .total = 3u << 20,
                            .done = false,
                            .data = data,
                            .len = sizeof(data)};
    struct codec_chunk b;
    size_t len;
    char *text;

    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 7);
    }
    text = codec_encode_chunk(&c, &len, err, sizeof(err));
    EXPECT_TRUE(text != NULL);
    EXPECT_TRUE(len <= CODEC_MAX_REQUEST_BODY);
    EXPECT_EQ(codec_decode_chunk(text, len, &nodes2, &b, err, sizeof(err)), 0);
    free(text);
    EXPECT_EQ(b.term, 9);
    EXPECT_EQ(b.from, 3);
    EXPECT_EQ(b.to, 2);
    EXPECT_EQ(b.last_index, 1000);
    EXPECT_EQ(b.last_term, 8);
    EXPECT_EQ(b.offset, 1u << 20);
    EXPECT_EQ(b.total, 3u << 20);
    EXPECT_EQ(b.done, false);
    EXPECT_EQ(b.len, sizeof(data));
    EXPECT_TRUE(memcmp(b.data, data, sizeof(data)) == 0);
    codec_chunk_release(&b);
    codec_chunk_release(&b);
    EXPECT_TRUE(chunk_is_zero(&b));

    /* The last chunk, and an empty file in one empty chunk. */
    c.offset = 2u << 20;
    c.done = true;
    text = codec_encode_chunk(&c, &len, err, sizeof(err));
    EXPECT_TRUE(text != NULL);
    EXPECT_EQ(codec_decode_chunk(text, len, &nodes2, &b, err, sizeof(err)), 0);
    EXPECT_EQ(b.done, true);
    codec_chunk_release(&b);
    free(text);
    c.offset = c.total = c.len = 0;
    text = codec_encode_chunk(&c, &len, err, sizeof(err));
    EXPECT_TRUE(text != NULL);
    EXPECT_EQ(codec_decode_chunk(text, len, &nodes2, &b, err, sizeof(err)), 0);
    EXPECT_EQ(b.len, 0);
    codec_chunk_release(&b);
    free(text);
}

TEST(snapshot_chunk_result_round_trip)
{
    struct codec_chunk_result r = {.term = 9,
                                   .from = 1,
                                   .to = 2,
                                   .success = true,
                                   .next_offset = 524288,
                                   .match_index = 77};
    struct codec_chunk_result b;
    size_t len;
    char *text = codec_encode_chunk_result(&r, &len, err, sizeof(err));

    EXPECT_TRUE(text != NULL);
    EXPECT_EQ(
        codec_decode_chunk_result(text, len, &nodes2, &b, err, sizeof(err)), 0);
    free(text);
    EXPECT_EQ(b.term, 9);
    EXPECT_EQ(b.from, 1);
    EXPECT_EQ(b.to, 2);
    EXPECT_EQ(b.success, true);
    EXPECT_EQ(b.next_offset, 524288);
    EXPECT_EQ(b.match_index, 77);
    EXPECT_STR(codec_path(RAFT_MSG_SNAPSHOT), "/raft/install_snapshot");
    EXPECT_EQ(codec_result_type(RAFT_MSG_SNAPSHOT), RAFT_MSG_SNAPSHOT_RESULT);
}

/* Every field of the valid chunk, removed in turn, is reported missing;
 * and so for the chunk result. */
TEST(chunk_fields_missing_rejected)
{
    const char *bodies[2] = {valid_chunk, valid_chunk_result};

    for (int k = 0; k < 2; k++) {
        json_t *root = json_loads(bodies[k], 0, NULL);
        const char *key;
        json_t *v;

        EXPECT_TRUE(root != NULL);
        json_object_foreach(root, key, v)
        {
            json_t *copy = json_deep_copy(root);
            char *text, want[64];
            struct codec_chunk_result r;
            int ok;

            json_object_del(copy, key);
            text = json_dumps(copy, JSON_COMPACT);
            json_decref(copy);
            snprintf(want, sizeof(want), "field \"%s\" is missing", key);
            if (k == 0) {
                ok = chunk_rejects(text, want);
            } else {
                ok = codec_decode_chunk_result(text, strlen(text), &nodes2, &r,
                                               err, sizeof(err)) == -1 &&
                     err_says(want);
            }
            free(text);
            if (!ok) {
                json_decref(root);
                HARNESS_FAIL("field %s", key);
                return;
            }
        }
        json_decref(root);
    }
}

TEST(bad_snapshot_chunks_rejected)
{
    struct codec_chunk_result r;

    EXPECT_TRUE(chunk_rejects("[]", "body must be a JSON object"));
    EXPECT_TRUE(chunk_rejects(
        "{\"term\":5,\"from\":2,\"to\":2,\"last_index\":40,\"last_term\":3,"
        "\"offset\":0,\"total\":6,\"done\":true,\"data\":\"Zm9vYmFy\"}",
        "\"from\": 2 is not a peer"));
    EXPECT_TRUE(chunk_rejects(
        "{\"term\":5,\"from\":1,\"to\":2,\"last_index\":40,\"last_term\":3,"
        "\"offset\":1,\"total\":6,\"done\":true,\"data\":\"Zm9vYmFy\"}",
        "passes total 6"));
    EXPECT_TRUE(chunk_rejects(
        "{\"term\":5,\"from\":1,\"to\":2,\"last_index\":40,\"last_term\":3,"
        "\"offset\":0,\"total\":7,\"done\":true,\"data\":\"Zm9vYmFy\"}",
        "done is true but the chunk ends at 6 of 7"));
    EXPECT_TRUE(chunk_rejects(
        "{\"term\":5,\"from\":1,\"to\":2,\"last_index\":40,\"last_term\":3,"
        "\"offset\":0,\"total\":6,\"done\":false,\"data\":\"Zm9vYmFy\"}",
        "done is false"));
    EXPECT_TRUE(chunk_rejects(
        "{\"term\":5,\"from\":1,\"to\":2,\"last_index\":40,\"last_term\":6,"
        "\"offset\":0,\"total\":6,\"done\":true,\"data\":\"Zm9vYmFy\"}",
        "the term at most 5"));
    EXPECT_TRUE(chunk_rejects(
        "{\"term\":5,\"from\":1,\"to\":2,\"last_index\":0,\"last_term\":3,"
        "\"offset\":0,\"total\":6,\"done\":true,\"data\":\"Zm9vYmFy\"}",
        "at least 1"));
    EXPECT_TRUE(chunk_rejects(
        "{\"term\":5,\"from\":1,\"to\":2,\"last_index\":40,\"last_term\":3,"
        "\"offset\":0,\"total\":6,\"done\":true,\"data\":\"Zm9vYmF\"}",
        "data: bad base64"));
    EXPECT_TRUE(chunk_rejects(
        "{\"term\":5,\"from\":1,\"to\":2,\"last_index\":40,\"last_term\":3,"
        "\"offset\":0,\"total\":6,\"done\":true,\"data\":6}",
        "\"data\" must be a base64 string"));
    EXPECT_TRUE(chunk_rejects(
        "{\"term\":5,\"from\":1,\"to\":2,\"last_index\":40,\"last_term\":3,"
        "\"offset\":-1,\"total\":6,\"done\":true,\"data\":\"\"}",
        "\"offset\" must be an integer"));
    EXPECT_EQ(codec_decode_chunk_result("{\"term\":5}", 10, &nodes2, &r, err,
                                        sizeof(err)),
              -1);
    EXPECT_TRUE(err_says("field \"from\" is missing"));
}

TEST(oversized_chunk_refused_both_ways)
{
    static uint8_t data[CODEC_MAX_CHUNK_BYTES + 3];
    struct codec_chunk c = {.term = 9,
                            .from = 1,
                            .to = 2,
                            .last_index = 10,
                            .last_term = 9,
                            .total = sizeof(data),
                            .done = true,
                            .data = data,
                            .len = sizeof(data)};
    struct codec_chunk b;
    size_t len;
    char *text, *b64;
    json_t *obj;

    EXPECT_TRUE(codec_encode_chunk(&c, &len, err, sizeof(err)) == NULL);
    EXPECT_TRUE(err_says("at most 1048576"));
    b64 = malloc(base64_encoded_len(sizeof(data)) + 1);
    EXPECT_TRUE(b64 != NULL);
    base64_encode(data, sizeof(data), b64);
    obj = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:I,s:b,s:s}", "term", 9, "from",
                    1, "to", 2, "last_index", 10, "last_term", 9, "offset", 0,
                    "total", (json_int_t)sizeof(data), "done", 1, "data", b64);
    free(b64);
    text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    EXPECT_EQ(
        codec_decode_chunk(text, strlen(text), &nodes2, &b, err, sizeof(err)),
        -1);
    free(text);
    EXPECT_TRUE(err_says("chunk over 1048576 bytes"));
    EXPECT_TRUE(chunk_is_zero(&b));
}

TEST(base64_known_vectors)
{
    static const char *plain[] = {"",     "f",     "fo",    "foo",
                                  "foob", "fooba", "foobar"};
    static const char *coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char enc[16];
    uint8_t dec[16];

    for (size_t i = 0; i < 7; i++) {
        size_t n = strlen(plain[i]);

        base64_encode((const uint8_t *)plain[i], n, enc);
        EXPECT_STR(enc, coded[i]);
        EXPECT_EQ(base64_decode(coded[i], strlen(coded[i]), dec), (long)n);
        EXPECT_TRUE(memcmp(dec, plain[i], n) == 0);
    }
    EXPECT_EQ(base64_decode("Zh==", 4, dec), -1); /* unused bits set */
    EXPECT_EQ(base64_decode("Zm9=", 4, dec), -1);
    EXPECT_EQ(base64_decode("Zm=v", 4, dec), -1);
}

int main(void)
{
    RUN(vote_round_trip);
    RUN(vote_result_round_trip);
    RUN(heartbeat_round_trip);
    RUN(append_with_entries_round_trip);
    RUN(append_result_round_trip);
    RUN(timeout_now_round_trip_and_paths);
    RUN(unknown_fields_are_ignored);
    RUN(missing_fields_rejected);
    RUN(mistyped_fields_rejected);
    RUN(bad_json_rejected);
    RUN(reasons_are_printable_ascii);
    RUN(bad_node_ids_rejected);
    RUN(inconsistent_terms_rejected);
    RUN(bad_entries_rejected);
    RUN(bad_base64_rejected);
    RUN(entry_bounds_enforced);
    RUN(largest_append_fits_the_body_bound);
    RUN(encode_refuses_what_decode_would);
    RUN(read_round_seq_round_trips_and_defaults_to_zero);
    RUN(snapshot_chunk_round_trip);
    RUN(snapshot_chunk_result_round_trip);
    RUN(chunk_fields_missing_rejected);
    RUN(bad_snapshot_chunks_rejected);
    RUN(oversized_chunk_refused_both_ways);
    RUN(base64_known_vectors);
    DONE();
}
