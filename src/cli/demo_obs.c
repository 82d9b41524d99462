/* demo_obs.c - what the fleet says over HTTP, and waiting for it.
 *
 * Every look is one short request (DEMO_ASK_MS) without retries: a wait
 * polls again soon anyway, and must never hang on a node that is gone.
 * The requests carry the token from VARDE_TOKEN, as every CLI call does.
 */
#include "cli/api.h"
#include "cli/demo_int.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OBS_LOG_TAIL "-1024" /* bytes of a task's output to look at */

int64_t demo_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* GET PATH from the nodes in LIST, in order: the body of a 200 in RES. */
static int obs_get(const char *list, const char *path, struct api_res *res)
{
    struct api_addrs addrs;
    struct api_req req = {
        .method = "GET", .path = path, .total_ms = DEMO_ASK_MS, .retry_ms = -1};
    char err[256];

    if (api_parse_addrs(list, &addrs, err, sizeof err) < 0) {
        memset(res, 0, sizeof *res);
        return -1;
    }
    if (api_call(&addrs, &req, res) < 0 || res->call.status != 200) {
        return -1;
    }
    return 0;
}

json_t *demo_get_at(const char *addr, const char *path)
{
    struct api_res res;
    json_t *j = NULL;

    if (obs_get(addr, path, &res) == 0) {
        j = api_json(&res);
    }
    api_res_clear(&res);
    return j;
}

json_t *demo_get_cluster(const struct demo *d, const char *path)
{
    return demo_get_at(d->raft_list, path);
}

static void obs_copy(char *dst, size_t len, json_t *s)
{
    snprintf(dst, len, "%s", json_is_string(s) ? json_string_value(s) : "");
}

/* The tasks of the job in the array TASKS into OUT. */
static void obs_tasks(json_t *tasks, struct demo_tasks *out)
{
    size_t i;
    json_t *t;

    out->n = 0;
    json_array_foreach(tasks, i, t)
    {
        struct demo_task *x = &out->t[out->n];
        json_t *job = json_object_get(t, "job");

        if (out->n >= DEMO_TASKS_MAX ||
            (job != NULL && !(json_is_string(job) &&
                              strcmp(json_string_value(job), DEMO_JOB) == 0))) {
            continue;
        }
        obs_copy(x->id, sizeof x->id, json_object_get(t, "id"));
        obs_copy(x->site, sizeof x->site, json_object_get(t, "site"));
        obs_copy(x->agent, sizeof x->agent, json_object_get(t, "agent"));
        obs_copy(x->state, sizeof x->state, json_object_get(t, "state"));
        x->pid = (long)json_integer_value(json_object_get(t, "pid"));
        out->n++;
    }
}

int demo_cluster_tasks(const struct demo *d, struct demo_tasks *out)
{
    json_t *j = demo_get_cluster(d, "/v1/tasks?job=" DEMO_JOB);

    out->n = 0;
    if (j == NULL) {
        return -1;
    }
    obs_tasks(json_object_get(j, "tasks"), out);
    json_decref(j);
    return 0;
}

int demo_site_tasks(const struct demo *d, int site, struct demo_tasks *out)
{
    json_t *j = demo_get_at(d->d[DEMO_RAFT + site].addr, "/v1/status");

    out->n = 0;
    if (j == NULL) {
        return -1;
    }
    obs_tasks(json_object_get(j, "tasks"), out);
    for (size_t i = 0; i < out->n; i++) {
        snprintf(out->t[i].site, sizeof out->t[i].site, "%s",
                 demo_site_name(site));
    }
    json_decref(j);
    return 0;
}

const struct demo_task *demo_task_find(const struct demo_tasks *ts,
                                       const char *id)
{
    for (size_t i = 0; i < ts->n; i++) {
        if (strcmp(ts->t[i].id, id) == 0) {
            return &ts->t[i];
        }
    }
    return NULL;
}

size_t demo_tasks_count(const struct demo_tasks *ts, const char *site,
                        const char *state)
{
    size_t n = 0;

    for (size_t i = 0; i < ts->n; i++) {
        n += (site == NULL || strcmp(ts->t[i].site, site) == 0) &&
             (state == NULL || strcmp(ts->t[i].state, state) == 0);
    }
    return n;
}

