/* demo_net.h - a /24 of loopback addresses claimed for one demo.
 *
 * Every daemon of the demo's fleet binds its own loopback address, so that
 * nftables rules can cut exactly the links between two of them. The demo
 * claims a whole 127.X.Y.0/24 with an flock on a file named after it, in
 * the directory the cluster tests use for the same purpose
 * (tests/cluster/cluster.py, NetClaim: $TMPDIR/varde-test-nets, or /tmp),
 * so that neither a second demo nor a test run ever takes the same
 * addresses. The kernel drops the lock when the process dies, so a demo
 * that crashed leaves no claim behind.
 */
#ifndef VARDE_DEMO_NET_H
#define VARDE_DEMO_NET_H

#include <stddef.h>

#define DEMO_NET_PREFIX_MAX 16 /* "127.254.255" and its NUL */

struct demo_net {
    char prefix[DEMO_NET_PREFIX_MAX]; /* "127.71.0" */
    char path[512];                   /* the lock file */
    int fd;                           /* holds the flock; -1: none */
};

/* Claim the first free /24 from 127.71.0.0/24 on (X in 1..254, Y in
 * 0..255, in the order of NetClaim's numbering), trying at most a few
 * hundred. Returns 0 with the claim in NET, or -1 with a one-line reason
 * in ERR. */
int demo_net_claim(struct demo_net *net, char *err, size_t errlen);

/* The address 127.X.Y.LAST of the claimed /24 into BUF. */
void demo_net_host(const struct demo_net *net, int last, char *buf, size_t len);

/* Give the claim up: unlink the lock file while still holding it, then
 * close it. Safe to call twice, and on a NET never claimed (fd -1). */
void demo_net_release(struct demo_net *net);

#endif
