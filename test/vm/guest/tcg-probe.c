/*
 * probe: how much slower TCG runs compiled user code and kernel code than the host does, to set
 * beside mover-js-probe.mjs (tierd's JavaScript). NUMA balancing's cost is kernel code (hint
 * faults, migrations) and tierd's is mostly JavaScript, so the CPU ratio bench:vm measures under
 * TCG is the native ratio times (JavaScript's slowdown ÷ the kernel's). Run natively
 * (gcc -O2 -o /tmp/tcg-probe test/vm/guest/tcg-probe.c && /tmp/tcg-probe) and in the guest
 * (GUEST_CMD=/app/test/vm/guest/tcg-probe KERNELS=trimmed npm run test:vm); each line is the
 * CPU per 4 KiB page of one pass, five passes:
 *   user   a counting loop over a byte array (what a walk's fold does, in C)
 *   fault  first touch of 256 MiB of anonymous memory (page faults and zeroing: kernel time)
 *   scan   mprotect(PROT_NONE) of the 256 MiB, present, and back (the page-table walk of
 *          NUMA balancing's scanner, twice), then a touch of every page
 * fault and scan run twice: on 4 KiB pages (MADV_NOHUGEPAGE) and on huge pages (MADV_HUGEPAGE;
 * the guest boots with transparent_hugepage=always, a host may not), since a huge page costs one
 * fault and one page-table entry for 512 pages and the two would not compare.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define BYTES (256UL << 20)
#define PAGES (BYTES / 4096)

static double cpu_us(int sys) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  struct timeval t = sys ? ru.ru_stime : ru.ru_utime;
  return t.tv_sec * 1e6 + t.tv_usec;
}

static double total_us(void) { return cpu_us(0) + cpu_us(1); }

/* per page: read a state byte, step it through a table, write it back (the fold's shape) */
static double user_pass(uint8_t *states, const uint8_t *next) {
  double t0 = total_us();
  for (int rep = 0; rep < 64; rep++)
    for (size_t i = 0; i < PAGES; i++) states[i] = next[(states[i] + (i & 1)) & 255];
  return (total_us() - t0) / (64.0 * PAGES);
}

static volatile uint8_t *mem;

static double fault_pass(void) {
  double t0 = total_us();
  for (size_t i = 0; i < PAGES; i++) mem[i * 4096] = (uint8_t)i;
  double us = (total_us() - t0) / PAGES;
  madvise((void *)mem, BYTES, MADV_DONTNEED);
  return us;
}

/* NUMA balancing's scanner marks present pages PROT_NONE (change_prot_numa); the same
   page-table walk, there and back */
static double hint_pass(void) {
  for (size_t i = 0; i < PAGES; i++) mem[i * 4096] = 1;
  double t0 = total_us();
  mprotect((void *)mem, BYTES, PROT_NONE);
  mprotect((void *)mem, BYTES, PROT_READ | PROT_WRITE);
  for (size_t i = 0; i < PAGES; i++) mem[i * 4096] += 1;
  double us = (total_us() - t0) / PAGES;
  madvise((void *)mem, BYTES, MADV_DONTNEED);
  return us;
}

int main(void) {
  static uint8_t states[PAGES], next[256];
  for (int i = 0; i < 256; i++) next[i] = (uint8_t)(i * 7 + 3);
  mem = mmap(NULL, BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) { perror("tcg-probe: mmap of 256 MiB failed (free some memory)"); return 1; }
  for (int pass = 0; pass < 5; pass++) {
    double u = user_pass(states, next);
    madvise((void *)mem, BYTES, MADV_NOHUGEPAGE);
    double f4 = fault_pass(), h4 = hint_pass();
    madvise((void *)mem, BYTES, MADV_HUGEPAGE);
    double fh = fault_pass(), hh = hint_pass();
    printf("[tcg-probe] pass %d: user %.4f us/page; 4 KiB pages: fault %.3f, scan %.3f us/page; huge pages: fault %.3f, scan %.3f us/page (states %u)\n", pass, u, f4, h4, fh, hh, states[pass]);
  }
  return 0;
}
