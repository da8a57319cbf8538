import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BURST_MS, CpuBudget } from '../../src/daemon/cpu-budget.js';
import { SimKernel } from '../../src/kernel/sim/sim-kernel.js';
import { parseScenario } from '../../src/kernel/sim/scenario.js';
import { fractionOn, runSim } from '../helpers/sim-run.js';
import { Metrics } from '../../src/metrics/metrics.js';

function fakeClock(): { now: () => number; cpuMs: () => number; wall: number; cpu: number } {
  const c = { wall: 0, cpu: 0, now: () => c.wall, cpuMs: () => c.cpu };
  return c;
}

test('the moves stop once the credit is spent, and the pause after a period pays for the next one\'s walks and plan', () => {
  const c = fakeClock();
  const b = new CpuBudget(c, 0.25);
  // the credit starts full: a quarter of BURST_MS
  b.beginPeriod();
  c.wall += 1000;
  c.cpu += 7000;
  b.beginMoves();
  assert.equal(b.mayMove(), true, `${0.25 * BURST_MS + 250 - 7000} ms of credit left`);
  c.wall += 1000;
  c.cpu += 1000;
  assert.equal(b.mayMove(), false, 'spent: 7500 + 500 accrued - 8000 used');
  b.endMoves();
  // the period cost 7000 outside its moves; the credit is 0: 7000 ms at a quarter is 28 s
  assert.equal(b.pauseNeeded(), 28000);
  c.wall += 28000;
  b.beginPeriod();
  c.wall += 4000;
  c.cpu += 1000;
  b.beginMoves();
  b.endMoves();
  // 7000 + 1000 accrued - 1000 used covers a period of 1000 outside its moves
  assert.equal(b.pauseNeeded(), 0, 'a period within its share needs no pause');
});

test('a budget of 0 is no bound', () => {
  const c = fakeClock();
  const b = new CpuBudget(c, 0);
  b.beginPeriod();
  c.wall += 10;
  c.cpu += 10_000;
  assert.equal(b.mayMove(), true);
  assert.equal(b.pauseNeeded(), 0);
});

const scenario = `
seed: 5
duration: 60s
kernel: { scanPageCost: 1us }
nodes:
  - { id: 0, tier: dram, capacity: 512MiB }
  - { id: 1, tier: pmem, capacity: 4GiB }
processes:
  - name: big
    memory:
      - { size: 1GiB, pageSize: 4KiB, node: 1 }
    phases:
      - { at: 0s, pattern: hotset, hotFraction: 0.05, hotOffset: 0.3, hotRate: 50, coldRate: 0.001 }
`;

/** tierd's share of the time on the simulated host (charged CPU over time) over the run and over its last three cycles, and the walks of each period */
async function share(config: string): Promise<{ share: number; steady: number; periods: number; walks: number[]; gaps: number[]; pausedS: number }> {
  const k = new SimKernel(parseScenario(scenario));
  const metrics = new Metrics();
  const walks: number[] = [];
  const ends: { now: number; cpu: number }[] = [];
  const gaps: number[] = [];
  let period = 0;
  const open = k.openIdlePages.bind(k);
  k.openIdlePages = (pid: number, flags: number) => {
    walks[period] = (walks[period] ?? 0) + 1;
    return open(pid, flags);
  };
  const onPeriod = (r: { period: number; startedMs: number }): void => {
    period = r.period + 1;
    if (ends.length > 0) gaps.push(r.startedMs - ends[ends.length - 1]!.now);
    ends.push({ now: k.now(), cpu: k.cpuMs() });
  };
  const { summary } = await runSim(scenario, config, { kernel: k, onPeriod, metrics });
  const pausedS = (await metrics.budgetPause.get()).values[0]?.value ?? 0;
  // the last three cycles (pause and period): the first periods spend the initial burst
  const a = ends[ends.length - 4]!;
  const z = ends[ends.length - 1]!;
  return { share: k.cpuMs() / k.now(), steady: (z.cpu - a.cpu) / (z.now - a.now), periods: summary.periods, walks, gaps, pausedS };
}

