import { PAGE_SIZE_OF, PageType, SET_HVA } from '../formats/idle-pages/types.js';
import { NO_CURSOR, readSetHva, recordError, type IdlePagesDecoder } from '../formats/idle-pages/decode.js';
import type { StateSpace } from './states.js';
import { CHUNK_SHIFT, FIRST_SLOTS, MAX_SLOTS, MIXED, Segment, type States } from './segment.js';
import { countWalk, type WalkCounts } from './walk-counts.js';
import { WalkCoverage } from './coverage.js';
import { drain, STEP_PAGES, type Steps } from '../util/steps.js';

export { Segment, type States } from './segment.js';
export type { WalkCounts } from './walk-counts.js';

/**
 * Chunk c of seg at period end; returns the pages rewritten. A mixed chunk's pages are rewritten
 * one by one and compared with the first (one more operation per page), so a chunk that went
 * idle is found uniform at its first period end after it settles.
 */
function endChunk(seg: Segment, c: number, periodEnd: States): number {
  const from = c << CHUNK_SHIFT;
  const to = Math.min(seg.length, from + (1 << CHUNK_SHIFT));
  const st = seg.states;
  const u = seg.uniform[c]!;
  if (u !== MIXED) {
    const next = periodEnd[u]!;
    if (next === u) return 0;
    st.fill(next, from, to);
    seg.uniform[c] = next;
    return to - from;
  }
  const first = periodEnd[st[from]!]!;
  let differ = 0;
  for (let i = from; i < to; i++) {
    const v = periodEnd[st[i]!]!;
    st[i] = v;
    differ |= v ^ first;
  }
  seg.uniform[c] = differ === 0 ? first : MIXED;
  return to - from;
}

/**
 * Per-process access counts over the walks of a period: a sorted list of segments, one state
 * per page. `ingest` is the hot path: it decodes a walk's idle_pages stream and applies the
 * state space's accessed transition to each reported page; at the walk's end every tracked page
 * the walk did not report accessed gets the miss transition (`sweepMisses`).
 */
export class HeatTable {
  space: StateSpace;
  segments: Segment[] = [];
  /** new segments of the current walk, in address order; merged at endWalk */
  private pending: Segment[] = [];
  private open: Segment | null = null;
  private openLimit = 0;
  private cursor = 0;
  /** the segment applyRun last wrote to, where ingest's fast path continues */
  private current: Segment | null = null;
  /** records per type in the current walk */
  private readonly perType = new Float64Array(16);
  /** walks of this period folded in so far */
  walksDone = 0;
  /** the address spans the current walk reported pages in */
  private readonly coverage = new WalkCoverage();
  /** With SCAN_HUGE_PAGE, PMD_IDLE_PTES means "not scanned", not "idle". */
  hugeScan = false;
  readonly walk: WalkCounts = { accessedPages: 0, idlePages: 0, accessedBytes: 0, scannedBytes: 0, skimmedBytes: 0 };

  constructor(space: StateSpace) {
    this.space = space;
  }

  beginWalk(hugeScan = false): void {
    this.hugeScan = hugeScan;
    this.cursor = 0;
    this.current = null;
    this.pending = [];
    this.open = null;
    this.perType.fill(0);
    this.coverage.reset();
  }

  endWalk(): void {
    countWalk(this.perType, this.hugeScan, this.walk);
    this.coverage.close();
    this.sealOpen();
    this.mergePending();
    this.coverage.sweep(this.segments, this.space.miss);
    this.walksDone++;
  }

