/* The guest workload, static so that its whole address space is known: maps SIZE MiB, places
 * all of it on node 1 right after touching it, prints {pid, base, size, hot}, then keeps
 * touching its hot set (two 2 MiB-aligned ranges of HOT/2 MiB) and leaves the rest cold.
 * "bystander" touches all of its memory: tierd must never move it.
 * "churn" maps, touches, splits, frees and unmaps memory in a loop for SECONDS (the stress run).
 * "exiter" touches SIZE MiB, prints its pid, waits for a byte on stdin (the reader has opened
 * its idle_pages), then exits after DELAY_MS: a target that dies while it is being read.
 * usage: workload workload|bystander SIZE_MIB [HOT_MIB] | churn SECONDS | exiter SIZE_MIB DELAY_MS */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MiB (1UL << 20)

static unsigned long rnd(void) {
  static unsigned long x = 88172645463325252UL;
  x ^= x << 13; x ^= x >> 7; x ^= x << 17;
  return x;
}

/* every way a VMA or a page table can change under a reader: map, fault, THP, split by
 * mprotect, zap by MADV_DONTNEED, partial and whole unmap */
static int churn(unsigned long seconds) {
  enum { SLOTS = 64 };
  char *slot[SLOTS] = {0};
  unsigned long len[SLOTS] = {0};
  time_t end = time(0) + (time_t)seconds;
  unsigned long ops = 0;
  printf("{\"pid\":%d}\n", getpid());
  fflush(stdout);
  while (time(0) < end) {
    int i = rnd() % SLOTS;
    if (slot[i]) {
      switch (rnd() % 4) {
      case 0: munmap(slot[i], len[i]); slot[i] = 0; break;
      case 1: mprotect(slot[i] + (len[i] / 2 & ~4095UL), 4096, PROT_READ); break;
      case 2: madvise(slot[i], len[i] / 2 & ~4095UL, MADV_DONTNEED); break;
      default: munmap(slot[i] + (len[i] / 2 & ~4095UL), len[i] - (len[i] / 2 & ~4095UL)); len[i] = len[i] / 2 & ~4095UL; if (!len[i]) slot[i] = 0; break;
      }
    } else {
      len[i] = ((rnd() % 2048) + 1) * 4096;
      slot[i] = mmap(0, len[i], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (slot[i] == MAP_FAILED) { slot[i] = 0; continue; }
      if (rnd() % 2) madvise(slot[i], len[i], MADV_HUGEPAGE);
      for (unsigned long p = 0; p < len[i]; p += 4096) slot[i][p] = 1;
    }
    ops++;
  }
  fprintf(stderr, "churn: %lu operations\n", ops);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "churn") == 0) return churn(argc > 2 ? strtoul(argv[2], 0, 0) : 60);
  if (argc > 1 && strcmp(argv[1], "exiter") == 0) {
    unsigned long size = (argc > 2 ? strtoul(argv[2], 0, 0) : 256) * MiB;
    unsigned long delay = argc > 3 ? strtoul(argv[3], 0, 0) : 10;
    char *m = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 1;
    for (unsigned long p = 0; p < size; p += 4096) m[p] = 1;
    printf("{\"pid\":%d}\n", getpid());
    fflush(stdout);
    char go;
    if (read(0, &go, 1) < 0) return 1;
    usleep(delay * 1000);
    return 0;
  }
  int bystander = argc > 1 && strcmp(argv[1], "bystander") == 0;
  unsigned long size = (argc > 2 ? strtoul(argv[2], 0, 0) : 768) * MiB;
  unsigned long hot = (argc > 3 ? strtoul(argv[3], 0, 0) : 96) * MiB;
  char *raw = mmap(0, size + 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) { perror("mmap"); return 1; }
  char *mem = (char *)(((unsigned long)raw + 2 * MiB - 1) & ~(2 * MiB - 1));
  unsigned long pages = size / 4096;
  for (unsigned long i = 0; i < pages; i++) mem[i * 4096] = 1;
  void *addrs[1024]; int nodes[1024], status[1024];
  for (int j = 0; j < 1024; j++) nodes[j] = 1;
  for (unsigned long i = 0; i < pages; i += 1024) {
    unsigned long n = pages - i < 1024 ? pages - i : 1024;
    for (unsigned long j = 0; j < n; j++) addrs[j] = mem + (i + j) * 4096;
    if (syscall(SYS_move_pages, 0, n, addrs, nodes, status, 2) < 0) { perror("move_pages"); return 1; }
  }
  unsigned long off[2], len[2];
  int ranges = 2;
  if (bystander) { ranges = 1; off[0] = 0; len[0] = size; }
  else {
    off[0] = (size / 8) & ~(2 * MiB - 1); len[0] = hot / 2;
    off[1] = (size * 5 / 8) & ~(2 * MiB - 1); len[1] = hot / 2;
  }
  printf("{\"pid\":%d,\"base\":%lu,\"size\":%lu,\"hot\":[", getpid(), (unsigned long)mem, size);
  for (int r = 0; r < ranges; r++) printf("%s[%lu,%lu]", r ? "," : "", off[r], len[r]);
  printf("]}\n");
  fflush(stdout);
  for (volatile unsigned long x = 0;; x++)
    for (int r = 0; r < ranges; r++)
      for (unsigned long p = off[r]; p < off[r] + len[r]; p += 4096) mem[p]++;
}
