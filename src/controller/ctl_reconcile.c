/* ctl_reconcile.c - act on a placement: log it, move the agents' list
 * indexes, save the registry, report, answer watches, offer the capacity
 * (ctl_int.h).
 *
 * The order of durable steps: the placement table and the agents' indexes
 * are saved (DIR/agents.json) before any agent can learn of them, since
 * the watches are answered last; a crash in between leaves the agents
 * with lists the saved table agrees with. Reports go to the outbox, which
 * is saved before its batch is first sent (ctl_daemon.c).
 */
#include "controller/ctl_int.h"

#include "controller/ctl_file.h"
#include "controller/ctl_place.h"
#include "controller/ctl_site.h"
#include "util/clock.h"
#include "util/log.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_LOG_EVENTS_MAX 32 /* placement lines in one reconcile */
#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

/* ------------------------------------------------------------------------
 * The registry file.
 */

int ctl_save_registry(struct ctl *c)
{
    json_t *doc;
    char err[512];
    int rc;

    if (!c->registry_dirty) {
        return 0;
    }
    doc = json_pack("{s:I,s:o,s:o}", "index", (json_int_t)c->agents.index,
                    "agents", ctl_agents_to_json(&c->agents), "placements",
                    ctl_rows_to_json(&c->rows));
    rc = doc ? ctl_file_save(c->opts.data_dir, CTL_AGENTS_FILE, "agents", doc,
                             err, sizeof(err))
             : (snprintf(err, sizeof(err), "out of memory"), -1);
    json_decref(doc);
    if (rc < 0) {
        if (!c->registry_failing) {
            log_error("controller",
                      "cannot save the agents and placements: %s -> act on "
                      "them unsaved, retry every %d ms",
                      err, CTL_TICK_MS);
        }
        c->registry_failing = true;
        return -1;
    }
    if (c->registry_failing) {
        log_info("controller", "agents and placements saved again");
    }
    c->registry_failing = false;
    c->registry_dirty = false;
    return 0;
}

/* ------------------------------------------------------------------------
 * Task lists and their indexes.
 */

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * FNV_PRIME;
    }
    return h;
}

/* The hash of every agent's task list (its rows, with each task's
 * version and stop flag) into H, by agent position. */
static void ctl_lists_hash(const struct ctl *c, uint64_t *h)
{
    for (size_t a = 0; a < c->agents.n; a++) {
        h[a] = FNV_OFFSET;
    }
    for (size_t r = 0; r < c->rows.n; r++) {
        const struct ctl_row *row = &c->rows.v[r];
        const struct ctl_agent *g = ctl_agents_find(&c->agents, row->agent);
        const struct ctl_task *t = ctl_assign_find(&c->assign, row->task);
        size_t a;

        if (g == NULL || t == NULL) {
            continue;
        }
        a = ctl_agents_pos(&c->agents, g);
        h[a] = fnv(h[a], row->task, strlen(row->task) + 1);
        h[a] = fnv(h[a], &t->job_version, sizeof(t->job_version));
        h[a] = fnv(h[a], &t->stop, sizeof(t->stop));
    }
}

/* Give every agent whose list changed a new index (BUMP), or only note
 * the lists as they are. */
static void ctl_lists_update(struct ctl *c, bool bump)
{
    uint64_t *h = calloc(c->agents.n + 1, sizeof(*h));

    if (h == NULL) {
        log_error("controller", "out of memory hashing the agents' lists");
        return;
    }
    ctl_lists_hash(c, h);
    for (size_t a = 0; a < c->agents.n; a++) {
        struct ctl_agent *g = c->agents.v[a];

        if (g->list_hash != h[a] && bump) {
            g->index = ++c->agents.index;
            c->registry_dirty = true;
        }
        g->list_hash = h[a];
    }
    free(h);
}

void ctl_lists_settle(struct ctl *c)
{
    ctl_lists_update(c, false);
}

/* ------------------------------------------------------------------------
 * Logging what the placement did.
 */

