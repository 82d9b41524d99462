/* demo_cut.c - the tour's third step: a site cut off from the raft nodes.
 *
 * nftables drops every packet between oslo-1's controller and the raft
 * nodes (demo_nft.c). The demo waits for the cluster to mark the site
 * silent (after the site TTL) and its tasks unknown, asks the site's
 * controller directly that the same processes still run, and waits for a
 * task's kv write to fail (its last line of output, read through the
 * controller). Then it heals the link and waits for the site to be
 * connected again with the same tasks on the same pids, and for a task's
 * key to be written again.
 */
#include "cli/demo_int.h"

#include <stdio.h>
#include <string.h>

#define CUT_SILENT_MS (DEMO_SITE_TTL_MS + 7000)
#define CUT_FAIL_MS 20000  /* a task's kv write fails, from the cut */
#define CUT_BACK_MS 20000  /* the site connected again */
#define CUT_WRITE_MS 10000 /* a task writes again */
#define CUT_SITE 0         /* oslo-1 */

static const char *const status_args[] = {"status", NULL};

struct cut {
    struct demo_tasks before; /* the site's tasks before the cut */
    uint64_t index;           /* sensors/FIRST's modify index at the heal */
    struct demo_reading now;
    char line[200]; /* a failed write, as the task wrote it */
};

static bool site_silent(struct demo *d, void *arg)
{
    struct cut *c = arg;
    struct demo_tasks ts;
    char st[32];

    demo_site_status(d, demo_site_name(CUT_SITE), st, sizeof st);
    if (demo_cluster_tasks(d, &ts) < 0) {
        return false;
    }
    snprintf(d->seen, sizeof d->seen, "site %s: %s, %zu tasks unknown",
             demo_site_name(CUT_SITE), st[0] ? st : "?",
             demo_tasks_count(&ts, demo_site_name(CUT_SITE), "unknown"));
    return strcmp(st, "silent") == 0 &&
           demo_tasks_count(&ts, demo_site_name(CUT_SITE), "unknown") ==
               c->before.n;
}

/* Whether every task of BEFORE is in NOW, running with the same pid on
 * the same agent, and alive. */
static bool same_tasks(struct demo *d, const struct demo_tasks *before,
                       const struct demo_tasks *now)
{
    for (size_t i = 0; i < before->n; i++) {
        const struct demo_task *b = &before->t[i];
        const struct demo_task *t = demo_task_find(now, b->id);

        if (t == NULL || t->pid != b->pid || strcmp(t->state, "running") != 0 ||
            strcmp(t->agent, b->agent) != 0 || !demo_pid_alive(b->pid)) {
            snprintf(d->seen, sizeof d->seen, "%s: %s, pid %ld", b->id,
                     t != NULL ? t->state : "gone", t != NULL ? t->pid : 0L);
            return false;
        }
    }
    return true;
}

static bool site_runs_on(struct demo *d, void *arg)
{
    struct cut *c = arg;
    struct demo_tasks ts;

    return demo_site_tasks(d, CUT_SITE, &ts) == 0 &&
           same_tasks(d, &c->before, &ts);
}

static bool write_failed(struct demo *d, void *arg)
{
    struct cut *c = arg;

    for (size_t i = 0; i < c->before.n; i++) {
        if (demo_task_last_line(d, CUT_SITE, c->before.t[i].id, c->line,
                                sizeof c->line) == 0 &&
            strstr(c->line, "kv write failed") != NULL) {
            return true;
        }
    }
    snprintf(d->seen, sizeof d->seen, "the last line: %s", c->line);
    return false;
}

static bool site_back(struct demo *d, void *arg)
{
    struct cut *c = arg;
    struct demo_tasks ts;
    char st[32];

    demo_site_status(d, demo_site_name(CUT_SITE), st, sizeof st);
    snprintf(d->seen, sizeof d->seen, "site %s: %s", demo_site_name(CUT_SITE),
             st[0] ? st : "?");
    return strcmp(st, "connected") == 0 && demo_cluster_tasks(d, &ts) == 0 &&
           same_tasks(d, &c->before, &ts);
}

static bool writes_again(struct demo *d, void *arg)
{
    struct cut *c = arg;

    return demo_reading(d, c->before.t[0].id, &c->now) == 0 &&
           c->now.index > c->index;
}

