/* demo_int.h - what the files of `varde demo` share: the fleet and the tour.
 *
 *   demo.c        flags, the order of things, Ctrl-C, the clean stop
 *   demo_fleet.c  the fleet: addresses, data dir, token, daemons
 *   demo_procs.c  the tasks' processes, found through /proc
 *   demo_nft.c    cutting a site off with nftables, and healing it
 *   demo_obs.c    what the fleet says over HTTP, and waiting for it
 *   demo_say.c    what the demo prints
 *   demo_start.c  the fleet coming up, the job, its values
 *   demo_tour.c   the tour: the leader and an agent killed
 *   demo_cut.c    the tour: a site cut off
 *
 * The fleet: three raft nodes, two sites (a controller each) of two agents
 * each, every daemon on its own address of a loopback /24 the demo claims
 * (demo_net.h):
 *
 *   raft-1..3     127.X.Y.11..13   port BASE..BASE+2     (BASE: 7101)
 *   oslo-1        127.X.Y.21       port BASE+100
 *   bergen-2      127.X.Y.22       port BASE+101
 *   agents        127.X.Y.31..34   port BASE+200..203    (oslo-1-a, -b,
 *                                                        bergen-2-a, -b)
 *
 * Data in DIR/NAME/, each daemon's output in DIR/NAME.log, the access
 * token in DIR/token (mode 600).
 */
#ifndef VARDE_DEMO_INT_H
#define VARDE_DEMO_INT_H

#include "cli/demo_net.h"
#include "cli/localnode.h"
#include "cli/members.h"

#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#define DEMO_RAFT 3
#define DEMO_SITES 2
#define DEMO_PER_SITE 2 /* agents */
#define DEMO_AGENTS (DEMO_SITES * DEMO_PER_SITE)
#define DEMO_DAEMONS (DEMO_RAFT + DEMO_SITES + DEMO_AGENTS)
#define DEMO_PORT_SPAN 204 /* BASE to BASE+203 */

#define DEMO_JOB "sensor-average"
#define DEMO_JOB_FILE "examples/jobs/sensor-average.json"
#define DEMO_TASKS 4
#define DEMO_TASKS_MAX 16 /* a job's tasks as the demo reads them */

#define DEMO_SITE_TTL_MS 3000  /* --site-ttl of the raft nodes */
#define DEMO_AGENT_TTL_MS 2000 /* --agent-ttl of the controllers */
#define DEMO_POLL_MS 50        /* between two looks at the fleet */
#define DEMO_ASK_MS 1000       /* one look */

enum demo_kind {
    DEMO_KIND_RAFT,
    DEMO_KIND_CONTROLLER,
    DEMO_KIND_AGENT,
};

struct demo_daemon {
    enum demo_kind kind;
    char name[24]; /* "raft-1", "oslo-1", "oslo-1-a" */
    char host[24]; /* its own loopback address */
    int port;      /* the port it listens on */
    char addr[48]; /* HOST:PORT */
    int site;      /* a controller's or agent's site: 0 or 1 */
    uint64_t id;   /* a raft node's id: 1 to 3 */
    bool up;       /* started, and not stopped on purpose */
    char dir[PATH_MAX];
    struct localnode proc;
};

/* One task as the cluster or a controller reports it. */
struct demo_task {
    char id[80];
    char site[72];
    char agent[72];
    char state[16];
    long pid; /* 0: none */
};

struct demo_tasks {
    size_t n;
    struct demo_task t[DEMO_TASKS_MAX];
};

struct demo {
    /* from the command line */
    bool tour;
    bool exit_after;
    bool color;
    int base_port;
    char dir[PATH_MAX - 64];
    bool dir_is_ours; /* made by mkdtemp: removed after a clean run */
    bool started;     /* daemons were started */

    /* the fleet */
    struct demo_net net;
    struct demo_daemon d[DEMO_DAEMONS];
    char peers[512];     /* --peers of the raft nodes */
    char raft_list[256]; /* their addresses, comma-separated */
    char token[72];
    char token_file[PATH_MAX];
    char job_file[PATH_MAX];
    bool job_submitted;
    char first_task[80]; /* the job's first task: "sensor-average.0" */

