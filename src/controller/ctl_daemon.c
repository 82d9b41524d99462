/* ctl_daemon.c - the controller daemon: the upstream's callbacks, the
 * tick, signals, start and stop.
 *
 * The order of durable steps, so that a crash at any point loses nothing
 * the cluster counts on:
 *
 *   1. a new assignments answer is saved to DIR/assignments.json;
 *   2. the placement it leads to is saved to DIR/agents.json before any
 *      agent is told (ctl_reconcile.c);
 *   3. the reports it makes go to the outbox, which is saved to
 *      DIR/outbox.json before the batch holding them is first sent;
 *   4. only an answer from the cluster drops a batch.
 *
 * A crash between two of them is repaired on start: the loaded
 * assignments are placed again from the loaded table, and every view is
 * reported again once (the outbox and the cluster take a repeat as a
 * no-op).
 */
#include "controller/ctl_int.h"

#include "controller/ctl_file.h"
#include "storage/datadir.h"
#include "transport/http.h"
#include "util/clock.h"
#include "util/log.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTL_HEARTBEAT_BODY_MAX (400u << 10) /* the cluster takes 512 KiB */

int ctl_save_outbox(struct ctl *c)
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

/* How many tasks of NEXT are not in PREV, of PREV not in NEXT, and newly
 * asked to stop. */
static void ctl_count_changes(const struct ctl_assign *prev,
                              const struct ctl_assign *next, size_t *added,
                              size_t *gone, size_t *stops)
{
    *added = *gone = *stops = 0;
    for (size_t i = 0; i < next->n_tasks; i++) {
        const struct ctl_task *was = ctl_assign_find(prev, next->tasks[i].id);

        *added += was == NULL;
        *stops += next->tasks[i].stop && (was == NULL || !was->stop);
    }
    for (size_t i = 0; i < prev->n_tasks; i++) {
        *gone += ctl_assign_find(next, prev->tasks[i].id) == NULL;
    }
}

/* Take NEXT (moved from) as the site's assignments: save, log, place. */
static void ctl_take_assignments(struct ctl *c, struct ctl_assign *next)
{
    json_t *doc = ctl_assign_to_json(next, c->opts.site);
    uint64_t was = c->assign.index;
    struct ctl_jobs jobs;
    size_t added, gone, stops;
    char err[512];

    if (doc == NULL ||
        ctl_file_save(c->opts.data_dir, CTL_ASSIGN_FILE, "assignments", doc,
                      err, sizeof(err)) < 0) {
        log_error("controller",
                  "cannot save assignments index %llu: %s -> act on them "
                  "unsaved",
                  (unsigned long long)next->index, doc ? err : "out of memory");
    }
    json_decref(doc);
    if (ctl_jobs_read(next->jobs, &jobs) < 0) {
        log_error("controller",
                  "assignments index %llu: out of memory -> "
                  "keep index %llu",
                  (unsigned long long)next->index, (unsigned long long)was);
        ctl_assign_free(next);
        return;
    }
    ctl_count_changes(&c->assign, next, &added, &gone, &stops);
    ctl_jobs_free(&c->jobs);
    ctl_assign_free(&c->assign);
    c->assign = *next;
    c->jobs = jobs;
    memset(next, 0, sizeof(*next));
    c->assign_changes++;
    log_info("controller",
             "assignments index %llu -> %llu: %zu tasks (%zu new, %zu gone, "
             "%zu to stop)",
             (unsigned long long)was, (unsigned long long)c->assign.index,
             c->assign.n_tasks, added, gone, stops);
    ctl_reconcile(c, false);
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

    if (!ctl_outbox_ack(&c->outbox, seq) && !c->outbox.dirty) {
        return;
    }
    if (c->waiting_room > 0) {
        ctl_reconcile(c, false); /* retry what the full outbox refused */
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
        /* What it held is lost: report every view again. */
        json_object_clear(c->reported);
        ctl_reconcile(c, false);
        ctl_save_outbox(c);
    }
}

/* {"agents": [...]}, cut to what the cluster takes: without labels, then
 * without agents. */
static char *ctl_heartbeat_body_cb(void *arg)
{
    struct ctl *c = arg;
    json_t *agents = ctl_agents_view(c);
    json_t *doc = agents ? json_pack("{s:o}", "agents", agents) : NULL;
    char *text =
        doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    size_t i;
    json_t *g;

    if (text != NULL && strlen(text) > CTL_HEARTBEAT_BODY_MAX) {
        free(text);
        json_array_foreach(agents, i, g)
        {
            json_object_del(g, "labels");
        }
        text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10));
    }
    if (text != NULL && strlen(text) > CTL_HEARTBEAT_BODY_MAX) {
        free(text);
        text = NULL;
    }
    json_decref(doc);
    return text;
}

/* ------------------------------------------------------------------------
 * The tick: agents that fell silent, watches whose time is up.
 */

