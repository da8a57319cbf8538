import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listProcesses, readProcess } from '../../../src/kernel/linux/procfs.js';

/** A /proc with one user process (pid 42) and one kernel thread (pid 2). */
function fakeProc(): string {
  const root = mkdtempSync(join(tmpdir(), 'tierd-proc-'));
  const proc = (pid: number, stat: string, files: Record<string, string>): void => {
    mkdirSync(join(root, String(pid)));
    writeFileSync(join(root, String(pid), 'stat'), stat);
    for (const [f, v] of Object.entries(files)) writeFileSync(join(root, String(pid), f), v);
  };
  // field 9 (flags) of a kernel thread has PF_KTHREAD (0x00200000); field 22 is the start time
  proc(42, '42 (redis-server) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 4 0 12345 0 0', {
    status: 'Name:\tredis-server\nRssAnon:\t  2048 kB\n',
    cmdline: 'redis-server\0*:6379\0',
    cgroup: '0::/system.slice/redis.service\n',
  });
  proc(2, '2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0', { status: 'Name:\tkthreadd\n', cmdline: '', cgroup: '0::/\n' });
  mkdirSync(join(root, 'self'));
  return root;
}

test('a process lists with its stat fields; cmdline, cgroup and RSS read on first use, once', () => {
  const root = fakeProc();
  const ps = listProcesses(root).sort((a, b) => a.pid - b.pid);
  assert.deepEqual(ps.map((p) => [p.pid, p.comm, p.starttime, p.kernelThread]), [[2, 'kthreadd', 3, true], [42, 'redis-server', 12345, false]]);
  // the files are read when asked for, not when listed: a change before the first use shows
  writeFileSync(join(root, '42/status'), 'RssAnon:\t  4096 kB\n');
  const p = ps[1]!;
  assert.equal(p.rssAnonBytes, 4096 * 1024);
  assert.equal(p.cgroup, '/system.slice/redis.service');
  assert.equal(p.cmdline, 'redis-server *:6379');
  // and once: a later change does not
  writeFileSync(join(root, '42/status'), 'RssAnon:\t  1 kB\n');
  assert.equal(p.rssAnonBytes, 4096 * 1024);
});

test('a process whose files vanish after its stat line reads as no cgroup and no RSS, and a gone one as null', () => {
  const root = fakeProc();
  const p = readProcess(root, 42)!;
  writeFileSync(join(root, '42/cgroup'), '');
  writeFileSync(join(root, '42/status'), '');
  assert.equal(p.cgroup, '');
  assert.equal(p.rssAnonBytes, 0);
  assert.equal(readProcess(root, 7), null);
});
