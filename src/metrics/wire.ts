/**
 * What the main thread and the HTTP worker say to each other. A scrape asks the main thread
 * for an exposition and waits for it at most `waitMs`, then answers with the latest one it has,
 * so a scrape never waits long on the main thread's event loop (a fold, a plan step, a move);
 * /healthz is answered from the periods the worker was told of.
 */
export interface ServerSetup {
  host: string;
  port: number;
  /** an exposition this recent answers a scrape as it is */
  freshMs: number;
  /** how long a scrape waits for a new exposition before it gets the last one */
  waitMs: number;
}

export type ToServer =
  /** a rendered exposition: what /metrics answers until the next */
  | { kind: 'exposition'; body: string; contentType: string }
  /** a period completed */
  | { kind: 'period'; at: number }
  /** the daemon is stopping: /healthz says so */
  | { kind: 'stopping' }
  | { kind: 'close' };

export type FromServer =
  | { kind: 'listening'; port: number }
  | { kind: 'listen-failed'; code: string }
  /** a scrape came: render an exposition */
  | { kind: 'render' };
