import { Worker } from 'node:worker_threads';
import type { Metrics } from './metrics.js';
import type { FromServer, ToServer } from './wire.js';
import { TierdError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/** /metrics and /healthz, answered by a worker thread; the main thread only renders. */
export interface MetricsServer {
  readonly port: number;
  /** a period completed: liveness for /healthz, and a new exposition soon */
  periodDone(): void;
  /** /healthz answers 503 "stopping" from now on */
  stopping(): void;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** the exposition is rendered at least this often, periods or not (5 s) */
  refreshMs?: number;
  /** and at most this often (250 ms): a fast simulated host ends many periods a second */
  minGapMs?: number;
}

/**
 * Serves /metrics and /healthz on `listen` from a worker thread, so a scrape or a liveness
 * probe is answered at once even while the main thread folds a walk, plans or moves. The
 * worker answers from the last exposition the main thread rendered: after every period (at
 * most every 250 ms) and every 5 s between periods. Values are that fresh, no fresher.
 */
export async function serveMetrics(metrics: Metrics, listen: string, log: Logger, o: ServeOptions = {}): Promise<MetricsServer> {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new TierdError('CONFIG', `metrics.listen: "${listen}" is not HOST:PORT`, 'use e.g. 127.0.0.1:9477');
  const worker = new Worker(new URL('./http-worker.js', import.meta.url), { workerData: { host: m[1]!, port: Number(m[2]) } });
  const port = await listening(worker, listen);
  const renderer = new Renderer(metrics, worker, log, o.minGapMs ?? 250);
  const timer = setInterval(() => renderer.soon(), o.refreshMs ?? 5000).unref();
  renderer.soon();
  worker.on('error', (e) => log.error({ error: String(e) }, '/metrics and /healthz stopped answering: their worker failed'));
  const tell = (msg: ToServer): void => worker.postMessage(msg);
  return {
    port,
    periodDone: () => {
      tell({ kind: 'period', at: Date.now() });
      renderer.soon();
    },
    stopping: () => tell({ kind: 'stopping' }),
    close: async () => {
      clearInterval(timer);
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
      reject(new TierdError('CONFIG', `cannot listen on ${listen}: ${msg.code}`, 'pick a free port with --metrics-listen HOST:PORT or metrics.listen'));
    });
    worker.once('error', reject);
  });
}

/** Renders the registry for the worker: one render at a time, no two closer than minGapMs. */
class Renderer {
  private lastAt = 0;
  private busy = false;
  private again = false;
  private pending: NodeJS.Timeout | null = null;
  private closed = false;
  private failed = false;

  constructor(private readonly metrics: Metrics, private readonly worker: Worker, private readonly log: Logger, private readonly minGapMs: number) {}

  soon(): void {
    if (this.closed || this.pending) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    const wait = this.lastAt + this.minGapMs - Date.now();
    if (wait > 0) this.pending = setTimeout(() => ((this.pending = null), this.soon()), wait).unref();
    else void this.render();
  }

  close(): void {
    this.closed = true;
    if (this.pending) clearTimeout(this.pending);
  }

  private async render(): Promise<void> {
    this.busy = true;
    this.lastAt = Date.now();
    try {
      const body = await this.metrics.registry.metrics();
      if (!this.closed) this.worker.postMessage({ kind: 'exposition', body, contentType: this.metrics.registry.contentType } satisfies ToServer);
      this.failed = false;
    } catch (e) {
      // the worker keeps the last good exposition; say so once, not every 5 s
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
