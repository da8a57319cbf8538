// Runs inside the NUMA VM, in /app (the built project). For each tracker the kernel offers:
// start the workload and a bystander, run `tierd run` with a config file for a bounded number
// of periods, then judge with move_pages in query mode from this process (not tierd):
// >= 95% of the hot set on node 0, >= 90% of the cold memory on node 1, the bystander untouched,
// and tierd's metrics agreeing with what moved. Also: topology from the kernel's evidence, and
// `tierd plan` moving nothing. Prints one VERDICT line per check; exits non-zero on a failure.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { LinuxKernel } from '../../../dist/src/kernel/linux/linux-kernel.js';
import { startWorkload as start, verdicts } from './common.mjs';

const CLI = 'dist/src/cli/main.js';
const k = new LinuxKernel();
const { verdict, finish } = verdicts();

/** node of every 4 KiB page of [base, base + size) */
function placement(pid, base, size) {
  const n = size / 4096;
  const out = new Int32Array(n);
  const addrs = new Float64Array(1024);
  const st = new Int32Array(1024);
  for (let i = 0; i < n; i += 1024) {
    const c = Math.min(1024, n - i);
    for (let j = 0; j < c; j++) addrs[j] = base + (i + j) * 4096;
    k.movePages(pid, c, addrs, null, st, 0);
    out.set(st.subarray(0, c), i);
  }
  return out;
}

function fractions(w, nodes) {
  const isHot = new Uint8Array(nodes.length);
  for (const [off, len] of w.hot) isHot.fill(1, off / 4096, (off + len) / 4096);
  let hot = 0, hotOn0 = 0, cold = 0, coldOn1 = 0, on0 = 0;
  nodes.forEach((n, i) => {
    if (n === 0) on0++;
    if (isHot[i]) { hot++; if (n === 0) hotOn0++; } else { cold++; if (n === 1) coldOn1++; }
  });
  return { hot: hotOn0 / hot, cold: coldOn1 / cold, on0Bytes: on0 * 4096 };
}

async function scrape() {
  try {
    const r = await fetch('http://127.0.0.1:9477/metrics');
    return await r.text();
  } catch {
    return null;
  }
}
/** node of every present page of every VMA of pid: the whole process, for the metrics check */
function snapshot(pid) {
  const out = new Map();
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').trim().split('\n')) {
    const [range, perms] = line.split(' ');
    if (perms[3] === 's') continue;
    const [a, b] = range.split('-').map((x) => parseInt(x, 16));
    if (a >= 0xffffffffff600000) continue;
    placement(pid, a, b - a).forEach((n, i) => {
      if (n >= 0) out.set(a + i * 4096, n);
    });
  }
  return out;
}

