import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError, IdlePagesDecoder, RunBatch } from '../../../src/formats/idle-pages/decode.js';
import { IdlePagesEncoder } from '../../../src/kernel/sim/idle-encoder.js';
import { Bit } from '../../../src/kernel/sim/address-space.js';
import { PAGE_SIZE_OF, PageType, TASK_SIZE } from '../../../src/formats/idle-pages/types.js';
import { ArraySpace, type TestVma } from '../../helpers/array-space.js';

const PMD = 2 ** 21;

/** Random VMAs with gaps: some 4 KiB (with holes and empty PMDs), some THP. */
const spaceArb = fc
  .array(
    fc.record({
      gapPmds: fc.integer({ min: 0, max: 3 }),
      gapPages: fc.integer({ min: 0, max: 7 }),
      huge: fc.boolean(),
      pages: fc.integer({ min: 1, max: 1500 }),
      density: fc.constantFrom(0, 0.3, 0.5, 1),
      present: fc.constantFrom(1, 0.9, 0.2),
      seed: fc.integer(),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((specs) => {
    const vmas: TestVma[] = [];
    let addr = 0x7f0000000000;
    for (const s of specs) {
      let r = s.seed >>> 0;
      const rnd = (): number => {
        r = (Math.imul(r, 1664525) + 1013904223) >>> 0;
        return r / 4294967296;
      };
      if (s.huge) {
        addr = Math.ceil((addr + s.gapPmds * PMD) / PMD) * PMD;
        const n = Math.max(1, s.pages >> 6);
        const bits = Array.from({ length: n }, () => (rnd() < s.present ? (rnd() < s.density ? Bit.ACCESSED : Bit.IDLE) : Bit.ABSENT));
        vmas.push({ start: addr, end: addr + n * PMD, huge: true, bits });
        addr += n * PMD;
      } else {
        addr += s.gapPmds * PMD + (s.gapPages + 1) * 4096;
        const bits = Array.from({ length: s.pages }, () => (rnd() < s.present ? (rnd() < s.density ? Bit.ACCESSED : Bit.IDLE) : Bit.ABSENT));
        vmas.push({ start: addr, end: addr + s.pages * 4096, bits });
        addr += s.pages * 4096;
      }
    }
    return vmas;
  });

/** What every present page should be reported as: 4 KiB page address → bit. */
function expected(vmas: TestVma[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const v of vmas) {
    v.bits.forEach((b, i) => {
      if (b !== Bit.ABSENT) m.set(v.start + i * (v.huge ? PMD : 4096), b);
    });
  }
  return m;
}

function walkAll(space: ArraySpace, first: number, count: number, variant: 'mod' | 'rfc'): RunBatch {
  const enc = new IdlePagesEncoder({ variant, boundaryLoss: false, dupPmdSkip: false });
  const dec = new IdlePagesDecoder({ merge: false });
  const batch = new RunBatch();
  const buf = new Uint8Array(count);
  let pos = first;
  for (let guard = 0; guard < 100000 && pos < TASK_SIZE; guard++) {
    const r = enc.read(space, pos, count, buf);
    if (r.ret === 0) break;
    dec.decode(buf, r.ret, batch);
    assert.equal(dec.cursor, r.pos, 'decoded cursor = file position');
    assert.ok(r.pos > pos, 'the position advances');
    pos = r.pos;
  }
  return batch;
}

test('property: MOD streams of random address spaces decode to the encoded pages', () => {
  fc.assert(
    fc.property(spaceArb, fc.integer({ min: 20, max: 9000 }), (vmas, count) => {
      const want = expected(vmas);
      const batch = walkAll(new ArraySpace(structuredClone(vmas)), vmas[0]!.start, count, 'mod');
      const got = new Map<number, number>();
      for (let i = 0; i < batch.length; i++) {
        const t = batch.type[i]!;
        if (t === PageType.PTE_HOLE || t === PageType.PMD_HOLE) continue;
        const bit = t === PageType.PTE_ACCESSED || t === PageType.PMD_ACCESSED ? Bit.ACCESSED : Bit.IDLE;
        for (let k = 0; k < batch.count[i]!; k++) {
          const a = batch.start[i]! + k * PAGE_SIZE_OF[t]!;
          assert.ok(!got.has(a), `page 0x${a.toString(16)} reported twice`);
          got.set(a, bit);
        }
      }
      assert.deepEqual(got, want);
      // runs never exceed 15 in a record, holes never lead a run (checked via no-merge decode)
      for (let i = 0; i < batch.length; i++) assert.ok(batch.count[i]! >= 1 && batch.count[i]! <= 15);
    }),
    { numRuns: 150 },
  );
});

test('property: random bytes never crash, hang or throw anything but DecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.boolean(), (bytes, prefix) => {
      const buf = prefix ? Uint8Array.from([0xa0, 0, 0, 0x7f, 0, 0, 0, 0, 0, ...bytes]) : bytes;
      const dec = new IdlePagesDecoder();
      const batch = new RunBatch(4);
      try {
        dec.decode(buf, buf.length, batch);
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
        assert.ok(e.offset >= 0 && e.offset < buf.length);
      }
      assert.ok(batch.length <= buf.length);
    }),
    { numRuns: 2000 },
  );
});

