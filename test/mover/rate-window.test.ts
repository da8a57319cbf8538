import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeakRate, RateWindow } from '../../src/mover/rate-window.js';

test('rate window: a new limit after a reload still counts the moves of the last second', () => {
  const w = new RateWindow(8 * 2 ** 20);
  w.record(0, 8 * 2 ** 20);
  w.bytesPerSec = 16 * 2 ** 20; // SIGHUP with a higher limit
  assert.equal(w.waitFor(10, 8 * 2 ** 20), 0, 'room under the new limit');
  w.record(10, 8 * 2 ** 20);
  assert.ok(w.waitFor(20, 4096) > 900, 'the window is full: the earlier moves were not forgotten');
});

test('rate window: a batch larger than the whole rate goes alone into an empty window instead of waiting forever', () => {
  const w = new RateWindow(1 * 2 ** 20);
  assert.equal(w.waitFor(0, 2 * 2 ** 20), 0);
  w.record(0, 2 * 2 ** 20);
  assert.ok(w.waitFor(1, 2 * 2 ** 20) > 0, 'but never beside another batch');
});

test('peak rate: the largest 1 s window of a long run, holding only the last second', () => {
  const p = new PeakRate();
  const log: [number, number][] = [];
  let t = 0;
  for (let i = 0; i < 100_000; i++) {
    t += (i * 7919) % 97; // irregular spacing, ms
    const b = ((i * 104729) % 13) * 4096;
    log.push([t, b]);
    p.record(t, b);
    assert.ok(p.size <= 1000, 'bounded by the calls of one second');
  }
  let best = 0;
  for (let i = 0, j = 0, sum = 0; i < log.length; i++) {
    sum += log[i]![1];
    while (log[j]![0] <= log[i]![0] - 1000) sum -= log[j++]![1];
    best = Math.max(best, sum);
  }
  assert.equal(p.peak, best);
});
