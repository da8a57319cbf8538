import type { Kernel, IdlePagesVariant } from '../../kernel/types.js';
import type { HeatTable } from '../../heat/heat-table.js';
import { IdlePagesDecoder } from '../../formats/idle-pages/decode.js';
import type { Tracker, WalkResult } from '../tracker.js';
import { ScanFlag } from '../../formats/idle-pages/types.js';
import { readBufferBytes, isProcessGone, readWalk, walkFlags, type ReadSink } from './read-loop.js';
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
  private readonly decoder = new IdlePagesDecoder();

  constructor(private readonly kernel: Pick<Kernel, 'openIdlePages'>, private readonly opts: ReaderOptions) {
    const size = readBufferBytes(opts.bufferBytes);
    this.buf = new Uint8Array(size);
  }

  source(): string {
    return `idle_pages: ${this.opts.skimNote ?? 'every PTE read'}`;
  }

  /** One walk; with heat = null the bits are read and cleared but not counted (a priming walk). */
  async walk(pid: number, ranges: Float64Array, heat: HeatTable | null, full = false): Promise<WalkResult> {
    let file;
    try {
      file = this.kernel.openIdlePages(pid, walkFlags(this.opts.flags, full));
    } catch (e) {
      if (isProcessGone(e)) return { status: 'gone', reads: 0, bytes: 0, stalls: 0 };
      throw e;
    }
    this.decoder.reset();
    heat?.beginWalk((this.opts.flags & ScanFlag.SCAN_HUGE_PAGE) !== 0);
    try {
      return { status: 'ok', ...(await readWalk(file, ranges, this.opts.variant, this.sink(heat))) };
    } catch (e) {
      if (isProcessGone(e)) return { status: 'gone', reads: 0, bytes: 0, stalls: 0 };
      throw e;
    } finally {
      file.close();
      heat?.endWalk();
    }
  }

  /** Reads land in one buffer and are folded into the heat table at once; the event loop gets in every few milliseconds. */
  private sink(heat: HeatTable | null): ReadSink {
    const { buf, decoder: dec } = this;
    const slice = new Slice();
    return {
      next: () => buf,
      take: (b, n) => {
        if (heat) {
          heat.ingest(dec, b, n);
        } else {
          dec.advance(b, n); // priming walk: bits cleared, nothing counted
        }
        return dec.cursor;
      },
      pause: () => slice.yieldIfDue(),
    };
  }
}
