// Issue "Hardening": no state grows without bound. A simulated day of a long-lived process whose
// hot set moves every 10 minutes, beside 240 short-lived ones (each lives 4 minutes, one starts
// every 6): what the daemon holds follows the live targets, not the uptime. The walks are 10 s
// apart (one period a minute or so) so that the day takes the time four hours took at the
// default interval; npm run bench runs the same day at the default interval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSim } from '../helpers/sim-run.js';
import { churnScenario, CHURN_CONFIG } from '../../bench/churn.js';

const HOURS = 24;

test('a simulated day of processes coming and going: targets, heat and move history stay bounded', { timeout: 600_000 }, async () => {
  const samples: { t: number; targets: number; heatBytes: number; historyEntries: number }[] = [];
  const { summary } = await runSim(churnScenario(HOURS), `${CHURN_CONFIG}scan: { interval: 10s }\n`, {
    onPeriod: (_r, k, d) => samples.push({ t: k.now() / 3_600_000, ...d.stateSizes() }),
  });
  const firstHour = samples.filter((s) => s.t < 1);
  const lastHour = samples.filter((s) => s.t >= HOURS - 1);
  const max = (xs: typeof samples, f: (s: (typeof samples)[0]) => number): number => Math.max(...xs.map(f));
  process.stdout.write(
    `# bounded state over ${HOURS} h (${samples.length} periods, ${summary.movedPages} pages moved): targets ≤ ${max(samples, (s) => s.targets)}; heat bytes max first hour ${max(firstHour, (s) => s.heatBytes)}, last hour ${max(lastHour, (s) => s.heatBytes)}; history entries max first hour ${max(firstHour, (s) => s.historyEntries)}, last hour ${max(lastHour, (s) => s.historyEntries)}\n`,
  );
  // at most the long-lived process and one or two batch processes at a time
  assert.ok(max(samples, (s) => s.targets) <= 3, 'dead targets are dropped');
  // one byte per 4 KiB page of live targets: 256 MiB + 2 × 32 MiB = 80k pages (plus slack)
  assert.ok(max(samples, (s) => s.heatBytes) <= 1.25 * ((256 + 64) * 2 ** 20) / 4096, 'heat follows the live pages');
  assert.ok(max(lastHour, (s) => s.heatBytes) <= 1.1 * max(firstHour, (s) => s.heatBytes), 'heat does not grow with uptime');
  assert.ok(max(lastHour, (s) => s.historyEntries) <= 1.5 * max(firstHour, (s) => s.historyEntries) + 1000, 'the move history does not grow with uptime');
});
