// Persistent thread pool: one job at a time, run by every thread. See pool.h.
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax() ((void)0)
#endif

// How long an idle worker spins before it sleeps (FATHOM_SPIN_US overrides, read at start).
// Kernel calls inside a training step come a few µs apart, so 100 µs keeps the pool hot through
// a step; a sleeping worker costs nothing, and on a busy machine it also does not burn the time
// slice it will need when the next job comes.
static long long spin_ns = 100000LL;
// Spinning on a busy machine (more runnable threads than cores) starves the thread being waited
// for: yield the core every so often while waiting.
#define YIELD_EVERY 256
// The longest a worker that missed a job stays awake waiting for it to end (wait_job_end).
#define MISSED_JOB_WAIT_NS 20000000LL
// A gap this long between two clock reads of a spinning worker means it was preempted; then no
// worker stays awake through missed jobs for CONTENDED_HOLD_NS.
#define PREEMPTED_NS 200000LL
#define CONTENDED_HOLD_NS 1000000000LL

static struct {
  int n;                // threads in all, caller included
  pthread_t* th;        // [n - 1] workers
  _Atomic unsigned gen; // job generation, bumped per job (wakes the workers)
  // Membership of the current job: epoch (= gen) << 32 | closed << 31 | participants.
  _Atomic unsigned long long member;
  _Atomic int done;     // joined workers finished with the current job
  _Atomic int sleepers; // workers blocked on cv
  _Atomic int quit;
  fathom_job fn;
  void* args;
  int solo; // the current job runs on the caller alone
  pthread_mutex_t mu;
  pthread_cond_t cv;
  _Atomic int bar_count;
  _Atomic unsigned bar_gen;
  unsigned start_gen; // generation when the workers were created (their first `seen`)
  _Atomic unsigned finished; // generation of the last job that ended
  // Until this time (ns) workers do not stay awake through jobs they missed: a spinning worker
  // found it had been preempted, so the cores are contended (see wait_job_end).
  _Atomic long long contended_until;
  // Statistics (pool_stats): jobs offered to the pool, and the threads that ran them in all.
  _Atomic unsigned long long stat_jobs, stat_threads;
} P = {.n = 1};

// Claim counters, one per cache line.
#define SLOT_STRIDE 16
static int* slots_mem;
static int slots_cap;

#define CLOSED (1ull << 31)
#define COUNT_MASK (CLOSED - 1)

static pthread_mutex_t submit_mu = PTHREAD_MUTEX_INITIALIZER;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Joins job `g` if it is still open; returns the thread id, or -1.
static int try_join(unsigned g) {
  unsigned long long s = atomic_load(&P.member);
  for (;;) {
    if ((unsigned)(s >> 32) != g || (s & CLOSED)) return -1;
    if (atomic_compare_exchange_weak(&P.member, &s, s + 1)) return (int)(s & COUNT_MASK);
  }
}

// Closes membership (idempotent); returns the number of participants.
static int close_membership(void) {
  unsigned long long s = atomic_load(&P.member);
  while (!(s & CLOSED) && !atomic_compare_exchange_weak(&P.member, &s, s | CLOSED)) {
  }
  return (int)(s & COUNT_MASK);
}

// A spinning worker's clock read: notes contention when the previous read is long ago.
static long long spin_clock(long long* last) {
  const long long t = now_ns();
  if (t - *last > PREEMPTED_NS) atomic_store_explicit(&P.contended_until, t + CONTENDED_HOLD_NS, memory_order_relaxed);
  *last = t;
  return t;
}

// Called by a worker that woke after job g's first barrier (membership closed: the caller runs g
// without it). It stays awake until g ends, so that its idle spin covers the caller's next
// submission. Otherwise, when a job run by the caller alone outlasts the idle spin (spin_ns), the
// worker is asleep again for the next job, wakes too late again, and the pool runs at one thread
// from then on. That fits bench -- gemm's medians at half the best on an idle Zen 4 VM (waking a
// halted vCPU can take longer than the caller needs to pack B and reach the first barrier), and
// it reproduces on 2 cores given the CPU (chrt -f 1) with 8192×256×16 GEMMs (B packs in ~1 µs)
// after a 100 ms pause: 1.00 threads per job without this wait, 1.99 with it.
// Not on contended cores: there a thread that has been spinning loses the scheduler's favour a
// woken sleeper gets; waiting regardless, workers joined fewer jobs (2 cores at load 10: 1.1 vs
// 1.5 threads per job), so a worker that finds it was preempted stops waiting for a while.
static void wait_job_end(unsigned g) {
  long long t0 = now_ns(), last = t0;
  if (spin_ns == 0 || t0 < atomic_load_explicit(&P.contended_until, memory_order_relaxed)) return;
  int spins = 0;
  while (atomic_load_explicit(&P.finished, memory_order_acquire) != g && atomic_load_explicit(&P.gen, memory_order_acquire) == g &&
         !atomic_load(&P.quit)) {
    cpu_relax();
    if (++spins % 64 == 0) {
      const long long t = spin_clock(&last);
      if (t - t0 > MISSED_JOB_WAIT_NS || t < atomic_load_explicit(&P.contended_until, memory_order_relaxed)) return;
    }
  }
}

