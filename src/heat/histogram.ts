import type { HeatTable } from './heat-table.js';

/**
 * Pages and bytes per access count (0..N) per tier slot (0 = placement unknown, t + 1 = tier t),
 * over pages with full evidence (reported in all N walks) after a period's walks; pages seen in
 * fewer walks are counted apart.
 */
export interface CountHistogram {
  walks: number;
  /** pages[tierSlot][count] */
  pages: number[][];
  bytes: number[][];
  partialPages: number;
  partialBytes: number;
}

export function countHistogram(tables: readonly HeatTable[], tiers: number): CountHistogram {
  const space = tables[0]?.space;
  const N = space?.N ?? 0;
  const h: CountHistogram = {
    walks: N,
    pages: Array.from({ length: tiers + 1 }, () => new Array<number>(N + 1).fill(0)),
    bytes: Array.from({ length: tiers + 1 }, () => new Array<number>(N + 1).fill(0)),
    partialPages: 0,
    partialBytes: 0,
  };
  for (const t of tables) {
    const sp = t.space;
    // one pass builds per-state totals; the state → (tier, count) mapping is applied once per state
    const perState = new Float64Array(sp.size);
    const perStateBytes = new Float64Array(sp.size);
    for (const seg of t.segments) {
      seg.countStates(0, seg.length, perState);
      for (let s = 0; s < sp.size; s++) perStateBytes[s] = perState[s]! * seg.pageSize;
      for (let s = 0; s < sp.size; s++) {
        const n = perState[s]!;
        if (n === 0) continue;
        const slot = Math.min(sp.tierSlot[s]!, tiers);
        if (sp.seen[s] === N) {
          h.pages[slot]![sp.count[s]!]! += n;
          h.bytes[slot]![sp.count[s]!]! += perStateBytes[s]!;
        } else if (sp.seen[s]! > 0) {
          h.partialPages += n;
          h.partialBytes += perStateBytes[s]!;
        }
      }
      perState.fill(0);
    }
  }
  return h;
}
