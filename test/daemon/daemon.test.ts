import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSim, fractionOn } from '../helpers/sim-run.js';
import { MoveLog } from '../../src/mover/dry-run.js';
import { SimKernel } from '../../src/kernel/sim/sim-kernel.js';
import { parseScenario } from '../../src/kernel/sim/scenario.js';
import { IdlePagesReader } from '../../src/trackers/idle-pages/reader.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { WalkItem, WalkResult } from '../../src/trackers/tracker.js';

const hotset = (o: { dram?: string; size?: string; hot?: number; duration?: string; phases?: string; seed?: number } = {}): string => `
seed: ${o.seed ?? 11}
duration: ${o.duration ?? '40s'}
nodes:
  - { id: 0, tier: dram, capacity: ${o.dram ?? '256MiB'} }
  - { id: 1, tier: pmem, capacity: 2GiB }
processes:
  - name: kvstore
    memory:
      - { size: ${o.size ?? '512MiB'}, pageSize: 4KiB, node: 1 }
    phases:
${o.phases ?? `      - { at: 0s, pattern: hotset, hotFraction: ${o.hot ?? 0.1}, hotOffset: 0.3, hotRate: 50, coldRate: 0.001 }`}
`;
const isHot = (p: { rate: Float32Array }, i: number): boolean => p.rate[i]! >= 10;
const FAST = 'scan: { walks: 5, interval: 500ms }\n';

test('static hot set on PMEM: ≥ 99% in DRAM within 3 periods, efficiency ≥ 0.97, nothing cold promoted', async () => {
  const seen: number[] = [];
  const { summary, kernel } = await runSim(hotset(), FAST, { onPeriod: (_r, k) => seen.push(fractionOn(k, 0, isHot)) });
  process.stdout.write(`# static hot set: hot fraction in DRAM per period ${seen.slice(0, 4).map((x) => x.toFixed(4)).join(' ')}; efficiency ${summary.efficiency.toFixed(4)}; ping-pong ${summary.pingPongPages}\n`);
  assert.ok(seen[2]! >= 0.99, `after 3 periods: ${seen[2]}`);
  assert.ok(summary.efficiency >= 0.97, `efficiency ${summary.efficiency}`);
  assert.ok(fractionOn(kernel, 0, (p, i) => !isHot(p, i)) < 0.001, 'cold pages stay on PMEM');
});

test('a hot set that moves mid-run re-converges within 5 periods; old hot pages are demoted until the free reserve is back', async () => {
  const phases = `      - { at: 0s, pattern: hotset, hotFraction: 0.2, hotOffset: 0.1, hotRate: 50, coldRate: 0.001 }
      - { at: 30s, pattern: hotset, hotFraction: 0.2, hotOffset: 0.6, hotRate: 50, coldRate: 0.001 }`;
  const byPeriod: { t: number; hot: number }[] = [];
  let shiftPeriod = -1;
  const { summary, kernel } = await runSim(hotset({ dram: '160MiB', duration: '80s', phases }), FAST, {
    onPeriod: (r, k) => {
      byPeriod.push({ t: k.now() / 1000, hot: fractionOn(k, 0, isHot) });
      if (shiftPeriod < 0 && k.now() >= 30000) shiftPeriod = r.period;
    },
  });
  const after = byPeriod.slice(shiftPeriod, shiftPeriod + 6).map((x) => x.hot);
  const conv = after.findIndex((x) => x >= 0.99);
  process.stdout.write(`# moving hot set: converged ${conv} periods after the shift (${after.map((x) => x.toFixed(3)).join(' ')}); efficiency ${summary.efficiency.toFixed(4)}\n`);
  assert.ok(conv >= 0 && conv <= 5, `hot fraction after the shift: ${after.join(', ')}`);
  const p = kernel.allProcesses()[0]!;
  const oldHot = (_p: unknown, i: number): boolean => i >= 0.1 * p.pages && i < 0.3 * p.pages && !isHot(p, i);
  const cap = 160 * 2 ** 20;
  process.stdout.write(`# moving hot set: old hot set on PMEM ${fractionOn(kernel, 1, oldHot).toFixed(3)}, DRAM free ${((cap - kernel.nodeUsed(0)) / cap).toFixed(3)}\n`);
  // the new hot set (102 MiB) pushed the old one out, and cold pages keep leaving until 10% of DRAM is free
  assert.ok(fractionOn(kernel, 1, oldHot) > 0.5, 'most of the old hot set went back to PMEM once cold was confirmed');
  assert.ok(cap - kernel.nodeUsed(0) >= 0.1 * cap - 2 ** 20, `the free reserve is restored: ${cap - kernel.nodeUsed(0)}`);
});

