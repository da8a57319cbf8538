import type { StateSpace } from '../heat/states.js';
import type { PlannerParams } from './params.js';

/** no rank: not a candidate of that kind */
export const NONE = 255;

/**
 * Promotion ranks, highest first: hot with the hot mark (hot last period too), hot, fill
 * candidate with the mark, fill candidate; within a band by count.
 * rank = band × (N + 1) + count.
 */
const BAND_FILL = 0;
const BAND_HOT = 2;
export const bandBase = (N: number, band: number): number => band * (N + 1);
/** the lowest rank of a hot page, and of a hot page with the mark */
export const hotRank = (N: number): number => bandBase(N, BAND_HOT);
export const markedHotRank = (N: number): number => bandBase(N, BAND_HOT + 1);
export const RANKS = (N: number): number => bandBase(N, 4);

/** Per-state look-ups for one period (one entry per state, NONE where it does not apply). */
export interface RankTables {
  /** promotion rank (see above; the count scaled to N when the page was seen in fewer walks) */
  hot: Uint8Array;
  /** the count of a confirmed-cold page */
  cold: Uint8Array;
  /** the count of a page seen in every walk and not confirmed cold */
  warm: Uint8Array;
  /**
   * the lowest promotion rank of a fill candidate; the ranks below it (band 0, counted from
   * one above the cold threshold up to the fill threshold) may only displace confirmed-cold
   * pages, and only when recency pays (budgets.ts)
   */
  fillRank: number;
}

/**
 * A page's count scaled to N walks when it was seen in fewer, or null when it was seen in fewer
 * than half of them (too little evidence to rank). The planner's ranks and the period end's hot
 * mark both use it.
 */
export function scaledCount(seen: number, count: number, N: number): number | null {
  return seen >= Math.ceil(N / 2) ? Math.floor((count * N) / seen) : null;
}

export function rankTables(space: StateSpace, p: PlannerParams): RankTables {
  const hot = new Uint8Array(space.size).fill(NONE);
  const cold = new Uint8Array(space.size).fill(NONE);
  const warm = new Uint8Array(space.size).fill(NONE);
  const N = space.N;
  const low = lowRank(p);
  for (let s = 0; s < space.size; s++) {
    const seen = space.seen[s]!;
    const c = space.count[s]!;
    const rank = scaledCount(seen, c, N);
    if (rank !== null) {
      const band = rank >= p.hotThreshold ? BAND_HOT : p.fillThreshold > 0 && rank >= p.fillThreshold ? BAND_FILL : -1;
      if (band >= 0) hot[s] = bandBase(N, band + space.hotBefore[s]!) + rank;
      // below the fill threshold: unmarked, so the fill band keeps exactly the pages it had
      else if (rank >= low) hot[s] = bandBase(N, BAND_FILL) + rank;
    }
    if (seen === N && c <= p.coldThreshold && space.coldConfirmed(s)) cold[s] = c;
    else if (seen === N) warm[s] = c;
  }
  return { hot, cold, warm, fillRank: fillRank(p, N) };
}

/** The lowest promotion rank of a fill candidate (no fill: the lowest hot rank). */
export const fillRank = (p: PlannerParams, N: number): number => (p.fillThreshold > 0 ? bandBase(N, BAND_FILL) + p.fillThreshold : hotRank(N));

/** The lowest count that may displace a cold page on recency: one above the cold threshold (none without fill). */
export const lowRank = (p: PlannerParams): number => (p.fillThreshold > 0 ? Math.min(p.fillThreshold, p.coldThreshold + 1) : Infinity);

/**
 * Where a budget cuts a histogram: every bucket beyond `rank` is taken whole, bucket `rank`
 * takes `partial` bytes. Descending (promotion: highest rank first) or ascending (coldest first).
 */
export function cut(hist: Float64Array, budget: number, descending: boolean): { rank: number; partial: number } {
  let left = budget;
  const n = hist.length;
  for (let k = 0; k < n; k++) {
    const r = descending ? n - 1 - k : k;
    const b = hist[r]!;
    if (b === 0) continue;
    if (b >= left) return { rank: r, partial: left };
    left -= b;
  }
  return descending ? { rank: 0, partial: Infinity } : { rank: n - 1, partial: Infinity };
}

export const sum = (a: Float64Array, from = 0): number => a.subarray(from).reduce((x, y) => x + y, 0);
