/* node_main.c - `varde raft`: flags, then the daemon until it stops. */
#include "node/node.h"

#include "node/node_int.h"
#include "util/log.h"

#include <malloc.h>

_Static_assert(PEERS_MIN == RAFT_MIN_NODES && PEERS_MAX == RAFT_MAX_NODES,
               "--peers bounds must match the core's");

int node_main(int argc, char **argv)
{
    struct node_opts opts;
    struct node n;
    char err[512];
    int rc;

    rc = flags_exit(node_flags_parse(argc, argv, &opts, err, sizeof(err)),
                    "raft", node_flags_usage(), err);
    if (rc >= 0) {
        return rc;
    }
    /* Big buffers (snapshots, request bodies) come from mmap and go back
     * to the system when freed; glibc would otherwise raise the threshold
     * after the first one and keep them in the heap. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    log_set_level(opts.log_level);
    log_hook_libevent();
    if (node_open(&n, &opts, err, sizeof(err)) < 0) {
        log_error("node", "cannot start: %s", err);
        node_close(&n);
        return 1;
    }
    rc = node_run(&n);
    node_close(&n);
    log_info("node", "node %llu stopped (exit %d)", (unsigned long long)opts.id,
             rc);
    return rc;
}
