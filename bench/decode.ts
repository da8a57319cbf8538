import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Bit, type WalkableSpace } from '../src/kernel/sim/address-space.js';
import { IdlePagesEncoder } from '../src/kernel/sim/idle-encoder.js';
import { IdlePagesDecoder, RunBatch } from '../src/formats/idle-pages/decode.js';
import { HeatTable } from '../src/heat/heat-table.js';
import { StateSpace } from '../src/heat/states.js';
import { TASK_SIZE } from '../src/formats/idle-pages/types.js';
import { compileC, fmt, stat, table, type Stat } from './util.js';

const BASE = 0x100000000000;
const GiB = 2 ** 30;

/** A page table with no storage: each page's bit is a hash of its index (30% accessed) or alternates. */
class SyntheticSpace implements WalkableSpace {
  constructor(private readonly vmas: { start: number; end: number; huge: boolean }[], private readonly pattern: 'random30' | 'alternate') {}
  get vmaCount(): number { return this.vmas.length; }
  vmaStart(i: number): number { return this.vmas[i]!.start; }
  vmaEnd(i: number): number { return this.vmas[i]!.end; }
  vmaHuge(i: number): boolean { return this.vmas[i]!.huge; }
  vmaSkipped(): boolean { return false; }
  pmdPopulated(): boolean { return true; }
  restore(): void {}
  testAndClear(v: number, addr: number): number {
    const p = (addr - this.vmas[v]!.start) / (this.vmas[v]!.huge ? 2 ** 21 : 4096);
    if (this.pattern === 'alternate') return p % 2 === 0 ? Bit.ACCESSED : Bit.IDLE;
    let h = Math.imul(p ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return (h >>> 0) < 0.3 * 4294967296 ? Bit.ACCESSED : Bit.IDLE;
  }
}

export interface Stream {
  name: string;
  chunks: Uint8Array[];
  bytes: number;
  pages4k: number; // 4 KiB-equivalent pages covered
  entries: number; // states the daemon keeps (one per page, huge pages count once)
  span: number;
}

/** One walk's worth of stream, as the kernel encoder writes it for 1 MiB reads. */
export function makeStream(name: string, size: number, kind: 'random30' | 'thp' | 'alternate'): Stream {
  const vmas = kind === 'thp'
    ? [{ start: BASE, end: BASE + size * 0.2, huge: false }, { start: BASE + size * 0.2, end: BASE + size, huge: true }]
    : [{ start: BASE, end: BASE + size, huge: false }];
  const space = new SyntheticSpace(vmas, kind === 'alternate' ? 'alternate' : 'random30');
  const enc = new IdlePagesEncoder({ dupPmdSkip: false });
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(1 << 20);
  let pos = BASE;
  let bytes = 0;
  while (pos < BASE + size && pos < TASK_SIZE) {
    const r = enc.read(space, pos, buf.length, buf);
    if (r.ret === 0) break;
    chunks.push(buf.slice(0, r.ret));
    bytes += r.ret;
    pos = r.pos;
  }
  const entries = kind === 'thp' ? size * 0.2 / 4096 + size * 0.8 / 2 ** 21 : size / 4096;
  return { name, chunks, bytes, pages4k: size / 4096, entries, span: size };
}

/** The daemon's per-walk work: decode every read, fold it into the heat table. */
export function walkJs(heat: HeatTable, s: Stream, dec: IdlePagesDecoder): void {
  dec.reset();
  heat.beginWalk();
  for (const c of s.chunks) heat.ingest(dec, c, c.length);
  heat.endWalk();
}

/** A read worker's per-walk work: find each read's cursor, by a full decode (before) or advance. */
function cursorJs(s: Stream, dec: IdlePagesDecoder, batch: RunBatch | null): void {
  dec.reset();
  for (const c of s.chunks) {
    if (batch === null) {
      dec.advance(c, c.length);
    } else {
      batch.clear();
      dec.decode(c, c.length, batch);
    }
  }
}

export interface DecodeResult {
  name: string;
  streamBytes: number;
  js: Stat; // seconds per walk
  c: Stat;
  /** a read worker's cursor per walk: advance, and the full decode it replaced */
  cursor: Stat;
  cursorByDecode: Stat;
  pagesPerSec: number;
  ratioToC: number;
  bytesPerPage: number;
}

export function benchDecode(streams: Stream[], runs: number): DecodeResult[] {
  const cBin = compileC('decode');
  const dir = mkdtempSync(join(tmpdir(), 'tierd-stream-'));
  const out: DecodeResult[] = [];
  for (const s of streams) {
    const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
    const dec = new IdlePagesDecoder();
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const heat = new HeatTable(space);
    walkJs(heat, s, dec); // first walk allocates the tables
    global.gc?.();
    const grown = process.memoryUsage().rss - rss0;
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      walkJs(heat, s, dec);
      times.push((performance.now() - t0) / 1000);
    }
    const batch = new RunBatch(1 << 14);
    const cursor: number[] = [];
    const cursorByDecode: number[] = [];
    for (let r = 0; r < runs; r++) {
      let t0 = performance.now();
      cursorJs(s, dec, null);
      cursor.push((performance.now() - t0) / 1000);
      t0 = performance.now();
      cursorJs(s, dec, batch);
      cursorByDecode.push((performance.now() - t0) / 1000);
    }
    const file = join(dir, `${s.name}.bin`);
    writeFileSync(file, Buffer.concat(s.chunks));
    const cRuns = JSON.parse(execFileSync(cBin, [file, `0x${BASE.toString(16)}`, String(s.span), String(runs)], { encoding: 'utf8', maxBuffer: 1 << 20 })) as { seconds: number }[];
    const js = stat(times);
    const c = stat(cRuns.map((x) => x.seconds));
    out.push({ name: s.name, streamBytes: s.bytes, js, c, cursor: stat(cursor), cursorByDecode: stat(cursorByDecode), pagesPerSec: s.pages4k / js.median, ratioToC: c.median / js.median, bytesPerPage: Math.max(grown, heat.memoryBytes()) / s.entries });
  }
  return out;
}

