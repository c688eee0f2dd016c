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

// How long an idle worker spins before it sleeps. Kernel calls inside a training step come a
// few µs apart, so 300 µs keeps the pool hot through a step while a sleeping pool costs nothing
// during env collection.
#define SPIN_NS 300000LL
// Spinning on a busy machine (more runnable threads than cores) starves the thread being waited
// for: yield the core every so often while waiting.
#define YIELD_EVERY 256

static struct {
  int n;             // threads in all, caller included
  pthread_t* th;     // [n - 1] workers
  _Atomic unsigned gen;    // job generation, bumped per job
  _Atomic int done;        // workers finished with the current job
  _Atomic int sleepers;    // workers blocked on cv
  _Atomic int quit;
  fathom_job fn;
  void* args;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  _Atomic int bar_count;
  _Atomic unsigned bar_gen;
  unsigned start_gen; // generation when the workers were created (their first `seen`)
} P = {.n = 1};

static pthread_mutex_t submit_mu = PTHREAD_MUTEX_INITIALIZER;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void* worker(void* arg) {
  int tid = (int)(intptr_t)arg;
  unsigned seen = P.start_gen; // not P.gen: a job may already have been posted
  for (;;) {
    unsigned g = atomic_load_explicit(&P.gen, memory_order_acquire);
    if (g == seen) {
      long long t0 = now_ns();
      int spins = 0;
      while ((g = atomic_load_explicit(&P.gen, memory_order_acquire)) == seen) {
        cpu_relax();
        if (++spins % 64 == 0 && now_ns() - t0 > SPIN_NS) break;
        if (spins % (YIELD_EVERY * 16) == 0) sched_yield();
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
    P.fn(P.args, tid, P.n);
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
      err = pthread_create(&P.th[started], NULL, worker, (void*)(intptr_t)(started + 1));
      if (err) break;
    }
    P.n = started + 1;
    if (err) pool_stop();
  }
  pthread_mutex_unlock(&submit_mu);
  return err;
}

int pool_threads(void) { return P.n; }

void pool_lock(void) { pthread_mutex_lock(&submit_mu); }
void pool_unlock(void) { pthread_mutex_unlock(&submit_mu); }

void pool_run(fathom_job fn, void* args) {
  pthread_mutex_lock(&submit_mu);
  if (P.n == 1) {
    fn(args, 0, 1);
    pthread_mutex_unlock(&submit_mu);
    return;
  }
  P.fn = fn;
  P.args = args;
  atomic_store(&P.done, 0);
  atomic_fetch_add(&P.gen, 1); // seq_cst: pairs with the sleepers check below (no lost wake-up)
  if (atomic_load(&P.sleepers) > 0) {
    pthread_mutex_lock(&P.mu);
    pthread_cond_broadcast(&P.cv);
    pthread_mutex_unlock(&P.mu);
  }
  fn(args, 0, P.n);
  int spins = 0;
  while (atomic_load_explicit(&P.done, memory_order_acquire) != P.n - 1) {
    cpu_relax();
    if (++spins % YIELD_EVERY == 0) sched_yield();
  }
  pthread_mutex_unlock(&submit_mu);
}

void pool_barrier(int nt) {
  if (nt <= 1) return;
  unsigned g = atomic_load_explicit(&P.bar_gen, memory_order_acquire);
  if (atomic_fetch_add(&P.bar_count, 1) == nt - 1) {
    atomic_store(&P.bar_count, 0);
    atomic_fetch_add_explicit(&P.bar_gen, 1, memory_order_release);
    return;
  }
  int spins = 0;
  while (atomic_load_explicit(&P.bar_gen, memory_order_acquire) == g) {
    cpu_relax();
    if (++spins % YIELD_EVERY == 0) sched_yield();
  }
}
