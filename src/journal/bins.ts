import type { HeatTable } from '../heat/heat-table.js';
import type { StateSpace } from '../heat/states.js';

/** One target's period, folded into a fixed number of address bins. */
export interface BinnedPeriod {
  /** bytes of trackable memory per bin (the last bin may hold less) */
  binBytes: number;
  /** per bin: the mean access count of its pages seen this period, as a percentage of N walks */
  heat: number[];
  /** per tier (fastest first), per bin: the percentage of its bytes of known placement there */
  tiers: number[][];
  /** bytes of hot pages (accessed in all N walks) on the fastest tier, and elsewhere */
  hotFast: number;
  hotSlow: number;
}

/**
 * The target's trackable ranges, laid end to end (gaps between mappings left out), cut into
 * `bins` equal bins; each page's count and tier go to the bin of its offset. One pass over the
 * target's pages, made only when a journal is kept.
 */
export function binPeriod(heat: HeatTable, ranges: Float64Array, space: StateSpace, bins: number): BinnedPeriod {
  let total = 0;
  for (let r = 0; r < ranges.length; r += 2) total += ranges[r + 1]! - ranges[r]!;
  const binBytes = Math.max(4096, Math.ceil(total / bins / 4096) * 4096);
  const countSum = new Float64Array(bins);
  const seenPages = new Float64Array(bins);
  const tierBytes = Array.from({ length: space.tiers }, () => new Float64Array(bins));
  const knownBytes = new Float64Array(bins);
  let hotFast = 0;
  let hotSlow = 0;
  const N = space.N;
  let r = 0;
  let before = 0; // bytes of the ranges below ranges[r]
  for (const seg of heat.segments) {
    const size = seg.pageSize;
    for (let i = 0; i < seg.length; i++) {
      const addr = seg.start + i * size;
      while (r < ranges.length && ranges[r + 1]! <= addr) {
        before += ranges[r + 1]! - ranges[r]!;
        r += 2;
      }
      if (r >= ranges.length || addr < ranges[r]!) continue; // no longer trackable
      const b = Math.min(bins - 1, Math.floor((before + addr - ranges[r]!) / binBytes));
      const s = seg.states[i]!;
      const seen = space.seen[s]!;
      const count = space.count[s]!;
      if (seen > 0) {
        countSum[b]! += count / seen;
        seenPages[b]!++;
      }
      const slot = space.tierSlot[s]!;
      if (slot === 0) continue; // placement unknown
      knownBytes[b]! += size;
      tierBytes[slot - 1]![b]! += size;
      if (seen === N && count === N) {
        if (slot === 1) hotFast += size;
        else hotSlow += size;
      }
    }
  }
  const pct = (x: number): number => Math.round(100 * x);
  const tiers = tierBytes.map((bytes) => Array.from(bytes, (f, b) => (knownBytes[b]! > 0 ? pct(f / knownBytes[b]!) : 0)));
  return {
    binBytes,
    heat: Array.from(countSum, (c, b) => (seenPages[b]! > 0 ? pct(c / seenPages[b]!) : 0)),
    tiers,
    hotFast,
    hotSlow,
  };
}