/* The site's running tasks, before the cut, into C. */
static int cut_prepare(struct demo *d, struct cut *c)
{
    struct demo_tasks all;

    memset(c, 0, sizeof *c);
    if (demo_cluster_tasks(d, &all) < 0) {
        fprintf(stderr, "varde demo: no raft node answered\n");
        return -1;
    }
    for (size_t i = 0; i < all.n; i++) {
        if (strcmp(all.t[i].site, demo_site_name(CUT_SITE)) == 0) {
            c->before.t[c->before.n++] = all.t[i];
        }
    }
    if (c->before.n == 0) {
        fprintf(stderr, "varde demo: no task runs on site %s\n",
                demo_site_name(CUT_SITE));
        return -1;
    }
    return 0;
}

static void cut_say_pids(const struct demo *d, const struct cut *c)
{
    char list[400];
    size_t off = 0;

    list[0] = '\0';
    for (size_t i = 0; i < c->before.n && off < sizeof list; i++) {
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s (pid %ld)",
                                i == 0 ? "" : ", ", c->before.t[i].id,
                                c->before.t[i].pid);
    }
    demo_saw(d, "asked directly, %s still runs %s: the same processes",
             demo_site_name(CUT_SITE), list);
}

static int cut_heal(struct demo *d, struct cut *c)
{
    struct demo_reading r = {0};
    int64_t start, took;
    char t[32], err[600];

    demo_reading(d, c->before.t[0].id, &r);
    c->index = r.index;
    demo_act(d, "heal the link (delete the table)");
    start = demo_now_ms();
    if (demo_nft_heal(d, err, sizeof err) < 0) {
        fprintf(stderr, "varde demo: %s\n", err);
        return -1;
    }
    if (demo_wait(d, site_back, c, start, CUT_BACK_MS,
                  "the site connected again, its tasks as they were",
                  &took) < 0) {
        return -1;
    }
    demo_saw(d,
             "%s is connected again, its tasks running with the same "
             "pids: nothing was restarted (%s after the heal)",
             demo_site_name(CUT_SITE), demo_ms(took, t, sizeof t));
    if (demo_wait(d, writes_again, c, start, CUT_WRITE_MS,
                  "the site's tasks writing to the kv store again",
                  &took) < 0) {
        return -1;
    }
    demo_saw(d,
             "sensors/%s is written again: avg %.2f over %ld readings "
             "(%s after the heal)",
             c->before.t[0].id, c->now.avg, c->now.n,
             demo_ms(took, t, sizeof t));
    return 0;
}

int demo_tour_cut(struct demo *d)
{
    const char *site = demo_site_name(CUT_SITE);
    struct cut c;
    int64_t start, took;
    char t[32], err[600];

    demo_heading(d, "3. A site is cut off");
    demo_say(d,
             "Edge links fail. Cut %s off from the raft nodes. The cluster "
             "cannot tell a site that is cut off from one that crashed: "
             "after the site TTL (%d s) without a heartbeat it marks the "
             "site silent and its tasks unknown, and replaces nothing yet "
             "(this job would move them after 30 s). The site keeps running "
             "what it runs.",
             site, DEMO_SITE_TTL_MS / 1000);
    if (!d->nft_ok) {
        demo_say(d, "Skipped: %s.", d->nft_why);
        return 0;
    }
    if (cut_prepare(d, &c) < 0) {
        return -1;
    }
    demo_act(d,
             "cut: nftables drops every packet between %s (%s's "
             "controller) and the three raft nodes (the rules: "
             "%s/cut.nft)",
             demo_ctl(d, CUT_SITE)->host, site, d->dir);
    start = demo_now_ms();
    if (demo_nft_cut(d, CUT_SITE, err, sizeof err) < 0) {
        fprintf(stderr, "varde demo: %s\n", err);
        return -1;
    }
    if (demo_wait(d, site_silent, &c, start, CUT_SILENT_MS,
                  "the cut-off site marked silent", &took) < 0) {
        return -1;
    }
    demo_saw(d,
             "the cluster marks %s silent and its %zu tasks unknown: %s "
             "after the cut",
             site, c.before.n, demo_ms(took, t, sizeof t));
    if (demo_wait(d, site_runs_on, &c, demo_now_ms(), DEMO_ASK_MS * 3,
                  "the site's tasks running on, the same processes",
                  &took) < 0) {
        return -1;
    }
    cut_say_pids(d, &c);
    if (demo_wait(d, write_failed, &c, start, CUT_FAIL_MS,
                  "a task's kv write failing", &took) < 0) {
        return -1;
    }
    demo_saw(d,
             "but their kv writes fail, the cluster being out of reach: "
             "\"%s\" (%s after the cut)",
             c.line, demo_ms(took, t, sizeof t));
    if (cut_heal(d, &c) < 0) {
        return -1;
    }
    demo_run_varde(d, status_args);
    return 0;
}
