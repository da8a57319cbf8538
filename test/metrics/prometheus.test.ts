// A real Prometheus (Debian's package) scrapes `tierd run --sim`, and every expression of the
// Grafana dashboard is evaluated through its HTTP API: each must return data, of the type the
// panel draws. Skipped, with the reason, where the prometheus binary is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface QueryResult {
  status: string;
  data?: { resultType: string; result: unknown[] };
  error?: string;
}

async function query(base: string, expr: string): Promise<QueryResult> {
  const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await r.json()) as QueryResult;
}

/** every panel target of the dashboard, with Grafana's variables as "All" would expand them */
function dashboardExprs(): { panel: string; expr: string }[] {
  const dash = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/tierd.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  return dash.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$instance', '.*') })));
}

const promBin = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).stdout.trim();

test('a real Prometheus scrapes tierd and every dashboard query returns data', { skip: promBin === '' ? 'prometheus is not installed (apt-get install prometheus)' : false, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tierd-prom-'));
  const [tierdPort, promPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'prometheus.yml'), `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: tierd\n    static_configs: [{ targets: ['127.0.0.1:${tierdPort}'] }]\n`);
  const children: ChildProcess[] = [];
  try {
    children.push(spawn(process.execPath, [CLI, 'run', '--sim', join(ROOT, 'config/demo-scenario.yaml'), '--config', join(ROOT, 'config/demo.yaml'), '--journal', join(mkdtempSync(join(tmpdir(), 'tierd-prom-')), 'demo.journal'), '--pace', '8', '--metrics-listen', `127.0.0.1:${tierdPort}`], { stdio: 'ignore' }));
    children.push(spawn(promBin, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' }));
    const base = `http://127.0.0.1:${promPort}`;
    // ready once two scrapes of tierd succeeded and something moved (the rate panels need it)
    let scrapes = 0;
    for (let i = 0; i < 90 && scrapes < 2; i++) {
      await sleep(1000);
      const r = await query(base, 'sum_over_time(up{job="tierd"}[1m])').catch(() => null);
      const v = r?.data?.result[0] as { value: [number, string] } | undefined;
      scrapes = v ? Number(v.value[1]) : 0;
    }
    assert.ok(scrapes >= 2, `Prometheus scraped tierd ${scrapes} times`);
    // the rate() and histogram panels need samples a few scrapes apart with moves between them
    await sleep(8000);
    const exprs = dashboardExprs();
    const failed: string[] = [];
    for (const { panel, expr } of exprs) {
      const r = await query(base, expr);
      if (r.status !== 'success') failed.push(`${panel}: ${expr}: ${r.error}`);
      else if (r.data?.resultType !== 'vector') failed.push(`${panel}: ${expr}: a ${r.data?.resultType}, not a vector`);
      else if (r.data.result.length === 0) failed.push(`${panel}: ${expr}: no data`);
    }
    process.stdout.write(`# prometheus: ${exprs.length} dashboard queries evaluated after ${scrapes} scrapes, ${exprs.length - failed.length} returned data\n`);
    assert.deepEqual(failed, []);
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
});
