import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StreamWriter } from '../../../src/formats/idle-pages/stream-writer.js';
import { decodeAll } from '../../../src/formats/idle-pages/decode.js';
import { DamonTracker } from '../../../src/trackers/damon/tracker.js';
import { writeRegions } from '../../../src/trackers/damon/regions-stream.js';
import { LinuxDamon } from '../../../src/kernel/linux/damon.js';
import { fakeDamonTree } from '../../helpers/fake-damon.js';
import { HeatTable } from '../../../src/heat/heat-table.js';
import { StateSpace } from '../../../src/heat/states.js';
import { TierdError } from '../../../src/util/errors.js';

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
