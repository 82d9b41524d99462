/* test_controller_outbox.c - report batches: numbering, what goes to the
 * next batch while one is in flight, dropping what the cluster applied,
 * bounds, and the outbox's JSON form. */
#include "controller/ctl_outbox.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

static json_t *report(const char *id, const char *state)
{
    return json_pack("{s:s,s:s}", "id", id, "state", state);
}

/* Add REPORT(ID, STATE) to OB and return what the outbox said. */
static int add(struct ctl_outbox *ob, const char *id, const char *state)
{
    json_t *r = report(id, state);
    int rc = ctl_outbox_add(ob, r);

    json_decref(r);
    return rc;
}

static const char *batch_id(const json_t *batch, size_t i)
{
    return json_string_value(json_object_get(json_array_get(batch, i), "id"));
}

static const char *batch_state(const json_t *batch, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(batch, i), "state"));
}

TEST(outbox_numbers_batches_from_one)
{
    struct ctl_outbox ob;
    uint64_t seq = 0;

    EXPECT_EQ(ctl_outbox_init(&ob), 0);
    EXPECT_TRUE(ctl_outbox_next(&ob, &seq) == NULL);
    EXPECT_EQ(add(&ob, "a.0", "stopped"), CTL_OUTBOX_ADDED);
    EXPECT_TRUE(ob.dirty);
    EXPECT_TRUE(ctl_outbox_next(&ob, &seq) != NULL);
    EXPECT_EQ(seq, 1);
    EXPECT_TRUE(ctl_outbox_ack(&ob, 1));
    EXPECT_EQ(add(&ob, "a.1", "stopped"), CTL_OUTBOX_ADDED);
    EXPECT_TRUE(ctl_outbox_next(&ob, &seq) != NULL);
    EXPECT_EQ(seq, 2);
    ctl_outbox_free(&ob);
}

TEST(outbox_resends_the_same_batch_until_applied)
{
    struct ctl_outbox ob;
    const json_t *first, *again;
    uint64_t seq = 0, seq2 = 0;
    char *a, *b;

    ctl_outbox_init(&ob);
    add(&ob, "a.0", "running");
    first = ctl_outbox_next(&ob, &seq);
    a = json_dumps(first, JSON_COMPACT);
    add(&ob, "a.1", "running"); /* while batch 1 is in flight */
    again = ctl_outbox_next(&ob, &seq2);
    b = json_dumps(again, JSON_COMPACT);
    EXPECT_EQ(seq2, seq);
    EXPECT_STR(a, b);
    EXPECT_EQ(json_array_size(again), 1);
    EXPECT_TRUE(!ctl_outbox_ack(&ob, 0)); /* an older report_seq */
    EXPECT_TRUE(ctl_outbox_next(&ob, &seq2) != NULL);
    EXPECT_EQ(seq2, 1);
    free(a);
    free(b);
    ctl_outbox_free(&ob);
}

TEST(outbox_puts_changes_made_in_flight_in_the_next_batch)
{
    struct ctl_outbox ob;
    const json_t *batch;
    uint64_t seq = 0;

    ctl_outbox_init(&ob);
    add(&ob, "a.0", "running");
    batch = ctl_outbox_next(&ob, &seq);
    EXPECT_EQ(seq, 1);
    EXPECT_EQ(add(&ob, "a.0", "complete"), CTL_OUTBOX_ADDED);
    EXPECT_STR(batch_state(ctl_outbox_next(&ob, &seq), 0), "running");
    EXPECT_EQ(ctl_outbox_sending_count(&ob), 1);
    EXPECT_EQ(ctl_outbox_pending_count(&ob), 1);
    EXPECT_TRUE(ctl_outbox_ack(&ob, 1));
    batch = ctl_outbox_next(&ob, &seq);
    EXPECT_EQ(seq, 2);
    EXPECT_STR(batch_id(batch, 0), "a.0");
    EXPECT_STR(batch_state(batch, 0), "complete");
    ctl_outbox_free(&ob);
}

TEST(outbox_keeps_one_pending_report_per_task_in_order)
{
    struct ctl_outbox ob;
    const json_t *batch;
    uint64_t seq = 0;

    ctl_outbox_init(&ob);
    add(&ob, "b.0", "assigned");
    add(&ob, "a.0", "assigned");
    add(&ob, "b.0", "running");
    add(&ob, "b.0", "failed");
    EXPECT_EQ(ctl_outbox_pending_count(&ob), 2);
    batch = ctl_outbox_next(&ob, &seq);
    EXPECT_EQ(json_array_size(batch), 2);
    EXPECT_STR(batch_id(batch, 0), "b.0");
    EXPECT_STR(batch_state(batch, 0), "failed");
    EXPECT_STR(batch_id(batch, 1), "a.0");
    ctl_outbox_free(&ob);
}

