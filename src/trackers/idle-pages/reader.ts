import type { Kernel, IdlePagesVariant } from '../../kernel/types.js';
import type { HeatTable } from '../../heat/heat-table.js';
import { TierdError, SyscallError, ERRNO } from '../../util/errors.js';
import { IdlePagesDecoder, RunBatch } from '../../formats/idle-pages/decode.js';
import type { Tracker, WalkResult } from '../tracker.js';
import { MIN_READ, TASK_SIZE, VA_PER_BYTE } from '../../formats/idle-pages/types.js';

export interface ReaderOptions {
  /** largest read, bytes (64 KiB–1 MiB is right; 1 MiB asks the kernel for 32 GiB of VA) */
  bufferBytes: number;
  /** open flags (ScanFlag bits) */
  flags: number;
  variant: IdlePagesVariant;
  /** yield to the event loop after this many reads, so /metrics stays responsive */
  yieldEvery?: number;
  /** whether idle PMDs are skimmed, and why not (logged once by the daemon as the source) */
  skimNote?: string;
}


/**
 * One walk of a process over its trackable ranges (spec §2): open, non-overlapping preads at
 * the decoded cursor, keep every record (also those past the requested end), close.
 */
export class IdlePagesReader implements Tracker {
  readonly name = 'idle_pages' as const;
  readonly grain = 'page' as const;
  private readonly buf: Uint8Array;
  private readonly batch = new RunBatch(1 << 14);
  private readonly decoder = new IdlePagesDecoder();

  constructor(private readonly kernel: Pick<Kernel, 'openIdlePages'>, private readonly opts: ReaderOptions) {
    const size = Math.max(MIN_READ, Math.min(opts.bufferBytes, 1 << 20));
    this.buf = new Uint8Array(size);
  }

  source(): string {
    return `idle_pages: ${this.opts.skimNote ?? 'every PTE read'}`;
  }

  /** One walk; with heat = null the bits are read and cleared but not counted (a priming walk). */
  async walk(pid: number, ranges: Float64Array, heat: HeatTable | null): Promise<WalkResult> {
    const res: WalkResult = { status: 'ok', reads: 0, bytes: 0, stalls: 0 };
    let file;
    try {
      file = this.kernel.openIdlePages(pid, this.opts.flags);
    } catch (e) {
      if (e instanceof TierdError && e.code === 'PROCESS_GONE') return { ...res, status: 'gone' };
      throw e;
    }
    const buf = this.buf;
    const batch = this.batch;
    const dec = this.decoder;
    const yieldEvery = this.opts.yieldEvery ?? 16;
    dec.reset();
    heat?.beginWalk((this.opts.flags & 0x800) !== 0);
    let done = 0; // everything below this address has been read in this walk
    try {
      for (let r = 0; r < ranges.length; r += 2) {
        const rangeEnd = ranges[r + 1]!;
        let va = Math.max(ranges[r]!, done);
        while (va < rangeEnd) {
          let count = Math.ceil((rangeEnd - va) / VA_PER_BYTE);
          count = Math.max(MIN_READ, Math.min(count, buf.length));
          if (this.opts.variant === 'etk') {
            // etmem returns 0 when start + count × 32 KiB reaches TASK_SIZE
            const room = Math.floor((TASK_SIZE - va) / VA_PER_BYTE) - 1;
            if (room < MIN_READ) break;
            count = Math.min(count, room);
          }
          const n = file.pread(buf, count, va);
          res.reads++;
          if (n === 0) break; // EOF, or etmem's silent jump: this range holds nothing more
          res.bytes += n;
          if (heat) {
            heat.ingest(dec, buf, n);
          } else {
            batch.clear();
            dec.decode(buf, n, batch); // priming walk: bits cleared, nothing counted
          }
          if (dec.cursor <= va) {
            res.stalls++;
            break;
          }
          va = dec.cursor;
          if (res.reads % yieldEvery === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        }
        done = Math.max(done, va);
      }
    } catch (e) {
      if (e instanceof SyscallError && (e.errno === ERRNO.ESRCH || e.errno === ERRNO.ENOENT)) {
        res.status = 'gone';
      } else {
        throw e;
      }
    } finally {
      file.close();
      heat?.endWalk();
    }
    return res;
  }
}
