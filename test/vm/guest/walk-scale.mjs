// Runs inside the VM on our kernel: what the read workers and the skim buy (issue "Scale to
// terabyte hosts"). THP off, so every page is a PTE; skim off unless said.
//  A. walks alone (tierd's own reader and read pool, no daemon): the event-loop delay
//     (perf_hooks.monitorEventLoopDelay, 1 ms resolution) during walks of a 1 GiB target with the
//     reads on the main thread and in a worker; the time of a walk of two 768 MiB targets with
//     one worker and with two (run with TCG_THREAD=multi, or the two vCPUs share one thread);
//     and two controls without tierd's pool: the same walks made by two processes one after the
//     other and at once (does the guest's kernel walk two page tables in parallel at all?), and
//     a JavaScript busy loop in one process and in two at once (does user code run in parallel?).
//  B. the daemon in dry-run (walks and plans, moves nothing), 200 ms interval, no settled pause:
//     /metrics scraped every 20 ms with no target (the floor under TCG), and with a 1 GiB target
//     read on the main thread, in a worker, and in a worker with the skim; its CPU (user +
//     system) per GiB per period; and a control: a bare worker thread that answers every
//     request with a constant (this guest's HTTP round trip, with no tierd at all).
// Prints one SCALE_RESULT line per run and VERDICT lines; exits non-zero on a failure.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { startWorkload, verdicts } from './common.mjs';
import { LinuxKernel } from '../../../dist/src/kernel/linux/linux-kernel.js';
import { IdlePagesReader } from '../../../dist/src/trackers/idle-pages/reader.js';
import { IdlePagesPool } from '../../../dist/src/trackers/idle-pages/read-pool.js';
import { HeatTable } from '../../../dist/src/heat/heat-table.js';
import { StateSpace } from '../../../dist/src/heat/states.js';

const CLI = 'dist/src/cli/main.js';
const SECONDS = Number(process.env.TIERD_SCALE_SECONDS ?? 30);
const { verdict, finish } = verdicts('scale');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const agent = new http.Agent({ keepAlive: true });

writeFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'never');

function scrape(port) {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, body }));
    });
    req.on('error', reject);
  });
}

/** the value of a sample (exact name and labels) in an exposition */
function sample(body, name) {
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** one scrape every 20 ms for `seconds`: the latencies' p50, p99 and max, and how many */
async function scrapeLatency(port, seconds) {
  const lat = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    lat.push((await scrape(port)).ms);
    await sleep(20);
  }
  return { scrapes: lat.length, scrapeMs: { p50: round(pct(lat, 0.5)), p99: round(pct(lat, 0.99)), max: round(Math.max(...lat)) } };
}

/** a worker thread of this process that answers every request with a constant: the round trip with no tierd */
async function bareWorkerFloor(port, seconds) {
  const src = `const http = require('node:http'); const { parentPort, workerData } = require('node:worker_threads');
http.createServer((req, res) => res.end('ok\\n')).listen(workerData.port, '127.0.0.1', () => parentPort.postMessage('up'));`;
  const w = new Worker(src, { eval: true, workerData: { port } });
  try {
    await new Promise((r) => w.once('message', r));
    for (let i = 0; i < 20; i++) await scrape(port);
    const r = { label: 'control: a bare worker thread answering a constant', ...(await scrapeLatency(port, seconds)) };
    console.log(`SCALE_RESULT ${JSON.stringify(r)}`);
    return r.scrapeMs;
  } finally {
    await w.terminate();
  }
}

async function runTierd({ label, workers, port, seconds, skim = false, comm = '^workload$' }) {
  writeFileSync('/tmp/scale.yaml', `targets: { comm: "${comm}", minRss: 0 }
scan: { tracker: idle_pages, workers: ${workers}, skimIdle: ${skim}, interval: 200ms, settledPauseMax: 0s }
metrics: { listen: "127.0.0.1:${port}" }
log: { level: warn, format: json }
`);
  const tierd = spawn(process.execPath, [CLI, 'run', '--dry-run', '--config', '/tmp/scale.yaml'], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    // ready once it has walked: the first scrape with a walk in it
    let first = null;
    const ready = (b) => comm.includes('nothing') || sample(b, 'tierd_walks_total') >= 1;
    for (let i = 0; i < 600 && !(first && ready(first.body)); i++) {
      await sleep(100);
      first = await scrape(port).catch(() => null);
    }
    if (!first) throw new Error(`${label}: tierd never answered /metrics`);
    const latency = await scrapeLatency(port, seconds);
    const { body } = await scrape(port);
    const delta = (name) => sample(body, name) - sample(first.body, name);
    const periods = delta('tierd_periods_total');
    const gib = sample(body, 'tierd_tracked_bytes{tier="0"}') + sample(body, 'tierd_tracked_bytes{tier="1"}');
    const r = {
      label, workers, ...latency,
      loopDelayMs: { p99: round(sample(body, 'nodejs_eventloop_lag_p99_seconds') * 1e3), max: round(sample(body, 'nodejs_eventloop_lag_max_seconds') * 1e3) },
      walks: delta('tierd_walks_total'),
      walkMs: round((delta('tierd_walk_duration_seconds_sum') / delta('tierd_walks_total')) * 1e3, 1),
      periods,
      trackedGiB: round(gib / 2 ** 30, 3),
      cpuPerGiBPeriod: round(delta('process_cpu_seconds_total') / (gib / 2 ** 30) / periods, 4),
    };
    console.log(`SCALE_RESULT ${JSON.stringify(r)}`);
    return r;
  } finally {
    tierd.kill('SIGTERM');
    await new Promise((res) => tierd.once('exit', res));
  }
}

