import koffi from 'koffi';
import { TierdError } from '../../util/errors.js';

/**
 * The native calls tierd needs, bound once through koffi with fixed prototypes (glibc's
 * syscall() is an assembly stub, so a fixed prototype is correct for integer and pointer
 * arguments on x86_64 and aarch64, and faster than the variadic form).
 */
export const SYS_move_pages: number | null = process.arch === 'x64' ? 279 : process.arch === 'arm64' ? 239 : null;
const SYS_set_mempolicy: number | null = process.arch === 'x64' ? 238 : process.arch === 'arm64' ? 237 : null;
const SYS_migrate_pages: number | null = process.arch === 'x64' ? 256 : process.arch === 'arm64' ? 238 : null;

type SyscallFn = (nr: number, pid: number, count: number, pages: BigUint64Array | null, nodes: Int32Array | null, status: Int32Array | null, flags: number) => number;
type IoctlFn = (fd: number, req: number, arg: number) => number;
type IoctlPtrFn = (fd: number, req: number, arg: Uint32Array) => number;
type SetMempolicyFn = (nr: number, mode: number, nodemask: BigUint64Array | null, maxnode: number) => number;
type MigratePagesFn = (nr: number, pid: number, maxnode: number, from: BigUint64Array, to: BigUint64Array) => number;

interface Native {
  movePages: SyscallFn;
  ioctl: IoctlFn;
  ioctlPtr: IoctlPtrFn;
  /** set_mempolicy(2) and migrate_pages(2), bound to their syscall numbers; null on other architectures */
  setMempolicy: ((mode: number, nodemask: BigUint64Array | null, maxnode: number) => number) | null;
  migratePages: ((pid: number, maxnode: number, from: BigUint64Array, to: BigUint64Array) => number) | null;
  errno: () => number;
}

let native: Native | null = null;

export function loadNative(): Native {
  if (native) return native;
  if (SYS_move_pages === null) {
    throw new TierdError('UNSUPPORTED_ARCH', `move_pages has no known syscall number on ${process.arch}`, 'run tierd on x86_64 or aarch64');
  }
  const libc = koffi.load(null);
  const movePages = libc.func('long syscall(long nr, int pid, unsigned long count, void *pages, int *nodes, int *status, int flags)') as unknown as SyscallFn;
  const ioctl = libc.func('int ioctl(int fd, unsigned long req, long arg)') as unknown as IoctlFn;
  const ioctlPtr = libc.func('ioctl', 'int', ['int', 'unsigned long', 'void *']) as unknown as IoctlPtrFn;
  const setMempolicy = libc.func('syscall', 'long', ['long', 'int', 'void *', 'unsigned long']) as unknown as SetMempolicyFn;
  const migratePages = libc.func('syscall', 'long', ['long', 'int', 'unsigned long', 'void *', 'void *']) as unknown as MigratePagesFn;
  native = {
    movePages, ioctl, ioctlPtr, errno: () => koffi.errno(),
    setMempolicy: SYS_set_mempolicy === null ? null : (mode, mask, maxnode) => setMempolicy(SYS_set_mempolicy, mode, mask, maxnode),
    migratePages: SYS_migrate_pages === null ? null : (pid, maxnode, from, to) => migratePages(SYS_migrate_pages, pid, maxnode, from, to),
  };
  return native;
}
