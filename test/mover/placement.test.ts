import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeatTable, Segment } from '../../src/heat/heat-table.js';
import { CHUNK_PAGES, MIXED } from '../../src/heat/segment.js';
import { StateSpace } from '../../src/heat/states.js';
import { PlacementLookup } from '../../src/mover/placement.js';
import type { Target } from '../../src/planner/plan.js';
import { rankTables } from '../../src/planner/ranks.js';
import { MoveHistory } from '../../src/planner/history.js';
import { classify, type Topology } from '../../src/topology/topology.js';
import type { Kernel, NodeInfo } from '../../src/kernel/types.js';
import { drain } from '../../src/util/steps.js';
import { ERRNO, SyscallError } from '../../src/util/errors.js';

const PAGE = 4096;
const BASE = 0x7f0000000000;
const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
const PARAMS = { hotThreshold: 5, coldThreshold: 0, headroom: 0.02, minResidency: 3, periodCap: 2 ** 30, demoteToLowest: false, exchangeGap: 2, fillThreshold: 3, displaceThreshold: 4, freeReserve: 0.1 };
const tables = rankTables(space, PARAMS);

function topology(): Topology {
  const node = (id: number): NodeInfo => ({
    id, online: true, hasCpu: id === 0, hasMemory: true, cpus: id === 0 ? [0] : [], memTotalBytes: 2 ** 30, memFreeBytes: 2 ** 29,
    distance: { 0: id === 0 ? 10 : 20, 1: id === 1 ? 10 : 20 },
  });
  return classify({ nodes: [node(0), node(1)], numaBalancing: 0, demotionEnabled: false });
}

// page kinds: [count in 5 walks, streak, tier slot (0 unknown, 1 fast, 2 slow)]
const HOT_UNKNOWN = [5, 0, 0] as const;
const COLD_UNKNOWN = [0, 1, 0] as const; // streak K - 1: confirmed cold
const LUKEWARM_UNKNOWN = [1, 0, 0] as const; // neither hot, fill nor confirmed cold
const HOT_FAST = [5, 0, 1] as const;
const HOT_SLOW = [5, 0, 2] as const;
const COLD_FAST = [0, 1, 1] as const;

function target(kinds: (readonly [number, number, number])[]): Target {
  const st = space.alloc(kinds.length);
  kinds.forEach(([count, streak, slot], i) => (st[i] = space.make(5, count, streak, slot)));
  const heat = new HeatTable(space);
  heat.segments.push(new Segment(BASE, 12, st, kinds.length));
  return { id: { pid: 42, starttime: 1 }, comm: 'kv', heat, history: new MoveHistory(), ranges: new Float64Array(0), gone: false };
}

/** A kernel that answers every query with `node(page index)` and records the pages asked. */
function kernel(node: (i: number) => number): Pick<Kernel, 'movePages'> & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    movePages: (_pid, n, addrs, nodes, status) => {
      assert.equal(nodes, null, 'placement only queries');
      for (let k = 0; k < n; k++) {
        const i = (addrs[k]! - BASE) / PAGE;
        asked.push(i);
        status[k] = node(i);
      }
      return 0;
    },
  };
}

const tierSlots = (t: Target): number[] => [...t.heat.segments[0]!.states.subarray(0, t.heat.segments[0]!.length)].map((s) => space.tierSlot[s]!);

test('placement asks only for candidates of unknown tier, and records the node the kernel gives', () => {
  const t = target([HOT_UNKNOWN, COLD_UNKNOWN, LUKEWARM_UNKNOWN, HOT_SLOW, COLD_FAST, HOT_UNKNOWN]);
  const k = kernel((i) => (i === 0 ? 0 : 1));
  const queried = drain(new PlacementLookup(k).lookupSteps([t], space, tables, topology(), 1, 1000));
  assert.deepEqual(k.asked, [0, 1, 5]);
  assert.equal(queried, 3);
  assert.deepEqual(tierSlots(t), [1, 2, 0, 2, 1, 2]);
});

test('each hot page believed in the fast tier is re-checked once every four periods', () => {
  const t = target(Array.from({ length: 10 }, () => HOT_FAST));
  const k = kernel(() => 0);
  const lookup = new PlacementLookup(k);
  const perPeriod: number[][] = [];
  for (let period = 8; period < 12; period++) {
    k.asked.length = 0;
    drain(lookup.lookupSteps([t], space, tables, topology(), period, 1000));
    perPeriod.push([...k.asked]);
  }
  assert.deepEqual(perPeriod, [[0, 4, 8], [1, 5, 9], [2, 6], [3, 7]]);
});

