/* node_fleet.c - the fleet on a raft node: applying, waiting, watching,
 * site liveness and the scheduler loop (node_fleet.h). */
#include "node/node_fleet.h"

#include "node/node_int.h"
#include "sched/sched.h"
#include "util/log.h"

#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A fleet write waiting for its entry. */
struct fleet_wait {
    struct fleet_wait *next;
    uint64_t index, term, deadline;
    enum node_fleet_kind kind;
    char name[JOB_MAX_ID + 1];
    struct evhttp_request *req;
};

/* A controller's blocking watch of its assignments. */
struct fleet_watch {
    struct fleet_watch *next;
    char site[JOB_MAX_ID + 1];
    uint64_t index, deadline;
    struct evhttp_request *req;
};

/* What the leader knows of a site beyond the log. */
struct fleet_heard {
    char name[JOB_MAX_ID + 1];
    uint64_t last_ms;  /* monotonic */
    bool silent_asked; /* "silent" proposed, not applied yet */
    bool back_asked;   /* "connected" proposed, not applied yet */
    json_t *agents;    /* its last heartbeat's agents, or NULL */
};

/* A note of the last scheduler run, owned. */
struct fleet_note {
    char job[JOB_MAX_ID + 1];
    char site[JOB_MAX_ID + 1];
    uint32_t index;
    enum sched_why why;
};

struct node_fleet {
    struct fleet *state;
    struct fleet_wait *waits, **waits_tail; /* by index */
    size_t n_waits;
    struct fleet_watch *watches;
    size_t n_watches;
    struct fleet_heard *heard;
    size_t n_heard, cap_heard;
    bool leader;
    bool dirty;           /* the fleet changed since the last decision */
    uint64_t sched_index; /* the last entry of the decision in flight */
    uint64_t sched_term;
    struct fleet_note *notes;
    size_t n_notes;
    struct event *tick_ev, *sched_ev;
    /* metrics */
    uint64_t runs, changes, dropped, heartbeats, silent, back;
};

static uint64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct fleet *node_fleet_state(struct node *n)
{
    return n->fleet->state;
}

bool node_fleet_leading(struct node *n)
{
    struct raft_status st;

    raft_status(n->raft, &st);
    return st.role == RAFT_LEADER && n->applied_term == st.term;
}

/* ------------------------------------------------------------------------
 * Heard from: the leader's memory of heartbeats.
 */

static struct fleet_heard *heard_find(struct node_fleet *nf, const char *name,
                                      bool create)
{
    struct fleet_heard *h;

    for (size_t i = 0; i < nf->n_heard; i++) {
        if (strcmp(nf->heard[i].name, name) == 0) {
            return &nf->heard[i];
        }
    }
    if (!create) {
        return NULL;
    }
    if (nf->n_heard == nf->cap_heard) {
        size_t cap = nf->cap_heard ? nf->cap_heard * 2 : 16;
        void *p = realloc(nf->heard, cap * sizeof(*nf->heard));

        if (p == NULL) {
            return NULL;
        }
        nf->heard = p;
        nf->cap_heard = cap;
    }
    h = &nf->heard[nf->n_heard++];
    memset(h, 0, sizeof(*h));
    snprintf(h->name, sizeof(h->name), "%s", name);
    h->last_ms = node_now();
    return h;
}

int64_t node_fleet_heard_ago(void *arg, const char *name)
{
    struct node *n = arg;
    struct fleet_heard *h;

    if (!n->fleet->leader) {
        return -1;
    }
    h = heard_find(n->fleet, name, false);
    return h ? (int64_t)(node_now() - h->last_ms) : -1;
}

void node_fleet_set_agents(struct node *n, const char *name, json_t *agents)
{
    struct fleet_heard *h = heard_find(n->fleet, name, true);

    if (h == NULL) {
        json_decref(agents);
        return;
    }
    json_decref(h->agents);
    h->agents = agents;
}

json_t *node_fleet_agents_json(struct node *n)
{
    struct node_fleet *nf = n->fleet;
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < nf->n_heard; i++) {
        size_t k;
        json_t *ag;

        json_array_foreach(nf->heard[i].agents, k, ag)
        {
            json_t *c = json_copy(ag);

            if (c == NULL ||
                json_object_set_new(c, "site", json_string(nf->heard[i].name)) <
                    0 ||
                json_array_append_new(a, c) < 0) {
                json_decref(a);
                return NULL;
            }
        }
    }
    return a;
}

