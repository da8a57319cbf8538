import { readFileSync, readdirSync } from 'node:fs';
import { ERRNO, SyscallError } from '../../util/errors.js';

/** Read a small text file, or undefined when it is absent or unreadable. */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function readInt(path: string): number | undefined {
  const t = readText(path);
  if (t === undefined) return undefined;
  const n = Number(t.trim());
  return Number.isFinite(n) ? n : undefined;
}

export function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** Parse a kernel cpulist/nodelist ("0-3,8,10-11"). */
export function parseList(text: string | undefined): number[] {
  const out: number[] = [];
  if (!text) return out;
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) continue;
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

type Io = (buf: Uint8Array, offset: number, length: number, position: number) => number;

/**
 * pread until `buf` is full or the file ends; returns the bytes read. sysfs binary files
 * (page_idle/bitmap) answer at most one page per call, so a single read of a larger span
 * leaves the rest of the buffer untouched.
 */
export function preadFully(read: Io, buf: Uint8Array, position: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = read(buf, done, buf.length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/**
 * The page_idle bitmap's end, as the kernel draws it (mm/page_idle.c): frames at or above
 * max_pfn answer ENXIO; a call counts only whole 64-frame words, so the last word below
 * max_pfn, when max_pfn is not a multiple of 64, is processed (its idle flags set on a write)
 * but answers 0 bytes. Both mean: nothing more of this span exists.
 */
function pastBitmapEnd(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENXIO';
}

/** Words of the idle bitmap read into `buf` from byte `position`; a short count = the rest is unknown. */
export function readBitmapWords(read: Io, buf: Uint8Array, position: number): number {
  try {
    return preadFully(read, buf, position) >>> 3;
  } catch (e) {
    if (pastBitmapEnd(e)) return 0;
    throw e;
  }
}

/** Write `buf` to the idle bitmap from byte `position`, up to the end of physical memory. */
export function writeBitmapWords(write: Io, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    let n: number;
    try {
      n = write(buf, done, buf.length - done, position + done);
    } catch (e) {
      if (pastBitmapEnd(e)) return;
      throw e;
    }
    if (n === 0) return; // the last partial word: applied, not counted
    if (n < 0) throw new SyscallError('pwrite', ERRNO.EIO, `no progress at byte ${position + done}`);
    done += n;
  }
}