test('scan.cpuBudget keeps the daemon\'s CPU within its share of the time; the walks after a budget pause are primed', async () => {
  const free = await share('scan: { walks: 5, interval: 500ms, settledPauseMax: 0s }\n');
  const bound = await share('scan: { walks: 5, interval: 500ms, settledPauseMax: 0s, cpuBudget: 0.1 }\n');
  process.stdout.write(`# cpu budget: share ${free.share.toFixed(3)} in ${free.periods} periods without, ${bound.share.toFixed(3)} (${bound.steady.toFixed(3)} over its last three cycles) in ${bound.periods} with 0.1\n`);
  assert.ok(free.share > 0.2, `the scenario must cost more than the budget: ${free.share}`);
  // from period to period, the share; over the run, the first periods' burst on top
  assert.ok(bound.steady <= 0.1 * 1.02, `share over the last three cycles ${bound.steady}`);
  assert.ok(bound.share < free.share / 2, `share ${bound.share}`);
  assert.ok(bound.periods < free.periods, 'fewer periods in the same time');
  // after a budget pause the first counted walk would see the whole pause: a priming walk first
  // (gaps[p - 1]: the pause before period p; the first periods spend the initial burst, no pause)
  const paused = bound.gaps.map((g, i) => ({ p: i + 1, g })).filter((x) => x.g > 1000 && x.p < bound.walks.length - 1);
  assert.ok(paused.length >= 3, `budget pauses: ${bound.gaps.join(' ')}`);
  for (const { p, g } of paused) assert.equal(bound.walks[p], 1 + 5, `period ${p}, after a ${g} ms pause: ${bound.walks[p]} walks`);
  for (let p = 1; p < free.walks.length - 1; p++) assert.equal(free.walks[p], 5, `period ${p} without a budget: ${free.walks[p]} walks`);
  // every budget pause is in the metric (the last one may be cut short by the end of the run)
  const gapsS = bound.gaps.reduce((a, g) => a + g, 0) / 1000;
  assert.ok(bound.pausedS >= gapsS - 1e-6, `tierd_cpu_budget_pause_seconds_total ${bound.pausedS} for gaps of ${gapsS} s`);
  assert.equal(free.pausedS, 0);
});

test('under a CPU budget the moves a period cannot pay for wait for the next plan, and the hot set is still placed', async () => {
  // the simulated host charges a placement query an eighth of a move: bound them, so that the
  // moves are what the budget must spread
  const costly = scenario.replace('kernel: { scanPageCost: 1us }', 'kernel: { scanPageCost: 0.02us, movePageCost4k: 300us }').replace('duration: 60s', 'duration: 120s');
  const k = new SimKernel(parseScenario(costly));
  const deferred: number[] = [];
  const { summary } = await runSim(costly, 'scan: { walks: 5, interval: 500ms, cpuBudget: 0.1 }\npolicy: { placementQueries: 8192 }\n', { kernel: k, onPeriod: (r) => deferred.push(r.failures.not_attempted ?? 0) });
  const hot = fractionOn(k, 0, (p, i) => p.rate[i]! >= 10);
  process.stdout.write(`# cpu budget, costly moves: not attempted per period ${deferred.join(' ')}; hot set in DRAM ${hot.toFixed(3)}; share ${(k.cpuMs() / k.now()).toFixed(3)}\n`);
  // the first period moves on the initial burst; the next ones can pay for a part of the rest each
  assert.ok(deferred.filter((d) => d > 0).length >= 2, 'moves waited for the next plans, more than once');
  assert.ok(hot >= 0.99, `hot set in DRAM ${hot}`);
  assert.ok(k.cpuMs() / k.now() <= 0.1 + (0.1 * BURST_MS) / k.now() + 0.02, `share ${k.cpuMs() / k.now()}`);
  assert.equal(summary.pingPongPages, 0);
});
