import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateSpace } from '../../src/heat/states.js';
import { HeatTable } from '../../src/heat/heat-table.js';
import { IdlePagesDecoder } from '../../src/formats/idle-pages/decode.js';
import { IdlePagesReader } from '../../src/trackers/idle-pages/reader.js';
import { hexBytes } from '../helpers/array-space.js';
import { traceKernel } from '../helpers/fake-access-file.js';

function walk(heat: HeatTable, hex: string): void {
  const dec = new IdlePagesDecoder();
  const b = hexBytes(hex);
  heat.beginWalk();
  heat.ingest(dec, b, b.length);
  heat.endWalk();
}

function pageState(heat: HeatTable, addr: number): { seen: number; count: number } | null {
  const loc = heat.locate(addr);
  if (!loc) return null;
  const s = loc.seg.states[loc.slot]!;
  return { seen: heat.space.seen[s]!, count: heat.space.count[s]! };
}

const A = 0x7f0000000000;
const SET_A = 'A0 00 00 7F 00 00 00 00 00';
const SET_B = 'A0 00 00 7F 00 00 20 00 00';
const SET_A8 = 'A0 00 00 7F 00 00 00 80 00'; // A + 8 pages

test('heat: scripted walks with THPs, holes, gaps and a late page', () => {
  const space = new StateSpace({ walks: 3, coldPeriods: 2, tiers: 2 });
  const heat = new HeatTable(space);
  // walk 1: pages 0-2 accessed, 3 idle, 4-5 holes, 6-7 idle; THP at B accessed; page 8+ unknown (gap)
  walk(heat, `${SET_A} 03 51 82 52 ${SET_B} 11`);
  // walk 2: page 0 accessed, 1-3 idle, 4 now present and accessed (late page), 5 hole, 6-7 idle; THP idle; page 8 appears
  walk(heat, `${SET_A} 01 53 01 81 52 ${SET_A8} 01 ${SET_B} 61`);
  // walk 3: pages 0-7 accessed; THP accessed; page 8 gap this time
  walk(heat, `${SET_A} 08 ${SET_B} 11`);
  assert.deepEqual(pageState(heat, A), { seen: 3, count: 3 }, 'hot in all 3 walks');
  assert.deepEqual(pageState(heat, A + 0x1000), { seen: 3, count: 2 });
  assert.deepEqual(pageState(heat, A + 0x3000), { seen: 3, count: 1 });
  assert.deepEqual(pageState(heat, A + 0x4000), { seen: 2, count: 2 }, 'late page: seen in 2 walks, accessed in both');
  assert.deepEqual(pageState(heat, A + 0x5000), { seen: 1, count: 1 }, 'a hole counts as not seen');
  assert.deepEqual(pageState(heat, A + 0x8000), { seen: 1, count: 1 }, 'page 8 seen once, then a gap: unknown is not idle');
  assert.deepEqual(pageState(heat, 0x7f0000200000), { seen: 3, count: 2 });
  const thp = heat.locate(0x7f0000200000)!;
  assert.equal(thp.seg.pageSize, 2 ** 21, 'one state per huge page');
  assert.equal(pageState(heat, A + 0x9000), null, 'never reported: untracked');
  assert.equal(heat.trackedPages(), 9 + 1);
});

test('heat: period end resets counts and carries the cold streak', () => {
  const space = new StateSpace({ walks: 2, coldPeriods: 2, tiers: 2 });
  const heat = new HeatTable(space);
  const endTable = space.periodEndTable((seen, count) => seen === 2 && count === 0);
  for (let p = 0; p < 2; p++) {
    walk(heat, `${SET_A} 01 51`);
    walk(heat, `${SET_A} 01 51`);
    heat.endPeriod(endTable);
  }
  const hot = heat.locate(A)!;
  const cold = heat.locate(A + 0x1000)!;
  assert.equal(space.streak[hot.seg.states[hot.slot]!], 0);
  assert.equal(space.streak[cold.seg.states[cold.slot]!], 1, 'capped at K-1');
  assert.equal(space.count[cold.seg.states[cold.slot]!], 0, 'counts reset');
  assert.equal(space.missed[cold.seg.states[cold.slot]!], 0, 'misses reset');
});

