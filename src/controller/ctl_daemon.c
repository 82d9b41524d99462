/* ctl_daemon.c - the controller daemon: its files, the upstream's
 * callbacks, signals.
 *
 * The order of durable steps, so that a crash at any point loses nothing
 * the cluster counts on:
 *
 *   1. a new assignments answer is saved to DIR/assignments.json;
 *   2. the reports it makes go to the outbox, which is saved to
 *      DIR/outbox.json before the batch holding them is first sent;
 *   3. only an answer from the cluster drops a batch.
 *
 * A crash between 1 and 2 is repaired on start: the loaded assignments are
 * reconciled again, and every stop they hold is reported again (the
 * cluster skips a task it removed already).
 */
#include "controller/ctl_int.h"

#include "controller/ctl_file.h"
#include "controller/ctl_site.h"
#include "transport/http.h"
#include "util/log.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Save the outbox if it changed. Returns 0, or -1 (logged once per run of
 * failures). */
static int ctl_save_outbox(struct ctl *c)
{
    json_t *doc;
    char err[512];
    int rc;

    if (!c->outbox.dirty) {
        return 0;
    }
    doc = ctl_outbox_to_json(&c->outbox);
    rc = doc ? ctl_file_save(c->opts.data_dir, CTL_OUTBOX_FILE, "outbox", doc,
                             err, sizeof(err))
             : (snprintf(err, sizeof(err), "out of memory"), -1);
    json_decref(doc);
    if (rc < 0) {
        if (!c->save_failing) {
            log_error("controller",
                      "cannot save the report outbox: %s -> hold the "
                      "reports, retry every heartbeat",
                      err);
        }
        c->save_failing = true;
        return -1;
    }
    if (c->save_failing) {
        log_info("controller", "report outbox saved again");
    }
    c->save_failing = false;
    c->outbox.dirty = false;
    return 0;
}

/* Note what a reconcile changed about the outbox's room. */
static void ctl_note_room(struct ctl *c, const struct ctl_site_changes *ch)
{
    if (ch->refused > 0 && c->waiting_room == 0) {
        log_error("controller",
                  "report outbox full (%d reports waiting for the cluster) "
                  "-> %zu stops not reported yet, retried as batches are "
                  "applied",
                  CTL_OUTBOX_MAX_PENDING, ch->refused);
    } else if (ch->refused == 0 && c->waiting_room > 0) {
        log_info("controller", "report outbox has room again");
    }
    c->waiting_room = ch->refused;
}

/* Take NEXT (moved from) as the site's assignments: save, reconcile, log. */
static void ctl_take_assignments(struct ctl *c, struct ctl_assign *next)
{
    struct ctl_site_changes ch;
    json_t *doc = ctl_assign_to_json(next, c->opts.site);
    char err[512];
    uint64_t was = c->assign.index;

    if (doc == NULL ||
        ctl_file_save(c->opts.data_dir, CTL_ASSIGN_FILE, "assignments", doc,
                      err, sizeof(err)) < 0) {
        log_error("controller",
                  "cannot save assignments index %llu: %s -> act on them "
                  "unsaved",
                  (unsigned long long)next->index, doc ? err : "out of memory");
    }
    json_decref(doc);
    ctl_site_reconcile(&c->assign, next, &c->outbox, &ch);
    ctl_assign_free(&c->assign);
    c->assign = *next;
    memset(next, 0, sizeof(*next));
    c->assign_changes++;
    log_info("controller",
             "assignments index %llu -> %llu: %zu tasks (%zu new, %zu gone, "
             "%zu stopped)",
             (unsigned long long)was, (unsigned long long)c->assign.index,
             c->assign.n_tasks, ch.added, ch.gone, ch.stopped);
    ctl_note_room(c, &ch);
    ctl_save_outbox(c);
}

/* ------------------------------------------------------------------------
 * The upstream's callbacks.
 */

static uint64_t ctl_index_cb(void *arg)
{
    struct ctl *c = arg;

    return c->assign.index;
}

