/* codec.h - raft messages to and from the JSON bodies of the peer RPCs.
 *
 * The wire format is documented in docs/wire.md. Each request type has its
 * own path (codec_path()); a request's result travels back as the body of
 * the HTTP 200 reply to it. TIMEOUT_NOW has no result: its reply is {}.
 *
 * Decoding trusts nothing: every field must be present with its JSON type,
 * integers are 0..2^63-1, node ids must be members, "to" must be this node,
 * entries are bounded in count and bytes, their indexes follow
 * prev_log_index one by one and their terms never decrease nor pass the
 * message's term. Fields the decoder does not know are ignored, so a newer
 * node can add one without breaking an older one during an upgrade.
 */
#ifndef VARDE_CODEC_H
#define VARDE_CODEC_H

#include "raft/raft.h"

#include <stddef.h>
#include <stdint.h>

/* Bounds of one APPEND. The daemon configures the core to batch within
 * them (max_append_entries, max_append_bytes), so a valid leader never
 * exceeds them; a command larger than CODEC_MAX_ENTRY_BYTES could never be
 * replicated, and must be refused where it is proposed. */
#define CODEC_MAX_ENTRIES 1024           /* entries in one APPEND */
#define CODEC_MAX_ENTRY_BYTES (1u << 20) /* one entry's data */
#define CODEC_MAX_BATCH_BYTES (1u << 20) /* all entries' data together */
/* A request body: base64 of a full batch (4/3 of it) plus at most about 80
 * bytes of JSON per entry, about 1.5 MiB, rounded up. */
#define CODEC_MAX_REQUEST_BODY (2u << 20)
#define CODEC_MAX_REPLY_BODY 4096 /* a result, or an error */

/* Who may talk: the members of the cluster and which one this node is. */
struct codec_nodes {
    uint64_t self;
    size_t n;
    uint64_t ids[RAFT_MAX_NODES];
};

/* The HTTP path of request type TYPE ("/raft/request_vote", ...), or NULL
 * for a type that is not a request. */
const char *codec_path(enum raft_msg_type type);

/* The result type that answers request type TYPE (RAFT_MSG_VOTE_RESULT for
 * RAFT_MSG_VOTE, ...); RAFT_MSG_NONE for TIMEOUT_NOW and non-requests. */
enum raft_msg_type codec_result_type(enum raft_msg_type type);

/* Encode M as compact JSON. M may be any of the five message types; rpc_id
 * is not encoded (HTTP pairs a result with its request). Returns a malloc'd,
 * NUL-terminated text that the caller frees with free(), its length in
 * *LEN; or NULL with a one-line reason in ERR: a value above 2^63-1, entries
 * over the CODEC_MAX_* bounds, an unknown type, out of memory. */
char *codec_encode(const struct raft_msg *m, size_t *len, char *err,
                   size_t errlen);

/* Decode the LEN bytes at BUF (no NUL needed) as a message of type TYPE
 * sent to NODES->self. On success fills all of *OUT, with rpc_id 0, and
 * returns 0. A decoded APPEND with entries owns one heap block, holding the
 * entry array and every entry's data, at out->u.append.entries: the caller
 * releases it with codec_msg_release() once the core has seen the message
 * (raft_step() only borrows it). On failure returns -1 with a one-line
 * reason in ERR (fit for a 400 reply), and *OUT is all zeros: nothing to
 * release. */
int codec_decode(enum raft_msg_type type, const char *buf, size_t len,
                 const struct codec_nodes *nodes, struct raft_msg *out,
                 char *err, size_t errlen);

/* Free what codec_decode() allocated in M and zero M. Safe on a message
 * that owns nothing, and twice. */
void codec_msg_release(struct raft_msg *m);

#endif