test('heat: a THP collapse marks the segment stale, dropped at period end', () => {
  const space = new StateSpace({ walks: 2, coldPeriods: 1, tiers: 2 });
  const heat = new HeatTable(space);
  walk(heat, `${SET_B} 0F 0F`); // 30 4 KiB pages at B
  walk(heat, `${SET_B} 11`); // now one THP
  assert.equal(heat.segments[0]!.stale, true);
  heat.endPeriod(space.periodEndTable(() => false));
  assert.equal(heat.segments.length, 0);
});

test('heat: one byte per 4 KiB page for the default config', () => {
  const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
  assert.equal(space.bytesPerPage, 1);
  const heat = new HeatTable(space);
  const pages = 1 << 20;
  const bytes: string[] = [SET_A];
  for (let i = 0; i < pages / 15; i++) bytes.push('5F');
  walk(heat, bytes.join(' '));
  assert.ok(heat.memoryBytes() / heat.trackedPages() <= 1.1, `${heat.memoryBytes() / heat.trackedPages()} bytes per page`);
  assert.equal(new StateSpace({ walks: 10, coldPeriods: 3, tiers: 3 }).bytesPerPage, 2);
});

test('reader: vector 1 as one 4096-byte read; the tail marker ends the walk', async () => {
  const t = traceKernel('vector1');
  const heat = new HeatTable(new StateSpace({ walks: 3, coldPeriods: 2, tiers: 2 }));
  const r = await new IdlePagesReader(t.kernel, { bufferBytes: 1 << 20, flags: 0, variant: 'mod' }).walk(1, t.ranges, heat);
  assert.equal(r.status, 'ok');
  assert.deepEqual(t.log, [0x7f0000000000], 'SET_HVA(TASK_SIZE) ends the walk');
  assert.equal(pageState(heat, 0x7f0000200000)?.count, 1);
  assert.equal(t.closed(), 1);
});

test('reader: records past the requested end are kept, and that range is not read twice', async () => {
  const t = traceKernel('eptBeyond');
  const heat = new HeatTable(new StateSpace({ walks: 3, coldPeriods: 2, tiers: 2 }));
  await new IdlePagesReader(t.kernel, { bufferBytes: 4096, flags: 0, variant: 'mod' }).walk(1, t.ranges, heat);
  assert.equal(pageState(heat, 0x7f0000200000)?.count, 1, 'THP record beyond range A is kept');
  assert.deepEqual(t.log, [0x7f0000000000, 0x7f0000400000], 'range B resumes after the THP already reported');
});

test('reader: a full buffer continues at the decoded cursor', async () => {
  const t = traceKernel('continuation');
  const heat = new HeatTable(new StateSpace({ walks: 3, coldPeriods: 2, tiers: 2 }));
  const r = await new IdlePagesReader(t.kernel, { bufferBytes: 20, flags: 0, variant: 'mod' }).walk(1, t.ranges, heat);
  assert.deepEqual(t.log, [0x10000000, 0x1001e000]);
  assert.equal(r.reads, 2);
  assert.equal(heat.trackedPages(), 60);
});

test('reader: a process that vanishes mid-walk ends quietly as gone', async () => {
  const t = traceKernel('vanished');
  const heat = new HeatTable(new StateSpace({ walks: 3, coldPeriods: 2, tiers: 2 }));
  const reader = new IdlePagesReader(t.kernel, { bufferBytes: 20, flags: 0, variant: 'mod' });
  const r = await reader.walk(1, t.ranges, heat);
  assert.equal(r.status, 'gone');
  assert.equal(t.closed(), 1, 'the file is closed');
  assert.equal((await reader.walk(0, t.ranges, heat)).status, 'gone', 'ENOENT at open');
});

test('reader: a cursor that does not advance skips to the next range', async () => {
  const t = traceKernel('stall');
  const heat = new HeatTable(new StateSpace({ walks: 3, coldPeriods: 2, tiers: 2 }));
  const r = await new IdlePagesReader(t.kernel, { bufferBytes: 4096, flags: 0, variant: 'mod' }).walk(1, t.ranges, heat);
  assert.equal(r.stalls, 1);
  assert.deepEqual(t.log, [0x10000000, 0x20000000]);
});

