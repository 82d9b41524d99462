/* ctl_upstream.c - follow the raft leader; register, heartbeat, watch,
 * report (ctl_upstream.h).
 *
 * Four kinds of link carry the requests, each one request at a time
 * (transport/link.h): a probe per --raft address (GET /v1/status), one for
 * register and heartbeats, one for the assignments watch (it hangs up to
 * 30 s) and one for report batches (never two in flight). Every answer is
 * handled in ups_step_cb(), outside libevent's callbacks, so a handler may
 * drop every connection when the leader is lost.
 */
#include "controller/ctl_upstream.h"

#include "transport/http.h"
#include "transport/link.h"
#include "util/backoff.h"
#include "util/clock.h"
#include "util/log.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPS_SMALL_BODY (1u << 20)
#define UPS_WATCH_MIN_GAP_MS 1000 /* between unchanged early answers */
#define UPS_PATH_MAX 256

enum ups_phase { UPS_WAITING, UPS_FINDING, UPS_REGISTERING, UPS_CONNECTED };

enum ups_call {
    UPS_STATUS = 1,
    UPS_REGISTER,
    UPS_HEARTBEAT,
    UPS_WATCH,
    UPS_REPORTS,
    UPS_REREGISTER, /* a register while connected: the capacity changed */
};

enum { UPS_LINK_CTL, UPS_LINK_WATCH, UPS_LINK_REPORT, UPS_LINK_PROBE };

#define UPS_LINKS (UPS_LINK_PROBE + CTL_RAFT_MAX)

struct ctl_upstream {
    struct event_base *base;
    const struct ctl_opts *opts;
    struct ctl_upstream_cbs cb;
    enum ups_phase phase;
    struct addr leader; /* the leader we talk to, when has_leader */
    bool has_leader;
    struct addr last_leader; /* the last one adopted, when had_leader */
    bool had_leader;
    struct link links[UPS_LINKS];
    size_t n_links;
    size_t probing, answered; /* probes out, and answered, in FINDING */
    struct event *step_ev, *retry_ev, *hb_ev, *watch_ev;
    struct backoff backoff;
    uint64_t rng;
    unsigned hops;                 /* leader hints followed in a row */
    bool quiet;                    /* a failure was logged: retry quietly */
    uint64_t watch_sent_ms;        /* when the watch in flight was sent */
    size_t report_count;           /* reports in the batch in flight */
    uint64_t cpu_milli, memory_mb; /* the capacity offered */
    bool reregister; /* the capacity changed: register at the next beat */
    struct ctl_upstream_stats st;
};

static void ups_path(const struct ctl_upstream *u, char *buf, const char *what)
{
    snprintf(buf, UPS_PATH_MAX, "/v1/sites/%s/%s", u->opts->site, what);
}

/* ------------------------------------------------------------------------
 * Losing the leader, waiting, finding it.
 */

static void ups_drop_all(struct ctl_upstream *u)
{
    for (size_t i = 0; i < u->n_links; i++) {
        link_cancel(&u->links[i]);
    }
    evtimer_del(u->hb_ev);
    evtimer_del(u->watch_ev);
    u->probing = 0;
}

/* Drop everything and retry after the next backoff step; WHY (formatted)
 * says what happened. Logged once, then quietly until connected. */
static void ups_wait(struct ctl_upstream *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ups_wait(struct ctl_upstream *u, const char *fmt, ...)
{
    uint32_t ms = backoff_next(&u->backoff, backoff_rand_next(&u->rng));
    struct timeval tv = clock_tv(ms);
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    http_printable(why);
    if (!u->quiet) {
        log_warn("upstream",
                 "%s -> find the leader again in %u ms (retrying quietly "
                 "until one answers)",
                 why, ms);
    } else {
        log_debug("upstream", "%s -> retry in %u ms", why, ms);
    }
    u->quiet = true;
    ups_drop_all(u);
    u->phase = UPS_WAITING;
    u->has_leader = false;
    u->st.connected = false;
    evtimer_add(u->retry_ev, &tv);
}

static void ups_find(struct ctl_upstream *u)
{
    u->phase = UPS_FINDING;
    u->probing = u->opts->n_raft;
    u->answered = 0;
    for (size_t i = 0; i < u->opts->n_raft; i++) {
        link_send(&u->links[UPS_LINK_PROBE + i], &u->opts->raft[i], UPS_STATUS,
                  i, EVHTTP_REQ_GET, "/v1/status", NULL, 0);
    }
}

static void ups_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ctl_upstream *u = arg;

    (void)fd, (void)what;
    if (u->phase == UPS_WAITING) {
        ups_find(u);
    }
}

