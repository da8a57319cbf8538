// Runs inside the VM on the debug kernel (lockdep, DEBUG_VM, atomic-sleep checks) with our
// /proc/PID/idle_pages patch. Phase 1: a target maps, faults, splits, zaps and unmaps memory in
// a loop while tierd scans it every 10 ms and a second reader hammers it with odd buffer sizes,
// for STRESS_SECONDS (60); tierd and every other pass of the reader skim idle PMDs. Phase 2:
// targets that exit while their idle_pages is being read.
// Verdict: tierd exits 0, every read returns a valid stream, EOF or ESRCH, and the kernel logs
// no warning, oops or lockdep report (and lockdep is still on at the end).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { startWorkload as start, verdicts } from './common.mjs';

const CLI = 'dist/src/cli/main.js';
const SECONDS = Number(process.env.STRESS_SECONDS ?? 60);
const { verdict, finish } = verdicts('stress');

// a reader in a worker thread: reads the target's idle_pages at the decoded cursor with the
// given buffer sizes until `until` (ms since the epoch) or, with until = 0, once to the end
const READER = `
const { workerData, parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync, constants } = require('node:fs');
(async () => {
  const { decodeAll } = await import(workerData.decoder);
  const out = { reads: 0, bytes: 0, passes: 0, esrch: 0, eof: 0, errors: {} };
  const sizes = workerData.sizes;
  const buf = new Uint8Array(Math.max(...sizes));
  do {
    let fd;
    // every other pass skims idle PMDs (SCAN_SKIM_IDLE), racing tierd's own skimming walks
    const skim = out.passes % 2 === 1 ? constants.O_NOFOLLOW : 0;
    try { fd = openSync('/proc/' + workerData.pid + '/idle_pages', constants.O_RDONLY | skim); } catch (e) { out.errors['open ' + e.code] = (out.errors['open ' + e.code] ?? 0) + 1; break; }
    let pos = 0;
    parentPort.postMessage('opened');
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, sizes[out.reads % sizes.length], pos);
        out.reads++;
        if (n === 0) { out.eof++; break; }
        out.bytes += n;
        const end = decodeAll(buf.subarray(0, n)).end;
        if (end <= pos) { out.errors.stall = (out.errors.stall ?? 0) + 1; break; }
        if (end >= 0x7ffffffff000) { out.eof++; break; }
        pos = end;
      }
    } catch (e) {
      if (e.code === 'ESRCH') out.esrch++;
      else out.errors[e.code ?? e.name] = (out.errors[e.code ?? e.name] ?? 0) + 1;
    } finally {
      closeSync(fd);
    }
    out.passes++;
  } while (workerData.until && Date.now() < workerData.until && !out.esrch);
  parentPort.postMessage(out);
})();
`;
function reader(pid, sizes, until, onOpened = () => {}) {
  const w = new Worker(READER, { eval: true, workerData: { pid, sizes, until, decoder: new URL('../../../dist/src/formats/idle-pages/decode.js', import.meta.url).href } });
  return new Promise((resolve, reject) => {
    w.on('message', (m) => (m === 'opened' ? onOpened() : resolve(m)));
    w.once('error', reject);
  });
}

const lockdep = existsSync('/proc/lockdep_stats');
console.log(`  [stress] kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, lockdep ${lockdep ? 'on' : 'absent'}`);