/* Propose an entry nobody waits for. Returns 0, or -1 (logged). */
static int fleet_propose_own(struct node *n, uint8_t *buf, size_t len,
                             uint64_t *index)
{
    int rc = raft_propose(n->raft, buf, (uint32_t)len, node_now(), index);

    free(buf);
    if (rc < 0) {
        n->m.proposals_failed++;
        log_warn("fleet", "proposal refused (%s) -> retry on the next tick",
                 rc == -2 ? "out of memory" : "not leading");
        return -1;
    }
    n->m.proposals++;
    return 0;
}

static void fleet_propose_status(struct node *n, const char *site,
                                 enum sched_site_status st)
{
    uint8_t *buf;
    size_t len;
    uint64_t index;
    char err[160];

    if (fleet_entry_site_status(site, st, wall_ms(), &buf, &len, err,
                                sizeof(err)) != 0) {
        log_error("fleet", "site %s: %s", site, err);
        return;
    }
    fleet_propose_own(n, buf, len, &index);
}

void node_fleet_heard(struct node *n, const char *name)
{
    struct node_fleet *nf = n->fleet;
    struct fleet_heard *h = heard_find(nf, name, true);
    struct fleet_site_info si;

    nf->heartbeats++;
    if (h == NULL) {
        return;
    }
    h->last_ms = node_now();
    if (!fleet_site_find(nf->state, name, &si) ||
        si.status == SCHED_SITE_CONNECTED) {
        h->back_asked = false;
        return;
    }
    if (!h->back_asked && node_fleet_leading(n)) {
        h->back_asked = true;
        nf->back++;
        log_info("fleet", "site %s heard from again -> mark it connected",
                 name);
        fleet_propose_status(n, name, SCHED_SITE_CONNECTED);
        node_drive(n);
    }
}

/* Declare silent every connected site not heard from for a TTL. */
static void fleet_check_liveness(struct node *n)
{
    struct node_fleet *nf = n->fleet;
    uint64_t now = node_now();

    for (size_t i = 0; i < fleet_site_count(nf->state); i++) {
        struct fleet_site_info si;
        struct fleet_heard *h;

        fleet_site_at(nf->state, i, &si);
        h = heard_find(nf, si.name, true);
        if (h == NULL) {
            return;
        }
        if (si.status != SCHED_SITE_CONNECTED) {
            h->silent_asked = false;
            continue;
        }
        if (h->silent_asked || now - h->last_ms < n->opts.site_ttl_ms) {
            continue;
        }
        h->silent_asked = true;
        nf->silent++;
        log_warn("fleet",
                 "site %s not heard from for %llu ms (TTL %u ms) -> mark it "
                 "silent",
                 si.name, (unsigned long long)(now - h->last_ms),
                 n->opts.site_ttl_ms);
        fleet_propose_status(n, si.name, SCHED_SITE_SILENT);
    }
}

/* ------------------------------------------------------------------------
 * The scheduler loop.
 */

static bool fleet_decision_in_flight(struct node *n)
{
    struct node_fleet *nf = n->fleet;
    struct raft_status st;

    raft_status(n->raft, &st);
    return nf->sched_index > n->applied && nf->sched_term == st.term;
}

static void fleet_keep_notes(struct node_fleet *nf,
                             const struct sched_result *r)
{
    struct fleet_note *v = NULL;

    if (r->nnotes > 0 && (v = calloc(r->nnotes, sizeof(*v))) == NULL) {
        return;
    }
    for (size_t i = 0; i < r->nnotes; i++) {
        snprintf(v[i].job, sizeof(v[i].job), "%s", r->notes[i].job);
        snprintf(v[i].site, sizeof(v[i].site), "%s",
                 r->notes[i].site ? r->notes[i].site : "");
        v[i].index = r->notes[i].index;
        v[i].why = r->notes[i].why;
    }
    if (r->nnotes != nf->n_notes) {
        log_info("sched", "%zu tasks cannot be placed for now%s%s", r->nnotes,
                 r->nnotes ? ", first: " : "",
                 r->nnotes ? sched_why_str(r->notes[0].why) : "");
    }
    free(nf->notes);
    nf->notes = v;
    nf->n_notes = r->nnotes;
}

