// npm run bench:vm — tierd side by side with the kernel's own tiering, in the 2-node NUMA VM.
// Every (kernel, contender, workload) gets a fresh boot (test/vm/run.sh with the compare suite);
// the guest measures from outside every contender (test/vm/guest/compare.mjs) and prints one
// COMPARE_RESULT line; this script prints the table, or JSON lines with -- --json.
//   CONTENDERS="stock:nothing stock:nb ..." picks the runs (default: all below)
//   WORKLOADS="shift zipf full full-both multi redis" picks the workloads; PHASE=seconds per phase (90)
//   PROFILE=1 runs tierd under node --cpu-prof and prints its top functions (the guest's [compare] lines)
//   POLICY=fillThreshold:2,... sets tierd policy keys in the guest (to compare a setting); SCAN=skimIdle:false the same for scan keys,
//   MIGRATE=callTarget:1s for migrate keys (a dotted key sets a nested one: MIGRATE=damos.swapRate:16MiB/s); DAMON=coldAgeS:30 the DAMON contenders' cold age (seconds)
//   TIERD_LOG=info sets tierd's log level in the guest (one line per period); LOGS=dir keeps each boot's console
//   TCG_THREAD=multi gives each vCPU its own host thread: the mechanism's CPU is then not taken
//   from the workload's vCPU, as on a host with cores to spare (the default, single, shares one)
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootVm, diedBeforeSuite } from './vm-boot.js';

interface Result {
  contender: string;
  workload: string;
  kernel: string;
  phaseS: number;
  best: number[];
  bestAll: number[];
  /** redis: the best of the values the client had asked for by each phase's end (null elsewhere; absent before 2026-12-03) */
  bestAsked?: number[] | null;
  hitEnd: number[];
  reach: (number | null)[];
  reachAll: (number | null)[] | null;
  pagesUp: number;
  pagesDown: number;
  pagesBack: number;
  cpu: { tierd: number; kdamond: number; kswapd: number; workloadSys: number; workloadUser: number };
  opsPerSec: number[];
  allocFailures: number;
  vmstat: Record<string, number>;
  /** TCG_THREAD of the boot: single (both vCPUs on one host thread) or multi */
  tcg?: string;
}

const DEFAULT_RUNS = ['stock:nothing', 'stock:nb', 'stock:damon', 'stock:damon-young', 'stock:tierd-damon', 'stock:tierd-damos', 'trimmed:nb', 'trimmed:tierd-idle_pages', 'trimmed:tierd-page_idle', 'trimmed:tierd-damon'];
const json = process.argv.includes('--json');
const runs = (process.env.CONTENDERS ?? DEFAULT_RUNS.join(' ')).split(/\s+/).filter(Boolean);
const workloads = (process.env.WORKLOADS ?? 'shift zipf full full-both multi redis').split(/\s+/).filter(Boolean);
const phase = Number(process.env.PHASE ?? 90);
const out = process.env.RESULTS ?? join(mkdtempSync(join(tmpdir(), 'tierd-compare-')), 'results.jsonl');

function guestArgs(contender: string, workload: string): string {
  const args = [`tierd.contender=${contender}`, `tierd.workload=${workload}`, `tierd.phase=${phase}`];
  if (process.env.PROFILE === '1') args.push('tierd.profile=1');
  if (process.env.TIERD_LOG) args.push(`tierd.log=${process.env.TIERD_LOG}`);
  // POLICY, SCAN and MIGRATE pass config keys through to the guest's tierd config sections,
  // DAMON sets the DAMON contenders' schemes (test/vm/guest/compare.mjs, startDamonSchemes)
  for (const section of ['policy', 'scan', 'migrate', 'damon']) {
    const pairs = process.env[section.toUpperCase()];
    if (pairs) args.push(`tierd.${section}=${pairs}`);
  }
  return args.join(' ');
}

