/* agent_upstream.c - register, heartbeat, watch (agent_upstream.h).
 *
 * Two links carry the requests, one at a time each (transport/link.h): one
 * for register and heartbeats, one for the watch, which hangs for up to
 * 30 s. Every answer is handled in ups_step_cb(), outside libevent's
 * callbacks, so a handler may drop every connection.
 */
#include "agent/agent_upstream.h"

#include "agent/agent_watch.h"
#include "transport/http.h"
#include "transport/link.h"
#include "util/backoff.h"
#include "util/clock.h"
#include "util/log.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPS_SMALL_BODY (1u << 20)
#define UPS_WATCH_MIN_GAP_MS 1000 /* between unchanged early answers */
#define UPS_BAD_ANSWER_RETRY_MS 1000
#define UPS_PATH_MAX 256

static const char UPS_NAME_TAKEN[] = "another agent holds the name";
static const char UPS_NO_TOKEN[] =
    "the access token is missing or wrong (see --token-file)";

enum ups_phase { UPS_WAITING, UPS_REGISTERING, UPS_CONNECTED };
enum ups_call { UPS_REGISTER = 1, UPS_HEARTBEAT, UPS_WATCH };

struct agent_upstream {
    struct event_base *base;
    const struct agent_opts *opts;
    struct agent_upstream_cbs cb;
    enum ups_phase phase;
    struct link ctl, watch;
    struct event *step_ev, *retry_ev, *hb_ev, *watch_ev;
    struct backoff backoff;
    uint64_t rng;
    uint32_t heartbeat_ms; /* in use while connected */
    bool quiet;            /* a failure was logged: retry quietly */
    const char *refused;   /* why the last register was refused; NULL */
    bool ever;             /* registered once at least */
    uint64_t watch_index;  /* asked past, in flight */
    uint64_t watch_sent_ms;
    struct agent_upstream_stats st;
};

static void ups_path(const struct agent_upstream *u, char *buf,
                     const char *what)
{
    snprintf(buf, UPS_PATH_MAX, "/v1/agents/%s/%s", u->opts->name, what);
}

static void ups_drop_all(struct agent_upstream *u)
{
    link_cancel(&u->ctl);
    link_cancel(&u->watch);
    evtimer_del(u->hb_ev);
    evtimer_del(u->watch_ev);
    evtimer_del(u->retry_ev);
}

/* Start the backoff over, its steps bounded by AGENT_BACKOFF_MAX_HEARTBEATS
 * heartbeat intervals of HB_MS (agent_upstream.h says why). */
static void ups_backoff_init(struct agent_upstream *u, uint32_t hb_ms)
{
    uint64_t max = (uint64_t)hb_ms * AGENT_BACKOFF_MAX_HEARTBEATS;

    backoff_init(&u->backoff, AGENT_BACKOFF_MIN_MS,
                 max < AGENT_BACKOFF_MAX_MS ? (uint32_t)max
                                            : AGENT_BACKOFF_MAX_MS);
}

/* Drop everything and register again after the next backoff step. WHY
 * (formatted) is logged once; the retries after it stay quiet. REFUSED,
 * when not NULL, says what the operator must fix (a name taken, a token
 * missing): logged as an error, once until it changes. */
static void ups_wait(struct agent_upstream *u, const char *refused,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ups_wait(struct agent_upstream *u, const char *refused,
                     const char *fmt, ...)
{
    uint32_t ms = backoff_next(&u->backoff, backoff_rand_next(&u->rng));
    struct timeval tv = clock_tv(ms);
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (refused != NULL && refused != u->refused) {
        log_error("upstream",
                  "controller %s refuses agent %s: %s -> %s; retrying "
                  "quietly with backoff",
                  u->opts->controller.text, u->opts->name, why, refused);
    } else if (refused == NULL && !u->quiet) {
        log_warn("upstream",
                 "controller %s lost: %s -> tasks keep running; register "
                 "again in %u ms (retrying quietly until it answers)",
                 u->opts->controller.text, why, ms);
    } else {
        log_debug("upstream", "controller %s: %s -> retry in %u ms",
                  u->opts->controller.text, why, ms);
    }
    u->quiet = true;
    u->refused = refused;
    ups_drop_all(u);
    u->phase = UPS_WAITING;
    u->st.connected = false;
    evtimer_add(u->retry_ev, &tv);
}

static void ups_register(struct agent_upstream *u)
{
    char path[UPS_PATH_MAX];
    size_t len = 0;
    char *body = u->cb.register_body(u->cb.arg, &len);

    ups_drop_all(u);
    u->phase = UPS_REGISTERING;
    u->st.connected = false;
    ups_path(u, path, "register");
    link_send(&u->ctl, &u->opts->controller, UPS_REGISTER, 0, EVHTTP_REQ_POST,
              path, body ? body : "{}", body ? len : 2);
    free(body);
}

static void ups_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct agent_upstream *u = arg;

    (void)fd, (void)what;
    if (u->phase == UPS_WAITING) {
        ups_register(u);
    }
}

