import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.js';
import { TierdError } from '../util/errors.js';

export interface Health {
  /** null = healthy; otherwise the reason */
  problem(): string | null;
}

/** /metrics and /healthz on the configured address (loopback by default). */
export async function serveMetrics(metrics: Metrics, listen: string, health: Health): Promise<Server> {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new TierdError('CONFIG', `metrics.listen: "${listen}" is not HOST:PORT`, 'use e.g. 127.0.0.1:9477');
  const host = m[1]!;
  const port = Number(m[2]);
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/metrics') {
      metrics.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(body);
        })
        .catch((e: unknown) => {
          res.writeHead(500);
          res.end(String(e));
        });
    } else if (url === '/healthz') {
      const p = health.problem();
      res.writeHead(p === null ? 200 : 503, { 'Content-Type': 'text/plain' });
      res.end(p === null ? 'ok\n' : `${p}\n`);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('tierd: /metrics, /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new TierdError('CONFIG', `cannot listen on ${listen}: ${e.code ?? e.message}`, 'pick a free port with --metrics-listen HOST:PORT or metrics.listen')),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}
