/* The comparison benchmark's workloads (static, so the whole address space is known).
 *
 *   compare-workload shift SIZE_MIB HOT_MIB WARM_MIB SHIFT_S SEED
 *     random accesses: 80% to a hot set, 15% to a warm set, 5% to the rest, both sets scattered
 *     over the memory in 1-8 MiB extents; at SHIFT_S seconds the hot set moves to other extents.
 *   compare-workload zipf SIZE_MIB THETA_X100 SHIFT_S SEED
 *     key-value style: 4 KiB records, record popularity Zipfian (theta), ranks shuffled over the
 *     memory; at SHIFT_S the ranks are reshuffled (a new popular set).
 *   compare-workload filler SIZE_MIB
 *     touches SIZE_MIB on the node it runs on, then one page per second: rarely-touched memory
 *     that fills DRAM (the "DRAM nearly full" scenario).
 *
 * All memory of shift/zipf is placed on node 1 after it is touched (the worst start), in 4 KiB
 * pages (MADV_NOHUGEPAGE: a THP would mix hot and cold extents). The
 * workload prints one JSON line with its layout: base, size, and per 4 KiB page the share of
 * accesses it gets ("shares": run-length list of [pages, share per page]) for each phase, then
 * one line per second: {"t":S,"ops":N} (accesses done in that second). It is the ground truth
 * of the benchmark: what it touches, and how often. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <errno.h>
#include <unistd.h>
#include "bench-common.h"

#define MiB (1UL << 20)
#define PAGE 4096UL


static char *map_on_node1(unsigned long size) {
  char *raw = mmap(0, size + 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) { perror("mmap"); exit(1); }
  char *mem = (char *)(((unsigned long)raw + 2 * MiB - 1) & ~(2 * MiB - 1));
  /* 4 KiB pages: the hot and warm extents start anywhere, so with THPs every 2 MiB unit would
   * hold a mix, each contender could only move whole mixtures, and the page-level best would
   * be out of reach for all of them (the VM boots with transparent_hugepage=always) */
  madvise(mem, size, MADV_NOHUGEPAGE);
  unsigned long pages = size / PAGE;
  for (unsigned long i = 0; i < pages; i++) mem[i * PAGE] = 1;
  void *addrs[1024]; int nodes[1024], status[1024];
  for (int j = 0; j < 1024; j++) nodes[j] = 1;
  for (unsigned long i = 0; i < pages; i += 1024) {
    unsigned long n = pages - i < 1024 ? pages - i : 1024;
    for (unsigned long j = 0; j < n; j++) addrs[j] = mem + (i + j) * PAGE;
    if (syscall(SYS_move_pages, 0, n, addrs, nodes, status, 2) < 0) {
      perror("move_pages to node 1 (left where it is)"); /* a host with one node: still runs */
      break;
    }
  }
  return mem;
}

/* class per page: 0 cold, 1 warm, 2 hot; extents of 1-8 MiB picked at random among cold pages */
static void pick(unsigned char *cls, unsigned long pages, unsigned long want, unsigned char c) {
  unsigned long got = 0;
  while (got < want) {
    unsigned long len = ((rnd() % 8) + 1) * (MiB / PAGE);
    if (len > want - got) len = want - got;
    unsigned long at = rnd() % (pages - len);
    int free = 1;
    for (unsigned long i = at; i < at + len; i++) if (cls[i]) { free = 0; break; }
    if (!free) continue;
    memset(cls + at, c, len);
    got += len;
  }
}

/* run-length shares of one phase: [pages, share] pairs */
static void print_shares(const double *share, unsigned long pages) {
  printf("[");
  unsigned long i = 0;
  int first = 1;
  while (i < pages) {
    unsigned long j = i;
    while (j < pages && share[j] == share[i]) j++;
    printf("%s[%lu,%.6e]", first ? "" : ",", j - i, share[i]);
    first = 0;
    i = j;
  }
  printf("]");
}

