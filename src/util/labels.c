/* labels.c - labels checked and parsed (labels.h). */
#include "util/labels.h"

#include "util/err.h"

#include <stdio.h>
#include <string.h>

static bool label_is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

static bool label_key_ok(const char *k, size_t n)
{
    if (n == 0 || n > LABEL_KEY_MAX || !label_is_alnum(k[0])) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!label_is_alnum(k[i]) && strchr("-_./", k[i]) == NULL) {
            return false;
        }
    }
    return true;
}

static bool label_value_ok(const char *v, size_t n)
{
    if (n > LABEL_VALUE_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

bool label_ok(const char *key, size_t kn, const char *value, size_t vn)
{
    return label_key_ok(key, kn) && label_value_ok(value, vn);
}

/* Insert "KEY=VALUE" (N bytes at ITEM) into the N_LABELS of LABELS, kept
 * sorted by name. */
static int labels_add(struct label *labels, size_t *n_labels, const char *item,
                      size_t n, char *err, size_t errlen)
{
    const char *eq = memchr(item, '=', n);
    size_t kn = eq ? (size_t)(eq - item) : 0;
    size_t vn = eq ? n - kn - 1 : 0;
    char key[LABEL_KEY_MAX + 1];
    size_t at = 0;
    int cmp = 1;

    if (eq == NULL || !label_key_ok(item, kn)) {
        return err_fail(err, errlen,
                        "\"%.*s\": expected NAME=VALUE, NAME 1..64 of "
                        "letters, digits, '-', '_', '.' and '/', starting "
                        "with a letter or digit",
                        (int)(n > 80 ? 80 : n), item);
    }
    if (!label_value_ok(eq + 1, vn)) {
        return err_fail(err, errlen,
                        "%.*s: the value must be at most 256 printable ASCII "
                        "bytes",
                        (int)kn, item);
    }
    if (*n_labels == LABELS_MAX) {
        return err_fail(err, errlen, "at most %d labels", LABELS_MAX);
    }
    snprintf(key, sizeof(key), "%.*s", (int)kn, item);
    while (at < *n_labels && (cmp = strcmp(labels[at].key, key)) < 0) {
        at++;
    }
    if (at < *n_labels && cmp == 0) {
        return err_fail(err, errlen, "%s is given twice", key);
    }
    memmove(&labels[at + 1], &labels[at], (*n_labels - at) * sizeof(*labels));
    memcpy(labels[at].key, key, sizeof(key));
    snprintf(labels[at].value, sizeof(labels[at].value), "%.*s", (int)vn,
             eq + 1);
    (*n_labels)++;
    return 0;
}

int labels_parse(const char *text, struct label *labels, size_t *n, char *err,
                 size_t errlen)
{
    *n = 0;
    while (*text != '\0') {
        const char *comma = strchr(text, ',');
        size_t len = comma ? (size_t)(comma - text) : strlen(text);

        if (labels_add(labels, n, text, len, err, errlen) < 0) {
            return -1;
        }
        text += len + (comma != NULL);
        if (comma != NULL && *text == '\0') {
            return err_fail(err, errlen, "ends with a comma");
        }
    }
    return 0;
}
