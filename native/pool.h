// Persistent thread pool (DESIGN §3: a fork/join through Atomics costs ~30 µs, so whole kernels
// run as one job on threads that already exist; idle workers spin briefly, then sleep).
//
// Membership is dynamic, so a busy machine cannot stall a job on a thread the OS has not run:
// the caller always takes part (tid 0); a worker joins only if it wakes before the job's first
// barrier (or its end), else it skips the job. Work before the first barrier is therefore
// shared out by claiming (pool_claim), never by thread id; the first pool_barrier returns the
// final thread count, and the work after it may be split by (tid, nt).
#ifndef FATHOM_POOL_H
#define FATHOM_POOL_H

#include "common.h"

// (Re)starts the pool with `threads` ≥ 1 threads in all (the caller counts as thread 0).
// Returns 0 on success, else an errno-style code (the pool then runs on the caller alone).
int pool_start(int threads);
int pool_threads(void);
// Runs fn(args, tid) on the caller and on the workers that join, and returns when all are done.
// `slots` claim counters (see pool_claim) start at 0. parallel = 0 runs it on the caller alone.
// Call from one JS thread at a time (the scratch buffers are grown outside the job).
void pool_run(fathom_job fn, void* args, int slots, int parallel);
// Next `unit` items of the shared counter `slot`: returns the first; ≥ the item count = none left.
int pool_claim(int slot, int unit);
// Waits until all threads of the current job reach it; returns their number (≥ 1).
int pool_barrier(void);
// The current job's thread count, without waiting; closes membership as a barrier would, so
// call it only after a barrier (before one, a late worker may still have joined elsewhere).
int pool_job_threads(void);
// The claim counters the pool can hold now; pool_reserve grows them (caller thread, no job running).
int pool_reserve(int slots);
// Since the process started: jobs run on the pool (parallel = 1 with more than one thread), and
// the threads that ran them, summed (threads / jobs < pool_threads(): workers missed jobs).
void pool_stats(unsigned long long* jobs, unsigned long long* threads);

#endif
