import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PageIdleTracker } from '../../../src/trackers/page-idle/tracker.js';
import type { PhysPages } from '../../../src/kernel/types.js';
import { HeatTable } from '../../../src/heat/heat-table.js';
import { StateSpace } from '../../../src/heat/states.js';
import { readBitmapWords, writeBitmapWords } from '../../../src/kernel/linux/files.js';
import { kernelBitmap } from '../../helpers/kernel-bitmap.js';
import { TierdError } from '../../../src/util/errors.js';

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
    if (this.marked) {
      this.marked = false;
      this.beforeRead?.();
    }
    out.fill(0, 0, 2 * count);
    for (const pfn of this.idle) {
      const w = Math.floor(pfn / 64) - word;
      if (w >= 0 && w < count) out[2 * w + (pfn % 64 >= 32 ? 1 : 0)]! |= 1 << pfn % 32;
    }
    return count;
  }
  idleWrite(word: number, count: number, data: Uint32Array): void {
    this.marked = true;
    for (let w = 0; w < count; w++) {
      for (let b = 0; b < 64; b++) {
        const pfn = (word + w) * 64 + b;
        if ((data[2 * w + (b >= 32 ? 1 : 0)]! >>> b % 32) & 1 && !this.tails.has(pfn)) this.idle.add(pfn);
      }
    }
  }
  /** runs at the first bitmap read after a mark: the workload's accesses inside the window */
  beforeRead: (() => void) | null = null;
  private marked = false;
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
  t.setInterval(5);
  await t.walk(1, ranges, null); // priming: marks idle
  assert.ok(f.idle.has(1000) && f.idle.has(51200) && !f.idle.has(1000 + 5 * 7), 'shared frames are never marked');
  for (let w = 0; w < 3; w++) {
    // an access before a walk's own mark is not in its window; these, after the mark, are
    if (w === 0) f.touch(base + 2);
    f.beforeRead = (): void => {
      f.touch(base + 0); // page 0 hot
      if (w === 0) f.touch(base + 1); // page 1 once
      f.touch(thpBase + 0);
    };
    await t.walk(1, ranges, heat);
  }
  const state = (addr: number): [number, number] => {
    const l = heat.locate(addr)!;
    const s = l.seg.states[l.slot]!;
    return [space.seen[s]!, space.count[s]!];
  };
  assert.deepEqual(state(0x7f0000000000), [3, 3]);
  assert.deepEqual(state(0x7f0000001000), [3, 1]);
  assert.deepEqual(state(0x7f0000002000), [3, 0], 'touched before the first walk\'s mark: outside the window');
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
  t.setInterval(1);
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

test('page_idle tracker: a walk within a window of the last one marks only the frames it read accessed, and counts what a full mark would', async () => {
  const f = new FakePhys();
  const base = 0x7f0000000000 / 4096;
  for (let i = 0; i < 64; i++) f.entries.set(base + i, { pfn: 2000 + 3 * i, exclusive: true });
  let bits = 0;
  const write = f.idleWrite.bind(f);
  f.idleWrite = (word, count, data): void => {
    for (let w = 0; w < 2 * count; w++) for (let v = data[w]!; v !== 0; v &= v - 1) bits++;
    write(word, count, data);
  };
  const space = new StateSpace({ walks: 4, coldPeriods: 1, tiers: 2 });
  const heat = new HeatTable(space);
  const t = new PageIdleTracker(f);
  const windowMs = 300;
  t.setInterval(windowMs);
  const ranges = Float64Array.of(0x7f0000000000, 0x7f0000040000);
  const written: number[] = [];
  for (let w = 0; w < 4; w++) {
    if (w === 2) f.touch(base + 30); // after walk 1 re-armed its chunk: inside walk 2's window
    if (w === 3) await new Promise((r) => setTimeout(r, windowMs + 50)); // the arm is too old now
    f.beforeRead = (): void => {
      for (let i = 0; i < 10; i++) f.touch(base + i);
      if (w === 0) f.touch(base + 20);
    };
    bits = 0;
    await t.walk(1, ranges, heat);
    written.push(bits);
  }
  // walk 0 and walk 3 mark all 64 frames; every walk marks again the ones it read accessed
  assert.deepEqual(written, [64 + 11, 10, 11, 64 + 10]);
  const state = (vpage: number): [number, number] => {
    const l = heat.locate(vpage * 4096)!;
    const s = l.seg.states[l.slot]!;
    return [space.seen[s]!, space.count[s]!];
  };
  for (let i = 0; i < 10; i++) assert.deepEqual(state(base + i), [4, 4]);
  assert.deepEqual(state(base + 20), [4, 1]);
  assert.deepEqual(state(base + 30), [4, 1], 'touched between walks, after the arm');
  assert.deepEqual(state(base + 40), [4, 0]);
});

