import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAll, DecodeError, IdlePagesDecoder, RunBatch } from '../../../src/formats/idle-pages/decode.js';
import { IdlePagesEncoder } from '../../../src/kernel/sim/idle-encoder.js';
import { Bit } from '../../../src/kernel/sim/address-space.js';
import { ArraySpace, hexBytes, toHex } from '../../helpers/array-space.js';

const V1 = 'A0 00 00 7F 00 00 00 00 00 03 51 82 5A A0 00 00 7F 00 00 20 00 00 11 61 A0 00 00 7F FF FF FF F0 00';

function vector1Space(): ArraySpace {
  const a = [Bit.ACCESSED, Bit.ACCESSED, Bit.ACCESSED, Bit.IDLE, Bit.ABSENT, Bit.ABSENT, ...Array<number>(10).fill(Bit.IDLE)];
  return new ArraySpace([
    { start: 0x7f0000000000, end: 0x7f0000010000, bits: a },
    { start: 0x7f0000200000, end: 0x7f0000600000, huge: true, bits: [Bit.ACCESSED, Bit.IDLE] },
  ]);
}

test('vector 1 decodes exactly as the spec says', () => {
  const { records, end } = decodeAll(hexBytes(V1));
  assert.deepEqual(records.map((r) => [r.addr.toString(16), r.type, r.count, r.pageSize]), [
    ['7f0000000000', 'PTE_ACCESSED', 3, 4096],
    ['7f0000003000', 'PTE_IDLE', 1, 4096],
    ['7f0000004000', 'PTE_HOLE', 2, 4096],
    ['7f0000006000', 'PTE_IDLE', 10, 4096],
    ['7f0000200000', 'PMD_ACCESSED', 1, 2097152],
    ['7f0000400000', 'PMD_IDLE', 1, 2097152],
  ]);
  assert.equal(end, 0x7ffffffff000);
});

test('vector 1 is what the encoder produces for its page tables', () => {
  const out = new Uint8Array(4096);
  const r = new IdlePagesEncoder().read(vector1Space(), 0x7f0000000000, 4096, out);
  assert.equal(toHex(out.subarray(0, r.ret)), V1);
  assert.equal(r.pos, 0x7ffffffff000);
});

function vector2Space(): ArraySpace {
  return new ArraySpace([{ start: 0x10000000, end: 0x10100000, bits: Array<number>(256).fill(Bit.IDLE) }]);
}

test('vector 2a/2b: MOD, 20-byte reads stop at 30 pages and continue at the cursor', () => {
  const enc = new IdlePagesEncoder({ variant: 'mod' });
  const space = vector2Space();
  const out = new Uint8Array(20);
  const a = enc.read(space, 0x10000000, 20, out);
  assert.equal(toHex(out.subarray(0, a.ret)), 'A0 00 00 00 00 10 00 00 00 5F 5F');
  assert.equal(a.pos, 0x1001e000);
  const b = enc.read(space, a.pos, 20, out);
  assert.equal(toHex(out.subarray(0, b.ret)), 'A0 00 00 00 00 10 01 E0 00 5F 5F');
  assert.equal(b.pos, 0x1003c000);
  const dec = new IdlePagesDecoder();
  const batch = new RunBatch();
  dec.decode(hexBytes('A0 00 00 00 00 10 00 00 00 5F 5F'), 11, batch);
  assert.equal(batch.length, 1); // merged: 30 idle pages
  assert.equal(batch.count[0], 30);
  assert.equal(dec.cursor, 0x1001e000);
});

test('vector 2c: RFC skips to the requested end; count 19 jumps; MOD count 19 returns 1', () => {
  const out = new Uint8Array(20);
  const c = new IdlePagesEncoder({ variant: 'rfc' }).read(vector2Space(), 0x10000000, 20, out);
  assert.equal(toHex(out.subarray(0, c.ret)), 'A0 00 00 00 00 10 00 00 00 5F 5F A0 00 00 00 00 10 0A 00 00');
  assert.equal(c.pos, 0x100a0000);
  const { end } = decodeAll(out.subarray(0, c.ret));
  assert.equal(end, c.pos, 'decoded cursor equals the file position');
  const d = new IdlePagesEncoder({ variant: 'rfc' }).read(vector2Space(), 0x10000000, 19, out);
  assert.equal(toHex(out.subarray(0, d.ret)), 'A0 00 00 00 00 10 09 80 00');
  const m = new IdlePagesEncoder({ variant: 'mod' }).read(vector2Space(), 0x10000000, 19, out);
  assert.equal(m.ret, 1);
});

test('a read entirely between VMAs returns only SET_HVA(next VMA start)', () => {
  const space = new ArraySpace([
    { start: 0x1000000, end: 0x1001000, bits: [Bit.IDLE] },
    { start: 0x40000000, end: 0x40001000, bits: [Bit.ACCESSED] },
  ]);
  const out = new Uint8Array(64);
  const r = new IdlePagesEncoder().read(space, 0x2000000, 64, out);
  assert.equal(toHex(out.subarray(0, r.ret)), 'A0 00 00 00 00 40 00 00 00');
  assert.equal(r.pos, 0x40000000);
});

test('reads test-and-clear: a second pass sees idle', () => {
  const space = vector1Space();
  const out = new Uint8Array(4096);
  const enc = new IdlePagesEncoder();
  enc.read(space, 0x7f0000000000, 4096, out);
  const r = enc.read(space, 0x7f0000000000, 4096, out);
  const types = decodeAll(out.subarray(0, r.ret)).records.map((x) => x.type);
  assert.ok(!types.includes('PTE_ACCESSED') && !types.includes('PMD_ACCESSED'));
});

test('invalid input raises a typed decode error naming the offset and byte', () => {
  const cases: [string, number, RegExp][] = [
    ['A0 00 00 00 00 10 00 00 00 B1', 9, /invalid page type 11/],
    ['A0 00 00 00 00 10 00 00 00 F3', 9, /invalid page type 15/],
    ['A0 00 00 00 00 10 00 00 00 A3', 9, /unknown command/],
    ['A0 00 00 00 00 10 00 00 00 50', 9, /zero pages/],
    ['A0 00 00 00 00 10', 0, /truncated SET_HVA/],
    ['51', 0, /before any SET_HVA/],
    ['A0 00 00 00 00 10 00 10 00 11', 9, /not aligned/],
    ['A0 00 00 00 00 10 00 00 01', 0, /not aligned/],
  ];
  for (const [hex, offset, re] of cases) {
    assert.throws(() => decodeAll(hexBytes(hex)), (e: unknown) => {
      assert.ok(e instanceof DecodeError, `${hex}: ${String(e)}`);
      assert.equal(e.offset, offset, hex);
      assert.match(e.message, re);
      assert.match(e.message, new RegExp(`at byte ${offset}:`));
      return true;
    });
  }
});

test('the cursor carries over a stream of many reads', () => {
  const enc = new IdlePagesEncoder();
  const space = vector2Space();
  const dec = new IdlePagesDecoder();
  const batch = new RunBatch();
  const buf = new Uint8Array(20);
  let pos = 0x10000000;
  for (let i = 0; i < 20 && pos < 0x10100000; i++) {
    const r = enc.read(space, pos, 20, buf);
    dec.decode(buf, r.ret, batch);
    assert.equal(dec.cursor, r.pos);
    pos = r.pos;
  }
  assert.equal(batch.length, 1, 'contiguous idle records merge into one run');
  assert.equal(batch.count[0], 256);
});