/* The leader a GET /v1/status answer names: its id and address. */
static int ups_leader_of(const char *body, size_t len, uint64_t *id,
                         struct addr *out)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    json_t *leader = json_object_get(doc, "leader");
    const char *text = NULL;
    char key[24], err[128];
    int rc = -1;

    if (json_is_integer(leader) && json_integer_value(leader) > 0) {
        *id = (uint64_t)json_integer_value(leader);
        snprintf(key, sizeof(key), "%llu", (unsigned long long)*id);
        text = json_string_value(json_object_get(
            json_object_get(json_object_get(doc, "peers"), key), "addr"));
    }
    if (text != NULL && addr_parse(text, out, err, sizeof(err)) == 0) {
        rc = 0;
    }
    json_decref(doc);
    return rc;
}

static void ups_register(struct ctl_upstream *u);

/* Talk to the leader at ADDR from now on; HOW (formatted) says who named
 * it. */
static void ups_adopt(struct ctl_upstream *u, const struct addr *addr,
                      const char *how)
{
    for (size_t i = 0; i < u->n_links; i++) {
        link_cancel(&u->links[i]);
    }
    evtimer_del(u->hb_ev);
    evtimer_del(u->watch_ev);
    u->probing = 0;
    if (!u->had_leader || !addr_equal(&u->last_leader, addr)) {
        u->st.leader_changes++;
        log_info("upstream", "leader is %s (%s)%s%s", addr->text, how,
                 u->had_leader ? ", was " : "",
                 u->had_leader ? u->last_leader.text : "");
    }
    u->leader = *addr;
    u->last_leader = *addr;
    u->has_leader = u->had_leader = true;
    ups_register(u);
}

static void ups_on_status(struct ctl_upstream *u, const struct link_result *r)
{
    const struct addr *asked = &u->opts->raft[r->tag];
    struct addr leader;
    uint64_t id;
    char how[128];

    if (u->phase != UPS_FINDING) {
        return;
    }
    u->probing--;
    u->answered += r->status == 200;
    if (r->status == 200 && ups_leader_of(r->body, r->len, &id, &leader) == 0) {
        snprintf(how, sizeof(how), "node %llu, named by %s",
                 (unsigned long long)id, asked->text);
        ups_adopt(u, &leader, how);
        return;
    }
    if (u->probing == 0) {
        ups_wait(u, "no raft node names a leader (%zu of %zu answered)",
                 u->answered, u->opts->n_raft);
    }
}

/* ------------------------------------------------------------------------
 * Answers that are not a success.
 */

/* The leader a 503 "not the leader" names; -1 when it names none. */
static int ups_hint(const struct link_result *r, struct addr *out)
{
    json_t *doc = json_loadb(r->body, r->len, 0, NULL);
    const char *text = json_string_value(json_object_get(doc, "leader"));
    char err[128];
    int rc = text ? addr_parse(text, out, err, sizeof(err)) : -1;

    json_decref(doc);
    return rc;
}

/* What to do after WHAT (a call to the leader) failed as R says: follow a
 * leader hint, register again, or wait and find the leader again. */
static void ups_refused(struct ctl_upstream *u, const char *what,
                        const struct link_result *r)
{
    struct addr hint;
    char why[300], how[128];

    link_describe(r, why, sizeof(why));
    if (r->status == 503 && ups_hint(r, &hint) == 0 &&
        !addr_equal(&hint, &u->leader) && u->hops < CTL_MAX_HINT_HOPS) {
        u->hops++;
        snprintf(how, sizeof(how), "named by %s, no longer the leader",
                 u->leader.text);
        ups_adopt(u, &hint, how);
        return;
    }
    if (r->status == 404 && r->call != UPS_REGISTER) {
        log_info("upstream", "leader %s: %s: %s -> register site %s again",
                 u->leader.text, what, why, u->opts->site);
        link_cancel(&u->links[UPS_LINK_WATCH]);
        link_cancel(&u->links[UPS_LINK_REPORT]);
        evtimer_del(u->watch_ev);
        ups_register(u);
        return;
    }
    ups_wait(u, "leader %s: %s: %s", u->leader.text, what, why);
}

