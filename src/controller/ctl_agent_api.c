/* ctl_agent_api.c - the agents' calls (docs/site-api.md), one small
 * handler each:
 *
 *   POST /v1/agents/NAME/register    join, or come back
 *   POST /v1/agents/NAME/heartbeat   the state of every task it knows
 *   GET  /v1/agents/NAME/tasks       its task list, a blocking watch
 *   GET  /v1/agents                  the registry, for users
 *   DELETE /v1/agents/NAME           forget an agent that is down (a
 *                                    machine that is gone for good)
 *
 * A watch (?index=N&wait=D) is answered at once when N is 0 or differs
 * from the agent's index (a controller that lost its registry starts
 * again from 0, below what the agent holds), otherwise held until the
 * index moves or D passes. An agent that registered is not told its list
 * before its first heartbeat, so that the controller knows what it runs
 * before it says what to run: a copy that kept running is not stopped by
 * a list that was about to give it back (ctl_place.h).
 */
#include "controller/ctl_int.h"

#include "transport/http.h"
#include "util/clock.h"
#include "util/flags.h"
#include "util/log.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_AGENT_PATH "/v1/agents/"

/* ------------------------------------------------------------------------
 * Task lists and watches.
 */

/* One entry of an agent's task list. */
static json_t *ctl_list_entry(const struct ctl *c, const struct ctl_task *t)
{
    json_t *job = json_object_get(c->assign.jobs, t->job);
    json_t *e = json_pack("{s:s,s:I,s:I,s:b}", "id", t->id, "index",
                          (json_int_t)t->index, "job_version",
                          (json_int_t)t->job_version, "stop", t->stop);

    if (e != NULL && job != NULL && json_object_set(e, "job", job) < 0) {
        json_decref(e);
        return NULL;
    }
    return e;
}

/* G's task list: {"agent", "index", "tasks": [...]}; NULL out of memory. */
static json_t *ctl_list_json(const struct ctl *c, const struct ctl_agent *g)
{
    json_t *tasks = json_array();

    for (size_t r = 0; tasks != NULL && r < c->rows.n; r++) {
        const struct ctl_task *t;

        if (strcmp(c->rows.v[r].agent, g->name) != 0) {
            continue;
        }
        t = ctl_assign_find(&c->assign, c->rows.v[r].task);
        if (t != NULL &&
            json_array_append_new(tasks, ctl_list_entry(c, t)) < 0) {
            json_decref(tasks);
            tasks = NULL;
        }
    }
    if (tasks == NULL) {
        return NULL;
    }
    return json_pack("{s:s,s:s,s:I,s:o}", "agent", g->name, "site",
                     c->opts.site, "index", (json_int_t)g->index, "tasks",
                     tasks);
}

static void ctl_watch_answer(struct ctl *c, struct ctl_watch *w)
{
    const struct ctl_agent *g = ctl_agents_find(&c->agents, w->agent);

    if (g == NULL) {
        http_reply_error(w->req, 404, "agent %s is not registered", w->agent);
        return;
    }
    http_reply_json(w->req, 200, ctl_list_json(c, g));
}

/* Answer and drop the watches DUE says are due (ALL: every one). */
static void ctl_watches_answer(struct ctl *c, bool all)
{
    struct ctl_watch **pp = &c->watches;
    uint64_t now = clock_mono_ms();

    while (*pp != NULL) {
        struct ctl_watch *w = *pp;
        const struct ctl_agent *g = ctl_agents_find(&c->agents, w->agent);

        if (!all && g != NULL && now < w->deadline &&
            ((w->index != 0 && g->index == w->index) || !g->synced)) {
            pp = &w->next;
            continue;
        }
        ctl_watch_answer(c, w);
        *pp = w->next;
        c->n_watches--;
        free(w);
    }
}

void ctl_watches_sweep(struct ctl *c)
{
    ctl_watches_answer(c, false);
}

void ctl_watches_flush(struct ctl *c)
{
    ctl_watches_answer(c, true);
}

/* The query of a watch: ?index=N&wait=D. Returns 0, or -1 after a 400. */
static int ctl_watch_query(struct evhttp_request *req, uint64_t *index,
                           uint64_t *wait)
{
    struct evkeyvalq q;
    const char *i, *w;
    char *end = NULL;
    int rc = -1;

    if (http_query(req, &q) < 0) {
        http_reply_error(req, 400, "bad query string");
        return -1;
    }
    i = evhttp_find_header(&q, "index");
    w = evhttp_find_header(&q, "wait");
    *index = 0;
    *wait = CTL_AGENT_WAIT_DEFAULT_MS;
    if (i != NULL && (i[0] < '0' || i[0] > '9' ||
                      (*index = strtoull(i, &end, 10), *end != '\0'))) {
        http_reply_error(req, 400, "index: expected a number");
    } else if (w != NULL && (flags_parse_duration(w, wait) < 0 ||
                             *wait > CTL_AGENT_WAIT_MAX_MS)) {
        http_reply_error(req, 400,
                         "wait: expected a duration up to 60s (\"30s\", "
                         "\"500ms\")");
    } else {
        rc = 0;
    }
    evhttp_clear_headers(&q);
    return rc;
}