static void loop(char *mem, unsigned long *idx[2], unsigned long n[2][3], double shift_s, int zipf,
                 double *cdf[2], unsigned long pages) {
  struct ticker tk = ticker_start(shift_s);
  for (int phase = 0;;) {
    for (int k = 0; k < 4096; k++) {
      unsigned long page;
      if (zipf) {
        page = idx[phase][zipf_rank(cdf[0], pages)];
      } else {
        unsigned long r = rnd() % 100;
        int c = r < 80 ? 2 : r < 95 ? 1 : 0;
        unsigned long base = c == 2 ? 0 : c == 1 ? n[phase][2] : n[phase][2] + n[phase][1];
        page = idx[phase][base + rnd() % n[phase][c]];
      }
      mem[page * PAGE + (rnd() % 64) * 64]++;
    }
    phase = tick(&tk, 4096);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: see the comment at the top\n"); return 2; }
  unsigned long size = strtoul(argv[2], 0, 0) * MiB, pages = size / PAGE;
  if (strcmp(argv[1], "filler") == 0) {
    char *m = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) { perror("mmap"); return 1; }
    for (unsigned long i = 0; i < pages; i++) m[i * PAGE] = 1;
    printf("{\"pid\":%d,\"base\":%lu,\"size\":%lu}\n", getpid(), (unsigned long)m, size);
    fflush(stdout);
    for (unsigned long i = 0;; i = (i + 1) % pages) { m[i * PAGE]++; sleep(1); }
  }
  int zipf = strcmp(argv[1], "zipf") == 0;
  if (!zipf && strcmp(argv[1], "shift") != 0) { fprintf(stderr, "unknown mode %s\n", argv[1]); return 2; }
  double shift_s = atof(argv[zipf ? 4 : 5]);
  seed_rng(strtoul(argv[zipf ? 5 : 6], 0, 0));
  char *mem = map_on_node1(size);
  unsigned long *idx[2];
  unsigned long n[2][3] = {{0}};
  double *share[2], *cdf[2] = {0, 0};
  for (int ph = 0; ph < 2; ph++) {
    idx[ph] = malloc(pages * sizeof(unsigned long));
    share[ph] = calloc(pages, sizeof(double));
  }
  if (zipf) {
    cdf[0] = malloc(pages * sizeof(double));
    zipf_setup(pages, strtoul(argv[3], 0, 0) / 100.0, cdf[0], idx, share);
  } else {
    unsigned long hot = strtoul(argv[3], 0, 0) * MiB / PAGE, warm = strtoul(argv[4], 0, 0) * MiB / PAGE;
    unsigned char *cls = calloc(pages, 1), *cls2 = calloc(pages, 1);
    pick(cls, pages, hot, 2);
    pick(cls, pages, warm, 1);
    /* phase 2: the warm set stays, the hot set moves to extents that were cold */
    for (unsigned long i = 0; i < pages; i++) cls2[i] = cls[i] == 1 ? 1 : 0;
    for (unsigned long i = 0; i < pages; i++) if (cls[i] == 2) cls2[i] = 3; /* reserve: not picked again */
    pick(cls2, pages, hot, 2);
    for (unsigned long i = 0; i < pages; i++) if (cls2[i] == 3) cls2[i] = 0;
    unsigned char *cl[2] = {cls, cls2};
    for (int ph = 0; ph < 2; ph++) {
      for (unsigned long i = 0; i < pages; i++) n[ph][cl[ph][i]]++;
      unsigned long at[3] = {n[ph][2] + n[ph][1], n[ph][2], 0};
      for (unsigned long i = 0; i < pages; i++) idx[ph][at[cl[ph][i]]++] = i;
      double per[3] = {0.05 / n[ph][0], 0.15 / n[ph][1], 0.80 / n[ph][2]};
      for (unsigned long i = 0; i < pages; i++) share[ph][i] = per[cl[ph][i]];
    }
  }
  printf("{\"pid\":%d,\"base\":%lu,\"size\":%lu,\"shiftS\":%g,\"phases\":[", getpid(), (unsigned long)mem, size, shift_s);
  print_shares(share[0], pages);
  printf(",");
  print_shares(share[1], pages);
  printf("]}\n");
  fflush(stdout);
  loop(mem, idx, n, shift_s, zipf, cdf, pages);
  return 0;
}
