// The worker lane of pool.h. The worker spins for a short while after each part (a training step calls the
// kernels back to back, so the next part usually comes within microseconds), then sleeps on a condition
// variable; the caller signals it only when it sleeps. Whoever comes first claims the second part: the worker
// when it wakes, or the caller once its own part is done. On a machine whose other core is busy the worker
// does not get to run in time, and the caller then computes both parts, as with one lane. One caller at a
// time holds the worker (a mutex taken with trylock); a second caller, e.g. another worker_thread of Node in
// the same process, runs alone.
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#define RELAX() _mm_pause()
#else
#define RELAX() ((void)0)
#endif

static atomic_int lanes = 1;
static pthread_mutex_t holder = PTHREAD_MUTEX_INITIALIZER;   // held by the caller that uses the worker
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
// ticket: the number of the part waiting to be claimed, 0 when none; whoever swaps it to 0 computes it.
// finished: the number of the last part the worker computed. Part numbers are never 0.
static atomic_uint ticket, finished, splits;
static atomic_int sleeping, started, patient;
static unsigned last_part;   // the holder's counter
static bp_body job_body;
static void *job_ctx;
static size_t job_lo, job_hi;

// How long the worker spins before it sleeps, and how long a part must take to be worth the second lane
// (a wake-up from sleep costs ~0.1 ms on the VM we measured, a hand-off to a spinning worker well under 1 µs).
#define SPIN_NS 500000L
#define SPLIT_NS 20000.0

static long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void *worker(void *unused) {
  (void)unused;
  for (;;) {
    long idle = now_ns();
    unsigned part;
    while ((part = atomic_load(&ticket)) == 0) {
      for (int i = 0; i < 64 && atomic_load(&ticket) == 0; i++) RELAX();
      sched_yield();   // a busy machine's other threads first
      if (atomic_load(&ticket) == 0 && now_ns() - idle > SPIN_NS) {
        pthread_mutex_lock(&sleep_lock);
        atomic_store(&sleeping, 1);
        while (atomic_load(&ticket) == 0) pthread_cond_wait(&wake, &sleep_lock);
        atomic_store(&sleeping, 0);
        pthread_mutex_unlock(&sleep_lock);
      }
    }
    // the job's fields were written before the ticket, and stay until the caller sees `finished`
    if (atomic_compare_exchange_strong(&ticket, &part, 0)) {
      job_body(job_ctx, job_lo, job_hi);
      atomic_store(&finished, part);
    }
  }
  return NULL;
}

unsigned bp_take_splits(void) { return atomic_exchange(&splits, 0); }

int bp_lanes(void) { return atomic_load(&lanes); }

void bp_set_lanes(int n) { atomic_store(&lanes, n >= 2 ? 2 : 1); }

void bp_set_patient(int on) { atomic_store(&patient, on != 0); }

static int start_worker(void) {
  if (atomic_load(&started)) return 1;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int ok = pthread_create(&t, &attr, worker, NULL) == 0;
  pthread_attr_destroy(&attr);
  if (ok) atomic_store(&started, 1);
  return ok;
}

// A busy machine: when the worker, awake at the hand-off, keeps failing to start its part before this thread
// has finished its own (it did not get a core), the second lane costs more than it gives; the kernels then
// stay on this thread for a while and try again. (A worker that starts in time but finishes a little later is
// not late: its half of a just-written array comes from the other core's cache.) A quiet machine has short
// bursts of lateness too (the process's own garbage collector takes the other core for a millisecond or two),
// so the first back-off is short and only back-offs that follow each other closely grow: a fixed 50 ms kept
// LeNet-5's steps on one lane for 68 % of their kernel calls on an idle machine (bench/RESULTS.md, round five).
#define LATE_TURNS 4               // late hand-offs in a row (net of on-time ones) before backing off
#define BACK_OFF_MIN_NS 2000000L   // 2 ms on one lane, doubled for each back-off that comes within
#define BACK_OFF_NEAR_NS 10000000L // 10 ms of the previous one's end,
#define BACK_OFF_MAX_NS 50000000L  // up to 50 ms
static int late_score;
static long one_lane_until, back_off = BACK_OFF_MIN_NS;

static void back_off_now(void) {
  long t = now_ns();
  back_off = t - one_lane_until < BACK_OFF_NEAR_NS ? (back_off * 2 < BACK_OFF_MAX_NS ? back_off * 2 : BACK_OFF_MAX_NS) : BACK_OFF_MIN_NS;
  one_lane_until = t + back_off;
}

void bp_run2(bp_body body, void *ctx, size_t n, size_t cut) {
  if (cut == 0 || cut >= n || atomic_load(&lanes) < 2 || pthread_mutex_trylock(&holder) != 0) {
    body(ctx, 0, n);
    return;
  }
  if ((one_lane_until && now_ns() < one_lane_until && !atomic_load(&patient)) || !start_worker()) {
    pthread_mutex_unlock(&holder);
    body(ctx, 0, n);
    return;
  }
  job_body = body, job_ctx = ctx, job_lo = cut, job_hi = n;
  unsigned part = ++last_part;
  if (part == 0) part = ++last_part;
  atomic_store(&ticket, part);   // seq_cst: after the job's fields, before `sleeping` is read
  int awake = !atomic_load(&sleeping);
  if (!awake) {
    pthread_mutex_lock(&sleep_lock);
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&sleep_lock);
  }
  body(ctx, 0, cut);
  unsigned open = part;
  int late = 0;
  if (!atomic_load(&patient) && atomic_compare_exchange_strong(&ticket, &open, 0)) {
    body(ctx, cut, n);   // the worker did not come in time
    late = 1;
  } else {
    atomic_fetch_add(&splits, 1);
    // the worker's part: spin, and give the core away now and then in case the worker is waiting for one
    for (unsigned i = 1; atomic_load(&finished) != part; i++) {
      RELAX();
      if ((i & 1023) == 0) sched_yield();
    }
  }
  if (awake) {   // a sleeping worker is late by its wake-up, whatever the machine's load
    late_score = late ? late_score + 1 : late_score > 0 ? late_score - 1 : 0;
    if (late_score >= LATE_TURNS) {
      late_score = 0;
      back_off_now();
    }
  }
  pthread_mutex_unlock(&holder);
}

void bp_split(bp_body body, void *ctx, size_t n, size_t align, double cost) {
  size_t cut = n / 2;
  if (align > 1) cut -= cut % align;
  if (atomic_load(&lanes) < 2 || (double)n * cost < SPLIT_NS) cut = 0;
  bp_run2(body, ctx, n, cut);
}