static void ctl_agent_tasks(struct ctl *c, struct evhttp_request *req,
                            struct ctl_agent *g)
{
    uint64_t index, wait;
    struct ctl_watch *w;

    if (ctl_watch_query(req, &index, &wait) < 0) {
        return;
    }
    if (index > g->seen_index) {
        g->seen_index = index; /* it has what INDEX lists: stops may be done */
        ctl_reconcile_soon(c);
    }
    if ((index == 0 || index != g->index || wait == 0) && g->synced) {
        http_reply_json(req, 200, ctl_list_json(c, g));
        return;
    }
    if (c->n_watches >= CTL_WATCHES_MAX ||
        (w = calloc(1, sizeof(*w))) == NULL) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                          "1");
        http_reply_error(req, 503, "too many watches, retry");
        return;
    }
    snprintf(w->agent, sizeof(w->agent), "%s", g->name);
    w->index = index;
    w->deadline = clock_mono_ms() + wait;
    w->req = req;
    w->next = c->watches;
    c->watches = w;
    c->n_watches++;
}

/* ------------------------------------------------------------------------
 * Register and heartbeat.
 */

static void ctl_log_register(const struct ctl_agent *g,
                             const struct ctl_agent_reg_outcome *o)
{
    char labels[200] = "";
    size_t used = 0;

    for (size_t i = 0; i < g->n_labels && used < sizeof(labels); i++) {
        int w = snprintf(labels + used, sizeof(labels) - used, "%s%s=%s",
                         i ? "," : "", g->labels[i].key, g->labels[i].value);

        used += w > 0 ? (size_t)w : 0;
    }
    if (!o->added && !o->back && !o->restarted && !o->changed) {
        log_debug("controller", "agent %s registered again", g->name);
        return;
    }
    log_info("controller",
             "agent %s %s from %s: %llu.%03llu cores, %llu MiB, labels %s",
             g->name,
             o->added       ? "registered"
             : o->back      ? "is back, registered"
             : o->restarted ? "restarted, registered"
                            : "registered with changes",
             g->addr.text, (unsigned long long)(g->cpu_milli / 1000),
             (unsigned long long)(g->cpu_milli % 1000),
             (unsigned long long)g->memory_mb, used ? labels : "(none)");
}

static void ctl_agent_register(struct ctl *c, struct evhttp_request *req,
                               const char *name)
{
    struct ctl_agent_reg reg;
    struct ctl_agent_reg_outcome o;
    struct ctl_agent *g;
    size_t len;
    const char *body = http_body(req, &len);
    char err[400];
    int status;

    if (ctl_agent_reg_parse(body, len, &reg, err, sizeof(err)) < 0) {
        ctl_agent_reg_free(&reg);
        http_reply_error(req, 400, "register: %s", err);
        return;
    }
    if (ctl_agents_register(&c->agents, name, &reg, clock_mono_ms(),
                            c->opts.agent_ttl_ms, &o, &status, err,
                            sizeof(err)) < 0) {
        ctl_agent_reg_free(&reg);
        if (status == 409) {
            log_warn("controller", "agent %s: register refused: %s", name, err);
        }
        http_reply_error(req, status, "%s", err);
        return;
    }
    ctl_agent_reg_free(&reg);
    g = ctl_agents_find(&c->agents, name);
    ctl_log_register(g, &o);
    c->registry_dirty =
        c->registry_dirty || o.added || o.changed || o.restarted;
    ctl_reconcile(c, true);
    http_reply_json(req, 200,
                    json_pack("{s:s,s:I,s:I,s:I}", "agent", g->name, "index",
                              (json_int_t)g->index, "ttl_ms",
                              (json_int_t)c->opts.agent_ttl_ms, "heartbeat_ms",
                              (json_int_t)ctl_agent_heartbeat_ms(c)));
}

static void ctl_agent_hb(struct ctl *c, struct evhttp_request *req,
                         struct ctl_agent *g)
{
    struct ctl_agent_hb hb;
    size_t len;
    const char *body = http_body(req, &len);
    uint64_t now = clock_mono_ms(), silent = now - g->last_ms;
    char err[400];
    bool back;

