export type States = Uint8Array | Uint16Array;

/** Pages per chunk: the grain at which a pass skips pages that all hold one state (4 MiB of 4 KiB pages). */
export const CHUNK_SHIFT = 10;
export const CHUNK_PAGES = 1 << CHUNK_SHIFT;
/** a chunk whose pages may hold different states */
export const MIXED = -1;

/**
 * A tracked address run: consecutive pages of one size, one state per page. Runs are made
 * from what the stream reports (never from VMA sizes), so a sparse 1 TiB reservation costs
 * only what is present in it.
 *
 * `uniform` holds, per chunk of CHUNK_PAGES pages, the state every page of the chunk holds, or
 * MIXED. Every writer of `states` marks the chunks it writes MIXED (`put`, `touchRange`); the
 * period end, which rewrites every page anyway, finds the chunks whose pages agree. So the
 * passes of a period (placement, plan, period end) handle an idle chunk in one step, and their
 * cost follows the memory that changed state, not the memory tracked: on a host of terabytes
 * most of it is idle, and an idle page's state is the same period after period.
 */
export class Segment {
  start: number;
  readonly shift: number;
  readonly pageSize: number;
  /** write through `put` or mark with `touchRange`; a new array through `replaceStates` */
  states: States;
  uniform: Int32Array;
  length: number;
  /** the kernel changed the page size here (THP collapse or split): drop at period end */
  stale = false;
  constructor(start: number, shift: number, states: States, length: number) {
    this.start = start;
    this.shift = shift;
    this.pageSize = 2 ** shift;
    this.states = states;
    this.uniform = mixedChunks(states.length);
    this.length = length;
  }

  /** A new state array (grown, trimmed, re-encoded): every chunk MIXED until the next period end. */
  replaceStates(st: States): void {
    this.states = st;
    this.uniform = mixedChunks(st.length);
  }

  /** The slot of an address inside this segment. */
  slotOf(addr: number): number {
    return Math.floor((addr - this.start) / this.pageSize);
  }
  get end(): number {
    return this.start + this.length * this.pageSize;
  }

  /** Write one page's state. */
  put(slot: number, s: number): void {
    this.states[slot] = s;
    this.uniform[slot >>> CHUNK_SHIFT] = MIXED;
  }

  /** Mark the chunks of slots [from, to) MIXED: the caller writes their states. */
  touchRange(from: number, to: number): void {
    if (to <= from) return;
    this.uniform.fill(MIXED, from >>> CHUNK_SHIFT, ((to - 1) >>> CHUNK_SHIFT) + 1);
  }

  /**
   * Add the pages of slots [from, to) to pagesOf, by state: a uniform chunk inside the span in
   * one addition, the mixed chunks' pages through countPages. Returns the pages read one by one
   * (the work done).
   */
  countStates(from: number, to: number, pagesOf: Float64Array): number {
    let mixed = 0;
    for (let i = from; i < to; ) {
      const chunkEnd = Math.min(to, ((i >>> CHUNK_SHIFT) + 1) << CHUNK_SHIFT);
      const u = this.uniform[i >>> CHUNK_SHIFT]!;
      if (u !== MIXED) pagesOf[u]! += chunkEnd - i;
      else mixed += chunkEnd - i;
      i = chunkEnd;
    }
    if (mixed === 0) return 0;
    const lanes = mixed >= LANES * pagesOf.length ? laneCounts(LANES * pagesOf.length) : null;
    for (let i = from; i < to; ) {
      const chunkEnd = Math.min(to, ((i >>> CHUNK_SHIFT) + 1) << CHUNK_SHIFT);
      if (this.uniform[i >>> CHUNK_SHIFT] === MIXED) {
        if (lanes === null) countPages(this.states, i, chunkEnd, pagesOf);
        else countPagesInLanes(this.states, i, chunkEnd, lanes, pagesOf.length);
      }
      i = chunkEnd;
    }
    if (lanes !== null) foldLanes(lanes, pagesOf);
    return mixed;
  }

  /** The number of chunks holding this segment's pages. */
  get chunks(): number {
    return (this.length + CHUNK_PAGES - 1) >>> CHUNK_SHIFT;
  }
}

function mixedChunks(slots: number): Int32Array {
  return new Int32Array((slots + CHUNK_PAGES - 1) >>> CHUNK_SHIFT).fill(MIXED);
}

/** Largest run of one segment: 1 GiB of 4 KiB pages, 512 GiB of 2 MiB pages. */
export const MAX_SLOTS = 1 << 18;
/** a new segment's first allocation, in pages; it grows by doubling */
export const FIRST_SLOTS = 1 << 12;

/**
 * Counting pages by state: an increment per page, each a load and a store of a counter. Pages
 * side by side often share a state, and each increment then waits for the one before it; four
 * integer counters per state, a page in turn, break that chain (natively 1.4 ns a page against
 * 1.5–2.3 with one Float64Array counter; under TCG, floating-point arithmetic is emulated, so
 * integer counters also avoid a helper call per page). They pay a fold per call, so spans of
 * fewer mixed pages than the counters use the single counters. A lane counts at most a quarter
 * of a span, far below 2^32 pages (a typed array holds fewer).
 */
const LANES = 4;
let lanesScratch = new Uint32Array(0);

/** Zeroed lane counters, at least n of them (kept between calls, zeroed again by foldLanes). */
function laneCounts(n: number): Uint32Array {
  if (lanesScratch.length < n) lanesScratch = new Uint32Array(n);
  return lanesScratch;
}

function countPages(st: States, from: number, to: number, pagesOf: Float64Array): void {
  for (let k = from; k < to; k++) pagesOf[st[k]!]!++;
}

/** The span's pages go to the four lanes in turn (the last few to lane 0): lane j's counter of state s is lanes[j × size + s]. */
function countPagesInLanes(st: States, from: number, to: number, lanes: Uint32Array, size: number): void {
  let k = from;
  for (const last = to - 3; k < last; k += 4) {
    lanes[st[k]!]!++;
    lanes[size + st[k + 1]!]!++;
    lanes[2 * size + st[k + 2]!]!++;
    lanes[3 * size + st[k + 3]!]!++;
  }
  for (; k < to; k++) lanes[st[k]!]!++;
}

/** Add the lanes' counts to pagesOf and zero the lanes. */
function foldLanes(lanes: Uint32Array, pagesOf: Float64Array): void {
  const size = pagesOf.length;
  for (let s = 0; s < size; s++) {
    const n = lanes[s]! + lanes[size + s]! + lanes[2 * size + s]! + lanes[3 * size + s]!;
    if (n === 0) continue;
    pagesOf[s]! += n;
    lanes[s] = lanes[size + s] = lanes[2 * size + s] = lanes[3 * size + s] = 0;
  }
}
