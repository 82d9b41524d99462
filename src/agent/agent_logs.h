/* agent_logs.h - a task's captured output: one file, rotated by size, read
 * by offset.
 *
 * A task's stdout and stderr both go to DIR/tasks/ID/output.log, opened by
 * the task itself with O_APPEND (no pipe through the agent, so a task
 * outlives an agent restart). Twice a second the agent looks at the size;
 * past the bound it copies the last BOUND bytes to output.log.1 (through a
 * temporary file and a rename, so a reader sees the old copy or the new)
 * and truncates output.log to nothing. The writer's O_APPEND makes its
 * next write land at the new end. What the task writes between the copy
 * and the truncate is lost, and a task that writes faster than the bound
 * in half a second may hold more than the bound in output.log for that
 * long.
 *
 * Offsets count every byte the task ever wrote (as far as the agent saw),
 * so a reader can resume where it stopped. LOG_START, kept per task, is
 * the offset of the first byte still kept (the first of output.log.1):
 *
 *   [log_start, +size(output.log.1)) [.., +size(output.log))
 *   \____________ kept ____________/ \__ being written ___/
 *
 * The plan and range functions are pure; the rest does the file I/O.
 */
#ifndef VARDE_AGENT_LOGS_H
#define VARDE_AGENT_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_LOG_FILE "output.log"
#define AGENT_LOG_OLD "output.log.1"

/* A rotation: copy LEN bytes of output.log from FROM to output.log.1, then
 * truncate; the first byte kept moves to NEW_START. */
struct agent_log_plan {
    bool rotate;
    uint64_t from;
    uint64_t len;
    uint64_t new_start;
};

/* Whether and how to rotate output.log of SIZE bytes, with OLD_SIZE bytes
 * in output.log.1, at most BOUND bytes wanted in each, the first byte kept
 * at START. Rotates when SIZE > BOUND; copies the last BOUND bytes; what
 * was in output.log.1, and what of output.log is not copied, is gone. */
struct agent_log_plan agent_log_plan(uint64_t size, uint64_t old_size,
                                     uint64_t bound, uint64_t start);

/* Where a read that asks for OFFSET begins, with the bytes kept from START
 * up to END: a negative OFFSET counts back from END; the result is clamped
 * to [START, END]. */
uint64_t agent_log_begin(int64_t offset, uint64_t start, uint64_t end);

/* The sizes of TASK_DIR's output.log.1 (*OLD) and output.log (*CUR); a
 * missing file counts as empty. */
void agent_log_sizes(const char *task_dir, uint64_t *old, uint64_t *cur);

/* Rotate TASK_DIR's output if it is over BOUND, moving *START. Returns 1
 * when rotated, 0 when not needed, -1 with a reason in ERR (*START is
 * then unchanged, and the files are as they were or merely rotated
 * without the truncate). */
int agent_log_rotate(const char *task_dir, uint64_t bound, uint64_t *start,
                     char *err, size_t errlen);

/* Read up to MAX bytes from offset FROM of TASK_DIR's output, kept from
 * START, into a malloc'ed *OUT (*LEN bytes; the caller frees it). A FROM
 * before START reads from START. Returns 0, or -1 with a reason in ERR.
 * Reading at or past the end gives 0 bytes. */
int agent_log_read(const char *task_dir, uint64_t start, uint64_t from,
                   size_t max, char **out, size_t *len, char *err,
                   size_t errlen);

#endif
