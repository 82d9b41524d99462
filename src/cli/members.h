/* members.h - the raft members and their roles, as the nodes report them.
 *
 * What `varde status` and `varde demo` show: each member's answer to
 * GET /v1/status (or why it did not answer), and the leader they point to.
 */
#ifndef VARDE_MEMBERS_H
#define VARDE_MEMBERS_H

#include <jansson.h>
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
    uint64_t last_log_index;
    bool has_last_log; /* the answer gave last_log_index */
    uint64_t leader;   /* the leader this member knows of; 0: none */
    int64_t lag;       /* entries behind the leader's log: 0 for the leader, -1
                          when not known (see members_refresh) */
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
 * member with the highest term. Then each member's lag: how many entries
 * the leader's log holds past the member's last_log_index (0 when none;
 * the answers come at about the same moment, not at one instant), or -1
 * when the member or the leader did not answer with one. Returns how
 * many members answered. */
size_t members_refresh(struct members *ms, int timeout_ms);

/* Add a member with ID and ADDR, kept sorted by id. Returns it, or NULL
 * when MS is full or ID is already there. */
struct member *members_add(struct members *ms, uint64_t id, const char *addr);

/* Find the member with ID; NULL when there is none. */
struct member *members_find(struct members *ms, uint64_t id);

/* Work out the leader of MS and each member's lag from the answers it
 * holds, as members_refresh does after asking. */
void members_settle(struct members *ms);

/* Print MS as a table ("*" on the leader, id, address, role, term, commit
 * index, lag: "-" where not known and for the leader), why each member
 * that did not answer did not, and a line "leader: N (term T)" or "no
 * leader known". COLOR adds ANSI colours. Returns 0, or -1 when out of
 * memory or F could not be written. */
int members_print(FILE *f, const struct members *ms, bool color);

/* MS as a new JSON object {"members": [{"id", "addr", "reachable", "role",
 * and "error" when it did not answer, else "term", "commit_index",
 * "applied_index", "last_log_index", "leader", "lag" (null when not
 * known)}], "leader": N|null, "term": T}; NULL when out of memory. */
json_t *members_to_json(const struct members *ms);

/* members_to_json(MS) as one line of text, malloc'd; NULL when out of
 * memory. */
char *members_json(const struct members *ms);

#endif
