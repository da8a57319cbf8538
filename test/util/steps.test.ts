import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { cooperate, drain, Slice, type Steps } from '../../src/util/steps.js';

/** `n` pieces of busy work of `ms` each; returns n */
function* busy(n: number, ms: number): Steps<number> {
  for (let i = 0; i < n; i++) {
    const end = performance.now() + ms;
    while (performance.now() < end);
    yield;
  }
  return n;
}

test('steps: drain runs them to the end at once; cooperate lets the event loop in between, with the same result', async () => {
  assert.equal(drain(busy(3, 0)), 3);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const drained = (() => {
    drain(busy(30, 1));
    return ticks;
  })();
  assert.equal(drained, 0, 'no timer runs inside drain');
  const n = await cooperate(busy(60, 1), new Slice(4));
  clearInterval(timer);
  assert.equal(n, 60);
  assert.ok(ticks >= 5, `${ticks} timer ticks during 60 ms of work in 4 ms slices`);
});
