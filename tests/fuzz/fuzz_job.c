/* fuzz_job.c - libFuzzer target for the job file parser.
 *
 * The input is a job file. Whatever the parser accepts must encode, parse
 * back to the same job with the same version, and encode to the same bytes;
 * its JSON form must read back as the same job too. Whatever it refuses
 * must say why in one line. Build: scripts/fuzz.sh tests/fuzz/fuzz_job.c
 */
#include "sm/job.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool fuzz_known(void *arg, const char *site)
{
    return site[0] != 'x';
}

static void fuzz_refusal(int rc, const char *err)
{
    if ((rc != JOB_ERR_INVALID && rc != JOB_ERR_TOO_LARGE) || err[0] == '\0' ||
        strchr(err, '\n') != NULL) {
        abort();
    }
}

/* J's JSON form, dumped for the API, reads back as J. */
static void fuzz_to_json(const struct job *j)
{
    json_t *o = job_to_json(j);
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JOB_JSON_REAL_FLAGS) : NULL;
    struct job *b = NULL;
    char err[256];

    if (text == NULL ||
        job_parse_json(text, strlen(text), &b, err, sizeof(err)) != JOB_OK ||
        !job_spec_equal(j, b) || b->version != j->version) {
        abort();
    }
    job_free(b);
    free(text);
    json_decref(o);
}

static void fuzz_round_trip(const struct job *j)
{
    struct job *b = NULL;
    char err[256];
    size_t la, lb;
    char *ea = job_encode(j, &la), *eb;

    if (ea == NULL || job_parse_json(ea, la, &b, err, sizeof(err)) != JOB_OK) {
        abort();
    }
    eb = job_encode(b, &lb);
    if (eb == NULL || !job_spec_equal(j, b) || b->version != j->version ||
        la != lb || memcmp(ea, eb, la) != 0) {
        abort();
    }
    free(ea);
    free(eb);
    job_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct job *j = NULL;
    char err[256] = "";
    int rc = job_parse_json((const char *)data, size, &j, err, sizeof(err));

    if (rc != JOB_OK) {
        if (j != NULL) {
            abort();
        }
        fuzz_refusal(rc, err);
        return 0;
    }
    fuzz_round_trip(j);
    fuzz_to_json(j);
    err[0] = '\0';
    rc = job_check_sites(j, fuzz_known, NULL, err, sizeof(err));
    if (rc != JOB_OK) {
        fuzz_refusal(rc, err);
    }
    job_free(j);
    return 0;
}