/** what tierd's metrics say it moved, bytes */
function migrated(body) {
  return { promoted: metric(body, /^tierd_migrated_bytes_total\{direction="promote"/), demoted: metric(body, /^tierd_migrated_bytes_total\{direction="demote"/) };
}

/** net movement of the whole process, measured from outside: pages present at both snapshots */
function movedSince(pid, start0) {
  const after = snapshot(pid);
  let up = 0, down = 0;
  for (const [a, n0] of start0) {
    const n1 = after.get(a);
    if (n1 === undefined || n1 === n0) continue;
    if (n1 === 0) up += 4096; else down += 4096;
  }
  return { up, down };
}

const metric = (body, re) => body.split('\n').filter((l) => re.test(l) && !l.startsWith('#')).reduce((s, l) => s + Number(l.split(' ').pop()), 0);

const topo = JSON.parse(execFileSync(process.execPath, [CLI, 'topology', '--json'], { encoding: 'utf8' }));
const n1 = topo.nodes.find((n) => n.id === 1);
console.log(`topology: ${JSON.stringify(topo.nodes.map((n) => ({ id: n.id, tier: n.tier, evidence: n.evidence })))} trackers ${JSON.stringify(topo.trackers)}`);
verdict(n1 && n1.tier === 1 && !/config/.test(n1.evidence), `tierd topology classifies node 1 as the slower tier from kernel evidence (${n1?.evidence})`);

const only = process.env.TRACKERS ? process.env.TRACKERS.split(',') : topo.trackers;
for (const tracker of topo.trackers.filter((t) => only.includes(t))) {
  const t0 = Date.now();
  const w = await start(['workload', '768', '96']);
  const by = await start(['bystander', '64']);
  const start0 = snapshot(w.pid);
  const cfg = `/tmp/tierd-${tracker}.yaml`;
  writeFileSync(cfg, `targets: { pids: [${w.pid}], minRss: 0 }
scan: { tracker: ${tracker}, walks: 4, interval: 1s }
policy: { coldPeriods: 1, minResidency: 2 }
migrate: { promoteRate: 1GiB/s, demoteRate: 1GiB/s }
metrics: { listen: 127.0.0.1:9477 }
log: { level: info, format: json }
`);
  // dry-run first, on the workload itself while its hot set is still on node 1: tierd plan
  // prints the promotions it would make and moves nothing
  const t1 = Date.now();
  const before = placement(w.pid, w.base, w.size);
  const plan = execFileSync(process.execPath, [CLI, 'plan', '--pid', String(w.pid), '--walks', '3', '--interval', '1s', '--json', '--config', cfg], { encoding: 'utf8' });
  const after = placement(w.pid, w.base, w.size);
  const lines = plan.trim().split('\n').filter((l) => l.startsWith('{'));
  verdict(before.every((n, i) => n === after[i]), `[${tracker}] tierd plan printed ${lines.length} plan lines and moved nothing (${((Date.now() - t1) / 1000).toFixed(0)} s)`);
  const periods = Number(process.env.PERIODS ?? 6);
  const d = spawn(process.execPath, [CLI, 'run', '--config', cfg, '--periods', String(periods)], { stdio: ['ignore', 'inherit', 'pipe'] });
  let log = '';
  d.stderr.on('data', (x) => (log += x));
  let last = null;
  const exited = new Promise((r) => d.on('exit', r));
  let code = null;
  exited.then((c) => (code = c));
  while (code === null) {
    const m = await scrape();
    if (m) last = m;
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const l of log.split('\n').filter((x) => x.includes('"msg":"period"'))) {
    const p = JSON.parse(l);
    console.log(`  [${tracker}] period ${p.period}: hot ${JSON.stringify(p.hotBytes)} promoted ${p.promotedBytes} demoted ${p.demotedBytes} failures ${JSON.stringify(p.failures)}`);
  }
  verdict(code === 0, `[${tracker}] tierd run exited 0 (${code})`);
  if (tracker === 'damon') {
    // the stock kernel has the damon_aggregated tracepoint, and run.sh mounts tracefs as systemd does
    verdict(log.includes('DAMON results come from the damon_aggregated tracepoint'), `[damon] results came from the tracepoint, not sysfs`);
    verdict(!existsSync('/sys/kernel/tracing/instances/tierd'), '[damon] tierd removed its trace instance when it stopped');
  }
  const f = fractions(w, placement(w.pid, w.base, w.size));
  const b = placement(by.pid, by.base, by.size);
  const byOn1 = b.filter((n) => n === 1).length / b.length;
  console.log(`  [${tracker}] hot set on node 0: ${(100 * f.hot).toFixed(1)}%, cold on node 1: ${(100 * f.cold).toFixed(1)}%, bystander on node 1: ${(100 * byOn1).toFixed(1)}% (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  verdict(f.hot >= 0.95, `[${tracker}] >= 95% of the hot set on node 0 (${(100 * f.hot).toFixed(1)}%)`);
  verdict(f.cold >= 0.9, `[${tracker}] >= 90% of the cold memory on node 1 (${(100 * f.cold).toFixed(1)}%)`);
  verdict(byOn1 === 1, `[${tracker}] no page of another process moved (bystander ${(100 * byOn1).toFixed(1)}% on node 1)`);
  if (last) {
    const { promoted, demoted } = migrated(last);
    const { up, down } = movedSince(w.pid, start0);
    console.log(`  [${tracker}] metrics: promoted ${promoted}, demoted ${demoted}; measured: ${up} up, ${down} down`);
    verdict(promoted - demoted === up - down && promoted >= up && demoted >= down, `[${tracker}] tierd's metrics agree with what moved (net ${promoted - demoted} = ${up - down} bytes)`);
  } else {
    verdict(false, `[${tracker}] no metrics scraped`);
  }
  for (const p of [w, by]) p.proc.kill('SIGTERM');
}

/** tierd's output lines of a run, its exit code, and the last metrics it served */
async function runTierd(args) {
  const d = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '', out = '', last = null, code = null;
  d.stderr.on('data', (x) => (log += x));
  d.stdout.on('data', (x) => (out += x));
  new Promise((r) => d.on('exit', r)).then((c) => (code = c));
  while (code === null) {
    const m = await scrape();
    if (m) last = m;
    await new Promise((r) => setTimeout(r, 500));
  }
  return { log, out, code, last };
}

/**
 * migrate.engine damos on a kernel with DAMON's migrate actions (6.11+): the workload in a
 * cgroup of its own, a bystander that touches all its memory in the root cgroup and is also
 * named as a target (tierd must refuse it: a root-cgroup memcg filter would match everyone).
 */
async function damosEngine() {
  const cg = '/tierd-e2e';
  execFileSync('sh', ['-c', `mkdir -p /sys/fs/cgroup${cg} && echo +memory > /sys/fs/cgroup/cgroup.subtree_control`]);
  const t0 = Date.now();
  const w = await start(['workload', '768', '96'], cg);
  const by = await start(['bystander', '64']);
  const start0 = snapshot(w.pid);
  const cfg = '/tmp/tierd-damos.yaml';
  writeFileSync(cfg, `targets: { pids: [${w.pid}, ${by.pid}], minRss: 0 }
migrate: { engine: damos, promoteRate: 1GiB/s, demoteRate: 1GiB/s }
metrics: { listen: 127.0.0.1:9477 }
log: { level: info, format: json }
`);
  const before = placement(w.pid, w.base, w.size);
  const dry = await runTierd(['run', '--config', cfg, '--dry-run', '--periods', '5']);
  const after = placement(w.pid, w.base, w.size);
  const would = dry.out.split('\n').filter((l) => /DAMOS would promote/.test(l));
  console.log(`  [damos] dry-run: ${would.at(-1) ?? dry.out.trim().split('\n').at(-1)}`);
  verdict(dry.code === 0 && would.length === 5 && before.every((n, i) => n === after[i]), `[damos] a dry-run printed ${would.length} periods of what DAMOS would move and moved nothing (exit ${dry.code})`);
  const periods = Number(process.env.DAMOS_PERIODS ?? 60);
  const r = await runTierd(['run', '--config', cfg, '--periods', String(periods)]);
  for (const l of r.log.split('\n').filter((x) => x.includes('"msg":"period"')).filter((_, i) => i % 10 === 9)) {
    const p = JSON.parse(l);
    console.log(`  [damos] period ${p.period}: promoted ${p.promotedBytes} demoted ${p.demotedBytes} quota ${p.plannedPromoteBytes}/${p.plannedDemoteBytes} tried ${p.triedPromoteBytes}/${p.triedDemoteBytes}`);
  }
  verdict(r.code === 0, `[damos] tierd run exited 0 (${r.code}${r.code === 0 ? '' : `: ${r.log.trim().split('\n').at(-1)}`})`);
  verdict(r.log.includes(`leaves pid ${by.pid}`) && r.log.includes('root cgroup'), `[damos] tierd refused the target in the root cgroup with one line`);
  verdict(!existsSync('/sys/kernel/mm/damon/admin/kdamonds/0'), '[damos] tierd removed its kdamonds when it stopped');
  const f = fractions(w, placement(w.pid, w.base, w.size));
  const b = placement(by.pid, by.base, by.size);
  const byOn1 = b.filter((n) => n === 1).length / b.length;
  console.log(`  [damos] hot set on node 0: ${(100 * f.hot).toFixed(1)}%, cold on node 1: ${(100 * f.cold).toFixed(1)}%, bystander on node 1: ${(100 * byOn1).toFixed(1)}% (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  verdict(f.hot >= 0.95, `[damos] >= 95% of the hot set on node 0 (${(100 * f.hot).toFixed(1)}%)`);
  verdict(f.cold >= 0.9, `[damos] >= 90% of the cold memory on node 1 (${(100 * f.cold).toFixed(1)}%)`);
  verdict(byOn1 === 1, `[damos] no page of another process moved (bystander ${(100 * byOn1).toFixed(1)}% on node 1)`);
  if (r.last) {
    const { promoted, demoted } = migrated(r.last);
    const { up, down } = movedSince(w.pid, start0);
    console.log(`  [damos] metrics: promoted ${promoted}, demoted ${demoted}; measured in the process: ${up} up, ${down} down`);
    // the memcg also holds pages no mapping of the process shows (what the workload's shell
    // left, page cache): the kernel's counters may exceed what the mappings show, never fall short
    verdict(promoted >= up && promoted > 0, `[damos] tierd's metrics cover what moved (promoted ${promoted} >= ${up} bytes measured)`);
  } else {
    verdict(false, '[damos] no metrics scraped');
  }
  for (const p of [w, by]) p.proc.kill('SIGTERM');
}

if (topo.trackers.includes('damon') && only.includes('damon')) await damosEngine();
finish();
