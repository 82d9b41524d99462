/* labels.h - the labels of a site or an agent: NAME=VALUE pairs, checked,
 * kept sorted by name.
 *
 * A label's name is 1..64 letters, digits, '-', '_', '.' and '/',
 * starting with a letter or digit; its value at most 256 printable ASCII
 * bytes. A site or an agent carries at most 64. The job file's label
 * selectors (sm/fleet_util.c) have rules of their own.
 */
#ifndef VARDE_LABELS_H
#define VARDE_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#define LABELS_MAX 64       /* labels a site or an agent carries */
#define LABEL_KEY_MAX 64    /* bytes in a label's name */
#define LABEL_VALUE_MAX 256 /* bytes in a label's value */

struct label {
    char key[LABEL_KEY_MAX + 1];
    char value[LABEL_VALUE_MAX + 1];
};

/* True when KEY (KN bytes) and VALUE (VN bytes) make a valid label. */
bool label_ok(const char *key, size_t kn, const char *value, size_t vn);

/* Parse TEXT, "NAME=VALUE,NAME2=VALUE2" ("" is none), into LABELS (room
 * for LABELS_MAX), sorted by name, and their count into *N. Returns 0, or
 * -1 with a one-line reason in ERR (a bad pair, a name given twice, more
 * than LABELS_MAX, a trailing comma); *N and LABELS are then
 * unspecified. */
int labels_parse(const char *text, struct label *labels, size_t *n, char *err,
                 size_t errlen);

#endif
