/* ctl_jobs.c - a job's type, resources and labels (ctl_jobs.h). */
#include "controller/ctl_jobs.h"

#include "util/num.h"

#include <stdlib.h>
#include <string.h>

static const struct ctl_job ctl_job_none = {"", false, 0, 0, NULL};

/* Cores in thousandths, as the cluster keeps them. */
static uint64_t ctl_jobs_cpu(const json_t *v)
{
    double x = json_number_value(v);

    if (!json_is_number(v)) {
        return CTL_JOB_CPU_DEFAULT_MILLI;
    }
    return x > 0 ? (uint64_t)num_round(x * 1000.0) : 0;
}

static void ctl_jobs_one(const char *id, const json_t *job, struct ctl_job *j)
{
    const json_t *res = json_object_get(job, "resources");
    const json_t *mem = json_object_get(res, "memory_mb");
    const json_t *labels = json_object_get(job, "labels");
    const char *type = json_string_value(json_object_get(job, "type"));

    j->id = id;
    j->system = type != NULL && strcmp(type, "system") == 0;
    j->cpu_milli = ctl_jobs_cpu(json_object_get(res, "cpu"));
    j->memory_mb = json_is_integer(mem) && json_integer_value(mem) >= 0
                       ? (uint64_t)json_integer_value(mem)
                       : CTL_JOB_MEMORY_DEFAULT_MB;
    j->labels = json_is_object(labels) ? labels : NULL;
}

static int ctl_jobs_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ctl_job *)a)->id,
                  ((const struct ctl_job *)b)->id);
}

int ctl_jobs_read(const json_t *jobs, struct ctl_jobs *out)
{
    const char *key;
    json_t *v;
    size_t n = 0;

    memset(out, 0, sizeof(*out));
    out->v = calloc(json_object_size(jobs) + 1, sizeof(*out->v));
    if (out->v == NULL) {
        return -1;
    }
    json_object_foreach((json_t *)jobs, key, v)
    {
        ctl_jobs_one(key, v, &out->v[n++]);
    }
    out->n = n;
    qsort(out->v, n, sizeof(*out->v), ctl_jobs_cmp);
    return 0;
}

const struct ctl_job *ctl_jobs_find(const struct ctl_jobs *js, const char *id)
{
    struct ctl_job key = {id, false, 0, 0, NULL};
    const struct ctl_job *j =
        js->n ? bsearch(&key, js->v, js->n, sizeof(*js->v), ctl_jobs_cmp)
              : NULL;

    return j ? j : &ctl_job_none;
}

void ctl_jobs_free(struct ctl_jobs *js)
{
    free(js->v);
    memset(js, 0, sizeof(*js));
}