const kernel = new LinuxKernel();
const variant = kernel.trackers().idlePages;
const heat = () => new HeatTable(new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 }));
const rangesOf = (w) => Float64Array.of(w.base, w.base + w.size);

/** walks of one target, with the event loop's delay over them (a 20 ms pause after each, as an interval) */
async function loopDuringWalks(tracker, w, runs) {
  const h = heat();
  await tracker.walk(w.pid, rangesOf(w), h);
  const mon = monitorEventLoopDelay({ resolution: 1 });
  const ms = [];
  mon.enable();
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await tracker.walk(w.pid, rangesOf(w), h);
    ms.push(performance.now() - t0);
    await sleep(20);
  }
  mon.disable();
  return { walkMs: round(pct(ms, 0.5), 1), loopP99Ms: round(mon.percentile(99) / 1e6), loopMaxMs: round(mon.max / 1e6) };
}

async function twoWalks(pool, a, b, runs) {
  const hs = [heat(), heat()];
  const both = () => Promise.all([a, b].map((w, i) => pool.walk(w.pid, rangesOf(w), hs[i])));
  await both();
  const ms = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await both();
    ms.push(performance.now() - t0);
  }
  return round(pct(ms, 0.5), 1);
}

/** run `code` as an ES module in a new node process; resolves to the JSON it prints */
function nodeChild(code, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', code, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', (c) => (c === 0 ? resolve(JSON.parse(out)) : reject(new Error(`control process exited ${c}`))));
  });
}

/** the upper median of 6 walks of one target, made by its own process with the in-thread reader and no fold */
const WALKER = `
import { LinuxKernel } from '${process.cwd()}/dist/src/kernel/linux/linux-kernel.js';
import { IdlePagesReader } from '${process.cwd()}/dist/src/trackers/idle-pages/reader.js';
const [pid, base, size] = process.argv.slice(1).map(Number);
const k = new LinuxKernel();
const rd = new IdlePagesReader(k, { bufferBytes: 32 * 1024, flags: 0, variant: k.trackers().idlePages });
const r = Float64Array.of(base, base + size);
await rd.walk(pid, r, null);
const ms = [];
for (let i = 0; i < 6; i++) { const t = performance.now(); await rd.walk(pid, r, null); ms.push(performance.now() - t); await new Promise((s) => setTimeout(s, 50)); }
console.log(JSON.stringify({ ms: ms.sort((a, b) => a - b)[3] }));
`;

/**
 * The kernel's walks without tierd's pool: each target by its own process, one after the other,
 * then both at once. The ratio (the slower walk at once ÷ both one after the other) is the one
 * the pool's two workers are judged by, with nothing of tierd's between the walks.
 */
async function kernelWalksAlone(targets) {
  const args = targets.map((t) => [String(t.pid), String(t.base), String(t.size)]);
  const alone = [];
  for (const a of args) alone.push(round((await nodeChild(WALKER, a)).ms, 1));
  const atOnce = (await Promise.all(args.map((a) => nodeChild(WALKER, a)))).map((x) => round(x.ms, 1));
  return { aloneMs: alone, atOnceMs: atOnce, ratio: round(Math.max(...atOnce) / (alone[0] + alone[1]), 3) };
}

/** pure user-space CPU: the same loop in one process, then in two at once (after a warm-up pair) */
async function busyLoops() {
  const code = 'const t = performance.now(); let x = 0; for (let i = 0; i < 2e8; i++) x = (x + i) | 0; console.log(JSON.stringify({ ms: performance.now() - t, x }));';
  await Promise.all([nodeChild(code, []), nodeChild(code, [])]);
  const one = round((await nodeChild(code, [])).ms, 0);
  const two = (await Promise.all([nodeChild(code, []), nodeChild(code, [])])).map((x) => round(x.ms, 0));
  return { oneMs: one, twoAtOnceMs: two, ratio: round(Math.max(...two) / one, 3) };
}

