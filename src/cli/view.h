/* view.h - the fleet as the command line prints it: jobs, sites and their
 * agents, a job.
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

/* JOBS as `varde status` shows them: JOB TYPE DESIRED RUNNING PENDING
 * DONE FAILED UNKNOWN, where PENDING counts the tasks not running yet
 * (pending, placed and assigned), DONE complete ones and FAILED failed and
 * lost ones; or "no jobs". Returns 0 or -1. */
int view_jobs_short(FILE *f, json_t *jobs, bool color);

/* Put under each site of SITES (the array of GET /v1/sites) its agents
 * from AGENTS (the array of GET /v1/agents, each naming its "site"): a new
 * array "agents" in each site object, sorted by name, empty for a site
 * with none. An agent without a site, or of a site not in SITES, is left
 * out; an item that is not an object is skipped. Returns 0, or -1 when
 * out of memory (some sites may then have their agents, others not). */
int view_nest_agents(json_t *sites, json_t *agents);

/* SITES (GET /v1/sites, with "agents" as view_nest_agents puts them) as a
 * tree in a table: a row per site (name, status, tasks, free cpu and
 * memory of its capacity, when the leader last heard from it), under it
 * a row per agent (its status, tasks, free cpu and memory of its own, when
 * its controller last heard from it: what the controller reported plus
 * how long ago the leader heard from the site). The agents of a site that
 * is not connected are as it last reported them: "was up", "was down".
 * UTF8 draws
 * the tree's lines in box-drawing characters, else in ASCII. "no sites
 * registered" when there are none. Returns 0 or -1. */
int view_sites(FILE *f, json_t *sites, bool color, bool utf8);

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
