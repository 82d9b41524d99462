/* controller_main.c - `varde controller`: flags, then the daemon until it
 * stops. */
#include "controller/controller.h"

#include "controller/ctl_int.h"
#include "util/backoff.h"
#include "util/log.h"

int controller_main(int argc, char **argv)
{
    static struct ctl_opts opts;
    static struct ctl c;
    char err[512];
    int rc;

    rc = flags_exit(ctl_flags_parse(argc, argv, &opts, err, sizeof(err)),
                    "controller", ctl_flags_usage(), err);
    if (rc >= 0) {
        return rc;
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
