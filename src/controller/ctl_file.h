/* ctl_file.h - the controller's checksummed JSON files in its data dir.
 *
 * A data dir (created and locked with storage/datadir.h) holds:
 *
 *   DIR/LOCK              flock()ed while a controller runs on DIR
 *   DIR/assignments.json  the site's assignments as last received
 *   DIR/outbox.json       the reports not yet applied by the cluster
 *   DIR/NAME.tmp          a save of NAME that never reached its rename;
 *                         removed when NAME is loaded
 *
 * Each file is one header line, then a JSON document:
 *
 *   VARDE KIND v1 LEN CRC\n
 *   {...LEN bytes of JSON...}
 *
 * KIND names the document ("assignments", "outbox"), LEN is the length of
 * the JSON in decimal, CRC its CRC32C as 8 lowercase hex digits. A file is
 * replaced whole (datadir_replace()), so a crash leaves the old file or
 * the new one. A file
 * that does not check out (a torn or damaged file, another KIND) is an
 * error naming the file and what is wrong with it, never a silent start
 * from nothing: docs/controller.md says what an operator can do.
 */
#ifndef VARDE_CTL_FILE_H
#define VARDE_CTL_FILE_H

#include <jansson.h>
#include <stddef.h>

#define CTL_FILE_MAX (256u << 20) /* bytes in one file */

/* Encode DOC (an object or array) as a file of KIND into *OUT (malloc'ed,
 * *LEN bytes, owned by the caller). Returns 0, or -1 when out of memory or
 * DOC is neither. */
int ctl_file_encode(const char *kind, const json_t *doc, char **out,
                    size_t *len);

/* Decode LEN bytes of BUF, a file of KIND, into *OUT (a new reference).
 * Returns 0, or -1 with a one-line reason in ERR: a bad header, a length
 * that does not match (a torn file), a checksum mismatch, bad JSON. */
int ctl_file_decode(const char *kind, const char *buf, size_t len, json_t **out,
                    char *err, size_t errlen);

/* Replace DIR/NAME durably with DOC as a file of KIND (see above). Returns
 * 0 once the file and its directory entry are fsynced, or -1 with a
 * one-line reason in ERR: DIR/NAME is then unchanged, except after a
 * failed fsync of DIR, when the new file may or may not survive a crash. */
int ctl_file_save(const char *dir, const char *name, const char *kind,
                  const json_t *doc, char *err, size_t errlen);

/* Load DIR/NAME, a file of KIND, into *OUT (a new reference), after
 * removing a leftover DIR/NAME.tmp. Returns 1 when loaded, 0 when DIR/NAME
 * does not exist (*OUT NULL), or -1 with a one-line reason naming the file
 * in ERR. */
int ctl_file_load(const char *dir, const char *name, const char *kind,
                  json_t **out, char *err, size_t errlen);

#endif
