import type { StateSpace } from '../heat/states.js';
import type { Topology } from '../topology/topology.js';
import { destTier, type Budgets } from './budgets.js';
import { Dir } from './history.js';
import type { Histograms } from './histograms.js';
import type { PlannerParams } from './params.js';
import { PlanList, Reason, type Plan, type Target } from './plan.js';
import { NONE, cut, hotRank, type RankTables } from './ranks.js';
import { STEP_PAGES, type Steps } from '../util/steps.js';
import { CHUNK_PAGES, CHUNK_SHIFT, MIXED, type States } from '../heat/segment.js';

const PROMOTE = 1;
const COLD = 2;
const WARM = 3;

/**
 * One budget cut into a histogram, spent page by page: whole buckets above the rank, part of it.
 * The part is taken in address order, or, when `sampled`, from pages spread over the whole
 * bucket (a hash of address and period picks each with the share the budget leaves).
 */
class Spend {
  private left: number;
  private partial: number;
  /** the share of the cut bucket to take, when sampled (else 1: first come) */
  private readonly share: number;
  readonly rank: number;
  constructor(hist: Float64Array, budget: number, descending: boolean, sampled = false) {
    const c = cut(hist, budget, descending);
    this.rank = c.rank;
    this.partial = c.partial;
    this.left = budget;
    const bucket = hist[c.rank] ?? 0;
    this.share = sampled && Number.isFinite(c.partial) && bucket > 0 ? Math.min(1, (SAMPLE_SLACK * c.partial) / bucket) : 1;
  }
  /**
   * Take `size` bytes of the page at addr, of rank r, unless it was moved in the last
   * minResidency periods; true if taken. The history is looked up last: most candidates
   * beyond the budget never need it.
   */
  take(r: number, size: number, t: Target, addr: number, period: number, minResidency: number): boolean {
    if (this.left < size) return false;
    if (r === this.rank) {
      if (this.partial < size || (this.share < 1 && pageHash(addr, period) >= this.share) || t.history.recentlyMoved(addr, period, minResidency)) return false;
      this.partial -= size;
    } else if (t.history.recentlyMoved(addr, period, minResidency)) return false;
    this.left -= size;
    return true;
  }
}

/**
 * Thresholds by rank (promotion), coldness (demotion) and count (exchange), then one pass over
 * every page (a step per segment and per STEP_PAGES) that collects the moves into per-target lists, each move
 * assigned to the node with the most room in its tier.
 */
export function* collectMoves(targets: Target[], space: StateSpace, tables: RankTables, h: Histograms, b: Budgets, topo: Topology, p: PlannerParams, plan: Plan): Steps<void> {
  // a settled period moves nothing: no second pass over every page to find that out (under
  // TCG a pass over 1 GiB of 4 KiB pages costs a few hundred ms)
  if (b.promote <= 0 && b.exchange <= 0 && b.demote.every((d) => d <= 0)) return;
  const tiers = topo.tiers.length;
  const promo = new Spend(h.promo, b.promote, true);
  // cold pages go down sampled: taken in address order, the trades of recency (budgets.ts) kept
  // draining the same low addresses, where only the pages still in use were left; in the
  // simulated store whose keys changed, the pages it demoted were read more often than those
  // it promoted, and the hit ratio fell 0.83 → 0.80 over five minutes
  const demo = h.demo.map((hist, t) => new Spend(hist, b.demote[t] ?? 0, false, true));
  const warm = new Spend(h.warm0, b.exchange, false);
  const want = wantTable(space, tables, tiers, promo.rank, demo.map((d) => d.rank), b.exchange > 0 ? warm.rank : -1);
  const pick = picker(topo, b.room);
  const HOT = hotRank(space.N);
  const period = plan.period;
  const m = p.minResidency;
  const { hot, cold, warm: warmT } = tables;
  const { tierSlot, count } = space;
  for (const t of targets) {
    if (t.gone) continue;
    const list = new PlanList(t);
    for (const seg of t.heat.segments) {
      const st = seg.states;
      const size = seg.pageSize;
      const shift = seg.shift;
      const uniform = seg.uniform;
      for (let from = 0; from < seg.length; from += CHUNK_PAGES) {
        const to = Math.min(seg.length, from + CHUNK_PAGES);
        // a chunk whose pages all hold one state that is no candidate: nothing to look at
        const u = uniform[from >>> CHUNK_SHIFT]!;
        if (u !== MIXED && want[u] === 0) continue;
        for (let i = nextCandidate(st, want, from, to); i < to; i = nextCandidate(st, want, i + 1, to)) {
          const s = st[i]!;
          const w = want[s]!;
          const addr = seg.start + i * size;
          if (w === PROMOTE) {
            const r = hot[s]!;
            if (promo.take(r, size, t, addr, period, m)) list.push(addr, shift, pick(0, size), Dir.PROMOTE, r >= HOT ? Reason.HOT : Reason.FILL, count[s]!);
          } else if (w === COLD) {
            const tier = tierSlot[s]! - 1;
            if (demo[tier]!.take(cold[s]!, size, t, addr, period, m)) list.push(addr, shift, pick(destTier(tier, tiers, p), size), Dir.DEMOTE, Reason.COLD, count[s]!);
          } else if (warm.take(warmT[s]!, size, t, addr, period, m)) {
            list.push(addr, shift, pick(destTier(0, tiers, p), size), Dir.DEMOTE, Reason.EXCHANGE, count[s]!);
          }
        }
        if ((from & (STEP_PAGES - 1)) === STEP_PAGES - CHUNK_PAGES) yield;
      }
      yield;
    }
    if (list.length > 0) {
      plan.lists.push(list);
      plan.promoteBytes += list.bytes(Dir.PROMOTE);
      plan.demoteBytes += list.bytes(Dir.DEMOTE);
    }
  }
}

