/* test_kvapi.c - the client key-value API without the network: paths,
 * queries and bodies are parsed strictly, and answers carry what the
 * contract says. Also the duration histogram of /metrics. */
#include "harness.h"

#include "node/hist.h"
#include "node/kvapi.h"

#include <stdlib.h>

static char err[256];
static struct kvapi_req req;

/* Parse and expect STATUS, with WHAT in the reason when refused. */
static int parses(enum kvapi_op op, const char *path, const char *query,
                  size_t body, int status, const char *what)
{
    int rc = kvapi_parse(op, path, query, body, &req, err, sizeof(err));

    if (rc != status) {
        fprintf(stderr, "%s?%s: got %d (%s), wanted %d\n", path,
                query ? query : "", rc, err, status);
        return 0;
    }
    if (status != 0 && (strstr(err, what) == NULL || strchr(err, '\n'))) {
        fprintf(stderr, "%s?%s: reason \"%s\", wanted \"%s\"\n", path,
                query ? query : "", err, what);
        return 0;
    }
    return 1;
}

TEST(plain_put_and_get_parse)
{
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/config/threshold", NULL, 2, 0, ""));
    EXPECT_STR(req.key, "config/threshold");
    EXPECT_EQ(req.key_len, 16);
    EXPECT_EQ(req.op, KVAPI_PUT);
    EXPECT_EQ(req.cas_set, false);
    EXPECT_TRUE(parses(KVAPI_GET, "/v1/kv/a", "", 0, 0, ""));
    EXPECT_EQ(req.stale, false);
    EXPECT_EQ(req.raw, false);
}

TEST(key_is_percent_decoded_and_checked)
{
    EXPECT_TRUE(parses(KVAPI_GET, "/v1/kv/a%2Fb%7e", NULL, 0, 0, ""));
    EXPECT_STR(req.key, "a/b~");
    EXPECT_TRUE(parses(KVAPI_GET, "/v1/kv/", NULL, 0, 400, "missing key"));
    EXPECT_TRUE(
        parses(KVAPI_GET, "/v1/kv/a%20b", NULL, 0, 400, "key: key has"));
    EXPECT_TRUE(parses(KVAPI_GET, "/v1/kv/a%00", NULL, 0, 400, "key: key has"));
    EXPECT_TRUE(parses(KVAPI_GET, "/v1/kv/%ff", NULL, 0, 400, "key: key has"));
    EXPECT_TRUE(
        parses(KVAPI_GET, "/v1/kv/a%2", NULL, 0, 400, "bad percent-encoding"));
    EXPECT_TRUE(
        parses(KVAPI_GET, "/v1/kv/a%zz", NULL, 0, 400, "bad percent-encoding"));
    EXPECT_TRUE(parses(KVAPI_GET, "/v2/kv/a", NULL, 0, 400, "must start"));
}

TEST(key_length_bounded)
{
    char path[8 + SM_MAX_KEY + 2];

    memcpy(path, "/v1/kv/", 7);
    memset(path + 7, 'k', SM_MAX_KEY);
    path[7 + SM_MAX_KEY] = '\0';
    EXPECT_TRUE(parses(KVAPI_PUT, path, NULL, 0, 0, ""));
    EXPECT_EQ(req.key_len, SM_MAX_KEY);
    path[7 + SM_MAX_KEY] = 'k';
    path[8 + SM_MAX_KEY] = '\0';
    EXPECT_TRUE(parses(KVAPI_PUT, path, NULL, 0, 400, "over the limit of 512"));
}

TEST(cas_parses_strictly)
{
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/a", "cas=0", 1, 0, ""));
    EXPECT_EQ(req.cas_set, true);
    EXPECT_EQ(req.cas, 0);
    EXPECT_TRUE(
        parses(KVAPI_DELETE, "/v1/kv/a", "cas=9223372036854775807", 0, 0, ""));
    EXPECT_EQ(req.cas, INT64_MAX);
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/a", "cas=9223372036854775808", 1, 400,
                       "expected an index"));
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/a", "cas=", 1, 400, "cas=:"));
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/a", "cas", 1, 400, "expected"));
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/a", "cas=-1", 1, 400, "expected"));
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/a", "cas=1e3", 1, 400, "expected"));
    EXPECT_TRUE(
        parses(KVAPI_PUT, "/v1/kv/a", "cas=1&cas=2", 1, 400, "repeated"));
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/a", "CAS=1", 1, 400,
                       "unknown query parameter \"CAS\""));
    EXPECT_TRUE(parses(KVAPI_GET, "/v1/kv/a", "cas=1", 0, 400,
                       "unknown query parameter \"cas\" for a read"));
}

