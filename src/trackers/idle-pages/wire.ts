import { SyscallError, TierdError, type ErrorCode } from '../../util/errors.js';
import type { IdlePagesVariant, WorkerOpener } from '../../kernel/types.js';
import type { ReadCounts } from './read-loop.js';

/**
 * What the main thread and a read worker say to each other. Reads land in shared slots; a slot
 * is FULL from the worker's read until the main thread has folded it, then FREE again. The
 * word after the slots holds the id of a walk the main thread gave up on (a broken stream).
 */
export const SLOT_FREE = 0;
export const SLOT_FULL = 1;

export interface WorkerSetup {
  opener: WorkerOpener;
  variant: IdlePagesVariant;
  /** slot i is bytes [i·slotBytes, (i+1)·slotBytes) */
  slots: SharedArrayBuffer;
  slotBytes: number;
  /** Int32 words: one state per slot, then the cancelled walk's id */
  state: SharedArrayBuffer;
}

export interface WalkRequest {
  kind: 'walk';
  id: number;
  pid: number;
  flags: number;
  ranges: Float64Array;
}

export type FromWorker =
  | { kind: 'chunk'; id: number; slot: number; n: number }
  | { kind: 'done'; id: number; counts: ReadCounts; error: WireError | null };

export type WireError =
  | { kind: 'tierd'; code: ErrorCode; message: string; hint: string }
  | { kind: 'syscall'; syscall: string; errno: number; message: string }
  | { kind: 'other'; message: string; stack: string };

export function errorToWire(e: unknown): WireError {
  if (e instanceof TierdError) return { kind: 'tierd', code: e.code, message: e.message, hint: e.hint };
  if (e instanceof SyscallError) return { kind: 'syscall', syscall: e.syscall, errno: e.errno, message: e.message };
  const err = e instanceof Error ? e : new Error(String(e));
  return { kind: 'other', message: err.message, stack: err.stack ?? '' };
}

/** The same error on this side, of the same class, so callers treat it as they would in-thread. */
export function errorFromWire(w: WireError): Error {
  switch (w.kind) {
    case 'tierd':
      return new TierdError(w.code, w.message, w.hint);
    case 'syscall': {
      const e = new SyscallError(w.syscall, w.errno);
      e.message = w.message;
      return e;
    }
    case 'other': {
      const e = new Error(`read worker: ${w.message}`);
      e.stack = w.stack;
      return e;
    }
  }
}
