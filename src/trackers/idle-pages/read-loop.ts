import type { AccessFile, IdlePagesVariant } from '../../kernel/types.js';
import { MIN_READ, ScanFlag, TASK_SIZE, VA_PER_BYTE } from '../../formats/idle-pages/types.js';
import { ERRNO, SyscallError, TierdError } from '../../util/errors.js';

/** The largest read tierd makes: 1 MiB of stream asks the kernel to walk 32 GiB of address space. */
const MAX_READ_BYTES = 1 << 20;

/** The read buffer's size for scan.bufferSize: at least the protocol's smallest read, at most 1 MiB. */
export function readBufferBytes(bufferSize: number): number {
  return Math.max(MIN_READ, Math.min(bufferSize, MAX_READ_BYTES));
}

/** The open flags of one walk: a full walk (Tracker.walk's `full`) does not skim. */
export function walkFlags(flags: number, full: boolean): number {
  return full ? flags & ~ScanFlag.SCAN_SKIM_IDLE : flags;
}

/** Opening or reading failed because the target exited: the walk is "gone", not an error. */
export function isProcessGone(e: unknown): boolean {
  if (e instanceof TierdError) return e.code === 'PROCESS_GONE';
  return e instanceof SyscallError && (e.errno === ERRNO.ESRCH || e.errno === ERRNO.ENOENT);
}

export interface ReadCounts {
  reads: number;
  bytes: number;
  /** reads whose cursor did not advance: the rest of that range was skipped */
  stalls: number;
}

/** Where each read of a walk lands, and what becomes of it; the in-thread reader and the read workers differ only here. */
export interface ReadSink {
  /** the buffer for the next read (a read worker may wait here for the main thread to free one) */
  next(): Uint8Array;
  /** decode (or hand on) the n bytes a read returned; returns the cursor after them */
  take(buf: Uint8Array, n: number): number;
  /** called after each read, so a caller on the main thread can yield to the event loop */
  pause?(): Promise<void> | undefined;
}

/** The byte count of a read at va toward rangeEnd, or 0 when the variant cannot read there. */
function readCount(va: number, rangeEnd: number, bufLen: number, variant: IdlePagesVariant): number {
  let count = Math.max(MIN_READ, Math.min(Math.ceil((rangeEnd - va) / VA_PER_BYTE), bufLen));
  if (variant === 'etk') {
    // etmem returns 0 when start + count × 32 KiB reaches TASK_SIZE
    const room = Math.floor((TASK_SIZE - va) / VA_PER_BYTE) - 1;
    if (room < MIN_READ) return 0;
    count = Math.min(count, room);
  }
  return count;
}

/**
 * The reads of one walk over the trackable ranges (spec §2): non-overlapping preads at the
 * decoded cursor, every record kept (also those past the requested end, so the next range
 * starts after them). Throws what the file throws (SyscallError; ESRCH when the process is gone).
 */
export async function readWalk(file: AccessFile, ranges: Float64Array, variant: IdlePagesVariant, sink: ReadSink): Promise<ReadCounts> {
  const res: ReadCounts = { reads: 0, bytes: 0, stalls: 0 };
  let done = 0; // everything below this address has been read in this walk
  for (let r = 0; r < ranges.length; r += 2) {
    const rangeEnd = ranges[r + 1]!;
    let va = Math.max(ranges[r]!, done);
    while (va < rangeEnd) {
      const buf = sink.next();
      const count = readCount(va, rangeEnd, buf.length, variant);
      if (count === 0) break;
      const n = file.pread(buf, count, va);
      res.reads++;
      if (n === 0) break; // EOF, or etmem's silent jump: this range holds nothing more
      res.bytes += n;
      const cursor = sink.take(buf, n);
      if (cursor <= va) {
        res.stalls++;
        break;
      }
      va = cursor;
      const p = sink.pause?.();
      if (p) await p;
    }
    done = Math.max(done, va);
  }
  return res;
}
