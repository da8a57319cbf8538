import { PageType } from '../trackers/idle-pages/types.js';
import type { RunBatch } from '../trackers/idle-pages/decode.js';
import type { StateSpace } from './states.js';

export type States = Uint8Array | Uint16Array;

/**
 * A tracked address run: consecutive pages of one size, one state per page. Runs are made
 * from what the stream reports (never from VMA sizes), so a sparse 1 TiB reservation costs
 * only what is present in it.
 */
export class Segment {
  start: number;
  readonly shift: number;
  readonly pageSize: number;
  states: States;
  length: number;
  /** the kernel changed the page size here (THP collapse or split): drop at period end */
  stale = false;
  constructor(start: number, shift: number, states: States, length: number) {
    this.start = start;
    this.shift = shift;
    this.pageSize = 2 ** shift;
    this.states = states;
    this.length = length;
  }
  get end(): number {
    return this.start + this.length * this.pageSize;
  }
}

/** Largest run of one segment: 1 GiB of 4 KiB pages, 512 GiB of 2 MiB pages. */
const MAX_SLOTS = 1 << 18;
const FIRST_SLOTS = 1 << 12;

export interface WalkCounts {
  accessedPages: number;
  idlePages: number;
  accessedBytes: number;
  scannedBytes: number;
  dirtyPages: number;
  unknownPages: number;
}

/**
 * Per-process access counts over the walks of a period. `accumulate` is the hot path: for
 * a run of pages it applies the state space's accessed or idle transition to each page.
 */
export class HeatTable {
  space: StateSpace;
  segments: Segment[] = [];
  /** new segments of the current walk, in address order; merged at endWalk */
  private pending: Segment[] = [];
  private open: Segment | null = null;
  private openLimit = 0;
  private cursor = 0;
  /** With SCAN_HUGE_PAGE, PMD_IDLE_PTES means "not scanned", not "idle". */
  hugeScan = false;
  readonly walk: WalkCounts = { accessedPages: 0, idlePages: 0, accessedBytes: 0, scannedBytes: 0, dirtyPages: 0, unknownPages: 0 };

  constructor(space: StateSpace) {
    this.space = space;
  }

  beginWalk(hugeScan = false): void {
    this.hugeScan = hugeScan;
    this.cursor = 0;
    this.pending = [];
    this.open = null;
    const w = this.walk;
    w.accessedPages = w.idlePages = w.accessedBytes = w.scannedBytes = w.dirtyPages = w.unknownPages = 0;
  }

  endWalk(): void {
    this.sealOpen();
    if (this.pending.length === 0) return;
    const a = this.segments;
    const b = this.pending;
    const merged: Segment[] = new Array(a.length + b.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < a.length && j < b.length) merged[k++] = a[i]!.start <= b[j]!.start ? a[i++]! : b[j++]!;
    while (i < a.length) merged[k++] = a[i++]!;
    while (j < b.length) merged[k++] = b[j++]!;
    this.segments = merged;
    this.pending = [];
  }

  /** Fold one batch of decoded records into the counts. Records come in address order within a walk. */
  accumulate(batch: RunBatch): void {
    const n = batch.length;
    const starts = batch.start;
    const counts = batch.count;
    const types = batch.type;
    const acc = this.space.acc;
    const idle = this.space.idle;
    const w = this.walk;
    for (let r = 0; r < n; r++) {
      const t = types[r]!;
      let a = starts[r]!;
      let shift: number;
      let pages: number;
      let table: States;
      switch (t) {
        case PageType.PTE_ACCESSED: shift = 12; pages = counts[r]!; table = acc; w.accessedPages += pages; break;
        case PageType.PTE_DIRTY: shift = 12; pages = counts[r]!; table = acc; w.accessedPages += pages; w.dirtyPages += pages; break;
        case PageType.PMD_ACCESSED: shift = 21; pages = counts[r]!; table = acc; w.accessedPages += pages * 512; break;
        case PageType.PMD_DIRTY: shift = 21; pages = counts[r]!; table = acc; w.accessedPages += pages * 512; w.dirtyPages += pages * 512; break;
        case PageType.PTE_IDLE: shift = 12; pages = counts[r]!; table = idle; w.idlePages += pages; break;
        case PageType.PMD_IDLE: shift = 21; pages = counts[r]!; table = idle; w.idlePages += pages * 512; break;
        case PageType.PMD_IDLE_PTES:
          if (this.hugeScan) { w.unknownPages += counts[r]! * 512; continue; }
          shift = 12; pages = counts[r]! * 512; table = idle; w.idlePages += pages; break;
        case PageType.PUD_PRESENT: w.unknownPages += counts[r]! * 262144; continue;
        default: continue; // holes: not present, nothing to count
      }
      const size = shift === 12 ? 4096 : 2097152;
      if (table === acc) w.accessedBytes += pages * size;
      w.scannedBytes += pages * size;
      const end = a + pages * size;
      while (a < end) a = this.applyRun(a, end, shift, size, table);
    }
  }