    /* cutting links */
    bool nft_ok;
    char nft_why[200];  /* why not, when !nft_ok */
    char nft_table[64]; /* varde_demo_127_X_Y */
    char nft_path[PATH_MAX];
    bool cut_active;

    /* the tour */
    struct members ms;
    uint64_t leader;
    int64_t started_ms;
    char seen[512]; /* what a wait saw last, for its failure message */
};

/* ------------------------------------------------------------------
 * demo_fleet.c */

/* Claim the addresses, lay out the nine daemons and check that each can
 * listen where it will. Returns 0, or -1 after one line on stderr. */
int demo_fleet_layout(struct demo *d);

/* Make the data dir (or take the one given), a dir per daemon, and the
 * token file. Returns 0, or -1 after one line on stderr. */
int demo_fleet_prepare(struct demo *d);

/* The daemon of raft node ID (1..3), of site S's controller, of agent K
 * (0, 1) of site S. */
struct demo_daemon *demo_raft(struct demo *d, uint64_t id);
struct demo_daemon *demo_ctl(struct demo *d, int site);
struct demo_daemon *demo_agent(struct demo *d, int site, int k);

/* The daemon named NAME, or NULL. */
struct demo_daemon *demo_daemon_named(struct demo *d, const char *name);

/* Site S's name: "oslo-1", "bergen-2". */
const char *demo_site_name(int site);

/* Start (or restart) daemon X. Returns 0, or -1 after one line on
 * stderr. */
int demo_daemon_start(struct demo *d, struct demo_daemon *x);

/* kill -9 daemon X and reap it. Returns its pid. */
pid_t demo_daemon_kill(struct demo_daemon *x);

/* -1 after one line on stderr when a daemon that should run has exited
 * (how, and the last line of its log); else 0. */
int demo_fleet_check(struct demo *d);

/* SIGTERM every daemon, SIGKILL after a grace period, reap them all.
 * Returns how many were running. */
size_t demo_fleet_stop(struct demo *d);

/* ------------------------------------------------------------------
 * demo_procs.c */

/* Whether process PID exists and is not a zombie. */
bool demo_pid_alive(long pid);

/* How many processes run tasks of the demo's fleet: processes whose
 * environment names one of its controllers (VARDE_CONTROLLER). */
size_t demo_task_procs(struct demo *d);

/* Kill every such process by its process group: SIGTERM, then SIGKILL
 * after GRACE_MS. Returns how many there were. */
size_t demo_task_procs_kill(struct demo *d, int grace_ms);

/* ------------------------------------------------------------------
 * demo_nft.c */

/* Find out whether links can be cut here (root, nft, a usable nftables),
 * into d->nft_ok and d->nft_why; remove a table of this /24 left by a
 * demo that was killed. */
void demo_nft_probe(struct demo *d);

/* Drop every packet between the controller of SITE and the raft nodes, in
 * a table of the demo's own. Returns 0, or -1 with a reason in ERR. */
int demo_nft_cut(struct demo *d, int site, char *err, size_t errlen);

/* Delete the demo's table, if it made one. Returns 0, or -1 with a reason
 * in ERR. */
int demo_nft_heal(struct demo *d, char *err, size_t errlen);

/* ------------------------------------------------------------------
 * demo_obs.c */

/* GET PATH from the raft cluster (its nodes in order, no retries) or from
 * ADDR: the JSON object of a 200 answer (a new reference), or NULL. */
json_t *demo_get_cluster(const struct demo *d, const char *path);
json_t *demo_get_at(const char *addr, const char *path);

/* The job's tasks, as the cluster knows them. 0, or -1 when no node
 * answered. */
int demo_cluster_tasks(const struct demo *d, struct demo_tasks *out);

/* The tasks the controller of SITE holds, asked directly. 0 or -1. */
int demo_site_tasks(const struct demo *d, int site, struct demo_tasks *out);

