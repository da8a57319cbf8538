import { performance } from 'node:perf_hooks';
import { HeatTable, Segment } from '../src/heat/heat-table.js';
import { StateSpace } from '../src/heat/states.js';
import { plan } from '../src/planner/planner.js';
import { MoveHistory } from '../src/planner/history.js';
import type { Target } from '../src/planner/plan.js';
import { classify } from '../src/topology/topology.js';
import { SimKernel } from '../src/kernel/sim/sim-kernel.js';
import { parseScenario } from '../src/kernel/sim/scenario.js';
import { Prng } from '../src/kernel/sim/prng.js';
import { fmt, stat, table, type Stat } from './util.js';

/** Counts after N = 5 walks of a typical server: most pages idle, a few percent hot. */
const HISTOGRAM = [0.6, 0.2, 0.08, 0.05, 0.04, 0.03];

/** `pages` tracked pages with the HISTOGRAM's counts, a quarter in the fast tier and the rest in the slow one. */
export function syntheticHeat(space: StateSpace, pages: number): HeatTable {
  const heat = new HeatTable(space);
  const rng = new Prng(42);
  const cum = HISTOGRAM.map((_, i) => HISTOGRAM.slice(0, i + 1).reduce((a, b) => a + b, 0));
  const table = new Uint8Array(1024);
  for (let i = 0; i < table.length; i++) {
    const r = (i + 0.5) / table.length;
    const count = cum.findIndex((c) => r <= c);
    table[i] = space.make(5, count, rng.next() < 0.5 ? 1 : 0, rng.next() < 0.25 ? 1 : 2);
  }
  const per = 1 << 18;
  for (let start = 0; start < pages; start += per) {
    const n = Math.min(per, pages - start);
    const st = space.alloc(n);
    for (let i = 0; i < n; i++) st[i] = table[(rng.next() * 1024) | 0]!;
    heat.segments.push(new Segment(0x100000000000 + start * 4096, 12, st, n));
  }
  return heat;
}

export interface PlannerResult {
  pages: number;
  /** moves in the history (the last minResidency periods), every promotion candidate looked up in it */
  recent: number;
  time: Stat;
  nsPerPage: number;
}

/** `n` moves spread over the last three periods, every 7th page from the start. */
function recentMoves(n: number): MoveHistory {
  const h = new MoveHistory();
  for (let i = 0; i < n; i++) h.record(0x100000000000 + i * 7 * 4096, 2 + (i % 3), 0, 0, 8);
  return h;
}

export function benchPlanner(sizes: number[], runs: number): PlannerResult[] {
  const kernel = new SimKernel(parseScenario('duration: 1s\nnodes: [{id: 0, tier: dram, capacity: 1TiB}, {id: 1, tier: pmem, capacity: 4TiB}]\nprocesses: [{name: x, memory: [{size: 4KiB, node: 1}]}]\n'));
  const topo = classify(kernel.topology());
  const out: PlannerResult[] = [];
  for (const pages of sizes) for (const recent of [0, Math.round(pages / 30)]) {
    const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
    const target: Target = { id: { pid: 1, starttime: 1 }, comm: 'x', heat: syntheticHeat(space, pages), history: recentMoves(recent), ranges: new Float64Array(0), gone: false };
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      plan([target], topo, space, 5, { hotThreshold: 5, coldThreshold: 0, headroom: 0.02, minResidency: 3, periodCap: 2 ** 30, demoteToLowest: false, exchangeGap: 2, fillThreshold: 2, displaceThreshold: 4, freeReserve: 0.1 });
      times.push((performance.now() - t0) / 1000);
    }
    const s = stat(times);
    out.push({ pages, recent, time: s, nsPerPage: (s.median * 1e9) / pages });
  }
  return out;
}

export function plannerTable(rs: PlannerResult[], runs: number): string {
  return table(
    `Planner: one period's plan (median of ${runs}, min–max; 1 GiB cap; goal ≤ 50 ns/page)`,
    ['tracked pages', 'recent moves', 'ms', 'ns/page', 'goal'],
    rs.map((r) => [r.pages < 1e6 ? `${r.pages / 1024}Ki` : `${r.pages / 1e6}M`, `${(r.recent / 1e6).toFixed(2)}M`, fmt.range(r.time, (x) => fmt.n(x * 1000, 0)), fmt.n(r.nsPerPage, 1), r.nsPerPage <= 50 ? 'met' : 'MISSED']),
  );
}
