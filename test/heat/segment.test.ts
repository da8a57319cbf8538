import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateSpace } from '../../src/heat/states.js';
import { HeatTable } from '../../src/heat/heat-table.js';
import { CHUNK_PAGES, CHUNK_SHIFT, MIXED, Segment } from '../../src/heat/segment.js';
import { IdlePagesDecoder } from '../../src/formats/idle-pages/decode.js';
import { StreamWriter } from '../../src/formats/idle-pages/stream-writer.js';
import { PageType } from '../../src/formats/idle-pages/types.js';
import { Prng } from '../../src/kernel/sim/prng.js';

const BASE = 0x7f0000000000;
const PAGE = 4096;
const CHUNKS = 8;
const PAGES = CHUNKS * CHUNK_PAGES;

/** One walk of [BASE, BASE + PAGES pages): `accessed` pages reported accessed, pages in `gap` not reported at all, the rest idle. */
function walk(heat: HeatTable, accessed: Set<number>, gap: [number, number] | null = null): void {
  const w = new StreamWriter();
  for (let i = 0; i < PAGES; i++) {
    if (gap !== null && i >= gap[0] && i < gap[1]) continue;
    w.add(BASE + i * PAGE, accessed.has(i) ? PageType.PTE_ACCESSED : PageType.PTE_IDLE, 1);
  }
  heat.beginWalk();
  heat.ingest(new IdlePagesDecoder(), w.buf, w.length);
  heat.endWalk();
}

/** Every chunk marked uniform holds that state in each of its pages; returns how many are marked. */
function checkUniform(heat: HeatTable): number {
  let marked = 0;
  for (const seg of heat.segments) {
    for (let c = 0; c < seg.chunks; c++) {
      const u = seg.uniform[c]!;
      if (u === MIXED) continue;
      marked++;
      const to = Math.min(seg.length, (c + 1) * CHUNK_PAGES);
      for (let i = c * CHUNK_PAGES; i < to; i++) assert.equal(seg.states[i], u, `chunk ${c} marked uniform ${u}, page ${i} holds ${seg.states[i]}`);
    }
  }
  return marked;
}

function only(heat: HeatTable): Segment {
  assert.equal(heat.segments.length, 1);
  return heat.segments[0]!;
}

test('an idle table settles into uniform chunks, and then its period end rewrites nothing', () => {
  const space = new StateSpace({ walks: 3, coldPeriods: 3, tiers: 2 });
  const heat = new HeatTable(space);
  const end = space.periodEndTable((seen, count) => seen === 3 && count === 0);
  const rewritten: number[] = [];
  for (let p = 0; p < 4; p++) {
    for (let w = 0; w < 3; w++) walk(heat, new Set());
    rewritten.push(heat.endPeriod(end));
  }
  // period 1: new pages, rewritten one by one; period 2: uniform chunks, whose cold streak
  // reaches its cap (a fill per chunk); after that an idle page's state is a fixed point
  assert.deepEqual(rewritten, [PAGES, PAGES, 0, 0]);
  assert.equal(checkUniform(heat), CHUNKS);
  // an accessed page costs its chunk, not the table (page 0 is the walk's first record, folded
  // by the general path; the other one by the fast path)
  for (let w = 0; w < 3; w++) walk(heat, new Set([0, 3 * CHUNK_PAGES + 17]));
  assert.deepEqual([...only(heat).uniform].map((u) => u === MIXED), [true, false, false, true, false, false, false, false]);
  assert.equal(heat.endPeriod(end), 2 * CHUNK_PAGES);
  assert.equal(checkUniform(heat), CHUNKS - 2, 'the accessed pages keep their chunks mixed');
});

