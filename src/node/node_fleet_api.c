/* node_fleet_api.c - the HTTP endpoints of jobs, sites and tasks
 * (docs/fleet.md): users' requests are served by the leader (followers
 * forward them), controllers' by the leader alone. */
#include "node/node_fleet.h"

#include "node/node_int.h"
#include "util/log.h"

#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Query strings: known parameters only, each at most once.
 */

#define QUERY_MAX 4
#define QUERY_MAX_LEN 1024

struct query {
    const char *names[QUERY_MAX + 1]; /* NULL-terminated, set by the caller */
    char *values[QUERY_MAX];          /* NULL: absent; "" when no value */
};

static void query_free(struct query *qy)
{
    for (size_t i = 0; i < QUERY_MAX; i++) {
        free(qy->values[i]);
        qy->values[i] = NULL;
    }
}

/* Take one "name[=value]" of LEN bytes at P into QY. Returns 0, or -1
 * after a 400. */
static int query_take(struct evhttp_request *req, struct query *qy,
                      const char *p, size_t len)
{
    const char *eq = memchr(p, '=', len);
    size_t klen = eq ? (size_t)(eq - p) : len, i = 0;
    char key[64], *raw;

    if (klen == 0 || klen >= sizeof(key)) {
        http_reply_error(req, 400, "malformed query string");
        return -1;
    }
    memcpy(key, p, klen);
    key[klen] = '\0';
    while (qy->names[i] != NULL && strcmp(qy->names[i], key) != 0) {
        i++;
    }
    if (qy->names[i] == NULL || qy->values[i] != NULL) {
        http_reply_error(req, 400, "%s query parameter \"%s\"",
                         qy->names[i] ? "repeated" : "unknown", key);
        return -1;
    }
    raw = eq ? strndup(eq + 1, len - klen - 1) : strdup("");
    qy->values[i] = raw ? evhttp_uridecode(raw, 1, NULL) : NULL;
    free(raw);
    if (qy->values[i] == NULL) {
        http_reply_error(req, 500, "out of memory");
        return -1;
    }
    return 0;
}

/* Parse REQ's query into QY: known names only, each at most once, values
 * percent-decoded. Returns 0, or -1 after a 400 (QY is then freed). */
static int query_parse(struct evhttp_request *req, struct query *qy)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *q = uri ? evhttp_uri_get_query(uri) : NULL;

    memset(qy->values, 0, sizeof(qy->values));
    if (q == NULL || q[0] == '\0') {
        return 0;
    }
    if (strlen(q) > QUERY_MAX_LEN) {
        http_reply_error(req, 400, "query string over %d bytes", QUERY_MAX_LEN);
        return -1;
    }
    while (*q != '\0') {
        size_t len = strcspn(q, "&");

        if (len > 0 && query_take(req, qy, q, len) < 0) {
            query_free(qy);
            return -1;
        }
        q += len + (q[len] == '&');
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Where a request is served.
 */

static void reply_503(struct evhttp_request *req, const char *why)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      "1");
    http_reply_error(req, 503, "%s", why);
}

/* Whether a user's request may be served here; else it is forwarded or
 * answered. STALE: a read that any node may serve. */
static bool fleet_here(struct node *n, struct evhttp_request *req, bool write,
                       bool stale)
{
    struct raft_status st;
    int hops;

    if (n->done) {
        reply_503(req, "shutting down");
        return false;
    }
    if (stale || node_fleet_leading(n)) {
        return true;
    }
    raft_status(n->raft, &st);
    if (st.role == RAFT_LEADER || st.leader == 0 || st.leader == st.id) {
        reply_503(req, st.role == RAFT_LEADER
                           ? "leader still catching up with its log, retry"
                           : "no leader");
        return false;
    }
    hops = node_fwd_hops(req);
    if (hops >= NODE_FWD_MAX_HOPS) {
        reply_503(req, "not the leader, and forwarded too often already");
        return false;
    }
    node_fwd_send(n->fwd, req, st.leader, hops, write);
    return false;
}

/* Controllers talk to the leader only: a follower says who leads. */
static bool fleet_leader_only(struct node *n, struct evhttp_request *req)
{
    struct raft_status st;
    const struct addr *a;

    if (n->done) {
        reply_503(req, "shutting down");
        return false;
    }
    if (node_fleet_leading(n)) {
        return true;
    }
    raft_status(n->raft, &st);
    a = st.leader && st.leader != st.id ? peers_find(&n->opts.peers, st.leader)
                                        : NULL;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      "1");
    http_reply_json(req, 503,
                    json_pack("{s:s,s:s?}", "error", "not the leader", "leader",
                              a ? a->text : NULL));
    return false;
}

