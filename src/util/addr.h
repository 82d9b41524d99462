/* addr.h - HOST:PORT addresses as the daemons take them on the command line.
 *
 * Accepted hosts: an IPv4 address in dotted form ("127.0.0.11"), "localhost"
 * (taken as 127.0.0.1, never looked up), or an IPv6 address in brackets
 * ("[::1]"). Ports are 1-65535. Names that need DNS are refused: a daemon
 * must not block its event loop on a resolver, and an operator should see
 * exactly which address a node binds.
 */
#ifndef VARDE_ADDR_H
#define VARDE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_HOST_MAX 46 /* INET6_ADDRSTRLEN */
#define ADDR_TEXT_MAX 56 /* "[" host "]:" port NUL */

struct addr {
    int family;               /* AF_INET or AF_INET6 */
    char host[ADDR_HOST_MAX]; /* numeric, no brackets: "127.0.0.1", "::1" */
    uint16_t port;
    char text[ADDR_TEXT_MAX]; /* canonical: "127.0.0.1:7101", "[::1]:7101" */
};

/* Parse S as HOST:PORT into *OUT. Returns 0, or -1 with a one-line reason
 * naming S in ERR (ERRLEN bytes); *OUT is zeroed on error. */
int addr_parse(const char *s, struct addr *out, char *err, size_t errlen);

/* True when A and B name the same host and port. */
bool addr_equal(const struct addr *a, const struct addr *b);

#endif
