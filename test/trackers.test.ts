import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StreamWriter } from '../src/trackers/stream-writer.js';
import { decodeAll } from '../src/trackers/idle-pages/decode.js';
import { PageType } from '../src/trackers/idle-pages/types.js';
import { PageIdleTracker } from '../src/trackers/page-idle/tracker.js';
import { DamonTracker } from '../src/trackers/damon/tracker.js';
import { writeRegions } from '../src/trackers/damon/regions-stream.js';
import { LinuxDamon } from '../src/kernel/linux/damon.js';
import { fakeDamonTree } from './helpers/fake-damon.js';
import type { PhysPages } from '../src/kernel/types.js';
import { HeatTable } from '../src/heat/heat-table.js';
import { StateSpace } from '../src/heat/states.js';
import { TierdError } from '../src/util/errors.js';
import { preadFully, readBitmapWords, writeBitmapWords } from '../src/kernel/linux/files.js';

test('stream writer: runs of 15, SET_HVA on gaps, decodes back', () => {
  const w = new StreamWriter(4);
  w.add(0x10000000, PageType.PTE_ACCESSED, 20);
  w.add(0x10000000 + 20 * 4096, PageType.PTE_IDLE, 1);
  w.add(0x10200000, PageType.PMD_IDLE, 2);
  const { records } = decodeAll(w.buf.subarray(0, w.length));
  assert.deepEqual(records.map((r) => [r.addr.toString(16), r.type, r.count]), [
    ['10000000', 'PTE_ACCESSED', 15], ['1000f000', 'PTE_ACCESSED', 5], ['10014000', 'PTE_IDLE', 1], ['10200000', 'PMD_IDLE', 2],
  ]);
});

/** A process's pagemap and the machine's idle bitmap, in memory. */
class FakePhys implements PhysPages {
  readonly entries = new Map<number, { pfn: number; exclusive: boolean }>(); // by virtual page number
  readonly idle = new Set<number>();
  readonly thpHeads = new Set<number>();
  /** tail frames of a PTE-mapped large folio: the kernel never marks them idle */
  readonly tails = new Set<number>();
  pagemap(_pid: number, vaddr: number, count: number, out: Uint32Array): number {
    for (let i = 0; i < count; i++) {
      const e = this.entries.get(vaddr / 4096 + i);
      out[2 * i] = e ? e.pfn % 4294967296 : 0;
      out[2 * i + 1] = e ? (0x80000000 | (e.exclusive ? 0x01000000 : 0) | Math.floor(e.pfn / 4294967296)) >>> 0 : 0;
    }
    return count;
  }
  kpageflags(pfn: number, count: number, out: Uint32Array): number {
    for (let i = 0; i < count; i++) {
      out[2 * i] = this.thpHeads.has(pfn + i) ? (1 << 22) | (1 << 15) : this.tails.has(pfn + i) ? (1 << 22) | (1 << 16) : 0;
      out[2 * i + 1] = 0;
    }
    return count;
  }
  idleRead(word: number, count: number, out: Uint32Array): number {
    out.fill(0, 0, 2 * count);
    for (const pfn of this.idle) {
      const w = Math.floor(pfn / 64) - word;
      if (w >= 0 && w < count) out[2 * w + (pfn % 64 >= 32 ? 1 : 0)]! |= 1 << pfn % 32;
    }
    return count;
  }
  idleWrite(word: number, count: number, data: Uint32Array): void {
    for (let w = 0; w < count; w++) {
      for (let b = 0; b < 64; b++) {
        const pfn = (word + w) * 64 + b;
        if ((data[2 * w + (b >= 32 ? 1 : 0)]! >>> b % 32) & 1 && !this.tails.has(pfn)) this.idle.add(pfn);
      }
    }
  }
  /** the CPU touches the page: its frame's idle flag clears */
  touch(vpage: number): void {
    this.idle.delete(this.entries.get(vpage)!.pfn);
  }
}

