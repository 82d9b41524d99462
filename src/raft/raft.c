/* raft.c - placeholder; the core lands next. */
#include "raft/raft.h"
