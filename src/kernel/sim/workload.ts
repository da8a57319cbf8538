import type { Phase } from './scenario.js';
import { Prng } from './prng.js';

/**
 * Access rates per page for one phase, in accesses per second per 4 KiB of memory
 * (a 2 MiB page gets the sum over its 512 parts). `units[i]` is the number of 4 KiB units
 * page i holds. Patterns place hot data by fraction of the process's bytes.
 */
export function phaseRates(phase: Phase, units: Uint16Array, seed: number, out: Float32Array): void {
  const n = units.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += units[i]!;
  switch (phase.pattern) {
    case 'idle':
      out.fill(0);
      return;
    case 'uniform':
      for (let i = 0; i < n; i++) out[i] = phase.rate * units[i]!;
      return;
    case 'hotset': {
      const hotUnits = phase.hotFraction * total;
      if (!phase.scatter) {
        const from = phase.hotOffset * total;
        const to = from + hotUnits;
        const warmTo = to + phase.warmFraction * total;
        let u = 0;
        for (let i = 0; i < n; i++) {
          const w = units[i]!;
          // overlap of [u, u + w) with the ranges, so hot bytes are exact even for 2 MiB pages
          const hot = overlap(u, u + w, from, to);
          const warm = overlap(u, u + w, to, warmTo);
          out[i] = hot * phase.hotRate + warm * phase.warmRate + (w - hot - warm) * phase.coldRate;
          u += w;
        }
      } else {
        const rng = new Prng(seed ^ 0x5bd1e995);
        const p = phase.hotFraction;
        const pw = p + phase.warmFraction;
        for (let i = 0; i < n; i++) {
          const r = rng.next();
          out[i] = (r < p ? phase.hotRate : r < pw ? phase.warmRate : phase.coldRate) * units[i]!;
        }
      }
      return;
    }
    case 'zipf': {
      // rank r (1-based) gets weight r^-theta per 4 KiB unit; ranks shuffled over units with the seed
      const order = new Prng(seed ^ 0x2545f491).permutation(total);
      let norm = 0;
      for (let r = 1; r <= total; r++) norm += Math.pow(r, -phase.theta);
      const scale = phase.totalRate / norm;
      let u = 0;
      for (let i = 0; i < n; i++) {
        let rate = 0;
        for (let k = 0; k < units[i]!; k++) rate += scale * Math.pow(order[u + k]! + 1, -phase.theta);
        out[i] = rate;
        u += units[i]!;
      }
      return;
    }
  }
}

const overlap = (a: number, b: number, from: number, to: number): number => Math.max(0, Math.min(b, to) - Math.max(a, from));
