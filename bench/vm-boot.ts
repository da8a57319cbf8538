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
