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
  /** The slot of an address inside this segment. */
  slotOf(addr: number): number {
    return Math.floor((addr - this.start) / this.pageSize);
  }
  get end(): number {
    return this.start + this.length * this.pageSize;
  }
}

/** Largest run of one segment: 1 GiB of 4 KiB pages, 512 GiB of 2 MiB pages. */
export const MAX_SLOTS = 1 << 18;
/** a new segment's first allocation, in pages; it grows by doubling */
export const FIRST_SLOTS = 1 << 12;
