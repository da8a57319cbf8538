import { TierdError } from '../../util/errors.js';
import { PAGE_SIZE_OF, PAGE_TYPE_NAMES, SET_HVA } from './types.js';

/**
 * Decoded records of one or more reads, as parallel typed arrays (never an object per record).
 * Record i covers pages [start[i], start[i] + count[i] × size(type[i])).
 */
export class RunBatch {
  start: Float64Array;
  count: Uint16Array;
  type: Uint8Array;
  length = 0;
  constructor(capacity = 4096) {
    this.start = new Float64Array(capacity);
    this.count = new Uint16Array(capacity);
    this.type = new Uint8Array(capacity);
  }
  clear(): void {
    this.length = 0;
  }
  /** Make room for `more` records beyond the current length. */
  reserve(more: number): void {
    const need = this.length + more;
    if (need <= this.start.length) return;
    let cap = this.start.length * 2;
    while (cap < need) cap *= 2;
    const s = new Float64Array(cap);
    s.set(this.start.subarray(0, this.length));
    const c = new Uint16Array(cap);
    c.set(this.count.subarray(0, this.length));
    const t = new Uint8Array(cap);
    t.set(this.type.subarray(0, this.length));
    this.start = s;
    this.count = c;
    this.type = t;
  }
}

export class DecodeError extends TierdError {
  readonly offset: number;
  readonly byte: number;
  constructor(offset: number, byte: number, what: string) {
    super(
      'DECODE',
      `decode error at byte ${offset}: ${what} (byte 0x${byte.toString(16).padStart(2, '0')})`,
      'the stream is not an idle_pages stream, or it was cut; read it again from the start of a walk',
    );
    this.offset = offset;
    this.byte = byte;
  }
}

export const NO_CURSOR = -1;

/** The address of the SET_HVA at buf[i] (9 bytes, big-endian); `offset` is for errors. */
export function readSetHva(buf: Uint8Array, i: number, len: number, offset: number): number {
  if (i + 9 > len) throw new DecodeError(offset, SET_HVA, 'truncated SET_HVA');
  const hi = ((buf[i + 1]! << 24) | (buf[i + 2]! << 16) | (buf[i + 3]! << 8) | buf[i + 4]!) >>> 0;
  const lo = ((buf[i + 5]! << 24) | (buf[i + 6]! << 16) | (buf[i + 7]! << 8) | buf[i + 8]!) >>> 0;
  if ((lo & 0xfff) !== 0) throw new DecodeError(offset, SET_HVA, 'SET_HVA address not aligned to 4 KiB');
  return hi * 4294967296 + lo;
}

/** Why a record byte is invalid at cursor va, or null when it is valid. */
export function recordError(b: number, va: number, offset: number): DecodeError | null {
  const t = b >>> 4;
  if (t >= 10) return new DecodeError(offset, b, t === 10 ? 'unknown command' : `invalid page type ${t}`);
  if ((b & 15) === 0) return new DecodeError(offset, b, 'record with zero pages');
  if (va === NO_CURSOR) return new DecodeError(offset, b, 'record before any SET_HVA');
  const size = PAGE_SIZE_OF[t]!;
  // 4 KiB records stay aligned once SET_HVA was; larger ones must start on their own size
  if (size !== 4096 && va % size !== 0) return new DecodeError(offset, b, `record not aligned to its ${size >>> 10} KiB page`);
  return null;
}

/**
 * Incremental decoder of the idle_pages byte stream (spec §1.2–§1.5). The cursor carries over
 * between buffers, so a stream of many reads decodes as one. Addresses are JS numbers: every
 * record address is a multiple of 4096, so values up to 2^65 are exact.
 *
 * With `merge`, a record that continues the previous one (same type, contiguous) extends it:
 * the kernel starts a new byte every 15 pages and after every 8000-byte chunk, and the
 * accumulator does not care about either.
 */
export class IdlePagesDecoder {
  /** Cursor: the address the next record starts at, or -1 before the first SET_HVA. */
  cursor = NO_CURSOR;
  /** Bytes consumed over all buffers, for error offsets. */
  consumed = 0;
  readonly merge: boolean;