const opener = kernel.idlePagesOpener();
const reader = (workers) => (workers === 0
  ? new IdlePagesReader(kernel, { bufferBytes: 32 * 1024, flags: 0, variant })
  : new IdlePagesPool(opener, { workers, bufferBytes: 32 * 1024, flags: 0, variant }));

// A. walks alone
{
  const w = await startWorkload(['exiter', '1024', '0']);
  const target = { pid: w.pid, base: 0, size: 0 };
  // the exiter prints only its pid: its 1 GiB is the largest anonymous mapping
  const maps = kernel.maps(w.pid).filter((v) => v.path === '').sort((x, y) => (y.end - y.start) - (x.end - x.start));
  target.base = maps[0].start;
  target.size = maps[0].end - maps[0].start;
  const main = await loopDuringWalks(reader(0), target, 5);
  const pool1 = reader(1);
  const inWorker = await loopDuringWalks(pool1, target, 5);
  pool1.close();
  w.proc.kill('SIGKILL');
  console.log(`SCALE_RESULT ${JSON.stringify({ label: 'walks of 1 GiB: event-loop delay', main, inWorker })}`);
  verdict(inWorker.loopMaxMs < main.loopMaxMs && inWorker.loopP99Ms <= 5,
    `event-loop delay during walks of 1 GiB: p99 ${inWorker.loopP99Ms} ms, max ${inWorker.loopMaxMs} ms with the reads in a worker, against ${main.loopP99Ms} / ${main.loopMaxMs} ms on the main thread (a walk: ${inWorker.walkMs} / ${main.walkMs} ms)`);

  const ws = [await startWorkload(['exiter', '768', '0']), await startWorkload(['exiter', '768', '0'])];
  const targets = ws.map((x) => {
    const m = kernel.maps(x.pid).filter((v) => v.path === '').sort((p, q) => (q.end - q.start) - (p.end - p.start))[0];
    return { pid: x.pid, base: m.start, size: m.end - m.start };
  });
  const p1 = reader(1);
  const one = await twoWalks(p1, targets[0], targets[1], 5);
  p1.close();
  const p2 = reader(2);
  const two = await twoWalks(p2, targets[0], targets[1], 5);
  p2.close();
  const kernelOnly = await kernelWalksAlone(targets);
  for (const x of ws) x.proc.kill('SIGKILL');
  console.log(`SCALE_RESULT ${JSON.stringify({ label: 'control: the same walks from two processes, no pool', ...kernelOnly })}`);
  console.log(`SCALE_RESULT ${JSON.stringify({ label: 'control: a JavaScript busy loop', ...(await busyLoops()) })}`);
  const ratio = round(two / one, 3);
  console.log(`SCALE_RESULT ${JSON.stringify({ label: 'a walk of two 768 MiB targets', oneWorkerMs: one, twoWorkersMs: two, ratio })}`);
  verdict(ratio <= 0.6, `a walk of two 768 MiB targets: ${two} ms with two workers, ${one} ms with one (${ratio}×)`);
}

// B. the daemon: /metrics and CPU
{
  const bare = await bareWorkerFloor(9479, SECONDS);
  const floor = await runTierd({ label: 'no target (the scrape floor)', workers: 1, port: 9480, seconds: SECONDS, comm: '^nothing-matches$' });
  const w = await startWorkload(['exiter', '1024', '0']);
  const main = await runTierd({ label: '1 GiB, reads on the main thread', workers: 0, port: 9481, seconds: SECONDS });
  const pool = await runTierd({ label: '1 GiB, reads in a worker', workers: 1, port: 9482, seconds: SECONDS });
  const skim = await runTierd({ label: '1 GiB, reads in a worker, idle PMDs skimmed', workers: 1, port: 9485, seconds: SECONDS, skim: true });
  w.proc.kill('SIGKILL');
  verdict(skim.trackedGiB >= 0.99, `with the skim an idle target is still tracked (${skim.trackedGiB} GiB): its first counted walk reads every page`);
  verdict(skim.cpuPerGiBPeriod < pool.cpuPerGiBPeriod, `CPU per GiB·period watching an idle 1 GiB: ${skim.cpuPerGiBPeriod} s skimmed, ${pool.cpuPerGiBPeriod} s reading every PTE, ${main.cpuPerGiBPeriod} s on the main thread`);
  console.log(`SCALE_RESULT ${JSON.stringify({ label: '/metrics p99 / max, ms', bareWorker: bare, floor: floor.scrapeMs, main: main.scrapeMs, worker: pool.scrapeMs, skim: skim.scrapeMs })}`);
}

finish();