test('a hot set larger than DRAM: DRAM fills to capacity minus headroom, no ENOMEM, ping-pong < 1%', async () => {
  const { summary, kernel } = await runSim(hotset({ dram: '64MiB', hot: 0.3 }), FAST);
  const used = kernel.nodeUsed(0);
  const cap = 64 * 2 ** 20;
  process.stdout.write(`# hot set > DRAM: DRAM ${(used / cap).toFixed(4)} full; moved ${summary.movedPages} pages, ping-pong ${summary.pingPongPages}\n`);
  assert.ok(used <= cap * 0.995 + 4096, 'headroom kept');
  assert.ok(used >= cap * 0.97, `DRAM filled: ${used / cap}`);
  assert.equal(summary.failedPages, 0);
  assert.ok(summary.pingPongPages <= 0.01 * summary.movedPages, `ping-pong ${summary.pingPongPages} of ${summary.movedPages}`);
});

test('rate limits hold over every 1 s window of virtual time', async () => {
  const cfg = `${FAST}migrate: { promoteRate: 16MiB/s, demoteRate: 8MiB/s }\n`;
  const phases = `      - { at: 0s, pattern: hotset, hotFraction: 0.2, hotOffset: 0.1, hotRate: 50, coldRate: 0.001 }
      - { at: 20s, pattern: hotset, hotFraction: 0.2, hotOffset: 0.6, hotRate: 50, coldRate: 0.001 }`;
  const { summary } = await runSim(hotset({ dram: '128MiB', phases, duration: '60s' }), cfg);
  process.stdout.write(`# rate limits: max promote ${(summary.maxPromoteBytesPerSec / 2 ** 20).toFixed(2)} MiB/s (limit 16), max demote ${(summary.maxDemoteBytesPerSec / 2 ** 20).toFixed(2)} MiB/s (limit 8)\n`);
  assert.ok(summary.maxPromoteBytesPerSec > 0 && summary.maxPromoteBytesPerSec <= 16 * 2 ** 20);
  assert.ok(summary.maxDemoteBytesPerSec > 0 && summary.maxDemoteBytesPerSec <= 8 * 2 ** 20);
});

test('zipf workload: efficiency ≥ 0.9 by the end', async () => {
  const phases = `      - { at: 0s, pattern: zipf, theta: 0.99, totalRate: 2e6 }`;
  const { summary } = await runSim(hotset({ dram: '96MiB', phases, duration: '90s' }), 'scan: { walks: 5 }\n');
  process.stdout.write(`# zipf: efficiency ${summary.efficiency.toFixed(4)} (hit ${summary.dramHitRatio.toFixed(4)}, oracle ${summary.oracleHitRatio.toFixed(4)}), ping-pong ${summary.pingPongPages}/${summary.movedPages}\n`);
  assert.ok(summary.efficiency >= 0.9, `efficiency ${summary.efficiency}`);
});

test('pid reuse between walk and move: the new process is never touched', async () => {
  let reused = -1;
  const { kernel, reports } = await runSim(hotset(), FAST, {
    maxPeriods: 1,
    beforeMove: (k) => {
      const p = k.allProcesses()[0]!;
      reused = k.respawn(p.pid).pid;
    },
  });
  const p = kernel.simProcess(reused)!;
  assert.equal(fractionOn(kernel, 0, (q) => q === p), 0, 'nothing of the new process moved');
  assert.ok((reports[0]!.failures.pid_reused ?? 0) > 0);
});

test('a process exiting mid-period is dropped quietly', async () => {
  const sc = hotset().replace('    phases:', '    exitAt: 1200ms\n    phases:');
  const { reports } = await runSim(sc, FAST, { maxPeriods: 2 });
  assert.equal(reports.length, 2);
  assert.equal(reports[1]!.targets, 0);
  assert.equal(reports[0]!.promotedBytes, 0);
});

