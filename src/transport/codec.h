/* codec.h - raft messages to and from the JSON bodies of the peer RPCs.
 *
 * The wire format is documented in docs/wire.md. Each request type has its
 * own path (codec_path()); a request's result travels back as the body of
 * the HTTP 200 reply to it. TIMEOUT_NOW has no result: its reply is {}.
 *
 * A snapshot travels as chunks (struct codec_chunk), one POST each, with
 * their own encoders: the core's RAFT_MSG_SNAPSHOT names the snapshot and
 * rides on the last chunk, and its RAFT_MSG_SNAPSHOT_RESULT comes back in
 * the reply to that chunk (struct codec_chunk_result).
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

#include <stdbool.h>
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
/* One snapshot chunk's data; its request body stays within
 * CODEC_MAX_REQUEST_BODY like an APPEND's. */
#define CODEC_MAX_CHUNK_BYTES (1u << 20)
#define CODEC_PATH_INSTALL_SNAPSHOT "/raft/install_snapshot"

/* Who may talk: the members of the cluster and which one this node is. */
struct codec_nodes {
    uint64_t self;
    size_t n;
    uint64_t ids[RAFT_MAX_NODES];
};

/* The HTTP path of request type TYPE ("/raft/request_vote", ...), or NULL
 * for a type that is not a request. RAFT_MSG_SNAPSHOT has the path
 * CODEC_PATH_INSTALL_SNAPSHOT, but travels as chunks (see below). */
const char *codec_path(enum raft_msg_type type);

/* The result type that answers request type TYPE (RAFT_MSG_VOTE_RESULT for
 * RAFT_MSG_VOTE, ...); RAFT_MSG_NONE for TIMEOUT_NOW and non-requests. */
enum raft_msg_type codec_result_type(enum raft_msg_type type);

/* Encode M as compact JSON. M may be any of the five message types that
 * travel alone (not SNAPSHOT nor SNAPSHOT_RESULT: see chunks); rpc_id
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

/* One chunk of a snapshot file, the body of POST /raft/install_snapshot.
 * The chunks of one transfer go one after another, each once the previous
 * one is answered. */
struct codec_chunk {
    uint64_t term, from, to;
    uint64_t last_index; /* the last entry the snapshot covers, >= 1 */
    uint64_t last_term;  /* its term, 1..term */
    uint64_t offset;     /* where DATA goes in the file */
    uint64_t total;      /* the file's size in bytes */
    bool done;           /* the last chunk: offset + len == total */
    const uint8_t *data; /* LEN bytes, at most CODEC_MAX_CHUNK_BYTES */
    size_t len;
};

/* The reply to a chunk. On the last chunk it carries the receiving core's
 * RAFT_MSG_SNAPSHOT_RESULT (success, match_index); before that success
 * says the chunk was written, and next_offset where to go on. A term above
 * the sender's means the sender is a stale leader. */
struct codec_chunk_result {
    uint64_t term, from, to;
    bool success;
    uint64_t next_offset;
    uint64_t match_index;
};

/* Encode chunk C (data as base64). Returns a malloc'd NUL-terminated text
 * and its length in *LEN, or NULL with a reason in ERR (a value above
 * 2^63-1, a chunk over its bounds or inconsistent, out of memory). */
char *codec_encode_chunk(const struct codec_chunk *c, size_t *len, char *err,
                         size_t errlen);

/* Decode a chunk sent to NODES->self, strictly: every field present and
 * typed, from a peer, offset + len <= total, done exactly when the chunk
 * ends the file, last_term within 1..term. On success *OUT owns a copy of
 * the data (codec_chunk_release()). On failure returns -1 with a one-line
 * reason in ERR and *OUT is all zeros. */
int codec_decode_chunk(const char *buf, size_t len,
                       const struct codec_nodes *nodes, struct codec_chunk *out,
                       char *err, size_t errlen);

/* Free the data a decoded chunk owns and zero C. Safe twice. */
void codec_chunk_release(struct codec_chunk *c);

/* Encode and decode a chunk's reply, as for the messages above (the
 * decoder checks that it is addressed to NODES->self from a peer). */
char *codec_encode_chunk_result(const struct codec_chunk_result *r, size_t *len,
                                char *err, size_t errlen);
int codec_decode_chunk_result(const char *buf, size_t len,
                              const struct codec_nodes *nodes,
                              struct codec_chunk_result *out, char *err,
                              size_t errlen);

#endif
