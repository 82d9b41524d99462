/* agent_cgroup.h - cpu and memory limits for tasks through cgroup v2.
 *
 * When /sys/fs/cgroup is a cgroup2 mount that offers the cpu and memory
 * controllers and can be written, the agent makes a cgroup of its own,
 * /sys/fs/cgroup/varde-agent-NAME, enables both controllers for its
 * children (and in the root's cgroup.subtree_control when needed), and
 * gives each task a cgroup below it, named after the task, with cpu.max
 * (the job's cores as a quota per 100 ms period) and memory.max (its
 * memory_mb). The child joins it before its exec. When any of that is not
 * possible the agent says why once and runs tasks without limits.
 */
#ifndef VARDE_AGENT_CGROUP_H
#define VARDE_AGENT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_CGROUP_MOUNT "/sys/fs/cgroup"
#define AGENT_CGROUP_PERIOD_US 100000

struct agent_cgroup {
    bool on;        /* limits are applied */
    char dir[1024]; /* MOUNT/varde-agent-NAME, when on */
    char why[256];  /* when off: the reason */
};

/* Probe MOUNT and prepare the agent's own cgroup for agent NAME. Never
 * fails: CG->on says whether limits work, CG->why why not. */
void agent_cgroup_open(struct agent_cgroup *cg, const char *mount,
                       const char *name);

/* Create (or reuse) the cgroup of TASK with CPU_MILLI thousandths of a core
 * and MEMORY_MB MiB, and put the path of its cgroup.procs in PROCS.
 * Returns 0, or -1 with a reason in ERR. */
int agent_cgroup_create(const struct agent_cgroup *cg, const char *task,
                        uint64_t cpu_milli, uint64_t memory_mb, char *procs,
                        size_t procs_len, char *err, size_t errlen);

/* Remove TASK's cgroup (killing whatever is left in it). Returns 0 when
 * it is gone (or never was), -1 when it is still busy (retry later). */
int agent_cgroup_remove(const struct agent_cgroup *cg, const char *task);

/* Memory in use (memory.current, bytes) and cpu used (usage_usec of
 * cpu.stat) by TASK's cgroup. Returns 0, or -1 when unknown. */
int agent_cgroup_usage(const struct agent_cgroup *cg, const char *task,
                       uint64_t *memory_bytes, uint64_t *cpu_usec);

/* cpu.max for CPU_MILLI thousandths of a core: "QUOTA PERIOD", the quota
 * at least 1000 us. Pure. */
void agent_cgroup_cpu_max(uint64_t cpu_milli, char *buf, size_t len);

/* True when the space-separated list LIST names WORD. Pure. */
bool agent_cgroup_has_word(const char *list, const char *word);

#endif