/* ------------------------------------------------------------------------
 * The watch.
 */

static void ups_watch(struct agent_upstream *u, uint64_t index)
{
    char path[UPS_PATH_MAX], what[64];

    snprintf(what, sizeof(what), "tasks?index=%llu&wait=%ds",
             (unsigned long long)index, AGENT_WATCH_WAIT_S);
    ups_path(u, path, what);
    u->watch_index = index;
    u->watch_sent_ms = clock_mono_ms();
    link_send(&u->watch, &u->opts->controller, UPS_WATCH, 0, EVHTTP_REQ_GET,
              path, NULL, 0);
}

static void ups_watch_cb(evutil_socket_t fd, short what, void *arg)
{
    struct agent_upstream *u = arg;

    (void)fd, (void)what;
    if (u->phase == UPS_CONNECTED && !link_busy(&u->watch)) {
        ups_watch(u, u->cb.index(u->cb.arg));
    }
}

/* Watch again past the owner's index now, or after a pause when the
 * answer came early without moving on (a controller that does not block
 * must not make the agent spin). */
static void ups_watch_next(struct agent_upstream *u)
{
    uint64_t index = u->cb.index(u->cb.arg);
    uint64_t took = clock_mono_ms() - u->watch_sent_ms;
    struct timeval tv;

    if (u->watch_index != 0 && index <= u->watch_index &&
        took < UPS_WATCH_MIN_GAP_MS) {
        tv = clock_tv(UPS_WATCH_MIN_GAP_MS - took);
        evtimer_add(u->watch_ev, &tv);
        return;
    }
    ups_watch(u, index);
}

static void ups_on_watch(struct agent_upstream *u, const struct link_result *r)
{
    struct timeval tv = clock_tv(UPS_BAD_ANSWER_RETRY_MS);
    char why[300];

    if (r->status == 200) {
        if (u->cb.tasks(u->cb.arg, r->body ? r->body : "", r->len) < 0) {
            evtimer_add(u->watch_ev, &tv);
            return;
        }
        u->st.watch_answers++;
        ups_watch_next(u);
        return;
    }
    link_describe(r, why, sizeof(why));
    if (r->status == 404) {
        log_info("upstream",
                 "controller %s: tasks watch: %s -> register agent %s again",
                 u->opts->controller.text, why, u->opts->name);
        ups_register(u);
        return;
    }
    ups_wait(u, NULL, "tasks watch: %s", why);
}

/* ------------------------------------------------------------------------
 * Register and heartbeat.
 */

static void ups_connected(struct agent_upstream *u, const char *body,
                          size_t len)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    json_t *hb = json_object_get(doc, "heartbeat_ms");
    uint32_t ms = u->opts->heartbeat_ms;
    struct timeval tv;

    if (json_is_integer(hb) && json_integer_value(hb) >= 10 &&
        json_integer_value(hb) < ms) {
        ms = (uint32_t)json_integer_value(hb);
    }
    json_decref(doc);
    u->heartbeat_ms = ms;
    u->phase = UPS_CONNECTED;
    u->st.connected = true;
    u->st.registers++;
    ups_backoff_init(u, ms);
    if (!u->ever || u->quiet) {
        log_info("upstream",
                 "registered agent %s with controller %s%s; heartbeat every "
                 "%u ms",
                 u->opts->name, u->opts->controller.text,
                 u->refused == UPS_NAME_TAKEN ? " (the name is free now)"
                 : u->ever                    ? " (controller found again)"
                                              : "",
                 ms);
    }
    u->ever = true;
    u->quiet = false;
    u->refused = NULL;
    tv = clock_tv(ms);
    evtimer_add(u->hb_ev, &tv);
    ups_watch(u, 0);
}

/* What a refusal of a register with STATUS asks of the operator, or NULL
 * when it is no refusal. */
static const char *ups_refusal(int status)
{
    switch (status) {
    case 409:
        return UPS_NAME_TAKEN;
    case 401:
    case 403:
        return UPS_NO_TOKEN;
    default:
        return NULL;
    }
}

