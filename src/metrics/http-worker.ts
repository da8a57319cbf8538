// The HTTP side of /metrics and /healthz, in a worker thread (see wire.ts).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { Liveness } from './liveness.js';
import type { FromServer, ServerSetup, ToServer } from './wire.js';

const setup = workerData as ServerSetup;
const port = parentPort!;
const liveness = new Liveness(Date.now());
let exposition: { body: string; contentType: string } | null = null;
/** scrapes that came before the first exposition */
const waiting: ServerResponse[] = [];

function answerMetrics(res: ServerResponse): void {
  if (!exposition) {
    waiting.push(res);
    return;
  }
  res.writeHead(200, { 'Content-Type': exposition.contentType });
  res.end(exposition.body);
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = (req.url ?? '/').split('?')[0];
  if (url === '/metrics') return answerMetrics(res);
  if (url === '/healthz') {
    const p = liveness.problem(Date.now());
    res.writeHead(p === null ? 200 : 503, { 'Content-Type': 'text/plain' });
    res.end(p === null ? 'ok\n' : `${p}\n`);
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('tierd: /metrics, /healthz\n');
}

const server = createServer(answer);
const tell = (m: FromServer): void => port.postMessage(m);
server.once('error', (e: NodeJS.ErrnoException) => tell({ kind: 'listen-failed', code: e.code ?? e.message }));
server.listen(setup.port, setup.host, () => {
  const a = server.address();
  tell({ kind: 'listening', port: typeof a === 'object' && a ? a.port : setup.port });
});

port.on('message', (m: ToServer) => {
  if (m.kind === 'exposition') {
    exposition = { body: m.body, contentType: m.contentType };
    for (const res of waiting.splice(0)) answerMetrics(res);
  } else if (m.kind === 'period') liveness.periodDone(m.at);
  else if (m.kind === 'stopping') liveness.stop();
  else {
    server.closeAllConnections();
    server.close(() => port.close());
  }
});
