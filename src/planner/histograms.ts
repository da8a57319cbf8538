import type { StateSpace } from '../heat/states.js';
import type { Plan, Target } from './plan.js';
import { NONE, RANKS, hotRank, type RankTables } from './ranks.js';
import { STEP_PAGES, type Steps } from '../util/steps.js';

/** Bytes that may move this period (not moved in the last minResidency periods), by rank. */
export interface Histograms {
  /** pages of slower tiers by promotion rank */
  promo: Float64Array;
  /** confirmed-cold pages by source tier, then count */
  demo: Float64Array[];
  /** fast-tier pages by count: seen in every walk, not confirmed cold, without the hot mark */
  warm0: Float64Array;
  /** pages seen in every walk by count, on the fast tier and on the slower tiers (placement known) */
  seenFast: Float64Array;
  seenSlow: Float64Array;
  /** what a page's last periods say of its next one, on each side (see Recency) */
  recency: Recency;
}

/**
 * Pages seen in every walk, by how they came into the period: on the slower tiers the pages
 * accessed last period (no cold streak, no hot mark), on the fast tier the pages cold in the
 * periods before (the cold streak at K − 1); of each, the bytes accessed again this period.
 */
export interface Recency {
  slowWarm: number;
  slowWarmAgain: number;
  fastCold: number;
  fastColdAgain: number;
}

/**
 * One pass over every page (one increment per page, a step per STEP_PAGES), then per
 * state: the histograms the budgets cut, and the plan's per-tier totals.
 */
export function* histograms(targets: Target[], space: StateSpace, tables: RankTables, tiers: number, period: number, minResidency: number, coldThreshold: number, plan: Plan): Steps<Histograms> {
  const N = space.N;
  const { bytesOf, blockedOf } = yield* bytesPerState(targets, space, period, minResidency);
  const h: Histograms = { promo: new Float64Array(RANKS(N)), demo: Array.from({ length: tiers }, () => new Float64Array(N + 1)), warm0: new Float64Array(N + 1), seenFast: new Float64Array(N + 1), seenSlow: new Float64Array(N + 1), recency: { slowWarm: 0, slowWarmAgain: 0, fastCold: 0, fastColdAgain: 0 } };
  const HOT = hotRank(N);
  const { hot, cold, warm } = tables;
  for (let s = 0; s < space.size; s++) {
    const bytes = bytesOf[s]!;
    if (bytes === 0) continue;
    const free = bytes - blockedOf[s]!;
    const slot = space.tierSlot[s]!;
    const tier = slot === 0 ? tiers : slot - 1;
    plan.trackedBytes[tier]! += bytes;
    if (space.seen[s] === N) {
      plan.countBytes[space.count[s]!]! += bytes;
      if (slot === 1) h.seenFast[space.count[s]!]! += bytes;
      else if (slot > 1) h.seenSlow[space.count[s]!]! += bytes;
      countRecency(h.recency, space, s, bytes, coldThreshold);
    }
    const r = hot[s]!;
    if (r !== NONE) {
      if (r >= HOT) plan.hotBytes[tier]! += bytes;
      if (r >= HOT && r % (N + 1) === N) plan.hotSetBytes += bytes;
      if (r >= tables.fillRank) plan.warmSetBytes += bytes;
      if (slot > 1) {
        h.promo[r]! += free;
        continue;
      }
    }
    const c = cold[s]!;
    if (c !== NONE) {
      plan.coldBytes[tier]! += bytes;
      if (slot !== 0 && slot < tiers) h.demo[slot - 1]![c]! += free;
    } else if (slot === 1 && tiers > 1 && warm[s] !== NONE && space.hotBefore[s] === 0) {
      h.warm0[warm[s]!]! += free;
    }
  }
  return h;
}

/** Bytes per state over all targets, and of those the bytes moved too recently to move again. */
function* bytesPerState(targets: Target[], space: StateSpace, period: number, minResidency: number): Steps<{ bytesOf: Float64Array; blockedOf: Float64Array }> {
  const bytesOf = new Float64Array(space.size);
  const blockedOf = new Float64Array(space.size);
  const pagesOf = new Float64Array(space.size);
  for (const t of targets) {
    if (t.gone) continue;
    for (const seg of t.heat.segments) {
      pagesOf.fill(0);
      // a step per STEP_PAGES pages; an idle chunk in it is one addition
      for (let from = 0; from < seg.length; from += STEP_PAGES) {
        seg.countStates(from, Math.min(seg.length, from + STEP_PAGES), pagesOf);
        yield;
      }
      const size = seg.pageSize;
      for (let s = 0; s < space.size; s++) if (pagesOf[s]! > 0) bytesOf[s]! += pagesOf[s]! * size;
    }
    // the move history is bounded by the rate limits, not by the process: subtract it
    const segs = t.heat.segments;
    t.history.forEachRecent(period, minResidency, (addr) => {
      const g = t.heat.segmentIndex(addr);
      if (g < 0) return;
      const seg = segs[g]!;
      blockedOf[seg.states[seg.slotOf(addr)]!]! += seg.pageSize;
    });
  }
  return { bytesOf, blockedOf };
}

/** Add a state's bytes to the recency counts (its streak and hot mark say how it came into the period). */
function countRecency(r: Recency, space: StateSpace, s: number, bytes: number, coldThreshold: number): void {
  const slot = space.tierSlot[s]!;
  if (slot === 0 || space.hotBefore[s] === 1 || space.K < 2) return;
  const again = space.count[s]! > coldThreshold ? bytes : 0;
  const streak = space.streak[s]!;
  if (slot > 1 && streak === 0) {
    r.slowWarm += bytes;
    r.slowWarmAgain += again;
  } else if (slot === 1 && streak === space.K - 1) {
    r.fastCold += bytes;
    r.fastColdAgain += again;
  }
}
