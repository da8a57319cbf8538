// Runs inside the VM on our kernel: what the read workers buy (issue "Scale to terabyte hosts").
// THP off, so every page is a PTE. tierd runs in dry-run (walks and plans, moves nothing) with
// skim off (every walk reads every PTE: the worst case), a 200 ms interval and no settled pause.
//  1. one 1 GiB target: /metrics scraped every 20 ms for SECONDS, with the reads on the main
//     thread (scan.workers: 0) and in one worker; the scrape latency (p50, p99, max), tierd's
//     event-loop delay (perf_hooks.monitorEventLoopDelay via nodejs_eventloop_lag_*), its walk
//     time, and its CPU (user + system) per GiB per period; then in a worker with the skim on;
//  2. two 512 MiB targets: the mean time of a walk of both with one worker and with two.
// Prints one SCALE_RESULT line per run and VERDICT lines; exits non-zero on a failure.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { startWorkload, verdicts } from './common.mjs';

const CLI = 'dist/src/cli/main.js';
const SECONDS = Number(process.env.TIERD_SCALE_SECONDS ?? 40);
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

async function runTierd({ label, workers, port, seconds, skim = false }) {
  writeFileSync('/tmp/scale.yaml', `targets: { comm: "^workload$", minRss: 0 }
scan: { tracker: idle_pages, workers: ${workers}, skimIdle: ${skim}, interval: 200ms, settledPauseMax: 0s }
metrics: { listen: "127.0.0.1:${port}" }
log: { level: warn, format: json }
`);
  const tierd = spawn(process.execPath, [CLI, 'run', '--dry-run', '--config', '/tmp/scale.yaml'], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    // ready once it has walked: the first scrape with a walk in it
    let first = null;
    for (let i = 0; i < 600 && !(first && sample(first.body, 'tierd_walks_total') >= 1); i++) {
      await sleep(100);
      first = await scrape(port).catch(() => null);
    }
    if (!first) throw new Error(`${label}: tierd never answered /metrics`);
    const lat = [];
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      lat.push((await scrape(port)).ms);
      await sleep(20);
    }
    const { body } = await scrape(port);
    const delta = (name) => sample(body, name) - sample(first.body, name);
    const periods = delta('tierd_periods_total');
    const gib = sample(body, 'tierd_tracked_bytes{tier="0"}') + sample(body, 'tierd_tracked_bytes{tier="1"}');
    const r = {
      label, workers, scrapes: lat.length,
      scrapeMs: { p50: round(pct(lat, 0.5)), p99: round(pct(lat, 0.99)), max: round(Math.max(...lat)) },
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

// 1. one 1 GiB target, reads on the main thread and in a worker
{
  // an idle 1 GiB process (touched once, then waiting on stdin): the CPU is tierd's and the scraper's
  const w = await startWorkload(['exiter', '1024', '0']);
  const main = await runTierd({ label: '1 GiB, reads on the main thread', workers: 0, port: 9481, seconds: SECONDS });
  const pool = await runTierd({ label: '1 GiB, reads in a worker', workers: 1, port: 9482, seconds: SECONDS });
  // the same idle target with the skim on: what watching idle memory costs
  const skim = await runTierd({ label: '1 GiB, reads in a worker, idle PMDs skimmed', workers: 1, port: 9485, seconds: SECONDS, skim: true });
  w.proc.kill('SIGKILL');
  verdict(skim.cpuPerGiBPeriod < pool.cpuPerGiBPeriod, `CPU per GiB·period watching an idle 1 GiB: ${skim.cpuPerGiBPeriod} s skimmed, ${pool.cpuPerGiBPeriod} s reading every PTE`);
  verdict(pool.scrapeMs.p99 < main.scrapeMs.p99 && pool.scrapeMs.max < main.scrapeMs.max,
    `/metrics during walks of 1 GiB: p99 ${pool.scrapeMs.p99} ms, max ${pool.scrapeMs.max} ms with a read worker, against ${main.scrapeMs.p99} / ${main.scrapeMs.max} ms on the main thread (walk ${pool.walkMs} / ${main.walkMs} ms)`);
  verdict(pool.scrapeMs.p99 <= 5, `/metrics p99 ≤ 5 ms while a read worker walks 1 GiB (${pool.scrapeMs.p99} ms)`);
}

// 2. two 512 MiB targets, one worker and two
{
  const a = await startWorkload(['exiter', '512', '0']);
  const b = await startWorkload(['exiter', '512', '0']);
  const one = await runTierd({ label: '2 × 512 MiB, one worker', workers: 1, port: 9483, seconds: SECONDS });
  const two = await runTierd({ label: '2 × 512 MiB, two workers', workers: 2, port: 9484, seconds: SECONDS });
  a.proc.kill('SIGKILL');
  b.proc.kill('SIGKILL');
  const ratio = two.walkMs / one.walkMs;
  console.log(`SCALE_RESULT ${JSON.stringify({ label: 'two workers / one', walkRatio: round(ratio, 3) })}`);
  verdict(ratio <= 0.6, `a walk of two targets takes ${two.walkMs} ms with two workers against ${one.walkMs} ms with one (${round(ratio, 2)}×)`);
}

finish();