test('page_idle tracker: accessed frames counted, idle not, shared never, a THP once, large-folio tails unknown', async () => {
  const f = new FakePhys();
  const base = 0x7f0000000000 / 4096;
  for (let i = 0; i < 8; i++) f.entries.set(base + i, { pfn: 1000 + i * 7, exclusive: i !== 5 }); // page 5 is shared
  // pages 8..11: a PTE-mapped large folio; the kernel reports its tails as never idle
  for (let i = 0; i < 4; i++) f.entries.set(base + 8 + i, { pfn: 4096 + i, exclusive: true });
  for (let i = 1; i < 4; i++) f.tails.add(4096 + i);
  const thpBase = 0x7f0000200000 / 4096;
  for (let i = 0; i < 512; i++) f.entries.set(thpBase + i, { pfn: 51200 + i, exclusive: true });
  f.thpHeads.add(51200);
  const ranges = Float64Array.of(0x7f0000000000, 0x7f0000400000);
  const space = new StateSpace({ walks: 3, coldPeriods: 1, tiers: 2 });
  const heat = new HeatTable(space);
  const t = new PageIdleTracker(f);
  await t.walk(1, ranges, null); // priming: marks idle
  assert.ok(f.idle.has(1000) && f.idle.has(51200) && !f.idle.has(1000 + 5 * 7), 'shared frames are never marked');
  for (let w = 0; w < 3; w++) {
    f.touch(base + 0); // page 0 hot
    if (w === 0) f.touch(base + 1); // page 1 once
    f.touch(thpBase + 0);
    await t.walk(1, ranges, heat);
  }
  const state = (addr: number): [number, number] => {
    const l = heat.locate(addr)!;
    const s = l.seg.states[l.slot]!;
    return [space.seen[s]!, space.count[s]!];
  };
  assert.deepEqual(state(0x7f0000000000), [3, 3]);
  assert.deepEqual(state(0x7f0000001000), [3, 1]);
  assert.deepEqual(state(0x7f0000002000), [3, 0]);
  assert.equal(heat.locate(0x7f0000005000) === null || space.seen[heat.locate(0x7f0000005000)!.seg.states[heat.locate(0x7f0000005000)!.slot]!] === 0, true, 'shared page unknown');
  assert.deepEqual(state(0x7f0000008000), [3, 0], 'the large folio\'s head is read');
  for (let i = 1; i < 4; i++) {
    const a = 0x7f0000008000 + i * 4096;
    assert.equal(heat.locate(a) === null || space.seen[heat.locate(a)!.seg.states[heat.locate(a)!.slot]!] === 0, true, `tail ${i} unknown, not hot`);
  }
  const thp = heat.locate(0x7f0000200000)!;
  assert.equal(thp.seg.pageSize, 2 ** 21, 'the THP is one 2 MiB page');
  assert.deepEqual(state(0x7f0000200000), [3, 3]);
});

test('damon: starts only its own kdamond (vaddr, stat scheme), reads regions, stops what it made', async () => {
  const { sys, admin } = fakeDamonTree();
  const d = new LinuxDamon(sys);
  assert.equal(d.unavailable(), null);
  const t = new DamonTracker(d, () => null);
  t.setTargets([4242]);
  const ctx = join(admin, 'kdamonds/0/contexts/0');
  const rd = (p: string): string => readFileSync(p, 'utf8').trim();
  assert.equal(rd(join(admin, 'kdamonds/nr_kdamonds')), '1');
  assert.equal(rd(join(ctx, 'operations')), 'vaddr');
  assert.equal(rd(join(ctx, 'targets/0/pid_target')), '4242');
  assert.equal(rd(join(ctx, 'schemes/0/action')), 'stat');
  assert.equal(rd(join(ctx, 'schemes/0/access_pattern/nr_accesses/max')), '4294967295');
  assert.equal(rd(join(ctx, 'schemes/0/access_pattern/nr_accesses/min')), '1', 'the kernel lists only accessed regions: fewer sysfs reads per walk');
  assert.equal(rd(join(admin, 'kdamonds/0/state')), 'on');
  const space = new StateSpace({ walks: 2, coldPeriods: 1, tiers: 2 });
  const heat = new HeatTable(space);
  const ranges = Float64Array.of(0x7f0000000000, 0x7f0000300000);
  for (let w = 0; w < 2; w++) {
    writeFileSync(join(admin, 'kdamonds/0/state'), 'on'); // the fake kernel keeps running
    await t.walk(4242, ranges, heat);
  }
  const at = (a: number): number => space.count[heat.locate(a)!.seg.states[heat.locate(a)!.slot]!]!;
  assert.equal(at(0x7f0000000000), 2, 'the accessed region');
  assert.equal(at(0x7f0000200000), 0, 'the cold region');
  assert.equal(heat.locate(0x7f0000300000), null, 'clipped to the trackable ranges');
  t.close();
  assert.equal(rd(join(admin, 'kdamonds/nr_kdamonds')), '0');
  assert.equal(rd(join(admin, 'kdamonds/0/state')), 'off');
});