void demo_site_status(const struct demo *d, const char *name, char *buf,
                      size_t len)
{
    json_t *j = demo_get_cluster(d, "/v1/sites");
    size_t i;
    json_t *s;

    buf[0] = '\0';
    json_array_foreach(json_object_get(j, "sites"), i, s)
    {
        const char *n = json_string_value(json_object_get(s, "name"));

        if (n != NULL && strcmp(n, name) == 0) {
            obs_copy(buf, len, json_object_get(s, "status"));
        }
    }
    json_decref(j);
}

int demo_reading(const struct demo *d, const char *task, struct demo_reading *r)
{
    char path[160];
    json_t *j, *v = NULL;
    int rc = -1;

    snprintf(path, sizeof path, "/v1/kv/sensors/%s", task);
    j = demo_get_cluster(d, path);
    if (j != NULL && json_is_string(json_object_get(j, "value"))) {
        v = json_loads(json_string_value(json_object_get(j, "value")), 0, NULL);
    }
    if (v != NULL && json_is_number(json_object_get(v, "avg"))) {
        r->index =
            (uint64_t)json_integer_value(json_object_get(j, "modify_index"));
        r->avg = json_number_value(json_object_get(v, "avg"));
        r->n = (long)json_integer_value(json_object_get(v, "n"));
        rc = 0;
    }
    json_decref(v);
    json_decref(j);
    return rc;
}

int demo_task_last_line(const struct demo *d, int site, const char *id,
                        char *buf, size_t len)
{
    char path[160];
    struct api_res res;
    char *end, *start;
    int rc = -1;

    snprintf(path, sizeof path, "/v1/tasks/%s/logs?offset=" OBS_LOG_TAIL, id);
    buf[0] = '\0';
    if (obs_get(d->d[DEMO_RAFT + site].addr, path, &res) == 0 &&
        res.call.resp_body != NULL) {
        end = res.call.resp_body + res.call.resp_len;
        while (end > res.call.resp_body && (end[-1] == '\n')) {
            *--end = '\0';
        }
        start = strrchr(res.call.resp_body, '\n');
        api_clean(start != NULL ? start + 1 : res.call.resp_body, len, buf,
                  len);
        rc = 0;
    }
    api_res_clear(&res);
    return rc;
}

uint64_t demo_agreed_leader(struct demo *d)
{
    uint64_t leader = 0, term = 0;
    const struct member *lm = NULL;

    members_refresh(&d->ms, DEMO_ASK_MS / 4);
    for (size_t i = 0; i < d->ms.n; i++) {
        const struct member *m = &d->ms.m[i];
        bool leads = m->answered && strcmp(m->role, "leader") == 0;
        uint64_t says = leads ? m->id : m->leader;

        if (!demo_raft(d, m->id)->up) {
            continue;
        }
        if (!m->answered || says == 0 ||
            (leader != 0 && (says != leader || m->term != term))) {
            return 0;
        }
        leader = says;
        term = m->term;
        lm = leads ? m : lm;
    }
    return lm != NULL && lm->id == leader ? leader : 0;
}

int demo_wait(struct demo *d, demo_cond_fn cond, void *arg, int64_t start,
              int timeout_ms, const char *what, int64_t *took_ms)
{
    int64_t deadline = start + timeout_ms;

    d->seen[0] = '\0';
    for (;;) {
        bool ok;
        int64_t now;

        if (demo_signal != 0 || demo_fleet_check(d) < 0) {
            return -1;
        }
        ok = cond(d, arg);
        now = demo_now_ms();
        if (ok) {
            *took_ms = now - start;
            return 0;
        }
        if (now >= deadline) {
            fprintf(stderr, "varde demo: %s: did not happen within %d ms%s%s\n",
                    what, timeout_ms, d->seen[0] != '\0' ? "; last seen: " : "",
                    d->seen);
            return -1;
        }
        poll(NULL, 0, DEMO_POLL_MS);
    }
}
