// Runs inside the VM on a kernel with our /proc/PID/idle_pages patch. This process maps memory
// of its own at known addresses, touches a known set of pages, reads its own idle_pages through
// tierd's decoder and checks page by page: touched pages accessed, untouched ones idle, unmapped
// ranges absent, THPs as PMD records; a second pass right after reports everything idle. Also
// the read protocol (file position = decoded cursor, tail marker, EINVAL cases, EOF), the
// boundary page keeping its bit with tiny buffers, both parts of a PTE table shared by two VMAs,
// SCAN_HUGE_PAGE, THPs under SCAN_SKIM_IDLE, the per-thread file, the ptrace permission check
// and MPOL_MF_SW_YOUNG.
// Prints one VERDICT line per check; exits non-zero on a failure.
import { closeSync, constants, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import koffi from 'koffi';
import { decodeAll } from '../../../dist/src/formats/idle-pages/decode.js';
import { LinuxKernel } from '../../../dist/src/kernel/linux/linux-kernel.js';
import { verdicts } from './common.mjs';

const KiB = 1024, MiB = 1024 * KiB, PAGE = 4096, HUGE = 2 * MiB;
// with 5-level paging (LA57) every 64-bit task's TASK_SIZE is 2^56 - 4 KiB, past 2^53: such a
// position is reached with lseek and read(), never with a JS pread position
const LA57 = /\bla57\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
const TASK_SIZE = LA57 ? 0xfffffffffff000 : 0x7ffffffff000;
const { verdict, finish } = verdicts('idle_pages proof');

const libc = koffi.load(null);
const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)');
const munmap = libc.func('int munmap(uintptr_t addr, size_t len)');
const madvise = libc.func('int madvise(uintptr_t addr, size_t len, int advice)');
const lseekRaw = libc.func('long lseek(int fd, long off, int whence)');
const lseek = (fd, off, whence) => Number(lseekRaw(fd, off, whence));
const gettid = libc.func('int gettid(void)');
const MADV_HUGEPAGE = 14, MADV_NOHUGEPAGE = 15;

// 66 MiB so that a 2 MiB-aligned 64 MiB window fits: A = 8 MiB of 4 KiB pages with a 64 KiB
// hole punched in its second PMD, B = 8 MiB of THPs at +16 MiB, the rest mapped but never touched
const raw = mmap(null, 66 * MiB, 3, 0x22, -1, 0);
const rawAddr = Number(koffi.address(raw));
const base = Math.ceil(rawAddr / HUGE) * HUGE;
const mem = new Uint8Array(koffi.view(raw, 66 * MiB));
const at = (addr) => addr - rawAddr; // index into mem
const A = { start: base, end: base + 8 * MiB };
const B = { start: base + 16 * MiB, end: base + 24 * MiB };
const holeStart = base + 2 * MiB + 64 * KiB, holeEnd = holeStart + 64 * KiB;
if (madvise(A.start, A.end - A.start, MADV_NOHUGEPAGE) !== 0) throw new Error('madvise(NOHUGEPAGE) failed');
if (madvise(B.start, B.end - B.start, MADV_HUGEPAGE) !== 0) throw new Error('madvise(HUGEPAGE) failed');
for (let a = A.start; a < A.end; a += PAGE) mem[at(a)] = 1;
for (let a = B.start; a < B.end; a += PAGE) mem[at(a)] = 1;
if (munmap(holeStart, holeEnd - holeStart) !== 0) throw new Error('munmap failed');

const inHole = (a) => a >= holeStart && a < holeEnd;
const touchedA = (a) => ((a - A.start) / PAGE) % 3 === 0 && !inHole(a);
const thpTouched = (i) => i === 0 || i === 2;
function touch() {
  for (let a = A.start; a < A.end; a += PAGE) if (touchedA(a)) mem[at(a)]++;
  for (let i = 0; i < 4; i++) if (thpTouched(i)) mem[at(B.start + i * HUGE + 123 * PAGE)]++;
}

/** One pass: open, read [from, to) at the decoded cursor with count-byte reads, close. */
function pass({ from = base, to = base + 64 * MiB, count = 64 * KiB, flags = 0, path = '/proc/self/idle_pages' } = {}) {
  const fd = openSync(path, constants.O_RDONLY | flags);
  const buf = new Uint8Array(count);
  const records = [];
  let pos = from, reads = 0;
  try {
    while (pos < to) {
      const n = readSync(fd, buf, 0, count, pos);
      reads++;
      if (n === 0) break;
      const d = decodeAll(buf.subarray(0, n));
      records.push(...d.records);
      if (d.end <= pos) throw new Error(`cursor did not advance at ${pos.toString(16)}`);
      pos = d.end;
    }
  } finally {
    closeSync(fd);
  }
  return { records, reads };
}

/** address of every 4 KiB page in [lo, hi) → the record type that covered it (first wins) */
function pages(records, lo = base, hi = base + 64 * MiB) {
  const out = new Map();
  const dup = [];
  for (const r of records) {
    for (let a = r.addr; a < r.addr + r.count * r.pageSize; a += PAGE) {
      if (a < lo || a >= hi) continue;
      if (out.has(a)) dup.push(a);
      else out.set(a, { type: r.type, size: r.pageSize });
    }
  }
  return { map: out, dup };
}

