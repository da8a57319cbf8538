import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FillAdapt, bandShare } from '../../src/planner/fill-adapt.js';

const MiB = 1 << 20;
const params = { ceiling: 3, floor: 1, minSpare: 0.02, minShare: 0.05, patience: 2 };
/** bytes by count 0..5: a hot set seen in every walk and `thin` MiB seen in 1 and 2 walks each */
const counts = (thin: number): number[] => [800 * MiB, thin * MiB, thin * MiB, 0, 0, 100 * MiB];
const spare = { spareBytes: 300 * MiB, fastBytes: 1024 * MiB, promoteBytes: 0, short: false };

test('fill threshold: steps down one walk per `patience` periods of spare room while the band below holds its share of the sightings, never below the floor', () => {
  const a = new FillAdapt(params);
  const seen = Array.from({ length: 8 }, () => a.observe({ ...spare, countBytes: counts(60) }));
  assert.deepEqual(seen, [3, 2, 2, 1, 1, 1, 1, 1]);
});

test('fill threshold: a thin band (a static hot set\'s cold pages, each touched once in a long while) keeps the default', () => {
  const a = new FillAdapt(params);
  // 2 MiB seen twice against 100 MiB seen five times: 0.8% of the sightings
  for (let i = 0; i < 6; i++) assert.equal(a.observe({ ...spare, countBytes: counts(2) }), 3);
  assert.ok(bandShare(counts(2), 2) < 0.05 && bandShare(counts(60), 2) > 0.05);
});

test('fill threshold: no spare room, or a period without it, keeps it; a shortage takes it back to the default at once', () => {
  const a = new FillAdapt(params);
  assert.equal(a.observe({ ...spare, spareBytes: 10 * MiB, countBytes: counts(60) }), 3, '1% of the fast tier spare is not worth it');
  a.observe({ ...spare, countBytes: counts(60) });
  assert.equal(a.observe({ ...spare, spareBytes: 0, countBytes: counts(60) }), 3, 'the calm periods must be consecutive');
  a.observe({ ...spare, countBytes: counts(60) });
  assert.equal(a.observe({ ...spare, countBytes: counts(60) }), 2);
  assert.equal(a.observe({ ...spare, short: true, countBytes: counts(60) }), 3);
});

test('fill threshold: periods still promoting at the current threshold are not calm (the hot and warm sets go first)', () => {
  const a = new FillAdapt(params);
  // the first promotions of a workload: room is spare, but 150 MiB moved up this period
  for (let i = 0; i < 4; i++) assert.equal(a.observe({ ...spare, promoteBytes: 150 * MiB, countBytes: counts(60) }), 3);
  a.observe({ ...spare, promoteBytes: 1 * MiB, countBytes: counts(60) });
  assert.equal(a.observe({ ...spare, promoteBytes: 1 * MiB, countBytes: counts(60) }), 2, 'settled: two calm periods');
});

test('fill threshold: says it is lowering while periods count toward a step, and not once it reaches the floor or the room is wanted', () => {
  const a = new FillAdapt(params);
  const lowering: boolean[] = [];
  for (let i = 0; i < 6; i++) {
    a.observe({ ...spare, countBytes: counts(60) });
    lowering.push(a.lowering);
  }
  // 3 → 2 → 1 over four calm periods, then at the floor
  assert.deepEqual(lowering, [true, true, true, true, false, false]);
  const b = new FillAdapt(params);
  b.observe({ ...spare, countBytes: counts(60) });
  b.observe({ ...spare, short: true, countBytes: counts(60) });
  assert.equal(b.lowering, false, 'a shortage');
  b.observe({ ...spare, promoteBytes: 150 * MiB, countBytes: counts(60) });
  assert.equal(b.lowering, false, 'still promoting at the current threshold');
});
