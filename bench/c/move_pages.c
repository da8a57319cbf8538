/* Baseline for the move_pages benchmark: the same calls tierd makes, from C, on its own pages. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

/* usage: move_pages target                      -> maps and touches 16384 pages, prints the base, waits
 *        move_pages BATCHES BUDGET MODE PAGES PID BASE -> per-call seconds of each batch on PID's pages */
int main(int argc, char **argv) {
  int maxn = 16384;
  if (argc > 1 && strcmp(argv[1], "target") == 0) {
    char *m = mmap(0, (size_t)maxn * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < maxn; i++) m[(size_t)i * 4096] = 1;
    printf("%lu\n", (unsigned long)m);
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {} /* until stdin closes */
    return 0;
  }
  int batches = argc > 1 ? atoi(argv[1]) : 31;
  double budget = argc > 2 ? atof(argv[2]) : 0.002;
  int only_mode = argc > 3 ? atoi(argv[3]) : -1, only_n = argc > 4 ? atoi(argv[4]) : -1;
  int target = argc > 5 ? atoi(argv[5]) : 0;
  char *mem = argc > 6 ? (char *)strtoul(argv[6], 0, 0) : mmap(0, (size_t)maxn * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (argc <= 6) for (int i = 0; i < maxn; i++) mem[(size_t)i * 4096] = 1;
  void **pages = malloc(sizeof(void *) * maxn);
  int *nodes = calloc(maxn, sizeof(int)), *status = malloc(sizeof(int) * maxn);
  for (int i = 0; i < maxn; i++) pages[i] = mem + (size_t)i * 4096;
  int pid = target > 0 ? target : getpid(), sizes[] = {1, 64, 1024, 16384};
  if (only_mode >= 0) {
    int mode = only_mode, n = only_n;
    double t0 = now(); long c = 0;
    while (now() - t0 < budget) { syscall(SYS_move_pages, pid, n, pages, mode ? nodes : NULL, status, mode ? 2 : 0); c++; }
    printf("[");
    for (int b = 0; b < batches; b++) {
      double a = now();
      for (long k = 0; k < c; k++) if (syscall(SYS_move_pages, pid, n, pages, mode ? nodes : NULL, status, mode ? 2 : 0) != 0) { perror("move_pages"); return 1; }
      printf("%s%.9f", b ? "," : "", (now() - a) / c);
    }
    printf("]\n");
    return 0;
  }
  printf("{");
  for (int mode = 0; mode < 2; mode++) {
    printf("%s\"%s\":{", mode ? "," : "", mode ? "move" : "query");
    for (int s = 0; s < 4; s++) {
      int n = sizes[s];
      double per[256];
      /* calls per batch: enough for ~budget seconds */
      double t0 = now(); long c = 0;
      while (now() - t0 < budget) { syscall(SYS_move_pages, pid, n, pages, mode ? nodes : NULL, status, mode ? 2 : 0); c++; }
      for (int b = 0; b < batches; b++) {
        double a = now();
        for (long k = 0; k < c; k++) if (syscall(SYS_move_pages, pid, n, pages, mode ? nodes : NULL, status, mode ? 2 : 0) != 0) { perror("move_pages"); return 1; }
        per[b] = (now() - a) / c;
      }
      qsort(per, batches, sizeof(double), cmp);
      printf("%s\"%d\":{\"median\":%.9f,\"min\":%.9f,\"max\":%.9f}", s ? "," : "", n, per[batches / 2], per[0], per[batches - 1]);
    }
    printf("}");
  }
  printf("}\n");
  return 0;
}
