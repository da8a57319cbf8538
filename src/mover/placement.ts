import type { Kernel } from '../kernel/types.js';
import type { StateSpace } from '../heat/states.js';
import { CHUNK_SHIFT, MIXED, type Segment } from '../heat/segment.js';
import { tierIndex, type Topology } from '../topology/topology.js';
import type { Target } from '../planner/plan.js';
import { NONE, type RankTables } from '../planner/ranks.js';
import { SyscallError, ERRNO } from '../util/errors.js';
import { STEP_PAGES, type Steps } from '../util/steps.js';

/**
 * Where candidate pages are, asked of the kernel (move_pages in query mode) before the planner
 * runs, so that the policy itself never calls the OS. Asks for the pages whose tier is unknown
 * and that are candidates (hot, fill or confirmed cold), and re-checks the hot pages believed
 * in the fast tier whose index is the period mod 4: a believed placement goes stale when
 * something else moves the page (the application's own move_pages or mbind, the kernel's
 * demotion or NUMA balancing), and a hot page wrongly believed in the fast tier would never be
 * planned again. When a period's re-checks find more than STALE_SHARE of those pages elsewhere,
 * the next period re-checks all of them, and so on until a period finds beliefs right again: a
 * page read once (a key-value store's value asked for once in a while) is a candidate in one
 * period only, and a one-in-four re-check missed three quarters of such pages for good. Bounded
 * per period by policy.placementQueries.
 */
export class PlacementLookup {
  private addrs = new Float64Array(1024);
  private status = new Int32Array(1024);
  private qSeg = new Int32Array(1024);
  private qSlot = new Int32Array(1024);
  /** pages gathered in addrs, qSeg, qSlot and not queried yet */
  private pending = 0;
  /** this period's re-checks: pages believed in the fast tier that were asked, and of those the ones found elsewhere */
  private rechecked = 0;
  private stale = 0;
  /** the last period found beliefs stale: re-check every page believed in the fast tier */
  private recheckAll = false;

  constructor(private readonly kernel: Pick<Kernel, 'movePages'>) {}

  /** Look up the placement of candidates with unknown tiers; a step per segment and per STEP_PAGES; returns the pages queried. */
  *lookupSteps(targets: Target[], space: StateSpace, tables: RankTables, topo: Topology, period: number, budget: number): Steps<number> {
    const tierOfNode = tierIndex(topo);
    const want = queryTable(space, tables);
    const stripe = this.recheckAll ? ALL : period & 3;
    this.rechecked = 0;
    this.stale = 0;
    let left = budget;
    for (const t of targets) {
      if (t.gone || left <= 0) continue;
      left -= yield* this.lookupTarget(t, space, want, tierOfNode, left, stripe);
    }
    this.recheckAll = this.stale >= STALE_MIN_PAGES && this.stale > STALE_SHARE * this.rechecked;
    return budget - left;
  }

  /** Whether the next period re-checks every page believed in the fast tier (its last re-checks found beliefs stale). */
  get rechecksAll(): boolean {
    return this.recheckAll;
  }

  /** One pass over the target's pages; a step per STEP_PAGES and per query batch. */
  private *lookupTarget(t: Target, space: StateSpace, want: Uint8Array, tierOfNode: Int32Array, budget: number, stripe: number): Steps<number> {
    let queried = 0;
    this.pending = 0;
    const segs = t.heat.segments;
    for (let g = 0; g < segs.length && !t.gone && queried < budget; g++) {
      const seg = segs[g]!;
      for (let i = 0; i < seg.length && !t.gone && queried < budget; ) {
        i = this.gather(seg, g, i, Math.min(seg.length, i + STEP_PAGES), want, stripe, budget - queried);
        if (this.pending === this.addrs.length || queried + this.pending >= budget) queried += this.flush(t, space, tierOfNode);
        yield;
      }
    }
    if (!t.gone) queried += this.flush(t, space, tierOfNode);
    return queried;
  }

