import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimKernel } from '../../../src/kernel/sim/sim-kernel.js';
import { parseScenario } from '../../../src/kernel/sim/scenario.js';
import { HeatTable } from '../../../src/heat/heat-table.js';
import { StateSpace } from '../../../src/heat/states.js';
import { IdlePagesReader } from '../../../src/trackers/idle-pages/reader.js';
import { trackableRanges } from '../../../src/targets/maps.js';
import { MPOL_MF_MOVE } from '../../../src/kernel/types.js';
import { ERRNO, SyscallError } from '../../../src/util/errors.js';
import { ABSENT } from '../../../src/kernel/sim/sim-process.js';

function sim(yaml: string): SimKernel {
  return new SimKernel(parseScenario(yaml));
}

const BASIC = `
seed: 3
duration: 1m
nodes:
  - { id: 0, tier: dram, capacity: 64MiB }
  - { id: 1, tier: pmem, capacity: 256MiB }
processes:
  - name: app
    memory:
      - { size: 16MiB, pageSize: 4KiB, node: 1 }
      - { size: 8MiB, pageSize: 2MiB, node: 1 }
    phases:
      - { at: 0s, pattern: uniform, rate: 1 }
`;

async function walkOnce(k: SimKernel, pid: number, heat: HeatTable, buffer = 65536): Promise<void> {
  const ranges = trackableRanges(k.maps(pid)!);
  await new IdlePagesReader(k, { bufferBytes: buffer, flags: 0, variant: 'mod' }).walk(pid, ranges, heat);
}

test('sim: every page is reported by a walk (boundary-loss off), and reads clear bits', async () => {
  const k = new SimKernel(parseScenario(BASIC.replace('seed: 3', 'seed: 3\nkernel: { boundaryLoss: false, dupPmdSkip: false }')));
  const pid = k.processes()[0]!.pid;
  const heat = new HeatTable(new StateSpace({ walks: 3, coldPeriods: 1, tiers: 2 }));
  await k.sleep(5000);
  await walkOnce(k, pid, heat, 4096);
  assert.equal(heat.trackedPages(), 4096 + 4, 'all 4096 small pages and 4 THPs tracked');
  assert.ok(heat.walk.accessedPages > 0);
  await walkOnce(k, pid, heat, 4096); // no time passed: every bit was cleared by the first walk
  assert.equal(heat.walk.accessedPages, 0);
  assert.equal(heat.walk.idlePages, 4096 + 4 * 512);
});

test('sim: a page at rate r is seen accessed with probability 1 - exp(-r·Δt)', async () => {
  const k = sim(BASIC.replace('rate: 1', 'rate: 1.5'));
  const pid = k.processes()[0]!.pid;
  const heat = new HeatTable(new StateSpace({ walks: 10, coldPeriods: 1, tiers: 2 }));
  await walkOnce(k, pid, heat);
  let acc = 0;
  let all = 0;
  for (let w = 0; w < 8; w++) {
    await k.sleep(400);
    await walkOnce(k, pid, heat);
    // count only 4 KiB pages: a THP's rate is the sum of its 512 parts
    acc += heat.walk.accessedPages - (heat.walk.accessedPages >= 4 * 512 ? 4 * 512 : 0);
    all += 4096;
  }
  const want = 1 - Math.exp(-1.5 * 0.4);
  const seen = acc / all;
  assert.ok(Math.abs(seen - want) < 0.03, `seen ${seen.toFixed(3)}, expected ${want.toFixed(3)}`);
});

test('sim move_pages: statuses, query mode, already there, EFAULT, ENOENT, EACCES', () => {
  const k = sim(BASIC.replace('{ size: 16MiB, pageSize: 4KiB, node: 1 }', '{ size: 16MiB, pageSize: 4KiB, node: 1, shared: 0.5 }'));
  const p = k.allProcesses()[0]!;
  let shared = 0;
  while (p.shared[shared] !== 1) shared++;
  let priv = 0;
  while (p.shared[priv] !== 0) priv++;
  p.node[priv + 1] = ABSENT; // an untouched page
  const addrs = Float64Array.from([p.pageAddr(priv), p.pageAddr(shared), 0x1000, p.pageAddr(priv + 1)]);
  const status = new Int32Array(4).fill(-999);
  assert.equal(k.movePages(p.pid, 4, addrs, null, status, 0), 0);
  assert.deepEqual([...status], [1, 1, -ERRNO.EFAULT, -ERRNO.ENOENT]);
  assert.equal(k.movePages(p.pid, 4, addrs, new Int32Array(4), status, MPOL_MF_MOVE), 0);
  assert.deepEqual([...status], [0, -ERRNO.EACCES, -ERRNO.EFAULT, -ERRNO.ENOENT]);
  assert.equal(k.movePages(p.pid, 1, addrs, new Int32Array(1), status, MPOL_MF_MOVE), 0);
  assert.equal(status[0], 0, 'already there: status = node');
  assert.equal(k.migrations.get('1>0')!.pages, 1);
});

