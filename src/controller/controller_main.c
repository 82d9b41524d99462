/* controller_main.c - `varde controller`: flags, then the daemon until it
 * stops. */
#include "controller/controller.h"

#include "controller/ctl_int.h"
#include "util/backoff.h"
#include "util/log.h"

#include <stdio.h>

int controller_main(int argc, char **argv)
{
    static struct ctl_opts opts;
    static struct ctl c;
    char err[512];
    int rc;

    switch (ctl_flags_parse(argc, argv, &opts, err, sizeof(err))) {
    case FLAGS_HELP:
        fputs(ctl_flags_usage(), stdout);
        return 0;
    case FLAGS_ERROR:
        fprintf(stderr, "varde controller: %s\n", err);
        return 2;
    case FLAGS_OK:
        break;
    }
    log_set_level(opts.log_level);
    log_hook_libevent();
    if (ctl_open(&c, &opts, backoff_seed(), err, sizeof(err)) < 0) {
        log_error("controller", "cannot start: %s", err);
        ctl_close(&c);
        return 1;
    }
    rc = ctl_run(&c);
    ctl_close(&c);
    log_info("controller", "site %s stopped (exit %d)", opts.site, rc);
    return rc;
}
