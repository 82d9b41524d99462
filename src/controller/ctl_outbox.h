/* ctl_outbox.h - the site's reports to the cluster, kept until applied.
 *
 * A report is one task's state change: {"id": TASK, "state": ..., and
 * optionally "agent", "pid", "restarts", "exit_code", "message"}. Reports
 * reach the cluster in numbered batches (POST /v1/sites/NAME/reports,
 * docs/fleet.md), and the cluster applies a batch only when its seq is
 * above the last one it applied, so a batch sent again is applied once.
 *
 * The outbox holds at most one sealed batch, the one being sent, and the
 * pending reports behind it:
 *
 *   sending   seq S and up to CTL_OUTBOX_BATCH_MAX reports, immutable:
 *             sent again, with the same seq and the same contents, until
 *             the cluster answers that it applied S
 *   pending   at most one report per task, the latest, in the order they
 *             came; a newer report of a task replaces its pending one
 *
 * So a change made while a batch is in flight goes to the next batch, and
 * a task that changes ten times while the cluster is away costs one
 * report. ctl_outbox_next() seals the next batch from the oldest pending
 * reports when nothing is sealed, numbering it one above the highest seq
 * used or applied so far; ctl_outbox_ack() drops the sealed batch once the
 * cluster's report_seq reaches it. A report equal to the latest one the
 * outbox holds for that task is a no-op. At most CTL_OUTBOX_MAX_PENDING
 * reports wait (CTL_OUTBOX_BATCHES_MAX batches' worth); beyond that a new
 * report is refused and the caller says so in the log.
 *
 * The whole outbox is one JSON document (ctl_outbox_to_json), saved in
 * DIR/outbox.json before a sealed batch is first sent:
 *
 *   {"last_seq": N, "applied_seq": R,
 *    "sending": {"seq": S, "tasks": [report...]} or null,
 *    "pending": [report...]}
 *
 * Pure: no I/O; the caller saves when ctl_outbox.dirty is set.
 */
#ifndef VARDE_CTL_OUTBOX_H
#define VARDE_CTL_OUTBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_OUTBOX_BATCH_MAX 1000 /* reports in one batch (the contract's) */
#define CTL_OUTBOX_BATCHES_MAX 64
#define CTL_OUTBOX_MAX_PENDING (CTL_OUTBOX_BATCH_MAX * CTL_OUTBOX_BATCHES_MAX)

struct ctl_outbox {
    uint64_t last_seq;    /* the highest seq given to a batch */
    uint64_t applied_seq; /* the report_seq the cluster returned last */
    uint64_t sending_seq; /* the sealed batch's seq; 0: none sealed */
    json_t *sending;      /* its reports (an array), or NULL */
    json_t *pending;      /* {TASK: report}, in the order they came */
    bool dirty;           /* changed since the caller last saved it */
};

enum ctl_outbox_add_result {
    CTL_OUTBOX_ADDED = 1,  /* a new pending report */
    CTL_OUTBOX_SAME = 0,   /* equal to the latest held for the task */
    CTL_OUTBOX_FULL = -1,  /* CTL_OUTBOX_MAX_PENDING reports wait already */
    CTL_OUTBOX_ERROR = -2, /* not a report (no "id" or "state"), or no
                              memory */
};

/* An empty outbox: nothing sent, nothing applied. Returns 0, or -1 when
 * out of memory. */
int ctl_outbox_init(struct ctl_outbox *ob);

/* Release what OB holds. */
void ctl_outbox_free(struct ctl_outbox *ob);

/* Add REPORT (borrowed; copied) as the latest state of its task. */
enum ctl_outbox_add_result ctl_outbox_add(struct ctl_outbox *ob,
                                          const json_t *report);

/* The batch to send: the sealed one, or else a new one sealed now from the
 * oldest pending reports (OB is then dirty: save it before sending). Its
 * seq goes to *SEQ; the array of reports is borrowed, valid until the next
 * call that changes OB. NULL when there is nothing to send. */
const json_t *ctl_outbox_next(struct ctl_outbox *ob, uint64_t *seq);

/* The cluster has applied every batch up to REPORT_SEQ: drop the sealed
 * batch if its seq is at most that, and number later batches above it.
 * Returns true when the sealed batch was dropped. */
bool ctl_outbox_ack(struct ctl_outbox *ob, uint64_t report_seq);

/* The cluster refused the sealed batch outright (a 4xx other than 404):
 * drop it, so that the reports behind it are not held up forever. Returns
 * the number of reports dropped. */
size_t ctl_outbox_drop_sending(struct ctl_outbox *ob);

/* Reports held: in the sealed batch, and pending. */
size_t ctl_outbox_sending_count(const struct ctl_outbox *ob);
size_t ctl_outbox_pending_count(const struct ctl_outbox *ob);

/* OB as the document described above (a new reference; NULL when out of
 * memory). */
json_t *ctl_outbox_to_json(const struct ctl_outbox *ob);

/* Read DOC (ctl_outbox_to_json's form) into OB, which is initialised here
 * and must be freed with ctl_outbox_free() either way. Returns 0, or -1
 * with a one-line reason in ERR naming the field. OB is not dirty after. */
int ctl_outbox_from_json(struct ctl_outbox *ob, const json_t *doc, char *err,
                         size_t errlen);

#endif
