/**
 * A target process for real-kernel tests: maps memory, touches some of it, prints the
 * addresses as one JSON line, then waits until its stdin closes.
 */
import koffi from 'koffi';

const libc = koffi.load(null);
const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)');
const madvise = libc.func('int madvise(void *addr, size_t len, int advice)');
const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x22;
const MADV_HUGEPAGE = 14;
const PAGE = 4096;
const HUGE = 2 * 1024 * 1024;

const pagesWanted = Number(process.argv[2] ?? 64);
const small = mmap(null, (pagesWanted + 1) * PAGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0);
const smallAddr = Number(koffi.address(small));
const view = new Uint8Array(koffi.view(small, (pagesWanted + 1) * PAGE));
for (let i = 0; i < pagesWanted; i++) view[i * PAGE] = 1; // the last page stays untouched
const pages = Array.from({ length: pagesWanted }, (_, i) => smallAddr + i * PAGE);

// a 2 MiB-aligned THP candidate inside a 4 MiB mapping
const big = mmap(null, 2 * HUGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0);
const bigAddr = Number(koffi.address(big));
const aligned = Math.ceil(bigAddr / HUGE) * HUGE;
let thp: number | null = null;
if (madvise(koffi.as(big, 'void *'), 2 * HUGE, MADV_HUGEPAGE) === 0) {
  const bv = new Uint8Array(koffi.view(big, 2 * HUGE));
  bv.fill(1, aligned - bigAddr, aligned - bigAddr + HUGE);
  thp = aligned;
}
process.stdout.write(JSON.stringify({ pid: process.pid, pages, untouched: smallAddr + pagesWanted * PAGE, thp }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