TEST(outbox_ignores_a_report_it_holds_already)
{
    struct ctl_outbox ob;
    uint64_t seq = 0;

    ctl_outbox_init(&ob);
    EXPECT_EQ(add(&ob, "a.0", "stopped"), CTL_OUTBOX_ADDED);
    EXPECT_EQ(add(&ob, "a.0", "stopped"), CTL_OUTBOX_SAME);
    ctl_outbox_next(&ob, &seq);
    ob.dirty = false;
    /* The same again while it is in flight: not a second report. */
    EXPECT_EQ(add(&ob, "a.0", "stopped"), CTL_OUTBOX_SAME);
    EXPECT_TRUE(!ob.dirty);
    EXPECT_EQ(ctl_outbox_pending_count(&ob), 0);
    /* Once applied, the outbox forgets it: a new report is new. */
    ctl_outbox_ack(&ob, seq);
    EXPECT_EQ(add(&ob, "a.0", "stopped"), CTL_OUTBOX_ADDED);
    ctl_outbox_free(&ob);
}

TEST(outbox_numbers_above_what_the_cluster_applied)
{
    struct ctl_outbox ob;
    uint64_t seq = 0;

    /* A data dir that lost its outbox, or a cluster ahead of it: the
     * register answer says report_seq 41. */
    ctl_outbox_init(&ob);
    add(&ob, "a.0", "stopped");
    EXPECT_TRUE(!ctl_outbox_ack(&ob, 41));
    EXPECT_EQ(ob.applied_seq, 41);
    ctl_outbox_next(&ob, &seq);
    EXPECT_EQ(seq, 42);
    ctl_outbox_free(&ob);
}

TEST(outbox_drops_a_sealed_batch_the_cluster_applied_already)
{
    struct ctl_outbox ob;
    uint64_t seq = 0;

    ctl_outbox_init(&ob);
    add(&ob, "a.0", "stopped");
    ctl_outbox_next(&ob, &seq);
    /* The answer was lost; a heartbeat says 1 is applied. */
    EXPECT_TRUE(ctl_outbox_ack(&ob, 1));
    EXPECT_EQ(ctl_outbox_sending_count(&ob), 0);
    EXPECT_TRUE(ctl_outbox_next(&ob, &seq) == NULL);
    ctl_outbox_free(&ob);
}

TEST(outbox_drops_a_refused_batch)
{
    struct ctl_outbox ob;
    uint64_t seq = 0;

    ctl_outbox_init(&ob);
    add(&ob, "a.0", "stopped");
    add(&ob, "a.1", "stopped");
    ctl_outbox_next(&ob, &seq);
    EXPECT_EQ(ctl_outbox_drop_sending(&ob), 2);
    EXPECT_EQ(ctl_outbox_drop_sending(&ob), 0);
    add(&ob, "a.2", "stopped");
    ctl_outbox_next(&ob, &seq);
    EXPECT_EQ(seq, 2);
    ctl_outbox_free(&ob);
}

TEST(outbox_seals_at_most_a_batch_of_reports)
{
    struct ctl_outbox ob;
    char id[32];
    uint64_t seq = 0;

    ctl_outbox_init(&ob);
    for (int i = 0; i < CTL_OUTBOX_BATCH_MAX + 5; i++) {
        snprintf(id, sizeof(id), "j.%d", i);
        EXPECT_EQ(add(&ob, id, "stopped"), CTL_OUTBOX_ADDED);
    }
    EXPECT_EQ(json_array_size(ctl_outbox_next(&ob, &seq)),
              CTL_OUTBOX_BATCH_MAX);
    EXPECT_STR(batch_id(ob.sending, 0), "j.0");
    EXPECT_EQ(ctl_outbox_pending_count(&ob), 5);
    ctl_outbox_ack(&ob, seq);
    EXPECT_EQ(json_array_size(ctl_outbox_next(&ob, &seq)), 5);
    EXPECT_STR(batch_id(ob.sending, 0), "j.1000");
    ctl_outbox_free(&ob);
}

TEST(outbox_refuses_reports_when_full)
{
    struct ctl_outbox ob;
    char id[32];

    ctl_outbox_init(&ob);
    for (int i = 0; i < CTL_OUTBOX_MAX_PENDING; i++) {
        snprintf(id, sizeof(id), "j.%d", i);
        if (add(&ob, id, "stopped") != CTL_OUTBOX_ADDED) {
            EXPECT_EQ(i, -1);
        }
    }
    EXPECT_EQ(add(&ob, "k.0", "stopped"), CTL_OUTBOX_FULL);
    /* A task it holds may still change: that takes no more room. */
    EXPECT_EQ(add(&ob, "j.7", "failed"), CTL_OUTBOX_ADDED);
    ctl_outbox_free(&ob);
}

