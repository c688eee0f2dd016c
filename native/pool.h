// Persistent thread pool (DESIGN §3: a fork/join through Atomics costs ~30 µs, so whole kernels
// run as one job on threads that already exist; idle workers spin briefly, then sleep).
#ifndef FATHOM_POOL_H
#define FATHOM_POOL_H

#include "common.h"

// (Re)starts the pool with `threads` ≥ 1 threads in all (the caller counts as thread 0).
// Returns 0 on success, else an errno-style code (the previous pool is then gone: threads = 1).
int pool_start(int threads);
int pool_threads(void);
// Runs fn(args, tid, nt) on every thread (tid 0 on the caller) and returns when all are done.
// Calls are serialised by a mutex, so several JS threads may share the addon.
void pool_run(fathom_job fn, void* args);
// Serialises a job that the caller runs alone (nt = 1) with pool jobs from other JS threads.
void pool_lock(void);
void pool_unlock(void);
// Waits until all `nt` threads of the current job reach it (no-op when nt == 1).
void pool_barrier(int nt);

#endif
