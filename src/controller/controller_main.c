/* controller_main.c - `varde controller`: flags, then the daemon until it
 * stops. */
#include "controller/controller.h"

#include "controller/ctl_int.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Fill in the capacity flags left out with the machine's own. */
static int controller_capacity(struct ctl_opts *o, char *err, size_t errlen)
{
    uint64_t cpu, mem;

    if (o->cpu_milli != 0 && o->memory_mb != 0) {
        return 0;
    }
    if (ctl_machine_capacity(&cpu, &mem, err, errlen) < 0) {
        return -1;
    }
    o->cpu_milli = o->cpu_milli ? o->cpu_milli : cpu;
    o->memory_mb = o->memory_mb ? o->memory_mb : mem;
    return 0;
}

static uint64_t controller_seed(void)
{
    uint64_t seed;
    struct timespec ts;

    if (getrandom(&seed, sizeof(seed), 0) == (ssize_t)sizeof(seed)) {
        return seed;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
}

int controller_main(int argc, char **argv)
{
    static struct ctl_opts opts;
    static struct ctl c;
    char err[512];
    int rc;

    switch (ctl_flags_parse(argc, argv, &opts, err, sizeof(err))) {
    case CTL_FLAGS_HELP:
        fputs(ctl_flags_usage(), stdout);
        return 0;
    case CTL_FLAGS_ERROR:
        fprintf(stderr, "varde controller: %s\n", err);
        return 2;
    case CTL_FLAGS_OK:
        break;
    }
    if (controller_capacity(&opts, err, sizeof(err)) < 0) {
        fprintf(stderr, "varde controller: %s\n", err);
        return 2;
    }
    log_set_level(opts.log_level);
    log_hook_libevent();
    if (ctl_open(&c, &opts, controller_seed(), err, sizeof(err)) < 0) {
        log_error("controller", "cannot start: %s", err);
        ctl_close(&c);
        return 1;
    }
    rc = ctl_run(&c);
    ctl_close(&c);
    log_info("controller", "site %s stopped (exit %d)", opts.site, rc);
    return rc;
}
