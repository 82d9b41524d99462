/* view.h - the fleet as the command line prints it: jobs, sites, a job.
 *
 * Each function takes a part of an answer of the fleet API (docs/fleet.md)
 * as jansson parsed it and prints it to a stream. The answer comes from a
 * server, so nothing in it is trusted: a field that is missing or of the
 * wrong type prints as "?", text is cleaned of control bytes and cut to a
 * sane width. COLOR adds ANSI colours. No I/O but the stream.
 */
#ifndef VARDE_VIEW_H
#define VARDE_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The array JOBS of GET /v1/jobs as a table: ID TYPE VERSION DESIRED
 * PENDING PLACED RUNNING DONE FAILED UNKNOWN (PLACED counts placed and
 * assigned tasks, DONE complete ones, FAILED failed and lost ones), or
 * "no jobs" when empty. Returns 0, or -1 when out of memory or F failed. */
int view_jobs(FILE *f, json_t *jobs, bool color);

/* JOBS as `varde status` shows them: JOB TYPE VERSION DESIRED TASKS, the
 * last a summary such as "3 running, 1 pending". Returns 0 or -1. */
int view_jobs_short(FILE *f, json_t *jobs, bool color);

/* The array SITES of GET /v1/sites as a table: SITE STATUS TASKS CPU
 * (used/capacity, cores) MEMORY (used/capacity, MiB) HEARTBEAT (how long
 * ago), or "no sites registered". Returns 0 or -1. */
int view_sites(FILE *f, json_t *sites, bool color);

/* The answer ANSWER of GET /v1/jobs/ID: the job's spec, one field a line,
 * then its tasks as a table (TASK SITE AGENT STATE PID RESTARTS), then
 * why tasks are still pending, grouped by reason. Returns 0 or -1. */
int view_job(FILE *f, json_t *answer, bool color);

/* Cores as few digits as they need: 4, 0.5, 0.125 (to the thousandth). */
void view_cpu(double cores, char *buf, size_t len);

/* MS milliseconds ago, short: "412ms ago", "3.2s ago", "4m ago", "2h ago",
 * "3d ago"; a negative MS prints as "-". */
void view_ago(long long ms, char *buf, size_t len);

/* "3 running, 1 pending": the nonzero counts of the object COUNTS
 * ({"pending": N, ...}) in the order of a task's life, "none" when all
 * are zero. */
void view_task_summary(json_t *counts, char *buf, size_t len);

/* ARGV (an array of strings) as one line, each argument quoted the way a
 * shell would need it ('a b', 'it'\''s'), cut at about LEN bytes with
 * "..." at the end. */
void view_command(json_t *argv, char *buf, size_t len);

#endif