test('a page the kernel reports elsewhere takes that tier; an answer of no node leaves it as it was', () => {
  const t = target([HOT_FAST, HOT_FAST, HOT_FAST, HOT_FAST, HOT_FAST]);
  drain(new PlacementLookup(kernel((i) => (i === 0 ? 1 : i === 4 ? -ERRNO.ENOENT : 0))).lookupSteps([t], space, tables, topology(), 0, 1000));
  assert.deepEqual(tierSlots(t), [2, 1, 1, 1, 1]);
});

test('the look-up stops at its budget, across query batches', () => {
  const t = target(Array.from({ length: 5000 }, () => HOT_UNKNOWN));
  const k = kernel(() => 1);
  const queried = drain(new PlacementLookup(k).lookupSteps([t], space, tables, topology(), 0, 2500));
  assert.equal(queried, 2500);
  assert.deepEqual(k.asked, Array.from({ length: 2500 }, (_, i) => i));
  const slots = tierSlots(t);
  assert.ok(slots.slice(0, 2500).every((s) => s === 2) && slots.slice(2500).every((s) => s === 0));
});

test('a target that exits during the look-up is marked gone and its pages keep their unknown tier', () => {
  const t = target(Array.from({ length: 3000 }, () => HOT_UNKNOWN));
  let calls = 0;
  const k: Pick<Kernel, 'movePages'> = {
    movePages: () => {
      calls++;
      throw new SyscallError('move_pages', ERRNO.ESRCH);
    },
  };
  drain(new PlacementLookup(k).lookupSteps([t], space, tables, topology(), 0, 10_000));
  assert.equal(t.gone, true);
  assert.equal(calls, 1, 'no query after the target is gone');
  assert.ok(tierSlots(t).every((s) => s === 0));
});

test('the look-up over chunks found uniform asks for the same pages as page by page', () => {
  // whole chunks of one kind (idle of unknown tier, hot in DRAM, hot of unknown tier) and a
  // mixed stretch
  const C = CHUNK_PAGES;
  type Kind = readonly [number, number, number];
  const kinds: Kind[] = [...Array<Kind>(2 * C).fill(LUKEWARM_UNKNOWN), ...Array<Kind>(C).fill(HOT_FAST), ...Array<Kind>(C).fill(HOT_UNKNOWN)];
  for (let i = 0; i < C + 100; i++) kinds.push(i % 3 === 0 ? COLD_UNKNOWN : LUKEWARM_UNKNOWN);
  const fresh = target(kinds);
  const settled = target(kinds);
  settled.heat.endPeriod(space.alloc(space.size).map((_, s) => s));
  assert.equal([...settled.heat.segments[0]!.uniform].filter((u) => u !== MIXED).length, 4);
  const asked = (t: Target, period: number, budget: number): number[] => {
    const k = kernel(() => 1);
    drain(new PlacementLookup(k).lookupSteps([t], space, tables, topology(), period, budget));
    return k.asked;
  };
  for (const [period, budget] of [[1, 100_000], [2, 100_000], [3, 500]] as const) {
    const a = asked(fresh, period, budget);
    assert.ok(a.length > 0);
    assert.deepEqual(asked(settled, period, budget), a, `period ${period}, budget ${budget}`);
  }
});

test('pages believed in the fast tier and moved away by another mover: once a re-check finds them elsewhere, the next period re-checks all of them, until beliefs hold', () => {
  const t = target(Array.from({ length: 400 }, () => HOT_FAST));
  // another mover took every page to the slow node: the stripe of period 8 finds its 100 elsewhere
  const k = kernel(() => 1);
  const lookup = new PlacementLookup(k);
  drain(lookup.lookupSteps([t], space, tables, topology(), 8, 10_000));
  assert.equal(k.asked.length, 100);
  assert.ok(lookup.rechecksAll);
  // they are believed slow now: the 300 still believed fast are all asked in the next period
  k.asked.length = 0;
  const queried = drain(lookup.lookupSteps([t], space, tables, topology(), 9, 10_000));
  assert.equal(queried, 300);
  assert.ok(tierSlots(t).every((s) => s === 2));
  // nothing left believed fast, nothing stale: back to one in four
  drain(lookup.lookupSteps([t], space, tables, topology(), 10, 10_000));
  assert.ok(!lookup.rechecksAll);
});

test('a few pages found elsewhere (the kernel compacting or demoting one now and then) keep the re-checks at one in four', () => {
  // 1% of the re-checked pages moved (100 of period 8's 10 000): under the stale share
  const t = target(Array.from({ length: 40_000 }, () => HOT_FAST));
  const k = kernel((i) => (i % 400 === 0 ? 1 : 0));
  const lookup = new PlacementLookup(k);
  drain(lookup.lookupSteps([t], space, tables, topology(), 8, 100_000));
  assert.equal(k.asked.length, 10_000);
  assert.equal(tierSlots(t).filter((s) => s === 2).length, 100);
  assert.ok(!lookup.rechecksAll);
});
