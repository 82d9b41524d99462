/* ctl_outbox.c - numbered report batches, kept until applied
 * (ctl_outbox.h). */
#include "controller/ctl_outbox.h"

#include "controller/ctl_state.h"
#include "util/err.h"

#include <stdio.h>
#include <string.h>

#define CTL_REPORT_MAX_FIELDS 8 /* id, state, agent, pid, restarts, ... */
#define CTL_REPORT_MAX_MESSAGE 256
#define CTL_SEQ_MAX (1ull << 53)

int ctl_outbox_init(struct ctl_outbox *ob)
{
    memset(ob, 0, sizeof(*ob));
    ob->pending = json_object();
    return ob->pending == NULL ? -1 : 0;
}

void ctl_outbox_free(struct ctl_outbox *ob)
{
    json_decref(ob->sending);
    json_decref(ob->pending);
    memset(ob, 0, sizeof(*ob));
}

/* True when R is a report: an object with a task "id" and a "state". */
static bool ctl_report_ok(const json_t *r)
{
    const char *id = json_string_value(json_object_get(r, "id"));
    const char *state = json_string_value(json_object_get(r, "state"));
    const char *msg = json_string_value(json_object_get(r, "message"));

    return json_is_object(r) && json_object_size(r) <= CTL_REPORT_MAX_FIELDS &&
           id != NULL && ctl_id_ok(id, CTL_TASK_ID_MAX) && state != NULL &&
           state[0] != '\0' && strlen(state) <= CTL_STATE_MAX &&
           (msg == NULL || strlen(msg) <= CTL_REPORT_MAX_MESSAGE);
}

/* The latest report OB holds for task ID, or NULL. */
static const json_t *ctl_outbox_latest(const struct ctl_outbox *ob,
                                       const char *id)
{
    const json_t *r = json_object_get(ob->pending, id);
    size_t i;
    json_t *v;

    if (r != NULL || ob->sending == NULL) {
        return r;
    }
    json_array_foreach(ob->sending, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0) {
            r = v;
        }
    }
    return r;
}

enum ctl_outbox_add_result ctl_outbox_add(struct ctl_outbox *ob,
                                          const json_t *report)
{
    const char *id;
    const json_t *latest;
    json_t *copy;

    if (!ctl_report_ok(report)) {
        return CTL_OUTBOX_ERROR;
    }
    id = json_string_value(json_object_get(report, "id"));
    latest = ctl_outbox_latest(ob, id);
    if (latest != NULL && json_equal(latest, report)) {
        return CTL_OUTBOX_SAME;
    }
    if (json_object_get(ob->pending, id) == NULL &&
        json_object_size(ob->pending) >= CTL_OUTBOX_MAX_PENDING) {
        return CTL_OUTBOX_FULL;
    }
    copy = json_deep_copy(report);
    if (copy == NULL || json_object_set_new(ob->pending, id, copy) < 0) {
        return CTL_OUTBOX_ERROR;
    }
    ob->dirty = true;
    return CTL_OUTBOX_ADDED;
}

/* Move the oldest pending reports, up to a batch's worth, into a new
 * sealed batch. Returns 0, or -1 when out of memory (OB unchanged). */
static int ctl_outbox_seal(struct ctl_outbox *ob)
{
    json_t *batch = json_array();
    char id[CTL_TASK_ID_MAX + 1];
    const char *key;
    size_t n = 0;
    json_t *v;

    if (batch == NULL) {
        return -1;
    }
    json_object_foreach(ob->pending, key, v)
    {
        if (n == CTL_OUTBOX_BATCH_MAX) {
            break;
        }
        if (json_array_append(batch, v) < 0) {
            json_decref(batch);
            return -1;
        }
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "%s",
                 json_object_iter_key(json_object_iter(ob->pending)));
        json_object_del(ob->pending, id);
    }
    ob->sending = batch;
    ob->sending_seq = ++ob->last_seq;
    ob->dirty = true;
    return 0;
}

const json_t *ctl_outbox_next(struct ctl_outbox *ob, uint64_t *seq)
{
    if (ob->sending == NULL &&
        (json_object_size(ob->pending) == 0 || ctl_outbox_seal(ob) < 0)) {
        return NULL;
    }
    *seq = ob->sending_seq;
    return ob->sending;
}

bool ctl_outbox_ack(struct ctl_outbox *ob, uint64_t report_seq)
{
    bool dropped = false;

    if (ob->applied_seq != report_seq) {
        ob->applied_seq = report_seq;
        ob->dirty = true;
    }
    if (ob->last_seq < report_seq) {
        ob->last_seq = report_seq;
        ob->dirty = true;
    }
    if (ob->sending != NULL && ob->sending_seq <= report_seq) {
        ctl_outbox_drop_sending(ob);
        dropped = true;
    }
    return dropped;
}