/* Commit the changes of R, in as many entries as they need. */
static void fleet_commit_changes(struct node *n, const struct sched_result *r)
{
    struct node_fleet *nf = n->fleet;
    struct raft_status st;
    size_t off = 0, entries = 0;

    raft_status(n->raft, &st);
    while (off < r->nchanges) {
        uint8_t *buf;
        size_t len, k = fleet_entry_sched(&r->changes[off], r->nchanges - off,
                                          &buf, &len);
        uint64_t index;

        if (k == 0 || fleet_propose_own(n, buf, len, &index) < 0) {
            nf->dirty = true; /* decide again on the next tick */
            break;
        }
        nf->sched_index = index;
        nf->sched_term = st.term;
        off += k;
        entries++;
    }
    nf->changes += off;
    log_info("sched",
             "%zu changes decided (first: %s %s.%u, %s) -> %zu "
             "entries",
             off, sched_change_kind_str(r->changes[0].kind), r->changes[0].job,
             r->changes[0].index, sched_why_str(r->changes[0].why), entries);
}

static void fleet_schedule(struct node *n)
{
    struct node_fleet *nf = n->fleet;
    struct fleet_sched_input in;
    struct sched_result r;
    char err[200];

    if (!nf->dirty || !node_fleet_leading(n) || fleet_decision_in_flight(n)) {
        return;
    }
    nf->dirty = false;
    if (fleet_sched_input(nf->state, &in) < 0) {
        nf->dirty = true;
        log_error("sched", "out of memory building the input -> retry");
        return;
    }
    sched_result_init(&r);
    nf->runs++;
    if (sched_decide(&in.in, wall_ms(), &r, err, sizeof(err)) < 0) {
        log_error("sched", "cannot decide: %s", err);
    } else {
        fleet_keep_notes(nf, &r);
        if (r.nchanges > 0) {
            fleet_commit_changes(n, &r);
            node_drive(n);
        }
    }
    sched_result_close(&r);
    fleet_sched_input_free(&in);
}

static void fleet_sched_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fleet_schedule(arg);
}

/* Run the scheduler soon, outside whatever is running now. */
static void fleet_schedule_soon(struct node *n)
{
    n->fleet->dirty = true;
    event_active(n->fleet->sched_ev, EV_TIMEOUT, 0);
}

/* ------------------------------------------------------------------------
 * Waiting writes.
 */

static void wait_reply(struct node *n, struct fleet_wait *w,
                       const struct fleet_result *res, uint64_t index)
{
    struct fleet_site_info si;
    json_t *body = NULL;

    if (res->status != 200) {
        http_reply_error(w->req, res->status, "%s", res->error);
        return;
    }
    switch (w->kind) {
    case NODE_FLEET_JOB_PUT:
        body = json_pack("{s:s,s:I,s:I,s:b}", "id", w->name, "version",
                         (json_int_t)res->version, "index", (json_int_t)index,
                         "changed", res->changed);
        if (res->changed) {
            log_info("fleet", "job %s version %llu at %llu", w->name,
                     (unsigned long long)res->version,
                     (unsigned long long)index);
        }
        break;
    case NODE_FLEET_JOB_STOP:
        body =
            json_pack("{s:s,s:I}", "id", w->name, "index", (json_int_t)index);
        log_info("fleet", "job %s stopped at %llu", w->name,
                 (unsigned long long)index);
        break;
    case NODE_FLEET_REGISTER:
        fleet_site_find(n->fleet->state, w->name, &si);
        node_fleet_heard(n, w->name);
        body = json_pack("{s:s,s:I,s:I,s:I,s:I}", "site", w->name, "index",
                         (json_int_t)index, "report_seq",
                         (json_int_t)res->report_seq, "ttl_ms",
                         (json_int_t)n->opts.site_ttl_ms, "heartbeat_ms",
                         (json_int_t)NODE_FLEET_HEARTBEAT_MS);
        log_info("fleet", "site %s registered at %llu", w->name,
                 (unsigned long long)index);
        break;
    case NODE_FLEET_REPORT:
        body = json_pack("{s:s,s:I,s:I,s:b}", "site", w->name, "report_seq",
                         (json_int_t)res->report_seq, "index",
                         (json_int_t)index, "applied", res->applied);
        break;
    }
    http_reply_json(w->req, 200, body);
}

