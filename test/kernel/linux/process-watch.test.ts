import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessWatch } from '../../../src/kernel/linux/process-watch.js';
import { readIdentity } from '../../../src/kernel/linux/procfs.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

const started: { kill: () => Promise<void> }[] = [];
// a failed assertion must not leave a sleeper behind to hold the test run open
after(async () => {
  for (const c of started) await c.kill();
});

/** a child that sleeps until killed; ended only by this test, by its pid */
async function sleeper(): Promise<{ pid: number; kill: () => Promise<void> }> {
  const p = spawn('/bin/sleep', ['600'], { stdio: 'ignore' });
  await once(p, 'spawn');
  const c = {
    pid: p.pid!,
    kill: async () => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      p.kill('SIGKILL');
      await once(p, 'exit'); // reaped: the pid is free for reuse
    },
  };
  started.push(c);
  return c;
}

/** a procfs root that shows one process of the real /proc, by a link that the test can remove */
function linkedRoot(pid: number): { root: string; unlink: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'tierd-watch-'));
  symlinkSync(`/proc/${pid}`, join(root, String(pid)));
  return { root, unlink: () => rmSync(join(root, String(pid))) };
}

test('a held /proc/PID file answers the identity re-check after the first read, without reading the path again', async () => {
  const child = await sleeper();
  const { root, unlink } = linkedRoot(child.pid);
  const watch = new ProcessWatch(root);
  const first = watch.identity(child.pid);
  assert.deepEqual(first, readIdentity('/proc', child.pid));
  assert.equal(watch.size, 1);
  // the path is gone: only the held file can answer, and it says the process is still there
  unlink();
  assert.deepEqual(watch.identity(child.pid), first);
  assert.deepEqual(watch.identity(child.pid), first);
  assert.equal(watch.size, 1);
  await child.kill();
});

test('a held file of a process that exited says it is gone, even where the path would answer again', async () => {
  const child = await sleeper();
  const watch = new ProcessWatch('/proc');
  const fds = openFds();
  const before = watch.identity(child.pid);
  assert.ok(before !== null);
  assert.equal(openFds(), fds + 1, 'one file held per process');
  await child.kill();
  // the held file answers ESRCH; the path read decides: the pid is free (null) or another process's
  const now = watch.identity(child.pid);
  assert.ok(now === null || now.starttime !== before.starttime, JSON.stringify({ before, now }));
  assert.equal(watch.size, now === null ? 0 : 1);
  assert.equal(openFds(), fds + watch.size, 'the dead process\'s file is closed');
});

test('release closes the held file; beyond the cap identities are read by path and nothing more is held', async () => {
  const a = await sleeper();
  const b = await sleeper();
  const watch = new ProcessWatch('/proc', 1);
  const fds = openFds();
  const ia = watch.identity(a.pid);
  const ib = watch.identity(b.pid);
  assert.deepEqual(ib, readIdentity('/proc', b.pid));
  assert.equal(watch.size, 1);
  assert.equal(openFds(), fds + 1);
  watch.release(a.pid);
  assert.equal(watch.size, 0);
  assert.equal(openFds(), fds);
  assert.deepEqual(watch.identity(a.pid), ia);
  await a.kill();
  await b.kill();
  assert.equal(watch.identity(b.pid)?.starttime === ib?.starttime, false, 'b, read by path, is gone');
});