size_t ctl_outbox_drop_sending(struct ctl_outbox *ob)
{
    size_t n = json_array_size(ob->sending);

    if (ob->sending != NULL) {
        json_decref(ob->sending);
        ob->sending = NULL;
        ob->sending_seq = 0;
        ob->dirty = true;
    }
    return n;
}

size_t ctl_outbox_sending_count(const struct ctl_outbox *ob)
{
    return json_array_size(ob->sending);
}

size_t ctl_outbox_pending_count(const struct ctl_outbox *ob)
{
    return json_object_size(ob->pending);
}

json_t *ctl_outbox_to_json(const struct ctl_outbox *ob)
{
    json_t *pending = json_array();
    json_t *sending = NULL;
    const char *key;
    json_t *v;

    json_object_foreach(ob->pending, key, v)
    {
        if (pending != NULL && json_array_append(pending, v) < 0) {
            json_decref(pending);
            pending = NULL;
        }
    }
    if (ob->sending != NULL) {
        sending = json_pack("{s:I,s:O}", "seq", (json_int_t)ob->sending_seq,
                            "tasks", ob->sending);
    }
    if (pending == NULL || (ob->sending != NULL && sending == NULL)) {
        json_decref(pending);
        json_decref(sending);
        return NULL;
    }
    return json_pack("{s:I,s:I,s:o,s:o}", "last_seq", (json_int_t)ob->last_seq,
                     "applied_seq", (json_int_t)ob->applied_seq, "sending",
                     sending ? sending : json_null(), "pending", pending);
}

/* DOC.KEY as a sequence number 0..2^53. */
static int ctl_get_seq(const json_t *doc, const char *key, uint64_t *out,
                       char *err, size_t errlen)
{
    const json_t *v = json_object_get(doc, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > CTL_SEQ_MAX) {
        return err_fail(err, errlen, "%s: expected an integer 0..2^53", key);
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* ARR (named WHAT) as an array of at most MAX reports. */
static int ctl_check_reports(const json_t *arr, const char *what, size_t max,
                             char *err, size_t errlen)
{
    size_t i;
    json_t *v;

    if (!json_is_array(arr) || json_array_size(arr) > max) {
        return err_fail(err, errlen,
                        "%s: expected an array of at most %zu "
                        "reports",
                        what, max);
    }
    json_array_foreach(arr, i, v)
    {
        if (!ctl_report_ok(v)) {
            return err_fail(err, errlen, "%s[%zu]: not a report", what, i);
        }
    }
    return 0;
}

static int ctl_outbox_sending_from_json(struct ctl_outbox *ob, const json_t *s,
                                        char *err, size_t errlen)
{
    json_t *tasks = json_object_get(s, "tasks");

    if (json_is_null(s)) {
        return 0;
    }
    if (!json_is_object(s)) {
        return err_fail(err, errlen,
                        "sending: expected {\"seq\", \"tasks\"} or null");
    }
    if (ctl_get_seq(s, "seq", &ob->sending_seq, err, errlen) < 0 ||
        ctl_check_reports(tasks, "sending.tasks", CTL_OUTBOX_BATCH_MAX, err,
                          errlen) < 0) {
        return -1;
    }
    if (ob->sending_seq == 0 || ob->sending_seq > ob->last_seq ||
        json_array_size(tasks) == 0) {
        return err_fail(err, errlen,
                        "sending: batch %llu does not fit last_seq %llu",
                        (unsigned long long)ob->sending_seq,
                        (unsigned long long)ob->last_seq);
    }
    ob->sending = json_deep_copy(tasks);
    return ob->sending ? 0 : err_fail(err, errlen, "out of memory");
}

int ctl_outbox_from_json(struct ctl_outbox *ob, const json_t *doc, char *err,
                         size_t errlen)
{
    const json_t *pending = json_object_get(doc, "pending");
    size_t i;
    json_t *v;

    if (ctl_outbox_init(ob) < 0) {
        return err_fail(err, errlen, "out of memory");
    }
    if (!json_is_object(doc) ||
        ctl_get_seq(doc, "last_seq", &ob->last_seq, err, errlen) < 0 ||
        ctl_get_seq(doc, "applied_seq", &ob->applied_seq, err, errlen) < 0 ||
        ctl_outbox_sending_from_json(ob, json_object_get(doc, "sending"), err,
                                     errlen) < 0 ||
        ctl_check_reports(pending, "pending", CTL_OUTBOX_MAX_PENDING, err,
                          errlen) < 0) {
        return -1;
    }
    json_array_foreach(pending, i, v)
    {
        const char *id = json_string_value(json_object_get(v, "id"));

        if (json_object_get(ob->pending, id) != NULL) {
            return err_fail(err, errlen, "pending[%zu]: task %s twice", i, id);
        }
        if (json_object_set_new(ob->pending, id, json_deep_copy(v)) < 0) {
            return err_fail(err, errlen, "out of memory");
        }
    }
    ob->dirty = false;
    return 0;
}