/* Reply 200 with VIEW (NULL: out of memory) wrapped as {"index", KEY}. */
static void reply_view(struct node *n, struct evhttp_request *req,
                       const char *key, json_t *view)
{
    if (view == NULL) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    http_reply_json(
        req, 200,
        json_pack("{s:I,s:o}", "index", (json_int_t)n->applied, key, view));
}

/* The part of the path after PREFIX, checked as a name; NULL after a 400
 * or 404. REST receives what follows a '/' after the name, if anything. */
static const char *path_name(struct evhttp_request *req, const char *prefix,
                             char *name, size_t cap, const char **rest)
{
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    const char *p = path + strlen(prefix), *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    char err[160];

    if (len == 0 || len >= cap) {
        http_reply_error(req, len ? 400 : 404, "%s", "name of 1..64 bytes");
        return NULL;
    }
    memcpy(name, p, len);
    name[len] = '\0';
    if (fleet_site_name_check(name, err, sizeof(err)) < 0) {
        /* Job ids and site names follow the same rules: a name that
         * breaks them names nothing that exists. */
        http_reply_error(req, 404, "no %s \"%s\" (%s)",
                         strcmp(prefix, "/v1/jobs/") == 0 ? "job" : "site",
                         name, err);
        return NULL;
    }
    *rest = slash ? slash + 1 : NULL;
    return name;
}

/* ------------------------------------------------------------------------
 * Users: jobs.
 */

static bool site_known(void *arg, const char *site)
{
    struct fleet_site_info si;

    return fleet_site_find(node_fleet_state(arg), site, &si);
}

static void job_submit(struct node *n, struct evhttp_request *req)
{
    size_t len;
    const char *body = http_body(req, &len);
    struct job *job = NULL;
    uint8_t *entry;
    size_t elen;
    char err[300];
    int rc = job_parse_json(body, len, &job, err, sizeof(err));

    if (rc != JOB_OK) {
        http_reply_error(req,
                         rc == JOB_ERR_TOO_LARGE ? 413
                         : rc == JOB_ERR_INVALID ? 400
                                                 : 500,
                         "%s", err);
        return;
    }
    if (job_check_sites(job, site_known, n, err, sizeof(err)) != JOB_OK) {
        job_free(job);
        http_reply_error(req, 400, "%s", err);
        return;
    }
    rc = fleet_entry_job_put(job, &entry, &elen, err, sizeof(err));
    if (rc != 0) {
        job_free(job);
        http_reply_error(req, rc, "%s", err);
        return;
    }
    node_fleet_propose(n, req, NODE_FLEET_JOB_PUT, job->id, entry, elen);
    job_free(job);
}

void node_fleet_jobs_cb(struct evhttp_request *req, void *arg)
{
    struct node *n = arg;
    bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
    struct query qy = {.names = {"stale", NULL}};

    if (query_parse(req, &qy) < 0) {
        return;
    }
    if (fleet_here(n, req, post, !post && qy.values[0] != NULL)) {
        if (post) {
            job_submit(n, req);
        } else {
            reply_view(n, req, "jobs", fleet_jobs_json(node_fleet_state(n)));
        }
    }
    query_free(&qy);
}

static void job_get(struct node *n, struct evhttp_request *req, const char *id)
{
    json_t *o = fleet_job_json(node_fleet_state(n), id);

    if (o == NULL) {
        http_reply_error(req,
                         fleet_job_exists(node_fleet_state(n), id) ? 500 : 404,
                         "no job \"%s\"", id);
        return;
    }
    json_object_set_new(o, "index", json_integer((json_int_t)n->applied));
    json_object_set_new(o, "notes", node_fleet_notes_json(n, id));
    http_reply_json(req, 200, o);
}

static void job_stop(struct node *n, struct evhttp_request *req, const char *id)
{
    uint8_t *entry;
    size_t len;
    char err[200];
    int rc;

    if (!fleet_job_exists(node_fleet_state(n), id)) {
        http_reply_error(req, 404, "no job \"%s\"", id);
        return;
    }
    rc = fleet_entry_job_stop(id, &entry, &len, err, sizeof(err));
    if (rc != 0) {
        http_reply_error(req, rc, "%s", err);
        return;
    }
    node_fleet_propose(n, req, NODE_FLEET_JOB_STOP, id, entry, len);
}

