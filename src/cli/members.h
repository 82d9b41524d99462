/* members.h - the raft members and their roles, as the nodes report them.
 *
 * What `varde status` and `varde demo` show: each member's answer to
 * GET /v1/status (or why it did not answer), and the leader they point to.
 */
#ifndef VARDE_MEMBERS_H
#define VARDE_MEMBERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define MEMBERS_MAX 16

struct member {
    uint64_t id;
    char addr[128];
    bool answered; /* false: error says why */
    char error[256];
    char role[24]; /* "leader", "follower", ... as the node names it */
    uint64_t term;
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t leader; /* the leader this member knows of; 0: none */
};

struct members {
    size_t n;
    struct member m[MEMBERS_MAX]; /* sorted by id */
    uint64_t leader;              /* see members_refresh(); 0: none known */
    uint64_t term;                /* the leader's term */
};

/* Ask the node at ADDR for its status (within ASK_MS), then every peer it
 * lists, all at once (each within PEER_MS), and fill OUT. An unreachable
 * peer is a member that did not answer, not a failure. Returns 0 when the
 * node at ADDR answered; -1 with a one-line message in ERR when it did not
 * (OUT is then empty). */
int members_fetch(const char *addr, int ask_ms, int peer_ms,
                  struct members *out, char *err, size_t err_len);

/* Ask every member of MS (id and addr set) for its status again, all at
 * once, each within TIMEOUT_MS, and work out the leader: the member that
 * says it leads in the highest term; failing that, the leader named by the
 * member with the highest term. Returns how many members answered. */
size_t members_refresh(struct members *ms, int timeout_ms);

/* Add a member with ID and ADDR, kept sorted by id. Returns it, or NULL
 * when MS is full or ID is already there. */
struct member *members_add(struct members *ms, uint64_t id, const char *addr);

/* Find the member with ID; NULL when there is none. */
struct member *members_find(struct members *ms, uint64_t id);

/* Print MS as a table (id, address, role, term, commit index, "*" on the
 * leader) and a line "leader: N (term T)" or "no leader known". COLOR adds
 * ANSI colours. */
void members_print(FILE *f, const struct members *ms, bool color);

/* MS as {"members":[...],"leader":N|null,"term":T}, one line, malloc'd;
 * NULL when out of memory. */
char *members_json(const struct members *ms);

#endif