test('ENOMEM: promotions to a node that filled up stop for the period, nothing fails hard', async () => {
  const { reports, kernel } = await runSim(hotset(), FAST, {
    maxPeriods: 2,
    beforeMove: (k, plan) => {
      if (plan.period === 0) k.spawn({ name: 'hog', memory: [{ size: 240 * 2 ** 20, pageSize: 4096, node: 0, shared: 0 }], phases: [{ at: 0, pattern: 'idle' }], startAt: 0 });
    },
  });
  assert.ok(kernel.nodeUsed(0) <= 256 * 2 ** 20);
  assert.ok((reports[0]!.failures.no_room ?? 0) > 0 || reports[0]!.promotedBytes < reports[0]!.plannedPromoteBytes);
});

test('a node going offline: moves to it stop, the topology is re-read, work resumes when it returns', async () => {
  const k = new SimKernel(parseScenario(hotset()));
  const { reports } = await runSim(hotset(), FAST, {
    kernel: k,
    maxPeriods: 4,
    beforeMove: (kk, plan) => {
      if (plan.period === 0) kk.setNodeOnline(0, false);
      if (plan.period === 2) kk.setNodeOnline(0, true);
    },
  });
  assert.equal(reports[0]!.promotedBytes, 0);
  assert.equal(reports[1]!.plannedPromoteBytes, 0, 'one tier left: nothing to promote into');
  assert.ok(reports[2]!.promotedBytes + reports[3]!.promotedBytes > 0, 'resumed');
});

test('SIGTERM during a batch: the call finishes, is recorded, and the daemon stops', async () => {
  const k = new SimKernel(parseScenario(hotset()));
  let stopped = false;
  let sigterm = (): void => {};
  const stop = new Promise<void>((resolve) => (sigterm = resolve));
  k.onMove = () => {
    if (!stopped) {
      stopped = true;
      sigterm(); // delivered while the move_pages call is in progress
    }
  };
  const { reports } = await runSim(hotset(), FAST, { kernel: k, stop });
  assert.ok(stopped, 'a move call happened');
  const last = reports[reports.length - 1]!;
  assert.ok(last.promotedBytes > 0 && last.promotedBytes <= 4 * 2 ** 20, `one batch recorded: ${last.promotedBytes}`);
});

