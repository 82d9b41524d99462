/* peers.h - the cluster membership given by --peers "1=HOST:PORT,2=...". */
#ifndef VARDE_PEERS_H
#define VARDE_PEERS_H

#include "util/addr.h"

#include <stddef.h>
#include <stdint.h>

#define PEERS_MIN 3
#define PEERS_MAX 5
#define PEERS_ID_MAX INT64_MAX /* ids travel as JSON integers */

struct peer_addr {
    uint64_t id;
    struct addr addr;
};

/* Every member of the cluster, this node included, sorted by id. */
struct peers {
    size_t n;
    struct peer_addr node[PEERS_MAX];
};

/* Parse SPEC, a comma-separated list of ID=HOST:PORT with PEERS_MIN to
 * PEERS_MAX members, ids positive integers, no id and no address twice.
 * Returns 0, or -1 with a one-line reason in ERR; *OUT is zeroed on error. */
int peers_parse(const char *spec, struct peers *out, char *err, size_t errlen);

/* Parse a node id: a decimal integer 1..PEERS_ID_MAX, nothing else.
 * Returns 0, or -1 with a one-line reason in ERR. */
int peers_parse_id(const char *s, uint64_t *out, char *err, size_t errlen);

/* The address of member ID, or NULL when ID is not a member. */
const struct addr *peers_find(const struct peers *p, uint64_t id);

/* Check that ID is a member. Returns 0, or -1 with a one-line reason. */
int peers_check_member(const struct peers *p, uint64_t id, char *err,
                       size_t errlen);

/* Write the canonical list "1=127.0.0.1:7101,2=..." into BUF (LEN bytes,
 * truncated if short, always NUL-terminated when LEN > 0). */
void peers_format(const struct peers *p, char *buf, size_t len);

#endif