/* ------------------------------------------------------------------------
 * Register and heartbeat.
 */

/* The register body: labels, capacity, our address. NULL out of memory. */
static char *ups_register_body(const struct ctl_upstream *u)
{
    const struct ctl_opts *o = u->opts;
    json_t *labels = json_object();
    json_t *doc;
    char *text;

    for (size_t i = 0; labels != NULL && i < o->n_labels; i++) {
        json_object_set_new(labels, o->labels[i].key,
                            json_string(o->labels[i].value));
    }
    doc = json_pack("{s:o*,s:f,s:I,s:s}", "labels", labels, "cpu",
                    (double)u->cpu_milli / 1000.0, "memory_mb",
                    (json_int_t)u->memory_mb, "controller", o->listen.text);
    text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(doc);
    return text;
}

/* Send a register as CALL (UPS_REGISTER or UPS_REREGISTER). */
static void ups_send_register(struct ctl_upstream *u, int call)
{
    char path[UPS_PATH_MAX];
    char *body = ups_register_body(u);

    u->reregister = false;
    ups_path(u, path, "register");
    link_send(&u->links[UPS_LINK_CTL], &u->leader, call, 0, EVHTTP_REQ_POST,
              path, body ? body : "{}", body ? strlen(body) : 2);
    free(body);
}

static void ups_register(struct ctl_upstream *u)
{
    u->phase = UPS_REGISTERING;
    u->st.connected = false;
    ups_send_register(u, UPS_REGISTER);
}