static void wait_pop(struct node_fleet *nf)
{
    struct fleet_wait *w = nf->waits;

    nf->waits = w->next;
    if (nf->waits == NULL) {
        nf->waits_tail = &nf->waits;
    }
    nf->n_waits--;
    free(w);
}

void node_fleet_propose(struct node *n, struct evhttp_request *req,
                        enum node_fleet_kind kind, const char *name,
                        uint8_t *entry, size_t len)
{
    struct node_fleet *nf = n->fleet;
    struct fleet_wait *w;
    struct raft_status st;
    int rc;

    if (nf->n_waits >= NODE_FLEET_MAX_WAITS ||
        (w = calloc(1, sizeof(*w))) == NULL) {
        free(entry);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                          "1");
        http_reply_error(req, 503, "too many writes waiting, retry");
        return;
    }
    rc = raft_propose(n->raft, entry, (uint32_t)len, node_now(), &w->index);
    free(entry);
    if (rc < 0) {
        free(w);
        n->m.proposals_failed++;
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                          "1");
        http_reply_error(req, rc == -2 ? 500 : 503, "%s",
                         rc == -2 ? "out of memory"
                                  : "not leading now (transfer), retry");
        return;
    }
    n->m.proposals++;
    raft_status(n->raft, &st);
    w->term = st.term;
    w->kind = kind;
    w->req = req;
    w->deadline = node_now() + NODE_WRITE_TIMEOUT_MS;
    snprintf(w->name, sizeof(w->name), "%s", name);
    *nf->waits_tail = w;
    nf->waits_tail = &w->next;
    nf->n_waits++;
    node_drive(n);
}

int node_fleet_apply(struct node *n, const struct raft_entry *e)
{
    struct node_fleet *nf = n->fleet;
    struct fleet_result res;
    uint64_t before = fleet_index(nf->state);

    if (fleet_apply(nf->state, e->data, e->len, e->index, &res) < 0) {
        log_error("fleet",
                  "out of memory applying entry %llu -> stop: this replica "
                  "would differ from the others; a restart replays the log",
                  (unsigned long long)e->index);
        return -1;
    }
    if (fleet_index(nf->state) != before) {
        nf->dirty = true;
    }
    if (res.skipped > 0 && nf->leader) {
        nf->dropped += res.skipped;
        log_info("sched",
                 "entry %llu: %zu of %zu changes no longer fit the state "
                 "(first: %s) -> decide again",
                 (unsigned long long)e->index, res.skipped,
                 res.skipped + res.done, res.first_why);
    }
    if (res.status == 400 && res.op[0] == '\0') {
        log_error("fleet", "entry %llu: %s -> skipped, as on every replica",
                  (unsigned long long)e->index, res.error);
    }
    while (nf->waits != NULL && nf->waits->index <= e->index) {
        struct fleet_wait *w = nf->waits;

        if (w->index < e->index) {
            http_reply_error(w->req, 504, "outcome unknown");
        } else if (w->term != e->term) {
            evhttp_add_header(evhttp_request_get_output_headers(w->req),
                              "Retry-After", "1");
            http_reply_error(w->req, 503,
                             "not committed: leadership changed, retry");
        } else {
            wait_reply(n, w, &res, e->index);
        }
        wait_pop(nf);
    }
    return 0;
}

void node_fleet_installed(struct node *n, uint64_t index)
{
    struct node_fleet *nf = n->fleet;

    while (nf->waits != NULL && nf->waits->index <= index) {
        http_reply_error(nf->waits->req, 504,
                         "outcome unknown: a snapshot from the leader "
                         "replaced this node's log");
        wait_pop(nf);
    }
    nf->dirty = true;
}

/* ------------------------------------------------------------------------
 * Watches.
 */

static void watch_answer(struct node *n, struct fleet_watch *w)
{
    json_t *body = fleet_assignments_json(n->fleet->state, w->site);

    if (body == NULL) {
        http_reply_error(w->req, 404, "site not registered");
    } else {
        http_reply_json(w->req, 200, body);
    }
}

/* Answer the watches whose site changed, or whose time is up (ALL: every
 * one, with a 503: this node no longer leads). */
