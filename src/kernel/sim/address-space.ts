/**
 * What the idle_pages encoder needs to know about a process's page tables. The simulated
 * process implements it; tests implement it over plain arrays.
 */
export const Bit = { ABSENT: 0, IDLE: 1, ACCESSED: 2 } as const;

export interface WalkableSpace {
  /** VMAs in ascending address order. */
  readonly vmaCount: number;
  vmaStart(i: number): number;
  vmaEnd(i: number): number;
  /** true: the VMA is mapped by 2 MiB leaf PMDs (THP); false: by 4 KiB PTEs. */
  vmaHuge(i: number): boolean;
  /** true: the kernel's test_walk skips it (shared or read-only file mapping, VM_IO/PFNMAP). */
  vmaSkipped(i: number): boolean;
  /** Has the 2 MiB region at pmdStart (clipped to the VMA) any page table at all? */
  pmdPopulated(vma: number, pmdStart: number): boolean;
  /** Test-and-clear the accessed bit of the page at addr (4 KiB page, or the THP at a 2 MiB addr). */
  testAndClear(vma: number, addr: number): number;
  /** Put back an accessed bit that was cleared but not reported (the boundary page fix). */
  restore(vma: number, addr: number): void;
}
