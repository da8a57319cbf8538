/**
 * A read worker: opens a target's idle_pages and makes the walk's reads (the part that blocks
 * in the kernel, 10–50 ns per PTE), each into a shared slot the main thread folds into the heat
 * table. It only moves the cursor over each read (IdlePagesDecoder.advance); the main thread's
 * fold is what decodes and counts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AccessFile } from '../../kernel/types.js';
import { IdlePagesDecoder } from '../../formats/idle-pages/decode.js';
import { readWalk, type ReadCounts, type ReadSink } from './read-loop.js';
import { SLOT_FREE, SLOT_FULL, errorToWire, type FromWorker, type WalkRequest, type WorkerSetup } from './wire.js';

/** The main thread gave up on this walk, or the stream could not be decoded: stop reading. */
class Stop extends Error {}

type Open = (pid: number, flags: number) => AccessFile;

async function loadOpener(setup: WorkerSetup): Promise<Open> {
  const mod = (await import(setup.opener.module)) as Record<string, unknown>;
  const fn = mod[setup.opener.name];
  if (typeof fn !== 'function') throw new Error(`${setup.opener.module} has no function ${setup.opener.name}`);
  return (pid, flags) => (fn as (...a: unknown[]) => AccessFile)(...setup.opener.args, pid, flags);
}

class SlotSink implements ReadSink {
  private slot = 0;
  private readonly dec = new IdlePagesDecoder();

  constructor(private readonly id: number, private readonly state: Int32Array, private readonly views: Uint8Array[], private readonly post: (m: FromWorker) => void) {}

  private stopped(): boolean {
    return Atomics.load(this.state, this.views.length) === this.id;
  }

  next(): Uint8Array {
    const s = this.slot;
    while (Atomics.load(this.state, s) !== SLOT_FREE) {
      if (this.stopped()) throw new Stop();
      Atomics.wait(this.state, s, SLOT_FULL, 250);
    }
    if (this.stopped()) throw new Stop();
    return this.views[s]!;
  }

  take(buf: Uint8Array, n: number): number {
    let broken = false;
    try {
      this.dec.advance(buf, n); // the cursor only: the main thread's fold decodes and counts
    } catch {
      broken = true; // the main thread's fold of this chunk reports the error, with its offset
    }
    Atomics.store(this.state, this.slot, SLOT_FULL);
    this.post({ kind: 'chunk', id: this.id, slot: this.slot, n });
    this.slot = (this.slot + 1) % this.views.length;
    if (broken) throw new Stop();
    return this.dec.cursor;
  }
}

async function serve(): Promise<void> {
  const setup = workerData as WorkerSetup;
  const port = parentPort!;
  const open = await loadOpener(setup);
  const state = new Int32Array(setup.state);
  const nSlots = state.length - 1;
  const views = Array.from({ length: nSlots }, (_, i) => new Uint8Array(setup.slots, i * setup.slotBytes, setup.slotBytes));
  const post = (m: FromWorker): void => port.postMessage(m);
  port.on('message', (m: WalkRequest) => {
    void walk(m).then((done) => post(done));
  });

  async function walk(m: WalkRequest): Promise<FromWorker> {
    let counts: ReadCounts = { reads: 0, bytes: 0, stalls: 0 };
    let file: AccessFile;
    try {
      file = open(m.pid, m.flags);
    } catch (e) {
      return { kind: 'done', id: m.id, counts, error: errorToWire(e) };
    }
    try {
      counts = await readWalk(file, m.ranges, setup.variant, new SlotSink(m.id, state, views, post));
      return { kind: 'done', id: m.id, counts, error: null };
    } catch (e) {
      return { kind: 'done', id: m.id, counts, error: e instanceof Stop ? null : errorToWire(e) };
    } finally {
      file.close(); // the kernel flushes the target's TLB here
    }
  }
}

void serve();