/* DOC.KEY as an integer 0..2^53 in *OUT; -1 when it is not one. */
static int ups_get_uint(const json_t *doc, const char *key, uint64_t *out)
{
    const json_t *v = json_object_get(doc, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (1ll << 53)) {
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static void ups_watch(struct ctl_upstream *u, uint64_t index);
static void ups_kick(struct ctl_upstream *u);

static void ups_connected(struct ctl_upstream *u, const json_t *doc,
                          uint64_t report_seq)
{
    uint64_t ttl = 0, hb = 0;
    struct timeval tv = clock_tv(u->opts->heartbeat_ms);

    ups_get_uint(doc, "ttl_ms", &ttl);
    ups_get_uint(doc, "heartbeat_ms", &hb);
    u->phase = UPS_CONNECTED;
    u->st.connected = true;
    u->st.registers++;
    u->hops = 0;
    u->quiet = false;
    backoff_reset(&u->backoff);
    log_info("upstream",
             "registered site %s with leader %s: it has applied report "
             "batches up to %llu; heartbeat every %u ms (the cluster expects "
             "%llu ms, declares a site silent after %llu ms)",
             u->opts->site, u->leader.text, (unsigned long long)report_seq,
             u->opts->heartbeat_ms, (unsigned long long)hb,
             (unsigned long long)ttl);
    if (ttl > 0 && u->opts->heartbeat_ms * 2ull > ttl) {
        log_warn("upstream",
                 "heartbeat every %u ms is over half the cluster's ttl of "
                 "%llu ms -> the site may be declared silent while up",
                 u->opts->heartbeat_ms, (unsigned long long)ttl);
    }
    /* A leader that stops answering (paused, cut off) must be given up
     * well inside the TTL, or the new leader declares this site silent
     * while it still waits on the old one: half the TTL, at most the
     * usual call timeout. */
    if (ttl > 0) {
        uint64_t ms =
            ttl / 2 < CTL_CALL_TIMEOUT_MS ? ttl / 2 : CTL_CALL_TIMEOUT_MS;

        link_set_timeout(&u->links[UPS_LINK_CTL],
                         (unsigned)(ms < CTL_CALL_MIN_TIMEOUT_MS
                                        ? CTL_CALL_MIN_TIMEOUT_MS
                                        : ms));
    }
    u->cb.report_seq(u->cb.arg, report_seq);
    evtimer_add(u->hb_ev, &tv);
    ups_watch(u, 0);
    ups_kick(u);
}

static void ups_on_register(struct ctl_upstream *u, const struct link_result *r)
{
    json_t *doc =
        r->status == 200 ? json_loadb(r->body, r->len, 0, NULL) : NULL;
    uint64_t seq;

    if (doc != NULL && ups_get_uint(doc, "report_seq", &seq) == 0) {
        ups_connected(u, doc, seq);
    } else if (r->status == 200) {
        ups_wait(u, "leader %s: register: an answer without report_seq",
                 u->leader.text);
    } else {
        ups_refused(u, "register", r);
    }
    json_decref(doc);
}

static void ups_heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ctl_upstream *u = arg;
    char path[UPS_PATH_MAX];

    (void)fd, (void)what;
    if (u->phase != UPS_CONNECTED) {
        return;
    }
    if (!link_busy(&u->links[UPS_LINK_CTL]) && u->reregister) {
        ups_send_register(u, UPS_REREGISTER);
    } else if (!link_busy(&u->links[UPS_LINK_CTL])) {
        char *body = u->cb.heartbeat_body(u->cb.arg);

        ups_path(u, path, "heartbeat");
        link_send(&u->links[UPS_LINK_CTL], &u->leader, UPS_HEARTBEAT, 0,
                  EVHTTP_REQ_POST, path, body ? body : "{}",
                  body ? strlen(body) : 2);
        free(body);
    }
    ups_kick(u); /* a batch that could not be saved is tried again */
}

/* The answer to a register sent while connected (the capacity changed). */
static void ups_on_reregister(struct ctl_upstream *u,
                              const struct link_result *r)
{
    json_t *doc =
        r->status == 200 ? json_loadb(r->body, r->len, 0, NULL) : NULL;
    uint64_t seq;

    if (u->phase != UPS_CONNECTED) {
        json_decref(doc);
        return;
    }
    if (doc != NULL && ups_get_uint(doc, "report_seq", &seq) == 0) {
        log_info("upstream",
                 "site %s registered again with %llu.%03llu cores, %llu MiB",
                 u->opts->site, (unsigned long long)(u->cpu_milli / 1000),
                 (unsigned long long)(u->cpu_milli % 1000),
                 (unsigned long long)u->memory_mb);
        u->cb.report_seq(u->cb.arg, seq);
    } else {
        u->st.heartbeat_failures++;
        u->reregister = true;
        ups_refused(u, "register", r);
    }
    json_decref(doc);
}

static void ups_on_heartbeat(struct ctl_upstream *u,
                             const struct link_result *r)
{
    json_t *doc =
        r->status == 200 ? json_loadb(r->body, r->len, 0, NULL) : NULL;
    uint64_t seq;

    if (u->phase != UPS_CONNECTED) {
        json_decref(doc);
        return;
    }
    if (r->status == 200) {
        if (ups_get_uint(doc, "report_seq", &seq) == 0) {
            u->cb.report_seq(u->cb.arg, seq);
        }
        json_decref(doc);
        return;
    }
    u->st.heartbeat_failures++;
    ups_refused(u, "heartbeat", r);
}

/* ------------------------------------------------------------------------
 * The assignments watch.
 */

/* Watch for changes past INDEX; 0 asks for the assignments at once (the
 * reconcile after a register). */
static void ups_watch(struct ctl_upstream *u, uint64_t index)
{
    char path[UPS_PATH_MAX], what[96];

    snprintf(what, sizeof(what), "assignments?index=%llu&wait=%ds",
             (unsigned long long)index, CTL_WATCH_WAIT_S);
    ups_path(u, path, what);
    u->watch_sent_ms = clock_mono_ms();
    link_send(&u->links[UPS_LINK_WATCH], &u->leader, UPS_WATCH, index,
              EVHTTP_REQ_GET, path, NULL, 0);
}

/* The next watch, past the index held. A site whose assignments never
 * changed is at index 0, which would be answered at once: it waits past
 * 1 instead, which is no loss, as log index 1 is the first leader's no-op
 * and a site's assignments change only after it registered. */
static void ups_watch_next(struct ctl_upstream *u)
{
    uint64_t index = u->cb.index(u->cb.arg);

    ups_watch(u, index > 0 ? index : 1);
}

static void ups_watch_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ctl_upstream *u = arg;

    (void)fd, (void)what;
    if (u->phase == UPS_CONNECTED && !link_busy(&u->links[UPS_LINK_WATCH])) {
        ups_watch_next(u);
    }
}