  constructor(opts: { merge?: boolean } = {}) {
    this.merge = opts.merge ?? true;
  }

  reset(): void {
    this.cursor = NO_CURSOR;
    this.consumed = 0;
  }

  /**
   * Decode buf[0, len) and append its records to `out`. Throws DecodeError on invalid input,
   * leaving `out` with the records before the bad byte.
   */
  decode(buf: Uint8Array, len: number, out: RunBatch): void {
    out.reserve(len);
    const start = out.start;
    const count = out.count;
    const type = out.type;
    const merge = this.merge;
    let n = out.length;
    let va = this.cursor;
    // lastEnd: the address right after the last record of `out` (merge target), -1 = none
    let lastEnd = n > 0 && merge ? start[n - 1]! + count[n - 1]! * PAGE_SIZE_OF[type[n - 1]!]! : -1;
    let lastType = n > 0 ? type[n - 1]! : 255;
    let i = 0;
    try {
      while (i < len) {
        const b = buf[i]!;
        if (b === SET_HVA) {
          va = readSetHva(buf, i, len, this.consumed + i);
          i += 9;
          continue;
        }
        const t = b >>> 4;
        const nr = b & 15;
        const size = PAGE_SIZE_OF[t]!;
        if (t >= 10 || nr === 0 || va === NO_CURSOR || (size !== 4096 && va % size !== 0)) throw recordError(b, va, this.consumed + i)!;
        if (t === lastType && va === lastEnd && count[n - 1]! < 65000) {
          count[n - 1] = count[n - 1]! + nr;
        } else {
          start[n] = va;
          count[n] = nr;
          type[n] = t;
          n++;
          lastType = merge ? t : 255;
        }
        va += nr * size;
        lastEnd = merge ? va : -1;
        i++;
      }
    } finally {
      out.length = n;
      this.cursor = va;
      this.consumed += i;
    }
  }

  /**
   * Move the cursor over buf[0, len) without keeping the records: what a read worker needs to
   * place its next read (the main thread's fold is what counts them). Validates as `decode`
   * does and throws the same DecodeError at the same byte. 4 KiB records (PTE_ACCESSED 0,
   * PTE_DIRTY 3, PTE_IDLE 5, PTE_HOLE 8), nearly all of a stream, only add to an integer page
   * count: adding to the float address at every byte made this 2–3× slower.
   */
  advance(buf: Uint8Array, len: number): void {
    let va = this.cursor;
    let pages = 0; // 4 KiB pages after va not yet added to it
    let placed = va !== NO_CURSOR;
    let i = 0;
    try {
      while (i < len) {
        const b = buf[i]!;
        const t = b >>> 4;
        const nr = b & 15;
        if ((t === 0 || t === 5 || t === 3 || t === 8) && nr !== 0 && placed) {
          pages += nr;
          i++;
          continue;
        }
        va += pages * 4096;
        pages = 0;
        if (b === SET_HVA) {
          va = readSetHva(buf, i, len, this.consumed + i);
          placed = true;
          i += 9;
          continue;
        }
        const size = PAGE_SIZE_OF[t]!;
        if (t >= 10 || nr === 0 || !placed || (size !== 4096 && va % size !== 0)) throw recordError(b, va, this.consumed + i)!;
        va += nr * size;
        i++;
      }
    } finally {
      this.cursor = va + pages * 4096;
      this.consumed += i;
    }
  }
}

export interface DecodedRecord {
  addr: number;
  type: string;
  count: number;
  pageSize: number;
}

/** Decode a whole dump record by record (no merging), for `tierd decode` and tests. */
export function decodeAll(buf: Uint8Array): { records: DecodedRecord[]; end: number } {
  const dec = new IdlePagesDecoder({ merge: false });
  const batch = new RunBatch(Math.max(16, buf.length));
  dec.decode(buf, buf.length, batch);
  const records: DecodedRecord[] = [];
  for (let i = 0; i < batch.length; i++) {
    const t = batch.type[i]!;
    records.push({ addr: batch.start[i]!, type: PAGE_TYPE_NAMES[t]!, count: batch.count[i]!, pageSize: PAGE_SIZE_OF[t]! });
  }
  return { records, end: dec.cursor };
}
