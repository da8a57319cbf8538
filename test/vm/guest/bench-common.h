/* What the comparison benchmark's two C drivers share (compare-workload.c, redis-client.c):
 * the random numbers, the Zipfian ranks, and the once-a-second ops line. */
#ifndef TIERD_BENCH_COMMON_H
#define TIERD_BENCH_COMMON_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned long s_rng = 88172645463325252UL;
static inline unsigned long rnd(void) {
  s_rng ^= s_rng << 13; s_rng ^= s_rng >> 7; s_rng ^= s_rng << 17;
  return s_rng;
}
static inline void seed_rng(unsigned long seed) { s_rng ^= seed * 0x9E3779B97F4A7C15UL; }
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Zipfian popularity over n items: the cumulative distribution by rank, and for each of two
 * phases a shuffle of the items over the ranks (idx[ph][rank] = item) and each item's share */
static void zipf_setup(unsigned long n, double theta, double *cdf, unsigned long *idx[2], double *share[2]) {
  double norm = 0, acc = 0;
  for (unsigned long r = 0; r < n; r++) norm += pow(r + 1, -theta);
  for (unsigned long r = 0; r < n; r++) { acc += pow(r + 1, -theta) / norm; cdf[r] = acc; }
  for (int ph = 0; ph < 2; ph++) {
    for (unsigned long i = 0; i < n; i++) idx[ph][i] = i;
    for (unsigned long i = n - 1; i > 0; i--) { unsigned long j = rnd() % (i + 1), t = idx[ph][i]; idx[ph][i] = idx[ph][j]; idx[ph][j] = t; }
    for (unsigned long r = 0; r < n; r++) share[ph][idx[ph][r]] = pow(r + 1, -theta) / norm;
  }
}

/* a Zipfian rank: the first rank whose cumulative share reaches a uniform draw */
static inline unsigned long zipf_rank(const double *cdf, unsigned long n) {
  double u = (rnd() >> 11) * (1.0 / 9007199254740992.0);
  unsigned long lo = 0, hi = n - 1;
  while (lo < hi) { unsigned long mid = (lo + hi) / 2; if (cdf[mid] < u) lo = mid + 1; else hi = mid; }
  return lo;
}

/* counts operations, prints {"t":S,"ops":N} once a second, and says the phase (1 from shift_s) */
struct ticker { double t0, last; unsigned long ops; int phase; double shift_s; };
static struct ticker ticker_start(double shift_s) { double t = now(); return (struct ticker){t, t, 0, 0, shift_s}; }
static int tick(struct ticker *k, unsigned long ops) {
  k->ops += ops;
  double t = now();
  if (t - k->last >= 1.0) {
    printf("{\"t\":%.1f,\"ops\":%lu}\n", t - k->t0, k->ops);
    fflush(stdout);
    k->ops = 0;
    k->last = t;
  }
  if (!k->phase && k->shift_s > 0 && t - k->t0 >= k->shift_s) k->phase = 1;
  return k->phase;
}
#endif
