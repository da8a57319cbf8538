import { execFileSync, spawn } from 'node:child_process';
import { readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { LinuxKernel } from '../src/kernel/linux/linux-kernel.js';
import { MPOL_MF_MOVE } from '../src/kernel/types.js';
import { compileC, fmt, stat, table, type Stat } from './util.js';


const SIZES = [1, 64, 1024, 16384] as const;

export interface MoveResult {
  mode: 'query' | 'move';
  n: number;
  js: Stat;
  c: Stat;
  ratio: number;
}

/** The daemon's real call path (Float64Array → BigUint64Array → koffi syscall) against a C loop. */
export function benchMovePages(batches: number): MoveResult[] {
  const cBin = compileC('move_pages');
  // C and tierd alternate for every (mode, size), so a neighbour's load hits both alike
  // both sides move the pages of another process, as the daemon does
  const target = spawn(cBin, ['target'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const base = Number(execFileSyncLine(target));
    return measure(cBin, target.pid!, base, batches);
  } finally {
    target.stdin!.end();
    target.kill();
  }
}

function execFileSyncLine(p: ReturnType<typeof spawn>): string {
  // the target prints its base address at once; read it synchronously from the pipe's fd
  const fd = (p.stdout as unknown as { _handle: { fd: number } })._handle.fd;
  const buf = Buffer.alloc(64);
  let text = '';
  while (!text.includes('\n')) {
    try {
      const n = readSync(fd, buf, 0, 64, null);
      text += buf.toString('utf8', 0, n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
  return text.trim();
}

function measure(cBin: string, pid: number, base: number, batches: number): MoveResult[] {
  const cSamples = (mode: number, n: number, count: number): number[] => JSON.parse(execFileSync(cBin, [String(count), '0.002', String(mode), String(n), String(pid), String(base)], { encoding: 'utf8' })) as number[];
  const max = 16384;
  const addrs = Float64Array.from({ length: max }, (_, i) => base + i * 4096);
  const nodes = new Int32Array(max);
  const status = new Int32Array(max);
  const k = new LinuxKernel();
  const out: MoveResult[] = [];
  for (const mode of ['query', 'move'] as const) {
    for (const n of SIZES) {
      const call = (): void => {
        k.movePages(pid, n, addrs, mode === 'move' ? nodes : null, status, mode === 'move' ? MPOL_MF_MOVE : 0);
      };
      let c = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 2) {
        call();
        c++;
      }
      const per: number[] = [];
      const cPer: number[] = [];
      const half = Math.ceil(batches / 2);
      for (let round = 0; round < 2; round++) {
        cPer.push(...cSamples(mode === 'move' ? 1 : 0, n, half));
        for (let b = 0; b < half; b++) {
          const a = performance.now();
          for (let i = 0; i < c; i++) call();
          per.push((performance.now() - a) / 1000 / c);
        }
      }
      const js = stat(per);
      const cs = stat(cPer);
      out.push({ mode, n, js, c: cs, ratio: js.median / cs.median });
    }
  }
  return out;
}

export function moveTable(rs: MoveResult[], batches: number): string {
  const us = (x: number): string => fmt.n(x * 1e6, x < 1e-5 ? 2 : 1);
  return table(
    `move_pages per call on another process's pages, tierd (its real path through koffi) vs C, interleaved (median of ${batches} batches of ~2 ms, min–max; goal ≤ 1.05× at 1024 pages and up)`,
    ['mode', 'pages', 'tierd µs', 'C µs', 'tierd / C', 'goal'],
    rs.map((r) => [r.mode, String(r.n), fmt.range(r.js, us), fmt.range(r.c, us), `${fmt.n(r.ratio, 3)}×`, r.n >= 1024 ? (r.ratio <= 1.05 ? 'met' : 'MISSED') : '']),
  );
}
