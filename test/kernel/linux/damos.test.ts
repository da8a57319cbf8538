import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinuxDamos } from '../../../src/kernel/linux/damos.js';
import type { DamosContext } from '../../../src/kernel/types.js';
import { TierdError } from '../../../src/util/errors.js';
import { FakeDamosSysfs } from '../../helpers/fake-damos-sysfs.js';

const IV = { sampleUs: 5000, aggrUs: 100_000, minRegions: 10, maxRegions: 1000, resetMs: 1000 };
const CONTEXTS: DamosContext[] = [
  { node: 0, schemes: [{ action: 'migrate_cold', direction: 'demote', targetNid: 1, memcgPath: '/w' }] },
  { node: 1, schemes: [{ action: 'migrate_hot', direction: 'promote', targetNid: 0, memcgPath: '/w' }] },
];

function setup(k: ConstructorParameters<typeof FakeDamosSysfs>[1] = { memcgs: ['/w'] }): { fs: FakeDamosSysfs; d: LinuxDamos; slept: number[] } {
  const fs = new FakeDamosSysfs('/sys', k);
  const slept: number[] = [];
  return { fs, d: new LinuxDamos('/sys', fs, (ms) => slept.push(ms)), slept };
}

test('start runs a paddr kdamond per node over its memory blocks, with memcg and young filters per direction', () => {
  const { fs, d } = setup();
  d.start(CONTEXTS, IV, [[50 << 20], [100 << 20]]);
  assert.equal(fs.read(`${fs.admin}/kdamonds/nr_kdamonds`), '2');
  assert.equal(fs.read(`${fs.admin}/kdamonds/0/state`), 'on');
  assert.equal(fs.ctx(0, 'operations'), 'paddr');
  // node 0 = blocks 0..7 of 128 MiB, node 1 = blocks 8..23
  assert.equal(fs.ctx(0, 'targets/0/regions/0/start'), '0');
  assert.equal(fs.ctx(0, 'targets/0/regions/0/end'), String(8 * 2 ** 27));
  assert.equal(fs.ctx(1, 'targets/0/regions/0/start'), String(8 * 2 ** 27));
  assert.equal(fs.ctx(1, 'targets/0/regions/0/end'), String(24 * 2 ** 27));
  assert.equal(fs.ctx(0, 'schemes/0/action'), 'migrate_cold');
  assert.equal(fs.ctx(0, 'schemes/0/access_pattern/nr_accesses/min'), '0', 'demotion: any region, the coldest first under the quota');
  assert.equal(fs.ctx(0, 'schemes/0/access_pattern/nr_accesses/max'), '4294967295');
  assert.equal(fs.ctx(1, 'schemes/0/action'), 'migrate_hot');
  assert.equal(fs.ctx(1, 'schemes/0/target_nid'), '0');
  assert.equal(fs.ctx(1, 'schemes/0/access_pattern/nr_accesses/min'), '1');
  assert.equal(fs.ctx(1, 'schemes/0/quotas/bytes'), String(100 << 20));
  for (const k of [0, 1]) {
    assert.equal(fs.ctx(k, 'schemes/0/filters/0/type'), 'memcg');
    assert.equal(fs.ctx(k, 'schemes/0/filters/0/memcg_path'), '/w');
    assert.equal(fs.ctx(k, 'schemes/0/filters/0/matching'), 'N', 'out: pages of any other memcg');
    assert.equal(fs.ctx(k, 'schemes/0/filters/1/type'), 'young');
  }
  assert.equal(fs.ctx(1, 'schemes/0/filters/1/matching'), 'N', 'promote: out go the pages not touched since the last check');
  assert.equal(fs.ctx(0, 'schemes/0/filters/1/matching'), 'Y', 'demote: out go the touched pages');
  d.stop();
  assert.equal(fs.read(`${fs.admin}/kdamonds/nr_kdamonds`), '0');
  assert.equal(d.running, false);
});

test('a quota of 0 stops a scheme by a size no region has, since DAMOS reads 0 bytes as no limit', () => {
  const { fs, d } = setup();
  d.start(CONTEXTS, IV, [[0], [1 << 20]]);
  assert.ok(Number(fs.ctx(0, 'schemes/0/access_pattern/sz/min')) > 2 ** 50);
  assert.notEqual(fs.ctx(0, 'schemes/0/quotas/bytes'), '0');
  d.tune([[8 << 20], [0]]);
  assert.equal(fs.ctx(0, 'schemes/0/access_pattern/sz/min'), '4096');
  assert.equal(fs.ctx(0, 'schemes/0/quotas/bytes'), String(8 << 20));
  assert.ok(Number(fs.ctx(1, 'schemes/0/access_pattern/sz/min')) > 2 ** 50);
  assert.deepEqual(fs.writes.filter((w) => w.endsWith('state=commit')).length, 2, 'each kdamond commits its new quotas');
});

