import type { Kernel, IdlePagesVariant } from '../../kernel/types.js';
import type { HeatTable } from '../../heat/heat-table.js';
import { TierdError, SyscallError, ERRNO } from '../../util/errors.js';
import { IdlePagesDecoder, RunBatch } from '../../formats/idle-pages/decode.js';
import type { Tracker, WalkResult } from '../tracker.js';
import { MIN_READ, ScanFlag } from '../../formats/idle-pages/types.js';
import { MAX_READ_BYTES, readWalk, type ReadSink } from './read-loop.js';
import { Slice } from '../../util/steps.js';

export interface ReaderOptions {
  /** largest read, bytes (scan.bufferSize; at most 1 MiB) */
  bufferBytes: number;
  /** open flags (ScanFlag bits) */
  flags: number;
  variant: IdlePagesVariant;
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
    const size = Math.max(MIN_READ, Math.min(opts.bufferBytes, MAX_READ_BYTES));
    this.buf = new Uint8Array(size);
  }

  source(): string {
    return `idle_pages: ${this.opts.skimNote ?? 'every PTE read'}`;
  }

  /** One walk; with heat = null the bits are read and cleared but not counted (a priming walk). */
  async walk(pid: number, ranges: Float64Array, heat: HeatTable | null, full = false): Promise<WalkResult> {
    let file;
    try {
      file = this.kernel.openIdlePages(pid, full ? this.opts.flags & ~ScanFlag.SCAN_SKIM_IDLE : this.opts.flags);
    } catch (e) {
      if (e instanceof TierdError && e.code === 'PROCESS_GONE') return { status: 'gone', reads: 0, bytes: 0, stalls: 0 };
      throw e;
    }
    this.decoder.reset();
    heat?.beginWalk((this.opts.flags & ScanFlag.SCAN_HUGE_PAGE) !== 0);
    try {
      return { status: 'ok', ...(await readWalk(file, ranges, this.opts.variant, this.sink(heat))) };
    } catch (e) {
      if (e instanceof SyscallError && (e.errno === ERRNO.ESRCH || e.errno === ERRNO.ENOENT)) return { status: 'gone', reads: 0, bytes: 0, stalls: 0 };
      throw e;
    } finally {
      file.close();
      heat?.endWalk();
    }
  }

  /** Reads land in one buffer and are folded into the heat table at once; the event loop gets in every few milliseconds. */
  private sink(heat: HeatTable | null): ReadSink {
    const { buf, batch, decoder: dec } = this;
    const slice = new Slice();
    return {
      next: () => buf,
      take: (b, n) => {
        if (heat) {
          heat.ingest(dec, b, n);
        } else {
          batch.clear();
          dec.decode(b, n, batch); // priming walk: bits cleared, nothing counted
        }
        return dec.cursor;
      },
      pause: () => slice.yieldIfDue(),
    };
  }
}