static void ups_on_watch(struct ctl_upstream *u, const struct link_result *r)
{
    uint64_t before = u->cb.index(u->cb.arg);
    struct timeval tv = clock_tv(UPS_WATCH_MIN_GAP_MS);

    if (u->phase != UPS_CONNECTED) {
        return;
    }
    if (r->status != 200) {
        ups_refused(u, "assignments", r);
        return;
    }
    if (u->cb.assignments(u->cb.arg, r->body, r->len) < 0) {
        ups_wait(u,
                 "leader %s: assignments: an answer this controller cannot "
                 "read",
                 u->leader.text);
        return;
    }
    ups_kick(u); /* the change may have made reports */
    if (r->tag != 0 && u->cb.index(u->cb.arg) == before &&
        clock_mono_ms() - u->watch_sent_ms < UPS_WATCH_MIN_GAP_MS) {
        evtimer_add(u->watch_ev, &tv); /* it did not wait: do not spin */
        return;
    }
    ups_watch_next(u);
}

/* ------------------------------------------------------------------------
 * Report batches.
 */

static void ups_kick(struct ctl_upstream *u)
{
    const json_t *batch;
    json_t *doc;
    char *body;
    char path[UPS_PATH_MAX];
    uint64_t seq;

    if (u->phase != UPS_CONNECTED || link_busy(&u->links[UPS_LINK_REPORT])) {
        return;
    }
    batch = u->cb.next_batch(u->cb.arg, &seq);
    if (batch == NULL) {
        return;
    }
    doc = json_pack("{s:I,s:O}", "seq", (json_int_t)seq, "tasks",
                    (json_t *)batch);
    body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (body == NULL) {
        log_error("upstream", "report batch %llu: out of memory -> retry",
                  (unsigned long long)seq);
        return;
    }
    ups_path(u, path, "reports");
    u->report_count = json_array_size(batch);
    u->st.batches_sent++;
    u->st.report_seq_sent = seq;
    link_send(&u->links[UPS_LINK_REPORT], &u->leader, UPS_REPORTS, seq,
              EVHTTP_REQ_POST, path, body, strlen(body));
    free(body);
}

static void ups_on_reports_ok(struct ctl_upstream *u,
                              const struct link_result *r, const json_t *doc)
{
    uint64_t applied_to;

    if (ups_get_uint(doc, "report_seq", &applied_to) < 0) {
        ups_wait(u, "leader %s: reports: an answer without report_seq",
                 u->leader.text);
        return;
    }
    log_info("upstream",
             "report batch %llu (%zu tasks) %s by the cluster (it has "
             "applied up to %llu)",
             (unsigned long long)r->tag, u->report_count,
             json_is_false(json_object_get(doc, "applied"))
                 ? "was applied already"
                 : "applied",
             (unsigned long long)applied_to);
    u->cb.report_seq(u->cb.arg, applied_to);
    if (applied_to < r->tag) {
        ups_wait(u,
                 "leader %s: reports: batch %llu answered with report_seq "
                 "%llu",
                 u->leader.text, (unsigned long long)r->tag,
                 (unsigned long long)applied_to);
        return;
    }
    ups_kick(u);
}

static void ups_on_reports(struct ctl_upstream *u, const struct link_result *r)
{
    json_t *doc =
        r->status == 200 ? json_loadb(r->body, r->len, 0, NULL) : NULL;
    char why[300];

    if (u->phase != UPS_CONNECTED) {
        json_decref(doc);
        return;
    }
    if (r->status == 200) {
        ups_on_reports_ok(u, r, doc);
    } else if (r->status == 400 || r->status == 413) {
        link_describe(r, why, sizeof(why));
        log_error("upstream",
                  "leader %s refused report batch %llu (%zu tasks): %s -> "
                  "drop it",
                  u->leader.text, (unsigned long long)r->tag, u->report_count,
                  why);
        u->cb.batch_refused(u->cb.arg, r->tag, why);
        ups_kick(u);
    } else {
        ups_refused(u, "reports", r);
    }
    json_decref(doc);
}

/* ------------------------------------------------------------------------
 * The step: every recorded answer, outside libevent's callbacks.
 */