// phase 1: churn under tierd (10 ms between walks) and a second reader
const metric = async (name) => {
  try {
    const body = await (await fetch('http://127.0.0.1:9478/metrics')).text();
    const line = body.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : null;
  } catch {
    return null;
  }
};
{
  // the churn outlives the measured minute: tierd's start-up under lockdep is slow
  const t = await start(['churn', String(SECONDS + 600)]);
  const cfg = '/tmp/tierd-stress.yaml';
  writeFileSync(cfg, `targets: { pids: [${t.pid}], minRss: 0 }
scan: { tracker: idle_pages, walks: 5, interval: 10ms }
migrate: { promoteRate: 256MiB/s, demoteRate: 256MiB/s }
metrics: { listen: 127.0.0.1:9478 }
log: { level: warn, format: json }
`);
  const t0 = Date.now();
  const d = spawn(process.execPath, [CLI, 'run', '--config', cfg], { stdio: ['ignore', 'inherit', 'pipe'] });
  let log = '';
  d.stderr.on('data', (x) => (log += x));
  const exited = new Promise((r) => d.on('exit', (c, sig) => r(c ?? sig)));
  let walks0 = null;
  while (walks0 === null && Date.now() - t0 < 300_000 && d.exitCode === null) {
    await new Promise((r) => setTimeout(r, 1000));
    if ((await metric('tierd_periods_total')) >= 1) walks0 = await metric('tierd_walks_total');
  }
  console.log(`  [stress] tierd completed its first period after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const r = await reader(t.pid, [20, 4096, 64 * 1024, 19, 333, 1 << 20], Date.now() + SECONDS * 1000);
  const walks = (await metric('tierd_walks_total')) - (walks0 ?? 0);
  const periods = await metric('tierd_periods_total');
  d.kill('SIGTERM');
  const code = await exited;
  t.proc.kill('SIGTERM');
  const errors = log.split('\n').filter((l) => l.includes('"level":50') || l.includes('"level":60') || /^(FATAL|Error|node:|\s+at )/.test(l));
  console.log(`  [stress] reader: ${r.passes} passes, ${r.reads} reads, ${(r.bytes / 1e6).toFixed(1)} MB, errors ${JSON.stringify(r.errors)}`);
  verdict(Object.keys(r.errors).length === 0 && r.passes > 0, `a reader with odd buffer sizes over a churning target: ${r.passes} passes, ${r.reads} reads, no error`);
  verdict(walks0 !== null && walks > 0 && code === 0 && errors.length === 0,
    `tierd scanned the churning target (10 ms interval) for ${SECONDS} s: ${walks} walks, ${periods} periods, exit ${code}, ${errors.length} error lines${errors.length ? `: ${errors.slice(0, 3).join(' | ').slice(0, 400)}` : ''}`);
}

// phase 2: targets that exit while being read
{
  const tally = { complete: 0, esrch: 0, other: {} };
  for (let i = 0; i < 40; i++) {
    const t = await start(['exiter', '64', String(i % 20)]);
    // the target starts its countdown once the reader has the file open, then passes repeat
    // until a read answers ESRCH or the process is gone
    let go = false;
    const r = await reader(t.pid, [1 << 20, 4096, 20], Date.now() + 10_000, () => {
      if (!go) t.proc.stdin.end('x');
      go = true;
    });
    if (r.esrch) tally.esrch++;
    else if (Object.keys(r.errors).length === 0) tally.complete++;
    tally.passes = (tally.passes ?? 0) + r.passes;
    for (const [k, v] of Object.entries(r.errors)) tally.other[k] = (tally.other[k] ?? 0) + v;
    if (t.proc.exitCode === null && t.proc.signalCode === null) await new Promise((res) => t.proc.on('exit', res));
  }
  console.log(`  [stress] exiting targets: ${JSON.stringify(tally)}`);
  verdict(tally.esrch >= 10, `targets exited while being read: for ${tally.esrch} of 40 a read answered ESRCH`);
  // open fails with ENOENT/ESRCH once the process is fully gone: that is the "gone" answer too
  const bad = Object.entries(tally.other).filter(([k]) => !/^open (ENOENT|ESRCH)$/.test(k));
  verdict(bad.length === 0, `40 targets exiting mid-read: every read gave a valid stream, EOF or ESRCH (${tally.complete} complete, ${tally.esrch} ESRCH${bad.length ? `, bad: ${JSON.stringify(bad)}` : ''})`);
}

const dmesg = execFileSync('dmesg', { encoding: 'utf8' });
const bad = dmesg.split('\n').filter((l) => /WARNING:|BUG:|Oops|possible (circular|recursive) locking|inconsistent lock state|sleeping function called from invalid context|suspicious RCU usage|INFO: task .* blocked|lockdep is turned off|Out of memory|segfault at|general protection/.test(l));
verdict(bad.length === 0, `the kernel logged no warning, oops or lockdep report${bad.length ? `: ${bad.slice(0, 3).join(' | ')}` : ''}`);
if (lockdep) {
  const stats = readFileSync('/proc/lockdep_stats', 'utf8');
  const on = /debug_locks:\s+1/.test(stats);
  verdict(on, `lockdep is still on at the end (debug_locks ${on ? 1 : 0})`);
} else {
  verdict(false, 'this kernel has no lockdep: run the stress suite on the debug kernel (KERNELS=debug)');
}
finish();
