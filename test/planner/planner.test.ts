import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeatTable, Segment } from '../../src/heat/heat-table.js';
import { CHUNK_PAGES, MIXED } from '../../src/heat/segment.js';
import { StateSpace } from '../../src/heat/states.js';
import { plan, type PlannerParams } from '../../src/planner/planner.js';
import { MoveHistory, Dir } from '../../src/planner/history.js';
import { Reason, type Plan, type Target } from '../../src/planner/plan.js';
import { classify, type Topology } from '../../src/topology/topology.js';
import type { NodeInfo } from '../../src/kernel/types.js';

const PAGE = 4096;
const BASE = 0x7f0000000000;
const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
const PARAMS: PlannerParams = { hotThreshold: 5, coldThreshold: 0, headroom: 0.02, minResidency: 3, periodCap: 2 ** 30, demoteToLowest: false, exchangeGap: 2, fillThreshold: 3, displaceThreshold: 4, freeReserve: 0.1 };

/** A DRAM node (0) and a CPU-less slow node (1), sizes in pages. */
function topology(fastTotal: number, fastFree: number): Topology {
  const node = (id: number, total: number, free: number): NodeInfo => ({
    id, online: true, hasCpu: id === 0, hasMemory: true, cpus: id === 0 ? [0] : [], memTotalBytes: total * PAGE, memFreeBytes: free * PAGE,
    distance: { 0: id === 0 ? 10 : 20, 1: id === 1 ? 10 : 20 },
  });
  return classify({ nodes: [node(0, fastTotal, fastFree), node(1, 100_000, 100_000)], numaBalancing: 0, demotionEnabled: false });
}

/** One target whose pages, in address order, are runs of [pages, count in 5 walks, tier, streak]. */
function target(runs: [number, number, number, number?][], history = new MoveHistory()): Target {
  const n = runs.reduce((s, r) => s + r[0], 0);
  const st = space.alloc(n);
  let i = 0;
  for (const [pages, count, tier, streak] of runs) for (let k = 0; k < pages; k++) st[i++] = space.make(5, count, streak ?? 0, tier + 1);
  const heat = new HeatTable(space);
  heat.segments.push(new Segment(BASE, 12, st, n));
  return { id: { pid: 42, starttime: 1 }, comm: 'kv', heat, history, ranges: new Float64Array(0), gone: false };
}

/** The plan's moves as [page index, direction, reason]. */
function moves(p: Plan): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const l of p.lists) for (let i = 0; i < l.length; i++) out.push([(l.addrs[i]! - BASE) / PAGE, l.dir[i]!, l.reason[i]!]);
  return out;
}
const pagesOf = (m: [number, number, number][], dir: number, reason: number): number[] => m.filter((x) => x[1] === dir && x[2] === reason).map((x) => x[0]);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

test('hot pages on the slow tier go up; the fast tier keeps its free reserve, so warm ones wait', () => {
  // room 150 − 2% headroom = 130 pages; 100 hot go up; 30 left are under the 100-page reserve
  const t = target([[100, 5, 1], [100, 4, 1], [100, 0, 1]]);
  const m = moves(plan([t], topology(1000, 150), space, 10, PARAMS));
  assert.deepEqual(pagesOf(m, Dir.PROMOTE, Reason.HOT), range(0, 100));
  assert.equal(m.length, 100);
});

test('free room beyond the reserve is filled with warm pages, highest count first, never below the fill threshold', () => {
  // room 400 − 20 = 380; 100 hot; 280 − 100 reserve = 180 of fill: 100 at count 4, then 80 at count 3
  const t = target([[100, 3, 1], [100, 5, 1], [100, 4, 1], [100, 2, 1]]);
  const m = moves(plan([t], topology(1000, 400), space, 10, PARAMS));
  assert.deepEqual(pagesOf(m, Dir.PROMOTE, Reason.HOT), range(100, 200));
  const fill = pagesOf(m, Dir.PROMOTE, Reason.FILL);
  assert.equal(fill.length, 180);
  assert.ok(range(200, 300).every((p) => fill.includes(p)), 'every count-4 page');
  assert.ok(fill.every((p) => p < 300), 'no count-2 page');
});

test('a page moved in the last minResidency periods stays put, and the period cap stops the rest in address order', () => {
  const h = new MoveHistory();
  for (let k = 0; k < 10; k++) h.record(BASE + k * PAGE, 8, Dir.DEMOTE, Reason.COLD, 8);
  const t = target([[100, 5, 1]], h);
  const m = moves(plan([t], topology(1000, 500), space, 10, { ...PARAMS, periodCap: 50 * PAGE }));
  assert.deepEqual(pagesOf(m, Dir.PROMOTE, Reason.HOT), range(10, 60));
  // 3 periods later the history no longer holds them back
  const later = moves(plan([t], topology(1000, 500), space, 11, PARAMS));
  assert.equal(pagesOf(later, Dir.PROMOTE, Reason.HOT).length, 100);
});

