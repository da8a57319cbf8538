import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** The port tierd's metrics server took (--metrics-listen 127.0.0.1:0), from its JSON log. */
function listenPort(stderr: string): number | null {
  const m = /"port":(\d+)[^\n]*"msg":"metrics on \/metrics and \/healthz"/.exec(stderr);
  return m ? Number(m[1]) : null;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

function metric(body: string, name: string): number {
  let sum = 0;
  for (const line of body.split('\n')) if (line.startsWith(name) && !line.startsWith('#')) sum += Number(line.split(' ').pop());
  return sum;
}

async function until<T>(what: string, f: () => Promise<T | null>, ms = 30000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('tierd run --sim: /metrics moves with migrations, /healthz, SIGHUP good and bad, SIGTERM exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tierd-run-'));
  const scenario = join(dir, 'sc.yaml');
  const config = join(dir, 'tierd.yaml');
  writeFileSync(scenario, `
seed: 5
duration: 1h
nodes: [ { id: 0, tier: dram, capacity: 128MiB }, { id: 1, tier: pmem, capacity: 1GiB } ]
processes:
  - name: app
    memory: [ { size: 256MiB, node: 1 } ]
    phases:
      - { at: 0s, pattern: hotset, hotFraction: 0.1, hotRate: 50, coldRate: 0.001 }
      - { at: 20s, pattern: hotset, hotFraction: 0.1, hotOffset: 0.5, hotRate: 50, coldRate: 0.001 }
`);
  writeFileSync(config, 'scan: { walks: 3, interval: 200ms }\nmigrate: { promoteRate: 8MiB/s }\nlog: { level: info }\n');
  // port 0: the kernel picks a free port and tierd logs it (no race with another test for a port)
  const child = spawn(process.execPath, [CLI, 'run', '--sim', scenario, '--config', config, '--metrics-listen', '127.0.0.1:0', '--pace', '10', '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  try {
    const port = await until('the metrics port', async () => listenPort(stderr));
    const base = `http://127.0.0.1:${port}`;
    const first = await until('metrics', async () => {
      try {
        const r = await get(`${base}/metrics`);
        return metric(r.body, 'tierd_migrated_bytes_total') > 0 && metric(r.body, 'tierd_periods_total') >= 1 ? r.body : null;
      } catch {
        return null;
      }
    });
    for (const name of ['tierd_walk_duration_seconds_bucket', 'tierd_walks_total', 'tierd_scanned_bytes_total', 'tierd_skimmed_bytes_total', 'tierd_period_duration_seconds_count', 'tierd_scan_interval_seconds', 'tierd_hot_bytes{tier=', 'tierd_cold_bytes{tier=', 'tierd_tracked_bytes{tier=', 'tierd_migrated_pages_total{direction="promote",from_node="1",to_node="0"}', 'tierd_migration_failures_total{reason=', 'tierd_move_pages_call_duration_seconds_bucket', 'tierd_rate_limited_seconds_total{direction="promote"}', 'tierd_cpu_budget_pause_seconds_total', 'tierd_ping_pong_pages_total', 'tierd_node_free_bytes{node="0",tier="0"}', 'tierd_targets 1', 'tierd_fill_threshold ', 'tierd_config_reloads_total{result="success"}', 'tierd_build_info{version=', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
      assert.ok(first.includes(name), `missing ${name}`);
    }
    const moved1 = metric(first, 'tierd_migrated_bytes_total');
    const moved2 = await until('more migration', async () => {
      const m = metric((await get(`${base}/metrics`)).body, 'tierd_migrated_bytes_total');
      return m > moved1 ? m : null;
    });
    assert.ok(moved2 > moved1, 'the counter moves as migrations happen');
    const limited = metric((await get(`${base}/metrics`)).body, 'tierd_rate_limited_seconds_total');
    assert.ok(limited > 0, 'an 8 MiB/s limit makes migration wait');
    assert.equal((await get(`${base}/healthz`)).status, 200);
    // a scrape answers while migration runs (how fast is the benchmarks' business, not a test's)
    assert.equal((await get(`${base}/metrics`)).status, 200);
    // SIGHUP with a valid file, then with an invalid one
    writeFileSync(config, 'scan: { walks: 4, interval: 200ms }\nmigrate: { promoteRate: 8MiB/s }\n');
    child.kill('SIGHUP');
    await until('reload success', async () => (metric((await get(`${base}/metrics`)).body, 'tierd_config_reloads_total{result="success"}') === 1 ? true : null));
    writeFileSync(config, 'scan: { walks: 99 }\n');
    child.kill('SIGHUP');
    await until('reload failure', async () => (metric((await get(`${base}/metrics`)).body, 'tierd_config_reloads_total{result="failure"}') === 1 ? true : null));
    assert.match(stderr, /config reload failed; the running config stays/);
    assert.match(stderr, /scan\.walks: Too big/);
    const periodsBefore = metric((await get(`${base}/metrics`)).body, 'tierd_periods_total');
    await until('periods go on', async () => (metric((await get(`${base}/metrics`)).body, 'tierd_periods_total') > periodsBefore ? true : null));
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.match(stderr, /"msg":"stopped"/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('the demo (npm start) runs: the daemon on the built-in simulated PMEM host', async () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const child = spawn(process.execPath, [CLI, 'run', '--sim', 'config/demo-scenario.yaml', '--config', 'config/demo.yaml', '--journal', join(mkdtempSync(join(tmpdir(), 'tierd-run-')), 'demo.journal'), '--periods', '2', '--metrics-listen', '127.0.0.1:0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  assert.match(out, /period +0 .*DRAM hit .*promoted [3-9]\d\dMiB/);
  assert.match(out, /period +1 /);
});

test('SIGTERM during a long interval sleep: the daemon exits 0 at once instead of waiting the interval out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tierd-stop-'));
  const config = join(dir, 'tierd.yaml');
  // a 30 s interval in real time (pace 1): before the fix the stop waited for it to end
  writeFileSync(config, 'scan: { walks: 3, interval: 30s }\nlog: { level: info }\n');
  const child = spawn(process.execPath, [CLI, 'run', '--sim', 'config/demo-scenario.yaml', '--config', config, '--metrics-listen', '127.0.0.1:0', '--pace', '1', '--log-format', 'json'], { cwd: fileURLToPath(new URL('../../../', import.meta.url)), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await until('the first walk', async () => (/"msg":"new target"/.test(stderr) ? true : null));
    await new Promise((r) => setTimeout(r, 300)); // inside the first 30 s sleep
    const t0 = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    const ms = Date.now() - t0;
    process.stdout.write(`# stop during a 30 s interval took ${ms} ms\n`);
    assert.equal(code, 0);
    assert.ok(ms < 10_000, `stopped in ${ms} ms, not after the 30 s interval`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