static void watches_sweep(struct node *n, bool all)
{
    struct node_fleet *nf = n->fleet;
    struct fleet_watch **pp = &nf->watches;
    uint64_t now = node_now();

    while (*pp != NULL) {
        struct fleet_watch *w = *pp;
        struct fleet_site_info si;
        bool known = fleet_site_find(nf->state, w->site, &si);

        if (all) {
            evhttp_add_header(evhttp_request_get_output_headers(w->req),
                              "Retry-After", "1");
            http_reply_error(w->req, 503, "not the leader any more");
        } else if (!known || si.assign_index > w->index || now >= w->deadline) {
            watch_answer(n, w);
        } else {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        nf->n_watches--;
        free(w);
    }
}

void node_fleet_watch(struct node *n, struct evhttp_request *req,
                      const char *site, uint64_t index, uint64_t wait_ms)
{
    struct node_fleet *nf = n->fleet;
    struct fleet_site_info si;
    struct fleet_watch *w;

    if (!fleet_site_find(nf->state, site, &si)) {
        http_reply_error(req, 404, "site not registered");
        return;
    }
    if (index == 0 || si.assign_index > index || wait_ms == 0) {
        http_reply_json(req, 200, fleet_assignments_json(nf->state, site));
        return;
    }
    if (nf->n_watches >= NODE_FLEET_MAX_WATCHES ||
        (w = calloc(1, sizeof(*w))) == NULL) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                          "1");
        http_reply_error(req, 503, "too many watches, retry");
        return;
    }
    snprintf(w->site, sizeof(w->site), "%s", site);
    w->index = index;
    w->deadline = node_now() + wait_ms;
    w->req = req;
    w->next = nf->watches;
    nf->watches = w;
    nf->n_watches++;
}

/* ------------------------------------------------------------------------
 * Events from the driver.
 */

void node_fleet_applied(struct node *n)
{
    struct node_fleet *nf = n->fleet;

    if (nf->watches != NULL) {
        watches_sweep(n, false);
    }
    if (nf->dirty && nf->leader) {
        event_active(nf->sched_ev, EV_TIMEOUT, 0);
    }
}

void node_fleet_role(struct node *n, bool leader)
{
    struct node_fleet *nf = n->fleet;

    if (leader == nf->leader) {
        return;
    }
    nf->leader = leader;
    if (leader) {
        /* A fresh TTL for every site: an election is not a silence. */
        for (size_t i = 0; i < nf->n_heard; i++) {
            nf->heard[i].last_ms = node_now();
            nf->heard[i].silent_asked = nf->heard[i].back_asked = false;
        }
        for (size_t i = 0; i < fleet_site_count(nf->state); i++) {
            struct fleet_site_info si;
            struct fleet_heard *h;

            fleet_site_at(nf->state, i, &si);
            h = heard_find(nf, si.name, true);
            if (h != NULL) {
                h->last_ms = node_now();
            }
        }
        fleet_schedule_soon(n);
    } else {
        watches_sweep(n, true);
        nf->sched_index = 0;
    }
}

static void fleet_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct node *n = arg;
    struct node_fleet *nf = n->fleet;
    uint64_t now = node_now();

    (void)fd;
    (void)what;
    while (nf->waits != NULL && nf->waits->deadline <= now &&
           nf->waits->index > n->applied) {
        /* Entries apply in order: only the head can be overdue first. */
        http_reply_error(nf->waits->req, 504,
                         "outcome unknown: not applied within %d ms",
                         NODE_WRITE_TIMEOUT_MS);
        wait_pop(nf);
    }
    if (nf->watches != NULL) {
        watches_sweep(n, false);
    }
    if (!node_fleet_leading(n)) {
        return;
    }
    fleet_check_liveness(n);
    /* Time alone can make a decision due (a silent site's delay). */
    for (size_t i = 0; i < fleet_site_count(nf->state); i++) {
        struct fleet_site_info si;

        fleet_site_at(nf->state, i, &si);
        if (si.status == SCHED_SITE_SILENT) {
            nf->dirty = true;
            break;
        }
    }
    fleet_schedule(n);
    node_drive(n);
}

/* ------------------------------------------------------------------------
 * Notes, metrics, setup.
 */