function check(label, map, expectTouched) {
  let wrong = 0, holeSeen = 0, missing = 0, accessed = 0;
  const first = [];
  for (let a = A.start; a < A.end; a += PAGE) {
    const p = map.get(a);
    if (inHole(a)) {
      if (p && p.type !== 'PTE_HOLE') holeSeen++;
      continue;
    }
    if (!p) { missing++; continue; }
    const want = expectTouched && touchedA(a) ? 'PTE_ACCESSED' : 'PTE_IDLE';
    if (p.type === 'PTE_ACCESSED') accessed++;
    if (p.type !== want || p.size !== PAGE) { wrong++; if (first.length < 3) first.push(`${a.toString(16)}:${p.type}`); }
  }
  const pmd = [];
  for (let i = 0; i < 4; i++) {
    const p = map.get(B.start + i * HUGE);
    pmd.push(p ? p.type : 'none');
    const want = expectTouched && thpTouched(i) ? 'PMD_ACCESSED' : 'PMD_IDLE';
    if (!p || p.type !== want || p.size !== HUGE) wrong++;
  }
  verdict(wrong === 0 && missing === 0 && holeSeen === 0,
    `${label}: 4 KiB region ${expectTouched ? `${accessed} touched pages accessed, the rest idle` : 'all idle'}, ${missing} pages missing, unmapped range ${holeSeen === 0 ? 'absent' : `reported ${holeSeen}×`}; THPs ${pmd.join(' ')}${first.length ? `; wrong: ${first.join(' ')}` : ''}`);
}

// pass 0 clears what faulting set; then touch the known set
pass();
touch();
{
  const { records } = pass();
  const { map, dup } = pages(records);
  check('after touching', map, true);
  verdict(dup.length === 0, `no page reported twice in one pass (${dup.length})`);
  // the PMD at base+2MiB holds two VMAs split by the hole: both parts are reported
  const lo = map.get(holeStart - PAGE), hi = map.get(holeEnd);
  verdict(Boolean(lo && hi), `a PTE table shared by two VMAs is reported for both parts (${lo?.type}, ${hi?.type})`);
}
{
  const { records } = pass();
  check('second pass right after', pages(records).map, false);
}

// tiny buffers: every read stops on a full buffer, and the page at each boundary keeps its bit
touch();
{
  const { records, reads } = pass({ from: A.start, to: B.end, count: 20 });
  const { map, dup } = pages(records);
  check(`20-byte reads (${reads} reads)`, map, true);
  verdict(dup.length === 0 && reads > 100, `tiny buffers: ${reads} reads, no page reported twice, no boundary page lost`);
}

// the read protocol with read() at the file position
{
  const fd = openSync('/proc/self/idle_pages', constants.O_RDONLY);
  const buf = new Uint8Array(4096);
  let ok = true, why = '';
  if (lseek(fd, A.start, 0) !== A.start) { ok = false; why = 'SEEK_SET'; }
  for (let i = 0; i < 50 && ok; i++) {
    const before = lseek(fd, 0, 1);
    const n = readSync(fd, buf, 0, 4096, null);
    if (n === 0) break;
    const d = decodeAll(buf.subarray(0, n));
    const after = lseek(fd, 0, 1);
    if (after !== d.end) { ok = false; why = `read ${i} from ${before.toString(16)}: f_pos ${after.toString(16)} != cursor ${d.end.toString(16)}`; }
  }
  verdict(ok, `read() leaves the file position at the decoded cursor (SEEK_SET, SEEK_CUR)${why ? `: ${why}` : ''}`);
  verdict(lseek(fd, 0, 2) === -1 && koffi.errno() === 22, 'lseek(SEEK_END) is refused with EINVAL');
  closeSync(fd);
}
{
  const fd = openSync('/proc/self/idle_pages', constants.O_RDONLY);
  const buf = new Uint8Array(64);
  const errno = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.code; } };
  verdict(errno(() => readSync(fd, buf, 0, 64, A.start + 1)) === 'EINVAL', 'an unaligned offset gives EINVAL');
  verdict(errno(() => readSync(fd, buf, 0, 18, A.start)) === 'EINVAL', 'count < 19 gives EINVAL');
  const n19 = readSync(fd, buf, 0, 19, A.start);
  verdict(n19 >= 10 && n19 <= 19, `count = 19 reports something (${n19} bytes)`);
  // a range between VMAs: exactly one SET_HVA to where the next mapping begins
  const gapStart = A.end; // A ends; [A.end, B.start) was mapped but never touched: no records
  const n = readSync(fd, buf, 0, 20, gapStart);
  const d = decodeAll(buf.subarray(0, n));
  verdict(d.records.length === 0 && d.end > gapStart, `a range with no present pages returns only the tail marker (${n} bytes, cursor → +${((d.end - gapStart) / KiB).toFixed(0)} KiB)`);
  // past the last mapping: the tail marker is TASK_SIZE, and a read there is EOF
  const big = new Uint8Array(1 << 20);
  lseek(fd, 0x7ff000000000, 0);
  let tail = 0, eof = false;
  for (let i = 0; i < 64; i++) {
    const m = readSync(fd, big, 0, big.length, null);
    if (m === 0) { eof = true; break; }
    tail = decodeAll(big.subarray(0, m)).end;
  }
  verdict(tail === TASK_SIZE && eof && lseek(fd, 0, 1) === TASK_SIZE,
    `reading to the end leaves the cursor at TASK_SIZE ${tail.toString(16)}${LA57 ? ' (5-level paging)' : ''}, and the next read returns 0`);
  closeSync(fd);
}

