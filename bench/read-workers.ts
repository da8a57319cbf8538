import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { HeatTable } from '../src/heat/heat-table.js';
import { StateSpace } from '../src/heat/states.js';
import { IdlePagesReader } from '../src/trackers/idle-pages/reader.js';
import { IdlePagesPool } from '../src/trackers/idle-pages/read-pool.js';
import type { Tracker } from '../src/trackers/tracker.js';
import { openSynthetic, SYNTHETIC_BASE } from './synthetic-file.js';
import { fmt, stat, table, type Stat } from './util.js';

const OPENER = new URL('./synthetic-file.js', import.meta.url).href;
const SHARE = 0.05;
const BUFFER = 32 * 1024; // scan.bufferSize's default

export interface ReadWorkersResult {
  gib: number;
  /** event-loop delay during walks of one target, ms: reads on the main thread, and in a worker */
  loop: { inThread: { p99: number; max: number; walkMs: Stat }; worker: { p99: number; max: number; walkMs: Stat } };
  /** a walk of two targets with one and two workers, ms */
  two: { one: Stat; two: Stat; ratio: number };
}

function inThread(gib: number): Tracker {
  return new IdlePagesReader({ openIdlePages: () => openSynthetic(gib, SHARE) }, { bufferBytes: BUFFER, flags: 0, variant: 'rfc' });
}

function pool(gib: number, workers: number): IdlePagesPool {
  return new IdlePagesPool({ module: OPENER, name: 'openSynthetic', args: [gib, SHARE] }, { workers, bufferBytes: BUFFER, flags: 0, variant: 'rfc' });
}

const heat = (): HeatTable => new HeatTable(new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 }));
const ranges = (gib: number): Float64Array => Float64Array.of(SYNTHETIC_BASE, SYNTHETIC_BASE + gib * 2 ** 30);

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Walks of one target, timed, with the event loop's delay (1 ms resolution) over all of them;
 * a 20 ms pause after each, as the daemon's interval would, lets the loop's timer see the delay.
 */
async function loopDelay(t: Tracker, gib: number, runs: number): Promise<{ p99: number; max: number; walkMs: Stat }> {
  const h = heat();
  await t.walk(1, ranges(gib), h); // the first walk makes the segments; later ones only count
  const mon = monitorEventLoopDelay({ resolution: 1 });
  const ms: number[] = [];
  mon.enable();
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await t.walk(1, ranges(gib), h);
    ms.push(performance.now() - t0);
    await pause(20);
  }
  mon.disable();
  return { p99: mon.percentile(99) / 1e6, max: mon.max / 1e6, walkMs: stat(ms) };
}

async function twoTargets(p: IdlePagesPool, gib: number, runs: number): Promise<Stat> {
  const hs = [heat(), heat()];
  await Promise.all([1, 2].map((pid, i) => p.walk(pid, ranges(gib), hs[i]!)));
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await Promise.all([1, 2].map((pid, i) => p.walk(pid, ranges(gib), hs[i]!)));
    ms.push(performance.now() - t0);
  }
  return stat(ms);
}

/**
 * The read workers on this machine, with the simulated kernel's encoder standing in for the
 * kernel's page-table walk (a read costs CPU in the thread that makes it, as in the kernel).
 */
export async function benchReadWorkers(gib: number, runs: number): Promise<ReadWorkersResult> {
  const main = await loopDelay(inThread(gib), gib, runs);
  const p1 = pool(gib, 1);
  const worker = await loopDelay(p1, gib, runs);
  const one = await twoTargets(p1, gib / 2, runs);
  p1.close();
  const p2 = pool(gib, 2);
  const two = await twoTargets(p2, gib / 2, runs);
  p2.close();
  return { gib, loop: { inThread: main, worker }, two: { one, two, ratio: two.median / one.median } };
}

export function readWorkersTable(r: ReadWorkersResult, runs: number): string {
  const ms = (x: number): string => `${fmt.n(x, 1)} ms`;
  const walk = (s: Stat): string => fmt.range(s, (x) => `${fmt.n(x, 0)} ms`);
  return table(`idle_pages reads off the main thread (simulated kernel's encoder as the kernel; ${runs} walks, ${r.gib} GiB of 4 KiB pages, 5% accessed)`, ['case', 'walk', 'event-loop delay p99', 'max'], [
    ['reads on the main thread', walk(r.loop.inThread.walkMs), ms(r.loop.inThread.p99), ms(r.loop.inThread.max)],
    ['reads in one worker', walk(r.loop.worker.walkMs), ms(r.loop.worker.p99), ms(r.loop.worker.max)],
    [`two targets of ${r.gib / 2} GiB, one worker`, walk(r.two.one), '', ''],
    [`two targets of ${r.gib / 2} GiB, two workers`, `${walk(r.two.two)} = ${fmt.n(r.two.ratio, 2)}× one`, '', ''],
  ]);
}
