import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddrMap } from '../../src/util/addr-map.js';
import { Prng } from '../../src/kernel/sim/prng.js';

test('AddrMap answers as a Map does over random sets, updates and deletes, through growth and wrapped probes', () => {
  const rng = new Prng(7);
  for (const span of [64, 4096, 1 << 20]) {
    const m = new AddrMap(4);
    const ref = new Map<number, number>();
    // user-space page addresses, a few clustered so probes collide and wrap
    const addr = (): number => 0x7f0000000000 + Math.floor(rng.next() * span) * 4096;
    for (let op = 0; op < 50_000; op++) {
      const a = addr();
      const r = rng.next();
      if (r < 0.5) {
        const v = Math.floor(rng.next() * 2 ** 31);
        m.set(a, v);
        ref.set(a, v);
      } else if (r < 0.8) {
        m.delete(a);
        ref.delete(a);
      } else {
        assert.equal(m.get(a), ref.get(a) ?? -1, `get ${a.toString(16)} after ${op} ops (span ${span})`);
      }
      assert.equal(m.size, ref.size);
    }
    for (const [a, v] of ref) assert.equal(m.get(a), v);
  }
});

test('AddrMap keeps address 0 and the top of a 57-bit address space apart from empty slots', () => {
  const m = new AddrMap();
  m.set(0, 5);
  m.set(2 ** 57 - 4096, 6);
  assert.equal(m.get(0), 5);
  assert.equal(m.get(2 ** 57 - 4096), 6);
  assert.equal(m.get(4096), -1);
  m.delete(0);
  assert.equal(m.get(0), -1);
  assert.equal(m.size, 1);
});