struct json_t *node_fleet_notes_json(struct node *n, const char *id)
{
    struct node_fleet *nf = n->fleet;
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < nf->n_notes; i++) {
        const struct fleet_note *t = &nf->notes[i];

        if (strcmp(t->job, id) == 0) {
            json_array_append_new(a, json_pack("{s:I,s:s?,s:s}", "index",
                                               (json_int_t)t->index, "site",
                                               t->site[0] ? t->site : NULL,
                                               "why", sched_why_str(t->why)));
        }
    }
    return a;
}

void node_fleet_metrics(struct node *n, FILE *f)
{
    struct node_fleet *nf = n->fleet;

    fprintf(f,
            "# HELP varde_fleet_jobs Jobs in the fleet.\n"
            "# TYPE varde_fleet_jobs gauge\nvarde_fleet_jobs %zu\n"
            "# HELP varde_fleet_sites Sites registered.\n"
            "# TYPE varde_fleet_sites gauge\nvarde_fleet_sites %zu\n"
            "# HELP varde_fleet_tasks Task records.\n"
            "# TYPE varde_fleet_tasks gauge\nvarde_fleet_tasks %zu\n"
            "# HELP varde_sched_runs_total Scheduler runs on this node.\n"
            "# TYPE varde_sched_runs_total counter\n"
            "varde_sched_runs_total %llu\n"
            "# HELP varde_sched_changes_total Changes proposed by the "
            "scheduler here, and dropped as out of date when applied.\n"
            "# TYPE varde_sched_changes_total counter\n"
            "varde_sched_changes_total{event=\"proposed\"} %llu\n"
            "varde_sched_changes_total{event=\"dropped\"} %llu\n"
            "# HELP varde_site_heartbeats_total Site heartbeats received.\n"
            "# TYPE varde_site_heartbeats_total counter\n"
            "varde_site_heartbeats_total %llu\n"
            "# HELP varde_site_transitions_total Sites declared silent, and "
            "heard from again, by this node as leader.\n"
            "# TYPE varde_site_transitions_total counter\n"
            "varde_site_transitions_total{to=\"silent\"} %llu\n"
            "varde_site_transitions_total{to=\"connected\"} %llu\n",
            fleet_job_count(nf->state), fleet_site_count(nf->state),
            fleet_task_count(nf->state), (unsigned long long)nf->runs,
            (unsigned long long)nf->changes, (unsigned long long)nf->dropped,
            (unsigned long long)nf->heartbeats, (unsigned long long)nf->silent,
            (unsigned long long)nf->back);
}

int node_fleet_open(struct node *n, char *err, size_t errlen)
{
    struct node_fleet *nf = calloc(1, sizeof(*nf));
    struct timeval tv = {0, NODE_FLEET_TICK_MS * 1000};

    n->fleet = nf;
    if (nf == NULL || (nf->state = fleet_new()) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    nf->waits_tail = &nf->waits;
    nf->tick_ev = event_new(n->base, -1, EV_PERSIST, fleet_tick_cb, n);
    nf->sched_ev = event_new(n->base, -1, 0, fleet_sched_cb, n);
    if (nf->tick_ev == NULL || nf->sched_ev == NULL ||
        evtimer_add(nf->tick_ev, &tv) < 0) {
        snprintf(err, errlen, "cannot create the fleet's timers");
        return -1;
    }
    return 0;
}

void node_fleet_close(struct node *n)
{
    struct node_fleet *nf = n->fleet;

    if (nf == NULL) {
        return;
    }
    while (nf->waits != NULL) {
        http_reply_error(nf->waits->req, 503, "shutting down");
        wait_pop(nf);
    }
    while (nf->watches != NULL) {
        struct fleet_watch *w = nf->watches;

        nf->watches = w->next;
        http_reply_error(w->req, 503, "shutting down");
        free(w);
    }
    if (nf->tick_ev != NULL) {
        event_free(nf->tick_ev);
    }
    if (nf->sched_ev != NULL) {
        event_free(nf->sched_ev);
    }
    fleet_free(nf->state);
    for (size_t i = 0; i < nf->n_heard; i++) {
        json_decref(nf->heard[i].agents);
    }
    free(nf->heard);
    free(nf->notes);
    free(nf);
    n->fleet = NULL;
}
