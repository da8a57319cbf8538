import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameOrder } from '../../../src/trackers/page-idle/frame-order.js';

function check(pfns: number[]): void {
  const f = new FrameOrder(pfns.length);
  f.sort(Float64Array.from(pfns), pfns.length);
  const want = pfns.map((p, u) => [p, u] as const).sort((a, b) => a[0] - b[0]);
  assert.deepEqual(Array.from(f.pfn), want.map(([p]) => p));
  assert.deepEqual(Array.from(f.order), want.map(([, u]) => u));
}

test('frame order: units come out by ascending frame, with their indices (radix and wide-span paths)', () => {
  let seed = 99;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % n;
  };
  const frames = new Set<number>();
  while (frames.size < 5000) frames.add(1_000_000 + rnd(3_000_000)); // spans more than 16 bits
  check([...frames]);
  check([7, 3, 2 ** 40, 5]); // more than 2^32 frames apart: the comparison sort
  check([42]);
});