void node_fleet_job_cb(struct evhttp_request *req, void *arg)
{
    struct node *n = arg;
    bool del = evhttp_request_get_command(req) == EVHTTP_REQ_DELETE;
    struct query qy = {.names = {"stale", NULL}};
    char id[JOB_MAX_ID + 1];
    const char *rest;

    if (path_name(req, "/v1/jobs/", id, sizeof(id), &rest) == NULL) {
        return;
    }
    if (rest != NULL) {
        http_reply_error(req, 404, "no such path");
        return;
    }
    if (query_parse(req, &qy) < 0) {
        return;
    }
    if (fleet_here(n, req, del, !del && qy.values[0] != NULL)) {
        if (del) {
            job_stop(n, req, id);
        } else {
            job_get(n, req, id);
        }
    }
    query_free(&qy);
}

/* ------------------------------------------------------------------------
 * Users: tasks, sites, agents.
 */

void node_fleet_tasks_cb(struct evhttp_request *req, void *arg)
{
    struct node *n = arg;
    struct query qy = {.names = {"stale", "job", "site", NULL}};

    if (query_parse(req, &qy) < 0) {
        return;
    }
    if (fleet_here(n, req, false, qy.values[0] != NULL)) {
        reply_view(
            n, req, "tasks",
            fleet_tasks_json(node_fleet_state(n), qy.values[1], qy.values[2]));
    }
    query_free(&qy);
}

void node_fleet_sites_cb(struct evhttp_request *req, void *arg)
{
    struct node *n = arg;
    struct query qy = {.names = {"stale", NULL}};

    if (query_parse(req, &qy) < 0) {
        return;
    }
    if (fleet_here(n, req, false, qy.values[0] != NULL)) {
        reply_view(
            n, req, "sites",
            fleet_sites_json(node_fleet_state(n), node_fleet_heard_ago, n));
    }
    query_free(&qy);
}

void node_fleet_agents_cb(struct evhttp_request *req, void *arg)
{
    struct node *n = arg;
    struct query qy = {.names = {"stale", NULL}};

    if (query_parse(req, &qy) < 0) {
        return;
    }
    if (fleet_here(n, req, false, qy.values[0] != NULL)) {
        reply_view(n, req, "agents", node_fleet_agents_json(n));
    }
    query_free(&qy);
}

/* ------------------------------------------------------------------------
 * Controllers: /v1/sites/NAME/register, heartbeat, reports, assignments.
 */

static void site_register(struct node *n, struct evhttp_request *req,
                          const char *site)
{
    size_t len, elen;
    const char *body = http_body(req, &len);
    uint8_t *entry;
    char err[300];
    int rc = fleet_entry_site_register(site, body, len, &entry, &elen, err,
                                       sizeof(err));

    if (rc != 0) {
        http_reply_error(req, rc, "%s", err);
        return;
    }
    node_fleet_propose(n, req, NODE_FLEET_REGISTER, site, entry, elen);
}

/* A heartbeat's body: {} or {"agents": [objects]}. Returns the agents (a
 * new reference, NULL when none), or replies 400 and sets *BAD. */
static json_t *heartbeat_agents(struct evhttp_request *req, bool *bad)
{
    size_t len, i;
    const char *body = http_body(req, &len);
    json_error_t je;
    json_t *o, *agents, *a;

    *bad = false;
    if (len == 0) {
        return NULL;
    }
    o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    agents = json_object_get(o, "agents");
    if (!json_is_object(o) ||
        json_object_size(o) != (agents != NULL ? 1u : 0u) ||
        (agents != NULL && (!json_is_array(agents) ||
                            json_array_size(agents) > NODE_FLEET_MAX_AGENTS))) {
        json_decref(o);
        *bad = true;
        http_reply_error(req, 400,
                         "heartbeat: expected {} or {\"agents\": [...]} with "
                         "at most %d agents",
                         NODE_FLEET_MAX_AGENTS);
        return NULL;
    }
    json_array_foreach(agents, i, a)
    {
        if (!json_is_object(a)) {
            json_decref(o);
            *bad = true;
            http_reply_error(req, 400, "heartbeat: each agent is an object");
            return NULL;
        }
    }
    json_incref(agents);
    json_decref(o);
    return agents;
}