test('a chunk marked uniform holds its state in every page through random walks, gaps, moves and period ends', () => {
  const space = new StateSpace({ walks: 3, coldPeriods: 2, tiers: 2 });
  const heat = new HeatTable(space);
  const end = space.periodEndTable((seen, count) => seen === 3 && count === 0, (seen, count) => seen === 3 && count === 3);
  const rnd = new Prng(7);
  let everMarked = 0;
  let hitUniform = 0;
  for (let p = 0; p < 40; p++) {
    // accessed runs in the lower half each period, the upper half idle but for the gaps of
    // one walk in ten and the single-page writes, so that those land on uniform chunks
    const busy = new Set<number>();
    for (let k = 0; k < 3; k++) {
      const from = Math.floor(rnd.next() * (PAGES / 2));
      const to = Math.min(PAGES / 2, from + 1 + Math.floor(rnd.next() * 40));
      for (let i = from; i < to; i++) busy.add(i);
    }
    for (let w = 0; w < 3; w++) {
      const g = rnd.next() < 0.1 ? Math.floor(rnd.next() * PAGES) : -1;
      if (g >= 0 && only(heat).uniform[g >>> CHUNK_SHIFT] !== MIXED) hitUniform++;
      walk(heat, busy, g >= 0 ? [g, Math.min(PAGES, g + 1 + Math.floor(rnd.next() * 1500))] : null);
      checkUniform(heat);
    }
    // the mover and the placement look-up write single pages: a move in the lower half, a
    // query that finds a page where it was believed anywhere
    const seg = only(heat);
    for (let k = 0; k < 4; k++) {
      const i = Math.floor(rnd.next() * seg.length);
      if (seg.uniform[i >>> CHUNK_SHIFT] !== MIXED) hitUniform++;
      const slot = space.tierSlot[seg.states[i]!]!;
      seg.put(i, space.withTier(seg.states[i]!, i < PAGES / 2 ? 1 + Math.floor(rnd.next() * 2) : slot));
      assert.equal(seg.uniform[i >>> CHUNK_SHIFT], MIXED, 'a put marks its chunk');
    }
    checkUniform(heat);
    heat.endPeriod(end);
    everMarked = Math.max(everMarked, checkUniform(heat));
  }
  assert.ok(everMarked >= CHUNKS / 2, `chunks were found uniform (${everMarked} at most)`);
  assert.ok(hitUniform >= 20, `gaps and writes landed on uniform chunks (${hitUniform} times)`);
});

test('countStates counts every page of a span by state, whatever its length, its marks and the number of states', () => {
  const rng = new Prng(5);
  // 189 states fit a byte; 3 tiers, 8 walks and 6 cold periods need two bytes a page
  for (const space of [new StateSpace({ walks: 5, coldPeriods: 2, tiers: 2 }), new StateSpace({ walks: 8, coldPeriods: 6, tiers: 3 })]) {
    const pages = 6 * CHUNK_PAGES + 777;
    const st = space.alloc(pages);
    // runs of one state, as neighbouring pages often are, and single pages between them
    for (let i = 0; i < pages; ) {
      const run = rng.next() < 0.5 ? 1 : 1 + Math.floor(rng.next() * 40);
      st.fill(Math.floor(rng.next() * space.size), i, Math.min(pages, i + run));
      i += run;
    }
    const seg = new Segment(BASE, 12, st, pages);
    for (const c of [1, 4]) {
      st.fill(c, c * CHUNK_PAGES, (c + 1) * CHUNK_PAGES);
      seg.uniform[c] = c;
    }
    for (let k = 0; k < 200; k++) {
      const from = Math.floor(rng.next() * pages);
      const to = Math.min(pages, from + Math.floor(rng.next() * (k % 2 === 0 ? 300 : pages - from + 1)));
      const got = new Float64Array(space.size);
      got[7] = 3; // it adds to what the array holds
      const read = seg.countStates(from, to, got);
      const want = new Float64Array(space.size);
      want[7] = 3;
      for (let i = from; i < to; i++) want[st[i]!]!++;
      assert.deepEqual(got, want, `span [${from}, ${to}) of ${space.size} states`);
      let mixed = 0;
      for (let i = from; i < to; i++) if (seg.uniform[i >>> CHUNK_SHIFT] === MIXED) mixed++;
      assert.equal(read, mixed, 'it reads only the pages of mixed chunks');
    }
  }
});
