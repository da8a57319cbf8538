/**
 * What the main thread and the HTTP worker say to each other. The worker answers /metrics from
 * the latest exposition the main thread sent, and /healthz from the periods it was told of, so
 * neither waits for the main thread's event loop (a fold, a plan step, a move).
 */
export interface ServerSetup {
  host: string;
  port: number;
}

export type ToServer =
  /** a rendered exposition: what /metrics answers until the next */
  | { kind: 'exposition'; body: string; contentType: string }
  /** a period completed */
  | { kind: 'period'; at: number }
  /** the daemon is stopping: /healthz says so */
  | { kind: 'stopping' }
  | { kind: 'close' };

export type FromServer = { kind: 'listening'; port: number } | { kind: 'listen-failed'; code: string };