static void ups_on_register(struct agent_upstream *u,
                            const struct link_result *r)
{
    char why[300];

    if (r->status == 200) {
        ups_connected(u, r->body ? r->body : "", r->len);
        return;
    }
    link_describe(r, why, sizeof(why));
    u->st.conflicts += r->status == 409;
    ups_wait(u, ups_refusal(r->status), "register: %s", why);
}

static void ups_heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
    struct agent_upstream *u = arg;
    struct timeval tv = clock_tv(u->heartbeat_ms);
    char path[UPS_PATH_MAX];
    size_t len = 0;
    char *body;

    (void)fd, (void)what;
    if (u->phase != UPS_CONNECTED) {
        return;
    }
    evtimer_add(u->hb_ev, &tv);
    if (link_busy(&u->ctl)) {
        return; /* the last one is still out: skip a beat */
    }
    body = u->cb.heartbeat_body(u->cb.arg, &len);
    if (body == NULL) {
        return;
    }
    ups_path(u, path, "heartbeat");
    link_send(&u->ctl, &u->opts->controller, UPS_HEARTBEAT, 0, EVHTTP_REQ_POST,
              path, body, len);
    free(body);
}

static void ups_on_heartbeat(struct agent_upstream *u,
                             const struct link_result *r)
{
    char why[300];

    if (r->status == 200) {
        u->st.heartbeats++;
        u->cb.heartbeat_ok(u->cb.arg);
        return;
    }
    u->st.heartbeat_failures++;
    link_describe(r, why, sizeof(why));
    if (r->status == 404) {
        log_info("upstream",
                 "controller %s: heartbeat: %s -> register agent %s again",
                 u->opts->controller.text, why, u->opts->name);
        ups_register(u);
        return;
    }
    ups_wait(u, NULL, "heartbeat: %s", why);
}

/* ------------------------------------------------------------------------
 * The loop.
 */

static void ups_take(struct agent_upstream *u, struct link *l)
{
    struct link_result r;

    if (!link_take(l, &r)) {
        return;
    }
    switch (r.call) {
    case UPS_REGISTER:
        ups_on_register(u, &r);
        break;
    case UPS_HEARTBEAT:
        ups_on_heartbeat(u, &r);
        break;
    case UPS_WATCH:
        ups_on_watch(u, &r);
        break;
    }
    free(r.body);
}

static void ups_step_cb(evutil_socket_t fd, short what, void *arg)
{
    struct agent_upstream *u = arg;

    (void)fd, (void)what;
    ups_take(u, &u->ctl);
    ups_take(u, &u->watch);
}

struct agent_upstream *agent_upstream_new(struct event_base *base,
                                          const struct agent_opts *opts,
                                          const struct agent_upstream_cbs *cbs,
                                          uint64_t seed)
{
    struct agent_upstream *u = calloc(1, sizeof(*u));

    if (u == NULL) {
        return NULL;
    }
    u->base = base;
    u->opts = opts;
    u->cb = *cbs;
    u->rng = seed;
    u->heartbeat_ms = opts->heartbeat_ms;
    ups_backoff_init(u, opts->heartbeat_ms);
    u->step_ev = event_new(base, -1, 0, ups_step_cb, u);
    u->retry_ev = evtimer_new(base, ups_retry_cb, u);
    u->hb_ev = evtimer_new(base, ups_heartbeat_cb, u);
    u->watch_ev = evtimer_new(base, ups_watch_cb, u);
    if (u->step_ev == NULL || u->retry_ev == NULL || u->hb_ev == NULL ||
        u->watch_ev == NULL) {
        agent_upstream_free(u);
        return NULL;
    }
    link_init(&u->ctl, base, opts->listen.host, AGENT_CALL_TIMEOUT_MS,
              UPS_SMALL_BODY, u->step_ev);
    link_init(&u->watch, base, opts->listen.host, AGENT_WATCH_TIMEOUT_MS,
              AGENT_WATCH_MAX_BODY, u->step_ev);
    return u;
}

void agent_upstream_start(struct agent_upstream *u)
{
    ups_register(u);
}

void agent_upstream_stats(const struct agent_upstream *u,
                          struct agent_upstream_stats *out)
{
    *out = u->st;
}

static void ups_free_event(struct event *ev)
{
    if (ev != NULL) {
        event_free(ev);
    }
}

void agent_upstream_free(struct agent_upstream *u)
{
    if (u == NULL) {
        return;
    }
    link_cancel(&u->ctl);
    link_cancel(&u->watch);
    ups_free_event(u->step_ev);
    ups_free_event(u->retry_ev);
    ups_free_event(u->hb_ev);
    ups_free_event(u->watch_ev);
    free(u);
}
