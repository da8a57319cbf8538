import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateSpace } from '../../src/heat/states.js';
import { HeatTable, Segment } from '../../src/heat/heat-table.js';
import { CHUNK_PAGES } from '../../src/heat/segment.js';
import { binPeriod, type BinnedPeriod } from '../../src/journal/bins.js';
import { Prng } from '../../src/kernel/sim/prng.js';

const BASE = 0x7f0000000000;
const SMALL = 4096;
const HUGE = 2 * 1024 * 1024;

/**
 * A table of one 4 KiB segment (6 chunks and a part) and one of 2 MiB pages: some chunks hold one
 * state in every page and are marked so, as the period end marks them; the rest are random.
 */
function table(space: StateSpace, rng: Prng): HeatTable {
  const heat = new HeatTable(space);
  const pages = 6 * CHUNK_PAGES + 300;
  const st = space.alloc(pages);
  const states = space.size;
  for (let i = 0; i < pages; i++) st[i] = (rng.next() * states) | 0;
  const small = new Segment(BASE, 12, st, pages);
  for (const c of [0, 2, 3, 6]) {
    const s = (rng.next() * states) | 0;
    const to = Math.min(pages, (c + 1) * CHUNK_PAGES);
    st.fill(s, c * CHUNK_PAGES, to);
    small.uniform[c] = s;
  }
  const hugeStart = BASE + 64 * HUGE;
  const hst = space.alloc(40);
  for (let i = 0; i < 40; i++) hst[i] = (rng.next() * states) | 0;
  heat.segments.push(small, new Segment(hugeStart, 21, hst, 40));
  return heat;
}

/** Ranges with gaps, cutting through both segments, starting and ending inside a huge page, and one range past them. */
function ranges(): Float64Array {
  const r = [BASE + 100 * SMALL, BASE + 2000 * SMALL, BASE + 2100 * SMALL, BASE + 5000 * SMALL + 17, BASE + 5200 * SMALL, BASE + 7000 * SMALL];
  r.push(BASE + 64 * HUGE, BASE + 70 * HUGE + 5 * SMALL, BASE + 75 * HUGE + 3 * SMALL, BASE + 200 * HUGE, BASE + 300 * HUGE, BASE + 301 * HUGE);
  return Float64Array.from(r);
}

/** The pass page by page, as it was written before it counted runs by state. */
function binPageByPage(heat: HeatTable, rs: Float64Array, space: StateSpace, bins: number): BinnedPeriod {
  let total = 0;
  for (let r = 0; r < rs.length; r += 2) total += rs[r + 1]! - rs[r]!;
  const binBytes = Math.max(4096, Math.ceil(total / bins / 4096) * 4096);
  const countSum = new Array<number>(bins).fill(0);
  const seenPages = new Array<number>(bins).fill(0);
  const known = new Array<number>(bins).fill(0);
  const tierBytes = Array.from({ length: space.tiers }, () => new Array<number>(bins).fill(0));
  let hotFast = 0;
  let hotSlow = 0;
  for (const seg of heat.segments) {
    for (let i = 0; i < seg.length; i++) {
      const addr = seg.start + i * seg.pageSize;
      let before = 0;
      let r = 0;
      for (; r < rs.length && rs[r + 1]! <= addr; r += 2) before += rs[r + 1]! - rs[r]!;
      if (r >= rs.length || addr < rs[r]!) continue;
      const b = Math.min(bins - 1, Math.floor((before + addr - rs[r]!) / binBytes));
      const s = seg.states[i]!;
      if (space.seen[s]! > 0) {
        countSum[b]! += space.count[s]! / space.seen[s]!;
        seenPages[b]!++;
      }
      const slot = space.tierSlot[s]!;
      if (slot === 0) continue;
      known[b]! += seg.pageSize;
      tierBytes[slot - 1]![b]! += seg.pageSize;
      if (space.seen[s] === space.N && space.count[s] === space.N) {
        if (slot === 1) hotFast += seg.pageSize;
        else hotSlow += seg.pageSize;
      }
    }
  }
  const pct = (x: number): number => Math.round(100 * x);
  return {
    binBytes,
    heat: countSum.map((c, b) => (seenPages[b]! > 0 ? pct(c / seenPages[b]!) : 0)),
    tiers: tierBytes.map((t) => t.map((f, b) => (known[b]! > 0 ? pct(f / known[b]!) : 0))),
    hotFast,
    hotSlow,
  };
}

test('journal bins: runs counted by state bin every page as a page-by-page pass does', () => {
  const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 3 });
  for (const seed of [1, 2, 3]) {
    for (const bins of [1, 7, 64]) {
      const heat = table(space, new Prng(seed));
      const got = binPeriod(heat, ranges(), space, bins);
      const want = binPageByPage(heat, ranges(), space, bins);
      assert.deepEqual({ ...got, heat: [] }, { ...want, heat: [] }, `seed ${seed}, ${bins} bins`);
      // the mean count is a sum of fractions, added in another order: equal up to rounding
      got.heat.forEach((h, b) => assert.ok(Math.abs(h - want.heat[b]!) <= 1, `seed ${seed}, ${bins} bins, bin ${b}: ${h} against ${want.heat[b]}`));
    }
  }
});

test('journal bins: a chunk marked uniform is binned from its mark, as its pages would be', () => {
  const space = new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 });
  const heat = table(space, new Prng(9));
  const marked = binPeriod(heat, ranges(), space, 16);
  const small = heat.segments[0]!;
  small.touchRange(0, small.length);
  assert.deepEqual(binPeriod(heat, ranges(), space, 16), marked, 'reading the same pages one by one bins them the same');
  // a mark that disagrees with its pages shows: the pass took the mark, not the pages
  const hot = space.make(5, 5, 0, 1);
  const cold = space.make(5, 0, 0, 2);
  small.states.fill(cold, 0, CHUNK_PAGES);
  small.uniform[0] = cold;
  const truth = binPeriod(heat, ranges(), space, 16);
  small.uniform[0] = hot;
  const inRange = CHUNK_PAGES - 100; // the first range starts at page 100
  assert.equal(binPeriod(heat, ranges(), space, 16).hotFast, truth.hotFast + inRange * SMALL);
  small.touchRange(0, 1);
  assert.deepEqual(binPeriod(heat, ranges(), space, 16), truth);
});
