/* ctl_int.h - the controller daemon's state, shared by its own files
 * (ctl_daemon.c, ctl_api.c); nothing outside src/controller includes it. */
#ifndef VARDE_CTL_INT_H
#define VARDE_CTL_INT_H

#include "controller/ctl_flags.h"
#include "controller/ctl_outbox.h"
#include "controller/ctl_state.h"
#include "controller/ctl_upstream.h"

#include <stdbool.h>
#include <stdint.h>

struct event;
struct event_base;
struct http_server;

#define CTL_ASSIGN_FILE "assignments.json"
#define CTL_OUTBOX_FILE "outbox.json"

struct ctl {
    struct ctl_opts opts; /* capacity filled in: never 0 here */
    struct event_base *base;
    int lock_fd; /* DIR/LOCK, flock()ed; -1 when not held */
    struct ctl_assign assign;
    struct ctl_outbox outbox;
    struct ctl_upstream *up;
    struct http_server *http;
    struct event *sigterm_ev, *sigint_ev;
    size_t waiting_room;      /* stops the full outbox refused */
    bool save_failing;        /* the last outbox save failed (logged) */
    uint64_t batches_refused; /* batches the cluster refused outright */
    uint64_t assign_changes;  /* new assignment indexes taken */
};

/* Open the data dir, load what it holds, listen on --listen and start
 * following the leader. Returns 0, or -1 with a one-line reason in ERR
 * (call ctl_close() either way). */
int ctl_open(struct ctl *c, const struct ctl_opts *opts, uint64_t seed,
             char *err, size_t errlen);

/* Run the event loop until SIGTERM or SIGINT. Returns the exit status. */
int ctl_run(struct ctl *c);

/* Release everything ctl_open() took. */
void ctl_close(struct ctl *c);

/* Serve GET /v1/status and GET /metrics on --listen. Returns 0, or -1
 * with a one-line reason in ERR. */
int ctl_api_listen(struct ctl *c, char *err, size_t errlen);

#endif
