/* ctl_load.c - what the controller reads when it starts: its access
 * token, and the data dir's files (ctl_int.h). */
#include "controller/ctl_int.h"

#include "controller/ctl_file.h"
#include "transport/http.h"
#include "util/clock.h"
#include "util/log.h"

#include <stdio.h>
#include <string.h>

int ctl_load_token(struct ctl *c, char *err, size_t errlen)
{
    bool loose = false;

    if (c->opts.token_file == NULL) {
        log_warn("controller",
                 "no --token-file: anyone who reaches %s can use its API, "
                 "and the cluster and agents must run without one too",
                 c->opts.listen.text);
        return 0;
    }
    if (token_load(c->opts.token_file, c->token, &loose, err, errlen) < 0) {
        return -1;
    }
    if (loose) {
        log_warn("controller",
                 "token file %s can be read by others: chmod 600 it",
                 c->opts.token_file);
    }
    http_set_client_token(c->token);
    return 0;
}

/* Load DIR/NAME of KIND into *DOC (NULL when it does not exist). */
static int ctl_load_file(struct ctl *c, const char *name, const char *kind,
                         json_t **doc, char *err, size_t errlen)
{
    *doc = NULL;
    return ctl_file_load(c->opts.data_dir, name, kind, doc, err, errlen) < 0
               ? -1
               : 0;
}

/* Name the file a document of which failed with WHY. */
static int ctl_load_fail(struct ctl *c, const char *name, const char *why,
                         char *err, size_t errlen)
{
    snprintf(err, errlen, "%s/%s: %s", c->opts.data_dir, name, why);
    return -1;
}

static int ctl_load_assign(struct ctl *c, char *err, size_t errlen)
{
    json_t *doc;
    char why[512];
    int rc;

    if (ctl_load_file(c, CTL_ASSIGN_FILE, "assignments", &doc, err, errlen) <
        0) {
        return -1;
    }
    rc = doc ? ctl_assign_from_json(doc, c->opts.site, &c->assign, why,
                                    sizeof(why))
             : ctl_assign_init(&c->assign);
    json_decref(doc);
    if (rc < 0) {
        return ctl_load_fail(c, CTL_ASSIGN_FILE, doc ? why : "out of memory",
                             err, errlen);
    }
    if (ctl_jobs_read(c->assign.jobs, &c->jobs) < 0) {
        return ctl_load_fail(c, CTL_ASSIGN_FILE, "out of memory", err, errlen);
    }
    return 0;
}

static int ctl_load_outbox(struct ctl *c, char *err, size_t errlen)
{
    json_t *doc;
    char why[512];
    int rc;

    if (ctl_load_file(c, CTL_OUTBOX_FILE, "outbox", &doc, err, errlen) < 0) {
        return -1;
    }
    rc = doc ? ctl_outbox_from_json(&c->outbox, doc, why, sizeof(why))
             : ctl_outbox_init(&c->outbox);
    json_decref(doc);
    if (rc < 0) {
        return ctl_load_fail(c, CTL_OUTBOX_FILE, doc ? why : "out of memory",
                             err, errlen);
    }
    return 0;
}

/* DIR/agents.json: {"index", "agents": [...], "placements": [...]}. */
static int ctl_load_agents(struct ctl *c, char *err, size_t errlen)
{
    json_t *doc, *index;
    char why[512];
    int rc;

    if (ctl_load_file(c, CTL_AGENTS_FILE, "agents", &doc, err, errlen) < 0) {
        return -1;
    }
    if (doc == NULL) {
        return 0;
    }
    index = json_object_get(doc, "index");
    if (!json_is_integer(index) || json_integer_value(index) < 0 ||
        json_integer_value(index) > (json_int_t)CTL_MS_MAX) {
        json_decref(doc);
        return ctl_load_fail(c, CTL_AGENTS_FILE,
                             "index: expected an integer 0..2^53", err, errlen);
    }
    ctl_agents_free(&c->agents);
    ctl_rows_free(&c->rows);
    rc = ctl_agents_from_json(&c->agents, json_object_get(doc, "agents"),
                              (uint64_t)json_integer_value(index),
                              clock_mono_ms(), why, sizeof(why));
    if (rc == 0) {
        rc = ctl_rows_from_json(&c->rows, json_object_get(doc, "placements"),
                                why, sizeof(why));
    }
    json_decref(doc);
    return rc < 0 ? ctl_load_fail(c, CTL_AGENTS_FILE, why, err, errlen) : 0;
}

int ctl_load(struct ctl *c, char *err, size_t errlen)
{
    return ctl_load_assign(c, err, errlen) < 0 ||
                   ctl_load_outbox(c, err, errlen) < 0 ||
                   ctl_load_agents(c, err, errlen) < 0
               ? -1
               : 0;
}
