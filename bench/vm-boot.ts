// One boot of the 2-node VM (test/vm/run.sh) for the VM benchmarks (vm-compare.ts, vm-walk.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Boot with `env` added to this process's environment; returns the boot's console (stdout and
 * stderr). With LOGS=dir the console is kept as dir/<name>.log.
 */
export function bootVm(env: Record<string, string>, name: string): string {
  const r = spawnSync('bash', ['test/vm/run.sh'], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  const text = `${r.stdout}\n${r.stderr}`;
  if (process.env.LOGS) {
    mkdirSync(process.env.LOGS, { recursive: true });
    writeFileSync(join(process.env.LOGS, `${name}.log`), text);
  }
  return text;
}

/**
 * The guest's kernel died before the suite printed its first line (`mark`): under TCG about one
 * boot in ten hit an emulator fault at 0.8 s of boot (an int3 oops in sched_clock_cpu, then a
 * panic; 2 of 18 boots on 2026-12-03). Nothing of the contender ran, so one more boot is a fair
 * retry. A boot that failed after the suite started is not retried: that failure may be the
 * contender's, and the table must show it.
 */
export function diedBeforeSuite(console: string, mark: string): boolean {
  if (console.includes(mark)) return false;
  return /\] (Oops: |Kernel panic - not syncing)/.test(console);
}