// SCAN_HUGE_PAGE: PTE tables reported as PMD_IDLE_PTES without being walked, each once
{
  const { records } = pass({ flags: constants.O_NONBLOCK, from: A.start, to: B.end });
  const { map, dup } = pages(records, A.start, B.end);
  let ptes = 0, other = 0;
  for (let a = A.start; a < A.end; a += HUGE) (map.get(a)?.type === 'PMD_IDLE_PTES' ? ptes++ : other++);
  const thp = [0, 1, 2, 3].map((i) => map.get(B.start + i * HUGE)?.type);
  verdict(ptes === 4 && other === 0 && dup.length === 0 && thp.every((t) => t === 'PMD_ACCESSED' || t === 'PMD_IDLE'),
    `SCAN_HUGE_PAGE (O_NONBLOCK): the 4 PTE tables as PMD_IDLE_PTES once each (${ptes}), THPs as PMD records (${thp.join(' ')})`);
}

// SCAN_SKIM_IDLE (O_NOFOLLOW): a THP is a leaf, its own accessed bit is reported as before
{
  touch();
  const { records } = pass({ flags: constants.O_NOFOLLOW, from: B.start, to: B.end });
  const { map } = pages(records, B.start, B.end);
  const thp = [0, 1, 2, 3].map((i) => map.get(B.start + i * HUGE)?.type);
  const want = [0, 1, 2, 3].map((i) => (thpTouched(i) ? 'PMD_ACCESSED' : 'PMD_IDLE'));
  verdict(thp.join() === want.join(), `SCAN_SKIM_IDLE (O_NOFOLLOW): THPs keep their own bit (${thp.join(' ')})`);
}

// the per-thread file and the permission rule
{
  const path = `/proc/self/task/${gettid()}/idle_pages`;
  touch();
  const { records } = pass({ path });
  const { map } = pages(records);
  const acc = [...map.values()].filter((p) => p.type === 'PTE_ACCESSED').length;
  verdict(acc > 0, `the per-thread file ${path.replace(/\d+/, 'TID')} reports the same mm (${acc} accessed pages)`);
  const mode = statSync('/proc/self/idle_pages').mode & 0o777;
  verdict(mode === 0o600, `mode 0${mode.toString(8)}`);
  const r = spawnSync(process.execPath, ['-e', `process.setgid(65534); process.setuid(65534); try { require('fs').openSync('/proc/${process.pid}/idle_pages', 'r'); console.log('opened'); } catch (e) { console.log(e.code); }`], { encoding: 'utf8' });
  verdict(r.stdout.trim() === 'EACCES', `another uid without ptrace access is refused (${r.stdout.trim() || r.stderr.trim()})`);
}

// MPOL_MF_SW_YOUNG (kernel/0002): tierd's probe finds it, and a page moved with it is
// PG_referenced afterwards (kpageflags bit 2)
{
  const k = new LinuxKernel();
  verdict(k.swYoungSupported() === true, 'move_pages accepts MPOL_MF_SW_YOUNG (tierd\'s probe)');
  const fd = openSync('/proc/self/pagemap', constants.O_RDONLY);
  const kf = openSync('/proc/kpageflags', constants.O_RDONLY);
  const referenced = (addr) => {
    const e = new BigUint64Array(1);
    readSync(fd, new Uint8Array(e.buffer), 0, 8, (addr / PAGE) * 8);
    const pfn = Number(e[0] & ((1n << 55n) - 1n));
    readSync(kf, new Uint8Array(e.buffer), 0, 8, pfn * 8);
    return Number((e[0] >> 2n) & 1n);
  };
  const young = A.start + 3 * PAGE, plain = A.start + 6 * PAGE;
  const st = new Int32Array(1);
  k.movePages(process.pid, 1, Float64Array.of(young), Int32Array.of(1), st, 2 | 0x80);
  const youngSt = st[0];
  k.movePages(process.pid, 1, Float64Array.of(plain), Int32Array.of(1), st, 2);
  verdict(youngSt === 1 && referenced(young) === 1,
    `a page moved with MPOL_MF_SW_YOUNG is on node ${youngSt} and PG_referenced (${referenced(young)}; one moved without it: ${referenced(plain)})`);
  closeSync(fd);
  closeSync(kf);
}

finish();
