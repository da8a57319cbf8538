import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBudget } from '../../src/daemon/cpu-budget.js';
import { SimKernel } from '../../src/kernel/sim/sim-kernel.js';
import { parseScenario } from '../../src/kernel/sim/scenario.js';
import { runSim } from '../helpers/sim-run.js';

function fakeClock(): { now: () => number; cpuMs: () => number; wall: number; cpu: number } {
  const c = { wall: 0, cpu: 0, now: () => c.wall, cpuMs: () => c.cpu };
  return c;
}

test('a period that used more than its share of the CPU is followed by the pause that brings the cycle down to the share', () => {
  const c = fakeClock();
  const b = new CpuBudget(c, 0.25);
  b.begin();
  c.wall += 200;
  c.cpu += 100;
  // 100 ms of CPU is a quarter of 400 ms: the period took 200, so 200 more
  assert.equal(b.pauseNeeded(), 200);
  b.begin();
  c.wall += 1000;
  c.cpu += 100;
  assert.equal(b.pauseNeeded(), 0, 'a period within its share needs no pause');
  b.setShare(0);
  b.begin();
  c.wall += 10;
  c.cpu += 10;
  assert.equal(b.pauseNeeded(), 0, 'a budget of 0 is no bound');
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

/** tierd's share of the time on the simulated host (its charged CPU over the run), periods, and the walks of each period */
async function share(config: string): Promise<{ share: number; periods: number; walks: number[] }> {
  const k = new SimKernel(parseScenario(scenario));
  const walks: number[] = [];
  let period = 0;
  const open = k.openIdlePages.bind(k);
  k.openIdlePages = (pid: number, flags: number) => {
    walks[period] = (walks[period] ?? 0) + 1;
    return open(pid, flags);
  };
  const { summary } = await runSim(scenario, config, { kernel: k, onPeriod: (r) => { period = r.period + 1; } });
  return { share: k.cpuMs() / k.now(), periods: summary.periods, walks };
}

test('scan.cpuBudget keeps the daemon\'s CPU within its share of the time; the walks after a budget pause are primed', async () => {
  const free = await share('scan: { walks: 5, interval: 500ms, settledPauseMax: 0s }\n');
  const bound = await share('scan: { walks: 5, interval: 500ms, settledPauseMax: 0s, cpuBudget: 0.1 }\n');
  process.stdout.write(`# cpu budget: share ${free.share.toFixed(3)} in ${free.periods} periods without, ${bound.share.toFixed(3)} in ${bound.periods} with 0.1\n`);
  assert.ok(free.share > 0.2, `the scenario must cost more than the budget: ${free.share}`);
  // the run may end inside a period, before its pause: one cycle's worth of slack
  assert.ok(bound.share <= 0.1 * 1.15, `share ${bound.share}`);
  assert.ok(bound.periods < free.periods, 'fewer periods in the same time');
  // after a budget pause the first counted walk would see the whole pause: a priming walk first
  for (let p = 1; p < bound.walks.length - 1; p++) assert.equal(bound.walks[p], 1 + 5, `period ${p}: ${bound.walks[p]} walks`);
  for (let p = 1; p < free.walks.length - 1; p++) assert.equal(free.walks[p], 5, `period ${p} without a budget: ${free.walks[p]} walks`);
});