test('stats are the kernel counters after update_schemes_stats, and null for a kdamond that stopped', () => {
  const { fs, d } = setup();
  d.start(CONTEXTS, IV, [[1], [1]]);
  fs.pendingStats.set('1:0', { sz_tried: 9 << 20, sz_applied: 3 << 20, qt_exceeds: 2 });
  const s = d.stats();
  assert.deepEqual(s[1], [{ triedBytes: 9 << 20, appliedBytes: 3 << 20, quotaExceeds: 2 }]);
  fs.files.set(`${fs.admin}/kdamonds/0/state`, 'off');
  assert.equal(d.stats()[0], null);
});

test('a state file busy for a moment (a kdamond holds damon_sysfs_lock) is tried again, and stats and tune go on', () => {
  const { fs, d, slept } = setup();
  d.start(CONTEXTS, IV, [[1], [1]]);
  fs.pendingStats.set('0:0', { sz_tried: 5 << 20, sz_applied: 4 << 20, qt_exceeds: 0 });
  fs.busy.set('kdamonds/0/state', 3);
  assert.deepEqual(d.stats()[0], [{ triedBytes: 5 << 20, appliedBytes: 4 << 20, quotaExceeds: 0 }]);
  assert.deepEqual(slept, [1, 2, 4], 'backs off between tries');
  fs.busy.set('kdamonds/1/contexts/0/schemes/0/quotas/bytes', 2);
  d.tune([[2 << 20], [3 << 20]]);
  assert.equal(fs.ctx(1, 'schemes/0/quotas/bytes'), String(3 << 20));
});

test('a DAMON sysfs that stays busy is one IO line, not a crash or a missing feature', () => {
  const { fs, d } = setup();
  d.start(CONTEXTS, IV, [[1], [1]]);
  fs.busy.set('kdamonds/0/state', 1e6);
  assert.throws(() => d.stats(), (e) => e instanceof TierdError && e.code === 'IO' && /kdamonds\/0\/state: DAMON's sysfs stayed busy \(EBUSY\) for 2 s/.test(e.line()));
  fs.busy.clear();
  fs.busy.set('kdamonds/1/state', 1e6);
  assert.throws(() => d.tune([[1], [1]]), (e) => e instanceof TierdError && e.code === 'IO');
});

test('another DAMON user\'s kdamonds are left alone', () => {
  const { fs, d } = setup();
  fs.files.set(`${fs.admin}/kdamonds/nr_kdamonds`, '1');
  assert.match(d.unavailable() ?? '', /another DAMON user has 1 kdamond/);
  assert.throws(() => d.start(CONTEXTS, IV, [[1], [1]]), (e) => e instanceof TierdError && e.code === 'NO_FEATURE');
  assert.equal(fs.read(`${fs.admin}/kdamonds/nr_kdamonds`), '1');
});

test('a kernel without migrate actions gets one line naming the version, and nothing is left running', () => {
  const { fs, d } = setup({ memcgs: ['/w'], actions: ['stat', 'pageout'] });
  assert.throws(() => d.start(CONTEXTS, IV, [[1], [1]]), (e) => e instanceof TierdError && e.code === 'NO_FEATURE' && /migrate_hot\/migrate_cold actions \(Linux 6\.11/.test(e.line()));
  assert.equal(fs.read(`${fs.admin}/kdamonds/nr_kdamonds`), '0');
  assert.equal(d.running, false);
});

test('a memcg that vanished before the kdamonds start is refused when the kernel resolves it', () => {
  const { fs, d } = setup({ memcgs: [] });
  assert.throws(() => d.start(CONTEXTS, IV, [[1], [1]]), (e) => e instanceof TierdError && /state/.test(e.message));
  assert.equal(fs.read(`${fs.admin}/kdamonds/nr_kdamonds`), '0');
});

test('memcgUnavailable needs cgroup v2 and the memory controller in that cgroup', () => {
  const { d } = setup({ memcgs: ['/w'] });
  assert.equal(d.memcgUnavailable('/w'), null);
  assert.match(d.memcgUnavailable('/other') ?? '', /no memory controller/);
});
