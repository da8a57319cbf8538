import { closeSync, openSync, readSync, writeSync, constants } from 'node:fs';
import type { PhysPages } from '../types.js';
import { TierdError, fsErrorCode } from '../../util/errors.js';
import { preadFully, readBitmapWords, writeBitmapWords } from './files.js';

function bytes(a: Uint32Array, count: number): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, count * 8);
}

/** pagemap, kpageflags and the page_idle bitmap as files, opened once (pagemap per call). */
export class LinuxPhysPages implements PhysPages {
  private flagsFd = -1;
  private idleFd = -1;

  constructor(private readonly procRoot: string, private readonly sysRoot: string) {}

  private open(path: string, flags: number, why: string): number {
    try {
      return openSync(path, flags);
    } catch (e) {
      const code = fsErrorCode(e);
      if (code === 'EACCES' || code === 'EPERM') throw new TierdError('PERMISSION', `cannot open ${path}: ${code}`, `${why} needs CAP_SYS_ADMIN: run tierd as root`);
      throw new TierdError('NO_FEATURE', `cannot open ${path}: ${code ?? String(e)}`, 'the page_idle tracker needs CONFIG_IDLE_PAGE_TRACKING and CONFIG_PROC_PAGE_MONITOR');
    }
  }

  pagemap(pid: number, vaddr: number, count: number, out: Uint32Array): number {
    let fd: number;
    try {
      fd = openSync(`${this.procRoot}/${pid}/pagemap`, constants.O_RDONLY);
    } catch (e) {
      const code = fsErrorCode(e);
      if (code === 'ENOENT' || code === 'ESRCH') throw new TierdError('PROCESS_GONE', `process ${pid} is gone`);
      throw new TierdError('PERMISSION', `cannot open /proc/${pid}/pagemap: ${code ?? String(e)}`, 'the page_idle tracker needs CAP_SYS_ADMIN (PFNs are hidden without it)');
    }
    try {
      return preadFully((b, o, l, p) => readSync(fd, b, o, l, p), bytes(out, count), (vaddr / 4096) * 8) >>> 3;
    } catch (e) {
      if (fsErrorCode(e) === 'ESRCH') throw new TierdError('PROCESS_GONE', `process ${pid} is gone`);
      throw e;
    } finally {
      closeSync(fd);
    }
  }

  kpageflags(pfn: number, count: number, out: Uint32Array): number {
    if (this.flagsFd < 0) this.flagsFd = this.open(`${this.procRoot}/kpageflags`, constants.O_RDONLY, '/proc/kpageflags');
    const fd = this.flagsFd;
    return preadFully((b, o, l, p) => readSync(fd, b, o, l, p), bytes(out, count), pfn * 8) >>> 3;
  }

  idleRead(word: number, count: number, out: Uint32Array): number {
    if (this.idleFd < 0) this.idleFd = this.open(`${this.sysRoot}/kernel/mm/page_idle/bitmap`, constants.O_RDWR, 'page_idle');
    const fd = this.idleFd;
    return readBitmapWords((b, o, l, p) => readSync(fd, b, o, l, p), bytes(out, count), word * 8);
  }

  idleWrite(word: number, count: number, data: Uint32Array): void {
    if (this.idleFd < 0) this.idleFd = this.open(`${this.sysRoot}/kernel/mm/page_idle/bitmap`, constants.O_RDWR, 'page_idle');
    const fd = this.idleFd;
    writeBitmapWords((b, o, l, p) => writeSync(fd, b, o, l, p), bytes(data, count), word * 8);
  }
}