test('a full fast tier demotes confirmed-cold pages to make room for hot ones; a page cold for one period only stays', () => {
  // fast tier: no room; 60 confirmed cold (streak K − 1), 60 cold for the first period only;
  // 40 hot pages with the mark (hot last period too)
  const t = target([[60, 0, 0, 1], [60, 0, 0, 0], [40, 5, 1, 2]]);
  const m = moves(plan([t], topology(1000, 20), space, 10, PARAMS));
  const down = pagesOf(m, Dir.DEMOTE, Reason.COLD);
  const up = pagesOf(m, Dir.PROMOTE, Reason.HOT);
  assert.ok(down.every((p) => p < 60), 'only confirmed-cold pages go down');
  assert.equal(up.length, 40);
  // room 20 − 20 headroom = 0: the 40 promotions need 40 pages of demotions, and no more than
  // the reserve (100) asks for on top
  assert.ok(down.length >= 40 && down.length <= 60, `${down.length} demoted`);
});

test('a full fast tier gives confirmed-cold pages up for fill candidates counted one above the fill threshold, or hot last period; one for one', () => {
  // fast tier: no room, 300 confirmed-cold pages; slow tier: 100 at count 3 that were hot last
  // period (the mark, streak K = 2), 100 at count 4, 100 at count 3 (the fill threshold), these
  // cold last period (so no slow page was read two periods running: recency has nothing to say)
  const t = target([[300, 0, 0, 1], [100, 3, 1, 2], [100, 4, 1, 1], [100, 3, 1, 1]]);
  const m = moves(plan([t], topology(1000, 20), space, 10, PARAMS));
  assert.deepEqual(pagesOf(m, Dir.PROMOTE, Reason.FILL), range(300, 500));
  const down = pagesOf(m, Dir.DEMOTE, Reason.COLD);
  assert.ok(down.every((p) => p < 300), 'only the confirmed-cold pages go down');
  // 200 for the promotions, and the reserve's 100 on top at most
  assert.ok(down.length >= 200 && down.length <= 300, `${down.length} demoted`);
  // warm fast-tier pages (not confirmed cold) are not displaced by fill candidates
  const warm = target([[200, 2, 0, 0], [100, 4, 1, 0]]);
  assert.equal(moves(plan([warm], topology(1000, 20), space, 10, PARAMS)).length, 0);
});

test('a fill threshold of 1 spends free room on pages seen once, but only pages seen in the displace threshold\'s walks give cold fast-tier pages up', () => {
  // free room 400 − 20 headroom − 100 reserve = 280: 100 at count 2, then 100 at count 1, in rank order
  const free = target([[100, 1, 1], [100, 2, 1], [100, 0, 1]]);
  const fill = pagesOf(moves(plan([free], topology(1000, 400), space, 10, { ...PARAMS, fillThreshold: 1 })), Dir.PROMOTE, Reason.FILL);
  assert.deepEqual(fill.sort((a, b) => a - b), range(0, 200));
  // no free room, 300 confirmed-cold fast-tier pages: pages at count 2 wait, count 4 displace
  // (the slow ones cold last period: nothing for recency)
  const full = target([[300, 0, 0, 1], [100, 2, 1, 1], [100, 4, 1, 1]]);
  const m = moves(plan([full], topology(1000, 20), space, 10, { ...PARAMS, fillThreshold: 1 }));
  assert.deepEqual(pagesOf(m, Dir.PROMOTE, Reason.FILL), range(400, 500));
});

test('equally cold pages on both tiers do not trade places: a confirmed-cold page is displaced only while the slower tiers\' pages reach the displace threshold at least twice as often', () => {
  // no free room. Both tiers hold the same kind of page: 100 confirmed cold (streak K − 1), 150
  // at count 1, 40 at count 2, 10 at count 4 (the noise tail of pages touched about once in
  // four walks), and the same share read again of those cold (fast) or read (slow) last period,
  // so recency sees no difference either; nothing goes up (confirmed-cold pages go down for the
  // free reserve only)
  const alike = target([[100, 0, 0, 1], [150, 1, 0, 1], [40, 2, 0, 1], [10, 4, 0, 1], [100, 0, 1, 0], [150, 1, 1, 0], [40, 2, 1, 0], [10, 4, 1, 0]]);
  const still = moves(plan([alike], topology(1000, 20), space, 10, PARAMS));
  assert.equal(still.filter((x) => x[1] === Dir.PROMOTE).length, 0);
  assert.ok(pagesOf(still, Dir.DEMOTE, Reason.COLD).length <= 100, 'no more than the reserve');
  // the same fast tier, and 60 pages at count 4 below (17% of the slower pages below hot
  // against 3% above): those 60 displace confirmed-cold pages
  const warmer = target([[100, 0, 0, 1], [150, 1, 0, 1], [40, 2, 0, 1], [10, 4, 0, 1], [100, 0, 1, 0], [150, 1, 1, 0], [40, 2, 1, 0], [60, 4, 1, 0]]);
  const m = moves(plan([warmer], topology(1000, 20), space, 10, PARAMS));
  assert.deepEqual(pagesOf(m, Dir.PROMOTE, Reason.FILL), range(590, 650));
  assert.ok(pagesOf(m, Dir.DEMOTE, Reason.COLD).every((p) => p < 100), 'only confirmed-cold pages go down');
});

