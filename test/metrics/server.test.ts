import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics } from '../../src/metrics/metrics.js';
import { serveMetrics } from '../../src/metrics/server.js';
import { Liveness, LIVENESS_FLOOR_MS } from '../../src/metrics/liveness.js';
import { TierdError } from '../../src/util/errors.js';
import { silentLogger } from '../../src/util/log.js';

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

const sample = (body: string, name: string): number => Number(body.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1]);

async function until(what: string, f: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Metrics whose registry counts its renders. */
function countingRenders(): { metrics: Metrics; renders: { n: number } } {
  const metrics = new Metrics();
  const renders = { n: 0 };
  const render = metrics.registry.metrics.bind(metrics.registry);
  metrics.registry.metrics = async () => {
    renders.n++;
    return render();
  };
  return { metrics, renders };
}

test('a scrape is answered while the main thread is busy: the worker serves the last exposition', async () => {
  const metrics = new Metrics();
  metrics.periods.inc(7);
  const server = await serveMetrics(metrics, '127.0.0.1:0', silentLogger);
  try {
    await until('the first exposition', async () => sample((await get(`http://127.0.0.1:${server.port}/metrics`)).body, 'tierd_periods_total') === 7);
    // another process scrapes and writes the body to a file; this thread does not yield until
    // the file is there, so the answer cannot have come from this thread's event loop. The body
    // is renamed into place: the busy loop once saw the file created and still empty (NaN)
    const out = join(mkdtempSync(join(tmpdir(), 'tierd-scrape-')), 'body');
    const write = `(b) => { const fs = require('fs'); fs.writeFileSync(${JSON.stringify(`${out}.part`)}, b); fs.renameSync(${JSON.stringify(`${out}.part`)}, ${JSON.stringify(out)}); }`;
    const client = spawn(process.execPath, ['-e', `fetch('http://127.0.0.1:${server.port}/metrics').then((r) => r.text()).then(${write})`], { stdio: 'ignore' });
    const end = Date.now() + 20_000;
    while (!existsSync(out) && Date.now() < end) {
      /* busy: the main thread folding a long walk */
    }
    assert.ok(existsSync(out), 'the scrape was answered while the main thread never yielded');
    assert.equal(sample(readFileSync(out, 'utf8'), 'tierd_periods_total'), 7);
    client.kill();
  } finally {
    await server.close();
  }
});

test('a scrape brings an exposition rendered after it came; nothing renders while no one scrapes, not even at a period end; /healthz says ok, then stopping', async () => {
  const { metrics, renders } = countingRenders();
  const server = await serveMetrics(metrics, '127.0.0.1:0', silentLogger, { freshMs: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    assert.equal(sample((await get(`${base}/metrics`)).body, 'tierd_periods_total'), 0);
    assert.deepEqual(await get(`${base}/healthz`), { status: 200, body: 'ok\n' });
    const before = renders.n;
    for (let i = 0; i < 5; i++) {
      metrics.periods.inc();
      server.periodDone();
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(renders.n, before, 'five periods and no scrape: no render');
    assert.equal(sample((await get(`${base}/metrics`)).body, 'tierd_periods_total'), 5, 'the scrape sees the last period');
    assert.equal(renders.n, before + 1);
    server.stopping();
    await until('/healthz says stopping', async () => (await get(`${base}/healthz`)).body === 'stopping\n');
    assert.equal((await get(`${base}/healthz`)).status, 503);
    assert.equal((await get(`${base}/other`)).status, 404);
  } finally {
    await server.close();
  }
});

test('scrapes close together share one render', async () => {
  const { metrics, renders } = countingRenders();
  const server = await serveMetrics(metrics, '127.0.0.1:0', silentLogger, { freshMs: 60_000 });
  try {
    await until('the first exposition', async () => renders.n === 1);
    const bodies = await Promise.all(Array.from({ length: 4 }, () => get(`http://127.0.0.1:${server.port}/metrics`)));
    assert.ok(bodies.every((b) => b.status === 200 && b.body.includes('tierd_periods_total')));
    assert.equal(renders.n, 1, 'an exposition younger than freshMs answers them all');
  } finally {
    await server.close();
  }
});

test('a taken port is one CONFIG error that names the address and the fix', async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as { port: number }).port;
  try {
    await assert.rejects(serveMetrics(new Metrics(), `127.0.0.1:${port}`, silentLogger), (e: unknown) => e instanceof TierdError && e.code === 'CONFIG' && e.message === `cannot listen on 127.0.0.1:${port}: EADDRINUSE` && /--metrics-listen/.test(e.hint));
  } finally {
    taken.close();
  }
});

test('liveness: late beyond the floor or three periods is unhealthy; stopping says so', () => {
  const l = new Liveness(0);
  assert.equal(l.problem(LIVENESS_FLOOR_MS), null);
  assert.equal(l.problem(LIVENESS_FLOOR_MS + 1000), 'no period completed for 121 s (limit 120 s)');
  l.periodDone(100_000);
  // a 100 s period: the limit is 300 s
  assert.equal(l.problem(100_000 + 250_000), null);
  assert.match(l.problem(100_000 + 301_000)!, /for 301 s \(limit 300 s\)/);
  l.stop();
  assert.equal(l.problem(100_001), 'stopping');
});
