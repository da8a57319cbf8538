import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Stat {
  median: number;
  min: number;
  max: number;
}

export function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} cores, ${cpu}, Linux ${release()}, Node ${process.version}`;
}

/** Compile a C baseline with cc -O2 into a temporary directory; returns the binary path. */
export function compileC(name: string): string {
  const src = fileURLToPath(new URL(`../../bench/c/${name}.c`, import.meta.url));
  const out = join(mkdtempSync(join(tmpdir(), 'tierd-bench-')), name);
  execFileSync('cc', ['-O2', '-o', out, src]);
  return out;
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function table(title: string, head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((x, c) => (c === 0 ? x.padEnd(w[c]!) : x.padStart(w[c]!))).join('  ');
  return [`\n${title}`, line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

export const fmt = {
  n: (x: number, d = 1): string => x.toFixed(d),
  range: (s: Stat, f: (x: number) => string): string => `${f(s.median)} (${f(s.min)}–${f(s.max)})`,
  mps: (x: number): string => `${(x / 1e6).toFixed(0)}M`,
};
