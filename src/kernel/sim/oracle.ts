import type { SimProcess } from './sim-process.js';

/**
 * The best placement there could be: fill the fastest tier's capacity with the pages of the
 * highest access rate per byte. Returns the fraction of all accesses it serves from that tier.
 */
export function oracleTopFraction(procs: readonly SimProcess[], topCapacityBytes: number): number {
  let n4 = 0;
  let n2 = 0;
  for (const p of procs) for (let i = 0; i < p.pages; i++) (p.units[i] === 1 ? n4++ : n2++);
  const d4 = new Float64Array(n4); // rate per 4 KiB unit
  const d2 = new Float64Array(n2);
  let total = 0;
  let i4 = 0;
  let i2 = 0;
  for (const p of procs) {
    for (let i = 0; i < p.pages; i++) {
      const r = p.rate[i]!;
      total += r;
      if (p.units[i] === 1) d4[i4++] = r;
      else d2[i2++] = r / 512;
    }
  }
  if (total === 0) return 1;
  d4.sort();
  d2.sort();
  let room = topCapacityBytes;
  let got = 0;
  let a = n4 - 1;
  let b = n2 - 1;
  while (room > 0 && (a >= 0 || b >= 0)) {
    if (b < 0 || (a >= 0 && d4[a]! >= d2[b]!)) {
      if (room < 4096) break;
      got += d4[a--]!;
      room -= 4096;
    } else {
      if (room >= 2 ** 21) {
        got += d2[b]! * 512;
        room -= 2 ** 21;
      }
      b--;
    }
  }
  return got / total;
}
