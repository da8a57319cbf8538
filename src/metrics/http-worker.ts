// The HTTP side of /metrics and /healthz, in a worker thread (see wire.ts).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { Liveness } from './liveness.js';
import type { FromServer, ServerSetup, ToServer } from './wire.js';

const setup = workerData as ServerSetup;
const port = parentPort!;
const liveness = new Liveness(Date.now());
let exposition: { body: string; contentType: string; at: number } | null = null;
/** scrapes waiting for the exposition the main thread was asked for */
const waiting: ServerResponse[] = [];
/** the current ask, so a timer of an ask already answered does not cut a later one short */
let ask = 0;

/**
 * Answer at once from an exposition rendered in the last freshMs; else ask the main thread for
 * one and wait for it, at most waitMs (then the last exposition, if there is one, answers).
 */
function answerMetrics(res: ServerResponse): void {
  if (exposition && Date.now() - exposition.at <= setup.freshMs) return send(res);
  // scrapes already waiting: the main thread was asked, and their answer is on its way
  if (waiting.push(res) > 1) return;
  const id = ++ask;
  tell({ kind: 'render' });
  setTimeout(() => {
    if (ask === id) answerWaiting();
  }, setup.waitMs).unref();
}

function send(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': exposition!.contentType });
  res.end(exposition!.body);
}

/** Answer the waiting scrapes from the latest exposition (none yet: they wait for the first). */
function answerWaiting(): void {
  if (!exposition) return;
  for (const res of waiting.splice(0)) send(res);
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
    exposition = { body: m.body, contentType: m.contentType, at: Date.now() };
    answerWaiting();
  } else if (m.kind === 'period') liveness.periodDone(m.at);
  else if (m.kind === 'stopping') liveness.stop();
  else {
    server.closeAllConnections();
    server.close(() => port.close());
  }
});
