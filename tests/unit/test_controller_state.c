/* test_controller_state.c - the site's assignments (parsing the cluster's
 * answer, writing it back), the data dir's checksummed files (round trip,
 * torn, damaged). The lock and the durable writes under them are tested in
 * test_datadir.c. */
#include "controller/ctl_file.h"
#include "controller/ctl_state.h"
#include "storage/crc32c.h"
#include "storage/datadir.h"

#include "harness.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char test_root[256];
static char err[512];

static const char *answer =
    "{\"site\": \"oslo-1\", \"index\": 140, \"extra\": 1,"
    " \"tasks\": [{\"id\": \"web.2\", \"job\": \"web\", \"index\": 2,"
    "   \"job_version\": 3, \"state\": \"placed\", \"stop\": false,"
    "   \"agent\": null},"
    "  {\"id\": \"web.0\", \"job\": \"web\", \"index\": 0,"
    "   \"job_version\": 3, \"state\": \"placed\", \"stop\": true}],"
    " \"jobs\": {\"web\": {\"id\": \"web\", \"version\": 3}}}";

/* ------------------------------------------------------------------------
 * Assignments.
 */

TEST(assignments_parse_and_sort_by_id)
{
    struct ctl_assign a;

    EXPECT_EQ(ctl_assign_parse(answer, strlen(answer), "oslo-1", &a, err,
                               sizeof(err)),
              0);
    EXPECT_EQ(a.index, 140);
    EXPECT_EQ(a.n_tasks, 2);
    EXPECT_STR(a.tasks[0].id, "web.0");
    EXPECT_TRUE(a.tasks[0].stop);
    EXPECT_STR(a.tasks[1].id, "web.2");
    EXPECT_EQ(a.tasks[1].index, 2);
    EXPECT_EQ(a.tasks[1].job_version, 3);
    EXPECT_STR(a.tasks[1].state, "placed");
    EXPECT_TRUE(ctl_assign_find(&a, "web.2") == &a.tasks[1]);
    EXPECT_TRUE(ctl_assign_find(&a, "web.1") == NULL);
    EXPECT_EQ(json_object_size(a.jobs), 1);
    ctl_assign_free(&a);
}

TEST(assignments_round_trip_through_their_json)
{
    struct ctl_assign a, b;
    json_t *doc, *doc2;

    ctl_assign_parse(answer, strlen(answer), "oslo-1", &a, err, sizeof(err));
    doc = ctl_assign_to_json(&a, "oslo-1");
    EXPECT_EQ(ctl_assign_from_json(doc, "oslo-1", &b, err, sizeof(err)), 0);
    doc2 = ctl_assign_to_json(&b, "oslo-1");
    EXPECT_TRUE(json_equal(doc, doc2));
    EXPECT_EQ(b.n_tasks, 2);
    EXPECT_STR(b.tasks[0].id, "web.0");
    json_decref(doc);
    json_decref(doc2);
    ctl_assign_free(&a);
    ctl_assign_free(&b);
}

TEST(assignments_of_a_quiet_site_are_empty)
{
    struct ctl_assign a;
    const char *text = "{\"site\":\"s\",\"index\":0,\"tasks\":[]}";

    EXPECT_EQ(ctl_assign_parse(text, strlen(text), "s", &a, err, sizeof(err)),
              0);
    EXPECT_EQ(a.n_tasks, 0);
    EXPECT_TRUE(a.jobs != NULL);
    EXPECT_TRUE(ctl_assign_find(&a, "x.0") == NULL);
    ctl_assign_free(&a);
    EXPECT_EQ(ctl_assign_init(&a), 0);
    EXPECT_EQ(a.index, 0);
    ctl_assign_free(&a);
}

/* Parse TEXT for site "s"; returns the result, the reason in err. */
static int parse_s(const char *text)
{
    struct ctl_assign a;
    int rc = ctl_assign_parse(text, strlen(text), "s", &a, err, sizeof(err));

    ctl_assign_free(&a);
    return rc;
}

#define TASK_HEAD "{\"site\":\"s\",\"index\":5,\"tasks\":["

