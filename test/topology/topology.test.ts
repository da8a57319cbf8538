import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify } from '../../src/topology/topology.js';
import type { NodeInfo, RawTopology } from '../../src/kernel/types.js';

function node(id: number, over: Partial<NodeInfo> = {}): NodeInfo {
  return {
    id, online: true, hasCpu: true, hasMemory: true, cpus: [id], memTotalBytes: 1 << 30, memFreeBytes: 1 << 29,
    distance: { 0: id === 0 ? 10 : 20, 1: id === 1 ? 10 : 20, 2: id === 2 ? 10 : 30 }, ...over,
  };
}
const raw = (nodes: NodeInfo[], nb: number | null = 0): RawTopology => ({ nodes, numaBalancing: nb, demotionEnabled: false });

test('type file beats kernel tiers; targets are nearest of the next tier', () => {
  const t = classify(raw([node(0, { type: 'dram', memoryTier: 4 }), node(1, { hasCpu: false, cpus: [], type: 'pmem', memoryTier: 4 })]));
  assert.deepEqual(t.tiers, [[0], [1]]);
  assert.match(t.nodes[1]!.evidence, /type = pmem/);
  assert.equal(t.nodes[0]!.demoteTo, 1);
  assert.equal(t.nodes[1]!.promoteTo, 0);
});

test('kernel memory tiers when they tell nodes apart', () => {
  const t = classify(raw([node(0, { memoryTier: 4 }), node(1, { hasCpu: false, cpus: [], memoryTier: 54 })]));
  assert.deepEqual(t.tiers, [[0], [1]]);
  assert.match(t.nodes[1]!.evidence, /memory_tier54/);
});

test('one kernel tier for all (6.1) falls through to HMAT, then to CPU-less', () => {
  const hmat = classify(raw([node(0, { memoryTier: 4, hmat: { readLatencyNs: 100 } }), node(1, { hasCpu: false, memoryTier: 4, hmat: { readLatencyNs: 300 } })]));
  assert.match(hmat.nodes[1]!.evidence, /HMAT/);
  assert.equal(hmat.nodes[1]!.tier, 1);
  const hbm = classify(raw([node(0, { memoryTier: 4, hmat: { readLatencyNs: 100 } }), node(1, { hasCpu: false, memoryTier: 4, hmat: { readLatencyNs: 90 } })]));
  assert.equal(hbm.nodes[1]!.tier, 0, 'CPU-less but as fast (HBM): same tier');
  const cpuless = classify(raw([node(0, { memoryTier: 4 }), node(1, { hasCpu: false, cpus: [], memoryTier: 4 })]));
  assert.equal(cpuless.nodes[1]!.tier, 1);
  assert.match(cpuless.nodes[1]!.evidence, /CPU-less/);
});

test('config map wins; three tiers; demotion to lowest', () => {
  const nodes = [node(0), node(1, { hasCpu: false }), node(2, { hasCpu: false })];
  const t = classify(raw(nodes), { 0: { tier: 0 }, 1: { tier: 1 }, 2: { tier: 2 } });
  assert.deepEqual(t.tiers, [[0], [1], [2]]);
  assert.equal(t.nodes[0]!.demoteTo, 1);
  assert.equal(classify(raw(nodes), { 0: { tier: 0 }, 1: { tier: 1 }, 2: { tier: 2 } }, true).nodes[0]!.demoteTo, 2);
  assert.throws(() => classify(raw(nodes), { 0: { tier: 0 } }), /no entry for memory node 1/);
});

test('conflicts: tiering bit, numa_balancing 1 with tiers, demotion_enabled', () => {
  assert.equal(classify(raw([node(0)], 2)).conflicts.length, 1);
  const two = [node(0), node(1, { hasCpu: false, cpus: [] })];
  assert.match(classify(raw(two, 1)).conflicts[0]!, /numa_balancing = 1/);
  assert.equal(classify(raw([node(0)], 1)).conflicts.length, 0, 'one tier: balancing is harmless');
  assert.match(classify({ ...raw(two), demotionEnabled: true }).conflicts[0]!, /demotion_enabled/);
  const offline = classify(raw([node(0), node(1, { online: false })]));
  assert.equal(offline.nodes.length, 1, 'offline nodes are not tiers');
});