static void ups_dispatch(struct ctl_upstream *u, const struct link_result *r)
{
    switch (r->call) {
    case UPS_STATUS:
        ups_on_status(u, r);
        break;
    case UPS_REGISTER:
        if (u->phase == UPS_REGISTERING) {
            ups_on_register(u, r);
        }
        break;
    case UPS_HEARTBEAT:
        ups_on_heartbeat(u, r);
        break;
    case UPS_WATCH:
        ups_on_watch(u, r);
        break;
    case UPS_REPORTS:
        ups_on_reports(u, r);
        break;
    case UPS_REREGISTER:
        ups_on_reregister(u, r);
        break;
    }
}

static void ups_step_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ctl_upstream *u = arg;
    struct link_result r;

    (void)fd, (void)what;
    for (size_t i = 0; i < u->n_links; i++) {
        if (link_take(&u->links[i], &r)) {
            ups_dispatch(u, &r);
            free(r.body);
        }
    }
}

/* ------------------------------------------------------------------------
 * Setup and teardown.
 */

struct ctl_upstream *ctl_upstream_new(struct event_base *base,
                                      const struct ctl_opts *opts,
                                      const struct ctl_upstream_cbs *cbs,
                                      uint64_t seed)
{
    struct ctl_upstream *u = calloc(1, sizeof(*u));

    if (u == NULL) {
        return NULL;
    }
    u->base = base;
    u->opts = opts;
    u->cb = *cbs;
    u->rng = seed;
    backoff_init(&u->backoff, CTL_BACKOFF_MIN_MS, CTL_BACKOFF_MAX_MS);
    u->step_ev = event_new(base, -1, 0, ups_step_cb, u);
    u->retry_ev = evtimer_new(base, ups_retry_cb, u);
    u->hb_ev = event_new(base, -1, EV_PERSIST, ups_heartbeat_cb, u);
    u->watch_ev = evtimer_new(base, ups_watch_cb, u);
    if (!u->step_ev || !u->retry_ev || !u->hb_ev || !u->watch_ev) {
        ctl_upstream_free(u);
        return NULL;
    }
    u->n_links = UPS_LINK_PROBE + opts->n_raft;
    link_init(&u->links[UPS_LINK_CTL], base, opts->listen.host,
              CTL_CALL_TIMEOUT_MS, UPS_SMALL_BODY, u->step_ev);
    link_init(&u->links[UPS_LINK_WATCH], base, opts->listen.host,
              (CTL_WATCH_WAIT_S + 15) * 1000, CTL_WATCH_MAX_BODY, u->step_ev);
    link_init(&u->links[UPS_LINK_REPORT], base, opts->listen.host,
              CTL_REPORT_TIMEOUT_MS, UPS_SMALL_BODY, u->step_ev);
    for (size_t i = 0; i < opts->n_raft; i++) {
        link_init(&u->links[UPS_LINK_PROBE + i], base, opts->listen.host,
                  CTL_PROBE_TIMEOUT_MS, UPS_SMALL_BODY, u->step_ev);
    }
    return u;
}

void ctl_upstream_set_capacity(struct ctl_upstream *u, uint64_t cpu_milli,
                               uint64_t memory_mb)
{
    if (u->cpu_milli == cpu_milli && u->memory_mb == memory_mb) {
        return;
    }
    u->cpu_milli = cpu_milli;
    u->memory_mb = memory_mb;
    /* Even while a register is in flight: it carries the old capacity.
     * The next register sent, whatever its phase, clears it. */
    u->reregister = true;
}

void ctl_upstream_start(struct ctl_upstream *u)
{
    ups_find(u);
}

void ctl_upstream_kick(struct ctl_upstream *u)
{
    ups_kick(u);
}

void ctl_upstream_stats(const struct ctl_upstream *u,
                        struct ctl_upstream_stats *out)
{
    *out = u->st;
    snprintf(out->leader, sizeof(out->leader), "%s",
             u->has_leader ? u->leader.text : "");
}

void ctl_upstream_free(struct ctl_upstream *u)
{
    if (u == NULL) {
        return;
    }
    for (size_t i = 0; i < u->n_links; i++) {
        link_cancel(&u->links[i]);
    }
    if (u->step_ev != NULL) {
        event_free(u->step_ev);
    }
    if (u->retry_ev != NULL) {
        event_free(u->retry_ev);
    }
    if (u->hb_ev != NULL) {
        event_free(u->hb_ev);
    }
    if (u->watch_ev != NULL) {
        event_free(u->watch_ev);
    }
    free(u);
}
