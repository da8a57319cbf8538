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
 * target's pages, made only when a journal is kept, in runs of pages that share a range and a
 * bin: a run's pages are counted by state (an idle chunk in one addition), then each state's
 * pages go to the bin at once.
 */
export function binPeriod(heat: HeatTable, ranges: Float64Array, space: StateSpace, bins: number): BinnedPeriod {
  let total = 0;
  for (let r = 0; r < ranges.length; r += 2) total += ranges[r + 1]! - ranges[r]!;
  const binBytes = Math.max(4096, Math.ceil(total / bins / 4096) * 4096);
  const sums = new BinSums(space, bins);
  const pagesOf = new Float64Array(space.size);
  let r = 0;
  let before = 0; // bytes of the ranges below ranges[r]
  for (const seg of heat.segments) {
    const size = seg.pageSize;
    let i = 0;
    while (i < seg.length) {
      const addr = seg.start + i * size;
      while (r < ranges.length && ranges[r + 1]! <= addr) {
        before += ranges[r + 1]! - ranges[r]!;
        r += 2;
      }
      if (r >= ranges.length) break; // the rest is no longer trackable
      const lo = ranges[r]!;
      if (addr < lo) {
        i = Math.ceil((lo - seg.start) / size); // the first page inside the range
        continue;
      }
      const b = Math.min(bins - 1, Math.floor((before + addr - lo) / binBytes));
      // the run ends with the range, or with the bin (the last bin takes the rest)
      const runEnd = b < bins - 1 ? Math.min(ranges[r + 1]!, lo + (b + 1) * binBytes - before) : ranges[r + 1]!;
      const j = Math.min(seg.length, Math.ceil((runEnd - seg.start) / size));
      seg.countStates(i, j, pagesOf);
      sums.add(b, pagesOf, size);
      i = j;
    }
  }
  return sums.result(binBytes);
}

/** Per bin: the sum of its seen pages' access counts (as a share of the walks that saw them), its pages of known placement by tier, and the hot bytes. */
class BinSums {
  private readonly countSum: Float64Array;
  private readonly seenPages: Float64Array;
  private readonly tierBytes: Float64Array[];
  private readonly knownBytes: Float64Array;
  private hotFast = 0;
  private hotSlow = 0;

  constructor(
    private readonly space: StateSpace,
    bins: number,
  ) {
    this.countSum = new Float64Array(bins);
    this.seenPages = new Float64Array(bins);
    this.tierBytes = Array.from({ length: space.tiers }, () => new Float64Array(bins));
    this.knownBytes = new Float64Array(bins);
  }

  /** Add pagesOf (pages by state, of one size) to bin b, and clear it. */
  add(b: number, pagesOf: Float64Array, size: number): void {
    const { seen, count, tierSlot, N } = this.space;
    for (let s = 0; s < pagesOf.length; s++) {
      const n = pagesOf[s]!;
      if (n === 0) continue;
      pagesOf[s] = 0;
      if (seen[s]! > 0) {
        this.countSum[b]! += (n * count[s]!) / seen[s]!;
        this.seenPages[b]! += n;
      }
      const slot = tierSlot[s]!;
      if (slot === 0) continue; // placement unknown
      this.knownBytes[b]! += n * size;
      this.tierBytes[slot - 1]![b]! += n * size;
      if (seen[s] === N && count[s] === N) {
        if (slot === 1) this.hotFast += n * size;
        else this.hotSlow += n * size;
      }
    }
  }

  result(binBytes: number): BinnedPeriod {
    const pct = (x: number): number => Math.round(100 * x);
    const known = this.knownBytes;
    return {
      binBytes,
      heat: Array.from(this.countSum, (c, b) => (this.seenPages[b]! > 0 ? pct(c / this.seenPages[b]!) : 0)),
      tiers: this.tierBytes.map((bytes) => Array.from(bytes, (f, b) => (known[b]! > 0 ? pct(f / known[b]!) : 0))),
      hotFast: this.hotFast,
      hotSlow: this.hotSlow,
    };
  }
}
