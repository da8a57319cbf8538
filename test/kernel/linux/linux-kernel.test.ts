import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LinuxKernel } from '../../../src/kernel/linux/linux-kernel.js';
import { MPOL_MF_MOVE, MPOL_MF_SW_YOUNG } from '../../../src/kernel/types.js';
import { SyscallError, ERRNO, TierdError } from '../../../src/util/errors.js';
import { startTouchChild, type TouchChild } from '../../helpers/child.js';

const kernel = new LinuxKernel();
const ENOENT = -2;
const EFAULT = -14;
let child: TouchChild | null = null;
async function target(): Promise<TouchChild> {
  child ??= await startTouchChild(64);
  return child;
}
after(async () => {
  await child?.stop();
});

test('move_pages query: touched pages are on node 0; unmapped -EFAULT; untouched -ENOENT', async () => {
  const c = await target();
  const addrs = Float64Array.from([...c.pages, c.untouched, 0x1000]);
  const status = new Int32Array(addrs.length).fill(-999);
  const rc = kernel.movePages(c.pid, addrs.length, addrs, null, status, 0);
  assert.equal(rc, 0);
  for (let i = 0; i < c.pages.length; i++) assert.equal(status[i], 0, `page ${i}`);
  assert.equal(status[c.pages.length], ENOENT, 'untouched page');
  assert.equal(status[c.pages.length + 1], EFAULT, 'unmapped address');
});

test('move_pages to node 0: status 0 for every page (and for the THP, one address)', async (t) => {
  const c = await target();
  const list = c.thp !== null ? [...c.pages, c.thp] : c.pages;
  const addrs = Float64Array.from(list);
  const status = new Int32Array(addrs.length).fill(-999);
  const nodes = new Int32Array(addrs.length);
  assert.equal(kernel.movePages(c.pid, addrs.length, addrs, nodes, status, MPOL_MF_MOVE), 0);
  assert.deepEqual([...status], new Array<number>(addrs.length).fill(0));
  if (c.thp === null) t.skip('THP unavailable (madvise refused): the huge page case did not run');
});

test('hugeRanges (PAGEMAP_SCAN): the THP is PMD-mapped, the small pages are not', async (t) => {
  const c = await target();
  const lo = Math.min(...c.pages, c.thp ?? Infinity) - 0x200000;
  const hi = Math.max(...c.pages, c.thp ?? 0) + 0x400000;
  const huge = kernel.hugeRanges(c.pid, Float64Array.of(lo, hi));
  assert.ok(huge !== null, 'this kernel (6.7+) has PAGEMAP_SCAN');
  const inside = (a: number): boolean => {
    for (let i = 0; i < huge.length; i += 2) if (a >= huge[i]! && a < huge[i + 1]!) return true;
    return false;
  };
  assert.ok(c.pages.every((a) => !inside(a)), 'small pages are not huge');
  if (c.thp !== null) {
    const base = Math.floor(c.thp / 0x200000) * 0x200000;
    assert.ok(inside(base) && inside(base + 0x1ff000), 'the THP is one PMD-mapped range');
  } else t.skip('THP unavailable (madvise refused): the huge page case did not run');
  assert.throws(() => kernel.hugeRanges(0x3fffff, Float64Array.of(lo, hi)), (e: unknown) => e instanceof TierdError && e.code === 'PROCESS_GONE');
});

test('move_pages errors: node 1 ENODEV, dead pid ESRCH', async () => {
  const c = await target();
  const addrs = Float64Array.from(c.pages.slice(0, 4));
  const status = new Int32Array(4);
  assert.throws(() => kernel.movePages(c.pid, 4, addrs, new Int32Array(4).fill(1), status, MPOL_MF_MOVE), (e: unknown) => e instanceof SyscallError && e.errno === ERRNO.ENODEV);
  const dead = await startTouchChild(1);
  const deadPid = dead.pid;
  await dead.stop();
  assert.throws(() => kernel.movePages(deadPid, 4, addrs, null, status, 0), (e: unknown) => e instanceof SyscallError && e.errno === ERRNO.ESRCH);
});

test('move_pages from a worker thread', async () => {
  const c = await target();
  const url = new URL('../../helpers/move-worker.js', import.meta.url);
  const w = new Worker(fileURLToPath(url), { workerData: { pid: c.pid, pages: c.pages } });
  const exited = new Promise<number>((resolve) => w.once('exit', resolve));
  const msg = await new Promise<{ rc: number; status: number[] }>((resolve, reject) => {
    w.once('message', (m: { rc: number; status: number[] }) => resolve(m));
    w.once('error', reject);
  });
  assert.equal(msg.rc, 0);
  assert.ok(msg.status.every((s) => s === 0));
  assert.equal(await exited, 0, 'the worker exits cleanly after using koffi');
});

test('topology of this machine: node 0, MemTotal from sysfs, one tier', () => {
  const t = kernel.topology();
  const n0 = t.nodes.find((n) => n.id === 0)!;
  assert.ok(n0, 'node 0 exists');
  const memTotal = /MemTotal:\s+(\d+) kB/.exec(readFileSync('/sys/devices/system/node/node0/meminfo', 'utf8'))!;
  assert.equal(n0.memTotalBytes, Number(memTotal[1]) * 1024);
  assert.ok(n0.hasCpu && n0.cpus.length >= 1);
  assert.equal(n0.distance[0], 10);
});

