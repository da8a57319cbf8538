/* Baseline for the decode benchmark: the same idle_pages decode and the same per-page work as
 * tierd (one table look-up and store per page: accessed and idle transitions; with the
 * "saturating" tables below this is a saturating u8 count), over a flat array per page size. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: decode STREAM BASE SPAN RUNS\n"); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror("open"); return 1; }
  fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n);
  if (fread(buf, 1, n, f) != (size_t)n) { perror("read"); return 1; }
  fclose(f);
  uint64_t base = strtoull(argv[2], 0, 0), span = strtoull(argv[3], 0, 0);
  int runs = atoi(argv[4]);
  uint8_t *small = calloc(span >> 12, 1), *huge = calloc((span >> 21) + 1, 1);
  memset(small, 0, span >> 12); memset(huge, 0, (span >> 21) + 1);
  uint8_t acc[256], idle[256];
  for (int s = 0; s < 256; s++) { acc[s] = s < 255 ? s + 1 : 255; idle[s] = s; }
  static const int shift[10] = {12, 21, 30, 12, 21, 12, 21, 21, 12, 21};
  printf("[");
  for (int r = 0; r < runs; r++) {
    double t0 = now();
    uint64_t va = 0, pages = 0;
    for (long i = 0; i < n;) {
      uint8_t b = buf[i];
      if (b == 0xA0) {
        uint64_t a = 0;
        for (int k = 1; k <= 8; k++) a = (a << 8) | buf[i + k];
        va = a; i += 9; continue;
      }
      int t = b >> 4, nr = b & 15;
      if (t >= 10 || nr == 0) { fprintf(stderr, "bad byte at %ld\n", i); return 1; }
      int sh = shift[t];
      const uint8_t *tab = (t == 0 || t == 1 || t == 3 || t == 4) ? acc : (t == 5 || t == 6) ? idle : 0;
      if (tab) {
        uint8_t *arr = sh == 12 ? small : huge;
        uint64_t from = (va - base) >> sh;
        for (uint64_t p = from; p < from + nr; p++) arr[p] = tab[arr[p]];
        pages += nr;
      }
      va += (uint64_t)nr << sh; i++;
    }
    double dt = now() - t0;
    printf("%s{\"seconds\":%.9f,\"pages\":%llu}", r ? "," : "", dt, (unsigned long long)pages);
  }
  printf("]\n");
  return small[1] == 255 ? 3 : 0; /* keep the arrays alive */
}