TEST(read_flags_parse)
{
    EXPECT_TRUE(parses(KVAPI_GET, "/v1/kv/a", "stale", 0, 0, ""));
    EXPECT_EQ(req.stale, true);
    EXPECT_TRUE(parses(KVAPI_GET, "/v1/kv/a", "stale=false&raw=1", 0, 0, ""));
    EXPECT_EQ(req.stale, false);
    EXPECT_EQ(req.raw, true);
    EXPECT_TRUE(parses(KVAPI_GET, "/v1/kv/a", "&stale=&", 0, 0, ""));
    EXPECT_EQ(req.stale, true);
    EXPECT_TRUE(parses(KVAPI_GET, "/v1/kv/a", "stale=yes", 0, 400,
                       "expected no value, true or false"));
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/a", "stale", 1, 400,
                       "unknown query parameter \"stale\" for a write"));
}

TEST(oversized_value_is_413)
{
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/a", NULL, SM_MAX_VALUE, 0, ""));
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/a", NULL, SM_MAX_VALUE + 1, 413,
                       "over the limit of 65536"));
}

TEST(command_carries_the_request)
{
    struct sm_command c;
    uint8_t buf[64];
    struct sm_command back;

    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/k", "cas=7", 2, 0, ""));
    kvapi_command(&req, "42", 2, &c);
    EXPECT_EQ(c.op, SM_OP_PUT);
    EXPECT_EQ(c.flags, SM_FLAG_CAS);
    EXPECT_EQ(c.cas, 7);
    EXPECT_EQ(c.value_len, 2);
    EXPECT_EQ(sm_command_decode(buf, sm_command_encode(&c, buf), &back, err,
                                sizeof(err)),
              0);
    EXPECT_EQ(back.key_len, 1);
    EXPECT_TRUE(memcmp(back.value, "42", 2) == 0);
    EXPECT_TRUE(parses(KVAPI_DELETE, "/v1/kv/k", NULL, 0, 0, ""));
    kvapi_command(&req, "ignored", 7, &c);
    EXPECT_EQ(c.op, SM_OP_DEL);
    EXPECT_EQ(c.flags, 0);
    EXPECT_EQ(c.value_len, 0);
}

/* Apply a PUT of VALUE (LEN bytes) to KEY at INDEX in KV. */
static enum kv_result put(struct kv *kv, const char *key, const void *value,
                          size_t len, uint64_t index)
{
    struct sm_command c = {.op = SM_OP_PUT,
                           .key = key,
                           .key_len = (uint16_t)strlen(key),
                           .value = value,
                           .value_len = (uint32_t)len};

    return kv_apply(kv, &c, index);
}

/* KEY's entry in KV (a view valid until the next call), or NULL. */
static const struct kv_entry *entry(const struct kv *kv, const char *key)
{
    static struct kv_entry e;

    return kv_get(kv, key, strlen(key), &e) ? &e : NULL;
}

static char *dump(json_t *j)
{
    static char text[512];
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

    snprintf(text, sizeof(text), "%s", s ? s : "(null)");
    free(s);
    json_decref(j);
    return text;
}

TEST(entry_json_text_or_base64)
{
    struct kv *kv = kv_new();

    EXPECT_TRUE(kv != NULL);
    put(kv, "t", "42", 2, 5);
    put(kv, "t", "43", 2, 9);
    put(kv, "utf", "\xc3\xa6\xc3\xb8", 4, 10);
    put(kv, "bad", "\xff\x00", 2, 11);
    put(kv, "nul", "a\0b", 3, 12);
    put(kv, "empty", "", 0, 13);
    EXPECT_STR(dump(kvapi_entry_json(entry(kv, "t"))),
               "{\"create_index\":5,\"key\":\"t\",\"modify_index\":9,"
               "\"value\":\"43\"}");
    EXPECT_STR(dump(kvapi_entry_json(entry(kv, "utf"))),
               "{\"create_index\":10,\"key\":\"utf\",\"modify_index\":10,"
               "\"value\":\"\xc3\xa6\xc3\xb8\"}");
    EXPECT_STR(dump(kvapi_entry_json(entry(kv, "bad"))),
               "{\"create_index\":11,\"key\":\"bad\",\"modify_index\":11,"
               "\"value_base64\":\"/wA=\"}");
    EXPECT_STR(dump(kvapi_entry_json(entry(kv, "nul"))),
               "{\"create_index\":12,\"key\":\"nul\",\"modify_index\":12,"
               "\"value_base64\":\"YQBi\"}");
    EXPECT_STR(dump(kvapi_entry_json(entry(kv, "empty"))),
               "{\"create_index\":13,\"key\":\"empty\",\"modify_index\":13,"
               "\"value\":\"\"}");
    kv_free(kv);
}

