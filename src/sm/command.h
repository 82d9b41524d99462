/* command.h - the commands the replicated state machine applies, and their
 * encoding in log entries.
 *
 * A command is one log entry's data:
 *
 *   offset size  field
 *   0      1     op (enum sm_op)
 *   1      1     flags (SM_FLAG_*)
 *   2      2     key length K, little endian, 1..SM_MAX_KEY
 *   4      4     value length V, little endian, 0..SM_MAX_VALUE
 *   8      8     cas index, little endian (when SM_FLAG_CAS)
 *   16     K     key bytes
 *   16+K   V     value bytes
 *
 * The CRC of the log record covers it; the decoder still checks every
 * length, since a command also arrives from peers. New ops are added at the
 * end of the enum, never renumbered: the log is forever. */
#ifndef VARDE_SM_COMMAND_H
#define VARDE_SM_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#define SM_MAX_KEY 512
#define SM_MAX_VALUE (64 * 1024)
#define SM_COMMAND_HEADER 16

enum sm_op {
    SM_OP_PUT = 1,
    SM_OP_DEL = 2,
};

#define SM_FLAG_CAS 0x01 /* only if the key's modify index equals cas */

struct sm_command {
    uint8_t op;
    uint8_t flags;
    uint64_t cas;
    const char *key; /* not NUL-terminated; borrowed from the buffer */
    uint16_t key_len;
    const uint8_t *value; /* borrowed */
    uint32_t value_len;
};

/* Bytes needed to encode C. */
size_t sm_command_size(const struct sm_command *c);

/* Encode C into BUF (at least sm_command_size bytes). Returns the size. */
size_t sm_command_encode(const struct sm_command *c, uint8_t *buf);

/* Decode LEN bytes of BUF into C, whose pointers then borrow from BUF.
 * Returns 0, or -1 with a reason in ERR. */
int sm_command_decode(const uint8_t *buf, size_t len, struct sm_command *c,
                      char *err, size_t errlen);

/* Check a key: 1..SM_MAX_KEY bytes of printable ASCII without spaces.
 * Returns 0, or -1 with a reason in ERR. */
int sm_key_check(const char *key, size_t len, char *err, size_t errlen);

#endif