static void ctl_log_event(const struct ctl *c, const struct ctl_place_event *e)
{
    const struct ctl_agent *from = ctl_agents_find(&c->agents, e->from);

    switch (e->what) {
    case CTL_PLACE_PLACED:
        log_info("controller", "task %s placed on agent %s", e->task, e->to);
        break;
    case CTL_PLACE_MOVED:
        log_info("controller", "task %s: agent %s %s -> moved to agent %s",
                 e->task, e->from,
                 from && !from->up ? "is down" : "lacks the job's labels",
                 e->to);
        break;
    case CTL_PLACE_KEPT:
        log_info("controller",
                 "task %s: the copy on agent %s kept running -> keep it%s%s",
                 e->task, e->to,
                 e->from[0] ? ", stop the surplus copy on " : "", e->from);
        break;
    case CTL_PLACE_SURPLUS:
        log_info("controller",
                 "task %s: agent %s is back with a copy, agent %s runs it -> "
                 "stop the surplus copy on %s",
                 e->task, e->from, e->to, e->from);
        break;
    case CTL_PLACE_RELEASED:
        log_info("controller",
                 "task %s: agent %s no longer has the job's labels -> stop "
                 "its instance there",
                 e->task, e->from);
        break;
    }
}

/* One line per event, and per note that is new or changed. */
static void ctl_log_placement(struct ctl *c, const struct ctl_place_out *po)
{
    size_t lines = 0, more = 0;
    const char *task;
    json_t *why;

    for (size_t i = 0; i < po->n_events; i++) {
        if (lines++ < CTL_LOG_EVENTS_MAX) {
            ctl_log_event(c, &po->events[i]);
        } else {
            more++;
        }
        c->moves += po->events[i].what == CTL_PLACE_MOVED;
    }
    json_object_foreach(po->notes, task, why)
    {
        if (json_equal(why, json_object_get(c->notes, task))) {
            continue;
        }
        if (lines++ < CTL_LOG_EVENTS_MAX) {
            log_warn("controller", "task %s cannot be placed: %s", task,
                     json_string_value(why));
        } else {
            more++;
        }
    }
    if (more > 0) {
        log_info("controller", "... and %zu more placement changes", more);
    }
}

/* ------------------------------------------------------------------------
 * The agents as users see them, and the site's capacity.
 */

/* The cpu, memory and run rows the placement table puts on each agent. */
static void ctl_usage(const struct ctl *c, uint64_t *cpu, uint64_t *mem,
                      uint64_t *tasks)
{
    for (size_t r = 0; r < c->rows.n; r++) {
        const struct ctl_row *row = &c->rows.v[r];
        const struct ctl_agent *g = ctl_agents_find(&c->agents, row->agent);
        const struct ctl_task *t = ctl_assign_find(&c->assign, row->task);
        const struct ctl_job *j;
        size_t a;

        if (g == NULL || t == NULL || row->held) {
            continue;
        }
        a = ctl_agents_pos(&c->agents, g);
        j = ctl_jobs_find(&c->jobs, t->job);
        cpu[a] += j->cpu_milli;
        mem[a] += j->memory_mb;
        tasks[a]++;
    }
}

static json_t *ctl_agent_view(const struct ctl_agent *g, uint64_t cpu,
                              uint64_t mem, uint64_t tasks, uint64_t now)
{
    uint64_t cpu_free = g->cpu_milli > cpu ? g->cpu_milli - cpu : 0;
    uint64_t mem_free = g->memory_mb > mem ? g->memory_mb - mem : 0;

    return json_pack(
        "{s:s,s:s,s:s,s:o,s:f,s:I,s:f,s:I,s:I,s:o}", "name", g->name, "addr",
        g->addr.text, "status", g->up ? "up" : "down", "labels",
        ctl_agent_labels_json(g), "cpu", (double)g->cpu_milli / 1000.0,
        "memory_mb", (json_int_t)g->memory_mb, "cpu_free",
        (double)cpu_free / 1000.0, "memory_free_mb", (json_int_t)mem_free,
        "tasks", (json_int_t)tasks, "last_heartbeat_ms",
        g->heard ? json_integer((json_int_t)(now - g->last_ms)) : json_null());
}