test('property: advance moves the cursor as decode does and fails at the same byte', () => {
  // the read workers place their next read with advance; a wrong cursor would skip or re-read pages
  const outcome = (run: (d: IdlePagesDecoder) => void): { cursor: number; consumed: number; error: string | null } => {
    const d = new IdlePagesDecoder();
    let error: string | null = null;
    try {
      run(d);
    } catch (e) {
      assert.ok(e instanceof DecodeError, String(e));
      error = e.message;
    }
    return { cursor: d.cursor, consumed: d.consumed, error };
  };
  const valid = fc.tuple(spaceArb, fc.integer({ min: 20, max: 9000 })).map(([vmas, count]) => {
    const enc = new IdlePagesEncoder({ variant: 'mod', boundaryLoss: false, dupPmdSkip: false });
    const space = new ArraySpace(structuredClone(vmas));
    const buf = new Uint8Array(count);
    const reads: Uint8Array[] = [];
    let pos = vmas[0]!.start;
    for (let guard = 0; guard < 100000 && pos < TASK_SIZE; guard++) {
      const r = enc.read(space, pos, count, buf);
      if (r.ret === 0) break;
      reads.push(buf.slice(0, r.ret));
      pos = r.pos;
    }
    return reads;
  });
  const mangled = fc.tuple(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.boolean()).map(([bytes, prefix]) => [
    prefix ? Uint8Array.from([0xa0, 0, 0, 0x7f, 0, 0, 0, 0, 0, ...bytes]) : bytes,
  ]);
  fc.assert(
    fc.property(fc.oneof(valid, mangled), (reads) => {
      const byDecode = outcome((d) => {
        for (const r of reads) d.decode(r, r.length, new RunBatch(4));
      });
      const byAdvance = outcome((d) => {
        for (const r of reads) d.advance(r, r.length);
      });
      assert.deepEqual(byAdvance, byDecode);
    }),
    { numRuns: 1000 },
  );
});

test('boundary-page loss is on by default: a full chunk costs the next page its accessed bit', () => {
  const bits = Array<number>(64).fill(Bit.ACCESSED);
  const space = new ArraySpace([{ start: 0x10000000, end: 0x10040000, bits }]);
  const batch = walkAllDefault(space, 0x10000000, 20);
  // each 20-byte read reports 30 pages; the 31st was cleared and is then reported idle
  assert.equal(batch.type[0], PageType.PTE_ACCESSED);
  assert.equal(batch.count[0], 30);
  assert.equal(batch.type[1], PageType.PTE_IDLE);
});

function walkAllDefault(space: ArraySpace, first: number, count: number): RunBatch {
  const enc = new IdlePagesEncoder();
  const dec = new IdlePagesDecoder();
  const batch = new RunBatch();
  const buf = new Uint8Array(count);
  let pos = first;
  for (let i = 0; i < 1000 && pos < TASK_SIZE; i++) {
    const r = enc.read(space, pos, count, buf);
    if (r.ret === 0) break;
    dec.decode(buf, r.ret, batch);
    pos = r.pos;
  }
  return batch;
}

test('property: the fused decode+count path equals the standalone decoder, page by page', async () => {
  const { HeatTable } = await import('../../../src/heat/heat-table.js');
  const { StateSpace } = await import('../../../src/heat/states.js');
  fc.assert(
    fc.property(spaceArb, fc.integer({ min: 20, max: 3000 }), fc.boolean(), (vmas, count, withPtes) => {
      // one walk's reads, kept as buffers
      const enc = new IdlePagesEncoder({ flags: withPtes ? 0x800 : 0 });
      const space = new ArraySpace(structuredClone(vmas));
      const reads: Uint8Array[] = [];
      const dec0 = new IdlePagesDecoder({ merge: false });
      const batch = new RunBatch();
      let pos = vmas[0]!.start;
      for (let g = 0; g < 100000 && pos < TASK_SIZE; g++) {
        const buf = new Uint8Array(count);
        const r = enc.read(space, pos, count, buf);
        if (r.ret === 0) break;
        reads.push(buf.subarray(0, r.ret));
        dec0.decode(buf, r.ret, batch);
        pos = dec0.cursor;
      }
      // what the standalone decoder says each page is; a PMD_IDLE_PTES read as a skimmed table
      // (the walk is not a SCAN_HUGE_PAGE one) says its tracked pages are idle and makes none
      const want = new Map<number, number>();
      for (let i = 0; i < batch.length; i++) {
        const t = batch.type[i]!;
        if (t === PageType.PTE_HOLE || t === PageType.PMD_HOLE || t === PageType.PMD_IDLE_PTES) continue;
        const size = PAGE_SIZE_OF[t]!;
        for (let k = 0; k < batch.count[i]!; k++) want.set(batch.start[i]! + k * size, t === PageType.PTE_ACCESSED || t === PageType.PMD_ACCESSED ? 1 : 0);
      }
      const st = new StateSpace({ walks: 1, coldPeriods: 1, tiers: 2 });
      const heat = new HeatTable(st);
      const dec = new IdlePagesDecoder();
      heat.beginWalk(false);
      for (const r of reads) heat.ingest(dec, r, r.length);
      heat.endWalk();
      assert.equal(dec.cursor, dec0.cursor);
      const got = new Map<number, number>();
      for (const seg of heat.segments) {
        for (let i = 0; i < seg.length; i++) {
          const s = seg.states[i]!;
          if (st.seen[s] === 0) continue;
          assert.equal(st.seen[s], 1);
          got.set(seg.start + i * seg.pageSize, st.count[s]!);
        }
      }
      assert.deepEqual(got, want);
    }),
    { numRuns: 150 },
  );
});