    if (ctl_agent_hb_parse(body, len, &hb, err, sizeof(err)) < 0) {
        ctl_agent_hb_free(&hb);
        http_reply_error(req, 400, "heartbeat: %s", err);
        return;
    }
    if (ctl_agent_heartbeat(g, &hb, now, &back)) {
        if (back) {
            log_info("controller",
                     "agent %s is back: a heartbeat after %llu ms of silence "
                     "(%zu tasks)",
                     g->name, (unsigned long long)silent, g->n_tasks);
        }
        ctl_reconcile_soon(c);
    }
    ctl_agent_hb_free(&hb);
    http_reply_json(req, 200,
                    json_pack("{s:I}", "index", (json_int_t)g->index));
}

/* DELETE /v1/agents/NAME: forget a down agent; the tasks it had are
 * placed again. */
static void ctl_agent_delete(struct ctl *c, struct evhttp_request *req,
                             struct ctl_agent *g)
{
    char name[CTL_AGENT_NAME_MAX + 1];
    size_t tasks = 0;

    if (g->up) {
        http_reply_error(req, 409,
                         "agent %s is up: stop it first, or wait until it has "
                         "been silent for %u ms",
                         g->name, c->opts.agent_ttl_ms);
        return;
    }
    snprintf(name, sizeof(name), "%s", g->name);
    for (size_t r = 0; r < c->rows.n; r++) {
        if (strcmp(c->rows.v[r].agent, name) == 0) {
            tasks += !c->rows.v[r].held;
            c->rows.v[r].agent[0] = '\0';
        }
    }
    ctl_rows_sort(&c->rows);
    ctl_agents_remove(&c->agents, name);
    c->registry_dirty = true;
    log_info("controller",
             "agent %s removed from the registry -> place its %zu tasks "
             "again",
             name, tasks);
    ctl_reconcile(c, true);
    http_reply_json(req, 200,
                    json_pack("{s:s,s:b}", "agent", name, "removed", 1));
}

/* ------------------------------------------------------------------------
 * Routing.
 */

void ctl_agent_api_cb(struct evhttp_request *req, void *arg)
{
    struct ctl *c = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    const char *name = path + strlen(CTL_AGENT_PATH);
    const char *slash = strchr(name, '/');
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    char agent[CTL_AGENT_NAME_MAX + 1];
    struct ctl_agent *g;

    if (slash == NULL && m == EVHTTP_REQ_DELETE && name[0] != '\0' &&
        strlen(name) <= CTL_AGENT_NAME_MAX) {
        g = ctl_agents_find(&c->agents, name);
        if (g == NULL) {
            http_reply_error(req, 404, "agent %.64s is not registered", name);
        } else {
            ctl_agent_delete(c, req, g);
        }
        return;
    }
    if (slash == NULL || slash == name ||
        (size_t)(slash - name) > CTL_AGENT_NAME_MAX) {
        http_reply_error(req, 404,
                         "no such path: expected /v1/agents/NAME/register, "
                         "/heartbeat or /tasks");
        return;
    }
    snprintf(agent, sizeof(agent), "%.*s", (int)(slash - name), name);
    if (!flags_name_ok(agent)) {
        http_reply_error(req, 400,
                         "agent name \"%s\": expected 1..64 of a-z, 0-9, "
                         "'-', '_' and '.', starting with a letter or digit",
                         agent);
        return;
    }
    g = ctl_agents_find(&c->agents, agent);
    if (strcmp(slash, "/register") == 0 && m == EVHTTP_REQ_POST) {
        ctl_agent_register(c, req, agent);
    } else if ((strcmp(slash, "/heartbeat") == 0 && m == EVHTTP_REQ_POST) ||
               (strcmp(slash, "/tasks") == 0 && m == EVHTTP_REQ_GET)) {
        if (g == NULL) {
            http_reply_error(req, 404, "agent %s is not registered", agent);
        } else if (slash[1] == 'h') {
            ctl_agent_hb(c, req, g);
        } else {
            ctl_agent_tasks(c, req, g);
        }
    } else if (strcmp(slash, "/register") == 0 ||
               strcmp(slash, "/heartbeat") == 0 ||
               strcmp(slash, "/tasks") == 0) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                          slash[1] == 't' ? "GET" : "POST");
        http_reply_error(req, 405, "%s takes %s", slash,
                         slash[1] == 't' ? "GET" : "POST");
    } else {
        http_reply_error(req, 404,
                         "no such path: expected /v1/agents/NAME/register, "
                         "/heartbeat or /tasks");
    }
}

void ctl_agents_list_cb(struct evhttp_request *req, void *arg)
{
    struct ctl *c = arg;

    http_reply_json(req, 200,
                    json_pack("{s:s,s:o}", "site", c->opts.site, "agents",
                              ctl_agents_view(c)));
}