test('damon: refuses to touch another user\'s kdamonds', () => {
  const { sys, admin } = fakeDamonTree(1);
  const d = new LinuxDamon(sys);
  assert.match(d.unavailable()!, /another DAMON user has 1 kdamond/);
  assert.throws(() => d.start([1], { sampleUs: 5000, aggrUs: 100000, updateUs: 1e6, minRegions: 10, maxRegions: 1000 }), (e: unknown) => e instanceof TierdError && /another DAMON user/.test(e.message));
  assert.equal(readFileSync(join(admin, 'kdamonds/nr_kdamonds'), 'utf8'), '1', 'nothing written');
});

test('damon: a PMD-mapped THP is one 2 MiB record, accessed when any region over it was', () => {
  const B = 0x7f0000000000;
  const M = 0x100000;
  const regions = [
    { start: B, end: B + 2.5 * M, nrAccesses: 3 },
    { start: B + 2.5 * M, end: B + 6 * M, nrAccesses: 0 },
  ];
  const w = new StreamWriter();
  writeRegions(w, regions, Float64Array.of(B, B + 6 * M), Float64Array.of(B + 2 * M, B + 6 * M));
  const { records } = decodeAll(w.buf.subarray(0, w.length));
  const summary = records.map((r) => `${(r.addr - B) / M}:${r.type}x${r.count}`);
  // 512 small pages accessed (15 per byte), then the THP the boundary cuts (accessed), then an idle THP
  assert.equal(summary.filter((x) => x.includes('PTE_ACCESSED')).reduce((n, x) => n + Number(x.split('x')[1]), 0), 512);
  assert.deepEqual(summary.slice(-2), ['2:PMD_ACCESSED' + 'x1', '4:PMD_IDLE' + 'x1']);
  // without huge ranges (an older kernel) every page is a 4 KiB page
  const w2 = new StreamWriter();
  writeRegions(w2, regions, Float64Array.of(B, B + 6 * M), null);
  const pages = decodeAll(w2.buf.subarray(0, w2.length)).records.reduce((n, r) => n + (r.pageSize === 4096 ? r.count : 0), 0);
  assert.equal(pages, 1536);
});

test('page_idle bitmap I/O: a span larger than one page is read and written whole (sysfs answers a page per call)', () => {
  const file = new Uint8Array(64 * 1024).map((_, i) => i % 251);
  const calls: number[] = [];
  // a sysfs binary attribute: at most 4096 bytes per read or write
  const read = (b: Uint8Array, o: number, l: number, p: number): number => {
    const n = Math.max(0, Math.min(l, 4096, file.length - p));
    b.set(file.subarray(p, p + n), o);
    calls.push(n);
    return n;
  };
  const buf = new Uint8Array(20000);
  assert.equal(preadFully(read, buf, 8192), 20000);
  assert.deepEqual(buf, file.subarray(8192, 28192), 'every byte of the span, not only the first page');
  assert.deepEqual(calls, [4096, 4096, 4096, 4096, 3616]);
  assert.equal(preadFully(read, new Uint8Array(4096), file.length - 100), 100, 'stops at the end');
  const written = new Uint8Array(file.length);
  const write = (b: Uint8Array, o: number, l: number, p: number): number => {
    const n = Math.min(l, 4096);
    written.set(b.subarray(o, o + n), p);
    return n;
  };
  writeBitmapWords(write, file.subarray(0, 10000), 0);
  assert.deepEqual(written.subarray(0, 10000), file.subarray(0, 10000));
});

/**
 * mm/page_idle.c's bitmap read and write, byte for byte: at most one page per call, ENXIO at or
 * above max_pfn, and only whole 64-frame words counted, so the last partial word below max_pfn
 * is processed but answers 0.
 */
function kernelBitmap(maxPfn: number, idle: Set<number>): { read: (b: Uint8Array, o: number, l: number, p: number) => number; write: (b: Uint8Array, o: number, l: number, p: number) => number } {
  const enxio = (): never => {
    throw Object.assign(new Error('ENXIO: no such device or address'), { code: 'ENXIO' });
  };
  const span = (l: number, p: number): [number, number] => {
    if (p % 8 !== 0 || l % 8 !== 0) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
    const pfn = p * 8;
    if (pfn >= maxPfn) enxio();
    return [pfn, Math.min(pfn + Math.min(l, 4096) * 8, maxPfn)];
  };
  return {
    read(b, o, l, p) {
      const [from, end] = span(l, p);
      const words = Math.floor((end - from) / 64);
      for (let pfn = from; pfn < from + words * 64; pfn++) {
        const byte = o + ((pfn - from) >> 3);
        if (idle.has(pfn)) b[byte]! |= 1 << (pfn % 8);
        else b[byte]! &= ~(1 << (pfn % 8));
      }
      return words * 8;
    },
    write(b, o, l, p) {
      const [from, end] = span(l, p);
      for (let pfn = from; pfn < end; pfn++) if ((b[o + ((pfn - from) >> 3)]! >> (pfn % 8)) & 1) idle.add(pfn);
      return Math.floor((end - from) / 64) * 8;
    },
  };
}

