import { Worker } from 'node:worker_threads';
import type { IdlePagesVariant, WorkerOpener } from '../../kernel/types.js';
import type { HeatTable } from '../../heat/heat-table.js';
import { IdlePagesDecoder } from '../../formats/idle-pages/decode.js';
import { ScanFlag } from '../../formats/idle-pages/types.js';
import { TierdError } from '../../util/errors.js';
import type { Tracker, WalkResult } from '../tracker.js';
import { readBufferBytes, isProcessGone, walkFlags } from './read-loop.js';
import { SLOT_FREE, errorFromWire, type FromWorker, type WalkRequest, type WorkerSetup } from './wire.js';

export interface PoolOptions {
  workers: number;
  /** largest read, bytes (scan.bufferSize; at most 1 MiB); each worker has `slots` of them */
  bufferBytes: number;
  /** reads a worker may have ahead of the main thread's fold (8) */
  slots?: number;
  flags: number;
  variant: IdlePagesVariant;
  skimNote?: string;
}

interface Job {
  id: number;
  pid: number;
  flags: number;
  ranges: Float64Array;
  heat: HeatTable | null;
  dec: IdlePagesDecoder;
  /** the fold failed (a broken stream): the worker was told to stop, and the walk rejects with this */
  failure: unknown;
  resolve: (r: WalkResult) => void;
  reject: (e: unknown) => void;
}

/**
 * idle_pages walks off the main thread: each worker opens a target's file and makes the reads
 * (the kernel's page-table walk, which blocks), the main thread folds each read into the heat
 * table as it arrives, about a millisecond at a time (32 KiB reads), so /metrics and signals are
 * answered during a walk. Targets are spread over the workers, one walk per worker at a time.
 */
export class IdlePagesPool implements Tracker {
  readonly name = 'idle_pages' as const;
  readonly grain = 'page' as const;
  readonly concurrency: number;
  private readonly workers: ReadWorker[];

  constructor(opener: WorkerOpener, private readonly opts: PoolOptions) {
    this.concurrency = Math.max(1, opts.workers);
    this.workers = Array.from({ length: this.concurrency }, () => new ReadWorker(opener, opts));
  }

  source(): string {
    return `idle_pages: ${this.opts.skimNote ?? 'every PTE read'}; ${this.concurrency} read worker${this.concurrency === 1 ? '' : 's'}`;
  }

  walk(pid: number, ranges: Float64Array, heat: HeatTable | null, full = false): Promise<WalkResult> {
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.load() < best.load()) best = w;
    return best.walk(pid, ranges, heat, walkFlags(this.opts.flags, full));
  }

  close(): void {
    for (const w of this.workers) w.close();
  }
}

/** One worker thread, its shared read slots, and the walks queued for it. */
class ReadWorker {
  private worker: Worker | null = null;
  private readonly state: Int32Array;
  private readonly views: Uint8Array[];
  private readonly setup: WorkerSetup;
  private readonly queue: Job[] = [];
  private active: Job | null = null;
  private nextId = 1;

  constructor(opener: WorkerOpener, private readonly opts: PoolOptions) {
    const slotBytes = readBufferBytes(opts.bufferBytes);
    const nSlots = Math.max(2, opts.slots ?? 8);
    const slots = new SharedArrayBuffer(slotBytes * nSlots);
    const state = new SharedArrayBuffer(4 * (nSlots + 1));
    this.state = new Int32Array(state);
    this.views = Array.from({ length: nSlots }, (_, i) => new Uint8Array(slots, i * slotBytes, slotBytes));
    this.setup = { opener, variant: opts.variant, slots, slotBytes, state };
  }

  load(): number {
    return this.queue.length + (this.active ? 1 : 0);
  }

  walk(pid: number, ranges: Float64Array, heat: HeatTable | null, flags: number): Promise<WalkResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, pid, flags, ranges, heat, dec: new IdlePagesDecoder(), failure: null, resolve, reject });
      this.start();
    });
  }

  /** End the thread; a walk still queued or under way fails (the daemon closes between periods). */
  close(): void {
    const w = this.worker;
    this.worker = null;
    this.failAll(new TierdError('INTERNAL', 'idle_pages read worker closed during a walk'));
    void w?.terminate();
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./read-worker.js', import.meta.url), { workerData: this.setup });
    w.on('message', (m: FromWorker) => this.onMessage(m));
    w.on('error', (e) => this.died(e));
    w.on('exit', (code) => this.died(new Error(`exited with code ${code}`)));
    return w;
  }

  /** Send the next queued walk; the worker keeps the process alive only while it walks. */
  private start(): void {
    if (this.active !== null) return;
    const job = this.queue.shift();
    if (job === undefined) {
      this.worker?.unref();
      return;
    }
    this.worker ??= this.spawn();
    this.worker.ref();
    this.active = job;
    job.heat?.beginWalk((this.opts.flags & ScanFlag.SCAN_HUGE_PAGE) !== 0);
    const req: WalkRequest = { kind: 'walk', id: job.id, pid: job.pid, flags: job.flags, ranges: job.ranges };
    this.worker.postMessage(req);
  }

  private onMessage(m: FromWorker): void {
    const job = this.active;
    if (job === null || m.id !== job.id) return;
    if (m.kind === 'chunk') this.fold(job, m.slot, m.n);
    else this.finish(job, m);
  }

  /** Fold one read into the heat table and give its slot back; a broken stream stops the worker's walk. */
  private fold(job: Job, slot: number, n: number): void {
    try {
      if (job.failure !== null) return;
      const buf = this.views[slot]!;
      if (job.heat) {
        job.heat.ingest(job.dec, buf, n);
      } else {
        job.dec.advance(buf, n); // priming walk: bits cleared, nothing counted
      }
    } catch (e) {
      job.failure = e;
      Atomics.store(this.state, this.views.length, job.id);
    } finally {
      Atomics.store(this.state, slot, SLOT_FREE);
      Atomics.notify(this.state, slot);
    }
  }

  private finish(job: Job, m: Extract<FromWorker, { kind: 'done' }>): void {
    this.active = null;
    job.heat?.endWalk();
    const err = m.error === null ? null : errorFromWire(m.error);
    if (job.failure !== null) job.reject(job.failure);
    else if (err === null) job.resolve({ status: 'ok', ...m.counts });
    else if (isProcessGone(err)) job.resolve({ status: 'gone', ...m.counts });
    else job.reject(err);
    this.start();
  }

  /** The thread died (it should not): its walks fail, and the next walk starts a new one. */
  private died(e: Error): void {
    if (this.worker === null) return; // terminated by close()
    this.worker = null;
    this.failAll(new TierdError('INTERNAL', `idle_pages read worker: ${e.message}`));
  }

  private failAll(err: Error): void {
    this.active?.heat?.endWalk();
    const jobs = [...(this.active ? [this.active] : []), ...this.queue.splice(0)];
    this.active = null;
    for (const j of jobs) j.reject(err);
  }
}