static int ctl_assignments_cb(void *arg, const char *body, size_t len)
{
    struct ctl *c = arg;
    struct ctl_assign next;
    char err[512];

    if (ctl_assign_parse(body, len, c->opts.site, &next, err, sizeof(err)) <
        0) {
        http_printable(err);
        log_error("controller", "assignments answer refused: %s", err);
        return -1;
    }
    if (next.index == c->assign.index) {
        ctl_assign_free(&next); /* a watch that timed out: no change */
        return 0;
    }
    ctl_take_assignments(c, &next);
    return 0;
}

static const json_t *ctl_next_batch_cb(void *arg, uint64_t *seq)
{
    struct ctl *c = arg;
    const json_t *batch = ctl_outbox_next(&c->outbox, seq);

    if (batch != NULL && ctl_save_outbox(c) < 0) {
        return NULL; /* never sent before it is saved */
    }
    return batch;
}

static void ctl_report_seq_cb(void *arg, uint64_t seq)
{
    struct ctl *c = arg;
    struct ctl_site_changes ch;

    if (!ctl_outbox_ack(&c->outbox, seq) && !c->outbox.dirty) {
        return;
    }
    if (c->waiting_room > 0) {
        ctl_site_reconcile(&c->assign, &c->assign, &c->outbox, &ch);
        ctl_note_room(c, &ch);
    }
    ctl_save_outbox(c);
}

static void ctl_batch_refused_cb(void *arg, uint64_t seq, const char *why)
{
    struct ctl *c = arg;

    (void)why; /* the upstream logged it */
    if (c->outbox.sending_seq == seq) {
        ctl_outbox_drop_sending(&c->outbox);
        c->batches_refused++;
        ctl_save_outbox(c);
    }
}

/* ------------------------------------------------------------------------
 * Start, run, stop.
 */

/* Load DIR/assignments.json into the site's assignments (none when the
 * file does not exist). */
static int ctl_load_assign(struct ctl *c, char *err, size_t errlen)
{
    json_t *doc = NULL;
    char why[512];
    int rc = ctl_file_load(c->opts.data_dir, CTL_ASSIGN_FILE, "assignments",
                           &doc, err, errlen);

    if (rc < 0) {
        return -1;
    }
    if (rc == 0) {
        return ctl_assign_init(&c->assign) < 0
                   ? (snprintf(err, errlen, "out of memory"), -1)
                   : 0;
    }
    rc = ctl_assign_from_json(doc, c->opts.site, &c->assign, why, sizeof(why));
    json_decref(doc);
    if (rc < 0) {
        snprintf(err, errlen, "%s/%s: %s", c->opts.data_dir, CTL_ASSIGN_FILE,
                 why);
    }
    return rc;
}

/* Load DIR/outbox.json into the outbox (empty when the file does not
 * exist). */
static int ctl_load_outbox(struct ctl *c, char *err, size_t errlen)
{
    json_t *doc = NULL;
    char why[512];
    int rc = ctl_file_load(c->opts.data_dir, CTL_OUTBOX_FILE, "outbox", &doc,
                           err, errlen);

    if (rc < 0) {
        return -1;
    }
    if (rc == 0) {
        return ctl_outbox_init(&c->outbox) < 0
                   ? (snprintf(err, errlen, "out of memory"), -1)
                   : 0;
    }
    rc = ctl_outbox_from_json(&c->outbox, doc, why, sizeof(why));
    json_decref(doc);
    if (rc < 0) {
        snprintf(err, errlen, "%s/%s: %s", c->opts.data_dir, CTL_OUTBOX_FILE,
                 why);
    }
    return rc;
}

/* Load the data dir's files and reconcile them: the stops the assignments
 * hold are reported again. */
static int ctl_load(struct ctl *c, char *err, size_t errlen)
{
    struct ctl_site_changes ch;

    if (ctl_load_assign(c, err, errlen) < 0 ||
        ctl_load_outbox(c, err, errlen) < 0) {
        return -1;
    }
    ctl_site_reconcile(NULL, &c->assign, &c->outbox, &ch);
    ctl_note_room(c, &ch);
    if (ctl_save_outbox(c) < 0) {
        snprintf(err, errlen, "cannot save %s/%s", c->opts.data_dir,
                 CTL_OUTBOX_FILE);
        return -1;
    }
    return 0;
}

static void ctl_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct ctl *c = arg;

    (void)what;
    log_info("controller", "%s -> stop", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopbreak(c->base);
}