test('dry-run moves nothing and prints exactly the plan a real run then executes', async () => {
  const dry = new MoveLog();
  const a = await runSim(hotset(), FAST, { maxPeriods: 1, dryRun: true, moveLog: dry });
  const before = a.kernel.allProcesses()[0]!.node.slice();
  assert.equal(fractionOn(a.kernel, 0, () => true), 0, 'placement unchanged');
  const real = new MoveLog();
  await runSim(hotset(), FAST, { maxPeriods: 1, moveLog: real });
  assert.ok(dry.lines.length > 0);
  assert.deepEqual(real.json(), dry.json());
  assert.deepEqual(a.kernel.allProcesses()[0]!.node, before);
  const line = JSON.parse(dry.json()[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(line), ['pid', 'comm', 'start', 'pages', 'bytes', 'pageSize', 'from', 'to', 'direction', 'reason', 'count', 'walks']);
  assert.match(dry.table(), /^PID\s+COMM\s+RANGE\s+SIZE\s+FROM→TO\s+REASON/);
});

test('the first period plans after half its walks: a fresh hot set is promoted without waiting a whole period', async () => {
  const { reports, kernel } = await runSim(hotset(), FAST, { maxPeriods: 1 });
  const r = reports[0]!;
  // N = 5 walks at 500 ms: a whole first period would be a priming walk and 5 intervals (2.5 s)
  assert.ok(r.durationMs < 2000, `first period took ${r.durationMs} ms of simulated time`);
  assert.ok(r.promotedBytes > 0, 'the hot set was promoted in it');
  assert.ok(fractionOn(kernel, 0, isHot) >= 0.99, `hot set in DRAM after the first period: ${fractionOn(kernel, 0, isHot)}`);
  assert.ok(fractionOn(kernel, 0, (p, i) => !isHot(p, i)) < 0.001, 'no cold page promoted on the shorter evidence');
});

test('a process that starts while the daemon runs is found within an interval and placed within its first half period', async () => {
  const late = hotset({ duration: '30s' }).replace('  - name: kvstore\n', '  - name: kvstore\n    startAt: 12s\n');
  const reports: { startedMs: number; durationMs: number; targets: number; promotedBytes: number }[] = [];
  let placedAt = Infinity;
  const { kernel } = await runSim(late, `${FAST}targets: { comm: kvstore, minRss: 0 }\n`, {
    onPeriod: (r, k) => {
      reports.push(r);
      if (placedAt === Infinity && k.allProcesses().length > 0 && fractionOn(k, 0, isHot) >= 0.99) placedAt = k.now();
    },
  });
  const found = reports.find((r) => r.targets > 0)!;
  process.stdout.write(`# late process: started at 12 s, period with it began at ${(found.startedMs / 1000).toFixed(2)} s, hot set placed at ${(placedAt / 1000).toFixed(2)} s\n`);
  // interval 500 ms: a target-less daemon looks every interval, not every period plus a settled pause
  assert.ok(found.startedMs <= 12_000 + 500 + 1, `found at ${found.startedMs} ms`);
  // priming walk, 3 walks of 500 ms (half of N = 5), then the moves
  assert.ok(placedAt <= 12_000 + 500 + 2_500, `placed at ${placedAt} ms`);
  assert.ok(fractionOn(kernel, 0, (p, i) => !isHot(p, i)) < 0.001, 'no cold page promoted');
});

test('while a target runs, a second matching process is found at the next targets.rescan, not every period', async () => {
  const two = hotset({ duration: '40s' }) + `  - name: kvstore
    startAt: 13s
    memory:
      - { size: 64MiB, pageSize: 4KiB, node: 1 }
    phases:
      - { at: 0s, pattern: hotset, hotFraction: 0.1, hotOffset: 0, hotRate: 50, coldRate: 0.001 }
`;
  const reports: { startedMs: number; targets: number }[] = [];
  await runSim(two, `${FAST}targets: { comm: kvstore, minRss: 0, rescan: 10s }\n`, { onPeriod: (r) => reports.push(r) });
  const second = reports.find((r) => r.targets === 2)!;
  // selections at 0 s, at the first period from 10 s (12 s, before it started), from 22 s
  assert.ok(reports.filter((r) => r.startedMs > 13_000 && r.startedMs < second.startedMs).length >= 1, 'periods ran between its start and its selection');
  assert.ok(second.startedMs >= 22_000 && second.startedMs <= 13_000 + 10_000 + 8_000, `found at ${second.startedMs} ms`);
});

test('hot pages moved back to the slow tier by someone else are found and promoted again within two periods (a quarter re-checked finds them, then all are)', async () => {
  const seen: number[] = [];
  await runSim(hotset({ duration: '60s' }), FAST, {
    onPeriod: (r, k) => {
      if (r.period === 2) {
        // the application (or the kernel) moves the placed hot set back to PMEM behind tierd's back
        for (const p of k.allProcesses()) {
          const idx = [...Array(p.pages).keys()].filter((i) => isHot(p, i));
          const addrs = Float64Array.from(idx, (i) => p.pageAddr(i));
          k.movePages(p.pid, addrs.length, addrs, new Int32Array(addrs.length).fill(1), new Int32Array(addrs.length), 0);
        }
      }
      seen.push(fractionOn(k, 0, isHot));
    },
  });
  process.stdout.write(`# hot set in DRAM per period, moved away after period 2: ${seen.slice(0, 10).map((x) => x.toFixed(3)).join(' ')}\n`);
  assert.ok(seen[2]! < 0.01, `moved away: ${seen[2]}`);
  // period 3 re-checks a quarter of them and finds them gone; period 4 re-checks them all (it
  // took a quarter a period, 0.25 0.50 0.75 1.00, before the escalation)
  assert.ok(seen[4]! >= 0.99, `two periods later: ${seen[4]}`);
});

test('a fast tier under its headroom (another process filled it): exchanges pay the deficit, refuse no promotion for room, and do not swap equally warm pages', async () => {
  const scenario = `
seed: 3
duration: 60s
nodes:
  - { id: 0, tier: dram, capacity: 256MiB }
  - { id: 1, tier: pmem, capacity: 1GiB }
processes:
  - name: filler
    memory:
      - { size: 203MiB, pageSize: 4KiB, node: 0 }
  - name: kvstore
    memory:
      - { size: 48MiB, pageSize: 4KiB, node: 0 }
      - { size: 256MiB, pageSize: 4KiB, node: 1 }
    phases:
      - { at: 0s, pattern: hotset, hotFraction: 0.025, hotOffset: 0.5, hotRate: 50, coldRate: 1 }
`;
  // 5 MiB free against a 25.6 MiB headroom: a 20 MiB deficit before anything moves
  const { summary, kernel } = await runSim(scenario, `${FAST}targets: { comm: kvstore, minRss: 0 }\npolicy: { headroom: 10% }\n`);
  process.stdout.write(`# deficit: hot set in DRAM ${fractionOn(kernel, 0, isHot).toFixed(3)}, failed ${summary.failedPages}, promoted ${summary.promotedBytes} B, demoted ${summary.demotedBytes} B\n`);
  assert.ok(fractionOn(kernel, 0, isHot) >= 0.99, `hot set in DRAM: ${fractionOn(kernel, 0, isHot)}`);
  assert.equal(summary.failedPages, 0, 'a promotion refused for room means an exchange demoted for nothing');
  // the 7.6 MiB hot set among 300 MiB of equally warm pages: exchanging on one period's count
  // swapped lucky warm pages in and out (71 MB promoted in a minute)
  assert.ok(summary.promotedBytes <= 3 * 7.6 * 2 ** 20, `promoted ${summary.promotedBytes} B for a 7.6 MiB hot set`);
});

test('the interval shrinks no further than four times the walk, and a slow walk does not lengthen it', async () => {
  const phases = `      - { at: 0s, pattern: zipf, theta: 0.99, totalRate: 2e6 }`;
  // 512 MiB = 131072 pages at 0.8 µs each: a 105 ms walk, so the interval stays at or above 420 ms
  const scenario = (cost: string): string => hotset({ dram: '96MiB', phases, duration: '60s' }).replace('duration: 60s', `duration: 60s\nkernel: { scanPageCost: ${cost} }`);
  const { reports } = await runSim(scenario('0.8us'), 'scan: { walks: 5 }\n');
  const intervals = reports.map((r) => r.intervalMs);
  process.stdout.write(`# walk share: intervals ${intervals.slice(0, 8).map((x) => x.toFixed(0)).join(' ')} ms\n`);
  assert.ok(intervals.every((ms) => ms >= 4 * 105 - 1), `intervals ${intervals.join(' ')}`);
  assert.ok(Math.min(...intervals) < 500, 'it still shrinks down to the floor');
  // a 262 ms walk: the floor would be 1.05 s, but the interval stays at initialInterval
  const slow = await runSim(scenario('2us'), 'scan: { walks: 5 }\n');
  assert.ok(slow.reports.every((r) => r.intervalMs === 500), `intervals ${slow.reports.map((r) => r.intervalMs).join(' ')}`);
  // the same workload with a cheap walk does shrink it: the floor, not the workload, held it
  const cheap = await runSim(hotset({ dram: '96MiB', phases, duration: '60s' }), 'scan: { walks: 5 }\n');
  assert.ok(Math.min(...cheap.reports.map((r) => r.intervalMs)) < 500, 'a cheap walk lets the interval shrink');
});

test('a target busy again after a quiet minute gets the reactive interval from its next walk, and is placed within seconds', async () => {
  const phases = `      - { at: 0s, pattern: idle }
      - { at: 60s, pattern: hotset, hotFraction: 0.1, hotOffset: 0.3, hotRate: 50, coldRate: 0.001 }`;
  let placedAt = Infinity;
  const intervals: number[] = [];
  await runSim(hotset({ phases, duration: '90s' }), '{}', {
    onPeriod: (r, k) => {
      intervals.push(r.intervalMs);
      if (placedAt === Infinity && k.now() > 60_000 && fractionOn(k, 0, isHot) >= 0.99) placedAt = k.now();
    },
  });
  process.stdout.write(`# busy again: intervals ${intervals.join(' ')} ms; hot set placed at ${(placedAt / 1000).toFixed(1)} s (busy from 60 s)\n`);
  assert.ok(Math.max(...intervals) > 1000, 'the quiet minute lengthened the interval');
  assert.ok(placedAt <= 60_000 + 12_000, `placed at ${placedAt} ms`);
});

test("tierd's own memory is asked onto the slowest tier, from the faster ones; not in a dry-run or with selfMemory: any", async () => {
  const scenario = hotset({ duration: '2s' });
  const run = await runSim(scenario, FAST, { maxPeriods: 1 });
  assert.deepEqual((run.kernel as SimKernel).selfPolicy, { prefer: [1], from: [0] });
  const dry = await runSim(scenario, FAST, { maxPeriods: 1, dryRun: true });
  assert.equal((dry.kernel as SimKernel).selfPolicy, null);
  const any = await runSim(scenario, `${FAST}migrate: { selfMemory: any }\n`, { maxPeriods: 1 });
  assert.equal((any.kernel as SimKernel).selfPolicy, null);
});

test('skimming walks: a new target\'s first counted walk, and every target\'s first counted walk every 8 periods, read every page; the others skim', async () => {
  const k = new SimKernel(parseScenario(hotset({ duration: '70s' })));
  const SKIM = 0x20000;
  const opens: { skim: boolean; period: number }[] = [];
  let period = 0;
  const open = k.openIdlePages.bind(k);
  k.openIdlePages = (pid: number, flags: number) => {
    opens.push({ skim: (flags & SKIM) !== 0, period });
    return open(pid, flags);
  };
  await runSim(hotset({ duration: '70s' }), 'scan: { walks: 5, interval: 500ms, settledPauseMax: 0s }\n', { kernel: k, onPeriod: (r) => { period = r.period + 1; } });
  const full = opens.map((o, i) => ({ ...o, i })).filter((o) => !o.skim);
  // walk 0 is the priming walk of the new target (uncounted: it may skim); walk 1 its first counted walk
  assert.equal(opens[0]!.skim, true, 'the priming walk skims');
  assert.equal(full[0]?.i, 1, 'the first counted walk reads every page');
  const periods = Math.max(...opens.map((o) => o.period));
  const every8 = Array.from({ length: Math.floor(periods / 8) }, (_, i) => 8 * (i + 1));
  assert.ok(every8.length >= 2, `${periods} periods`);
  assert.deepEqual(full.slice(1).map((o) => o.period), every8, 'then one full walk every 8 periods');
});

test('a tracker whose walk clears the bits before its window (page_idle) gets no priming walk; the others do', async () => {
  const firstPeriodWalks = async (): Promise<number> => {
    const k = new SimKernel(parseScenario(hotset({ duration: '10s' })));
    let walks = 0;
    const open = k.openIdlePages.bind(k);
    k.openIdlePages = (pid: number, flags: number) => {
      walks++;
      return open(pid, flags);
    };
    await runSim(hotset({ duration: '10s' }), 'scan: { walks: 5, interval: 500ms }\n', { kernel: k, maxPeriods: 1 });
    return walks;
  };
  // a new target's first period: half of N = 5 counted walks, after a priming walk or not
  assert.equal(await firstPeriodWalks(), 1 + 3);
  Object.defineProperty(IdlePagesReader.prototype, 'primesItself', { value: true, configurable: true });
  try {
    assert.equal(await firstPeriodWalks(), 3);
  } finally {
    delete (IdlePagesReader.prototype as { primesItself?: boolean }).primesItself;
  }
});

test('the daemon\'s own settled pause is not a gap: the walk after it counts what the pause saw, with no priming walk', async () => {
  const k = new SimKernel(parseScenario(hotset({ duration: '60s' })));
  const opens: number[] = [];
  let period = 0;
  const open = k.openIdlePages.bind(k);
  k.openIdlePages = (pid: number, flags: number) => {
    opens[period] = (opens[period] ?? 0) + 1;
    return open(pid, flags);
  };
  const reports: { startedMs: number; durationMs: number }[] = [];
  await runSim(hotset({ duration: '60s' }), 'scan: { walks: 5, interval: 500ms, settledPauseMax: 8s }\n', { kernel: k, onPeriod: (r) => { reports.push(r); period = r.period + 1; } });
  // the periods that began after a settled pause (a gap of more than two intervals)
  const afterPause = reports.slice(1).map((r, i) => ({ p: i + 1, gap: r.startedMs - reports[i]!.startedMs - reports[i]!.durationMs })).filter((x) => x.gap > 1000);
  assert.ok(afterPause.length >= 3, `settled pauses: ${afterPause.length}`);
  for (const { p, gap } of afterPause) assert.equal(opens[p], 5, `period ${p} after a ${gap} ms pause: ${opens[p]} walks, N and no priming walk`);
  // the first period primes its new target: a priming walk and half of N
  assert.equal(opens[0], 1 + 3);
});

test('a fill threshold on its way down is not settled placement: no settled pause after a period that counts toward a step', async () => {
  // a hot tenth and a sparse rest (each page seen in about one walk of five): the room beyond the
  // hot set sits empty at the default fill threshold, and each step down waits two calm periods
  const sparse = hotset({ duration: '60s', phases: '      - { at: 0s, pattern: hotset, hotFraction: 0.1, hotOffset: 0.3, hotRate: 50, coldRate: 0.2 }' });
  const seen: { threshold: number; lowering: boolean; startedMs: number; endMs: number }[] = [];
  await runSim(sparse, 'scan: { walks: 5, interval: 500ms, settledPauseMax: 8s }\n', {
    onPeriod: (r, _k, d) => {
      const a = (d as unknown as { fillAdapt: { threshold: number; lowering: boolean } }).fillAdapt;
      seen.push({ threshold: a.threshold, lowering: a.lowering, startedMs: r.startedMs, endMs: r.startedMs + r.durationMs });
    },
  });
  const lowering = seen.map((x, i) => ({ ...x, i })).filter((x) => x.lowering && x.i + 1 < seen.length);
  assert.ok(lowering.length >= 2, `periods that lowered the threshold: ${seen.map((x) => x.threshold).join(' ')}`);
  for (const x of lowering) {
    const gap = seen[x.i + 1]!.startedMs - x.endMs;
    // no pause at all (a settled pause is at least one interval)
    assert.ok(gap < 1, `period ${x.i} was lowering the threshold, then paused ${gap} ms`);
  }
  const stepped = seen.find((x) => x.threshold < 3);
  assert.ok(stepped !== undefined && stepped.endMs <= 10_000, `first step down ends at ${stepped?.endMs} ms`);
});

test('a tracker that walks several targets at once (page_idle) gets every live target in one call per walk', async () => {
  const two = hotset({ duration: '20s' }).replace('processes:\n', `processes:
  - name: second
    memory:
      - { size: 64MiB, pageSize: 4KiB, node: 1 }
    phases:
      - { at: 0s, pattern: hotset, hotFraction: 0.5, hotOffset: 0, hotRate: 50, coldRate: 0.001 }
`);
  const calls: number[][] = [];
  type Many = (items: readonly WalkItem[]) => Promise<WalkResult[]>;
  const proto = IdlePagesReader.prototype as unknown as { walkMany?: Many; walk: IdlePagesReader['walk'] };
  proto.walkMany = async function (this: IdlePagesReader, items: readonly WalkItem[]): Promise<WalkResult[]> {
    calls.push(items.map((i) => i.pid));
    const out: WalkResult[] = [];
    for (const i of items) out.push(await this.walk(i.pid, i.ranges, i.heat, i.full));
    return out;
  };
  try {
    const { kernel } = await runSim(two, FAST);
    const pids = kernel.allProcesses().map((p) => p.pid).sort((a, b) => a - b);
    assert.ok(calls.length >= 10, `${calls.length} walks`);
    for (const c of calls) assert.deepEqual([...c].sort((a, b) => a - b), pids, 'every walk names both targets');
    assert.ok(fractionOn(kernel, 0, isHot) >= 0.99, 'both hot sets placed');
  } finally {
    delete proto.walkMany;
  }
});

// 2 µs a page: a period of five walks of 512 MiB costs about 1.3 s of CPU, as 1 GiB does in the
// VM's emulated CPU; the hot set moves at 300 s
const expensive = hotset({
  duration: '400s',
  phases: `      - { at: 0s, pattern: hotset, hotFraction: 0.1, hotOffset: 0.3, hotRate: 50, coldRate: 0.001 }
      - { at: 300s, pattern: hotset, hotFraction: 0.1, hotOffset: 0.6, hotRate: 50, coldRate: 0.001 }`,
}).replace('nodes:', 'kernel: { scanPageCost: 2us }\nnodes:');

test('where walks are expensive, settled pauses grow until settled periods cost scan.settledShare of a CPU, never more than doubling, and a shift ends them', async () => {
  const run = async (scan: string): Promise<{ gaps: number[]; settledShare: number; hotAfter: number; pausedS: number }> => {
    const periods: { startedMs: number; endMs: number; cpuMs: number }[] = [];
    let hotAfter = 0;
    const metrics = new Metrics();
    await runSim(expensive, scan, {
      metrics,
      onPeriod: (r, k) => {
        periods.push({ startedMs: r.startedMs, endMs: r.startedMs + r.durationMs, cpuMs: k.cpuMs() });
        if (r.startedMs + r.durationMs <= 300_000 + 70_000) hotAfter = fractionOn(k, 0, isHot);
      },
    });
    const gaps = periods.slice(1).map((p, i) => p.startedMs - periods[i]!.endMs);
    // from 150 s (placed, the pauses grown) to the shift: CPU over wall time
    const span = periods.filter((p) => p.endMs >= 150_000 && p.endMs <= 300_000);
    const settledShare = (span.at(-1)!.cpuMs - span[0]!.cpuMs) / (span.at(-1)!.endMs - span[0]!.endMs);
    const pausedS = (await metrics.settledPause.get()).values[0]?.value ?? 0;
    return { gaps, settledShare, hotAfter, pausedS };
  };
  const bounded = await run('scan: { walks: 5, interval: 500ms, settledPauseMax: 8s, settledShare: 0.05 }\n');
  const doubling = await run('scan: { walks: 5, interval: 500ms, settledPauseMax: 8s, settledShare: 0 }\n');
  process.stdout.write(`# expensive walks: settled CPU share ${bounded.settledShare.toFixed(3)} (doubling alone ${doubling.settledShare.toFixed(3)}), pauses ${bounded.gaps.map((g) => (g / 1000).toFixed(1)).join(' ')} s, hot set in DRAM 70 s after the shift ${bounded.hotAfter.toFixed(3)}\n`);
  assert.ok(Math.max(...doubling.gaps) <= 8_001, `settledPauseMax alone: ${Math.max(...doubling.gaps)} ms`);
  assert.ok(Math.max(...bounded.gaps) > 8_001 && Math.max(...bounded.gaps) <= 60_001, `pauses: ${bounded.gaps.join(' ')}`);
  // a pause is at most twice the one before it (or one interval): a period that only looks
  // settled, early on, is never followed by a long pause
  bounded.gaps.forEach((g, i) => assert.ok(g <= Math.max(500, 2 * (bounded.gaps[i - 1] ?? 0)) + 1, `pause ${i}: ${g} ms after ${bounded.gaps[i - 1]} ms`));
  assert.ok(bounded.settledShare <= 0.07, `settled placement cost ${bounded.settledShare} of a CPU`);
  assert.ok(doubling.settledShare > 2 * bounded.settledShare, `doubling alone ${doubling.settledShare}`);
  // tierd_settled_pause_seconds_total counts those pauses (the last one ends with the run)
  const sum = bounded.gaps.reduce((a, g) => a + g, 0) / 1000;
  assert.ok(bounded.pausedS >= sum - 1 && bounded.pausedS <= sum + 61, `metric ${bounded.pausedS} s, pauses ${sum} s`);
  // the new hot set is in DRAM about a minute after the shift, pauses or not
  assert.ok(bounded.hotAfter >= 0.95, `hot set in DRAM 70 s after the shift: ${bounded.hotAfter}`);
});

test('what tierd burns during a settled pause counts toward scan.settledShare', async () => {
  // 3% of a CPU burnt whatever tierd does (in the VM: metrics renders, the collector, other threads)
  const settled = async (background: number): Promise<{ share: number; longest: number }> => {
    const k = new SimKernel(parseScenario(expensive));
    const charged = k.cpuMs.bind(k);
    k.cpuMs = () => charged() + background * k.now();
    const ends: { endMs: number; cpuMs: number; startedMs: number }[] = [];
    await runSim(expensive, 'scan: { walks: 5, interval: 500ms, settledPauseMax: 8s, settledShare: 0.05 }\n', {
      kernel: k,
      onPeriod: (r) => ends.push({ startedMs: r.startedMs, endMs: r.startedMs + r.durationMs, cpuMs: k.cpuMs() }),
    });
    const span = ends.filter((p) => p.endMs >= 150_000 && p.endMs <= 300_000);
    const gaps = span.slice(1).map((p, i) => p.startedMs - span[i]!.endMs);
    return { share: (span.at(-1)!.cpuMs - span[0]!.cpuMs) / (span.at(-1)!.endMs - span[0]!.endMs), longest: Math.max(...gaps) };
  };
  const quiet = await settled(0);
  const busy = await settled(0.03);
  process.stdout.write(`# settled share with 3% burnt in the background ${busy.share.toFixed(3)} (pauses up to ${(busy.longest / 1000).toFixed(1)} s; without it ${quiet.share.toFixed(3)}, ${(quiet.longest / 1000).toFixed(1)} s)\n`);
  assert.ok(busy.longest > quiet.longest, `pauses ${busy.longest} ms with the background, ${quiet.longest} without`);
  assert.ok(busy.share <= 0.06, `settled placement with the background cost ${busy.share} of a CPU`);
});
