/* fuzz_codec.c - libFuzzer target for the peer RPC decoders.
 *
 * The first byte picks the message type (or a snapshot chunk, or a chunk's
 * result), the rest is the body. Whatever the decoder accepts must encode
 * again, and decode to the same message: a decoder that takes what the
 * encoder cannot produce, or a lossy round trip, aborts. Build: clang
 * -fsanitize=fuzzer,address,undefined -Isrc ...
 */
#include "transport/codec.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct codec_nodes fuzz_nodes = {2, 5, {1, 2, 3, 4, 5}};

static const enum raft_msg_type fuzz_types[] = {
    RAFT_MSG_VOTE,          RAFT_MSG_VOTE_RESULT, RAFT_MSG_APPEND,
    RAFT_MSG_APPEND_RESULT, RAFT_MSG_TIMEOUT_NOW,
};

static void fuzz_check_entries(const struct raft_append *a,
                               const struct raft_append *b)
{
    if (a->n_entries != b->n_entries) {
        abort();
    }
    for (size_t i = 0; i < a->n_entries; i++) {
        const struct raft_entry *x = &a->entries[i], *y = &b->entries[i];

        if (x->term != y->term || x->index != y->index || x->type != y->type ||
            x->len != y->len ||
            (x->len > 0 && memcmp(x->data, y->data, x->len) != 0)) {
            abort();
        }
    }
}

/* Encode M and decode it again: the same message must come back. */
static void fuzz_round_trip(const struct raft_msg *m)
{
    char err[256];
    size_t len;
    char *text = codec_encode(m, &len, err, sizeof(err));
    struct raft_msg b;

    if (text == NULL) {
        abort();
    }
    if (codec_decode(m->type, text, len, &fuzz_nodes, &b, err, sizeof(err)) !=
        0) {
        abort();
    }
    if (m->type == RAFT_MSG_APPEND) {
        fuzz_check_entries(&m->u.append, &b.u.append);
        if (memcmp(&m->u.append, &b.u.append,
                   offsetof(struct raft_append, n_entries)) != 0) {
            abort();
        }
    } else if (memcmp(m, &b, sizeof(b)) != 0) {
        abort();
    }
    codec_msg_release(&b);
    free(text);
}

static void fuzz_chunk(const char *body, size_t size)
{
    struct codec_chunk c, b;
    char err[256];
    size_t len;
    char *text;

    if (codec_decode_chunk(body, size, &fuzz_nodes, &c, err, sizeof(err)) !=
        0) {
        if (err[0] == '\0' || strchr(err, '\n') != NULL) {
            abort();
        }
        return;
    }
    text = codec_encode_chunk(&c, &len, err, sizeof(err));
    if (text == NULL ||
        codec_decode_chunk(text, len, &fuzz_nodes, &b, err, sizeof(err)) != 0) {
        abort();
    }
    if (b.term != c.term || b.from != c.from || b.to != c.to ||
        b.last_index != c.last_index || b.last_term != c.last_term ||
        b.offset != c.offset || b.total != c.total || b.done != c.done ||
        b.len != c.len || (c.len > 0 && memcmp(b.data, c.data, c.len) != 0)) {
        abort();
    }
    codec_chunk_release(&b);
    codec_chunk_release(&c);
    free(text);
}

static void fuzz_chunk_result(const char *body, size_t size)
{
    struct codec_chunk_result r, b;
    char err[256];
    size_t len;
    char *text;

    if (codec_decode_chunk_result(body, size, &fuzz_nodes, &r, err,
                                  sizeof(err)) != 0) {
        if (err[0] == '\0' || strchr(err, '\n') != NULL) {
            abort();
        }
        return;
    }
    text = codec_encode_chunk_result(&r, &len, err, sizeof(err));
    if (text == NULL || codec_decode_chunk_result(text, len, &fuzz_nodes, &b,
                                                  err, sizeof(err)) != 0) {
        abort();
    }
    if (b.term != r.term || b.from != r.from || b.to != r.to ||
        b.success != r.success || b.next_offset != r.next_offset ||
        b.match_index != r.match_index) {
        abort();
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct raft_msg m;
    char err[256];

    if (size < 1) {
        return 0;
    }
    if (data[0] % 7 == 5) {
        fuzz_chunk((const char *)data + 1, size - 1);
        return 0;
    }
    if (data[0] % 7 == 6) {
        fuzz_chunk_result((const char *)data + 1, size - 1);
        return 0;
    }
    enum raft_msg_type type = fuzz_types[data[0] % 7];
    if (codec_decode(type, (const char *)data + 1, size - 1, &fuzz_nodes, &m,
                     err, sizeof(err)) == 0) {
        fuzz_round_trip(&m);
        codec_msg_release(&m);
    } else if (err[0] == '\0' || strchr(err, '\n') != NULL) {
        abort(); /* every refusal says why, in one line */
    }
    return 0;
}