TEST(outbox_refuses_what_is_not_a_report)
{
    struct ctl_outbox ob;
    json_t *r = json_pack("{s:s}", "id", "a.0");
    json_t *bad_id = json_pack("{s:s,s:s}", "id", "A 0", "state", "x");
    json_t *num = json_integer(3);

    ctl_outbox_init(&ob);
    EXPECT_EQ(ctl_outbox_add(&ob, r), CTL_OUTBOX_ERROR);
    EXPECT_EQ(ctl_outbox_add(&ob, bad_id), CTL_OUTBOX_ERROR);
    EXPECT_EQ(ctl_outbox_add(&ob, num), CTL_OUTBOX_ERROR);
    EXPECT_EQ(ctl_outbox_pending_count(&ob), 0);
    json_decref(r);
    json_decref(bad_id);
    json_decref(num);
    ctl_outbox_free(&ob);
}

TEST(outbox_round_trips_through_json)
{
    struct ctl_outbox ob, back;
    json_t *doc, *doc2;
    uint64_t seq = 0;
    char err[256];

    ctl_outbox_init(&ob);
    add(&ob, "a.0", "stopped");
    ctl_outbox_ack(&ob, 6);
    ctl_outbox_next(&ob, &seq);
    add(&ob, "b.0", "running");
    add(&ob, "c.0", "failed");
    doc = ctl_outbox_to_json(&ob);
    EXPECT_EQ(ctl_outbox_from_json(&back, doc, err, sizeof(err)), 0);
    EXPECT_EQ(back.last_seq, 7);
    EXPECT_EQ(back.applied_seq, 6);
    EXPECT_EQ(back.sending_seq, 7);
    EXPECT_TRUE(!back.dirty);
    EXPECT_STR(batch_id(back.sending, 0), "a.0");
    EXPECT_EQ(ctl_outbox_pending_count(&back), 2);
    doc2 = ctl_outbox_to_json(&back);
    EXPECT_TRUE(json_equal(doc, doc2));
    /* The sealed batch is resent as it was, with its seq. */
    EXPECT_TRUE(ctl_outbox_next(&back, &seq) != NULL);
    EXPECT_EQ(seq, 7);
    json_decref(doc);
    json_decref(doc2);
    ctl_outbox_free(&ob);
    ctl_outbox_free(&back);
}

/* Read TEXT as an outbox; returns what ctl_outbox_from_json said. */
static int load_text(const char *text, char *err, size_t errlen)
{
    struct ctl_outbox ob;
    json_t *doc = json_loads(text, 0, NULL);
    int rc = ctl_outbox_from_json(&ob, doc, err, errlen);

    json_decref(doc);
    ctl_outbox_free(&ob);
    return rc;
}

TEST(outbox_refuses_a_bad_document_naming_the_field)
{
    char err[256];

    EXPECT_EQ(load_text("{\"last_seq\":0,\"applied_seq\":0,\"sending\":null,"
                        "\"pending\":[]}",
                        err, sizeof(err)),
              0);
    EXPECT_EQ(load_text("[]", err, sizeof(err)), -1);
    EXPECT_EQ(load_text("{\"last_seq\":-1,\"applied_seq\":0,\"sending\":null,"
                        "\"pending\":[]}",
                        err, sizeof(err)),
              -1);
    EXPECT_STR(err, "last_seq: expected an integer 0..2^53");
    EXPECT_EQ(load_text("{\"last_seq\":1,\"applied_seq\":0,\"sending\":{"
                        "\"seq\":2,\"tasks\":[{\"id\":\"a.0\",\"state\":"
                        "\"stopped\"}]},\"pending\":[]}",
                        err, sizeof(err)),
              -1);
    EXPECT_STR(err, "sending: batch 2 does not fit last_seq 1");
    EXPECT_EQ(load_text("{\"last_seq\":1,\"applied_seq\":0,\"sending\":null,"
                        "\"pending\":[{\"id\":\"a.0\",\"state\":\"x\"},"
                        "{\"id\":\"a.0\",\"state\":\"y\"}]}",
                        err, sizeof(err)),
              -1);
    EXPECT_STR(err, "pending[1]: task a.0 twice");
    EXPECT_EQ(load_text("{\"last_seq\":1,\"applied_seq\":0,\"sending\":null,"
                        "\"pending\":[{\"id\":\"a.0\"}]}",
                        err, sizeof(err)),
              -1);
    EXPECT_STR(err, "pending[0]: not a report");
}

int main(void)
{
    RUN(outbox_numbers_batches_from_one);
    RUN(outbox_resends_the_same_batch_until_applied);
    RUN(outbox_puts_changes_made_in_flight_in_the_next_batch);
    RUN(outbox_keeps_one_pending_report_per_task_in_order);
    RUN(outbox_ignores_a_report_it_holds_already);
    RUN(outbox_numbers_above_what_the_cluster_applied);
    RUN(outbox_drops_a_sealed_batch_the_cluster_applied_already);
    RUN(outbox_drops_a_refused_batch);
    RUN(outbox_seals_at_most_a_batch_of_reports);
    RUN(outbox_refuses_reports_when_full);
    RUN(outbox_refuses_what_is_not_a_report);
    RUN(outbox_round_trips_through_json);
    RUN(outbox_refuses_a_bad_document_naming_the_field);
    DONE();
}