test('sim move_pages: ENOMEM on a full node, ENODEV offline, ESRCH gone, EINVAL flags', () => {
  const k = sim(BASIC.replace('capacity: 64MiB', 'capacity: 4MiB'));
  const p = k.allProcesses()[0]!;
  const n = 2048; // 8 MiB of 4 KiB pages into a 4 MiB node
  const addrs = Float64Array.from({ length: n }, (_, i) => p.pageAddr(i));
  const status = new Int32Array(n).fill(-999);
  assert.throws(() => k.movePages(p.pid, n, addrs, new Int32Array(n), status, MPOL_MF_MOVE), (e: unknown) => e instanceof SyscallError && e.errno === ERRNO.ENOMEM);
  assert.equal(k.nodeUsed(0), 4 * 1024 * 1024, 'pages moved before the node filled stay moved');
  assert.equal(status[0], -999, 'status of the failed batch is unwritten');
  k.setNodeOnline(0, false);
  assert.throws(() => k.movePages(p.pid, 1, addrs.subarray(1500), new Int32Array(1), status, MPOL_MF_MOVE), (e: unknown) => e instanceof SyscallError && e.errno === ERRNO.ENODEV);
  assert.throws(() => k.movePages(p.pid, 1, addrs, new Int32Array(1), status, 0x80), (e: unknown) => e instanceof SyscallError && e.errno === ERRNO.EINVAL);
  k.exit(p.pid);
  assert.throws(() => k.movePages(p.pid, 1, addrs, null, status, 0), (e: unknown) => e instanceof SyscallError && e.errno === ERRNO.ESRCH);
});

test('sim move_pages: a failed batch stops the call with a positive return', () => {
  const k = sim(BASIC.replace('seed: 3', 'seed: 3\nkernel: { migrateFail: 0.5 }'));
  const p = k.allProcesses()[0]!;
  const addrs = Float64Array.from({ length: 8 }, (_, i) => p.pageAddr(i));
  const nodes = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1]); // two batches; the second is already there
  const status = new Int32Array(8).fill(-999);
  const rc = k.movePages(p.pid, 8, addrs, nodes, status, MPOL_MF_MOVE);
  assert.ok(rc > 0 && rc <= 8, `rc ${rc}`);
  assert.equal(status[7], -999, 'entries after the failed batch are not attempted');
});

test('sim: move_pages costs virtual time', () => {
  const k = sim(BASIC);
  const p = k.allProcesses()[0]!;
  const n = 1024;
  const t0 = k.now();
  k.movePages(p.pid, n, Float64Array.from({ length: n }, (_, i) => p.pageAddr(i)), new Int32Array(n), new Int32Array(n), MPOL_MF_MOVE);
  const dt = k.now() - t0;
  assert.ok(Math.abs(dt - (0.03 + 1024 * 0.0012)) < 1e-6, `${dt} ms`);
});

test('sim oracle: a hand-computed case', async () => {
  // 8 MiB of 4 KiB pages, hot 25% (2 MiB at rate 10), cold at 0; DRAM 1 MiB → half the hot set fits
  const k = sim(`
duration: 10s
nodes: [ { id: 0, tier: dram, capacity: 1MiB }, { id: 1, tier: pmem, capacity: 16MiB } ]
processes:
  - name: a
    memory: [ { size: 8MiB, node: 1 } ]
    phases: [ { at: 0s, pattern: hotset, hotFraction: 0.25, hotRate: 10, coldRate: 0 } ]
`);
  assert.equal(k.oracleHitRatio(), 0.5);
  await k.sleep(1000);
  const h = k.hitRatio(0);
  assert.equal(h.actual, 0, 'everything is on PMEM');
  assert.ok(Math.abs(h.oracle - 0.5) < 1e-9);
});

test('scenario errors name the key path and the reason', () => {
  assert.throws(() => parseScenario('duration: 1m\nnodes: []\nprocesses: []\n', 's.yaml'), /s\.yaml:2: nodes: .*>=1/);
  assert.throws(() => parseScenario('duration: 1m\nnodes: [{id: 0, tier: fast, capacity: 1GiB}]\nprocesses: [{name: a, memory: [{size: 1GiB, node: 0}]}]\n', 's.yaml'), /nodes\.0\.tier: expected a tier name/);
  assert.throws(() => parseScenario('duration: 1m\nnodes: [{id: 0, tier: dram, capacity: lots}]\nprocesses: [{name: a, memory: [{size: 1GiB, node: 0}]}]\n', 's.yaml'), /nodes\.0\.capacity: expected a size/);
  assert.throws(() => parseScenario('duration: 1m\nnodes: [{id: 0, tier: dram, capacity: 1GiB}]\nprocesses: [{name: a, memory: [{size: 1GiB, node: 3}]}]\n', 's.yaml'), /processes\.0\.memory\.0\.node: no node 3/);
  assert.throws(() => parseScenario('duration: 1m\nbogus: 1\nnodes: [{id: 0, tier: dram, capacity: 1GiB}]\nprocesses: [{name: a, memory: [{size: 1GiB, node: 0}]}]\n', 's.yaml'), /unknown key "bogus"/);
});
