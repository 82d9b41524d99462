/* sim_msg.c - copying and describing Raft messages.
 *
 * A copy is one allocation: a struct wire (the message, then what the
 * driver adds), then the entry array, then every entry's data bytes, with
 * the pointers aimed inside the block. The message comes first, so a
 * pointer to it is a pointer to the block. */
#include "sim_msg.h"

#include "sim_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct wire {
    struct raft_msg m; /* first: the block's address */
    struct sim_snap snap;
    uint64_t epoch;
};

static size_t entry_count(const struct raft_msg *m)
{
    return m->type == RAFT_MSG_APPEND ? m->u.append.n_entries : 0;
}

struct raft_msg *sim_msg_copy(const struct raft_msg *m)
{
    size_t n = entry_count(m);
    size_t data = 0;
    struct wire *w;
    struct raft_msg *c;
    struct raft_entry *ents;
    uint8_t *bytes;

    for (size_t i = 0; i < n; i++) {
        data += m->u.append.entries[i].len;
    }
    w = sim_xcalloc(1, sizeof *w + n * sizeof *ents + data);
    c = &w->m;
    *c = *m;
    if (n == 0) {
        if (c->type == RAFT_MSG_APPEND) {
            c->u.append.entries = NULL;
        }
        return c;
    }

    ents = (struct raft_entry *)(w + 1);
    bytes = (uint8_t *)(ents + n);
    for (size_t i = 0; i < n; i++) {
        const struct raft_entry *e = &m->u.append.entries[i];

        ents[i] = *e;
        ents[i].data = e->len ? bytes : NULL;
        if (e->len) {
            memcpy(bytes, e->data, e->len);
        }
        bytes += e->len;
    }
    c->u.append.entries = ents;
    return c;
}

struct sim_snap *sim_msg_snap(struct raft_msg *m)
{
    return &((struct wire *)m)->snap;
}

uint64_t *sim_msg_epoch(struct raft_msg *m)
{
    return &((struct wire *)m)->epoch;
}

bool sim_msg_is_prevote(const struct raft_msg *m)
{
    if (m->type == RAFT_MSG_VOTE) {
        return m->u.vote.prevote;
    }
    if (m->type == RAFT_MSG_VOTE_RESULT) {
        return m->u.vote_result.prevote;
    }
    return false;
}

static void describe_append_result(const struct raft_msg *m, char *buf,
                                   size_t len)
{
    const struct raft_append_result *r = &m->u.append_result;

    if (r->success) {
        snprintf(buf, len,
                 "append-ok %" PRIu64 "->%" PRIu64 " t%" PRIu64
                 " match %" PRIu64,
                 m->from, m->to, m->term, r->match_index);
        return;
    }
    snprintf(buf, len,
             "append-reject %" PRIu64 "->%" PRIu64 " t%" PRIu64 " hint %" PRIu64
             "/%" PRIu64,
             m->from, m->to, m->term, r->conflict_index, r->conflict_term);
}

const char *sim_msg_describe(const struct raft_msg *m, char *buf, size_t len)
{
    const struct raft_vote *v = &m->u.vote;
    const struct raft_append *a = &m->u.append;

    switch (m->type) {
    case RAFT_MSG_VOTE:
        snprintf(buf, len,
                 "vote%s%s %" PRIu64 "->%" PRIu64 " t%" PRIu64 " log %" PRIu64
                 "/%" PRIu64,
                 v->prevote ? "(pre)" : "", v->transfer ? "(transfer)" : "",
                 m->from, m->to, m->term, v->last_log_index, v->last_log_term);
        break;
    case RAFT_MSG_VOTE_RESULT:
        snprintf(buf, len, "vote-%s%s %" PRIu64 "->%" PRIu64 " t%" PRIu64,
                 m->u.vote_result.granted ? "granted" : "rejected",
                 m->u.vote_result.prevote ? "(pre)" : "", m->from, m->to,
                 m->term);
        break;
    case RAFT_MSG_APPEND:
        snprintf(buf, len,
                 "append %" PRIu64 "->%" PRIu64 " t%" PRIu64 " prev %" PRIu64
                 "/%" PRIu64 " n %zu commit %" PRIu64,
                 m->from, m->to, m->term, a->prev_log_index, a->prev_log_term,
                 a->n_entries, a->leader_commit);
        break;
    case RAFT_MSG_APPEND_RESULT:
        describe_append_result(m, buf, len);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        snprintf(buf, len, "timeout-now %" PRIu64 "->%" PRIu64 " t%" PRIu64,
                 m->from, m->to, m->term);
        break;
    case RAFT_MSG_SNAPSHOT:
        snprintf(buf, len,
                 "snapshot %" PRIu64 "->%" PRIu64 " t%" PRIu64 " at %" PRIu64
                 "/%" PRIu64,
                 m->from, m->to, m->term, m->u.snapshot.last_index,
                 m->u.snapshot.last_term);
        break;
    case RAFT_MSG_SNAPSHOT_RESULT:
        snprintf(buf, len,
                 "snapshot-%s %" PRIu64 "->%" PRIu64 " t%" PRIu64
                 " match %" PRIu64,
                 m->u.append_result.success ? "ok" : "refused", m->from, m->to,
                 m->term, m->u.append_result.match_index);
        break;
    default:
        snprintf(buf, len, "type-%d %" PRIu64 "->%" PRIu64 " t%" PRIu64,
                 (int)m->type, m->from, m->to, m->term);
        break;
    }
    return buf;
}
