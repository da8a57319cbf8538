import { accessSync, closeSync, existsSync, openSync, readSync, constants } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import type { AccessFile, IdlePagesVariant, TrackerSupport } from '../types.js';
import { SyscallError, TierdError, fsErrorCode } from '../../util/errors.js';
import { listDir, readText } from './files.js';
import { loadNative } from './ffi.js';

const IDLE_PAGE_SET_PID = 0x40040101;
const IDLE_SCAN_ADD_FLAGS = 0x40046600;

function errnoOf(e: unknown): number {
  if (e && typeof e === 'object' && 'errno' in e) {
    const n = (e as { errno: unknown }).errno;
    if (typeof n === 'number') return Math.abs(n);
  }
  const code = fsErrorCode(e);
  const n = code ? (constants as unknown as Record<string, number>)[code] : undefined;
  return typeof n === 'number' ? n : 5;
}

class FdAccessFile implements AccessFile {
  constructor(private fd: number) {}
  pread(buf: Uint8Array, count: number, pos: number): number {
    try {
      return readSync(this.fd, buf, 0, count, pos);
    } catch (e) {
      throw new SyscallError('read', errnoOf(e), 'idle_pages');
    }
  }
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd); // the kernel flushes the target's TLB here
    this.fd = -1;
  }
}

/** Open the access file of pid for one walk, in the variant this kernel offers. */
export function openIdlePages(procRoot: string, variant: IdlePagesVariant, pid: number, flags: number): AccessFile {
  const path = variant === 'mod' ? `${procRoot}/idle_pages` : `${procRoot}/${pid}/idle_pages`;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | flags);
  } catch (e) {
    const code = fsErrorCode(e);
    if (code === 'ESRCH' || (code === 'ENOENT' && !existsSync(`${procRoot}/${pid}`))) {
      throw new TierdError('PROCESS_GONE', `process ${pid} is gone`);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new TierdError('PERMISSION', `cannot open ${path}: ${code}`, 'tierd needs ptrace-read access to its targets: run as root or with CAP_SYS_PTRACE');
    }
    if (code === 'ENOENT' || code === 'ENODEV') {
      throw new TierdError('NO_FEATURE', `${path} is missing (${code})`, 'this kernel has no idle_pages support; use scan.tracker: auto');
    }
    throw e;
  }
  if (variant === 'mod') {
    // the module takes the pid by value as the ioctl argument
    const n = loadNative();
    if (n.ioctl(fd, IDLE_PAGE_SET_PID, pid) < 0) {
      const errno = n.errno();
      closeSync(fd);
      if (errno === 3) throw new TierdError('PROCESS_GONE', `process ${pid} is gone`);
      throw new SyscallError('ioctl(IDLE_PAGE_SET_PID)', errno);
    }
  }
  return new FdAccessFile(fd);
}

/** Which access-bit sources this kernel offers, and why the others are missing. */
export function detectTrackers(procRoot: string, sysRoot: string): TrackerSupport {
  const missing: Record<string, string> = {};
  let idlePages: IdlePagesVariant | null = null;
  if (existsSync(`${procRoot}/idle_pages`)) idlePages = 'mod';
  else if (existsSync(`${procRoot}/self/idle_pages`)) idlePages = isEtmem(`${procRoot}/self/idle_pages`) ? 'etk' : 'rfc';
  else missing.idle_pages = 'no /proc/PID/idle_pages: the kernel lacks the 2018 "PMEM NUMA node and hotness accounting" patches (or etmem_scan / kvm_ept_idle)';
  const pageIdle = pageIdleUsable(procRoot, sysRoot);
  if (!pageIdle.ok) missing.page_idle = pageIdle.why;
  const damon = damonVaddr(procRoot, sysRoot);
  if (damon.ok && !writable(`${sysRoot}/kernel/mm/damon/admin/kdamonds/nr_kdamonds`)) {
    missing.damon = `${sysRoot}/kernel/mm/damon is read-only for tierd (the default profile): add ${DROP_INS}/damon.conf, or in a container the damon profile (deploy/kubernetes/damon)`;
  } else if (!damon.ok) missing.damon = damon.why;
  return { idlePages, pageIdle: pageIdle.ok, damon: damon.ok && missing.damon === undefined, missing, skimUnsafe: mglruClearsNonleafYoung(sysRoot) };
}

