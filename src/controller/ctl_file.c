/* ctl_file.c - the data dir's checksummed files (ctl_file.h), written and
 * read through storage/datadir.h. */
#include "controller/ctl_file.h"

#include "storage/crc32c.h"
#include "storage/datadir.h"
#include "util/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_FILE_HEADER_MAX 128

int ctl_file_encode(const char *kind, const json_t *doc, char **out,
                    size_t *len)
{
    char *body = json_dumps(doc, JSON_COMPACT);
    char *text = NULL;
    size_t n;
    int w;

    if (body == NULL) {
        return -1;
    }
    n = strlen(body);
    w = asprintf(&text, "VARDE %s v1 %zu %08x\n%s", kind, n,
                 (unsigned)crc32c(0, body, n), body);
    free(body);
    if (w < 0) {
        return -1;
    }
    *out = text;
    *len = (size_t)w;
    return 0;
}

/* Read a decimal of 1 to 10 digits at *P, advancing it. */
static bool ctl_file_decimal(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;

    for (; **p >= '0' && **p <= '9' && n < 10; (*p)++, n++) {
        v = v * 10 + (uint64_t)(**p - '0');
    }
    *out = v;
    return n > 0;
}

/* Read exactly 8 lowercase hex digits at *P, advancing it. */
static bool ctl_file_hex8(const char **p, uint32_t *out)
{
    uint32_t v = 0;

    for (int i = 0; i < 8; i++, (*p)++) {
        char c = **p;

        if (c >= '0' && c <= '9') {
            v = v << 4 | (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v = v << 4 | (uint32_t)(c - 'a' + 10);
        } else {
            return false;
        }
    }
    *out = v;
    return true;
}

/* Parse the header line "VARDE KIND v1 LEN CRC\n" at the start of BUF.
 * Returns the header's length, or 0 when it is not one. */
static size_t ctl_file_header(const char *kind, const char *buf, size_t len,
                              uint64_t *body_len, uint32_t *crc)
{
    const char *nl = memchr(
        buf, '\n', len < CTL_FILE_HEADER_MAX ? len : CTL_FILE_HEADER_MAX);
    char line[CTL_FILE_HEADER_MAX + 1], want[CTL_FILE_HEADER_MAX];
    const char *p = line;

    if (nl == NULL) {
        return 0;
    }
    memcpy(line, buf, (size_t)(nl - buf));
    line[nl - buf] = '\0';
    snprintf(want, sizeof(want), "VARDE %s v1 ", kind);
    if (strncmp(line, want, strlen(want)) != 0) {
        return 0;
    }
    p += strlen(want);
    if (!ctl_file_decimal(&p, body_len) || *p++ != ' ' ||
        !ctl_file_hex8(&p, crc) || *p != '\0') {
        return 0;
    }
    return (size_t)(nl - buf) + 1;
}

int ctl_file_decode(const char *kind, const char *buf, size_t len, json_t **out,
                    char *err, size_t errlen)
{
    uint64_t body_len;
    uint32_t crc;
    size_t header = ctl_file_header(kind, buf, len, &body_len, &crc);
    json_error_t jerr;

    *out = NULL;
    if (header == 0) {
        return err_fail(err, errlen,
                        "not a varde %s file (its first line is not "
                        "\"VARDE %s v1 LEN CRC\")",
                        kind, kind);
    }
    if (len - header != body_len) {
        return err_fail(err, errlen,
                        "torn: the header says %llu bytes of JSON, the file "
                        "holds %zu",
                        (unsigned long long)body_len, len - header);
    }
    if (crc32c(0, buf + header, len - header) != crc) {
        return err_fail(err, errlen, "damaged: checksum mismatch");
    }
    *out =
        json_loadb(buf + header, len - header, JSON_REJECT_DUPLICATES, &jerr);
    if (*out == NULL) {
        return err_fail(err, errlen, "bad JSON at line %d, column %d: %s",
                        jerr.line, jerr.column, jerr.text);
    }
    return 0;
}

int ctl_file_save(const char *dir, const char *name, const char *kind,
                  const json_t *doc, char *err, size_t errlen)
{
    char *text;
    size_t len;
    int rc;

    if (ctl_file_encode(kind, doc, &text, &len) < 0) {
        return err_fail(err, errlen, "save %s/%s: out of memory", dir, name);
    }
    rc = datadir_replace(dir, name, text, len, err, errlen);
    free(text);
    return rc;
}

int ctl_file_load(const char *dir, const char *name, const char *kind,
                  json_t **out, char *err, size_t errlen)
{
    char why[256];
    char *buf = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    rc = datadir_read(dir, name, CTL_FILE_MAX, &buf, &len, err, errlen);
    if (rc <= 0) {
        return rc;
    }
    rc = ctl_file_decode(kind, buf, len, out, why, sizeof(why));
    free(buf);
    if (rc < 0) {
        return err_fail(err, errlen, "%s/%s: %s", dir, name, why);
    }
    return 1;
}
