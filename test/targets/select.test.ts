import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectTargets } from '../../src/targets/select.js';
import { parseConfig } from '../../src/config/load.js';
import type { ProcessInfo } from '../../src/kernel/types.js';
import { TierdError } from '../../src/util/errors.js';

const MiB = 2 ** 20;
const proc = (pid: number, comm: string, cgroup: string, rssMiB: number, kernelThread = false): ProcessInfo => ({ pid, starttime: pid * 10, comm, cmdline: comm, cgroup, rssAnonBytes: rssMiB * MiB, kernelThread });
const HOST: ProcessInfo[] = [
  proc(2, 'kthreadd', '', 0, true),
  proc(100, 'postgres', '/system.slice/postgresql.service', 4096),
  proc(101, 'postgres', '/system.slice/postgresql.service/walwriter', 32),
  proc(200, 'redis-server', '/system.slice/redis.service', 2048),
  proc(300, 'postgres', '/user.slice/user-1000.slice', 1024),
  proc(400, 'kworker/0:1', '', 0, true),
  proc(process.pid, 'node', '/system.slice/tierd.service', 512),
];
const linux = { processes: () => HOST, process: (pid: number) => HOST.find((p) => p.pid === pid) ?? null, selfPid: () => process.pid };
const pids = (yaml: string): number[] => selectTargets(linux, parseConfig(yaml).targets).map((p) => p.pid);

test('comm, cgroup (the cgroup or any below it) and minRss select together', () => {
  assert.deepEqual(pids('targets: { comm: "^postgres$", minRss: 64MiB }\n'), [100, 300]);
  assert.deepEqual(pids('targets: { comm: "^postgres$", cgroup: /system.slice/postgresql.service, minRss: 0 }\n'), [100, 101]);
  assert.deepEqual(pids('targets: { cgroup: /system.slice/postgresql.service/, minRss: 0 }\n'), [100, 101]);
  assert.deepEqual(pids('targets: { cgroup: /system.slice/postgres, minRss: 0 }\n'), [], 'a prefix of a name is not a parent cgroup');
  assert.deepEqual(pids('targets: { cgroup: /, minRss: 0 }\n'), [100, 101, 200, 300], 'the root cgroup holds every process');
});

test('never a kernel thread, never tierd itself, even when named; explicit pids are added to what the selectors find', () => {
  assert.deepEqual(pids('targets: { comm: ".", minRss: 0 }\n'), [100, 101, 200, 300]);
  assert.deepEqual(pids(`targets: { pids: [2, ${process.pid}, 200, 999], comm: "^postgres$", minRss: 1GiB }\n`), [100, 200, 300]);
});

test('a config without any selector is refused: tierd never takes every process, unless the caller (a simulated host) asks for it', () => {
  assert.throws(() => pids('targets: { minRss: 0 }\n'), (e: unknown) => e instanceof TierdError && e.code === 'CONFIG' && /no targets configured/.test(e.message));
  const every = selectTargets(linux, parseConfig('targets: { minRss: 0 }\n').targets, true).map((p) => p.pid);
  assert.deepEqual(every, [100, 101, 200, 300], 'every process but kernel threads and tierd itself');
});
