import { Worker } from 'node:worker_threads';
import type { Metrics } from './metrics.js';
import type { FromServer, ServerSetup, ToServer } from './wire.js';
import { TierdError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/** /metrics and /healthz, answered by a worker thread; the main thread only renders. */
export interface MetricsServer {
  readonly port: number;
  /** a period completed: liveness for /healthz */
  periodDone(): void;
  /** /healthz answers 503 "stopping" from now on */
  stopping(): void;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** an exposition rendered this recently answers a scrape without a new render (1 s) */
  freshMs?: number;
  /** a scrape waits this long for a new exposition, then gets the last one (1 s) */
  waitMs?: number;
}

/**
 * Serves /metrics and /healthz on `listen` from a worker thread, so a scrape or a liveness
 * probe is answered even while the main thread folds a walk, plans or moves. The exposition is
 * rendered when a scrape asks for it, never on a timer: an unscraped daemon renders nothing
 * (rendering every 5 s and after every period cost about a millisecond each natively, and
 * under the VM's emulation a share of a settled daemon's CPU). A scrape gets an exposition
 * rendered after it came, unless the main thread is busy beyond waitMs: then the last one.
 */
export async function serveMetrics(metrics: Metrics, listen: string, log: Logger, o: ServeOptions = {}): Promise<MetricsServer> {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new TierdError('CONFIG', `metrics.listen: "${listen}" is not HOST:PORT`, 'use e.g. 127.0.0.1:9477');
  const setup: ServerSetup = { host: m[1]!, port: Number(m[2]), freshMs: o.freshMs ?? 1000, waitMs: o.waitMs ?? 1000 };
  const worker = new Worker(new URL('./http-worker.js', import.meta.url), { workerData: setup });
  const port = await listening(worker, listen);
  const renderer = new Renderer(metrics, worker, log);
  worker.on('message', (msg: FromServer) => {
    if (msg.kind === 'render') renderer.soon();
  });
  // one at the start, so a scrape while the first walk keeps the main thread busy has an answer
  renderer.soon();
  worker.on('error', (e) => log.error({ error: String(e) }, '/metrics and /healthz stopped answering: their worker failed'));
  const tell = (msg: ToServer): void => worker.postMessage(msg);
  return {
    port,
    periodDone: () => tell({ kind: 'period', at: Date.now() }),
    stopping: () => tell({ kind: 'stopping' }),
    close: async () => {
      renderer.close();
      const exited = new Promise<void>((r) => worker.once('exit', () => r()));
      tell({ kind: 'close' });
      await exited;
    },
  };
}

function listening(worker: Worker, listen: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    worker.once('message', (msg: FromServer) => {
      if (msg.kind === 'listening') return resolve(msg.port);
      void worker.terminate();
      // no scrape before the server listens: the first message is one of these two
      const code = msg.kind === 'listen-failed' ? msg.code : 'no answer';
      reject(new TierdError('CONFIG', `cannot listen on ${listen}: ${code}`, 'pick a free port with --metrics-listen HOST:PORT or metrics.listen'));
    });
    worker.once('error', reject);
  });
}

/** Renders the registry for the worker, one render at a time. */
class Renderer {
  private busy = false;
  private again = false;
  private closed = false;
  private failed = false;

  constructor(private readonly metrics: Metrics, private readonly worker: Worker, private readonly log: Logger) {}

  soon(): void {
    if (this.closed) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    void this.render();
  }

  close(): void {
    this.closed = true;
  }

  private async render(): Promise<void> {
    this.busy = true;
    try {
      const body = await this.metrics.registry.metrics();
      if (!this.closed) this.worker.postMessage({ kind: 'exposition', body, contentType: this.metrics.registry.contentType } satisfies ToServer);
      this.failed = false;
    } catch (e) {
      // the worker keeps the last good exposition; say so once, not at every scrape
      if (!this.failed) this.log.error({ error: String(e) }, 'rendering /metrics failed; scrapes get the last exposition that rendered');
      this.failed = true;
    } finally {
      this.busy = false;
    }
    if (this.again) {
      this.again = false;
      this.soon();
    }
  }
}
