// Runs inside the VM on a kernel with our /proc/PID/idle_pages patch: SCAN_SKIM_IDLE (O_NOFOLLOW).
// This process maps 2 GiB of 4 KiB pages of its own and keeps 5% of it hot, in 4 MiB extents
// that do not start on a PMD boundary. It checks that a skimming walk finds exactly the pages a
// full walk finds (the touched ones), that the first skimming walk reads every table, that a
// page touched under a skimmed PMD is accessed on the next walk while the rest of its table
// stays idle, and measures the walk's cost with and without the flag (a ratio: TCG's absolute
// times do not transfer). That THPs keep their own bit under the flag is idle-proof's check.
// The cost is a measurement on a shared, noisy machine: under test:vm it is printed, not
// judged; the benchmark (npm run bench:vm:walk) sets TIERD_SKIM_GATE (the ratio to reach) and
// TIERD_SKIM_REPS (walk pairs timed, 3 by default) and judges it.
// Prints one VERDICT line per check and one SKIM_COST line; exits non-zero on a failure.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import koffi from 'koffi';
import { decodeAll } from '../../../dist/src/formats/idle-pages/decode.js';
import { verdicts } from './common.mjs';

const KiB = 1024, MiB = 1024 * KiB, PAGE = 4096, HUGE = 2 * MiB;
const SKIM = constants.O_NOFOLLOW;
const SIZE = Number(process.env.TIERD_SKIM_MIB ?? 2048) * MiB;
const EXTENT = 4 * MiB;
const REPS = Number(process.env.TIERD_SKIM_REPS ?? 3);
const GATE = process.env.TIERD_SKIM_GATE ? Number(process.env.TIERD_SKIM_GATE) : null;
const { verdict, finish } = verdicts('skim');

const libc = koffi.load(null);
const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)');
const madvise = libc.func('int madvise(uintptr_t addr, size_t len, int advice)');
const MADV_NOHUGEPAGE = 15;

/** A 2 MiB-aligned private anonymous region of `size` bytes, as an address and a byte view. */
function region(size, advice) {
  const raw = mmap(null, size + HUGE, 3, 0x22, -1, 0);
  const rawAddr = Number(koffi.address(raw));
  const start = Math.ceil(rawAddr / HUGE) * HUGE;
  if (madvise(start, size, advice) !== 0) throw new Error(`madvise(${advice}) failed`);
  const view = new Uint8Array(koffi.view(raw, size + HUGE));
  return { start, end: start + size, touch: (a) => { view[a - rawAddr]++; } };
}

const big = region(SIZE, MADV_NOHUGEPAGE);
const nExtents = Math.round((SIZE * 0.05) / EXTENT);
const stride = Math.floor(SIZE / nExtents / PAGE) * PAGE;
// 512 KiB past a PMD boundary, so every extent has partly-hot tables at both ends
const extents = Array.from({ length: nExtents }, (_, i) => big.start + i * stride + 512 * KiB);
const hotPages = nExtents * (EXTENT / PAGE);

function touchAll() {
  for (let a = big.start; a < big.end; a += PAGE) big.touch(a);
}
function touchHot() {
  for (const e of extents) for (let a = e; a < e + EXTENT; a += PAGE) big.touch(a);
}
const isHot = (a) => extents.some((e) => a >= e && a < e + EXTENT);

/**
 * One walk of [from, to) in 32 KiB reads (tierd's default), as tierd makes it: the accessed
 * 4 KiB pages, the tables skimmed, the PMD records, and the time spent in read(2).
 */
function walk(from, to, flags) {
  const fd = openSync('/proc/self/idle_pages', constants.O_RDONLY | flags);
  const buf = new Uint8Array(32 * KiB);
  const accessed = [];
  const skimmed = [];
  const pmd = new Map();
  let readNs = 0n;
  let pos = from;
  try {
    while (pos < to) {
      const t0 = process.hrtime.bigint();
      const n = readSync(fd, buf, 0, Math.min(buf.length, Math.max(19, Math.ceil((to - pos) / (8 * PAGE)))), pos);
      readNs += process.hrtime.bigint() - t0;
      if (n === 0) break;
      const d = decodeAll(buf.subarray(0, n));
      for (const r of d.records) {
        for (let k = 0; k < r.count; k++) {
          const a = r.addr + k * r.pageSize;
          if (a < from || a >= to) continue;
          if (r.type === 'PTE_ACCESSED') accessed.push(a);
          else if (r.type === 'PMD_IDLE_PTES') skimmed.push(a);
          else if (r.pageSize === HUGE) pmd.set(a, r.type);
        }
      }
      if (d.end <= pos) throw new Error(`cursor did not advance at ${pos.toString(16)}`);
      pos = d.end;
    }
  } finally {
    closeSync(fd); // flushes the TLB, so the next access walks the page tables again
  }
  return { accessed, skimmed, pmd, readMs: Number(readNs) / 1e6 };
}