test('SW_YOUNG probe: the answer move_pages gives for a real page with the flag, and nothing moves', async () => {
  const c = await target();
  const addrs = Float64Array.of(c.pages[0]!);
  const where = (): number => {
    const st = new Int32Array(1);
    kernel.movePages(c.pid, 1, addrs, null, st, 0);
    return st[0]!;
  };
  const before = where();
  let accepted = true;
  try {
    kernel.movePages(c.pid, 1, addrs, Int32Array.of(before), new Int32Array(1), MPOL_MF_MOVE | MPOL_MF_SW_YOUNG);
  } catch (e) {
    if (!(e instanceof SyscallError && e.errno === ERRNO.EINVAL)) throw e;
    accepted = false;
  }
  assert.equal(kernel.swYoungSupported(), accepted);
  assert.equal(where(), before);
});

test('an unprivileged user gets EPERM that names the missing capability', async (t) => {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv')) {
    t.skip('needs root and setpriv to drop to an unprivileged user');
    return;
  }
  const c = await target();
  const script = fileURLToPath(new URL('../../helpers/move-as-other.js', import.meta.url));
  let out: string;
  try {
    out = execFileSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script, String(c.pid), String(c.pages[0])], { encoding: 'utf8' });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    assert.fail(`child failed: ${err.stdout ?? ''} ${err.stderr ?? ''}`);
  }
  assert.match(out, /EPERM/);
  assert.match(out, /CAP_SYS_PTRACE/);
});

test('page_idle without CAP_SYS_ADMIN is reported missing, with the systemd profile that grants it', (t) => {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv')) {
    t.skip('needs root and setpriv to drop CAP_SYS_ADMIN');
    return;
  }
  // a sysfs with a page_idle bitmap (this machine's kernel has none)
  const sys = mkdtempSync(join(tmpdir(), 'tierd-sys-'));
  mkdirSync(join(sys, 'kernel/mm/page_idle'), { recursive: true });
  writeFileSync(join(sys, 'kernel/mm/page_idle/bitmap'), '');
  const mod = new URL('../../../src/kernel/linux/idle-pages-file.js', import.meta.url).href;
  const script = `import(${JSON.stringify(mod)}).then((m) => console.log(JSON.stringify(m.detectTrackers('/proc', ${JSON.stringify(sys)}))))`;
  const withCap = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { pageIdle: boolean; missing: Record<string, string> };
  assert.equal(withCap.pageIdle, true, JSON.stringify(withCap.missing));
  const without = JSON.parse(execFileSync('/usr/bin/setpriv', ['--bounding-set=-sys_admin', '--inh-caps=-sys_admin', process.execPath, '-e', script], { encoding: 'utf8' })) as { pageIdle: boolean; missing: Record<string, string> };
  assert.equal(without.pageIdle, false);
  assert.match(without.missing.page_idle!, /CAP_SYS_ADMIN.*systemd\/tierd\.service\.d\/page_idle\.conf/);
});

test('identity re-check: one read of /proc/PID/stat gives the start time; a gone pid gives null', () => {
  const proc = mkdtempSync(join(tmpdir(), 'tierd-proc-'));
  mkdirSync(join(proc, '4242'));
  // only stat: the re-check before every walk and move must not need status, cmdline or cgroup
  const fields = Array.from({ length: 50 }, (_, i) => String(i));
  fields[19] = '987654'; // field 22 (starttime) is the 20th after "(comm)"
  writeFileSync(join(proc, '4242/stat'), `4242 (we ird) ) S ${fields.slice(1).join(' ')}\n`);
  const k = new LinuxKernel({ procRoot: proc });
  assert.deepEqual(k.identity(4242), { pid: 4242, starttime: 987654 });
  assert.equal(k.identity(4243), null);
  // the live process: the same start time as the full read
  const live = new LinuxKernel();
  assert.equal(live.identity(process.pid)!.starttime, live.process(process.pid)!.starttime);
});

test('skimming idle PMDs is unsafe where MGLRU clears PMD accessed bits (lru_gen enabled with 0x4), safe otherwise', async () => {
  const { detectTrackers } = await import('../../../src/kernel/linux/idle-pages-file.js');
  const sys = mkdtempSync(join(tmpdir(), 'tierd-sys-'));
  assert.equal(detectTrackers('/proc', sys).skimUnsafe, null, 'no lru_gen at all');
  mkdirSync(join(sys, 'kernel/mm/lru_gen'), { recursive: true });
  writeFileSync(join(sys, 'kernel/mm/lru_gen/enabled'), '0x0003\n');
  assert.equal(detectTrackers('/proc', sys).skimUnsafe, null, 'MGLRU without non-leaf young');
  writeFileSync(join(sys, 'kernel/mm/lru_gen/enabled'), '0x0007\n');
  assert.match(detectTrackers('/proc', sys).skimUnsafe ?? '', /LRU_GEN_NONLEAF_YOUNG/);
});
