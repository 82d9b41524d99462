/* agent_logapi.c - GET /v1/tasks/ID/logs?offset=N&follow=1: a task's
 * captured output, at once or followed (agent_int.h).
 *
 * A plain read answers what is kept from OFFSET (a negative one counts
 * from the end), at most 8 MiB; X-Varde-Log-Start and X-Varde-Log-End give
 * the offsets of the first byte kept and of the end, so a client pages on
 * with offset = start of its answer + its length. With follow, the answer
 * is chunked: what is kept from OFFSET, then what the task writes, read
 * every 250 ms, for at most a minute, or until the task has ended and
 * everything is sent. stream= is refused: stdout and stderr share one
 * file (agent_logs.h).
 *
 * A followed request is held by its agent_follow until the follow ends.
 * libevent detaches such a request from its connection when the client
 * goes away and calls the connection's close callback: the request is
 * then ours to free (evhttp_send_reply_end does it).
 */
#include "agent/agent_int.h"

#include "agent/agent_logs.h"
#include "transport/http.h"
#include "util/clock.h"
#include "util/log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define LOGAPI_MAX_REPLY (8u << 20)
#define LOGAPI_CHUNK (256u << 10)
#define LOGAPI_MAX_QUEUED (1u << 20) /* unsent bytes before we wait */
#define LOGAPI_FOLLOW_MS 60000
#define LOGAPI_POLL_MS 250
#define LOGAPI_MAX_FOLLOWS 64

struct agent_follow {
    struct agent_follow *next;
    struct agent *a;
    struct evhttp_request *req;
    struct evhttp_connection *conn;
    char id[AGENT_TASK_ID_MAX + 1];
    uint64_t next_off;
    uint64_t deadline_ms;
};

struct logapi_query {
    int64_t offset;
    bool follow;
};

/* "ID" of "/v1/tasks/ID/logs" into ID; -1 when PATH is not that. */
static int logapi_task_id(const char *path, char *id, size_t len)
{
    const char *p = path + strlen("/v1/tasks/");
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : 0;

    if (slash == NULL || strcmp(slash, "/logs") != 0 || n == 0 || n >= len) {
        return -1;
    }
    memcpy(id, p, n);
    id[n] = '\0';
    return 0;
}

/* An integer of at most 18 digits, with an optional '-'. 0, or -1. */
static int logapi_int(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    int64_t v = 0;
    size_t n = 0;

    for (s += neg; *s >= '0' && *s <= '9' && n < 18; s++, n++) {
        v = v * 10 + (*s - '0');
    }
    if (n == 0 || *s != '\0') {
        return -1;
    }
    *out = neg ? -v : v;
    return 0;
}

/* The complaint about query parameter E, or NULL; fills Q. */
static const char *logapi_param(const struct evkeyval *e,
                                struct logapi_query *q)
{
    if (strcmp(e->key, "offset") == 0) {
        return logapi_int(e->value, &q->offset) < 0
                   ? "offset: expected an integer (negative: from the end)"
                   : NULL;
    }
    if (strcmp(e->key, "follow") == 0) {
        q->follow = strcmp(e->value, "1") == 0 ||
                    strcmp(e->value, "true") == 0 || e->value[0] == '\0';
        return q->follow || strcmp(e->value, "0") == 0 ||
                       strcmp(e->value, "false") == 0
                   ? NULL
                   : "follow: expected 1 or 0";
    }
    if (strcmp(e->key, "stream") == 0) {
        return "stream: this agent keeps stdout and stderr interleaved in "
               "one file, as written; leave stream out";
    }
    return "unknown parameter (offset, follow)";
}

/* Parse REQ's query into *Q, or answer 400 and return -1. */
static int logapi_query(struct evhttp_request *req, struct logapi_query *q)
{
    struct evkeyvalq kv;
    struct evkeyval *e;
    const char *bad = NULL;

    q->offset = 0;
    q->follow = false;
    if (http_query(req, &kv) < 0) {
        http_reply_error(req, 400, "malformed query string");
        return -1;
    }
    TAILQ_FOREACH(e, &kv, next)
    {
        const char *why = logapi_param(e, q);

        bad = bad ? bad : why;
    }
    evhttp_clear_headers(&kv);
    if (bad != NULL) {
        http_reply_error(req, 400, "%s", bad);
        return -1;
    }
    return 0;
}

static void logapi_headers(struct evhttp_request *req, uint64_t start,
                           uint64_t end)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char buf[32];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)start);
    evhttp_add_header(h, "X-Varde-Log-Start", buf);
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)end);
    evhttp_add_header(h, "X-Varde-Log-End", buf);
}

/* The end offset of R's output now. */
static uint64_t logapi_end(const struct agent_run *r)
{
    uint64_t old, cur;

    agent_log_sizes(r->dir, &old, &cur);
    return r->task.log_start + old + cur;
}

/* ------------------------------------------------------------------------
 * Follows.
 */

static void logapi_unlink(struct agent_follow *f)
{
    struct agent *a = f->a;

    for (struct agent_follow **p = &a->follows; *p != NULL; p = &(*p)->next) {
        if (*p == f) {
            *p = f->next;
            a->n_follows--;
            break;
        }
    }
    if (a->n_follows == 0 && a->follow_ev != NULL) {
        evtimer_del(a->follow_ev);
    }
}

/* End F's answer and free F. */
static void logapi_end_follow(struct agent_follow *f)
{
    logapi_unlink(f);
    if (f->conn != NULL) {
        evhttp_connection_set_closecb(f->conn, NULL, NULL);
    }
    evhttp_send_reply_end(f->req);
    free(f);
}

