/* token.h - the access token shared by a fleet's daemons and clients.
 *
 * When a daemon is started with --token-file, every request it serves must
 * carry "Authorization: Bearer TOKEN", and every request it makes carries
 * it. The file holds the token on its first line: 16 to TOKEN_MAX printable
 * bytes without spaces; trailing whitespace is ignored. Comparisons take
 * the same time whatever the bytes, so that timing tells an attacker
 * nothing about how much of a guess was right. */
#ifndef VARDE_TOKEN_H
#define VARDE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_MIN 16
#define TOKEN_MAX 256

/* Read the token from PATH into BUF (at least TOKEN_MAX + 1 bytes).
 * *LOOSE is set when the file can be read by its group or by others.
 * Returns 0, or -1 with a one-line reason in ERR. */
int token_load(const char *path, char *buf, bool *loose, char *err,
               size_t errlen);

/* Check TEXT (LEN bytes, e.g. from VARDE_TOKEN) as a token: 0, or -1 with
 * ERR. */
int token_check(const char *text, size_t len, char *err, size_t errlen);

/* Whether the header value AUTH (may be NULL) is "Bearer " followed by
 * TOKEN, in time independent of where they differ. */
bool token_header_ok(const char *auth, const char *token);

#endif