/** Two processes whose frames alternate in the same bitmap words, as processes that fault in together on one node. */
function interleaved(): { f: FakePhys; bases: number[]; ranges: Float64Array; wordsRead: () => number } {
  const f = new FakePhys();
  const pages = 256;
  // both processes map the same virtual range; the fake pagemap tells them apart by pid
  const byPid = new Map<number, Map<number, { pfn: number; exclusive: boolean }>>();
  const base = 0x7f0000000000 / 4096;
  for (const pid of [1, 2]) {
    const m = new Map<number, { pfn: number; exclusive: boolean }>();
    for (let i = 0; i < pages; i++) m.set(base + i, { pfn: 8192 + 2 * i + (pid - 1), exclusive: true });
    byPid.set(pid, m);
  }
  const pagemap = f.pagemap.bind(f);
  f.pagemap = (pid, vaddr, count, out) => {
    f.entries.clear();
    for (const [k, v] of byPid.get(pid)!) f.entries.set(k, v);
    return pagemap(pid, vaddr, count, out);
  };
  let words = 0;
  const read = f.idleRead.bind(f);
  f.idleRead = (word, count, out) => {
    words += count;
    return read(word, count, out);
  };
  // touching frame pfn: pid 1 page i is 8192 + 2i, pid 2 page i is 8193 + 2i
  return { f, bases: [base, base], ranges: Float64Array.of(0x7f0000000000, 0x7f0000000000 + pages * 4096), wordsRead: () => words };
}

test('page_idle tracker: one walk of two targets whose frames share bitmap words reads each word once, and counts each target as its own walk would', async () => {
  const space = new StateSpace({ walks: 2, coldPeriods: 1, tiers: 2 });
  const run = async (together: boolean): Promise<{ words: number; states: [number, number][][] }> => {
    const { f, ranges, wordsRead } = interleaved();
    const heats = [new HeatTable(space), new HeatTable(space)];
    const t = new PageIdleTracker(f);
    t.setInterval(1);
    // page 3 of pid 1 and page 7 of pid 2 are used in every window
    f.beforeRead = (): void => {
      f.idle.delete(8192 + 2 * 3);
      f.idle.delete(8193 + 2 * 7);
    };
    const before = wordsRead();
    for (let w = 0; w < 2; w++) {
      if (together) {
        const rs = await t.walkMany([{ pid: 1, ranges, heat: heats[0]! }, { pid: 2, ranges, heat: heats[1]! }]);
        assert.deepEqual(rs.map((r) => r.status), ['ok', 'ok']);
      } else {
        for (const pid of [1, 2]) await t.walk(pid, ranges, heats[pid - 1]!);
      }
    }
    const states = heats.map((h) => Array.from({ length: 10 }, (_, i): [number, number] => {
      const l = h.locate(0x7f0000000000 + i * 4096)!;
      const s = l.seg.states[l.slot]!;
      return [space.seen[s]!, space.count[s]!];
    }));
    return { words: wordsRead() - before, states };
  };
  const apart = await run(false);
  const together = await run(true);
  assert.deepEqual(together.states, apart.states, 'the same evidence per page');
  assert.deepEqual(together.states[0]![3], [2, 2]);
  assert.deepEqual(together.states[1]![7], [2, 2]);
  assert.deepEqual(together.states[0]![7], [2, 0]);
  assert.equal(together.words * 2, apart.words, `words read together ${together.words}, apart ${apart.words}`);
});

test('page_idle tracker: a target that exits during a walk of several is gone; the others are counted', async () => {
  const { f, ranges } = interleaved();
  const pagemap = f.pagemap.bind(f);
  f.pagemap = (pid, vaddr, count, out) => {
    if (pid === 2) throw new TierdError('PROCESS_GONE', 'process 2 exited');
    return pagemap(pid, vaddr, count, out);
  };
  const space = new StateSpace({ walks: 2, coldPeriods: 1, tiers: 2 });
  const heats = [new HeatTable(space), new HeatTable(space)];
  const t = new PageIdleTracker(f);
  t.setInterval(1);
  const rs = await t.walkMany([{ pid: 1, ranges, heat: heats[0]! }, { pid: 2, ranges, heat: heats[1]! }]);
  assert.deepEqual(rs.map((r) => r.status), ['ok', 'gone']);
  assert.ok(heats[0]!.locate(0x7f0000000000) !== null, 'the live target is counted');
  assert.equal(heats[1]!.locate(0x7f0000000000), null);
});
