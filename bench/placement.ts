import { performance } from 'node:perf_hooks';
import { StateSpace } from '../src/heat/states.js';
import { PlacementLookup } from '../src/mover/placement.js';
import type { Target } from '../src/planner/plan.js';
import { rankTables } from '../src/planner/ranks.js';
import { MoveHistory } from '../src/planner/history.js';
import { classify } from '../src/topology/topology.js';
import { drain } from '../src/util/steps.js';
import { SimKernel } from '../src/kernel/sim/sim-kernel.js';
import { parseScenario } from '../src/kernel/sim/scenario.js';
import { syntheticHeat } from './planner.js';
import { fmt, stat, table, type Stat } from './util.js';

export interface PlacementResult {
  pages: number;
  /** share of the pages whose placement is unknown before the pass */
  unknown: number;
  queried: number;
  time: Stat;
  nsPerPage: number;
}

const PARAMS = { hotThreshold: 5, coldThreshold: 0, headroom: 0.02, minResidency: 3, periodCap: 2 ** 30, demoteToLowest: false, exchangeGap: 2, fillThreshold: 2, displaceThreshold: 4, freeReserve: 0.1 };

/**
 * One period's placement pass (mover/placement.ts) over `pages` tracked pages: the settled
 * case (every placement known: only a quarter of the fast tier's hot pages are re-checked) and
 * a discovering one (a tenth unknown). move_pages answers at once, so this times tierd's pass.
 */
export function benchPlacement(pages: number, runs: number): PlacementResult[] {
  const sim = new SimKernel(parseScenario('duration: 1s\nnodes: [{id: 0, tier: dram, capacity: 1TiB}, {id: 1, tier: pmem, capacity: 4TiB}]\nprocesses: [{name: x, memory: [{size: 4KiB, node: 1}]}]\n'));
  const topo = classify(sim.topology());
  const out: PlacementResult[] = [];
  for (const unknown of [0, 0.1]) {
    const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
    const heat = syntheticHeat(space, pages);
    for (const seg of heat.segments) for (let i = 0; i < seg.length; i++) if ((i * 2654435761) % 1000 < unknown * 1000) seg.put(i, space.withTier(seg.states[i]!, 0));
    const saved = heat.segments.map((s) => s.states.slice());
    const target: Target = { id: { pid: 1, starttime: 1 }, comm: 'x', heat, history: new MoveHistory(), ranges: new Float64Array(0), gone: false };
    const lookup = new PlacementLookup({ movePages: (_pid, n, _addrs, _nodes, status) => (status.fill(1, 0, n), 0) });
    const tables = rankTables(space, PARAMS);
    const times: number[] = [];
    let queried = 0;
    for (let r = 0; r < runs; r++) {
      heat.segments.forEach((s, k) => {
        s.states.set(saved[k]!);
        s.touchRange(0, s.length);
      });
      const t0 = performance.now();
      queried = drain(lookup.lookupSteps([target], space, tables, topo, 5 + r, 2 ** 31));
      times.push((performance.now() - t0) / 1000);
    }
    const s = stat(times);
    out.push({ pages, unknown, queried, time: s, nsPerPage: (s.median * 1e9) / pages });
  }
  return out;
}

export function placementTable(rs: PlacementResult[], runs: number): string {
  return table(
    `Placement: one period's look-up pass (median of ${runs}, min–max)`,
    ['tracked pages', 'placement unknown', 'pages queried', 'ms', 'ns/page'],
    rs.map((r) => [`${r.pages / 1e6}M`, `${r.unknown * 100}%`, String(r.queried), fmt.range(r.time, (x) => fmt.n(x * 1000, 0)), fmt.n(r.nsPerPage, 1)]),
  );
}
