import type { Kernel } from '../kernel/types.js';
import type { StateSpace } from '../heat/states.js';
import type { Topology } from '../topology/topology.js';
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
 * planned again. Bounded per period by policy.placementQueries.
 */
export class PlacementLookup {
  private addrs = new Float64Array(1024);
  private status = new Int32Array(1024);
  private qSeg = new Int32Array(1024);
  private qSlot = new Int32Array(1024);

  constructor(private readonly kernel: Kernel) {}

  /** Look up the placement of candidates with unknown tiers; a step per segment and per query batch; returns the pages queried. */
  *lookupSteps(targets: Target[], space: StateSpace, tables: RankTables, topo: Topology, period: number, budget: number): Steps<number> {
    const tierOfNode = new Map(topo.nodes.map((n) => [n.id, n.tier]));
    let left = budget;
    for (const t of targets) {
      if (t.gone || left <= 0) continue;
      left -= yield* this.lookupTarget(t, space, tables, tierOfNode, left, period & 3);
    }
    return budget - left;
  }

  private *lookupTarget(t: Target, space: StateSpace, tables: RankTables, tierOfNode: Map<number, number>, budget: number, stripe: number): Steps<number> {
    const { hot, cold } = tables;
    let pending = 0;
    let queried = 0;
    const segs = t.heat.segments;
    for (let g = 0; g < segs.length && !t.gone; g++) {
      const seg = segs[g]!;
      const st = seg.states;
      for (let i = 0; i < seg.length; i++) {
        if ((i & (STEP_PAGES - 1)) === STEP_PAGES - 1) yield;
        const s = st[i]!;
        const slot = space.tierSlot[s]!;
        const recheck = slot === 1 && hot[s] !== NONE && (i & 3) === stripe;
        if (!recheck && (slot !== 0 || (hot[s] === NONE && cold[s] === NONE))) continue;
        this.addrs[pending] = seg.start + i * seg.pageSize;
        this.qSeg[pending] = g;
        this.qSlot[pending] = i;
        pending++;
        if (pending === this.addrs.length) {
          queried += this.flush(t, space, tierOfNode, pending);
          pending = 0;
          yield;
        }
        if (queried + pending >= budget) break;
      }
      if (queried + pending >= budget) break;
      yield;
    }
    if (!t.gone) queried += this.flush(t, space, tierOfNode, pending);
    return queried;
  }

  /** Query `n` pending pages and record their tiers in the heat states. */
  private flush(t: Target, space: StateSpace, tierOfNode: Map<number, number>, n: number): number {
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
      if (node < 0) continue;
      const tier = tierOfNode.get(node);
      if (tier === undefined) continue;
      const seg = t.heat.segments[this.qSeg[k]!]!;
      seg.states[this.qSlot[k]!] = space.withTier(seg.states[this.qSlot[k]!]!, tier + 1);
    }
    return n;
  }
}
