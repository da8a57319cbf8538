import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import koffi from 'koffi';
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
  const cOut = JSON.parse(execFileSync(cBin, [String(batches), '0.002'], { encoding: 'utf8' })) as Record<string, Record<string, Stat>>;
  const libc = koffi.load(null);
  const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)');
  const max = 16384;
  const mem = mmap(null, max * 4096, 3, 0x22, -1, 0);
  const view = new Uint8Array(koffi.view(mem, max * 4096));
  for (let i = 0; i < max; i++) view[i * 4096] = 1;
  const base = Number(koffi.address(mem));
  const addrs = Float64Array.from({ length: max }, (_, i) => base + i * 4096);
  const nodes = new Int32Array(max);
  const status = new Int32Array(max);
  const k = new LinuxKernel();
  const pid = process.pid;
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
      for (let b = 0; b < batches; b++) {
        const a = performance.now();
        for (let i = 0; i < c; i++) call();
        per.push((performance.now() - a) / 1000 / c);
      }
      const js = stat(per);
      const cs = cOut[mode]![String(n)]!;
      out.push({ mode, n, js, c: cs, ratio: js.median / cs.median });
    }
  }
  return out;
}

export function moveTable(rs: MoveResult[], batches: number): string {
  const us = (x: number): string => fmt.n(x * 1e6, x < 1e-5 ? 2 : 1);
  return table(
    `move_pages per call on this kernel, tierd (koffi) vs C (median of ${batches} batches of ~2 ms, min–max; goal ≤ 1.05× at 1024 pages and up)`,
    ['mode', 'pages', 'tierd µs', 'C µs', 'tierd / C', 'goal'],
    rs.map((r) => [r.mode, String(r.n), fmt.range(r.js, us), fmt.range(r.c, us), `${fmt.n(r.ratio, 3)}×`, r.n >= 1024 ? (r.ratio <= 1.05 ? 'met' : 'MISSED') : '']),
  );
}
