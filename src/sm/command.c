/* command.c - encoding of state machine commands (format in command.h). */
#include "sm/command.h"

#include <stdio.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

size_t sm_command_size(const struct sm_command *c)
{
    return SM_COMMAND_HEADER + c->key_len + c->value_len;
}

size_t sm_command_encode(const struct sm_command *c, uint8_t *buf)
{
    buf[0] = c->op;
    buf[1] = c->flags;
    put16(buf + 2, c->key_len);
    put32(buf + 4, c->value_len);
    put64(buf + 8, c->cas);
    memcpy(buf + SM_COMMAND_HEADER, c->key, c->key_len);
    if (c->value_len > 0) {
        memcpy(buf + SM_COMMAND_HEADER + c->key_len, c->value, c->value_len);
    }
    return sm_command_size(c);
}

int sm_key_check(const char *key, size_t len, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "empty key");
        return -1;
    }
    if (len > SM_MAX_KEY) {
        snprintf(err, errlen, "key of %zu bytes is over the limit of %d", len,
                 SM_MAX_KEY);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)key[i];

        if (ch <= ' ' || ch >= 0x7f) {
            snprintf(err, errlen,
                     "key has a space or a non-printable byte at %zu", i);
            return -1;
        }
    }
    return 0;
}

int sm_command_decode(const uint8_t *buf, size_t len, struct sm_command *c,
                      char *err, size_t errlen)
{
    uint64_t klen, vlen;

    if (len < SM_COMMAND_HEADER) {
        snprintf(err, errlen, "command of %zu bytes is too short", len);
        return -1;
    }
    memset(c, 0, sizeof(*c));
    c->op = buf[0];
    c->flags = buf[1];
    klen = get_le(buf + 2, 2);
    vlen = get_le(buf + 4, 4);
    c->cas = get_le(buf + 8, 8);
    if (c->op != SM_OP_PUT && c->op != SM_OP_DEL) {
        snprintf(err, errlen, "unknown command op %u", c->op);
        return -1;
    }
    if (klen == 0 || klen > SM_MAX_KEY || vlen > SM_MAX_VALUE ||
        SM_COMMAND_HEADER + klen + vlen != len) {
        snprintf(err, errlen, "command lengths do not add up");
        return -1;
    }
    c->key_len = (uint16_t)klen;
    c->value_len = (uint32_t)vlen;
    c->key = (const char *)buf + SM_COMMAND_HEADER;
    c->value = buf + SM_COMMAND_HEADER + klen;
    return sm_key_check(c->key, c->key_len, err, errlen);
}