/* The first task in TS with ID, or NULL. */
const struct demo_task *demo_task_find(const struct demo_tasks *ts,
                                       const char *id);

/* How many tasks of TS are on SITE (NULL: any) in STATE (NULL: any). */
size_t demo_tasks_count(const struct demo_tasks *ts, const char *site,
                        const char *state);

/* Site NAME's status as the cluster says it ("connected", "silent"), into
 * BUF; "" when no node answered. */
void demo_site_status(const struct demo *d, const char *name, char *buf,
                      size_t len);

/* The value of sensors/TASK: its modify index, the average, the number
 * of readings. 0, or -1 when it cannot be read. */
struct demo_reading {
    uint64_t index;
    double avg;
    long n;
};
int demo_reading(const struct demo *d, const char *task,
                 struct demo_reading *r);

/* The last line task ID wrote, read through the controller of SITE, into
 * BUF. 0, or -1 when it cannot be read. */
int demo_task_last_line(const struct demo *d, int site, const char *id,
                        char *buf, size_t len);

/* A condition a wait polls: true when it holds. It may say what it saw
 * in d->seen. */
typedef bool (*demo_cond_fn)(struct demo *d, void *arg);

/* Poll COND every DEMO_POLL_MS until it holds, at most until TIMEOUT_MS
 * after START (CLOCK_MONOTONIC ms). Returns 0 with the time since START in
 * *TOOK_MS; -1 after one line on stderr when WHAT did not happen in time,
 * a daemon died, or a signal came. */
int demo_wait(struct demo *d, demo_cond_fn cond, void *arg, int64_t start,
              int timeout_ms, const char *what, int64_t *took_ms);

/* Ask every raft node for its status; the leader all running ones agree
 * on (all answer, name the same leader in one term, and it says it leads),
 * or 0. */
uint64_t demo_agreed_leader(struct demo *d);

/* Now, in ms of CLOCK_MONOTONIC. */
int64_t demo_now_ms(void);

/* Set by the signal handler: SIGINT, SIGTERM or SIGHUP came. */
extern volatile sig_atomic_t demo_signal;

/* ------------------------------------------------------------------
 * demo_say.c */

/* A heading, "== TITLE", bold on a terminal, after a blank line. */
void demo_heading(const struct demo *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A paragraph, wrapped to the terminal's 80 columns. */
void demo_say(const struct demo *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* What the demo does now: "  > TEXT", wrapped. */
void demo_act(const struct demo *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* What happened: "  -> TEXT", wrapped, green on a terminal. */
void demo_saw(const struct demo *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* MS as "312 ms" or "2.3 s", into BUF. Returns BUF. */
const char *demo_ms(int64_t ms, char *buf, size_t len);

/* Print "$ varde ARGS..." and run it (from /proc/self/exe, with the
 * demo's VARDE_ADDR and VARDE_TOKEN), its output straight to ours, for at
 * most 30 s. Returns its exit status, or -1. */
int demo_run_varde(const struct demo *d, const char *const args[]);

/* The commands to explore the fleet with, and the exports they need. */
void demo_explore_help(const struct demo *d);

/* ------------------------------------------------------------------
 * demo_start.c and demo_tour.c */

/* Find examples/jobs/sensor-average.json beside the binary (or a few dirs
 * up) or in the current dir, into d->job_file. 0, or -1 after one line on
 * stderr. */
int demo_find_job(struct demo *d);

/* Start the daemons and wait until the raft nodes agree on a leader and
 * both sites are registered with both their agents. 0 or -1. */
int demo_start_fleet(struct demo *d);

/* Submit the job and wait until its tasks run; with the tour, show the
 * values they write changing. 0 or -1. */
int demo_start_job(struct demo *d);

/* The three faults. 0, or -1 when a step did not happen in time. */
int demo_tour(struct demo *d);

/* The third: a site cut off from the raft nodes, and healed (demo_cut.c).
 * Skipped, and said so, when links cannot be cut here. 0 or -1. */
int demo_tour_cut(struct demo *d);

#endif