static void site_heartbeat(struct node *n, struct evhttp_request *req,
                           const char *site)
{
    struct fleet_site_info si;
    bool bad;
    json_t *agents = heartbeat_agents(req, &bad);

    if (bad) {
        return;
    }
    if (!fleet_site_find(node_fleet_state(n), site, &si)) {
        json_decref(agents);
        http_reply_error(req, 404, "site not registered");
        return;
    }
    node_fleet_heard(n, site);
    if (agents != NULL) {
        node_fleet_set_agents(n, site, agents);
    }
    fleet_site_find(node_fleet_state(n), site, &si);
    http_reply_json(
        req, 200,
        json_pack("{s:s,s:I,s:I,s:s}", "site", site, "index",
                  (json_int_t)n->applied, "report_seq",
                  (json_int_t)si.report_seq, "status",
                  si.status == SCHED_SITE_CONNECTED ? "connected" : "silent"));
}

static void site_report(struct node *n, struct evhttp_request *req,
                        const char *site)
{
    size_t len, elen;
    const char *body = http_body(req, &len);
    struct fleet_site_info si;
    uint8_t *entry;
    char err[300];
    int rc;

    if (!fleet_site_find(node_fleet_state(n), site, &si)) {
        http_reply_error(req, 404, "site not registered");
        return;
    }
    rc = fleet_entry_report(site, body, len, &entry, &elen, err, sizeof(err));
    if (rc != 0) {
        http_reply_error(req, rc, "%s", err);
        return;
    }
    node_fleet_heard(n, site);
    node_fleet_propose(n, req, NODE_FLEET_REPORT, site, entry, elen);
}

/* A duration: digits then "ms" or "s" (none: seconds). Returns -1 when it
 * is not one. */
static long long parse_wait(const char *s)
{
    char *end;
    long long v;

    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    v = strtoll(s, &end, 10);
    if (v > NODE_FLEET_WATCH_MAX_MS) {
        return -1;
    }
    if (strcmp(end, "ms") == 0) {
        return v;
    }
    if (*end == '\0' || strcmp(end, "s") == 0) {
        return v * 1000;
    }
    return -1;
}

static void site_assignments(struct node *n, struct evhttp_request *req,
                             const char *site)
{
    struct query qy = {.names = {"index", "wait", NULL}};
    unsigned long long index = 0;
    long long wait = NODE_FLEET_WATCH_DEFAULT_MS;
    char *end = NULL;

    if (query_parse(req, &qy) < 0) {
        return;
    }
    if (qy.values[0] != NULL &&
        (qy.values[0][0] < '0' || qy.values[0][0] > '9' ||
         (index = strtoull(qy.values[0], &end, 10), *end != '\0'))) {
        http_reply_error(req, 400, "index: expected a log index");
    } else if (qy.values[1] != NULL && ((wait = parse_wait(qy.values[1])) < 0 ||
                                        wait > NODE_FLEET_WATCH_MAX_MS)) {
        http_reply_error(req, 400,
                         "wait: expected a duration like 30s or 500ms, at "
                         "most %ds",
                         NODE_FLEET_WATCH_MAX_MS / 1000);
    } else {
        node_fleet_watch(n, req, site, index, (uint64_t)wait);
    }
    query_free(&qy);
}

void node_fleet_site_cb(struct evhttp_request *req, void *arg)
{
    struct node *n = arg;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    char site[JOB_MAX_ID + 1];
    const char *rest;

    if (path_name(req, "/v1/sites/", site, sizeof(site), &rest) == NULL) {
        return;
    }
    if (rest == NULL) {
        http_reply_error(req, 404, "no such path: /v1/sites/%s/ACTION", site);
        return;
    }
    if (cmd == EVHTTP_REQ_GET && strcmp(rest, "assignments") == 0) {
        if (fleet_leader_only(n, req)) {
            site_assignments(n, req, site);
        }
        return;
    }
    if (cmd != EVHTTP_REQ_POST ||
        (strcmp(rest, "register") != 0 && strcmp(rest, "heartbeat") != 0 &&
         strcmp(rest, "reports") != 0)) {
        http_reply_error(req, cmd == EVHTTP_REQ_POST ? 404 : 405,
                         "expected POST register, heartbeat or reports, or "
                         "GET assignments");
        return;
    }
    if (!fleet_leader_only(n, req)) {
        return;
    }
    if (rest[0] == 'r' && rest[2] == 'g') {
        site_register(n, req, site);
    } else if (rest[0] == 'h') {
        site_heartbeat(n, req, site);
    } else {
        site_report(n, req, site);
    }
}
