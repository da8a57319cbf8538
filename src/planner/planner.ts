import type { Topology } from '../topology/topology.js';
import type { StateSpace } from '../heat/states.js';
import { budgets } from './budgets.js';
import { collectMoves } from './collect.js';
import { histograms } from './histograms.js';
import type { PlannerParams } from './params.js';
import type { Plan, Target } from './plan.js';
import { rankTables, type RankTables } from './ranks.js';
import { drain, type Steps } from '../util/steps.js';

export type { PlannerParams } from './params.js';

/**
 * Turns heat + placement + capacity into a plan, without calling the OS: promote the
 * highest-ranked hot pages of slower tiers into the fast tier's free room (minus headroom),
 * demote confirmed-cold pages of faster tiers (first as many as the promotions need room for),
 * exchange, fill, all within the per-period cap and never a page moved in the last
 * minResidency periods. The placement of candidates is looked up before (mover/placement.ts).
 */
export function plan(targets: Target[], topo: Topology, space: StateSpace, period: number, p: PlannerParams, tables: RankTables = rankTables(space, p)): Plan {
  return drain(planSteps(targets, topo, space, period, p, tables));
}

/** The same plan in steps of one segment each, for a caller that lets the event loop in between. */
export function* planSteps(targets: Target[], topo: Topology, space: StateSpace, period: number, p: PlannerParams, tables: RankTables = rankTables(space, p)): Steps<Plan> {
  const tiers = topo.tiers.length;
  const out = emptyPlan(period, space.N, tiers);
  const h = yield* histograms(targets, space, tables, tiers, period, p.minResidency, p.coldThreshold, out);
  const b = budgets(h, topo, p, space.N);
  yield* collectMoves(targets, space, tables, h, b, topo, p, out);
  out.spareBytes = b.spare;
  out.short = b.hotWant > b.promote || b.exchange > 0;
  if (b.hotWant > b.promote) out.notes.push(`fast tier short: ${Math.round(b.hotWant - b.promote)} hot bytes stay on slower tiers this period`);
  return out;
}

function emptyPlan(period: number, walks: number, tiers: number): Plan {
  const perTier = (): number[] => new Array<number>(tiers + 1).fill(0);
  return {
    period, walks, lists: [], promoteBytes: 0, demoteBytes: 0,
    hotBytes: perTier(), coldBytes: perTier(), trackedBytes: perTier(), hotSetBytes: 0, warmSetBytes: 0, placementQueries: 0,
    countBytes: new Array<number>(walks + 1).fill(0), spareBytes: 0, short: false, notes: [],
  };
}