/** One fresh boot: returns the guest's result, or null with the reason printed. */
function boot(kernel: string, contender: string, workload: string): Result | null {
  // tierd manages only the workload except in full-both; the kernel's mechanisms see everything
  if (workload === 'full-both' && !contender.startsWith('tierd-')) return null;
  const t0 = Date.now();
  // the redis workload needs Debian's redis-server in the guest
  const env = { KERNELS: kernel, GUEST_SUITES: 'compare', GUEST_ARGS: guestArgs(contender, workload), GUEST_REDIS: workload === 'redis' ? '1' : '0' };
  const name = `${kernel}-${contender}-${workload}`;
  let text = bootVm(env, name);
  if (diedBeforeSuite(text, '[compare]')) {
    process.stderr.write(`[bench:vm] ${name}: the guest's kernel died before the suite started (console kept as ${name}-died.log with LOGS); booting once more\n`);
    if (process.env.LOGS) renameSync(join(process.env.LOGS, `${name}.log`), join(process.env.LOGS, `${name}-died.log`));
    text = bootVm(env, name);
  }
  const line = text.split('\n').find((l) => l.includes('COMPARE_RESULT '));
  process.stderr.write(`[bench:vm] ${kernel} ${contender} ${workload}: ${line ? 'done' : 'no result'} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  if (process.env.PROFILE === '1') process.stderr.write(text.split('\n').filter((l) => /\[compare\] (prof|profile)/.test(l)).join('\n') + '\n');
  if (!line) {
    process.stderr.write(text.split('\n').filter((l) => /COMPARE_ERROR|\[compare\]|no verdict|failed/.test(l)).slice(-15).join('\n') + '\n');
    return null;
  }
  return { ...(JSON.parse(line.slice(line.indexOf('COMPARE_RESULT ') + 15)) as Result), tcg: process.env.TCG_THREAD ?? 'single' };
}

const f3 = (x: number): string => x.toFixed(3);
const secs = (x: number | null | undefined): string => (x === null || x === undefined ? 'never' : `${x.toFixed(0)} s`);

/** The mechanism's CPU: tierd and its kdamonds, DAMON's kdamonds, NUMA balancing's hint-fault system time and kswapd. */
function mechanismCpu(r: Result, nothing: Result | undefined): number {
  const extraSys = Math.max(0, r.cpu.workloadSys - (nothing?.cpu.workloadSys ?? 0));
  return r.cpu.tierd + r.cpu.kdamond + r.cpu.kswapd + extraSys;
}

function table(results: Result[]): string {
  const rows = ['| workload | kernel | contender | hit end of phase 1 / 2 (best) | time to 90% of best, start / shift | pages up / down / back | CPU of the mechanism | throughput vs nothing | alloc failures |', '|---|---|---|---|---|---|---|---|---|'];
  for (const r of results) {
    // the "nothing" run of the same workload, on the same kernel where there is one
    const base = results.filter((x) => x.workload === (r.workload === 'full-both' ? 'full' : r.workload) && x.contender === 'nothing' && (x.tcg ?? 'single') === (r.tcg ?? 'single'));
    const nothing = base.find((x) => x.kernel === r.kernel) ?? base[0];
    const tput = nothing ? r.opsPerSec.map((v, i) => f3(v / Math.max(1, nothing.opsPerSec[i]!))).join(' / ') : '-';
    const best = r.workload === 'full-both' ? r.bestAll : r.best;
    const reach = r.workload === 'full-both' && r.reachAll ? r.reachAll : r.reach;
    const asked = r.bestAsked ? `; of what was asked ${f3(r.bestAsked[0]!)} / ${f3(r.bestAsked[1]!)}` : '';
    rows.push(`| ${r.workload} | ${r.kernel} | ${r.contender} | ${f3(r.hitEnd[0]!)} / ${f3(r.hitEnd[1]!)} (${f3(best[0]!)} / ${f3(best[1]!)}${asked}) | ${secs(reach[0])} / ${secs(reach[1])} | ${r.pagesUp} / ${r.pagesDown} / ${r.pagesBack} | ${mechanismCpu(r, nothing).toFixed(1)} s | ${tput} | ${r.allocFailures} |`);
  }
  return rows.join('\n');
}

const WORKLOADS = ['shift', 'zipf', 'full', 'full-both', 'multi', 'redis'];
const CONTENDERS = ['nothing', 'nb', 'damon', 'damon-young', 'tierd-idle_pages', 'tierd-page_idle', 'tierd-damon', 'tierd-damos'];

/** a misspelt workload or contender would cost a boot each before saying so */
function checkArgs(): boolean {
  const badW = workloads.filter((w) => !WORKLOADS.includes(w));
  const badC = runs.filter((r) => { const [k, c] = r.split(':'); return !['stock', 'trimmed'].includes(k ?? '') || !CONTENDERS.includes(c ?? ''); });
  if (badW.length) process.stderr.write(`bench:vm: unknown workload ${badW.join(', ')}: WORKLOADS takes ${WORKLOADS.join(' ')}\n`);
  if (badC.length) process.stderr.write(`bench:vm: unknown run ${badC.join(', ')}: CONTENDERS takes kernel:contender, kernel stock or trimmed, contender ${CONTENDERS.join(' ')}\n`);
  return badW.length === 0 && badC.length === 0;
}

function main(): void {
  if (process.env.TABLE_FROM) {
    const results = readFileSync(process.env.TABLE_FROM, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Result);
    process.stdout.write((json ? results.map((r) => JSON.stringify(r)).join('\n') : table(results)) + '\n');
    return;
  }
  if (!checkArgs()) {
    process.exitCode = 2;
    return;
  }
  const results: Result[] = [];
  const t0 = Date.now();
  for (const w of workloads) {
    for (const run of runs) {
      const [kernel, contender] = run.split(':') as [string, string];
      const r = boot(kernel, contender, w);
      if (!r) continue;
      results.push(r);
      appendFileSync(out, JSON.stringify(r) + '\n');
    }
  }
  process.stderr.write(`[bench:vm] ${results.length} runs in ${((Date.now() - t0) / 60000).toFixed(1)} min; results: ${out}\n`);
  if (json) for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
  else process.stdout.write(table(results) + '\n');
  if (!existsSync(out) || results.length === 0) process.exitCode = 1;
}

main();
