import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimKernel } from '../../src/kernel/sim/sim-kernel.js';
import { parseScenario } from '../../src/kernel/sim/scenario.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/util/log.js';
import { LinuxDamos } from '../../src/kernel/linux/damos.js';
import { DamosLoop } from '../../src/daemon/damos-loop.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { PeriodReport } from '../../src/daemon/daemon.js';
import { FakeDamosSysfs } from '../helpers/fake-damos-sysfs.js';

const MiB = 2 ** 20;
const SCENARIO = `duration: 10m
nodes: [{id: 0, tier: dram, capacity: 1GiB}, {id: 1, tier: pmem, capacity: 2GiB}]
processes:
  - {name: db, pid: 500, memory: [{size: 256MiB, node: 1}]}
  - {name: other, pid: 501, memory: [{size: 256MiB, node: 1}]}
`;

/** the simulated host with DAMON's sysfs in place of its own kernel-side nothing */
function host(memcgs: string[]): { k: SimKernel; fs: FakeDamosSysfs } {
  const k = new SimKernel(parseScenario(SCENARIO));
  const fs = new FakeDamosSysfs('/sys', { memcgs });
  const damos = new LinuxDamos('/sys', fs);
  Object.assign(k, { damos: () => damos });
  return { k, fs };
}

async function run(k: SimKernel, config: string, periods: number, dryRun = false, onPeriod?: (r: PeriodReport) => void): Promise<Metrics> {
  const metrics = new Metrics();
  await new DamosLoop(k, parseConfig(config), silentLogger, { dryRun, metrics, maxPeriods: periods, ...(onPeriod ? { onPeriod } : {}) }).run();
  return metrics;
}

test('the damos engine moves only the target\'s memcg, reports what the kernel applied, and removes its kdamonds', async () => {
  const { k, fs } = host(['/sim/db', '/sim/other']);
  const reports: PeriodReport[] = [];
  let started = false;
  const metrics = await run(k, 'targets: { pids: [500] }', 3, false, (r) => {
    reports.push(r);
    if (!started) {
      started = true;
      // the kernel moved 8 MiB up and nothing down during the first interval, 4 MiB more in the second
      fs.pendingStats.set('1:0', { sz_tried: 64 * MiB, sz_applied: 8 * MiB, qt_exceeds: 0 });
    } else fs.pendingStats.set('1:0', { sz_tried: 96 * MiB, sz_applied: 12 * MiB, qt_exceeds: 0 });
  });
  const memcgPaths = fs.writes.filter((w) => w.includes('memcg_path=')).map((w) => w.split('=')[1]);
  assert.deepEqual([...new Set(memcgPaths)], ['/sim/db'], 'only the target\'s memcg is ever named');
  assert.deepEqual(reports.map((r) => r.promotedBytes), [0, 8 * MiB, 4 * MiB]);
  const body = await metrics.registry.metrics();
  assert.match(body, /tierd_migrated_bytes_total\{direction="promote",from_node="1",to_node="0"\} 12582912/);
  assert.equal(fs.read(`${fs.admin}/kdamonds/nr_kdamonds`), '0', 'the kdamonds are gone when tierd stops');
  assert.deepEqual(k.selfPolicy, { prefer: [1], from: [0] }, "tierd's own memory leaves the fast node");
});

test('a target sharing its cgroup with another process is left alone, and no kdamond starts', async () => {
  const { k, fs } = host(['/sim/db']);
  // pid 501 joins the target's cgroup
  const proc = k.process.bind(k);
  const procs = k.processes.bind(k);
  const shared = (p: ReturnType<typeof proc>) => (p && p.pid === 501 ? { ...p, cgroup: '/sim/db' } : p);
  Object.assign(k, { process: (pid: number) => shared(proc(pid)), processes: () => procs().map((p) => shared(p)!) });
  await run(k, 'targets: { pids: [500] }', 2);
  assert.equal(fs.writes.filter((w) => w.startsWith('kdamonds/nr_kdamonds=') && w !== 'kdamonds/nr_kdamonds=0').length, 0);
});

test('a dry-run runs stat schemes with the same patterns and filters and reports what they tried', async () => {
  const { k, fs } = host(['/sim/db']);
  const reports: PeriodReport[] = [];
  await run(k, 'targets: { pids: [500] }', 2, true, (r) => {
    reports.push(r);
    fs.pendingStats.set('1:0', { sz_tried: 32 * MiB, sz_applied: 0, qt_exceeds: 0 });
  });
  assert.ok(fs.writes.some((w) => w.endsWith('schemes/0/action=stat')));
  assert.ok(!fs.writes.some((w) => /action=migrate/.test(w)), 'no migrate action is ever written');
  assert.equal(reports[1]!.plannedPromoteBytes, 32 * MiB);
  assert.equal(reports[1]!.promotedBytes, 0);
  assert.equal(k.selfPolicy, null, 'a dry-run moves nothing, tierd\'s own pages included');
});

test('demotions are off while the fast node has its reserve free', async () => {
  const { k, fs } = host(['/sim/db']);
  const seen: (string | undefined)[] = [];
  await run(k, 'targets: { pids: [500] }', 1, false, () => seen.push(fs.ctx(0, 'schemes/0/access_pattern/sz/min'), fs.ctx(1, 'schemes/0/access_pattern/sz/min')));
  assert.ok(Number(seen[0]) > 2 ** 50, 'node 0 is empty: its migrate_cold scheme matches nothing');
  assert.equal(seen[1], '4096');
});
