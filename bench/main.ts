/**
 * npm run bench [-- --json] [-- --quick]: every figure is measured side by side with its
 * baseline in the same run, because these machines are shared and noisy.
 */
import { benchDecode, cursorTable, decodeTable, makeStream, memoryTable, GiB } from './decode.js';
import { benchMovePages, moveTable } from './move-pages.js';
import { benchPlanner, plannerTable } from './planner.js';
import { benchPlacement, placementTable } from './placement.js';
import { DAEMON_HOSTS, benchDaemon, daemonTable } from './daemon.js';
import { benchUptime, uptimeTable } from './churn.js';
import { benchPageIdle, benchPageIdleTargets, pageIdleTable, pageIdleTargetsTable } from './page-idle.js';
import { benchReadWorkers, readWorkersTable } from './read-workers.js';
import { machine } from './util.js';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const say = (s: string): void => {
  if (!json) process.stdout.write(s);
};

async function main(): Promise<void> {
  say(`tierd benchmarks on ${machine()}\n`);
  const runs = quick ? 3 : 5;
  // the syscall and planner sections run first, in a small heap: a process holding the 1 TiB
  // tables walks its own page tables more slowly and collects garbage in the middle of a timing
  const batches = quick ? 11 : 31;
  const moves = benchMovePages(batches);
  say(moveTable(moves, batches));
  // 256 Ki pages: 1 GiB, the VM benchmark's workload, where a plan's per-move work weighs most
  const planner = benchPlanner(quick ? [1 << 18, 10e6] : [1 << 18, 10e6, 100e6], runs);
  say(plannerTable(planner, runs));
  const placement = benchPlacement(10e6, runs);
  say(placementTable(placement, runs));
  global.gc?.();
  const daemons = [];
  for (const host of DAEMON_HOSTS) {
    daemons.push(await benchDaemon(quick ? 2 : 4, host));
    global.gc?.();
  }
  say(daemonTable(daemons));
  global.gc?.();
  const uptime = await benchUptime(quick ? 3 : 24);
  say(uptimeTable(uptime));
  global.gc?.();
  const pageIdle = await benchPageIdle(quick ? 1 << 18 : 1 << 20, runs);
  say(pageIdleTable(pageIdle));
  // three processes that fit one batch of the tracker (256 Ki pages), as the VM's multi workload
  const pageIdleTargets = await benchPageIdleTargets(3, 80_000, runs);
  say(pageIdleTargetsTable(pageIdleTargets));
  const readWorkers = await benchReadWorkers(quick ? 8 : 32, runs);
  say(readWorkersTable(readWorkers, runs));
  const big = quick ? 64 * GiB : 1024 * GiB;
  const streams = [
    makeStream('64 GiB, 4 KiB, 30% random', 64 * GiB, 'random30'),
    makeStream(`${big / GiB} GiB, 4 KiB, 30% random`, big, 'random30'),
    makeStream('64 GiB, THP-heavy (80% 2 MiB)', 64 * GiB, 'thp'),
    makeStream('64 GiB, alternating (worst case)', 64 * GiB, 'alternate'),
  ];
  const decode = benchDecode(streams, runs);
  say(decodeTable(decode, runs));
  say(cursorTable(decode, runs));
  say(memoryTable(decode));
  const main30 = decode[1]!; // the large 30%-random stream
  const ratio = (n: number): number => moves.find((m) => m.mode === 'move' && m.n === n)!.ratio;
  const result = {
    machine: machine(),
    decode: { pagesPerSec: main30.pagesPerSec, ratioToC: main30.ratioToC, nsPerPage: 1e9 / main30.pagesPerSec, streams: decode.map((d) => ({ name: d.name, pagesPerSec: d.pagesPerSec, ratioToC: d.ratioToC, streamBytes: d.streamBytes, cursorMs: d.cursor.median * 1000, cursorByDecodeMs: d.cursorByDecode.median * 1000 })) },
    memory: { bytesPerPage: Math.max(...decode.filter((d) => d.name.includes('30%')).map((d) => d.bytesPerPage)) },
    movePages: {
      ratioToC: { '1': ratio(1), '64': ratio(64), '1024': ratio(1024), '16384': ratio(16384) },
      query: Object.fromEntries(moves.filter((m) => m.mode === 'query').map((m) => [String(m.n), m.ratio])),
    },
    planner: { nsPerPage: Math.max(...planner.map((p) => p.nsPerPage)), bySize: planner.map((p) => ({ pages: p.pages, nsPerPage: p.nsPerPage })) },
    placement: placement.map((p) => ({ pages: p.pages, unknown: p.unknown, queried: p.queried, nsPerPage: p.nsPerPage })),
    daemon: daemons.map((d) => ({ host: d.host, cpuSecondsPerGiBPeriod: d.cpuSecondsPerGiBPeriod, tierdSecondsPerPeriod: d.tierdSecondsPerPeriod, simGiBSecondsPerWallSecond: d.simGiBSecondsPerWallSecond })),
    uptime,
    readWorkers: { loopDelayMs: { inThread: { p99: readWorkers.loop.inThread.p99, max: readWorkers.loop.inThread.max }, worker: { p99: readWorkers.loop.worker.p99, max: readWorkers.loop.worker.max } }, twoWorkersRatio: readWorkers.two.ratio },
    pageIdle: { nsPerPage: pageIdle.nsPerPage, callsPerWalk: pageIdle.callsPerWalk, bitmapFramesPerPage: pageIdle.bitmapFramesPerPage, flagFramesPerPage: pageIdle.flagFramesPerPage },
    pageIdleTargets,
  };
  if (json) process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
