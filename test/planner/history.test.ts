import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dir, MoveHistory } from '../../src/planner/history.js';
import { Reason } from '../../src/planner/plan.js';

const WINDOW = 10;
/** one page moved one way then back: is the move back a ping-pong? */
const back = (first: number, firstDir: number, second: number): boolean => {
  const h = new MoveHistory();
  h.record(0x1000, 1, firstDir, first, WINDOW);
  return h.record(0x1000, 4, 1 - firstDir, second, WINDOW);
};

test('ping-pong: a page whose accesses changed between its two moves is not one', () => {
  assert.equal(back(Reason.HOT, Dir.PROMOTE, Reason.COLD), false, 'hot, then cold after a shift');
  assert.equal(back(Reason.FILL, Dir.PROMOTE, Reason.COLD), false, 'filled warm, then cold after a shift');
  assert.equal(back(Reason.COLD, Dir.DEMOTE, Reason.FILL), false, 'cold, then warm again');
  assert.equal(back(Reason.COLD, Dir.DEMOTE, Reason.HOT), false, 'cold, then hot again');
  assert.equal(back(Reason.HOT, Dir.PROMOTE, Reason.EXCHANGE), false, 'hot, then displaced once merely warm');
});

test('ping-pong: fill room reclaimed by an exchange is not one; a page exchanged out and filled back is', () => {
  assert.equal(back(Reason.FILL, Dir.PROMOTE, Reason.EXCHANGE), false);
  assert.equal(back(Reason.EXCHANGE, Dir.DEMOTE, Reason.FILL), true);
});

test('ping-pong: only within the window, and only a move in the other direction', () => {
  const h = new MoveHistory();
  h.record(0x1000, 1, Dir.DEMOTE, Reason.EXCHANGE, WINDOW);
  assert.equal(h.record(0x1000, 1 + WINDOW + 1, Dir.PROMOTE, Reason.FILL, WINDOW), false, 'outside the window');
  h.record(0x2000, 1, Dir.PROMOTE, Reason.FILL, WINDOW);
  assert.equal(h.record(0x2000, 2, Dir.PROMOTE, Reason.FILL, WINDOW), false, 'same direction');
  assert.equal(h.pingPongs, 0);
});

test('move history: the recent-move sweep and pruning match a page-by-page model over random moves', () => {
  const h = new MoveHistory();
  const model = new Map<number, number>(); // addr → period of its last move
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % n;
  };
  for (let period = 0; period < 60; period++) {
    for (let k = 0; k < 200; k++) {
      const addr = rnd(500) * 4096;
      h.record(addr, period, rnd(2), rnd(4), 4);
      model.set(addr, period);
    }
    const got: number[] = [];
    h.forEachRecent(period, 3, (a) => got.push(a));
    const want = [...model].filter(([, p]) => period - p < 3).map(([a]) => a);
    assert.deepEqual(got.sort((x, y) => x - y), want.sort((x, y) => x - y), `recent moves at period ${period}`);
    h.prune(period, 6);
    for (const [a, p] of model) if (period - p > 6) model.delete(a);
    assert.equal(h.size, model.size, `pages remembered at period ${period}`);
  }
});