/** a sampled cut takes a little more than its share, so its budget is spent in one pass */
const SAMPLE_SLACK = 1.1;

/** A number in [0, 1) from a page address and a period: another spread of pages every period. */
function pageHash(addr: number, period: number): number {
  let x = Math.imul((addr / 4096) | 0, 0x9e3779b1) ^ Math.imul(period, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d);
  x ^= x >>> 13;
  return (x >>> 0) / 4294967296;
}

/**
 * The first slot in [i, to) whose state is a candidate, or `to`. The bare loop over the pages
 * that are not candidates (most of them) lives here, not in the generator: the generator runs
 * once a period, so V8 optimized it late, and each candidate branch a period took for the first
 * time (a first demotion, a first exchange) deoptimized it back to the interpreter for the rest
 * of the pass. This function is small, has no calls, and is hot from the first chunk.
 */
function nextCandidate(st: States, want: Uint8Array, i: number, to: number): number {
  while (i < to && want[st[i]!] === 0) i++;
  return i;
}

/** One look-up per page decides whether it is a candidate at all (warmRank -1: no exchange). */
function wantTable(space: StateSpace, tables: RankTables, tiers: number, promoRank: number, demoRank: number[], warmRank: number): Uint8Array {
  const want = new Uint8Array(space.size);
  for (let s = 0; s < space.size; s++) {
    const slot = space.tierSlot[s]!;
    if (slot === 0) continue;
    const tier = slot - 1;
    const r = tables.hot[s]!;
    if (r !== NONE && slot > 1) {
      if (r >= promoRank) want[s] = PROMOTE;
      continue;
    }
    const c = tables.cold[s]!;
    if (c !== NONE) {
      if (tier < tiers - 1 && c <= demoRank[tier]!) want[s] = COLD;
    } else if (tier === 0 && tables.warm[s] !== NONE && tables.warm[s]! <= warmRank && space.hotBefore[s] === 0) {
      want[s] = WARM;
    }
  }
  return want;
}

/** The node of a tier with the most room left; the room is spent as moves are assigned. */
function picker(topo: Topology, room: Map<number, number>): (tier: number, bytes: number) => number {
  return (tier, bytes) => {
    const nodes = topo.tiers[tier] ?? [];
    // one node in the tier (the common host): nothing to balance, and no map work per page
    if (nodes.length === 1) return nodes[0]!;
    let best = -1;
    let bestRoom = -Infinity; // room may be spent below zero: demotions free more than it counts
    for (const id of nodes) {
      const r = room.get(id)!;
      if (r > bestRoom) {
        best = id;
        bestRoom = r;
      }
    }
    if (best >= 0) room.set(best, bestRoom - bytes);
    return best;
  };
}