  /** Apply `table` to the pages of [a, end) that fall in one segment (or make one); returns where it stopped. */
  private applyRun(a: number, end: number, shift: number, size: number, table: States): number {
    const segs = this.segments;
    let ci = this.cursor;
    if (ci < segs.length && segs[ci]!.start > a) ci = 0;
    while (ci < segs.length && segs[ci]!.end <= a) ci++;
    this.cursor = ci;
    const seg = ci < segs.length ? segs[ci]! : null;
    if (seg !== null && seg.start <= a) {
      if (seg.shift !== shift) {
        // the page size changed under us: this period's counts here are unknown
        seg.stale = true;
        return Math.min(end, a + Math.ceil((seg.end - a) / size) * size);
      }
      const stop = Math.min(end, seg.end);
      const st = seg.states;
      const from = (a - seg.start) / size;
      const to = (stop - seg.start) / size;
      for (let i = from; i < to; i++) st[i] = table[st[i]!]!;
      return stop;
    }
    // not tracked yet: extend this walk's open segment or open a new one, never past the next segment
    const limit = seg !== null ? Math.min(end, seg.start) : end;
    let open = this.open;
    if (open === null || open.shift !== shift || open.end !== a || open.length >= MAX_SLOTS) {
      this.sealOpen();
      open = new Segment(a, shift, this.space.alloc(FIRST_SLOTS), 0);
      this.open = open;
      this.openLimit = seg !== null ? seg.start : Infinity;
      this.pending.push(open);
    }
    const stop = Math.min(limit, this.openLimit, open.start + MAX_SLOTS * size);
    const from = open.length;
    const to = from + (stop - a) / size;
    if (to > open.states.length) {
      let cap = open.states.length * 2;
      while (cap < to) cap *= 2;
      const grown = this.space.alloc(Math.min(cap, MAX_SLOTS));
      grown.set(open.states.subarray(0, from));
      open.states = grown;
    }
    const st = open.states;
    for (let i = from; i < to; i++) st[i] = table[0]!; // new pages start unknown (state 0)
    open.length = to;
    return stop;
  }

  private sealOpen(): void {
    const open = this.open;
    if (open === null) return;
    if (open.states.length > open.length + (open.length >> 3)) open.states = open.states.slice(0, open.length);
    this.open = null;
  }

  /** Period end: apply the period-end table to every page and drop segments whose page size changed. */
  endPeriod(periodEnd: States): void {
    const keep: Segment[] = [];
    for (const seg of this.segments) {
      if (seg.stale) continue;
      const st = seg.states;
      for (let i = 0; i < seg.length; i++) st[i] = periodEnd[st[i]!]!;
      keep.push(seg);
    }
    this.segments = keep;
  }

  /** Re-encode every page for a new state space (config reload at a period boundary). */
  remap(space: StateSpace): void {
    const map = space.remapFrom(this.space);
    for (const seg of this.segments) {
      const old = seg.states;
      const st = space.alloc(seg.length);
      for (let i = 0; i < seg.length; i++) st[i] = map[old[i]!]!;
      seg.states = st;
    }
    this.space = space;
  }

  /** Find the segment and slot of an address, or null. */
  locate(addr: number): { seg: Segment; slot: number } | null {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.end > addr) hi = mid;
      else lo = mid + 1;
    }
    const seg = segs[lo];
    if (seg === undefined || seg.start > addr) return null;
    return { seg, slot: Math.floor((addr - seg.start) / seg.pageSize) };
  }

  trackedPages(): number {
    let n = 0;
    for (const s of this.segments) n += s.length;
    return n;
  }

  trackedBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.length * s.pageSize;
    return n;
  }

  /** Bytes held by the per-page state arrays. */
  memoryBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.states.byteLength;
    return n;
  }
}