/* The client went away. A request libevent detached is ours to free; one
 * still attached goes with its connection. */
static void logapi_close_cb(struct evhttp_connection *conn, void *arg)
{
    struct agent_follow *f = arg;

    (void)conn;
    logapi_unlink(f);
    if (evhttp_request_get_connection(f->req) == NULL) {
        evhttp_send_reply_end(f->req);
    }
    free(f);
}

/* Send F what its task wrote since. Returns true when F is done. */
static bool logapi_pump(struct agent_follow *f)
{
    struct agent_run *r = agent_run_find(f->a, f->id);
    struct bufferevent *bev = evhttp_connection_get_bufferevent(f->conn);
    struct evbuffer *chunk;
    char err[300];
    char *buf = NULL;
    size_t len = 0;

    if (r == NULL) {
        return true;
    }
    if (bev != NULL &&
        evbuffer_get_length(bufferevent_get_output(bev)) > LOGAPI_MAX_QUEUED) {
        return false; /* a slow reader: let it catch up */
    }
    if (agent_log_read(r->dir, r->task.log_start, f->next_off, LOGAPI_CHUNK,
                       &buf, &len, err, sizeof(err)) < 0) {
        log_warn("api", "task %s: follow: %s -> ended", f->id, err);
        return true;
    }
    if (f->next_off < r->task.log_start) {
        f->next_off = r->task.log_start; /* rotated away meanwhile */
    }
    f->next_off += len;
    if (len > 0 && (chunk = evbuffer_new()) != NULL) {
        evbuffer_add(chunk, buf, len);
        evhttp_send_reply_chunk(f->req, chunk);
        evbuffer_free(chunk);
    }
    free(buf);
    return len == 0 && agent_task_ended(&r->task);
}

static void logapi_follow_cb(evutil_socket_t fd, short what, void *arg)
{
    struct agent *a = arg;
    uint64_t now = clock_mono_ms();
    struct agent_follow *f = a->follows;

    (void)fd, (void)what;
    while (f != NULL) {
        struct agent_follow *next = f->next;

        if (logapi_pump(f) || now >= f->deadline_ms) {
            logapi_end_follow(f);
        }
        f = next;
    }
}

static void logapi_follow(struct agent *a, struct evhttp_request *req,
                          const struct agent_run *r, uint64_t from)
{
    struct timeval tv = {0, LOGAPI_POLL_MS * 1000};
    struct agent_follow *f;

    if (a->n_follows >= LOGAPI_MAX_FOLLOWS) {
        http_reply_error(req, 503, "too many log follows (%d)",
                         LOGAPI_MAX_FOLLOWS);
        return;
    }
    if (a->follow_ev == NULL) {
        a->follow_ev = event_new(a->base, -1, EV_PERSIST, logapi_follow_cb, a);
    }
    f = calloc(1, sizeof(*f));
    if (f == NULL || a->follow_ev == NULL) {
        free(f);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    f->a = a;
    f->req = req;
    f->conn = evhttp_request_get_connection(req);
    snprintf(f->id, sizeof(f->id), "%s", r->task.id);
    f->next_off = from;
    f->deadline_ms = clock_mono_ms() + LOGAPI_FOLLOW_MS;
    f->next = a->follows;
    a->follows = f;
    if (a->n_follows++ == 0) {
        event_add(a->follow_ev, &tv);
    }
    logapi_headers(req, r->task.log_start, logapi_end(r));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; charset=utf-8");
    evhttp_send_reply_start(req, 200, "OK");
    evhttp_connection_set_closecb(f->conn, logapi_close_cb, f);
    if (logapi_pump(f)) {
        logapi_end_follow(f);
    }
}

/* ------------------------------------------------------------------------
 * The handler.
 */

static void logapi_read(struct evhttp_request *req, const struct agent_run *r,
                        uint64_t from)
{
    uint64_t end = logapi_end(r);
    char err[300];
    char *buf;
    size_t len;

    if (agent_log_read(r->dir, r->task.log_start, from, LOGAPI_MAX_REPLY, &buf,
                       &len, err, sizeof(err)) < 0) {
        http_reply_error(req, 500, "task %s: %s", r->task.id, err);
        return;
    }
    logapi_headers(req, r->task.log_start, end);
    http_reply_text(req, 200, "text/plain; charset=utf-8", buf, len);
    free(buf);
}

void agent_logapi_handle(struct evhttp_request *req, void *arg)
{
    struct agent *a = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    char id[AGENT_TASK_ID_MAX + 2];
    struct logapi_query q;
    struct agent_run *r;
    uint64_t from;

    if (logapi_task_id(evhttp_uri_get_path(uri), id, sizeof(id)) < 0) {
        http_reply_error(req, 404, "no such path (GET /v1/tasks/ID/logs)");
        return;
    }
    if (!agent_task_id_ok(id)) {
        http_reply_error(req, 400, "bad task id \"%.64s\"", id);
        return;
    }
    r = agent_run_find(a, id);
    if (r == NULL) {
        http_reply_error(req, 404, "no task %s on this agent", id);
        return;
    }
    if (logapi_query(req, &q) < 0) {
        return;
    }
    from = agent_log_begin(q.offset, r->task.log_start, logapi_end(r));
    if (q.follow) {
        logapi_follow(a, req, r, from);
    } else {
        logapi_read(req, r, from);
    }
}

void agent_logapi_close(struct agent *a)
{
    while (a->follows != NULL) {
        logapi_end_follow(a->follows);
    }
    if (a->follow_ev != NULL) {
        event_free(a->follow_ev);
        a->follow_ev = NULL;
    }
}