/** lru_gen's capability bit LRU_GEN_NONLEAF_YOUNG (Documentation/admin-guide/mm/multigen_lru.rst) */
const LRU_GEN_NONLEAF_YOUNG = 0x4;

function mglruClearsNonleafYoung(sysRoot: string): string | null {
  const caps = Number.parseInt(readText(`${sysRoot}/kernel/mm/lru_gen/enabled`)?.trim() ?? '0', 16);
  if (!Number.isFinite(caps) || (caps & LRU_GEN_NONLEAF_YOUNG) === 0) return null;
  return 'MGLRU clears PMD accessed bits (lru_gen enabled has 0x4, LRU_GEN_NONLEAF_YOUNG)';
}

/** where the systemd profiles for the stock-kernel trackers live (README, "Installing") */
const DROP_INS = 'systemd/tierd.service.d';
const CAP_SYS_ADMIN = 21n;

/**
 * page_idle needs the bitmap writable (marking pages idle is a write) and CAP_SYS_ADMIN (without
 * it /proc/PID/pagemap reads frame numbers as zero, and every page would look like frame 0).
 */
function pageIdleUsable(procRoot: string, sysRoot: string): { ok: boolean; why: string } {
  const bitmap = `${sysRoot}/kernel/mm/page_idle/bitmap`;
  if (!existsSync(bitmap)) return { ok: false, why: `no ${bitmap}: the kernel was built without CONFIG_IDLE_PAGE_TRACKING` };
  if (!hasCapability(procRoot, CAP_SYS_ADMIN)) return { ok: false, why: `page_idle needs CAP_SYS_ADMIN (frame numbers in pagemap), which tierd lacks: add ${DROP_INS}/page_idle.conf, or in a container the page_idle profile (deploy/kubernetes/page_idle)` };
  if (!writable(bitmap)) return { ok: false, why: `${bitmap} is read-only for tierd (the default profile): add ${DROP_INS}/page_idle.conf, or in a container the page_idle profile (deploy/kubernetes/page_idle)` };
  return { ok: true, why: '' };
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Is `cap` in this process's effective set (/proc/self/status CapEff)? */
function hasCapability(procRoot: string, cap: bigint): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readText(`${procRoot}/self/status`) ?? '');
  return m !== null && ((BigInt(`0x${m[1]}`) >> cap) & 1n) === 1n;
}

function isEtmem(path: string): boolean {
  let fd = -1;
  try {
    fd = openSync(path, constants.O_RDONLY);
    return loadNative().ioctlPtr(fd, IDLE_SCAN_ADD_FLAGS, new Uint32Array(1)) === 0;
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** DAMON vaddr, read without writing anything under the DAMON sysfs tree. */
function damonVaddr(procRoot: string, sysRoot: string): { ok: boolean; why: string } {
  const admin = `${sysRoot}/kernel/mm/damon/admin`;
  if (!existsSync(admin)) return { ok: false, why: 'no /sys/kernel/mm/damon/admin: the kernel was built without CONFIG_DAMON_SYSFS' };
  for (const k of listDir(`${admin}/kdamonds`)) {
    for (const c of listDir(`${admin}/kdamonds/${k}/contexts`)) {
      const ops = readText(`${admin}/kdamonds/${k}/contexts/${c}/avail_operations`);
      if (ops !== undefined) {
        return ops.split(/\s+/).includes('vaddr')
          ? { ok: true, why: '' }
          : { ok: false, why: `DAMON offers only "${ops.trim()}": the kernel was built without CONFIG_DAMON_VADDR` };
      }
    }
  }
  // no context to read (and creating one to look would be a write): ask the kernel's config
  const cfg = kernelConfig(procRoot);
  if (cfg === null) return { ok: false, why: 'cannot tell whether DAMON offers vaddr (no kdamond to read, no /proc/config.gz or /boot/config-$(uname -r))' };
  return /^CONFIG_DAMON_VADDR=y/m.test(cfg) ? { ok: true, why: '' } : { ok: false, why: 'the kernel was built without CONFIG_DAMON_VADDR' };
}

function kernelConfig(procRoot: string): string | null {
  try {
    return gunzipSync(readFileSync(`${procRoot}/config.gz`)).toString('utf8');
  } catch {
    const release = readText(`${procRoot}/sys/kernel/osrelease`)?.trim();
    return release ? (readText(`/boot/config-${release}`) ?? null) : null;
  }
}
