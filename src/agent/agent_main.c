/* agent_main.c - `varde agent`: flags, then the daemon until SIGTERM or
 * SIGINT. The tasks keep running when it exits. */
#include "agent/agent.h"

#include "agent/agent_int.h"
#include "agent/agent_sys.h"
#include "util/backoff.h"
#include "util/log.h"

/* Fill in the capacity flags left out with the machine's own. */
static int agent_capacity(struct agent_opts *o, char *err, size_t errlen)
{
    uint64_t cpu, mem;

    if (o->cpu_milli != 0 && o->memory_mb != 0) {
        return 0;
    }
    if (agent_sys_capacity(&cpu, &mem, err, errlen) < 0) {
        return -1;
    }
    o->cpu_milli = o->cpu_milli ? o->cpu_milli : cpu;
    o->memory_mb = o->memory_mb ? o->memory_mb : mem;
    return 0;
}

int agent_main(int argc, char **argv)
{
    static struct agent_opts opts;
    static struct agent a;
    char err[1024];
    int rc;

    rc = flags_exit(agent_flags_parse(argc, argv, &opts, err, sizeof(err)),
                    "agent", agent_flags_usage(), err);
    if (rc >= 0) {
        return rc;
    }
    if (agent_capacity(&opts, err, sizeof(err)) < 0) {
        return flags_exit(FLAGS_ERROR, "agent", NULL, err);
    }
    log_set_level(opts.log_level);
    log_hook_libevent();
    if (agent_open(&a, &opts, backoff_seed(), err, sizeof(err)) < 0) {
        log_error("agent", "cannot start: %s", err);
        agent_close(&a);
        return 1;
    }
    rc = agent_loop(&a);
    agent_close(&a);
    log_info("agent", "agent %s stopped (exit %d)", opts.name, rc);
    return rc;
}
