/* clock.h - the clocks the daemons' drivers read, in milliseconds, and a
 * millisecond count as libevent's struct timeval.
 *
 * For drivers only: the pure cores (raft, the scheduler, the agent's
 * policy) take the time as an argument instead.
 */
#ifndef VARDE_CLOCK_H
#define VARDE_CLOCK_H

#include <stdint.h>
#include <sys/time.h>

/* CLOCK_MONOTONIC in milliseconds: for timeouts and intervals. */
uint64_t clock_mono_ms(void);

/* CLOCK_REALTIME in milliseconds since the epoch: for what is shown or
 * sent as a date. */
uint64_t clock_wall_ms(void);

/* MS milliseconds as a struct timeval, for evtimer_add(). */
struct timeval clock_tv(uint64_t ms);

#endif
