import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachConcurrently } from '../../src/util/concurrently.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('eachConcurrently: every item once, never more than `limit` in flight', async () => {
  for (const limit of [1, 2, 3, 10]) {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await eachConcurrently([1, 2, 3, 4, 5, 6, 7], limit, async (x) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      await tick();
      seen.push(x);
      inFlight--;
    });
    assert.deepEqual([...seen].sort(), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(most, Math.min(limit, 7), `limit ${limit}`);
  }
});

test('eachConcurrently: the first failure is thrown once the calls in flight have settled, and no new call starts', async () => {
  const started: number[] = [];
  let settled = 0;
  await assert.rejects(
    eachConcurrently([1, 2, 3, 4, 5], 2, async (x) => {
      started.push(x);
      await tick();
      settled++;
      if (x === 1) throw new Error('one');
    }),
    /one/,
  );
  assert.deepEqual(started, [1, 2]);
  assert.equal(settled, 2);
});
