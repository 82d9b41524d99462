/* node_api.c - the raft daemon's HTTP endpoints, one small handler each.
 *
 *   POST /raft/request_vote, /raft/append_entries, /raft/timeout_now
 *   POST /raft/install_snapshot             (node_snap.c)
 *   GET, PUT, DELETE /v1/kv/KEY             (node_kv.c)
 *   GET  /v1/status
 *   POST /v1/leader/transfer[?to=ID]
 *   GET  /metrics
 *
 * Peer RPC bodies are decoded strictly (codec.h); a refusal is a 400 with
 * the reason, logged at most once per NODE_API_LOG_EVERY_MS unless the
 * reason changes, so a misconfigured peer cannot flood the log.
 */
#include "node/node_int.h"

#include "util/log.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODE_API_SMALL_BODY 4096
#define NODE_API_SITE_BODY (512u << 10) /* a report batch of 1000 tasks */
#define NODE_API_LOG_EVERY_MS 10000

void node_api_log_refusal(struct evhttp_request *req, const char *path,
                          const char *why)
{
    static char last[256];
    static uint64_t last_at;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    uint64_t now = node_now();
    char *host = NULL;
    ev_uint16_t port = 0;

    if (strcmp(last, why) == 0 && now - last_at < NODE_API_LOG_EVERY_MS) {
        return;
    }
    snprintf(last, sizeof(last), "%s", why);
    last_at = now;
    if (conn != NULL) {
        evhttp_connection_get_peer(conn, &host, &port);
    }
    log_warn("api", "%s from %s:%u: %s -> 400 (repeats muted for %d s)", path,
             host ? host : "?", (unsigned)port, why,
             NODE_API_LOG_EVERY_MS / 1000);
}

static void api_rpc(struct node *n, struct evhttp_request *req,
                    enum raft_msg_type type)
{
    struct raft_msg m;
    char err[256];
    size_t len;
    const char *body = http_body(req, &len);

    if (n->done) {
        http_reply_error(req, 503, "shutting down");
        return;
    }
    if (codec_decode(type, body, len, &n->nodes, &m, err, sizeof(err)) < 0) {
        node_api_log_refusal(req, codec_path(type), err);
        http_reply_error(req, 400, "%s", err);
        return;
    }
    if (type == RAFT_MSG_TIMEOUT_NOW) {
        http_reply_json(req, 200, json_object());
        node_step(n, &m);
    } else {
        node_handle_request(n, req, &m);
    }
    codec_msg_release(&m);
}

static void api_request_vote_cb(struct evhttp_request *req, void *arg)
{
    api_rpc(arg, req, RAFT_MSG_VOTE);
}

static void api_append_entries_cb(struct evhttp_request *req, void *arg)
{
    api_rpc(arg, req, RAFT_MSG_APPEND);
}

static void api_timeout_now_cb(struct evhttp_request *req, void *arg)
{
    api_rpc(arg, req, RAFT_MSG_TIMEOUT_NOW);
}

static void api_install_snapshot_cb(struct evhttp_request *req, void *arg)
{
    node_snap_receive(arg, req);
}

static void api_kv_cb(struct evhttp_request *req, void *arg)
{
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET:
        node_kv_request(arg, req, KVAPI_GET);
        break;
    case EVHTTP_REQ_PUT:
        node_kv_request(arg, req, KVAPI_PUT);
        break;
    default:
        node_kv_request(arg, req, KVAPI_DELETE);
        break;
    }
}

/* {"1": {"addr": ..., "leader": bool, "reachable": bool}, ...} */
static json_t *api_peers_json(struct node *n, uint64_t leader)
{
    json_t *peers = json_object();

    for (size_t i = 0; peers != NULL && i < n->opts.peers.n; i++) {
        const struct peer_addr *pa = &n->opts.peers.node[i];
        json_t *p = json_pack("{s:s,s:b}", "addr", pa->addr.text, "leader",
                              pa->id == leader);
        char key[24];

        if (p != NULL && n->clients[i] != NULL &&
            peer_client_state(n->clients[i]) != PEER_UNKNOWN) {
            json_object_set_new(
                p, "reachable",
                json_boolean(peer_client_state(n->clients[i]) == PEER_UP));
        }
        snprintf(key, sizeof(key), "%llu", (unsigned long long)pa->id);
        json_object_set_new(peers, key, p);
    }
    return peers;
}