  private mergePending(): void {
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

  /**
   * Decode buf[0, len) and fold it into the counts in one pass: the daemon's hot path, the same
   * decode as IdlePagesDecoder.decode (a differential test keeps them equal) without the run
   * batch in between. The decoder keeps the cursor across reads.
   */
  ingest(dec: IdlePagesDecoder, buf: Uint8Array, len: number): void {
    const acc = this.space.acc;
    const perType = this.perType;
    const hugeScan = this.hugeScan;
    let va = dec.cursor;
    const coverage = this.coverage;
    let covStart = coverage.start;
    let covEnd = coverage.end;
    let accessed4k = 0;
    let idle4k = 0;
    // fast mode: inside a 4 KiB segment at slot k, contiguous with the walk's coverage, so a
    // 4 KiB accessed/idle record is a few integer operations (va = cStart + k·4096)
    let cStart = 0;
    let kLen = 0;
    let k = 0;
    let fast = false;
    let cStates: States = acc;
    let cUniform: Int32Array = new Int32Array(0);
    let markedEnd = 0; // the end of the last chunk marked MIXED, in slots
    let i = 0;
    try {
      while (i < len) {
        if (fast) {
          // the hot loop: nothing else in its body
          while (i < len) {
            const fb = buf[i]!;
            const t = fb >>> 4;
            const nr = fb & 15;
            if (nr === 0 || k + nr > kLen) break;
            if (t === PageType.PTE_ACCESSED) {
              const stop = k + nr;
              for (let x = k; x < stop; x++) cStates[x] = acc[cStates[x]!]!;
              // a record is at most 15 pages, so it spans one chunk or two; records ascend, so
              // a record ending in the chunk marked last starts in it too: one compare per
              // record, not two stores (the worst-case stream walked 1.4× slower with those)
              if (stop > markedEnd) {
                cUniform[k >>> CHUNK_SHIFT] = MIXED;
                cUniform[(stop - 1) >>> CHUNK_SHIFT] = MIXED;
                markedEnd = (((stop - 1) >>> CHUNK_SHIFT) + 1) << CHUNK_SHIFT;
              }
              accessed4k += nr;
            } else if (t === PageType.PTE_IDLE) {
              idle4k += nr;
            } else {
              break;
            }
            k += nr;
            i++;
          }
          // leave fast mode: the address and the coverage become explicit again
          va = cStart + k * 4096;
          covEnd = va;
          fast = false;
          if (i >= len) break;
        }
        const b = buf[i]!;
        if (b === SET_HVA) {
          const next = readSetHva(buf, i, len, dec.consumed + i);
          if (next < va) this.rewind();
          va = next;
          i += 9;
        } else {
          const t = b >>> 4;
          const nr = b & 15;
          const size = PAGE_SIZE_OF[t]!;
          if (t >= 10 || nr === 0 || va === NO_CURSOR || (size !== 4096 && va % size !== 0)) throw recordError(b, va, dec.consumed + i)!;
          perType[t]! += nr;
          const end = va + nr * size;
          // idle pages need no write: the walk's coverage says they were seen
          if (t !== PageType.PTE_HOLE && t !== PageType.PMD_HOLE && t !== PageType.PUD_PRESENT && !(hugeScan && t === PageType.PMD_IDLE_PTES)) {
            if (va !== covEnd) {
              coverage.start = covStart;
              coverage.end = covEnd;
              coverage.close();
              covStart = va;
            }
            covEnd = end;
          }
          this.record(t, va, nr, acc);
          va = end;
          i++;
        }
        // enter fast mode when the cursor sits inside a 4 KiB segment, contiguous with coverage
        const cur = this.current !== null && this.current.shift === 12 ? this.current : this.segmentAt(va);
        if (cur !== null && cur.shift === 12 && va === covEnd && va >= cur.start) {
          // only filled slots: a growing segment's new pages go through record()
          const slot = (va - cur.start) / 4096;
          if (slot < cur.length) {
            cStart = cur.start;
            kLen = cur.length;
            k = slot;
            cStates = cur.states;
            cUniform = cur.uniform;
            markedEnd = 0;
            fast = true;
            this.current = cur;
          }
        }
      }
    } finally {
      if (fast) {
        va = cStart + k * 4096;
        covEnd = va;
      }
      dec.cursor = va;
      dec.consumed += i;
      coverage.start = covStart;
      coverage.end = covEnd;
      perType[PageType.PTE_ACCESSED]! += accessed4k;
      perType[PageType.PTE_IDLE]! += idle4k;
    }
  }

  /**
   * A SET_HVA below the cursor (a variant that rounds a huge page's address down, or a corrupt
   * stream): the walk's new segments join the tracked ones and the search starts over, so the
   * records that follow find every page this walk already made instead of making it twice.
   */
  private rewind(): void {
    this.sealOpen();
    this.mergePending();
    this.cursor = 0;
    this.current = null;
  }

  /** The first segment ending after addr (it may start after addr), moving the walk cursor. */
  private seek(addr: number): Segment | null {
    const segs = this.segments;
    let ci = this.cursor;
    if (ci < segs.length && segs[ci]!.start > addr) ci = 0;
    while (ci < segs.length && segs[ci]!.end <= addr) ci++;
    this.cursor = ci;
    return segs[ci] ?? null;
  }

  /** The tracked segment holding addr, if any. */
  private segmentAt(addr: number): Segment | null {
    const seg = this.seek(addr);
    return seg !== null && seg.start <= addr ? seg : null;
  }

  /** The general path for one record: any page size, segment changes, new segments. */
  private record(t: number, va: number, nr: number, acc: States): void {
    this.current = null;
    let shift = 12;
    let table: States | null;
    switch (t) {
      case PageType.PTE_ACCESSED: case PageType.PTE_DIRTY: table = acc; break;
      case PageType.PTE_IDLE: table = null; break;
      case PageType.PMD_ACCESSED: case PageType.PMD_DIRTY: table = acc; shift = 21; break;
      case PageType.PMD_IDLE: table = null; shift = 21; break;
      // "not scanned" (SCAN_HUGE_PAGE) is unknown; a skimmed table (SCAN_SKIM_IDLE) is idle, and
      // the walk's coverage gives its tracked pages their miss. It says nothing about which of
      // its 512 pages exist (holes included), so it makes no new ones: a page that appears
      // below it sets the PMD's accessed bit, and the next walk reads its table
      case PageType.PMD_IDLE_PTES: return;
      default: return; // holes and PUD_PRESENT carry no access information
    }
    const size = shift === 12 ? 4096 : 2097152;
    let a = va;
    const end = va + nr * size;
    while (a < end) a = this.applyRun(a, end, shift, size, table);
  }

  /** Apply `table` to the pages of [a, end) that fall in one segment (or make one); returns where it stopped. */
  private applyRun(a: number, end: number, shift: number, size: number, table: States | null): number {
    const seg = this.seek(a);
    if (seg !== null && seg.start <= a) {
      if (seg.shift !== shift) {
        // the page size changed under us: this period's counts here are unknown
        this.current = null;
        seg.stale = true;
        return Math.min(end, a + Math.ceil((seg.end - a) / size) * size);
      }
      const stop = Math.min(end, seg.end);
      this.current = seg;
      if (table !== null) {
        const st = seg.states;
        const from = (a - seg.start) / size;
        const to = (stop - seg.start) / size;
        for (let i = from; i < to; i++) st[i] = table[st[i]!]!;
        seg.touchRange(from, to);
      }
      return stop;
    }
    // not tracked yet: extend this walk's open segment or open a new one, never past the next segment
    const limit = seg !== null ? Math.min(end, seg.start) : end;
    let open = this.open;
    if (open === null || open.shift !== shift || open.end !== a || a >= this.openLimit || open.length >= MAX_SLOTS) {
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
      open.replaceStates(grown);
    }
    const st = open.states;
    // a page first reported now missed every earlier walk of the period
    const fresh = this.space.fresh(this.walksDone);
    const first = table !== null ? table[fresh]! : fresh;
    for (let i = from; i < to; i++) st[i] = first;
    open.touchRange(from, to);
    open.length = to;
    this.current = open;
    return stop;
  }

  private sealOpen(): void {
    const open = this.open;
    if (open === null) return;
    if (open.states.length > open.length + (open.length >> 3)) open.replaceStates(open.states.slice(0, open.length));
    this.open = null;
  }

  /** Period end: apply the period-end table to every page and drop segments whose page size changed; returns the pages rewritten. */
  endPeriod(periodEnd: States): number {
    return drain(this.endPeriodSteps(periodEnd));
  }

  /**
   * The same, a step per STEP_PAGES pages. A uniform chunk takes the table's image of its state
   * (no write when the state is a fixed point, as an idle page's is once its cold streak is
   * full); a mixed one is rewritten page by page and found uniform if its pages agree.
   */
  *endPeriodSteps(periodEnd: States): Steps<number> {
    this.walksDone = 0;
    const keep: Segment[] = [];
    let rewritten = 0;
    for (const seg of this.segments) {
      if (seg.stale) continue;
      let done = 0;
      for (let c = 0; c < seg.chunks; c++) {
        done += endChunk(seg, c, periodEnd);
        if (done >= STEP_PAGES) {
          rewritten += done;
          done = 0;
          yield;
        }
      }
      rewritten += done;
      yield;
      keep.push(seg);
    }
    this.segments = keep;
    return rewritten;
  }

  /** Re-encode every page for a new state space (config reload at a period boundary). */
  remap(space: StateSpace): void {
    const map = space.remapFrom(this.space);
    for (const seg of this.segments) {
      const old = seg.states;
      const st = space.alloc(seg.length);
      for (let i = 0; i < seg.length; i++) st[i] = map[old[i]!]!;
      seg.replaceStates(st);
    }
    this.space = space;
    this.walksDone = 0;
  }

  /** Find the segment and slot of an address, or null. */
  locate(addr: number): { seg: Segment; slot: number } | null {
    const g = this.segmentIndex(addr);
    if (g < 0) return null;
    const seg = this.segments[g]!;
    return { seg, slot: seg.slotOf(addr) };
  }

  /** The index of the segment holding addr, or -1: locate() without an object, for loops over many addresses. */
  segmentIndex(addr: number): number {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.end > addr) hi = mid;
      else lo = mid + 1;
    }
    const seg = segs[lo];
    return seg === undefined || seg.start > addr ? -1 : lo;
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