static int ctl_open_events(struct ctl *c, char *err, size_t errlen)
{
    c->sigterm_ev = evsignal_new(c->base, SIGTERM, ctl_signal_cb, c);
    c->sigint_ev = evsignal_new(c->base, SIGINT, ctl_signal_cb, c);
    if (c->sigterm_ev == NULL || c->sigint_ev == NULL ||
        evsignal_add(c->sigterm_ev, NULL) < 0 ||
        evsignal_add(c->sigint_ev, NULL) < 0) {
        snprintf(err, errlen, "event setup failed");
        return -1;
    }
    return 0;
}

static void ctl_log_start(const struct ctl *c)
{
    char raft[CTL_RAFT_MAX * ADDR_TEXT_MAX];
    size_t used = 0;

    raft[0] = '\0';
    for (size_t i = 0; i < c->opts.n_raft && used < sizeof(raft); i++) {
        used += (size_t)snprintf(raft + used, sizeof(raft) - used, "%s%s",
                                 i ? "," : "", c->opts.raft[i].text);
    }
    log_info("controller",
             "site %s listening on %s; raft %s; %llu.%03llu cores, %llu MiB; "
             "heartbeat every %u ms; data dir %s: assignments index %llu "
             "(%zu tasks), outbox %zu reports (batch %llu in flight), "
             "cluster applied up to batch %llu",
             c->opts.site, c->opts.listen.text, raft,
             (unsigned long long)(c->opts.cpu_milli / 1000),
             (unsigned long long)(c->opts.cpu_milli % 1000),
             (unsigned long long)c->opts.memory_mb, c->opts.heartbeat_ms,
             c->opts.data_dir, (unsigned long long)c->assign.index,
             c->assign.n_tasks,
             ctl_outbox_pending_count(&c->outbox) +
                 ctl_outbox_sending_count(&c->outbox),
             (unsigned long long)c->outbox.sending_seq,
             (unsigned long long)c->outbox.applied_seq);
}

int ctl_open(struct ctl *c, const struct ctl_opts *opts, uint64_t seed,
             char *err, size_t errlen)
{
    struct ctl_upstream_cbs cbs = {
        .index = ctl_index_cb,
        .assignments = ctl_assignments_cb,
        .next_batch = ctl_next_batch_cb,
        .report_seq = ctl_report_seq_cb,
        .batch_refused = ctl_batch_refused_cb,
        .arg = c,
    };

    memset(c, 0, sizeof(*c));
    c->opts = *opts;
    c->lock_fd = -1;
    signal(SIGPIPE, SIG_IGN); /* a peer that hangs up is an error, not death */
    c->lock_fd = ctl_dir_lock(c->opts.data_dir, err, errlen);
    if (c->lock_fd < 0 || ctl_load(c, err, errlen) < 0) {
        return -1;
    }
    c->base = event_base_new();
    if (c->base == NULL) {
        snprintf(err, errlen, "cannot create the event loop");
        return -1;
    }
    if (ctl_open_events(c, err, errlen) < 0 ||
        ctl_api_listen(c, err, errlen) < 0) {
        return -1;
    }
    c->up = ctl_upstream_new(c->base, &c->opts, &cbs, seed);
    if (c->up == NULL) {
        snprintf(err, errlen, "upstream: out of memory");
        return -1;
    }
    ctl_log_start(c);
    ctl_upstream_start(c->up);
    return 0;
}

int ctl_run(struct ctl *c)
{
    if (event_base_dispatch(c->base) < 0) {
        log_error("controller", "event loop failed");
        return 1;
    }
    return 0;
}

void ctl_close(struct ctl *c)
{
    ctl_upstream_free(c->up);
    http_server_free(c->http);
    if (c->sigterm_ev != NULL) {
        event_free(c->sigterm_ev);
    }
    if (c->sigint_ev != NULL) {
        event_free(c->sigint_ev);
    }
    if (c->base != NULL) {
        event_base_free(c->base);
    }
    ctl_assign_free(&c->assign);
    ctl_outbox_free(&c->outbox);
    if (c->lock_fd >= 0) {
        close(c->lock_fd);
    }
    memset(c, 0, sizeof(*c));
    c->lock_fd = -1;
}
