// npm run fuzz [-- COUNT] [-- --seed S]: the idle_pages decoder and the heat table's fused ingest
// on COUNT (default 10 million) random and mutated streams. Every stream goes through both; the
// only exception allowed is DecodeError, and no stream may take 100 ms. Prints one summary line
// and exits 1 on a failure, with the stream in hex to reproduce it.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DecodeError, IdlePagesDecoder, RunBatch } from '../src/formats/idle-pages/decode.js';
import { PAGE_SIZE_OF, SET_HVA, TASK_SIZE } from '../src/formats/idle-pages/types.js';
import { HeatTable } from '../src/heat/heat-table.js';
import { StateSpace } from '../src/heat/states.js';
import { Prng } from '../src/kernel/sim/prng.js';

const LIMIT_MS = 100;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const SIZE_OF = PAGE_SIZE_OF;

/** A valid stream: runs of every record type at aligned addresses, ascending, a SET_HVA per gap. */
function validStream(rng: Prng): Uint8Array {
  const out: number[] = [];
  let va = Math.floor(rng.next() * 2 ** 34) * 4096;
  let cursor = -1;
  const runs = 1 + Math.floor(rng.next() * 24);
  for (let r = 0; r < runs; r++) {
    const type = Math.floor(rng.next() * 10);
    const size = SIZE_OF[type]!;
    va = Math.ceil(va / size) * size;
    const pages = 1 + Math.floor(rng.next() * 16);
    if (va + pages * size >= TASK_SIZE) break;
    if (va !== cursor) out.push(SET_HVA, ...bigEndian64(va));
    for (let left = pages; left > 0; left -= 15) out.push((type << 4) | Math.min(left, 15));
    va += pages * size;
    cursor = va;
    if (rng.next() < 0.3) va += Math.floor(rng.next() * 64) * 4096;
  }
  return Uint8Array.from(out);
}

function bigEndian64(a: number): number[] {
  const hi = Math.floor(a / 4294967296);
  const lo = a - hi * 4294967296;
  return [hi >>> 24, (hi >>> 16) & 255, (hi >>> 8) & 255, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255];
}

/** Flip, drop, duplicate or truncate bytes of a valid stream. */
function mutate(rng: Prng, s: Uint8Array): Uint8Array {
  const out = Array.from(s);
  const edits = 1 + Math.floor(rng.next() * 4);
  for (let e = 0; e < edits && out.length > 0; e++) {
    const at = Math.floor(rng.next() * out.length);
    const op = rng.next();
    if (op < 0.4) out[at] = Math.floor(rng.next() * 256);
    else if (op < 0.6) out.splice(at, 1);
    else if (op < 0.8) out.splice(at, 0, ...out.slice(at, at + 1 + Math.floor(rng.next() * 16)));
    else out.length = at;
  }
  return Uint8Array.from(out);
}

function randomStream(rng: Prng): Uint8Array {
  const b = new Uint8Array(1 + Math.floor(rng.next() * 256));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(rng.next() * 256);
  if (rng.next() < 0.5) b[0] = 0xa0; // start with a SET_HVA, so the bytes after it are records
  return b;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function main(): void {
  const count = Number(process.argv.find((a, i) => i >= 2 && /^\d+$/.test(a) && process.argv[i - 1] !== '--seed') ?? 10_000_000);
  const seed = Number(arg('--seed') ?? 1);
  // FUZZ_TRACE=file: each stream (and the valid one before it) is written there before it runs,
  // so a stream that never finishes can be found
  const trace = process.env.FUZZ_TRACE;
  const rng = new Prng(seed);
  const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
  const batch = new RunBatch(1024);
  const dec = new IdlePagesDecoder();
  const fused = new IdlePagesDecoder();
  let heat: HeatTable;
  let rejected = 0;
  let bytes = 0;
  let slowest = 0;
  const t0 = performance.now();
  for (let n = 0; n < count; n++) {
    const kind = n % 3;
    const valid = kind === 0 ? null : validStream(rng);
    const s = valid === null ? randomStream(rng) : kind === 1 ? mutate(rng, valid) : valid;
    bytes += s.length;
    if (trace !== undefined) writeFileSync(trace, `${valid === null ? '' : hex(valid)} ${hex(s)}\n`);
    // a fresh table that already holds the valid stream's pages, so the mutant goes through the
    // fused path's fast mode (inside known segments) as well as its slow one
    heat = new HeatTable(space);
    if (valid !== null) walk(heat, fused, valid, seed);
    const start = performance.now();
    let bad = false;
    try {
      batch.length = 0;
      dec.reset();
      dec.decode(s, s.length, batch);
    } catch (e) {
      if (!(e instanceof DecodeError)) fail(`decode threw ${String(e)}`, s, seed);
      bad = true;
    }
    const refused = walk(heat, fused, s, seed);
    if (refused !== bad) fail(`ingest ${refused ? 'refused' : 'accepted'} a stream the decoder ${bad ? 'refused' : 'accepted'}`, s, seed);
    const ms = performance.now() - start;
    slowest = Math.max(slowest, ms);
    if (ms > LIMIT_MS) fail(`a stream took ${ms.toFixed(1)} ms`, s, seed);
    if (bad) rejected++;
  }
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(`fuzz: ${count} streams (${(bytes / 1e6).toFixed(0)} MB, seed ${seed}) in ${secs.toFixed(0)} s: ${rejected} refused with DecodeError, no other exception, slowest ${slowest.toFixed(2)} ms (limit ${LIMIT_MS} ms)\n`);
}

/** One walk of `s` through the fused ingest: true when it was refused with a DecodeError. */
function walk(heat: HeatTable, dec: IdlePagesDecoder, s: Uint8Array, seed: number): boolean {
  dec.reset();
  heat.beginWalk(false);
  try {
    heat.ingest(dec, s, s.length);
    return false;
  } catch (e) {
    if (!(e instanceof DecodeError)) fail(`ingest threw ${String(e)}`, s, seed);
    return true;
  } finally {
    heat.endWalk();
  }
}

function fail(why: string, s: Uint8Array, seed: number): never {
  process.stderr.write(`fuzz: ${why} (seed ${seed}); stream ${hex(s)}\n`);
  process.exit(1);
}

main();