static void api_status_cb(struct evhttp_request *req, void *arg)
{
    struct node *n = arg;
    struct raft_status st;

    raft_status(n->raft, &st);
    http_reply_json(
        req, 200,
        json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "id",
                  (json_int_t)st.id, "role", raft_role_name(st.role), "term",
                  (json_int_t)st.term, "leader", (json_int_t)st.leader,
                  "commit_index", (json_int_t)st.commit_index, "applied_index",
                  (json_int_t)st.applied_index, "last_log_index",
                  (json_int_t)st.last_log_index, "last_log_term",
                  (json_int_t)st.last_log_term, "vote", (json_int_t)st.vote,
                  "snapshot_index", (json_int_t)n->snap_index, "keys",
                  (json_int_t)kv_count(n->kv), "peers",
                  api_peers_json(n, st.leader)));
}

/* ?to=ID: 0 when absent; -1 with a 400 sent when bad. */
static int api_transfer_target(struct node *n, struct evhttp_request *req,
                               uint64_t *to)
{
    struct evkeyvalq q;
    const char *v;
    char err[128];
    int rc = 0;

    *to = 0;
    if (http_query(req, &q) < 0) {
        http_reply_error(req, 400, "malformed query string");
        return -1;
    }
    v = evhttp_find_header(&q, "to");
    if (v != NULL && (peers_parse_id(v, to, err, sizeof(err)) < 0 ||
                      peers_find(&n->opts.peers, *to) == NULL)) {
        http_reply_error(req, 400, "to=%.30s: not a member of the cluster", v);
        rc = -1;
    }
    evhttp_clear_headers(&q);
    return rc;
}

static void api_transfer_cb(struct evhttp_request *req, void *arg)
{
    struct node *n = arg;
    struct raft_status st;
    uint64_t to;

    if (api_transfer_target(n, req, &to) < 0) {
        return;
    }
    raft_status(n->raft, &st);
    if (n->done || st.role != RAFT_LEADER) {
        http_reply_json(req, 503,
                        json_pack("{s:s,s:I}", "error", "not the leader",
                                  "leader", (json_int_t)st.leader));
        return;
    }
    if (raft_transfer(n->raft, to, node_now()) < 0) {
        node_drive(n);
        http_reply_error(req, 503, "no follower to hand over to");
        return;
    }
    log_info("api", "leader transfer to %llu requested over HTTP",
             (unsigned long long)to);
    node_drive(n);
    raft_status(n->raft, &st);
    to = st.transfer_target ? st.transfer_target : (to ? to : st.id);
    http_reply_json(req, 200,
                    json_pack("{s:I}", "transfer_to", (json_int_t)to));
}

/* Append one Prometheus metric (HELP, TYPE, one unlabelled sample). */
static void api_metric(FILE *f, const char *name, const char *type,
                       const char *help, unsigned long long value)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
            name, value);
}

static void api_metrics_peers(struct node *n, FILE *f)
{
    fprintf(f, "# HELP varde_peer_reachable 1 when the last request to the "
               "peer was answered.\n# TYPE varde_peer_reachable gauge\n");
    for (size_t i = 0; i < n->opts.peers.n; i++) {
        if (n->clients[i] != NULL &&
            peer_client_state(n->clients[i]) != PEER_UNKNOWN) {
            fprintf(f, "varde_peer_reachable{peer=\"%llu\"} %d\n",
                    (unsigned long long)n->opts.peers.node[i].id,
                    peer_client_state(n->clients[i]) == PEER_UP);
        }
    }
    fprintf(f, "# HELP varde_peer_dropped_total Requests to the peer dropped "
               "because too many were in flight.\n"
               "# TYPE varde_peer_dropped_total counter\n");
    for (size_t i = 0; i < n->opts.peers.n; i++) {
        if (n->clients[i] != NULL) {
            fprintf(f, "varde_peer_dropped_total{peer=\"%llu\"} %llu\n",
                    (unsigned long long)n->opts.peers.node[i].id,
                    (unsigned long long)peer_client_dropped(n->clients[i]));
        }
    }
}