TEST(assignments_refuse_bad_answers_naming_the_field)
{
    EXPECT_EQ(parse_s("{"), -1);
    EXPECT_TRUE(strstr(err, "invalid JSON") == err);
    EXPECT_EQ(parse_s("[]"), -1);
    EXPECT_EQ(parse_s("{\"site\":\"t\",\"index\":1,\"tasks\":[]}"), -1);
    EXPECT_STR(err, "site: expected \"s\"");
    EXPECT_EQ(parse_s("{\"site\":\"s\",\"index\":-1,\"tasks\":[]}"), -1);
    EXPECT_STR(err, "index: expected an integer 0..2^53");
    EXPECT_EQ(parse_s("{\"site\":\"s\",\"index\":1.5,\"tasks\":[]}"), -1);
    EXPECT_EQ(parse_s("{\"site\":\"s\",\"index\":1}"), -1);
    EXPECT_TRUE(strstr(err, "tasks: expected an array") == err);
    EXPECT_EQ(parse_s(TASK_HEAD "3]}"), -1);
    EXPECT_STR(err, "tasks[0]: expected an object");
    EXPECT_EQ(parse_s(TASK_HEAD "{\"id\":\"a.0\",\"job\":\"a\",\"index\":0,"
                                "\"job_version\":1,\"state\":\"placed\"}]}"),
              -1);
    EXPECT_STR(err, "tasks[0].stop: expected true or false");
    EXPECT_EQ(parse_s(TASK_HEAD "{\"id\":\"A.0\",\"job\":\"a\",\"index\":0,"
                                "\"job_version\":1,\"state\":\"placed\","
                                "\"stop\":false}]}"),
              -1);
    EXPECT_STR(err, "tasks[0].id: not a valid name");
    EXPECT_EQ(parse_s(TASK_HEAD "{\"id\":\"a.0\",\"job\":7,\"index\":0,"
                                "\"job_version\":1,\"state\":\"placed\","
                                "\"stop\":false}]}"),
              -1);
    EXPECT_STR(err, "tasks[0].job: expected a string");
    EXPECT_EQ(parse_s(TASK_HEAD "{\"id\":\"a.0\",\"job\":\"a\",\"index\":0,"
                                "\"job_version\":1,\"state\":\"Placed!\","
                                "\"stop\":false}]}"),
              -1);
    EXPECT_STR(err, "tasks[0].state: not a valid name");
}

TEST(assignments_refuse_a_task_listed_twice)
{
    EXPECT_EQ(parse_s(TASK_HEAD "{\"id\":\"a.0\",\"job\":\"a\",\"index\":0,"
                                "\"job_version\":1,\"state\":\"placed\","
                                "\"stop\":false},"
                                "{\"id\":\"a.0\",\"job\":\"a\",\"index\":0,"
                                "\"job_version\":1,\"state\":\"placed\","
                                "\"stop\":true}]}"),
              -1);
    EXPECT_STR(err, "tasks: task a.0 is listed twice");
    EXPECT_EQ(parse_s("{\"site\":\"s\",\"index\":1,\"tasks\":[],\"jobs\":[]}"),
              -1);
    EXPECT_STR(err, "jobs: expected an object");
    EXPECT_EQ(parse_s("{\"site\":\"s\",\"index\":1,\"tasks\":[],\"jobs\":"
                      "{\"a\":1}}"),
              -1);
    EXPECT_EQ(parse_s("{\"site\":\"s\",\"index\":1,\"site\":\"s\","
                      "\"tasks\":[]}"),
              -1); /* a key twice */
}

TEST(ids_follow_the_job_id_rules)
{
    EXPECT_TRUE(ctl_id_ok("a", 64));
    EXPECT_TRUE(ctl_id_ok("sensor-average.12", 96));
    EXPECT_TRUE(!ctl_id_ok("", 64));
    EXPECT_TRUE(!ctl_id_ok(".a", 64));
    EXPECT_TRUE(!ctl_id_ok("a b", 64));
    EXPECT_TRUE(!ctl_id_ok("abc", 2));
}

/* ------------------------------------------------------------------------
 * Files.
 */

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* A fresh directory path under the test root, removed if it exists. */
static const char *fresh_dir(const char *name)
{
    static char path[512];

    snprintf(path, sizeof(path), "%s/%s", test_root, name);
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return path;
}

static void write_text(const char *dir, const char *name, const char *text,
                       size_t len)
{
    char path[700];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f != NULL) {
        fwrite(text, 1, len, f);
        fclose(f);
    }
}

