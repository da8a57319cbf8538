import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GAIN_MAX, damosContexts, damosQuotas, gainedQuotas, nextGains } from '../../src/planner/damos-quotas.js';
import type { Topology } from '../../src/topology/topology.js';

const MiB = 2 ** 20;
function topo(free0: number, free1 = 1500 * MiB): Topology {
  const node = (id: number, tier: number, total: number, free: number) => ({ id, tier, evidence: '', cpus: [], memTotalBytes: total, memFreeBytes: free, reservedBytes: 4 * MiB, distance: {}, promoteTo: tier === 1 ? 0 : null, demoteTo: tier === 0 ? 1 : null });
  return { nodes: [node(0, 0, 1000 * MiB, free0), node(1, 1, 2000 * MiB, free1)], tiers: [[0], [1]], conflicts: [] };
}
const P = { promoteRate: 256 * MiB, demoteRate: 256 * MiB, swapRate: 4 * MiB, freeReserve: 0.1, headroom: 0.005, intervalMs: 1000 };

test('contexts: the fast node demotes, the slow node promotes, one scheme per memcg each', () => {
  const c = damosContexts(topo(500 * MiB), ['/a', '/b'], false);
  assert.deepEqual(c.map((x) => [x.node, x.schemes.map((s) => `${s.action}>${s.targetNid}${s.memcgPath}`)]), [
    [0, ['migrate_cold>1/a', 'migrate_cold>1/b']],
    [1, ['migrate_hot>0/a', 'migrate_hot>0/b']],
  ]);
  assert.ok(damosContexts(topo(500 * MiB), ['/a'], true).every((x) => x.schemes.every((s) => s.action === 'stat')));
});

test('no demotion while the fast node keeps its free reserve; promotions up to the rate', () => {
  const t = topo(500 * MiB);
  const q = damosQuotas(t, damosContexts(t, ['/a'], false), P);
  assert.deepEqual(q, [[0], [256 * MiB]]);
});

test('below the reserve, promotions take the room above the headroom at the swap rate; demotions restore the reserve, no further', () => {
  const t = topo(40 * MiB);
  const q = damosQuotas(t, damosContexts(t, ['/a'], false), P);
  // room: 40 MiB free less max(0.5% of 1000 MiB, 4 MiB of watermarks) = 35 MiB, all of it in the reserve
  assert.equal(q[1]![0], 4 * MiB);
  assert.equal(damosQuotas(t, damosContexts(t, ['/a'], false), { ...P, swapRate: 64 * MiB })[1]![0], 35 * MiB);
  // reserve: 10% of 1000 MiB = 100 MiB, so 60 MiB to demote
  assert.equal(q[0]![0], 60 * MiB);
});

test('promotions fill the room above the reserve at once, and go on into it at the swap rate', () => {
  const t = topo(130 * MiB);
  const q = damosQuotas(t, damosContexts(t, ['/a'], false), P);
  // 30 MiB above the 100 MiB reserve, then 4 MiB a second into it
  assert.equal(q[1]![0], 34 * MiB);
  assert.equal(q[0]![0], 0, 'the reserve is kept: nothing to demote');
  // the promote rate still bounds the sum
  assert.equal(damosQuotas(t, damosContexts(t, ['/a'], false), { ...P, promoteRate: 10 * MiB })[1]![0], 10 * MiB);
});

test('a full fast node promotes nothing, and demotions stop where the slow node has no room', () => {
  const t = topo(4 * MiB, 5 * MiB);
  const q = damosQuotas(t, damosContexts(t, ['/a'], false), P);
  assert.equal(q[1]![0], 0);
  assert.equal(q[0]![0], 0, 'slow node: 5 MiB free, 10 MiB headroom');
});

test('memcgs share a node\'s budgets evenly, and the rate bounds the total', () => {
  const t = topo(10 * MiB);
  const q = damosQuotas(t, damosContexts(t, ['/a', '/b'], false), { ...P, demoteRate: 40 * MiB });
  assert.deepEqual(q[0], [20 * MiB, 20 * MiB]);
});

test('a scheme that spends its quota on other memcgs\' regions gets a larger one, and gives it back once it moves enough', () => {
  const wanted = [[60 * MiB]];
  let gains = [[1]];
  // the quota was all tried, a tenth of what was wanted moved: the coldest regions were not the memcg's
  gains = nextGains(gains, wanted, [[60 * MiB]], [[60 * MiB]], [[6 * MiB]]);
  assert.deepEqual(gains, [[2]]);
  const t = topo(40 * MiB);
  const c = damosContexts(t, ['/a'], false);
  assert.equal(gainedQuotas(c, [[60 * MiB], [35 * MiB]], [[2], [1]], P)[0]![0], 120 * MiB);
  // the rate bounds the quota whatever the gain
  assert.equal(gainedQuotas(c, [[60 * MiB], [35 * MiB]], [[64], [1]], P)[0]![0], 256 * MiB);
  // a quota not used up says the regions ran out, not that others took them: the gain stays
  assert.deepEqual(nextGains([[4]], wanted, [[240 * MiB]], [[100 * MiB]], [[10 * MiB]]), [[4]]);
  // enough moved: the gain halves, never below 1
  assert.deepEqual(nextGains([[4]], wanted, [[240 * MiB]], [[240 * MiB]], [[60 * MiB]]), [[2]]);
  assert.deepEqual(nextGains([[1]], [[0]], [[0]], [[0]], [[0]]), [[1]]);
  for (let i = 0; i < 10; i++) gains = nextGains(gains, wanted, [[1e12]], [[1e12]], [[0]]);
  assert.equal(gains[0]![0], GAIN_MAX);
});