test('a full fast tier whose cold pages stay cold gives them up to slow pages seen once, while slow pages seen last period come back more often than cold fast ones', () => {
  // a key-value store whose popular keys changed: DRAM (1100 pages, 130 free: no room beyond
  // the reserve) holds 900 pages cold two periods running and 100 cold last period but read
  // again now (relapse 0.1); below, of 1000 pages read last period 400 are read again (0.4),
  // and 300 more that were cold are read now. None reaches the displace threshold
  const changed = target([[900, 0, 0, 1], [100, 1, 0, 1], [400, 1, 1, 0], [600, 0, 1, 0], [300, 1, 1, 1]]);
  const m = moves(plan([changed], topology(1100, 130), space, 10, PARAMS));
  assert.deepEqual(pagesOf(m, Dir.PROMOTE, Reason.FILL), [...range(1000, 1400), ...range(2000, 2300)]);
  const down = pagesOf(m, Dir.DEMOTE, Reason.COLD);
  assert.ok(down.length >= 700 && down.every((p) => p < 900), `${down.length} confirmed-cold pages go down, only those`);
  // the same pages, but the cold fast pages come back as often as the slow ones stay (0.4
  // each: one kind of page on both sides): nothing trades
  const alike = target([[600, 0, 0, 1], [400, 1, 0, 1], [400, 1, 1, 0], [600, 0, 1, 0], [300, 1, 1, 1]]);
  const still = moves(plan([alike], topology(1100, 130), space, 10, PARAMS));
  assert.equal(still.filter((x) => x[1] === Dir.PROMOTE).length, 0);
});

test('pages seen once wait for free room: with room beyond the reserve they displace nothing', () => {
  // the store above with 400 pages free: the fill threshold (adapting) decides who takes the room
  const changed = target([[900, 0, 0, 1], [100, 1, 0, 1], [400, 1, 1, 0], [600, 0, 1, 0], [300, 1, 1, 1]]);
  const m = moves(plan([changed], topology(1100, 400), space, 10, PARAMS));
  assert.equal(m.filter((x) => x[1] === Dir.PROMOTE).length, 0);
});

test('when the hot pages do not all fit, only those hot two periods running go up; with room for all, every hot page does', () => {
  // 100 hot with the mark, 100 hot for the first time; room 150 − 20 headroom = 130 pages
  const t = target([[100, 5, 1, 2], [100, 5, 1, 0]]);
  assert.deepEqual(pagesOf(moves(plan([t], topology(1000, 150), space, 10, PARAMS)), Dir.PROMOTE, Reason.HOT), range(0, 100));
  // room 400 − 20: all 200 go up
  assert.equal(pagesOf(moves(plan([t], topology(1000, 400), space, 10, PARAMS)), Dir.PROMOTE, Reason.HOT).length, 200);
});

test('a plan over chunks found uniform is the plan over the same pages read one by one', () => {
  // whole chunks of one state (cold in DRAM, hot and fill candidates on the slow tier, idle on
  // the slow tier) and a mixed stretch; DRAM full, so promotions and demotions both run
  const C = CHUNK_PAGES;
  const runs: [number, number, number, number?][] = [[2 * C, 0, 0, 1], [C, 5, 1, 2], [C - 7, 4, 1], [7, 3, 0, 1], [3 * C, 0, 1, 1], [C + 300, 3, 1]];
  const fresh = target(runs);
  const settled = target(runs);
  const identity = space.alloc(space.size).map((_, s) => s);
  settled.heat.endPeriod(identity);
  const uniform = [...settled.heat.segments[0]!.uniform].filter((u) => u !== MIXED).length;
  assert.equal(uniform, 8, 'every chunk but the mixed one');
  assert.ok(fresh.heat.segments[0]!.uniform.every((u) => u === MIXED));
  const topo = topology(100_000, 1000);
  const a = moves(plan([fresh], topo, space, 10, PARAMS));
  const b = moves(plan([settled], topo, space, 10, PARAMS));
  assert.ok(pagesOf(a, Dir.DEMOTE, Reason.COLD).length > 0 && pagesOf(a, Dir.PROMOTE, Reason.HOT).length === C, 'the plan moves pages both ways');
  assert.deepEqual(b, a);
});