json_t *ctl_agents_view(const struct ctl *c)
{
    size_t n = c->agents.n + 1;
    uint64_t *cpu = calloc(n, sizeof(*cpu)), *mem = calloc(n, sizeof(*mem));
    uint64_t *tasks = calloc(n, sizeof(*tasks)), now = clock_mono_ms();
    json_t *arr = cpu && mem && tasks ? json_array() : NULL;

    if (arr != NULL) {
        ctl_usage(c, cpu, mem, tasks);
    }
    for (size_t a = 0; arr != NULL && a < c->agents.n; a++) {
        if (json_array_append_new(arr, ctl_agent_view(c->agents.v[a], cpu[a],
                                                      mem[a], tasks[a], now)) <
            0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    free(cpu);
    free(mem);
    free(tasks);
    return arr;
}

/* Offer the cluster the sum of the up agents' capacity (or the flags'). */
static void ctl_offer_capacity(struct ctl *c)
{
    uint64_t cpu = 0, mem = 0;
    size_t up = 0;

    for (size_t a = 0; a < c->agents.n; a++) {
        const struct ctl_agent *g = c->agents.v[a];

        if (g->up) {
            up++;
            cpu += g->cpu_milli;
            mem += g->memory_mb;
        }
    }
    cpu = c->opts.cpu_milli ? c->opts.cpu_milli : cpu;
    mem = c->opts.memory_mb ? c->opts.memory_mb : mem;
    cpu = cpu < CTL_CPU_MAX_MILLI ? cpu : CTL_CPU_MAX_MILLI;
    mem = mem < CTL_MEMORY_MAX_MB ? mem : CTL_MEMORY_MAX_MB;
    if (cpu == c->cap_cpu_milli && mem == c->cap_memory_mb && c->cap_known) {
        return;
    }
    if (c->cap_known) {
        log_info(
            "controller",
            "site capacity %llu.%03llu -> %llu.%03llu cores, %llu -> "
            "%llu MiB (%zu of %zu agents up%s) -> tell the cluster",
            (unsigned long long)(c->cap_cpu_milli / 1000),
            (unsigned long long)(c->cap_cpu_milli % 1000),
            (unsigned long long)(cpu / 1000), (unsigned long long)(cpu % 1000),
            (unsigned long long)c->cap_memory_mb, (unsigned long long)mem, up,
            c->agents.n,
            c->opts.cpu_milli || c->opts.memory_mb ? ", flags override" : "");
    }
    c->cap_known = true;
    c->cap_cpu_milli = cpu;
    c->cap_memory_mb = mem;
    ctl_upstream_set_capacity(c->up, cpu, mem);
}

/* ------------------------------------------------------------------------
 * The whole step.
 */

/* Report what changed; note the outbox's room. */
static void ctl_report(struct ctl *c)
{
    struct ctl_site site = {&c->assign, &c->jobs, &c->rows, &c->agents,
                            c->notes};
    struct ctl_site_changes ch;

    ctl_site_report(&site, c->reported, &c->outbox, &ch);
    if (ch.refused > 0 && c->waiting_room == 0) {
        log_error("controller",
                  "report outbox full (%d reports waiting for the cluster) "
                  "-> %zu task changes not reported yet, retried as batches "
                  "are applied",
                  CTL_OUTBOX_MAX_PENDING, ch.refused);
    } else if (ch.refused == 0 && c->waiting_room > 0) {
        log_info("controller", "report outbox has room again");
    }
    c->waiting_room = ch.refused;
}

void ctl_reconcile_soon(struct ctl *c)
{
    uint64_t now = clock_mono_ms(),
             due = c->reconciled_ms + CTL_RECONCILE_GAP_MS;
    struct timeval tv = {0, 0};

    if (evtimer_pending(c->reconcile_ev, NULL)) {
        return;
    }
    if (due > now) {
        tv.tv_usec = (suseconds_t)((due - now) * 1000);
    }
    evtimer_add(c->reconcile_ev, &tv);
}

void ctl_reconcile(struct ctl *c, bool kick)
{
    struct ctl_place_out po;

    c->reconciled_ms = clock_mono_ms();
    if (c->reconcile_ev != NULL) {
        evtimer_del(c->reconcile_ev); /* this run covers it */
    }

    if (ctl_place(&c->assign, &c->jobs, &c->agents, &c->rows, &po) < 0) {
        log_error("controller",
                  "out of memory placing tasks -> keep the placements as "
                  "they are");
        ctl_place_out_free(&po);
        return;
    }
    ctl_log_placement(c, &po);
    if (!ctl_rows_equal(&c->rows, &po.rows)) {
        ctl_rows_free(&c->rows);
        c->rows = po.rows;
        memset(&po.rows, 0, sizeof(po.rows));
        c->registry_dirty = true;
    }
    json_decref(c->notes);
    c->notes = po.notes;
    po.notes = NULL;
    ctl_place_out_free(&po);
    ctl_lists_update(c, true);
    ctl_save_registry(c);
    ctl_report(c);
    ctl_save_outbox(c);
    if (kick) {
        ctl_upstream_kick(c->up);
    }
    ctl_watches_sweep(c);
    ctl_offer_capacity(c);
}
