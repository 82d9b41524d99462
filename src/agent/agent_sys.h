/* agent_sys.h - what the agent reads about its machine: cores, memory,
 * the boot id. */
#ifndef VARDE_AGENT_SYS_H
#define VARDE_AGENT_SYS_H

#include <stddef.h>
#include <stdint.h>

/* This machine's cores (online processors, in thousandths) and memory
 * (MemTotal of /proc/meminfo, in MiB). Returns 0, or -1 with a one-line
 * reason in ERR. */
int agent_sys_capacity(uint64_t *cpu_milli, uint64_t *memory_mb, char *err,
                       size_t errlen);

/* The kernel's boot id (/proc/sys/kernel/random/boot_id) into BUF, or ""
 * when it cannot be read. */
void agent_sys_boot_id(char *buf, size_t len);

#endif