static void api_metrics_kv(struct node *n, FILE *f)
{
    const struct node_metrics *m = &n->m;

    api_metric(f, "varde_raft_applied_index", "gauge",
               "Highest log index applied to the state machine.", n->applied);
    api_metric(f, "varde_raft_proposals_total", "counter",
               "Writes proposed to the log on this node as leader.",
               m->proposals);
    api_metric(f, "varde_raft_proposals_failed_total", "counter",
               "Writes refused by the core, or lost to another term's entry.",
               m->proposals_failed);
    api_metric(f, "varde_kv_keys", "gauge", "Keys in the key-value store.",
               kv_count(n->kv));
    api_metric(f, "varde_kv_forwarded_total", "counter",
               "Client requests forwarded to the leader.",
               node_fwd_count(n->fwd));
    hist_write(&m->fsync, f, "varde_wal_fsync_seconds",
               "Time of one group commit fsync of the log.");
    hist_write(&m->commit, f, "varde_raft_commit_seconds",
               "From proposal to applied, for writes proposed here.");
    fprintf(f,
            "# HELP varde_snapshots_total Snapshots taken here, installed "
            "from the leader, sent to followers.\n"
            "# TYPE varde_snapshots_total counter\n"
            "varde_snapshots_total{event=\"taken\"} %llu\n"
            "varde_snapshots_total{event=\"installed\"} %llu\n"
            "varde_snapshots_total{event=\"sent\"} %llu\n",
            (unsigned long long)m->snapshots_taken,
            (unsigned long long)m->snapshots_installed,
            (unsigned long long)m->snapshots_sent);
}

static void api_metrics_cb(struct evhttp_request *req, void *arg)
{
    struct node *n = arg;
    struct raft_status st;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (f == NULL) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    raft_status(n->raft, &st);
    api_metric(f, "varde_raft_term", "gauge", "Current raft term.", st.term);
    fprintf(f, "# HELP varde_raft_role 1 for the role this node is in.\n"
               "# TYPE varde_raft_role gauge\n");
    for (int r = RAFT_FOLLOWER; r <= RAFT_LEADER; r++) {
        fprintf(f, "varde_raft_role{role=\"%s\"} %d\n",
                raft_role_name((enum raft_role)r), (int)st.role == r);
    }
    api_metric(f, "varde_raft_leader_changes_total", "counter",
               "Times this node saw the leader change.", st.leader_changes);
    api_metric(f, "varde_raft_commit_index", "gauge",
               "Highest log index known to be committed.", st.commit_index);
    api_metrics_kv(n, f);
    node_fleet_metrics(n, f);
    api_metrics_peers(n, f);
    if (fclose(f) != 0 || text == NULL) {
        free(text);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    http_reply_text(req, 200, "text/plain; version=0.0.4", text, len);
    free(text);
}

static const struct http_route api_routes[] = {
    {"/raft/request_vote", EVHTTP_REQ_POST, NODE_API_SMALL_BODY,
     api_request_vote_cb},
    {"/raft/append_entries", EVHTTP_REQ_POST, CODEC_MAX_REQUEST_BODY,
     api_append_entries_cb},
    {"/raft/timeout_now", EVHTTP_REQ_POST, NODE_API_SMALL_BODY,
     api_timeout_now_cb},
    {CODEC_PATH_INSTALL_SNAPSHOT, EVHTTP_REQ_POST, CODEC_MAX_REQUEST_BODY,
     api_install_snapshot_cb},
    {KVAPI_PREFIX, EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE,
     SM_MAX_VALUE, api_kv_cb},
    {"/v1/status", EVHTTP_REQ_GET, NODE_API_SMALL_BODY, api_status_cb},
    {"/v1/jobs", EVHTTP_REQ_GET | EVHTTP_REQ_POST, JOB_MAX_TEXT,
     node_fleet_jobs_cb},
    {"/v1/jobs/", EVHTTP_REQ_GET | EVHTTP_REQ_DELETE, NODE_API_SMALL_BODY,
     node_fleet_job_cb},
    {"/v1/tasks", EVHTTP_REQ_GET, NODE_API_SMALL_BODY, node_fleet_tasks_cb},
    {"/v1/tasks/", EVHTTP_REQ_GET, NODE_API_SMALL_BODY, node_fleet_task_cb},
    {"/v1/sites", EVHTTP_REQ_GET, NODE_API_SMALL_BODY, node_fleet_sites_cb},
    {"/v1/sites/", EVHTTP_REQ_GET | EVHTTP_REQ_POST, NODE_API_SITE_BODY,
     node_fleet_site_cb},
    {"/v1/agents", EVHTTP_REQ_GET, NODE_API_SMALL_BODY, node_fleet_agents_cb},
    {"/v1/leader/transfer", EVHTTP_REQ_POST, NODE_API_SMALL_BODY,
     api_transfer_cb},
    {"/metrics", EVHTTP_REQ_GET, NODE_API_SMALL_BODY, api_metrics_cb},
};

int node_api_listen(struct node *n, char *err, size_t errlen)
{
    n->http = http_server_new(n->base, &n->opts.listen, api_routes,
                              sizeof(api_routes) / sizeof(api_routes[0]), n,
                              err, errlen);
    if (n->http != NULL && n->token[0] != '\0' &&
        http_server_set_token(n->http, n->token) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return n->http == NULL ? -1 : 0;
}