export function decodeTable(rs: DecodeResult[], runs: number): string {
  return table(
    `Decode + accumulate, one walk (median of ${runs}, min–max); C baseline: same decode, same per-page table update, cc -O2`,
    ['stream', 'stream MB', 'tierd ms/walk', 'C ms/walk', '4K pages/s', 'ns/page', 'stream MB/s', 'speed vs C', 'goal'],
    rs.map((r) => [
      r.name,
      fmt.n(r.streamBytes / 1e6, 0),
      fmt.range(r.js, (x) => fmt.n(x * 1000, 0)),
      fmt.range(r.c, (x) => fmt.n(x * 1000, 0)),
      fmt.mps(r.pagesPerSec),
      fmt.n(1e9 / r.pagesPerSec, 2),
      fmt.n(r.streamBytes / r.js.median / 1e6, 0),
      `${fmt.n(r.ratioToC, 2)}×`,
      r.name.includes('30%') ? `${r.pagesPerSec >= 300e6 ? 'met' : 'MISSED'} ≥300M/s, ${r.ratioToC >= 0.8 ? 'met' : 'MISSED'} ≥0.8×` : '',
    ]),
  );
}

export function cursorTable(rs: DecodeResult[], runs: number): string {
  return table(
    `A read worker's cursor over one walk's reads (median of ${runs}, min–max): IdlePagesDecoder.advance, against the full decode it did before (same run)`,
    ['stream', 'advance ms/walk', 'full decode ms/walk', 'advance ÷ decode', 'main thread fold ms/walk'],
    rs.map((r) => [
      r.name,
      fmt.range(r.cursor, (x) => fmt.n(x * 1000, 1)),
      fmt.range(r.cursorByDecode, (x) => fmt.n(x * 1000, 1)),
      `${fmt.n(r.cursor.median / r.cursorByDecode.median, 2)}×`,
      fmt.n(r.js.median * 1000, 1),
    ]),
  );
}

export function memoryTable(rs: DecodeResult[]): string {
  return table('Heat table memory per tracked page (RSS growth after the first walk; goal ≤ 1.1 B per 4 KiB page)', ['stream', 'bytes/page', 'goal'], rs.filter((r) => r.name.includes('30%')).map((r) => [r.name, fmt.n(r.bytesPerPage, 3), r.bytesPerPage <= 1.1 ? 'met' : 'MISSED']));
}

export { GiB };
