import { closeSync, openSync, constants } from 'node:fs';
import koffi from 'koffi';
import { ERRNO, SyscallError, TierdError, fsErrorCode } from '../../util/errors.js';

// include/uapi/linux/fs.h (6.7+)
const PAGEMAP_SCAN = 0xc0606610; // _IOWR('f', 16, struct pm_scan_arg), 96 bytes
const PAGE_IS_PRESENT = 1 << 3;
const PAGE_IS_HUGE = 1 << 6;
const ARG_WORDS = 12;
const REGION_WORDS = 3; // struct page_region { start, end, categories }
const VEC_LEN = 512;

type IoctlExt = (fd: number, req: number, arg: unknown) => number;

interface Scanner {
  ioctl: IoctlExt;
  arg: BigUint64Array;
  argPtr: unknown;
  vec: BigUint64Array;
  vecAddr: bigint;
}

let scanner: Scanner | null = null;

function load(): Scanner {
  if (scanner) return scanner;
  const libc = koffi.load(null);
  const ioctl = libc.func('ioctl', 'int', ['int', 'unsigned long', 'void *']) as unknown as IoctlExt;
  // both buffers live in native memory: the kernel reads vec's address from the argument
  const argPtr = koffi.alloc('uint64_t', ARG_WORDS);
  const vecPtr = koffi.alloc('uint64_t', VEC_LEN * REGION_WORDS);
  scanner = {
    ioctl,
    argPtr,
    arg: new BigUint64Array(koffi.view(argPtr, ARG_WORDS * 8)),
    vec: new BigUint64Array(koffi.view(vecPtr, VEC_LEN * REGION_WORDS * 8)),
    vecAddr: BigInt(koffi.address(vecPtr)),
  };
  return scanner;
}

/**
 * The PMD-mapped (huge) parts of [ranges) in pid's address space, as sorted [start, end)
 * pairs, through the PAGEMAP_SCAN ioctl: one call returns whole ranges, so the cost follows
 * the page tables, not a pagemap entry per 4 KiB page. Returns null on kernels before 6.7.
 * Throws PROCESS_GONE when pid is gone.
 */
export function hugeMappedRanges(procRoot: string, pid: number, ranges: Float64Array): Float64Array | null {
  let fd: number;
  try {
    fd = openSync(`${procRoot}/${pid}/pagemap`, constants.O_RDONLY);
  } catch (e) {
    const code = fsErrorCode(e);
    if (code === 'ENOENT' || code === 'ESRCH') throw new TierdError('PROCESS_GONE', `process ${pid} is gone`);
    throw new TierdError('PERMISSION', `cannot open /proc/${pid}/pagemap: ${code ?? String(e)}`, 'tierd needs ptrace-read access to its targets: run as root or with CAP_SYS_PTRACE');
  }
  const s = load();
  const out: number[] = [];
  try {
    for (let r = 0; r < ranges.length; r += 2) {
      let start = ranges[r]!;
      const end = ranges[r + 1]!;
      while (start < end) {
        const a = s.arg;
        a.fill(0n);
        a[0] = BigInt(ARG_WORDS * 8);
        a[2] = BigInt(start);
        a[3] = BigInt(end);
        a[5] = s.vecAddr;
        a[6] = BigInt(VEC_LEN);
        a[9] = BigInt(PAGE_IS_HUGE | PAGE_IS_PRESENT);
        a[11] = BigInt(PAGE_IS_HUGE);
        const n = s.ioctl(fd, PAGEMAP_SCAN, s.argPtr);
        if (n < 0) {
          const errno = koffi.errno();
          if (errno === ERRNO.ENOTTY || errno === ERRNO.EINVAL) return null;
          if (errno === ERRNO.ESRCH) throw new TierdError('PROCESS_GONE', `process ${pid} is gone`);
          throw new SyscallError('ioctl(PAGEMAP_SCAN)', errno, `pid ${pid}`);
        }
        for (let i = 0; i < n; i++) {
          const lo = Number(s.vec[i * REGION_WORDS]!);
          const hi = Number(s.vec[i * REGION_WORDS + 1]!);
          // adjacent regions come back merged; keep the output merged across calls too
          if (out.length > 0 && out[out.length - 1] === lo) out[out.length - 1] = hi;
          else out.push(lo, hi);
        }
        const walkEnd = Number(a[4]!);
        if (n < VEC_LEN || walkEnd >= end) break;
        start = walkEnd;
      }
    }
  } finally {
    closeSync(fd);
  }
  return Float64Array.from(out);
}
