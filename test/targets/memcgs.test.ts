import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseMemcgs } from '../../src/targets/memcgs.js';
import type { ProcessInfo } from '../../src/kernel/types.js';

const proc = (pid: number, cgroup: string, comm = `p${pid}`): ProcessInfo => ({ pid, starttime: 1, comm, cmdline: comm, cgroup, rssAnonBytes: 1 << 30, kernelThread: false });
const ok = (): null => null;

test('a target alone in its cgroup is managed through that memcg', () => {
  const w = proc(10, '/tierd/w');
  assert.deepEqual(chooseMemcgs([w], [w, proc(11, '/other')], new Set([10]), ok), { memcgs: ['/tierd/w'], refused: [] });
});

test('the root cgroup is refused: its memcg holds every process not placed elsewhere', () => {
  const w = proc(10, '/');
  const c = chooseMemcgs([w], [w], new Set([10]), ok);
  assert.deepEqual(c.memcgs, []);
  assert.match(c.refused[0]!.why, /root cgroup/);
});

test('a cgroup shared with an unselected process is refused, naming that process', () => {
  const w = proc(10, '/s');
  const c = chooseMemcgs([w], [w, proc(12, '/s', 'bystander')], new Set([10]), ok);
  assert.deepEqual(c.memcgs, []);
  assert.match(c.refused[0]!.why, /pid 12 \(bystander\)/);
});

test('a selected process below minRss does not block its cgroup', () => {
  const w = proc(10, '/s');
  assert.deepEqual(chooseMemcgs([w], [w, proc(13, '/s', 'helper')], new Set([10, 13]), ok).memcgs, ['/s']);
});

test('a cgroup without the memory controller is refused with the kernel-side reason', () => {
  const w = proc(10, '/s');
  const c = chooseMemcgs([w], [w], new Set([10]), () => 'cgroup /s has no memory controller');
  assert.equal(c.refused[0]!.why, 'cgroup /s has no memory controller');
});
