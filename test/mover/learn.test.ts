import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlacementLearner } from '../../src/mover/learn.js';
import { HeatTable } from '../../src/heat/heat-table.js';
import { MIXED, Segment } from '../../src/heat/segment.js';
import { StateSpace } from '../../src/heat/states.js';
import { MoveHistory } from '../../src/planner/history.js';
import type { Target } from '../../src/planner/plan.js';

const PAGE = 4096;

/** A target with one 4 KiB-page segment per start, every page on tier 1 (slot 2) and every chunk uniform. */
function target(space: StateSpace, starts: number[], pages: number): Target {
  const heat = new HeatTable(space);
  const onSlow = space.withTier(0, 2);
  for (const start of starts) {
    const seg = new Segment(start, 12, new Uint8Array(pages).fill(onSlow), pages);
    seg.uniform.fill(onSlow);
    heat.segments.push(seg);
  }
  return { id: { pid: 1, starttime: 1 }, comm: 'x', heat, history: new MoveHistory(), ranges: new Float64Array(0), gone: false };
}

const tierSlotAt = (space: StateSpace, t: Target, addr: number): number => {
  const at = t.heat.locate(addr)!;
  return space.tierSlot[at.seg.states[at.slot]!]!;
};

test('a page found where its state already says is not written, so its chunk stays uniform', () => {
  const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
  const t = target(space, [0x10000000], 2048);
  // node 0 is tier 0, node 1 tier 1
  const learner = new PlacementLearner(Int32Array.of(0, 1), space);
  learner.learn(t, 0x10000000 + 5 * PAGE, 1);
  assert.notEqual(t.heat.segments[0]!.uniform[0], MIXED, 'unchanged placement leaves the chunk uniform');
  learner.learn(t, 0x10000000 + 5 * PAGE, 0);
  assert.equal(tierSlotAt(space, t, 0x10000000 + 5 * PAGE), 1, 'moved to tier 0');
  assert.equal(t.heat.segments[0]!.uniform[0], MIXED, 'a changed page marks its chunk');
  assert.notEqual(t.heat.segments[0]!.uniform[1], MIXED, 'other chunks stay uniform');
});

test('pages of several segments and targets each land in their own state', () => {
  const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
  const a = target(space, [0x10000000, 0x20000000], 16);
  const b = target(space, [0x10000000], 16);
  const learner = new PlacementLearner(Int32Array.of(0, 1), space);
  learner.learn(a, 0x10000000 + 3 * PAGE, 0);
  learner.learn(a, 0x20000000 + 3 * PAGE, 0);
  // same address, another target: not the segment learnt last
  learner.learn(b, 0x10000000 + 4 * PAGE, 0);
  // outside every segment, and an unknown node: nothing happens
  learner.learn(a, 0x30000000, 0);
  learner.learn(a, 0x10000000 + 6 * PAGE, 7);
  assert.equal(tierSlotAt(space, a, 0x10000000 + 3 * PAGE), 1);
  assert.equal(tierSlotAt(space, a, 0x20000000 + 3 * PAGE), 1);
  assert.equal(tierSlotAt(space, a, 0x10000000 + 4 * PAGE), 2, "b's page is not a's");
  assert.equal(tierSlotAt(space, b, 0x10000000 + 4 * PAGE), 1);
  assert.equal(tierSlotAt(space, a, 0x10000000 + 6 * PAGE), 2);
});
