/* The guest workload, static so that its whole address space is known: maps SIZE MiB, places
 * all of it on node 1 right after touching it, prints {pid, base, size, hot}, then keeps
 * touching its hot set (two 2 MiB-aligned ranges of HOT/2 MiB) and leaves the rest cold.
 * "bystander" touches all of its memory: tierd must never move it.
 * usage: workload workload|bystander SIZE_MIB [HOT_MIB] */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MiB (1UL << 20)

int main(int argc, char **argv) {
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