static bool file_exists(const char *dir, const char *name)
{
    char path[700];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

TEST(files_encode_and_decode)
{
    json_t *doc = json_pack("{s:i,s:[s]}", "a", 1, "b", "x");
    json_t *back = NULL;
    char *text;
    size_t len;

    EXPECT_EQ(ctl_file_encode("outbox", doc, &text, &len), 0);
    EXPECT_TRUE(strncmp(text, "VARDE outbox v1 17 ", 19) == 0);
    EXPECT_EQ(ctl_file_decode("outbox", text, len, &back, err, sizeof(err)), 0);
    EXPECT_TRUE(json_equal(doc, back));
    json_decref(back);
    EXPECT_EQ(
        ctl_file_decode("assignments", text, len, &back, err, sizeof(err)), -1);
    EXPECT_TRUE(strstr(err, "not a varde assignments file") == err);
    free(text);
    json_decref(doc);
}

TEST(files_detect_a_torn_or_damaged_file)
{
    json_t *doc = json_pack("{s:s}", "key", "value");
    json_t *back = NULL;
    char *text;
    size_t len;

    ctl_file_encode("outbox", doc, &text, &len);
    EXPECT_EQ(ctl_file_decode("outbox", text, len - 3, &back, err, sizeof(err)),
              -1);
    EXPECT_STR(err, "torn: the header says 15 bytes of JSON, the file holds "
                    "12");
    text[len - 3] ^= 0x20;
    EXPECT_EQ(ctl_file_decode("outbox", text, len, &back, err, sizeof(err)),
              -1);
    EXPECT_STR(err, "damaged: checksum mismatch");
    EXPECT_EQ(ctl_file_decode("outbox", "", 0, &back, err, sizeof(err)), -1);
    EXPECT_EQ(ctl_file_decode("outbox", "VARDE outbox v1 2 0000000g\n{}", 29,
                              &back, err, sizeof(err)),
              -1);
    EXPECT_EQ(ctl_file_decode("outbox", "VARDE outbox v1 -2 00000000\n{}", 30,
                              &back, err, sizeof(err)),
              -1);
    EXPECT_TRUE(back == NULL);
    free(text);
    json_decref(doc);
}

TEST(files_refuse_bad_json_behind_a_good_checksum)
{
    json_t *back = NULL;
    char text[64];
    int n = snprintf(text, sizeof(text), "VARDE outbox v1 2 %08x\n{{",
                     (unsigned)crc32c(0, "{{", 2));

    EXPECT_EQ(
        ctl_file_decode("outbox", text, (size_t)n, &back, err, sizeof(err)),
        -1);
    EXPECT_TRUE(strstr(err, "bad JSON at line 1") == err);
    EXPECT_TRUE(back == NULL);
}

TEST(files_encode_only_documents)
{
    json_t *s = json_string("x");
    char *text = NULL;
    size_t len;

    EXPECT_EQ(ctl_file_encode("outbox", s, &text, &len), -1);
    EXPECT_TRUE(text == NULL);
    json_decref(s);
}

TEST(files_save_and_load_in_a_data_dir)
{
    const char *dir = fresh_dir("save");
    json_t *doc = json_pack("{s:i}", "n", 7), *back = NULL;
    int fd = datadir_lock(dir, NULL, err, sizeof(err));

    EXPECT_TRUE(fd >= 0);
    EXPECT_EQ(ctl_file_load(dir, "x.json", "x", &back, err, sizeof(err)), 0);
    EXPECT_TRUE(back == NULL);
    EXPECT_EQ(ctl_file_save(dir, "x.json", "x", doc, err, sizeof(err)), 0);
    EXPECT_TRUE(!file_exists(dir, "x.json.tmp"));
    EXPECT_EQ(ctl_file_load(dir, "x.json", "x", &back, err, sizeof(err)), 1);
    EXPECT_TRUE(json_equal(doc, back));
    json_decref(back);
    close(fd);
    json_decref(doc);
}

TEST(files_name_the_file_that_does_not_check_out)
{
    const char *dir = fresh_dir("bad");
    json_t *back = NULL;
    char path[700];
    int fd = datadir_lock(dir, NULL, err, sizeof(err));

    write_text(dir, "x.json", "VARDE x v1 2 00000000\n{}", 24);
    EXPECT_EQ(ctl_file_load(dir, "x.json", "x", &back, err, sizeof(err)), -1);
    snprintf(path, sizeof(path), "%s/x.json: damaged: checksum mismatch", dir);
    EXPECT_STR(err, path);
    write_text(dir, "x.json", "", 0);
    EXPECT_EQ(ctl_file_load(dir, "x.json", "x", &back, err, sizeof(err)), -1);
    EXPECT_TRUE(strstr(err, "not a varde x file") != NULL);
    close(fd);
}

/* ------------------------------------------------------------------------
 * Reconcile.
 */

int main(void)
{
    snprintf(test_root, sizeof(test_root), "/tmp/varde-test-ctl-%d",
             (int)getpid());
    mkdir(test_root, 0700);
    RUN(assignments_parse_and_sort_by_id);
    RUN(assignments_round_trip_through_their_json);
    RUN(assignments_of_a_quiet_site_are_empty);
    RUN(assignments_refuse_bad_answers_naming_the_field);
    RUN(assignments_refuse_a_task_listed_twice);
    RUN(ids_follow_the_job_id_rules);
    RUN(files_encode_and_decode);
    RUN(files_detect_a_torn_or_damaged_file);
    RUN(files_refuse_bad_json_behind_a_good_checksum);
    RUN(files_encode_only_documents);
    RUN(files_save_and_load_in_a_data_dir);
    RUN(files_name_the_file_that_does_not_check_out);
    nftw(test_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    DONE();
}