  /**
   * Add the pages of seg[from, to) that want a query to the pending batch, until the batch is
   * full or holds `room` pages; returns the index to go on from. One table look-up per page:
   * the three look-ups and the yield check per page this loop had cost 10.6 ns a page natively
   * (`npm run bench`, placement table, 10M settled pages); the table brought that to 4.1 ns,
   * and moving the loop out of the generator into this plain method to 3.4 ns.
   */
  private gather(seg: Segment, g: number, from: number, to: number, want: Uint8Array, stripe: number, room: number): number {
    const st = seg.states;
    const uniform = seg.uniform;
    const stop = Math.min(this.addrs.length, room);
    let pending = this.pending;
    let i = from;
    while (i < to && pending < stop) {
      const chunkEnd = Math.min(to, ((i >>> CHUNK_SHIFT) + 1) << CHUNK_SHIFT);
      // a chunk whose pages all hold a state that wants no query: skip it whole
      const u = uniform[i >>> CHUNK_SHIFT]!;
      if (u !== MIXED && want[u] === 0) {
        i = chunkEnd;
        continue;
      }
      for (; i < chunkEnd && pending < stop; i++) {
        const w = want[st[i]!]!;
        if (w === 0 || (w === RECHECK && stripe !== ALL && (i & 3) !== stripe)) continue;
        this.addrs[pending] = seg.start + i * seg.pageSize;
        this.qSeg[pending] = g;
        this.qSlot[pending] = i;
        pending++;
      }
    }
    this.pending = pending;
    return i;
  }

  /** Query the pending pages and record their tiers in the heat states; returns how many were asked. */
  private flush(t: Target, space: StateSpace, tierOfNode: Int32Array): number {
    const n = this.pending;
    this.pending = 0;
    if (n === 0) return 0;
    const status = this.status;
    status.fill(-1, 0, n);
    try {
      this.kernel.movePages(t.id.pid, n, this.addrs, null, status, 0);
    } catch (e) {
      if (e instanceof SyscallError && e.errno === ERRNO.ESRCH) t.gone = true;
      else throw e;
    }
    for (let k = 0; k < n; k++) {
      const node = status[k]!;
      const tier = node >= 0 && node < tierOfNode.length ? tierOfNode[node]! : -1;
      if (tier < 0) continue;
      const seg = t.heat.segments[this.qSeg[k]!]!;
      const slot = this.qSlot[k]!;
      const was = space.tierSlot[seg.states[slot]!]!;
      if (was === 1) {
        this.rechecked++;
        if (tier !== 0) this.stale++;
      }
      seg.put(slot, space.withTier(seg.states[slot]!, tier + 1));
    }
    return n;
  }
}

const QUERY = 1;
const RECHECK = 2;
/** the stripe that takes every page to re-check */
const ALL = -1;
/**
 * Beliefs are stale when more than this share of a period's re-checks found the page elsewhere
 * (and at least STALE_MIN_PAGES did): tierd's own moves keep its beliefs, so misses come from
 * another mover, and a few from pages the kernel demoted or compacted.
 */
const STALE_SHARE = 0.02;
const STALE_MIN_PAGES = 32;

/**
 * Per state: QUERY for a candidate (hot, fill or confirmed cold) of unknown placement, RECHECK
 * for a hot or fill page believed in the fast tier (queried when its index is the period mod 4).
 */
function queryTable(space: StateSpace, tables: RankTables): Uint8Array {
  const want = new Uint8Array(space.size);
  for (let s = 0; s < space.size; s++) {
    const slot = space.tierSlot[s]!;
    // a candidate below the fill rank displaces only pages already placed: not worth a query
    const hot = tables.hot[s] !== NONE && tables.hot[s]! >= tables.fillRank;
    if (slot === 0 && (hot || tables.cold[s] !== NONE)) want[s] = QUERY;
    else if (slot === 1 && hot) want[s] = RECHECK;
  }
  return want;
}