/** pages reported accessed that are not hot, and hot pages not reported */
function compareToHot(accessed) {
  const got = new Set(accessed);
  let extra = 0;
  for (const a of got) if (!isHot(a)) extra++;
  let lost = 0;
  for (const e of extents) for (let a = e; a < e + EXTENT; a += PAGE) if (!got.has(a)) lost++;
  return { extra, lost };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// fault everything in: every table is new, so its PMD accessed bit is set
touchAll();
{
  const first = walk(big.start, big.end, SKIM);
  verdict(first.skimmed.length === 0 && first.accessed.length === SIZE / PAGE,
    `the first skimming walk reads every table (${first.skimmed.length} skimmed, ${first.accessed.length} of ${SIZE / PAGE} pages accessed)`);
}

// the same accessed pages with and without the flag, and the cost of each
const full = [], skim = [];
const coldTables = SIZE / HUGE - nExtents * 3; // an extent touches 3 tables (512 KiB + 2 MiB + 1.5 MiB)
for (let rep = 0; rep < REPS; rep++) {
  touchHot();
  const f = walk(big.start, big.end, 0);
  touchHot();
  const s = walk(big.start, big.end, SKIM);
  full.push(f.readMs);
  skim.push(s.readMs);
  const fc = compareToHot(f.accessed), sc = compareToHot(s.accessed);
  verdict(fc.extra === 0 && fc.lost === 0 && sc.extra === 0 && sc.lost === 0 && s.skimmed.length === coldTables,
    `walk ${rep + 1}: ${hotPages} hot pages; full walk ${f.accessed.length} accessed (${fc.extra} not hot, ${fc.lost} lost), skimming walk ${s.accessed.length} (${sc.extra} not hot, ${sc.lost} lost), ${s.skimmed.length} of ${coldTables} cold tables skimmed`);
}
const ratio = median(full) / median(skim);
console.log(`SKIM_COST ${JSON.stringify({ mib: SIZE / MiB, hotShare: 0.05, fullReadMs: full.map(Math.round), skimReadMs: skim.map(Math.round), ratio: Math.round(ratio * 10) / 10 })}`);
if (GATE !== null) {
  verdict(ratio >= GATE, `a ${SIZE / MiB} MiB process with 5% hot is walked ${ratio.toFixed(1)}× faster with SCAN_SKIM_IDLE (≥ ${GATE}×; read(2) time, median of ${REPS}: ${median(full).toFixed(0)} ms vs ${median(skim).toFixed(0)} ms)`);
}

// one page touched under a skimmed PMD: accessed on the next walk, the rest of its table idle
{
  const cold = big.start + Math.floor(stride / 2 / HUGE) * HUGE; // between the first two extents
  walk(big.start, big.end, SKIM);
  big.touch(cold + 77 * PAGE);
  const s = walk(cold - HUGE, cold + 2 * HUGE, SKIM);
  const skimmedHere = s.skimmed.filter((a) => a === cold).length;
  verdict(s.accessed.length === 1 && s.accessed[0] === cold + 77 * PAGE && skimmedHere === 0 && s.skimmed.length === 2,
    `a page touched under a skimmed PMD is accessed on the next walk (${s.accessed.map((a) => `+${(a - cold) / PAGE}`).join(' ')}), its table read, the two tables around it skimmed (${s.skimmed.length})`);
  const again = walk(cold - HUGE, cold + 2 * HUGE, SKIM);
  verdict(again.accessed.length === 0 && again.skimmed.length === 3, `untouched since, all three tables are skimmed (${again.skimmed.length})`);
}

finish();
