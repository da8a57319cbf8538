import { PageType } from '../formats/idle-pages/types.js';

/** What one walk of a target reported, in 4 KiB pages and bytes (a 2 MiB page counts 512). */
export interface WalkCounts {
  accessedPages: number;
  idlePages: number;
  accessedBytes: number;
  scannedBytes: number;
  /** bytes the kernel reported idle by a PMD's clear accessed bit, without reading its PTEs (SCAN_SKIM_IDLE) */
  skimmedBytes: number;
}

/**
 * The walk's counts from the records per page type. With SCAN_HUGE_PAGE, PMD_IDLE_PTES means
 * "not scanned" (unknown), not idle; otherwise it is a skimmed table (SCAN_SKIM_IDLE).
 */
export function countWalk(perType: Float64Array, hugeScan: boolean, w: WalkCounts): void {
  const accessed = perType[PageType.PTE_ACCESSED]! + perType[PageType.PTE_DIRTY]!;
  const accessedHuge = perType[PageType.PMD_ACCESSED]! + perType[PageType.PMD_DIRTY]!;
  const idleHuge = perType[PageType.PMD_IDLE]! + (hugeScan ? 0 : perType[PageType.PMD_IDLE_PTES]!);
  w.accessedPages = accessed + accessedHuge * 512;
  w.idlePages = perType[PageType.PTE_IDLE]! + idleHuge * 512;
  w.accessedBytes = w.accessedPages * 4096;
  w.scannedBytes = (w.accessedPages + w.idlePages) * 4096;
  w.skimmedBytes = hugeScan ? 0 : perType[PageType.PMD_IDLE_PTES]! * 2097152;
}