TEST(write_answers_follow_the_result)
{
    struct kv *kv = kv_new();
    int status = 0;

    EXPECT_TRUE(kv != NULL);
    put(kv, "k", "v", 1, 4);
    EXPECT_TRUE(parses(KVAPI_PUT, "/v1/kv/k", "cas=3", 1, 0, ""));
    EXPECT_STR(
        dump(kvapi_write_json(&req, KV_CAS_FAILED, 8, entry(kv, "k"), &status)),
        "{\"error\":\"compare-and-set lost\",\"index\":8,\"key\":\"k\","
        "\"modify_index\":4}");
    EXPECT_EQ(status, 409);
    EXPECT_STR(dump(kvapi_write_json(&req, KV_CAS_FAILED, 8, NULL, &status)),
               "{\"error\":\"compare-and-set lost\",\"index\":8,\"key\":\"k\","
               "\"modify_index\":0}");
    EXPECT_STR(dump(kvapi_write_json(&req, KV_OK, 8, NULL, &status)),
               "{\"index\":8,\"key\":\"k\"}");
    EXPECT_EQ(status, 200);
    EXPECT_TRUE(parses(KVAPI_DELETE, "/v1/kv/k", NULL, 0, 0, ""));
    EXPECT_STR(dump(kvapi_write_json(&req, KV_OK, 9, NULL, &status)),
               "{\"deleted\":true,\"index\":9,\"key\":\"k\"}");
    EXPECT_STR(dump(kvapi_write_json(&req, KV_NOT_FOUND, 9, NULL, &status)),
               "{\"deleted\":false,\"index\":9,\"key\":\"k\"}");
    EXPECT_EQ(status, 200);
    dump(kvapi_write_json(&req, KV_NO_MEMORY, 9, NULL, &status));
    EXPECT_EQ(status, 500);
    kv_free(kv);
}

TEST(histogram_counts_cumulatively)
{
    struct hist h = {0};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    hist_observe(&h, 0.00005);
    hist_observe(&h, 0.0001); /* on a bound: in that bucket */
    hist_observe(&h, 0.003);
    hist_observe(&h, 99);
    hist_observe(&h, -1);
    EXPECT_EQ(h.count, 5);
    hist_write(&h, f, "x_seconds", "Test.");
    fclose(f);
    EXPECT_TRUE(strstr(text, "# TYPE x_seconds histogram\n") != NULL);
    EXPECT_TRUE(strstr(text, "x_seconds_bucket{le=\"0.0001\"} 3\n") != NULL);
    EXPECT_TRUE(strstr(text, "x_seconds_bucket{le=\"0.0025\"} 3\n") != NULL);
    EXPECT_TRUE(strstr(text, "x_seconds_bucket{le=\"0.005\"} 4\n") != NULL);
    EXPECT_TRUE(strstr(text, "x_seconds_bucket{le=\"10\"} 4\n") != NULL);
    EXPECT_TRUE(strstr(text, "x_seconds_bucket{le=\"+Inf\"} 5\n") != NULL);
    EXPECT_TRUE(strstr(text, "x_seconds_count 5\n") != NULL);
    EXPECT_TRUE(strstr(text, "x_seconds_sum 99.003150\n") != NULL);
    free(text);
}

int main(void)
{
    RUN(plain_put_and_get_parse);
    RUN(key_is_percent_decoded_and_checked);
    RUN(key_length_bounded);
    RUN(cas_parses_strictly);
    RUN(read_flags_parse);
    RUN(oversized_value_is_413);
    RUN(command_carries_the_request);
    RUN(entry_json_text_or_base64);
    RUN(write_answers_follow_the_result);
    RUN(histogram_counts_cumulatively);
    DONE();
}