static void* worker(void* arg) {
  (void)arg;
  unsigned seen = P.start_gen; // not P.gen: a job may already have been posted
  for (;;) {
    unsigned g = atomic_load_explicit(&P.gen, memory_order_acquire);
    if (g == seen) {
      long long t0 = now_ns(), last = t0;
      int spins = 0;
      while ((g = atomic_load_explicit(&P.gen, memory_order_acquire)) == seen) {
        cpu_relax();
        if (++spins % 64 == 0 && spin_clock(&last) - t0 > spin_ns) break;
      }
      if (g == seen) {
        pthread_mutex_lock(&P.mu);
        atomic_fetch_add(&P.sleepers, 1);
        while ((g = atomic_load(&P.gen)) == seen && !atomic_load(&P.quit)) pthread_cond_wait(&P.cv, &P.mu);
        atomic_fetch_sub(&P.sleepers, 1);
        pthread_mutex_unlock(&P.mu);
      }
    }
    if (atomic_load(&P.quit)) return NULL;
    seen = g;
    const int tid = try_join(g);
    if (tid < 0) { // too late: the caller runs this job without us
      wait_job_end(g);
      continue;
    }
    P.fn(P.args, tid);
    atomic_fetch_add_explicit(&P.done, 1, memory_order_release);
  }
}

static void pool_stop(void) {
  if (P.n <= 1) return;
  pthread_mutex_lock(&P.mu);
  atomic_store(&P.quit, 1);
  atomic_fetch_add(&P.gen, 1);
  pthread_cond_broadcast(&P.cv);
  pthread_mutex_unlock(&P.mu);
  for (int i = 0; i < P.n - 1; i++) pthread_join(P.th[i], NULL);
  free(P.th);
  P.th = NULL;
  P.n = 1;
  pthread_mutex_destroy(&P.mu);
  pthread_cond_destroy(&P.cv);
}

int pool_start(int threads) {
  pthread_mutex_lock(&submit_mu);
  const char* env = getenv("FATHOM_SPIN_US");
  if (env && *env) spin_ns = atoll(env) * 1000LL;
  pool_stop();
  int err = 0;
  if (threads > 1) {
    atomic_store(&P.quit, 0);
    atomic_store(&P.sleepers, 0);
    atomic_store(&P.bar_count, 0);
    pthread_mutex_init(&P.mu, NULL);
    pthread_cond_init(&P.cv, NULL);
    P.start_gen = atomic_load(&P.gen);
    P.th = (pthread_t*)calloc((size_t)threads - 1, sizeof(pthread_t));
    if (!P.th) err = ENOMEM;
    int started = 0;
    for (; !err && started < threads - 1; started++) {
      err = pthread_create(&P.th[started], NULL, worker, NULL);
      if (err) break;
    }
    P.n = started + 1;
    if (err) pool_stop();
  }
  pthread_mutex_unlock(&submit_mu);
  return err;
}

int pool_threads(void) { return P.n; }

int pool_reserve(int slots) {
  if (slots <= slots_cap) return 0;
  int* q = (int*)aligned_alloc(64, (size_t)slots * SLOT_STRIDE * sizeof(int));
  if (!q) return ENOMEM;
  pthread_mutex_lock(&submit_mu);
  free(slots_mem);
  slots_mem = q;
  slots_cap = slots;
  pthread_mutex_unlock(&submit_mu);
  return 0;
}

int pool_claim(int slot, int unit) {
  return atomic_fetch_add_explicit((_Atomic int*)&slots_mem[slot * SLOT_STRIDE], unit, memory_order_relaxed);
}

void pool_run(fathom_job fn, void* args, int slots, int parallel) {
  pthread_mutex_lock(&submit_mu);
  for (int i = 0; i < slots; i++) atomic_store_explicit((_Atomic int*)&slots_mem[i * SLOT_STRIDE], 0, memory_order_relaxed);
  if (!parallel || P.n == 1) {
    P.solo = 1;
    fn(args, 0);
    P.solo = 0;
    pthread_mutex_unlock(&submit_mu);
    return;
  }
  P.fn = fn;
  P.args = args;
  atomic_store(&P.done, 0);
  const unsigned g = atomic_load(&P.gen) + 1;
  atomic_store(&P.member, ((unsigned long long)g << 32) | 1); // the caller is participant 0
  atomic_store(&P.gen, g); // seq_cst: pairs with the sleepers check below (no lost wake-up)
  if (atomic_load(&P.sleepers) > 0) {
    pthread_mutex_lock(&P.mu);
    pthread_cond_broadcast(&P.cv);
    pthread_mutex_unlock(&P.mu);
  }
  fn(args, 0);
  const int nt = close_membership();
  int spins = 0;
  while (atomic_load_explicit(&P.done, memory_order_acquire) != nt - 1) {
    cpu_relax();
    if (++spins % YIELD_EVERY == 0) sched_yield();
  }
  atomic_store_explicit(&P.finished, g, memory_order_release);
  atomic_fetch_add_explicit(&P.stat_jobs, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&P.stat_threads, (unsigned long long)nt, memory_order_relaxed);
  pthread_mutex_unlock(&submit_mu);
}

void pool_stats(unsigned long long* jobs, unsigned long long* threads) {
  *jobs = atomic_load(&P.stat_jobs);
  *threads = atomic_load(&P.stat_threads);
}

int pool_job_threads(void) {
  if (P.solo) return 1;
  const int nt = close_membership();
  return nt < 1 ? 1 : nt;
}

int pool_barrier(void) {
  if (P.solo) return 1;
  const int nt = close_membership();
  if (nt <= 1) return 1;
  unsigned g = atomic_load_explicit(&P.bar_gen, memory_order_acquire);
  if (atomic_fetch_add(&P.bar_count, 1) == nt - 1) {
    atomic_store(&P.bar_count, 0);
    atomic_fetch_add_explicit(&P.bar_gen, 1, memory_order_release);
    return nt;
  }
  int spins = 0;
  while (atomic_load_explicit(&P.bar_gen, memory_order_acquire) == g) {
    cpu_relax();
    if (++spins % YIELD_EVERY == 0) sched_yield();
  }
  return nt;
}