test('page_idle bitmap at the top of physical memory: the last partial word is written without an error, unread words are reported short', () => {
  const maxPfn = 64 * 10 + 24; // ten whole words, then 24 frames of an eleventh
  const idle = new Set<number>();
  const k = kernelBitmap(maxPfn, idle);
  const all = new Uint8Array(12 * 8).fill(0xff);
  writeBitmapWords(k.write, all, 0); // the real kernel answered 0 for word 10: "no progress" was EIO before
  assert.equal(idle.size, maxPfn, 'every frame below max_pfn marked, the partial word included');
  writeBitmapWords(k.write, all.subarray(0, 16), 10 * 8);
  writeBitmapWords(k.write, all.subarray(0, 8), 11 * 8); // past max_pfn: ENXIO, nothing to do
  const out = new Uint8Array(12 * 8);
  assert.equal(readBitmapWords(k.read, out, 0), 10, 'the partial word never reaches user space');
  assert.equal(readBitmapWords(k.read, out, 11 * 8), 0, 'past max_pfn: no words');
});

test('page_idle tracker: frames in words the kernel does not answer are unknown, never hot; refused I/O does not end the walk', async () => {
  const f = new FakePhys();
  const maxPfn = 64 * 10 + 24;
  const base = 0x7f0000000000 / 4096;
  f.entries.set(base, { pfn: 64 * 3, exclusive: true }); // a whole word: readable
  f.entries.set(base + 1, { pfn: 64 * 10 + 5, exclusive: true }); // in the last partial word
  const k = kernelBitmap(maxPfn, f.idle);
  f.idleRead = (word, count, out) => readBitmapWords(k.read, new Uint8Array(out.buffer, out.byteOffset, count * 8), word * 8);
  f.idleWrite = (word, count, data) => writeBitmapWords(k.write, new Uint8Array(data.buffer, data.byteOffset, count * 8), word * 8);
  const space = new StateSpace({ walks: 2, coldPeriods: 1, tiers: 2 });
  const heat = new HeatTable(space);
  const t = new PageIdleTracker(f);
  const ranges = Float64Array.of(0x7f0000000000, 0x7f0000002000);
  await t.walk(1, ranges, null);
  for (let w = 0; w < 2; w++) assert.equal((await t.walk(1, ranges, heat)).status, 'ok');
  const at = (a: number): [number, number] => {
    const l = heat.locate(a);
    if (!l) return [0, 0];
    const s = l.seg.states[l.slot]!;
    return [space.seen[s]!, space.count[s]!];
  };
  assert.deepEqual(at(0x7f0000000000), [2, 0], 'idle page read as idle');
  assert.deepEqual(at(0x7f0000001000), [0, 0], 'the partial word\'s page is unknown, not accessed');
  // a span the kernel refuses with an I/O error: counted, the walk goes on
  f.idleRead = () => {
    throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
  };
  const r = await t.walk(1, ranges, heat);
  assert.equal(r.status, 'ok');
  assert.ok((r.refused ?? 0) > 0 && /EIO/.test(r.refusal ?? ''), 'the refusal is reported for the daemon to log');
});

test('damon: parts of the trackable ranges that no accessed region covers are idle, not unknown', () => {
  const B = 0x7f0000000000;
  const M = 0x100000;
  const w = new StreamWriter();
  // two ranges; one accessed region in the middle of the first
  writeRegions(w, [{ start: B + M, end: B + 2 * M, nrAccesses: 5 }], Float64Array.of(B, B + 3 * M, B + 8 * M, B + 9 * M), null);
  const pages = { acc: 0, idle: 0 };
  for (const r of decodeAll(w.buf.subarray(0, w.length)).records) {
    if (r.type === 'PTE_ACCESSED') pages.acc += r.count;
    else if (r.type === 'PTE_IDLE') pages.idle += r.count;
  }
  assert.deepEqual(pages, { acc: 256, idle: 512 + 256 }, 'every page of both ranges is reported');
});