test('count histogram: pages and bytes per count per tier, partial evidence apart', async () => {
  const { countHistogram } = await import('../../src/heat/histogram.js');
  const space = new StateSpace({ walks: 2, coldPeriods: 1, tiers: 2 });
  const heat = new HeatTable(space);
  walk(heat, `${SET_A} 01 51 ${SET_B} 11`); // page 0 accessed, page 1 idle, THP accessed
  walk(heat, `${SET_A} 01 51 01`); // page 2 appears late; the THP is not reported
  const loc = heat.locate(A)!;
  loc.seg.put(loc.slot, space.withTier(loc.seg.states[loc.slot]!, 2)); // page 0 known on tier 1
  const h = countHistogram([heat], 2);
  assert.equal(h.pages[2]![2], 1, 'page 0: tier 1, accessed twice');
  assert.equal(h.pages[0]![0], 1, 'page 1: unknown tier, never accessed');
  assert.equal(h.bytes[0]![0], 4096);
  assert.equal(h.partialPages, 2, 'the late page and the THP were seen once');
  assert.equal(h.partialBytes, 4096 + 2 ** 21);
});

test('heat: period end marks pages hot this period, and a marked page starts its cold streak from zero', () => {
  const space = new StateSpace({ walks: 2, coldPeriods: 2, tiers: 2 });
  const heat = new HeatTable(space);
  const endTable = space.periodEndTable((seen, count) => seen === 2 && count === 0, (seen, count) => seen === 2 && count === 2);
  walk(heat, `${SET_A} 01 51`);
  walk(heat, `${SET_A} 01 51`);
  heat.endPeriod(endTable);
  const page = (): number => heat.locate(A)!.seg.states[heat.locate(A)!.slot]!;
  assert.equal(space.hotBefore[page()], 1, 'accessed in both walks: marked');
  assert.equal(space.coldConfirmed(page()), false, 'the mark is not a cold streak');
  // two idle walks: cold once, so the streak is 1 = K-1, and the mark is gone
  walk(heat, `${SET_A} 51`);
  walk(heat, `${SET_A} 51`);
  heat.endPeriod(endTable);
  assert.equal(space.hotBefore[page()], 0);
  assert.equal(space.streak[page()], 1);
});

test('ingest: a SET_HVA that goes back into pages this walk already made finishes, and no page is tracked twice', () => {
  // found by npm run fuzz: the second walk jumps back into a huge-page segment that sits right
  // after one the walk had just opened; ingest used to loop forever there
  const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
  const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
  const heat = new HeatTable(space);
  const dec = new IdlePagesDecoder();
  for (const s of ['a000001cadfb400000166b8ca000001cadfd8000004f', 'a000001cadfd400000166b8ca000001cadfd8000004f', 'a000001cadfd400000156000001cadfd4000001f']) {
    dec.reset();
    heat.beginWalk(false);
    try {
      heat.ingest(dec, hex(s), s.length / 2);
    } catch {
      // a DecodeError is allowed; a hang or another error is not
    } finally {
      heat.endWalk();
    }
  }
  const segs = heat.segments;
  for (let i = 1; i < segs.length; i++) assert.ok(segs[i - 1]!.end <= segs[i]!.start, `segments ${i - 1} and ${i} do not overlap`);
});

test('heat: a skimmed table (PMD_IDLE_PTES outside SCAN_HUGE_PAGE) is idle for its tracked pages and makes no new ones', () => {
  const space = new StateSpace({ walks: 2, coldPeriods: 2, tiers: 2 });
  const heat = new HeatTable(space);
  // walk 1 reads the table at A: pages 0-1 accessed, 2 idle, the rest of the 2 MiB never faulted
  // (holes merged away); the table at B is skimmed
  walk(heat, `${SET_A} 02 51 ${SET_B} 71`);
  // walk 2 skims both tables
  walk(heat, `${SET_A} 72`);
  assert.deepEqual(pageState(heat, A), { seen: 2, count: 1 }, 'accessed, then idle under the skimmed PMD');
  assert.deepEqual(pageState(heat, A + 0x2000), { seen: 2, count: 0 }, 'idle twice');
  assert.equal(pageState(heat, A + 0x3000), null, 'a never-faulted slot under a skimmed PMD is not made a page');
  assert.equal(pageState(heat, 0x7f0000200000), null, 'a table skimmed from the start makes no pages');
  assert.equal(heat.trackedPages(), 3);
  assert.equal(heat.walk.skimmedBytes, 2 * 2 ** 21, 'the second walk skimmed 4 MiB');
  assert.equal(heat.walk.scannedBytes, 2 * 2 ** 21, 'skimmed memory counts as scanned: its bits were read (at the PMD)');
});
