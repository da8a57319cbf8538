/** Record types of the idle_pages stream (spec §1.1). Values are the high nibble. */
export const PageType = {
  PTE_ACCESSED: 0,
  PMD_ACCESSED: 1,
  PUD_PRESENT: 2,
  PTE_DIRTY: 3,
  PMD_DIRTY: 4,
  PTE_IDLE: 5,
  PMD_IDLE: 6,
  PMD_IDLE_PTES: 7,
  PTE_HOLE: 8,
  PMD_HOLE: 9,
  PIP_CMD: 10,
} as const;
export type PageTypeValue = (typeof PageType)[keyof typeof PageType];

export const PAGE_TYPE_NAMES: readonly string[] = [
  'PTE_ACCESSED', 'PMD_ACCESSED', 'PUD_PRESENT', 'PTE_DIRTY', 'PMD_DIRTY',
  'PTE_IDLE', 'PMD_IDLE', 'PMD_IDLE_PTES', 'PTE_HOLE', 'PMD_HOLE', 'PIP_CMD',
];

/** log2 of the page size each type covers (x86-64: 4 KiB, 2 MiB, 1 GiB). */
export const PAGE_SHIFT_OF: readonly number[] = [12, 21, 30, 12, 21, 12, 21, 21, 12, 21];
export const PAGE_SIZE_OF: readonly number[] = PAGE_SHIFT_OF.map((s) => 2 ** s);

export const SET_HVA = 0xa0;

/** Write a SET_HVA (the command byte, then the address as 8 bytes big-endian) at buf[p]; returns p + 9. */
export function writeSetHva(buf: Uint8Array, p: number, addr: number): number {
  const hi = Math.floor(addr / 4294967296);
  const lo = addr - hi * 4294967296;
  buf[p] = SET_HVA;
  buf[p + 1] = hi >>> 24; buf[p + 2] = (hi >>> 16) & 255; buf[p + 3] = (hi >>> 8) & 255; buf[p + 4] = hi & 255;
  buf[p + 5] = lo >>> 24; buf[p + 6] = (lo >>> 16) & 255; buf[p + 7] = (lo >>> 8) & 255; buf[p + 8] = lo & 255;
  return p + 9;
}
/** Kernel minimum is 19 (count < 19 → EINVAL); 20 is the smallest that can report a page. */
export const MIN_READ = 20;
export const KERNEL_CHUNK = 8000;
/** x86-64 4-level TASK_SIZE. */
export const TASK_SIZE = 0x7ffffffff000;
/** A read of `count` bytes asks for count × 8 pages of address space (32 KiB per byte). */
export const VA_PER_BYTE = 8 * 4096;

/** Open flags that modify a scan (spec §2.7); the values are x86-64's. */
export const ScanFlag = {
  SCAN_HUGE_PAGE: 0x800, // O_NONBLOCK
  SCAN_SKIM_IDLE: 0x20000, // O_NOFOLLOW
  SCAN_DIRTY_PAGE: 0x40000, // O_NOATIME
} as const;