static void ctl_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ctl *c = arg;
    uint64_t now = clock_mono_ms();
    size_t *down = calloc(c->agents.n + 1, sizeof(*down)), n = 0;

    (void)fd, (void)what;
    if (down != NULL) {
        n = ctl_agents_expire(&c->agents, now, c->opts.agent_ttl_ms, down);
    }
    for (size_t i = 0; i < n; i++) {
        const struct ctl_agent *g = c->agents.v[down[i]];
        size_t tasks = 0;

        for (size_t r = 0; r < c->rows.n; r++) {
            tasks +=
                !c->rows.v[r].held && strcmp(c->rows.v[r].agent, g->name) == 0;
        }
        log_warn("controller",
                 "agent %s: no heartbeat for %llu ms -> down (%zu tasks "
                 "there)",
                 g->name, (unsigned long long)(now - g->last_ms), tasks);
    }
    free(down);
    c->agents_down += n;
    if (n > 0) {
        ctl_reconcile(c, true);
    }
    ctl_watches_sweep(c);
    if (c->registry_dirty) {
        ctl_save_registry(c);
    }
}

/* ------------------------------------------------------------------------
 * Start, run, stop.
 */

static void ctl_reconcile_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    ctl_reconcile(arg, true);
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
    struct timeval tick = {0, CTL_TICK_MS * 1000};

    c->sigterm_ev = evsignal_new(c->base, SIGTERM, ctl_signal_cb, c);
    c->sigint_ev = evsignal_new(c->base, SIGINT, ctl_signal_cb, c);
    c->tick_ev = event_new(c->base, -1, EV_PERSIST, ctl_tick_cb, c);
    c->reconcile_ev = evtimer_new(c->base, ctl_reconcile_cb, c);
    if (c->sigterm_ev == NULL || c->sigint_ev == NULL || c->tick_ev == NULL ||
        c->reconcile_ev == NULL || evsignal_add(c->sigterm_ev, NULL) < 0 ||
        evsignal_add(c->sigint_ev, NULL) < 0 ||
        event_add(c->tick_ev, &tick) < 0) {
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
             "site %s listening on %s; raft %s; %llu.%03llu cores, %llu MiB%s; "
             "heartbeat every %u ms; agents down after %u ms; data dir %s: "
             "assignments index %llu (%zu tasks), %zu agents, %zu "
             "placements, outbox %zu reports (batch %llu in flight), cluster "
             "applied up to batch %llu",
             c->opts.site, c->opts.listen.text, raft,
             (unsigned long long)(c->cap_cpu_milli / 1000),
             (unsigned long long)(c->cap_cpu_milli % 1000),
             (unsigned long long)c->cap_memory_mb,
             c->opts.cpu_milli || c->opts.memory_mb ? " (flags)"
                                                    : " (the agents' sum)",
             c->opts.heartbeat_ms, c->opts.agent_ttl_ms, c->opts.data_dir,
             (unsigned long long)c->assign.index, c->assign.n_tasks,
             c->agents.n, c->rows.n,
             ctl_outbox_pending_count(&c->outbox) +
                 ctl_outbox_sending_count(&c->outbox),
             (unsigned long long)c->outbox.sending_seq,
             (unsigned long long)c->outbox.applied_seq);
}

uint32_t ctl_agent_heartbeat_ms(const struct ctl *c)
{
    uint32_t ms = c->opts.agent_ttl_ms / 5;

    return ms > 1000 ? 1000 : ms < 20 ? 20 : ms;
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
        .heartbeat_body = ctl_heartbeat_body_cb,
        .arg = c,
    };

    memset(c, 0, sizeof(*c));
    c->opts = *opts;
    c->lock_fd = -1;
    ctl_agents_init(&c->agents);
    ctl_rows_init(&c->rows);
    signal(SIGPIPE, SIG_IGN); /* a peer that hangs up is an error, not death */
    c->notes = json_object();
    c->reported = json_object();
    c->base = event_base_new();
    if (c->notes == NULL || c->reported == NULL || c->base == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    relays_init(&c->relays, c->base, c->opts.listen.host);
    c->up = ctl_upstream_new(c->base, &c->opts, &cbs, seed);
    if (c->up == NULL) {
        snprintf(err, errlen, "upstream: out of memory");
        return -1;
    }
    if (ctl_load_token(c, err, errlen) < 0 ||
        (c->lock_fd = datadir_lock(c->opts.data_dir, NULL, err, errlen)) < 0 ||
        ctl_load(c, err, errlen) < 0 || ctl_open_events(c, err, errlen) < 0) {
        return -1;
    }
    ctl_lists_settle(c);
    ctl_reconcile(c, false);
    if (ctl_save_outbox(c) < 0) {
        snprintf(err, errlen, "cannot save %s/%s", c->opts.data_dir,
                 CTL_OUTBOX_FILE);
        return -1;
    }
    if (ctl_api_listen(c, err, errlen) < 0) {
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

static void ctl_free_event(struct event *ev)
{
    if (ev != NULL) {
        event_free(ev);
    }
}

void ctl_close(struct ctl *c)
{
    ctl_watches_flush(c);
    relays_free(&c->relays, "the controller is stopping");
    ctl_upstream_free(c->up);
    http_server_free(c->http);
    ctl_free_event(c->sigterm_ev);
    ctl_free_event(c->sigint_ev);
    ctl_free_event(c->tick_ev);
    ctl_free_event(c->reconcile_ev);
    if (c->base != NULL) {
        event_base_free(c->base);
    }
    ctl_jobs_free(&c->jobs);
    ctl_assign_free(&c->assign);
    ctl_outbox_free(&c->outbox);
    ctl_agents_free(&c->agents);
    ctl_rows_free(&c->rows);
    json_decref(c->notes);
    json_decref(c->reported);
    if (c->lock_fd >= 0) {
        close(c->lock_fd);
    }
    memset(c, 0, sizeof(*c));
    c->lock_fd = -1;
}
