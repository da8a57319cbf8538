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

int main(int argc, char **argv) {
  int maxn = 16384, batches = argc > 1 ? atoi(argv[1]) : 31;
  double budget = argc > 2 ? atof(argv[2]) : 0.002;
  char *mem = mmap(0, (size_t)maxn * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (int i = 0; i < maxn; i++) mem[(size_t)i * 4096] = 1;
  void **pages = malloc(sizeof(void *) * maxn);
  int *nodes = calloc(maxn, sizeof(int)), *status = malloc(sizeof(int) * maxn);
  for (int i = 0; i < maxn; i++) pages[i] = mem + (size_t)i * 4096;
  int pid = getpid(), sizes[] = {1, 64, 1024, 16384};
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
