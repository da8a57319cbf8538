import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LinuxDamon } from '../../../src/kernel/linux/damon.js';
import { parseAggregated } from '../../../src/kernel/linux/damon-trace.js';
import { DamonTracker } from '../../../src/trackers/damon/tracker.js';
import { HeatTable } from '../../../src/heat/heat-table.js';
import { StateSpace } from '../../../src/heat/states.js';
import { fakeDamonTree } from '../../helpers/fake-damon.js';

const ATTRS = { sampleUs: 1000, aggrUs: 20_000, updateUs: 100_000, minRegions: 10, maxRegions: 100 };
const line = (thread: number, start: number, end: number, nr: number): string =>
  `       kdamond.0-${thread}    [001] ..... 1234.567890: damon_aggregated: target_id=0 nr_regions=7 ${start}-${end}: ${nr} 3\n`;

test('damon trace: a damon_aggregated line gives its thread, range and accesses; other lines none', () => {
  assert.deepEqual(parseAggregated(line(777, 140000000000, 140000004096, 5).trimEnd()), { thread: 777, start: 140000000000, end: 140000004096, nrAccesses: 5 });
  assert.deepEqual(parseAggregated('kdamond.0-12 [000] d..1. 5.1: damon_aggregated: target_id=2 nr_regions=1 4096-8192: 20 0'), { thread: 12, start: 4096, end: 8192, nrAccesses: 20 });
  assert.equal(parseAggregated('# tracer: nop'), null);
  assert.equal(parseAggregated('kdamond.0-12 [000] ..... 5.1: damos_before_apply: ctx_idx=0 scheme_idx=0'), null);
});

test('damon trace: with tracefs, regions come from the tracepoint (no stat scheme), only our kdamond\'s, each once', () => {
  const { sys, admin, instance } = fakeDamonTree(0, true);
  const d = new LinuxDamon(sys);
  d.start([4242], ATTRS);
  const ev = join(instance, 'events/damon/damon_aggregated');
  assert.equal(readFileSync(join(ev, 'filter'), 'utf8'), 'nr_accesses > 0', 'the kernel keeps only accessed regions');
  assert.equal(readFileSync(join(ev, 'enable'), 'utf8'), '1');
  assert.equal(readFileSync(join(admin, 'kdamonds/0/contexts/0/schemes/nr_schemes'), 'utf8'), '0');
  assert.match(d.source(), /tracepoint/);
  const pipe = join(instance, 'trace_pipe');
  appendFileSync(pipe, line(777, 0x7f0000000000, 0x7f0000100000, 4) + line(999, 0x1000, 0x2000, 9) + line(777, 0x7f0000200000, 0x7f0000201000, 1));
  // a line cut in the middle of a read is kept until its end arrives
  appendFileSync(pipe, line(777, 0x7f0000300000, 0x7f0000301000, 2).slice(0, 30));
  assert.deepEqual(d.regions(4242), [
    { start: 0x7f0000000000, end: 0x7f0000100000, nrAccesses: 4 },
    { start: 0x7f0000200000, end: 0x7f0000201000, nrAccesses: 1 },
  ]);
  appendFileSync(pipe, line(777, 0x7f0000300000, 0x7f0000301000, 2).slice(30));
  assert.deepEqual(d.regions(4242), [{ start: 0x7f0000300000, end: 0x7f0000301000, nrAccesses: 2 }], 'only what arrived since the last call');
  assert.deepEqual(d.regions(4242), [], 'no aggregation with an access: the whole target was idle');
  d.close();
  assert.equal(readFileSync(join(ev, 'enable'), 'utf8'), '0', 'the event is off when tierd leaves');
  assert.equal(readFileSync(join(admin, 'kdamonds/nr_kdamonds'), 'utf8'), '0');
});

test('damon trace: without tracefs, results come from sysfs and the log says why', () => {
  const { sys } = fakeDamonTree();
  const d = new LinuxDamon(sys);
  d.start([4242], ATTRS);
  assert.match(d.source(), /sysfs tried regions.*no tracefs with events\/damon\/damon_aggregated/);
  d.close();
});

test('damon tracker: a walk waits for an aggregation to end, so a quiet interval is not read as idle', async () => {
  const { sys } = fakeDamonTree(0, true);
  const t = new DamonTracker(new LinuxDamon(sys), () => null, ATTRS);
  const heat = new HeatTable(new StateSpace({ walks: 2, coldPeriods: 1, tiers: 2 }));
  const ranges = Float64Array.of(0x7f0000000000, 0x7f0000300000);
  const t0 = performance.now();
  await t.walk(4242, ranges, null);
  await t.walk(4242, ranges, heat);
  assert.ok(performance.now() - t0 >= 2 * ATTRS.aggrUs / 1000 - 1, 'two walks take at least two aggregation intervals');
  t.close();
});

test('damon tracker: an aggregation that ends late (a busy kdamond) is waited for, not read as an idle walk', async () => {
  const { sys, instance } = fakeDamonTree(0, true);
  const t = new DamonTracker(new LinuxDamon(sys), () => null, ATTRS);
  const space = new StateSpace({ walks: 1, coldPeriods: 1, tiers: 2 });
  const heat = new HeatTable(space);
  const ranges = Float64Array.of(0x7f0000000000, 0x7f0000300000);
  await t.walk(4242, ranges, null);
  // the next aggregation ends 1.5 intervals after the walk would have read it
  setTimeout(() => appendFileSync(join(instance, 'trace_pipe'), line(777, 0x7f0000000000, 0x7f0000100000, 3)), ATTRS.aggrUs / 1000 * 2.5);
  await t.walk(4242, ranges, heat);
  const l = heat.locate(0x7f0000000000)!;
  assert.equal(space.count[l.seg.states[l.slot]!], 1, 'the region accessed in the late aggregation counts');
  t.close();
});
